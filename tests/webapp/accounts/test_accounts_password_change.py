"""A password change ends the account's API token; volunteers change their own password at
accounts/password/."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.test import Client
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient
from webapp_factories import UserFactory

pytestmark = pytest.mark.django_db

NEW = "whistle-koi-fish-9"


def _token(username: str = "vol", password: str = "pw") -> str:
    response = APIClient().post("/api/token/", {"username": username, "password": password})
    assert response.status_code == 200
    return response.json()["token"]


def _progress_with(key: str):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client.get("/api/progress/")


def _change(client: Client, old: str, new: str = NEW):
    return client.post(
        "/accounts/password/",
        {"old_password": old, "new_password1": new, "new_password2": new},
    )


def test_a_token_stops_working_once_the_password_is_set_anew():
    user = UserFactory(username="vol")
    key = _token()
    assert _progress_with(key).status_code == 200
    user.set_password("a brand new passphrase 42")
    user.save()
    refused = _progress_with(key)
    # 403, not 401: session authentication comes first and names no WWW-Authenticate scheme
    assert refused.status_code in (401, 403) and refused.json()["detail"] == "Invalid token."


def test_a_save_that_leaves_the_password_alone_keeps_the_token():
    user = UserFactory(username="vol")
    key = _token()
    user.first_name = "Vera"
    user.save()
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    assert _progress_with(key).status_code == 200


def test_a_hash_upgrade_at_login_is_not_a_password_change(settings):
    """Django rehashes a password stored with an older hasher when it is checked (a login);
    the password is the same, so the token stays."""
    user = UserFactory(username="vol")
    key = _token()
    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.MD5PasswordHasher",
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    ]
    old_hash = PBKDF2PasswordHasher().encode("pw", "somesalt", iterations=1)
    get_user_model().objects.filter(pk=user.pk).update(password=old_hash)
    user.refresh_from_db()
    assert user.check_password("pw")  # rehashed with the preferred hasher, and saved
    user.refresh_from_db()
    assert user.password != old_hash and user.password.startswith("md5$")
    assert _progress_with(key).status_code == 200


def test_a_volunteer_changes_their_password_and_their_token_ends():
    UserFactory(username="vol")
    key = _token()
    browser = Client()
    browser.login(username="vol", password="pw")
    page = browser.get("/accounts/password/")
    assert page.status_code == 200 and b'name="old_password"' in page.content

    done = _change(browser, old="pw")

    assert done.status_code == 302 and done["Location"] == "/accounts/password/done/"
    assert b"Password changed" in browser.get(done["Location"]).content  # still logged in
    assert _progress_with(key).status_code in (401, 403)
    assert not Token.objects.exists()
    assert Client().login(username="vol", password=NEW)
    assert _token(password=NEW) != key


def test_a_wrong_old_password_changes_nothing():
    UserFactory(username="vol")
    key = _token()
    browser = Client()
    browser.login(username="vol", password="pw")
    refused = _change(browser, old="not my password")
    assert refused.status_code == 200 and b"old password was entered incorrectly" in refused.content
    assert Client().login(username="vol", password="pw")
    assert _progress_with(key).status_code == 200


def test_the_new_password_must_pass_the_validators():
    UserFactory(username="stargazer77")
    browser = Client()
    browser.login(username="stargazer77", password="pw")
    refused = _change(browser, old="pw", new="stargazer77")
    assert refused.status_code == 200 and b"too similar to the username" in refused.content
    assert Client().login(username="stargazer77", password="pw")


def test_anonymous_visitors_are_sent_to_log_in():
    for path in ("/accounts/password/", "/accounts/password/done/"):
        response = Client().get(path)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/?next=")
    assert _change(Client(), old="pw").status_code == 302


def test_the_menu_links_to_the_password_page():
    UserFactory(username="vol")
    browser = Client()
    browser.login(username="vol", password="pw")
    assert b'href="/accounts/password/"' in browser.get("/field-guide/").content
    assert b'href="/accounts/password/"' not in Client().get("/field-guide/").content
