"""Issue #14, item 7, replayed: each test is an attack that worked before and fails now.

Before: the login limit keyed on REMOTE_ADDR only, so behind the recommended reverse proxy
10 wrong passwords locked a named user out and 50 locked everyone out, in fixed 5-minute
windows kept per process; sign-up took `x` and the username as password; API tokens never
expired and survived logout."""

from __future__ import annotations

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.contrib.auth.models import User
from django.core.cache import cache
from django.test import Client
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient
from webapp_factories import UserFactory

pytestmark = pytest.mark.django_db

LIMIT = 10
PROXY = "10.0.0.2"
ATTACKER = "203.0.113.9"
VOLUNTEER = "198.51.100.7"


@pytest.fixture(autouse=True)
def production_limit(settings):
    settings.AXES_FAILURE_LIMIT = LIMIT
    settings.AXES_COOLOFF_TIME = timedelta(minutes=5)
    cache.clear()
    yield
    cache.clear()


def via_proxy(client_address: str, claimed: str | None = None) -> Client:
    """A browser behind the reverse proxy: the proxy connects (REMOTE_ADDR) and appends the
    address it got the request from to whatever X-Forwarded-For the browser sent."""
    forwarded = f"{claimed}, {client_address}" if claimed else client_address
    return Client(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=forwarded)


def log_in(client: Client, username: str, password: str) -> int:
    return client.post("/accounts/login/", {"username": username, "password": password}).status_code


def test_a_stranger_behind_the_proxy_cannot_lock_a_named_volunteer_out(settings):
    settings.GLITCHLAB_TRUSTED_PROXIES = [PROXY]
    UserFactory(username="ann")
    stranger = via_proxy(ATTACKER)
    for _ in range(LIMIT + 5):
        log_in(stranger, "ann", "guess")
    assert log_in(stranger, "ann", "pw") == 429  # the stranger's pair is locked ...
    assert log_in(via_proxy(VOLUNTEER), "ann", "pw") == 302  # ... not ann


def test_a_stranger_without_a_proxy_cannot_lock_a_named_volunteer_out():
    UserFactory(username="ann")
    stranger = Client(REMOTE_ADDR=ATTACKER)
    for _ in range(LIMIT + 5):
        log_in(stranger, "ann", "guess")
    assert log_in(Client(REMOTE_ADDR=VOLUNTEER), "ann", "pw") == 302


def test_fifty_wrong_passwords_behind_the_proxy_do_not_lock_everyone_out(settings):
    settings.GLITCHLAB_TRUSTED_PROXIES = [PROXY]
    UserFactory(username="ann")
    stranger = via_proxy(ATTACKER)
    for i in range(60):
        log_in(stranger, f"user{i % 6}", "guess")
    for n, address in enumerate(("198.51.100.7", "198.51.100.8", "2001:db8::5")):
        UserFactory(username=f"vol{n}")
        assert log_in(via_proxy(address), f"vol{n}", "pw") == 302
    assert log_in(via_proxy(VOLUNTEER), "ann", "pw") == 302


def test_a_forged_x_forwarded_for_does_not_reset_the_count(settings):
    UserFactory(username="ann")
    # No trusted proxy: the header is the client's own words and is ignored.
    for i in range(LIMIT):
        guesser = Client(REMOTE_ADDR=ATTACKER, HTTP_X_FORWARDED_FOR=f"192.0.2.{i}")
        log_in(guesser, "ann", "guess")
    forger = Client(REMOTE_ADDR=ATTACKER, HTTP_X_FORWARDED_FOR="192.0.2.99")
    assert log_in(forger, "ann", "pw") == 429
    # Behind a trusted proxy only the address the proxy saw counts, not what the client claimed.
    settings.GLITCHLAB_TRUSTED_PROXIES = [PROXY]
    for i in range(LIMIT):
        log_in(via_proxy("203.0.113.77", claimed=f"192.0.2.{i}"), "bob", "guess")
    assert log_in(via_proxy("203.0.113.77", claimed="192.0.2.200"), "bob", "pw") == 429


