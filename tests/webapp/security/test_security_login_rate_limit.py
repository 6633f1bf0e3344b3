"""Password guessing is rate limited on the login page, the admin login and the token API."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.test import Client
from webapp_factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def small_limit(settings):
    settings.GLITCHLAB_LOGIN_MAX_FAILURES = 3
    cache.clear()
    yield
    cache.clear()


def test_the_login_page_refuses_after_too_many_wrong_passwords():
    UserFactory(username="ann")  # password "pw"
    client = Client()
    for _ in range(3):
        response = client.post("/accounts/login/", {"username": "ann", "password": "guess"})
        assert response.status_code == 200 and "_auth_user_id" not in client.session
    response = client.post("/accounts/login/", {"username": "ann", "password": "pw"})
    assert response.status_code == 429 and b"Too many failed sign-in" in response.content
    assert "_auth_user_id" not in client.session


def test_another_username_from_the_same_address_still_logs_in():
    UserFactory(username="ann")
    UserFactory(username="bob")
    client = Client()
    for _ in range(3):
        client.post("/accounts/login/", {"username": "ann", "password": "guess"})
    response = client.post("/accounts/login/", {"username": "bob", "password": "pw"})
    assert response.status_code == 302 and "_auth_user_id" in client.session


def test_the_token_endpoint_shares_the_limit():
    UserFactory(username="ann")
    client = Client()
    for _ in range(3):
        assert client.post("/api/token/", {"username": "ann", "password": "x"}).status_code == 400
    response = client.post("/api/token/", {"username": "ann", "password": "pw"})
    assert response.status_code == 429 and "token" not in response.json()


def test_the_admin_login_is_limited_too():
    staff = UserFactory(username="root")
    staff.is_staff = staff.is_superuser = True
    staff.save()
    client = Client()
    for _ in range(3):
        client.post("/admin/login/", {"username": "root", "password": "guess"})
    client.post("/admin/login/", {"username": "root", "password": "pw"})
    assert "_auth_user_id" not in client.session


def test_a_cache_outage_does_not_lock_anyone_out(monkeypatch):
    UserFactory(username="ann")

    def down(*args, **kwargs):
        raise ConnectionError("redis restarting")

    monkeypatch.setattr(cache, "get_many", down)
    monkeypatch.setattr(cache, "add", down)
    client = Client()
    client.post("/accounts/login/", {"username": "ann", "password": "guess"})
    response = client.post("/accounts/login/", {"username": "ann", "password": "pw"})
    assert response.status_code == 302 and "_auth_user_id" in client.session
