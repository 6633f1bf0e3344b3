"""Every webapp test gets fast hashing, its own MEDIA_ROOT and an empty in-memory cache
(counts kept there, such as the export slots and comment rates, do not leak between
tests), and a stopped clock for the fixed-window counters; factories live beside."""

import time
from types import SimpleNamespace

import pytest
from django.core.cache import caches
from django.core.cache.backends.locmem import LocMemCache


@pytest.fixture(autouse=True)
def _webapp_settings(fast_django_settings):
    if isinstance(caches["default"], LocMemCache):  # never a shared Redis
        caches["default"].clear()
    return fast_django_settings


@pytest.fixture(autouse=True)
def _one_counting_window(monkeypatch):
    """The fixed-window counters (webapp.cache_counts.window_key: Talk's comment and search
    limits, the sign-ups and their tries, the anonymous drafts) read a clock stopped when
    the test starts. With the real one, a test that makes N requests and expects the next
    refused now and then met a new minute in between and was let through (a Talk search
    test failed so on PostgreSQL)."""
    import webapp.cache_counts

    stopped = time.time()
    monkeypatch.setattr(webapp.cache_counts, "time", SimpleNamespace(time=lambda: stopped))
