"""API tokens expire after GLITCHLAB_TOKEN_TTL_DAYS and end at logout."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone
from races import second_while_first_open
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient
from webapp_factories import UserFactory

from webapp.accounts import services

pytestmark = pytest.mark.django_db


def _token(client: APIClient, username: str = "vol") -> dict:
    response = client.post("/api/token/", {"username": username, "password": "pw"})
    assert response.status_code == 200
    return response.json()


def _progress_with(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client.get("/api/progress/")


def test_the_token_answer_says_when_it_expires(settings):
    settings.GLITCHLAB_TOKEN_TTL_DAYS = 14
    UserFactory(username="vol")
    body = _token(APIClient())
    created = Token.objects.get(key=body["token"]).created
    assert body["expires"] == (created + timedelta(days=14)).isoformat().replace("+00:00", "Z")


def test_a_token_past_its_lifetime_is_refused_and_asking_again_gives_a_new_one(settings):
    settings.GLITCHLAB_TOKEN_TTL_DAYS = 14
    UserFactory(username="vol")
    key = _token(APIClient())["token"]
    assert _progress_with(key).status_code == 200
    Token.objects.filter(key=key).update(created=timezone.now() - timedelta(days=14, seconds=1))
    refused = _progress_with(key)
    assert refused.status_code in (401, 403) and "Token expired" in refused.json()["detail"]
    renewed = _token(APIClient())["token"]
    assert renewed != key and _progress_with(renewed).status_code == 200


def test_asking_twice_within_the_lifetime_gives_the_same_token():
    UserFactory(username="vol")
    assert _token(APIClient())["token"] == _token(APIClient())["token"]


def test_logging_out_revokes_the_token():
    UserFactory(username="vol")
    key = _token(APIClient())["token"]
    browser = Client()
    login = browser.post("/accounts/login/", {"username": "vol", "password": "pw"})
    assert login.status_code == 302
    browser.post("/accounts/logout/")
    refused = _progress_with(key)
    assert refused.status_code in (401, 403) and refused.json()["detail"] == "Invalid token."
    assert not Token.objects.exists()


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL's row locks")
def test_two_token_requests_at_once_give_both_the_same_token():
    """The second request found no token while the first one's was not yet committed; its
    insert waited on the one-token-per-user constraint and then failed (a 500)."""
    user = UserFactory(username="vol")

    def ask():
        return services.token_issue(user=user).key

    first, second = second_while_first_open(ask, ask)
    assert first == second == Token.objects.get(user=user).key
