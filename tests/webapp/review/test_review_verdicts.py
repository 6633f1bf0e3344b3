"""Verdicts flow back: relabels move training labels (and gold answers), every change is logged."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from review_factories import (
    finished_audit,
    glitch_class,
    gold_subject,
    retired_subject,
    reviewer,
    volunteer,
    vote,
)

from webapp.labeling.models import Classification, GlitchClass, VolunteerProfile
from webapp.modeling.selectors import training_data
from webapp.review import services
from webapp.review.models import LabelChange, Verdict

pytestmark = pytest.mark.django_db


def test_relabel_changes_the_retired_label_and_the_next_training_set() -> None:
    subject = retired_subject("Blip")
    (suspect,) = finished_audit((subject, "Blip", "Tomte"))
    rita = reviewer()
    services.verdict_record(
        suspect_id=suspect.pk, reviewer=rita, decision="relabel", label="Tomte", reason="pointy hat"
    )
    subject.refresh_from_db()
    assert subject.retired_label.name == "Tomte"
    train, _ = training_data()
    assert [f.label for f in train if f.subject_id == subject.pk] == ["Tomte"]
    change = LabelChange.objects.get()
    assert (change.field, change.before, change.after) == ("retired_label", "Blip", "Tomte")
    assert (change.changed_by, change.reason) == (rita, "pointy hat")


def test_relabelling_gold_moves_every_volunteers_gold_answer() -> None:
    subject = gold_subject("Blip")
    said_tomte = volunteer("ann", gold_confusion={"Blip": {"Tomte": 1, "Blip": 3}})
    said_blip = volunteer("bob", gold_confusion={"Blip": {"Blip": 2}})
    vote(said_tomte, subject, "Tomte")
    vote(said_blip, subject, "Blip")
    (suspect,) = finished_audit((subject, "Blip", "Tomte"))
    services.verdict_record(
        suspect_id=suspect.pk, reviewer=reviewer(), decision="relabel", label="Tomte"
    )
    subject.refresh_from_db()
    assert subject.gold_label.name == "Tomte"
    ann = VolunteerProfile.objects.get(user=said_tomte).gold_confusion
    bob = VolunteerProfile.objects.get(user=said_blip).gold_confusion
    assert ann == {"Blip": {"Blip": 3}, "Tomte": {"Tomte": 1}}
    assert bob == {"Blip": {"Blip": 1}, "Tomte": {"Blip": 1}}
    assert dict(Classification.objects.values_list("volunteer__username", "was_correct")) == {
        "ann": True,
        "bob": False,
    }
    change = LabelChange.objects.get()
    assert (change.field, change.volunteers_rescored) == ("gold_label", 2)


def test_relabelling_a_gold_glitch_retired_with_its_answer_moves_its_public_label_too() -> None:
    """A gold glitch added to the field guide retires with its gold label; a relabel moved
    only the gold label, so the export, its page and the map kept the old answer."""
    from webapp.labeling.models import Subject
    from webapp.labeling.services import glitch_class_example_from_subject

    subject = gold_subject("Whistle")
    glitch_class_example_from_subject(subject=subject)
    (suspect,) = finished_audit((subject, "Whistle", "Blip"))
    services.verdict_record(
        suspect_id=suspect.pk, reviewer=reviewer(), decision="relabel", label="Blip"
    )
    subject = Subject.objects.get(pk=subject.pk)
    assert (subject.gold_label.name, subject.retired_label.name) == ("Blip", "Blip")


def test_agree_and_unsure_change_nothing_but_are_recorded() -> None:
    subject = retired_subject("Blip")
    (suspect,) = finished_audit((subject, "Blip", "Tomte"))
    services.verdict_record(suspect_id=suspect.pk, reviewer=reviewer("a"), decision="agree")
    services.verdict_record(suspect_id=suspect.pk, reviewer=reviewer("b"), decision="unsure")
    subject.refresh_from_db()
    assert subject.retired_label.name == "Blip"
    assert LabelChange.objects.count() == 0
    assert sorted(Verdict.objects.values_list("decision", "label_after")) == [
        ("agree", "Blip"),
        ("unsure", "Blip"),
    ]


def test_a_resubmitted_verdict_is_recorded_once() -> None:
    (suspect,) = finished_audit((retired_subject("Blip"), "Blip", "Tomte"))
    rita = reviewer()
    first = services.verdict_record(
        suspect_id=suspect.pk, reviewer=rita, decision="relabel", label="Tomte"
    )
    again = services.verdict_record(
        suspect_id=suspect.pk, reviewer=rita, decision="relabel", label="Tomte"
    )
    assert first.pk == again.pk
    assert LabelChange.objects.count() == 1


@pytest.mark.parametrize(
    ("first", "then"),
    [
        (("agree", None), ("relabel", "Tomte")),
        (("relabel", "Tomte"), ("agree", None)),
        (("relabel", "Tomte"), ("relabel", "Koi_Fish")),
        (("unsure", None), ("agree", None)),
    ],
)
def test_a_different_verdict_after_the_first_is_refused_and_the_first_stands(first, then) -> None:
    """Before: a reviewer who went Back and pressed another button got their first verdict
    back as if the second had been saved (the page said "Saved"). Now: the service refuses
    it, naming the verdict that stands; the label is the first verdict's."""
    subject = retired_subject("Blip")
    (suspect,) = finished_audit((subject, "Blip", "Tomte"))
    rita = reviewer()
    decided = services.verdict_record(
        suspect_id=suspect.pk, reviewer=rita, decision=first[0], label=first[1]
    )
    with pytest.raises(services.AlreadyDecidedError) as refused:
        services.verdict_record(
            suspect_id=suspect.pk, reviewer=rita, decision=then[0], label=then[1]
        )
    assert refused.value.verdict == decided
    assert Verdict.objects.get() == decided
    subject.refresh_from_db()
    assert subject.retired_label == glitch_class(decided.label_after)
    assert LabelChange.objects.count() == (1 if first[0] == "relabel" else 0)


