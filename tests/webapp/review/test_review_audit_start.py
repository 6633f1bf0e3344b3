"""A fresh install's review page is no dead end: a reviewer starts the first audit; every
verdict is confirmed with what it did."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from review_factories import finished_audit, gold_subject, retired_subject, reviewer, volunteer

from webapp.review.models import AuditRun

pytestmark = pytest.mark.django_db


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def queued(monkeypatch):
    from tasks import review

    sent: list[int] = []
    monkeypatch.setattr(review.audit_labels, "delay", sent.append)
    return sent


def test_a_reviewer_starts_the_first_audit_from_the_review_page(
    queued, django_capture_on_commit_callbacks
):
    client = client_for(reviewer())
    page = client.get(reverse("review:queue")).content.decode()
    assert "No audit has finished yet." in page and 'data-testid="audit-now"' in page
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("review:audit_now"), follow=True)
    run = AuditRun.objects.get()
    assert run.status == "queued" and queued == [run.pk]
    assert f"Audit {run.pk} queued." in response.content.decode()
    # While it is live the button is gone, and a second post starts nothing.
    assert 'data-testid="audit-now"' not in response.content.decode()
    client.post(reverse("review:audit_now"))
    assert AuditRun.objects.count() == 1


def test_after_an_audit_has_finished_the_button_is_the_admins_again():
    finished_audit()
    page = client_for(reviewer()).get(reverse("review:queue")).content.decode()
    assert 'data-testid="audit-now"' not in page


def test_a_volunteer_still_cannot_start_an_audit():
    assert client_for(volunteer()).post(reverse("review:audit_now")).status_code == 403
    assert not AuditRun.objects.exists()


@pytest.mark.parametrize(
    ("decision", "label", "said"),
    [
        ("agree", "", "stays Koi Fish."),
        ("relabel", "Power_Line", "relabelled Koi Fish to Power Line."),
        ("unsure", "", "marked unsure; its label stays Koi Fish."),
    ],
)
def test_each_verdict_is_confirmed(decision, label, said):
    subject = retired_subject("Koi_Fish")
    (suspect, _) = finished_audit(
        (subject, "Koi_Fish", "Power_Line"), (gold_subject("Blip"), "Blip", "Tomte")
    )
    response = client_for(reviewer()).post(
        reverse("review:verdict", args=[suspect.pk]),
        {"decision": decision, "label": label},
        follow=True,
    )
    assert f"Saved: {subject.external_id} {said}" in response.content.decode()


def test_reviewers_get_the_labels_export_and_the_api_docs_linked():
    page = client_for(reviewer()).get(reverse("review:queue")).content.decode()
    for name in ("api-labels-csv", "api-labels-json", "api-docs"):
        assert reverse(name) in page
