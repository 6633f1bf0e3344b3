"""Counters on the shared cache (one for every web process when GLITCHLAB_CACHE_URL is
Redis): the Talk comment rate, the drafts kept for posts without a session and the label
export slots count with them."""

from __future__ import annotations

import logging
import time

from django.core.cache import cache

logger = logging.getLogger(__name__)


def count_up(key: str, *, timeout_s: int) -> int:
    """Add one to the counter at `key` (made at 1 and kept `timeout_s` when there is none);
    the new count. A cache outage raises: each caller decides whether to fail open."""
    if cache.add(key, 1, timeout=timeout_s):
        return 1
    try:
        return int(cache.incr(key))
    except ValueError:  # expired between add and incr
        cache.add(key, 1, timeout=timeout_s)
        return 1


def window_key(name: str, *, window_s: int) -> str:
    """`name`'s key in the current fixed window of `window_s` seconds."""
    return f"{name}:{int(time.time()) // window_s}"


def count_in_window(name: str, *, window_s: int, limit_name: str) -> int | None:
    """Add one to `name`'s count in the current fixed window of `window_s` seconds (kept for
    two windows) and return it; None while the cache does not answer, logged as
    "<limit_name>: cache unavailable, not limiting": the callers' limits fail open, as the
    login limit does."""
    try:
        return count_up(window_key(name, window_s=window_s), timeout_s=2 * window_s)
    except Exception:  # noqa: BLE001 - any cache outage: fail open
        logger.warning("%s: cache unavailable, not limiting", limit_name, exc_info=True)
        return None
