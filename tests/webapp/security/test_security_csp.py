"""Every page carries the Content-Security-Policy: scripts only from this site and no
inline script anywhere; only the map page may evaluate code (Plotly's WebGL)."""

import pytest
from django.test import Client
from django.urls import reverse
from webapp_factories import UserFactory

pytestmark = pytest.mark.django_db


def policy(response) -> dict[str, list[str]]:
    header = response.headers["Content-Security-Policy"]
    return {
        name: values
        for name, *values in (part.split() for part in header.split(";") if part.strip())
    }


@pytest.fixture
def client():
    client = Client()
    client.force_login(UserFactory(profile__level=2))
    return client


@pytest.mark.parametrize(
    "url",
    ["/", "/label/", "/field-guide/", "/discovery/", "/accounts/login/", "/no-such-page/"],
)
def test_pages_allow_scripts_from_this_site_only(client, url):
    directives = policy(client.get(url))
    assert directives["script-src"] == ["'self'"]
    assert directives["style-src"] == ["'self'"]
    assert directives["object-src"] == ["'none'"]
    assert directives["frame-ancestors"] == ["'none'"]
    assert "script-src-attr" not in directives and "style-src-attr" not in directives


def test_only_the_map_page_may_evaluate_code(client):
    directives = policy(client.get(reverse("discovery:map")))
    assert directives["script-src"] == ["'self'", "'unsafe-eval'"]
    assert "'unsafe-inline'" not in directives["script-src"]
