"""Sign-up checks passwords with Django's four validators; demo accounts are still made."""

from __future__ import annotations

import io

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.test import Client

pytestmark = pytest.mark.django_db


def _sign_up(username: str, password: str):
    return Client().post(
        "/accounts/signup/", {"username": username, "password1": password, "password2": password}
    )


@pytest.mark.parametrize(
    ("password", "why"),
    [
        ("x", b"too short"),
        ("stargazer77", b"too similar to the username"),
        ("password123", b"too common"),
        ("4815162342", b"entirely numeric"),
    ],
)
def test_sign_up_refuses_weak_passwords(password, why):
    response = _sign_up("stargazer77", password)
    assert response.status_code == 200 and why in response.content
    assert not User.objects.filter(username="stargazer77").exists()


def test_sign_up_takes_a_good_password():
    assert _sign_up("stargazer77", "whistle-koi-fish-9").status_code == 302


def test_the_demo_accounts_are_still_made(settings, tmp_path):
    settings.DEBUG = True  # seed_demo refuses to set known passwords outside debug
    call_command("seed_demo", field_guide=str(tmp_path / "none"), stdout=io.StringIO())
    client = Client()
    response = client.post(
        "/accounts/login/",
        {"username": "volunteer", "password": settings.GLITCHLAB_DEMO_PASSWORD},
    )
    assert response.status_code == 302
