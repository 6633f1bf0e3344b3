"""Audits and embedding jobs can be cancelled from their pages, by admins only."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse
from page_messages import said
from webapp_factories import UserFactory

from webapp.accounts.roles import ADMIN, REVIEWER
from webapp.discovery.models import EmbeddingSet
from webapp.modeling.models import ModelVersion
from webapp.review.models import AuditRun

pytestmark = pytest.mark.django_db


def client_of(*roles: str) -> Client:
    user = UserFactory()
    for role in roles:
        user.groups.add(Group.objects.get_or_create(name=role)[0])
    client = Client()
    client.force_login(user)
    return client


def test_an_admin_cancels_a_running_audit_from_the_review_page():
    run = AuditRun.objects.create(status=AuditRun.Status.RUNNING)
    admin = client_of(REVIEWER, ADMIN)
    page = admin.get(reverse("review:queue")).content.decode()
    assert 'data-testid="audit-cancel"' in page

    page = admin.post(reverse("review:audit_cancel", args=[run.pk]), follow=True)
    run.refresh_from_db()
    assert run.cancel_requested and run.status == AuditRun.Status.RUNNING  # stops at a batch
    assert "will stop at its next batch" in page.content.decode()
    assert "stopping" in admin.get(reverse("review:queue")).content.decode()


def test_a_queued_audit_is_cancelled_at_once_and_reviewers_may_not_cancel():
    run = AuditRun.objects.create(status=AuditRun.Status.QUEUED)
    reviewer = client_of(REVIEWER)
    assert (
        'data-testid="audit-cancel"' not in reviewer.get(reverse("review:queue")).content.decode()
    )
    refused = reviewer.post(reverse("review:audit_cancel", args=[run.pk]))
    assert refused.status_code == 403
    run.refresh_from_db()
    assert run.status == AuditRun.Status.QUEUED

    client_of(REVIEWER, ADMIN).post(reverse("review:audit_cancel", args=[run.pk]))
    run.refresh_from_db()
    assert run.status == AuditRun.Status.CANCELLED
    answer = client_of(REVIEWER, ADMIN).post(
        reverse("review:audit_cancel", args=[run.pk]), follow=True
    )
    # a second click: told, not a 500, and not as a failure
    assert said(answer) == [
        ("info", f"Audit run {run.pk} had already ended (cancelled): nothing to cancel.")
    ]


def test_an_admin_cancels_an_embedding_job_from_the_discovery_page():
    version = ModelVersion.objects.create(name="run-3")
    job = EmbeddingSet.objects.create(model_version=version, status=EmbeddingSet.Status.RUNNING)
    reviewer = client_of(REVIEWER)
    assert (
        'data-testid="embedding-cancel"'
        not in reviewer.get(reverse("discovery:home")).content.decode()
    )
    assert reviewer.post(reverse("discovery:embedding_cancel", args=[job.pk])).status_code == 403

    admin = client_of(ADMIN)
    page = admin.get(reverse("discovery:home")).content.decode()
    assert 'data-testid="embedding-cancel"' in page and "run-3" in page
    admin.post(reverse("discovery:embedding_cancel", args=[job.pk]))
    job.refresh_from_db()
    assert job.cancel_requested and job.status == EmbeddingSet.Status.RUNNING
    assert "stopping" in admin.get(reverse("discovery:home")).content.decode()


@pytest.mark.parametrize(
    "route", ["review:audit_cancel", "discovery:embedding_cancel", "modeling:cancel"]
)
def test_cancelling_a_job_that_does_not_exist_is_a_404(route):
    """A guessed id is not a job: 404, not a redirect saying it "is not running"."""
    admin = client_of(REVIEWER, ADMIN)
    assert admin.post(reverse(route, args=[987654])).status_code == 404
    assert admin.post(reverse(route, args=[2**63 + 5])).status_code == 404
