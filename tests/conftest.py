"""Shared test settings: fast password hashing and a throwaway MEDIA_ROOT for every
test that touches Django settings."""

import sys

import pytest


@pytest.fixture(autouse=True)
def _fresh_class_table():
    """Each test reads the class table anew: a copy cached by an earlier test may hold rows
    that test's rollback removed."""
    config = sys.modules.get("webapp.labeling.config")
    if config is not None:
        config.forget_class_table()


@pytest.fixture
def fast_django_settings(settings, tmp_path):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix, tmp_path_factory):
    """SQLite tests use a file, not shared-cache memory: a live server thread (browser tests)
    or a worker process writing while the test reads would otherwise hit 'table is locked'."""
    from django.conf import settings

    database = settings.DATABASES["default"]
    if database["ENGINE"].endswith("sqlite3"):
        test_file = tmp_path_factory.mktemp("sqlite") / "test_glitchlab.sqlite3"
        database.setdefault("TEST", {})["NAME"] = str(test_file)


@pytest.fixture
def seeded(transactional_db, fast_django_settings):
    """Transactional tests (live server, threads) start from empty tables: put back what
    the migrations seed (role groups, the class table)."""
    from django.contrib.auth.models import Group

    from webapp.accounts.roles import ROLES
    from webapp.labeling.services import glitch_classes_sync

    for role in ROLES:
        Group.objects.get_or_create(name=role)
    glitch_classes_sync()
    return fast_django_settings
