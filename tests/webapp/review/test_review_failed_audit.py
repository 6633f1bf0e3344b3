"""An audit that failed or was cancelled after the latest finished one is shown on /review/,
with its error and "Audit now". Before, only the Django admin showed it: the page said "No
audit has finished yet." or went on with the older audit's suspects without a word."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from review_factories import finished_audit, retired_subject, reviewer
from webapp_factories import UserFactory

from webapp.accounts.roles import ADMIN
from webapp.review.models import AuditRun

pytestmark = pytest.mark.django_db

LOST = "worker default@revk restarted: the audit it was running was lost"


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def admin():
    boss = UserFactory(username="boss")
    boss.groups.add(Group.objects.get_or_create(name=ADMIN)[0])
    return boss


def ended(status: str, error: str, trigger: str = AuditRun.Trigger.ADMIN) -> AuditRun:
    return AuditRun.objects.create(
        status=status, error=error, trigger=trigger, finished_at=timezone.now()
    )


def test_the_first_audit_failing_is_shown_with_its_error_and_audit_now():
    run = ended(AuditRun.Status.FAILED, LOST)
    for user in (reviewer(), admin()):  # the empty page shows reviewers the live audit too
        page = client_for(user).get(reverse("review:queue")).content.decode()
        assert 'data-testid="audit-failed"' in page
        assert f"Audit {run.pk} failed" in page and LOST in page
        assert 'data-testid="audit-now"' in page and "Audit now" in page


def test_an_admin_working_through_an_older_audit_is_told_a_scheduled_one_failed():
    (suspect,) = finished_audit((retired_subject("Blip"), "Blip", "Tomte"))
    run = ended(AuditRun.Status.FAILED, LOST, trigger=AuditRun.Trigger.SCHEDULE)
    response = client_for(admin()).get(reverse("review:queue"), follow=True)
    page = response.content.decode()
    assert response.redirect_chain[-1][0] == reverse("review:suspect", args=[suspect.pk])
    assert f"Audit {run.pk} (scheduled) failed" in page and LOST in page
    assert f"the suspects here are still audit {suspect.run_id}" in page
    assert 'data-testid="audit-now"' in page
    # The suspect page shows reviewers no job state: the admins' business.
    page = client_for(reviewer()).get(reverse("review:suspect", args=[suspect.pk])).content.decode()
    assert 'data-testid="audit-failed"' not in page


def test_a_cancelled_audit_is_shown_beside_the_older_one_until_a_later_one_succeeds():
    finished_audit()
    run = ended(AuditRun.Status.CANCELLED, "cancelled by boss")
    boss = client_for(admin())
    page = boss.get(reverse("review:queue")).content.decode()
    assert f"Audit {run.pk} was cancelled" in page and "cancelled by boss" in page
    finished_audit()  # a later audit succeeded: nothing left to say
    page = boss.get(reverse("review:queue")).content.decode()
    assert 'data-testid="audit-failed"' not in page


def test_while_another_audit_runs_the_notice_offers_no_second_one():
    (suspect,) = finished_audit((retired_subject("Blip"), "Blip", "Tomte"))
    ended(AuditRun.Status.FAILED, LOST)
    live = AuditRun.objects.create(status=AuditRun.Status.RUNNING)
    page = client_for(admin()).get(reverse("review:suspect", args=[suspect.pk])).content.decode()
    assert LOST in page and f"Audit {live.pk} is running." in page
    assert 'data-testid="audit-now"' not in page
