"""API fuzzing: schemathesis generates requests from our OpenAPI schema (/api/schema/) and
none of them may get a server error. Deterministic (derandomized, a bounded number of
examples per operation), in-process through the WSGI app, once as a new volunteer and once
as a reviewer, who gets past the level and role checks of discovery and review, with
embeddings, a map, a cluster and an audit's suspect in place for them to reach."""

from __future__ import annotations

import numpy as np
import pytest
import schemathesis
from django.contrib.auth.models import Group
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error
from webapp_factories import SubjectFactory, UserFactory, glitch_class, gold_subject

from webapp.accounts.roles import REVIEWER
from webapp.discovery import services as discovery
from webapp.labeling.models import Subject
from webapp.modeling.models import ModelVersion
from webapp.review.models import AuditRun, Suspect

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


def discovery_data() -> None:
    """Embeddings with a map of a few pool glitches and one gold, and one cluster."""
    version = ModelVersion.objects.create(name="fuzz-model", is_active=True)
    pool = [SubjectFactory(images=(1.0,)) for _ in range(4)]
    ids = [s.pk for s in pool] + [gold_subject("Blip", images=(1.0,)).pk]
    vectors = np.random.default_rng(0).normal(size=(len(ids), 8)).astype(np.float32)
    embedding_set = discovery.embedding_set_claim(version_id=version.pk)
    discovery.embedding_set_store(set_id=embedding_set.pk, ids=ids, embeddings=vectors)
    discovery.map_store(set_id=embedding_set.pk, xy=vectors[:, :2])
    discovery.cluster_run_store(
        set_id=embedding_set.pk,
        subject_ids=ids[:4],
        labels=[0] * 4,
        embeddings=vectors[:4],
        params={},
    )


def review_data() -> None:
    """A finished audit doubting one retired glitch's label."""
    subject = SubjectFactory(status=Subject.Status.RETIRED, retired_label=glitch_class("Blip"))
    run = AuditRun.objects.create(status=AuditRun.Status.SUCCEEDED, n_subjects=1)
    Suspect.objects.create(
        run=run,
        subject=subject,
        rank=0,
        given_label="Blip",
        suggested_label="Tomte",
        score=0.9,
        self_confidence=0.1,
        probabilities={"Tomte": 0.9, "Blip": 0.1},
    )


def caller_token(*, reviewer: bool) -> str:
    SubjectFactory()
    SubjectFactory()
    gold_subject("Blip")
    user = UserFactory(username="fuzzer")
    if reviewer:
        user.groups.add(Group.objects.get_or_create(name=REVIEWER)[0])
        discovery_data()
        review_data()
    return Token.objects.create(user=user).key


# Two fixtures and two tests, not one parametrised fixture: schemathesis' from_fixture
# cannot take fixture parameters.
@pytest.fixture
def volunteer_token(db):
    return caller_token(reviewer=False)


@pytest.fixture
def reviewer_token(db, settings, tmp_path):
    settings.GLITCHLAB_DISCOVERY_DIR = tmp_path / "discovery"
    return caller_token(reviewer=True)


schema = schemathesis.pytest.from_fixture("api_schema")


FUZZ = settings(
    derandomize=True,
    max_examples=15,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)


@schema.parametrize()
@FUZZ
def test_no_request_the_schema_allows_gets_a_server_error(case, volunteer_token):
    case.call_and_validate(
        headers={"Authorization": f"Token {volunteer_token}"}, checks=[not_a_server_error]
    )


@schema.parametrize()
@FUZZ
def test_no_request_of_a_reviewer_gets_a_server_error(case, reviewer_token):
    case.call_and_validate(
        headers={"Authorization": f"Token {reviewer_token}"}, checks=[not_a_server_error]
    )
