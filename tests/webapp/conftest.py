"""Every webapp test gets fast hashing, its own MEDIA_ROOT and an empty in-memory cache
(counts kept there, such as the export slots and comment rates, do not leak between
tests); factories live beside."""

import pytest
from django.core.cache import caches
from django.core.cache.backends.locmem import LocMemCache


@pytest.fixture(autouse=True)
def _webapp_settings(fast_django_settings):
    if isinstance(caches["default"], LocMemCache):  # never a shared Redis
        caches["default"].clear()
    return fast_django_settings
