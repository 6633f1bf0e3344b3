"""Talk test helpers: a clean cache (the rate limit counts on it), discovery's levels."""

import pytest
from django.core.cache import cache


@pytest.fixture(autouse=True)
def _talk_settings(settings, tmp_path):
    settings.GLITCHLAB_TALK_COMMENTS_PER_MINUTE = 10
    settings.GLITCHLAB_DISCOVERY_DIR = tmp_path / "discovery"
    settings.GLITCHLAB_DISCOVERY_MIN_LEVEL = 2
    cache.clear()
    yield
    cache.clear()