@pytest.mark.parametrize("behind_proxy", [False, True], ids=["direct", "via-proxy"])
def test_a_guesser_taking_a_new_ipv6_address_for_each_try_is_still_locked(settings, behind_proxy):
    """The pair was (username, address), and one ordinary IPv6 allocation (a /64) holds 2^64
    addresses: a new one for each try, and no pair ever reached the limit. Now an IPv6
    client counts by its /64; another /64 is another client."""
    settings.GLITCHLAB_TRUSTED_PROXIES = [PROXY] if behind_proxy else []

    def client(address: str) -> Client:
        return via_proxy(address) if behind_proxy else Client(REMOTE_ADDR=address)

    UserFactory(username="ann")
    for i in range(LIMIT):
        log_in(client(f"2001:db8::{i:x}"), "ann", "guess")
    assert log_in(client("2001:db8::ffff:1"), "ann", "pw") == 429
    assert log_in(client("2001:db8:0:1::5"), "ann", "pw") == 302  # the next /64
    # what the admin's Axes page lists for the locked pair: the /64's first address
    assert list(AccessAttempt.objects.values_list("ip_address", flat=True)) == ["2001:db8::"]


def test_tries_spread_over_a_fixed_window_boundary_still_add_up(monkeypatch):
    """A fixed 5-minute window forgot every try at its boundary: 10 guesses every 5 minutes
    forever. Now tries are forgotten only after 5 minutes without one."""
    UserFactory(username="ann")
    start = timezone.now()
    clock = {"now": start}
    monkeypatch.setattr("axes.handlers.proxy.now", lambda: clock["now"])
    guesser = Client(REMOTE_ADDR=ATTACKER)
    for i in range(LIMIT):
        clock["now"] = start + timedelta(minutes=2 * i)  # one guess every 2 minutes
        log_in(guesser, "ann", "guess")
    clock["now"] += timedelta(minutes=4)
    assert log_in(guesser, "ann", "pw") == 429  # 22 minutes in, still locked
    clock["now"] += timedelta(minutes=5, seconds=1)  # 5 minutes since the last try
    assert log_in(guesser, "ann", "pw") == 302


def test_the_count_is_not_kept_per_process():
    """Each web process had its own count (a local-memory cache): a restart or another
    worker started from zero. Without a shared cache, the database keeps it."""
    UserFactory(username="ann")
    guesser = Client(REMOTE_ADDR=ATTACKER)
    for _ in range(LIMIT):
        log_in(guesser, "ann", "guess")
    cache.clear()  # what another worker, or this one after a restart, has in its memory
    assert log_in(guesser, "ann", "pw") == 429


@pytest.mark.parametrize("password", ["x", "stargazer77"])
def test_sign_up_refuses_x_and_the_username_as_password(password):
    response = Client().post(
        "/accounts/signup/",
        {"username": "stargazer77", "password1": password, "password2": password},
    )
    assert response.status_code == 200
    assert not User.objects.filter(username="stargazer77").exists()


def _key() -> str:
    return APIClient().post("/api/token/", {"username": "ann", "password": "pw"}).json()["token"]


def _vote_page_with(key: str) -> int:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client.get("/api/progress/").status_code


def test_an_old_token_stops_working(settings):
    settings.GLITCHLAB_TOKEN_TTL_DAYS = 14
    UserFactory(username="ann")
    key = _key()
    Token.objects.filter(key=key).update(created=timezone.now() - timedelta(days=15))
    assert _vote_page_with(key) in (401, 403)


def test_a_token_does_not_survive_logout():
    UserFactory(username="ann")
    key = _key()
    browser = Client()
    assert log_in(browser, "ann", "pw") == 302
    browser.post("/accounts/logout/")
    assert _vote_page_with(key) in (401, 403)
