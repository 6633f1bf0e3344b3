"""Shared test settings: fast password hashing and a throwaway MEDIA_ROOT for every
test that touches Django settings."""

import pytest


@pytest.fixture
def fast_django_settings(settings, tmp_path):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings
