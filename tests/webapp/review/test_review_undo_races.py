"""An undo at the same time as another request on its glitch: it waits for the glitch's row
lock (docs/labelling.md, "Lock order") and reads what the other left. Two undos of one gold
relabel (a double click) regrade its answers once, the second answering as the first did;
an undo sent while another reviewer relabels the glitch is refused, not laid over their
label. The first request stays open while the second runs (tests/webapp/races.py);
PostgreSQL only."""

import pytest
from django.db import connection
from races import second_while_first_open
from review_factories import finished_audit, gold_subject, reviewer, volunteer, vote

from webapp.labeling.models import VolunteerProfile
from webapp.review import services
from webapp.review.models import LabelChange, Verdict

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="needs row locks: run with DATABASE_URL=postgres"
    ),
]


def gold_relabelled() -> Verdict:
    """rita relabelled a gold Blip, that ann answered Blip, to Tomte."""
    subject = gold_subject("Blip")
    vote(volunteer("ann", gold_confusion={"Blip": {"Blip": 1}}), subject, "Blip")
    (suspect,) = finished_audit((subject, "Blip", "Tomte"))
    return services.verdict_record(
        suspect_id=suspect.pk, reviewer=reviewer("rita"), decision="relabel", label="Tomte"
    )


def test_two_undos_at_once_regrade_once_and_both_answer_undone(seeded):
    verdict = gold_relabelled()

    def undo():
        return services.verdict_undo(verdict_id=verdict.pk, user=verdict.reviewer)

    first, second = second_while_first_open(undo, undo)

    assert first.pk == second.pk and second.undone_at == first.undone_at
    assert LabelChange.objects.filter(cause=LabelChange.Cause.UNDO).count() == 1
    profile = VolunteerProfile.objects.get(user__username="ann")
    assert profile.gold_confusion == {"Blip": {"Blip": 1}}


def test_an_undo_sent_while_another_reviewer_relabels_the_glitch_is_refused(seeded):
    verdict = gold_relabelled()
    (later,) = finished_audit((verdict.subject, "Tomte", "Koi_Fish"))

    def relabel_again():
        return services.verdict_record(
            suspect_id=later.pk, reviewer=reviewer("sam"), decision="relabel", label="Koi_Fish"
        )

    def undo():
        return services.verdict_undo(verdict_id=verdict.pk, user=verdict.reviewer)

    with pytest.raises(services.UndoRefusedError, match="Tomte -> Koi_Fish"):
        second_while_first_open(relabel_again, undo)

    verdict.subject.refresh_from_db()
    assert verdict.subject.gold_label.name == "Koi_Fish"
    profile = VolunteerProfile.objects.get(user__username="ann")
    assert profile.gold_confusion == {"Koi_Fish": {"Blip": 1}}
    assert Verdict.objects.get(pk=verdict.pk).undone_at is None
