"""API fuzzing: schemathesis generates requests from our OpenAPI schema (/api/schema/) and
none of them may get a server error. Deterministic (derandomized, a bounded number of
examples per operation), in-process through the WSGI app, as a logged-in volunteer."""

from __future__ import annotations

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error
from webapp_factories import SubjectFactory, UserFactory, gold_subject

pytestmark = [pytest.mark.api_fuzz, pytest.mark.django_db]


@pytest.fixture
def api_schema():
    return schemathesis.openapi.from_wsgi("/api/schema/", get_wsgi_application())


@pytest.fixture(autouse=True)
def keep_the_test_connection():
    """A real WSGI request closes the database connection at its end; the test's
    transaction lives on it (Django's test client disconnects the same signal)."""
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    yield
    for signal in (request_started, request_finished):
        signal.connect(close_old_connections)


@pytest.fixture
def volunteer_token(db):
    SubjectFactory()
    SubjectFactory()
    gold_subject("Blip")
    return Token.objects.create(user=UserFactory(username="fuzzer")).key


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(
    derandomize=True,
    max_examples=15,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_no_request_the_schema_allows_gets_a_server_error(case, volunteer_token):
    case.call_and_validate(
        headers={"Authorization": f"Token {volunteer_token}"}, checks=[not_a_server_error]
    )
