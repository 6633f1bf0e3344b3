"""Every webapp test gets fast hashing and its own MEDIA_ROOT; factories live beside."""

import pytest


@pytest.fixture(autouse=True)
def _webapp_settings(fast_django_settings):
    return fast_django_settings
