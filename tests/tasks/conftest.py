"""Settings of the task tests: throwaway MEDIA_ROOT and VAR_DIR, a tiny training config,
and Celery running task bodies in this process (eager) unless a test starts a worker."""

from __future__ import annotations

import pytest
from glitch_data import apply_tiny_training

from tasks.celery import app


@pytest.fixture
def tiny_settings(settings, tmp_path):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.VAR_DIR = tmp_path / "var"
    apply_tiny_training(settings)
    return settings


@pytest.fixture
def eager_celery():
    """Run .delay()/.delay_on_commit() in this process; a failing task raises here."""
    old = (app.conf.task_always_eager, app.conf.task_eager_propagates)
    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = True
    yield app
    app.conf.task_always_eager, app.conf.task_eager_propagates = old
