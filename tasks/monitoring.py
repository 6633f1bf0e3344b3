"""What the admin dashboard shows about Celery itself: queue depths and live workers."""

from __future__ import annotations

import time
from typing import Any

from tasks import queues
from tasks.celery import app

# Kombu's Redis transport keeps a queue's messages of priority p in "<queue>\x06\x16<p>".
_PRIORITY_SUFFIXES = ("", "\x06\x163", "\x06\x166", "\x06\x169")
_WORKERS_CACHE_S = 5.0
_workers_cache: tuple[float, dict[str, list[str]] | None] = (0.0, None)


def queue_depths() -> dict[str, int | None]:
    """Messages waiting in each queue (None where Redis cannot be reached)."""
    try:
        with app.connection_for_read() as conn:
            client: Any = conn.default_channel.client
            return {
                name: sum(int(client.llen(name + suffix)) for suffix in _PRIORITY_SUFFIXES)
                for name in queues.ALL
            }
    except Exception:
        return dict.fromkeys(queues.ALL)


def workers(timeout: float = 0.5) -> dict[str, list[str]] | None:
    """{worker hostname: [queues it consumes]} of the workers that answer a broadcast within
    `timeout` s; None if the broker is unreachable. Cached a few seconds: the dashboard
    polls, and a broadcast with no worker alive waits the whole timeout."""
    global _workers_cache
    stamp, cached = _workers_cache
    if time.monotonic() - stamp < _WORKERS_CACHE_S:
        return cached
    try:
        replies = app.control.inspect(timeout=timeout).active_queues() or {}
        found: dict[str, list[str]] | None = {
            host: sorted(q["name"] for q in qs) for host, qs in replies.items()
        }
    except Exception:
        found = None
    _workers_cache = (time.monotonic(), found)
    return found


def gpu_workers_alive() -> list[str]:
    """Hostnames of live workers that consume the gpu queue."""
    return sorted(host for host, qs in (workers() or {}).items() if queues.GPU in qs)
