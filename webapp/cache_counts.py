"""Counters on the shared cache (one for every web process when GLITCHLAB_CACHE_URL is
Redis): the Talk comment rate and the label export slots count with them."""

from __future__ import annotations

from django.core.cache import cache


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
