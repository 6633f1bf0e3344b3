"""An undo refused where the label was confirmed since without a LabelChange: "Add to the
field guide" (its images shown under the new label, the glitch retired with it) or
load_field_guide's retiring of gold the guide shows. Before, the undo put the gold label
back and left the glitch retired as the relabel's class, its pictures in the guide under
it: "Retired: Tomte ... gold (Blip)"."""

from __future__ import annotations

import pytest
from review_factories import finished_audit, glitch_class, gold_subject, reviewer

from webapp.labeling.models import GlitchClassExample, Subject
from webapp.labeling.services import (
    glitch_class_example_from_subject,
    gold_answer_public_retire,
)
from webapp.review import services
from webapp.review.models import LabelChange, Verdict

pytestmark = pytest.mark.django_db


def relabelled(subject: Subject, given: str, to: str) -> Verdict:
    (suspect,) = finished_audit((subject, given, to))
    return services.verdict_record(
        suspect_id=suspect.pk, reviewer=reviewer(), decision="relabel", label=to
    )


def labels(subject: Subject) -> tuple[str, str | None]:
    subject.refresh_from_db()
    retired = subject.retired_label.name if subject.retired_label else None
    return subject.gold_label.name, retired


def test_an_undo_after_the_glitch_joined_the_field_guide_under_its_new_label_is_refused(
    client,
) -> None:
    subject = gold_subject("Blip")
    verdict = relabelled(subject, "Blip", "Tomte")
    subject.refresh_from_db()
    glitch_class_example_from_subject(subject=subject)  # retired as Tomte, no LabelChange
    assert labels(subject) == ("Tomte", "Tomte")

    with pytest.raises(services.UndoRefusedError, match="retired as Tomte since"):
        services.verdict_undo(verdict_id=verdict.pk, user=verdict.reviewer)

    assert labels(subject) == ("Tomte", "Tomte")
    assert Verdict.objects.get(pk=verdict.pk).undone_at is None
    assert not LabelChange.objects.filter(cause=LabelChange.Cause.UNDO).exists()
    client.force_login(verdict.reviewer)
    page = client.post(f"/review/verdicts/{verdict.pk}/undo/", follow=True).content.decode()
    assert "Not undone" in page and "retired as Tomte since" in page
    api = client.post(f"/review/api/verdicts/{verdict.pk}/undo/", {}, "application/json")
    assert api.status_code == 409
    assert labels(subject) == ("Tomte", "Tomte")


def test_an_undo_after_gold_was_retired_for_its_public_answer_is_refused() -> None:
    """load_field_guide retires gold the guide shows (gold_in_field_guide_retire), alike."""
    subject = gold_subject("Blip")
    verdict = relabelled(subject, "Blip", "Tomte")
    assert gold_answer_public_retire(subject_id=subject.pk)

    with pytest.raises(services.UndoRefusedError, match="retired as Tomte since"):
        services.verdict_undo(verdict_id=verdict.pk, user=verdict.reviewer)
    assert labels(subject) == ("Tomte", "Tomte")


def test_an_undo_after_a_retired_glitch_joined_the_field_guide_is_refused() -> None:
    """Gold retired with its answer (an accepted class's gold): the relabel moved both labels,
    and the guide's Add retires nothing more; the guide shows it under the new label."""
    subject = gold_subject("Blip")
    Subject.objects.filter(pk=subject.pk).update(
        status=Subject.Status.RETIRED, retired_label=glitch_class("Blip")
    )
    subject.refresh_from_db()
    verdict = relabelled(subject, "Blip", "Tomte")
    subject.refresh_from_db()
    glitch_class_example_from_subject(subject=subject)

    with pytest.raises(services.UndoRefusedError, match="the field guide shows .* as Tomte"):
        services.verdict_undo(verdict_id=verdict.pk, user=verdict.reviewer)
    assert labels(subject) == ("Tomte", "Tomte")
    assert GlitchClassExample.objects.filter(glitch_class__name="Tomte").exists()


def test_a_gold_relabel_is_still_undone_where_nothing_confirmed_it() -> None:
    """The rule refuses only a confirmation: a gold glitch still serving is put back."""
    subject = gold_subject("Blip")
    verdict = relabelled(subject, "Blip", "Tomte")

    services.verdict_undo(verdict_id=verdict.pk, user=verdict.reviewer)
    assert labels(subject) == ("Blip", None)
