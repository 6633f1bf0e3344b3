"""Errors outside debug are the site's own small pages with a way back home: no traceback,
no settings, no 200 KB debug page."""

import pytest
from django.test import Client
from webapp_factories import UserFactory

pytestmark = pytest.mark.django_db

HOME = 'href="/"'


def assert_own_page(response, status: int, heading: str) -> str:
    body = response.content.decode()
    assert response.status_code == status
    assert f"<h1>{heading}</h1>" in body and HOME in body
    assert "GlitchLab" in body and 'class="topbar"' in body  # base.html's header
    assert "Traceback" not in body and "SECRET_KEY" not in body
    assert len(body) < 20_000
    return body


def test_an_unknown_page_is_the_sites_404():
    body = assert_own_page(Client().get("/no/such/page/"), 404, "Page not found")
    assert "/no/such/page/" in body


def test_a_page_the_account_may_not_open_is_the_sites_403():
    client = Client()
    client.force_login(UserFactory(profile__level=1))
    body = assert_own_page(client.get("/discovery/sheet/"), 403, "Not allowed")
    assert "Batch labelling opens at a higher level." in body


def test_a_server_error_is_the_sites_500(monkeypatch):
    from webapp.labeling import selectors

    def broken():
        raise RuntimeError("the database is on fire")

    monkeypatch.setattr(selectors, "field_guide", broken)
    response = Client(raise_request_exception=False).get("/field-guide/")
    body = assert_own_page(response, 500, "Something went wrong")
    assert "on fire" not in body
