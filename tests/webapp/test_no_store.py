"""A signed-in user's pages and API answers carry Cache-Control: no-store (webapp.no_store),
so Back never shows the labelling page or its next glitch as they were: Chrome answered a
history navigation from its cache, a glitch voted on since came back and its vote was
refused. Public pages, files and a response that sets its own header are left alone."""

from __future__ import annotations

import io

import pytest
from django.http import FileResponse, HttpResponse
from django.test import Client, RequestFactory
from webapp_factories import SubjectFactory, UserFactory

from webapp.no_store import NoStoreForSignedInMiddleware

pytestmark = pytest.mark.django_db


def cache_control(response) -> str:
    return response.headers.get("Cache-Control", "")


def test_the_labelling_page_and_the_answers_it_reads_are_not_kept(client: Client, seeded):
    seeded.GLITCHLAB_GOLD_RATE = 0
    SubjectFactory()
    client.force_login(UserFactory())
    for path in ("/label/", "/api/subjects/next/", "/api/progress/", "/api/classes/?unlocked=1"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert "no-store" in cache_control(response), path


def test_an_empty_queue_is_not_kept_either(client: Client, seeded):
    client.force_login(UserFactory())
    response = client.get("/api/subjects/next/")
    assert response.status_code == 204
    assert "no-store" in cache_control(response)


def test_public_pages_are_left_alone(client: Client, seeded):
    assert cache_control(client.get("/")) == ""  # anonymous: nothing of theirs in it


def test_files_and_a_header_set_by_the_view_are_left_alone(rf: RequestFactory):
    request = rf.get("/media/subjects/a.png")
    request.user = UserFactory()
    image = NoStoreForSignedInMiddleware(lambda r: FileResponse(io.BytesIO(b"png")))(request)
    assert cache_control(image) == ""  # a glitch's image: the browser may keep it
    export = HttpResponse("csv")
    export["Cache-Control"] = "private, no-store"
    response = NoStoreForSignedInMiddleware(lambda r: export)(request)
    assert cache_control(response) == "private, no-store"
