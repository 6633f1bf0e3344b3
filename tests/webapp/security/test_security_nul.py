"""NUL characters (0x00) in a request: PostgreSQL cannot store or compare such text, so a
view that passed it to a query answered 500 there (and SQLite stored it silently). Now
every such request is a 400 before a view runs (webapp.nul_guard); each test fails on
SQLite too if the text gets through: it is stored, or the page answers as usual."""

from __future__ import annotations

import pytest
from django.test import Client
from rest_framework.test import APIClient
from webapp_factories import SubjectFactory, UserFactory

from webapp.talk.models import Comment, Tag

pytestmark = pytest.mark.django_db


def test_a_comment_holding_nul_is_refused_and_nothing_is_stored(client: Client):
    subject = SubjectFactory()
    client.force_login(UserFactory())
    response = client.post(f"/talk/subjects/{subject.pk}/comments/", {"text": "a\x00b #x"})
    assert response.status_code == 400
    assert "NUL" in response.content.decode()
    assert not Comment.objects.exists() and not Tag.objects.exists()
    ok = client.post(f"/talk/subjects/{subject.pk}/comments/", {"text": "a b #x"})
    assert ok.status_code == 302 and Comment.objects.count() == 1  # the guard is that narrow


@pytest.mark.parametrize("field", ["text", "te\x00xt"])  # a NUL in a value or in a key
def test_nul_anywhere_in_a_form_is_refused(client: Client, field: str):
    client.force_login(UserFactory())
    subject = SubjectFactory()
    body = {field: "fine" if "\x00" in field else "\x00"}
    response = client.post(f"/talk/subjects/{subject.pk}/comments/", body)
    assert response.status_code == 400 and not Comment.objects.exists()


def test_nul_in_the_address_or_the_query_string_is_refused(client: Client):
    Tag.objects.create(name="odd")
    assert client.get("/talk/tags/odd/").status_code == 200
    assert client.get("/talk/tags/o%00dd/").status_code == 400  # was a tag lookup: 500 on PG
    assert client.get("/talk/tags/odd/?page=1%00").status_code == 400


def test_the_api_answers_nul_with_a_json_400():
    api = APIClient()
    api.force_authenticate(UserFactory())
    response = api.get("/api/subjects/next/?exclude=1%00")
    assert response.status_code == 400
    assert "NUL" in response.json()["detail"]
