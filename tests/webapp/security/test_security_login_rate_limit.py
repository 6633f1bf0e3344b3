"""Password guessing is limited per (username, client address) on the login page, the admin
login and the token API, with the tries kept in the database or the shared cache."""

from __future__ import annotations

import pytest
from axes.handlers.database import AxesDatabaseHandler
from axes.handlers.proxy import AxesProxyHandler
from axes.models import AccessAttempt
from django.core.cache import cache
from django.test import Client
from webapp_factories import UserFactory

from webapp.accounts.login_limit import FailOpenCacheHandler

pytestmark = pytest.mark.django_db

LIMIT = 3


@pytest.fixture(autouse=True)
def small_limit(settings):
    settings.AXES_FAILURE_LIMIT = LIMIT
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(params=["database", "cache"])
def handler(request, settings):
    """Both places axes may keep the count: the database (no shared cache configured) and
    the cache (Redis in production; the test's local-memory cache behaves the same)."""
    if request.param == "cache":
        settings.AXES_HANDLER = "webapp.accounts.login_limit.FailOpenCacheHandler"
    expected = {"database": AxesDatabaseHandler, "cache": FailOpenCacheHandler}[request.param]
    assert type(AxesProxyHandler.get_implementation()) is expected
    return request.param


def _guess(client: Client, username: str, password: str = "guess", path="/accounts/login/"):
    return client.post(path, {"username": username, "password": password})


def test_the_login_page_refuses_the_pair_after_too_many_wrong_passwords(handler):
    UserFactory(username="ann")  # password "pw"
    client = Client()
    for _ in range(LIMIT - 1):
        response = _guess(client, "ann")
        assert response.status_code == 200 and b"correct username and password" in response.content
    response = _guess(client, "ann")  # the try that uses up the pair's tries says so
    assert response.status_code == 429 and b"Too many failed sign-in attempts" in response.content
    response = _guess(client, "ann", "pw")  # the right password is not even checked now
    assert response.status_code == 429 and b"Wait 5 minutes" in response.content
    assert "_auth_user_id" not in client.session


def test_another_username_from_the_same_address_still_logs_in(handler):
    UserFactory(username="ann")
    UserFactory(username="bob")
    client = Client()
    for _ in range(LIMIT):
        _guess(client, "ann")
    response = _guess(client, "bob", "pw")
    assert response.status_code == 302 and "_auth_user_id" in client.session


def test_the_token_endpoint_shares_the_limit_and_says_why(handler):
    UserFactory(username="ann")
    client = Client()
    for _ in range(LIMIT - 1):
        assert _guess(client, "ann", path="/api/token/").status_code == 400
    response = _guess(client, "ann", "pw", path="/api/token/")
    assert response.status_code == 200  # still under the limit: a right password works
    for _ in range(LIMIT):
        response = _guess(client, "ann", path="/api/token/")
    assert response.status_code == 429
    response = _guess(client, "ann", "pw", path="/api/token/")
    assert response.status_code == 429 and "token" not in response.json()
    assert "Too many failed sign-in attempts" in response.json()["detail"]


def test_the_admin_login_is_limited_too(handler):
    staff = UserFactory(username="root")
    staff.is_staff = staff.is_superuser = True
    staff.save()
    client = Client()
    for _ in range(LIMIT):
        _guess(client, "root", path="/admin/login/")
    response = _guess(client, "root", "pw", path="/admin/login/")
    assert response.status_code == 429 and b"Too many failed sign-in attempts" in response.content
    assert "_auth_user_id" not in client.session


def test_a_successful_login_clears_the_pairs_failures(handler):
    UserFactory(username="ann")
    client = Client()
    for _ in range(LIMIT - 1):
        _guess(client, "ann")
    assert _guess(client, "ann", "pw").status_code == 302
    client.post("/accounts/logout/")
    for _ in range(LIMIT - 1):  # a fresh count: these do not reach the limit
        assert _guess(client, "ann").status_code == 200
    assert _guess(client, "ann", "pw").status_code == 302


def test_the_database_keeps_the_count_for_every_process():
    UserFactory(username="ann")
    _guess(Client(), "ann")
    attempt = AccessAttempt.objects.get()
    assert (attempt.username, attempt.ip_address, attempt.failures_since_start) == (
        "ann",
        "127.0.0.1",
        1,
    )
    assert "guess" not in attempt.post_data  # the password tried is never stored


def test_a_cache_outage_does_not_lock_anyone_out(settings, monkeypatch):
    settings.AXES_HANDLER = "webapp.accounts.login_limit.FailOpenCacheHandler"
    UserFactory(username="ann")

    def down(*args, **kwargs):
        raise ConnectionError("redis restarting")

    for method in ("get", "add", "incr", "touch", "delete"):
        monkeypatch.setattr(cache, method, down)
    client = Client()
    for _ in range(LIMIT + 1):
        assert _guess(client, "ann").status_code == 200
    response = _guess(client, "ann", "pw")
    assert response.status_code == 302 and "_auth_user_id" in client.session


def test_an_overlong_username_is_refused_before_it_is_counted():
    """The limit's table holds 255 characters of username: on PostgreSQL a longer one would
    fail the insert (a 500). The token API refuses it first, as the login form does."""
    response = Client().post("/api/token/", {"username": "a" * 300, "password": "guess"})
    assert response.status_code == 400 and "username" in response.json()
    assert not AccessAttempt.objects.exists()


def test_old_passwords_guessed_on_the_password_page_count_against_the_login_limit(handler):
    """Before: the password page checked the old password outside the login limit, so a
    stolen session could try old passwords there without end (and learn the password, for
    the accounts it is reused on). Now a wrong one counts as a failed login of the pair; once
    the pair is locked, even the right one is not checked, here and on the login page."""
    UserFactory(username="ann")
    stolen = Client()
    stolen.login(username="ann", password="pw")

    def change(old):
        new = "whistle-koi-fish-9"
        data = {"old_password": old, "new_password1": new, "new_password2": new}
        return stolen.post("/accounts/password/", data)

    for _ in range(LIMIT - 1):
        assert b"old password was entered incorrectly" in change("guess").content
    assert change("guess").status_code == 429
    refused = change("pw")
    assert refused.status_code == 429 and b"Too many failed sign-in attempts" in refused.content
    assert _guess(Client(), "ann", "pw").status_code == 429
    assert UserFactory._meta.model.objects.get(username="ann").check_password("pw")
