"""/healthz answers the container health check without a login, and a connection the
database server ended fails no request."""

import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.db import OperationalError, connection
from django.test import RequestFactory
from postgres_restart import end_this_connection


@pytest.mark.django_db
def test_healthz_says_ok_when_the_database_answers(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.content == b"ok"


@pytest.mark.django_db
def test_healthz_says_503_when_the_database_is_down(client, monkeypatch):
    def broken_cursor(*args, **kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr("webapp.health.connection.cursor", broken_cursor)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert b"database unavailable" in response.content


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite has no server to restart")
@pytest.mark.django_db(transaction=True)
def test_a_kept_connection_the_server_ended_fails_no_request():
    """A PostgreSQL restart ends the connection each web thread keeps (CONN_MAX_AGE); the
    next request on that thread got a 500 (a page, a vote) or a 503 (/healthz, the database
    up). Requests go through Django's WSGI handler, as the web server sends them: the test
    client does not close or check connections between requests."""
    handler = WSGIHandler()
    assert wsgi_get(handler, "/healthz") == 200
    for path in ("/healthz", "/"):
        assert connection.connection is not None, "the connection was not kept"
        end_this_connection()
        assert wsgi_get(handler, path) == 200, path


def wsgi_get(handler: WSGIHandler, path: str) -> int:
    statuses: list[str] = []
    environ = RequestFactory().get(path).environ
    body = handler(environ, lambda status, headers, exc_info=None: statuses.append(status))
    b"".join(body)
    body.close()
    return int(statuses[0].split()[0])