def test_a_second_reviewer_on_a_relabelled_suspect_is_told_it_is_stale() -> None:
    subject = retired_subject("Blip")
    (suspect,) = finished_audit((subject, "Blip", "Tomte"))
    services.verdict_record(
        suspect_id=suspect.pk, reviewer=reviewer("a"), decision="relabel", label="Tomte"
    )
    with pytest.raises(services.StaleSuspectError):
        services.verdict_record(
            suspect_id=suspect.pk, reviewer=reviewer("b"), decision="relabel", label="Koi_Fish"
        )
    subject.refresh_from_db()
    assert subject.retired_label == glitch_class("Tomte")


def test_a_relabel_to_a_class_no_admin_accepted_is_refused_saying_why() -> None:
    """A provisional class (still collecting votes) would give the next retrain an output
    no admin accepted, and a reject would not take it back."""
    GlitchClass.objects.create(name="Reverse_Chirp", status=GlitchClass.Status.PROVISIONAL)
    subject = retired_subject("Chirp")
    (suspect,) = finished_audit((subject, "Chirp", "Blip"))
    with pytest.raises(ValidationError) as refused:
        services.verdict_record(
            suspect_id=suspect.pk, reviewer=reviewer(), decision="relabel", label="Reverse_Chirp"
        )
    assert "Reverse_Chirp is provisional" in str(refused.value)
    subject.refresh_from_db()
    assert subject.retired_label.name == "Chirp"
    train, _ = training_data()
    assert [f.label for f in train if f.subject_id == subject.pk] == ["Chirp"]
    assert not Verdict.objects.exists() and not LabelChange.objects.exists()


def test_bad_verdicts_are_refused() -> None:
    (suspect,) = finished_audit((retired_subject("Blip"), "Blip", "Tomte"))
    with pytest.raises(PermissionDenied):
        services.verdict_record(suspect_id=suspect.pk, reviewer=volunteer(), decision="agree")
    with pytest.raises(ValidationError):
        services.verdict_record(
            suspect_id=suspect.pk, reviewer=reviewer(), decision="relabel", label="Blip"
        )
    with pytest.raises(ValidationError):
        services.verdict_record(
            suspect_id=suspect.pk, reviewer=reviewer(), decision="relabel", label="Nope"
        )
    assert Verdict.objects.count() == 0
