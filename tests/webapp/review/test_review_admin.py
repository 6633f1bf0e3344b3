"""The Django admin shows audits, suspects and verdicts but cannot rewrite or delete them."""

from __future__ import annotations

import pytest
from django.db.models import RestrictedError
from review_factories import finished_audit, gold_subject, retired_subject, reviewer

from webapp.review import services
from webapp.review.models import AuditRun, LabelChange, Suspect, Verdict

pytestmark = pytest.mark.django_db


def agreed_and_relabelled() -> tuple[Verdict, Verdict]:
    """One audit, two suspects: a gold No_Glitch a reviewer agreed with, a Blip relabelled."""
    kept, moved = gold_subject("No_Glitch"), retired_subject("Blip")
    first, second = finished_audit((kept, "No_Glitch", "Blip"), (moved, "Blip", "Tomte"))
    rita = reviewer()
    agree = services.verdict_record(suspect_id=first.pk, reviewer=rita, decision="agree")
    relabel = services.verdict_record(
        suspect_id=second.pk, reviewer=rita, decision="relabel", label="Tomte"
    )
    return agree, relabel


def test_the_admin_cannot_turn_a_verdict_into_a_relabel_that_moved_nothing(admin_client):
    """Before: saving Verdict 1 in the admin as relabel, label_after=Blip, was accepted: the
    verdict read "relabel No_Glitch -> Blip" while the gold label stayed No_Glitch and no
    change was logged. Now the change page only shows the verdict, says how a wrong one is
    undone or corrected, and a POST is refused."""
    agree, _ = agreed_and_relabelled()
    url = f"/admin/review/verdict/{agree.pk}/change/"
    answer = admin_client.post(
        url,
        {
            "suspect": agree.suspect_id,
            "subject": agree.subject_id,
            "reviewer": agree.reviewer_id,
            "decision": "relabel",
            "label_before": "No_Glitch",
            "label_after": "Blip",
            "reason": "",
        },
    )

    assert answer.status_code == 403
    agree.refresh_from_db()
    assert (agree.decision, agree.label_after) == ("agree", "No_Glitch")
    assert agree.subject.gold_label.name == "No_Glitch"
    page = admin_client.get(url).content.decode()
    assert "is undone on the review page" in page
    assert 'href="/review/verdicts/?all=1"' in page  # where an admin undoes anyone's
    assert f"?q={agree.subject.external_id}" in page  # its suspects, each with its review page
    suspect_page = admin_client.get(f"/admin/review/suspect/{agree.suspect_id}/change/")
    assert f'href="/review/suspects/{agree.suspect_id}/"' in suspect_page.content.decode()


@pytest.mark.parametrize("model", ["verdict", "suspect", "auditrun"])
def test_the_admin_deletes_no_audit_suspect_or_verdict(admin_client, model):
    """Before: deleting the audit run in the admin cascaded away its suspects and verdicts
    (10 -> 0), the log's rows lost their verdict, and the agreed glitch would be asked about
    again. Now neither the delete page nor the list's delete action is offered, and a POST
    to either deletes nothing."""
    agree, _ = agreed_and_relabelled()
    pk = {"verdict": agree.pk, "suspect": agree.suspect_id, "auditrun": agree.suspect.run_id}
    deleted = admin_client.post(f"/admin/review/{model}/{pk[model]}/delete/", {"post": "yes"})
    listed = admin_client.post(
        f"/admin/review/{model}/",
        {"action": "delete_selected", "_selected_action": [pk[model]], "post": "yes"},
    )

    assert deleted.status_code == 403
    assert listed.status_code in (200, 302)  # Django answers "No action selected"
    assert (AuditRun.objects.count(), Suspect.objects.count(), Verdict.objects.count()) == (1, 2, 2)
    assert LabelChange.objects.get().verdict is not None


def test_deleting_an_audit_run_with_verdicts_is_refused_and_one_without_still_goes():
    """Before: Suspect.run and Verdict.suspect cascaded, so any deletion of a run (the
    admin's, a shell's, a pruning job's) took the reviewers' verdicts along. Now a run with a
    verdict on any suspect cannot be deleted; a run nobody answered still can, and deleting
    the glitch itself still takes its verdicts, as it takes its votes and its log."""
    agree, relabel = agreed_and_relabelled()
    answered = AuditRun.objects.get()
    (unanswered,) = finished_audit((retired_subject("Whistle"), "Whistle", "Chirp"))

    with pytest.raises(RestrictedError):
        answered.delete()
    unanswered.run.delete()

    assert set(AuditRun.objects.all()) == {answered}
    assert Verdict.objects.count() == 2
    agree.subject.delete()
    assert list(Verdict.objects.all()) == [relabel]
