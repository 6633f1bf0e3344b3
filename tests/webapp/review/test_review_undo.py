"""Undoing a verdict (services.verdict_undo): a relabel's label goes back exactly as it
moved, gold answers regraded back; the verdict stays, marked undone; the suspect opens
again; nothing is overwritten that moved since; a repeat changes nothing."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from review_factories import (
    finished_audit,
    glitch_class,
    gold_subject,
    retired_subject,
    reviewer,
    volunteer,
    vote,
)
from webapp_factories import UserFactory

from webapp.accounts.roles import ADMIN
from webapp.labeling import exports
from webapp.labeling.models import Classification, GlitchClass, Subject, VolunteerProfile
from webapp.review import selectors, services
from webapp.review.models import LabelChange, Verdict

pytestmark = pytest.mark.django_db


def admin(username: str = "boss"):
    user = UserFactory(username=username)
    user.groups.add(Group.objects.get_or_create(name=ADMIN)[0])
    return user


def relabelled(subject: Subject, given: str, to: str, judge=None) -> Verdict:
    (suspect,) = finished_audit((subject, given, to))
    return services.verdict_record(
        suspect_id=suspect.pk, reviewer=judge or reviewer(), decision="relabel", label=to
    )


def test_undoing_a_relabel_puts_the_retired_label_back_and_logs_who_why_and_which() -> None:
    subject = retired_subject("Blip")
    verdict = relabelled(subject, "Blip", "Tomte")
    rita = verdict.reviewer

    undone = services.verdict_undo(verdict_id=verdict.pk, user=rita, reason=" slip of the key ")

    subject.refresh_from_db()
    assert subject.retired_label.name == "Blip"
    assert (undone.undone_by, undone.undo_reason) == (rita, "slip of the key")
    assert undone.undone_at is not None
    assert Verdict.objects.get() == undone  # kept for the record
    undo = LabelChange.objects.get(cause=LabelChange.Cause.UNDO)
    assert (undo.field, undo.before, undo.after) == ("retired_label", "Tomte", "Blip")
    assert (undo.undoes, undo.verdict, undo.changed_by) == (verdict, None, rita)
    assert undo.reason == "slip of the key"
    assert LabelChange.objects.count() == 2  # the relabel's own change stays in the log


def test_undoing_a_gold_relabel_regrades_every_gold_answer_back() -> None:
    subject = gold_subject("Blip")
    ann = volunteer("ann", gold_confusion={"Blip": {"Tomte": 1, "Blip": 3}})
    bob = volunteer("bob", gold_confusion={"Blip": {"Blip": 2}})
    vote(ann, subject, "Tomte")
    vote(bob, subject, "Blip")
    before = {
        p.user_id: p.gold_confusion for p in VolunteerProfile.objects.filter(user__in=[ann, bob])
    }
    verdict = relabelled(subject, "Blip", "Tomte")

    services.verdict_undo(verdict_id=verdict.pk, user=verdict.reviewer)

    subject.refresh_from_db()
    assert subject.gold_label.name == "Blip"
    after = {
        p.user_id: p.gold_confusion for p in VolunteerProfile.objects.filter(user__in=[ann, bob])
    }
    assert after == before
    assert dict(Classification.objects.values_list("volunteer__username", "was_correct")) == {
        "ann": False,
        "bob": True,
    }
    undo = LabelChange.objects.get(cause=LabelChange.Cause.UNDO)
    assert (undo.field, undo.volunteers_rescored) == ("gold_label", 2)


def test_undoing_a_gold_relabel_moves_the_retired_label_back_only_where_it_moved() -> None:
    from webapp.labeling.services import glitch_class_example_from_subject

    guide = gold_subject("Whistle")
    glitch_class_example_from_subject(subject=guide)  # retired with its gold label
    crowd = gold_subject("Whistle")
    Subject.objects.filter(pk=crowd.pk).update(retired_label=glitch_class("Blip"))
    crowd.refresh_from_db()
    (on_guide, on_crowd) = finished_audit((guide, "Whistle", "Blip"), (crowd, "Whistle", "Blip"))
    rita = reviewer()
    verdicts = [
        services.verdict_record(suspect_id=s.pk, reviewer=rita, decision="relabel", label="Blip")
        for s in (on_guide, on_crowd)
    ]
    for verdict in verdicts:
        services.verdict_undo(verdict_id=verdict.pk, user=rita)

    guide, crowd = (Subject.objects.get(pk=s.pk) for s in (guide, crowd))
    assert (guide.gold_label.name, guide.retired_label.name) == ("Whistle", "Whistle")
    assert (crowd.gold_label.name, crowd.retired_label.name) == ("Whistle", "Blip")


@pytest.mark.parametrize("decision", ["agree", "unsure"])
def test_undoing_an_agree_or_unsure_moves_no_label_and_reopens_the_suspect(decision) -> None:
    subject = retired_subject("Blip")
    (suspect,) = finished_audit((subject, "Blip", "Tomte"))
    rita = reviewer()
    verdict = services.verdict_record(suspect_id=suspect.pk, reviewer=rita, decision=decision)
    assert selectors.suspect_next(reviewer=rita) is None

    services.verdict_undo(verdict_id=verdict.pk, user=rita)

    subject.refresh_from_db()
    assert subject.retired_label.name == "Blip"
    assert not LabelChange.objects.exists()
    assert selectors.suspect_next(reviewer=rita) == suspect


def test_an_undone_agree_no_longer_settles_the_glitch_for_other_reviewers() -> None:
    subject = retired_subject("Blip")
    (suspect,) = finished_audit((subject, "Blip", "Tomte"))
    rita, sam = reviewer("rita"), reviewer("sam")
    verdict = services.verdict_record(suspect_id=suspect.pk, reviewer=rita, decision="agree")
    assert selectors.suspect_next(reviewer=sam) is None  # settled by rita's agree
    services.verdict_undo(verdict_id=verdict.pk, user=rita)
    assert selectors.suspect_next(reviewer=sam) == suspect


def test_after_an_undo_the_reviewer_gives_the_suspect_a_new_verdict() -> None:
    subject = retired_subject("Blip")
    verdict = relabelled(subject, "Blip", "Tomte")
    rita = verdict.reviewer
    services.verdict_undo(verdict_id=verdict.pk, user=rita)
    assert selectors.suspect_next(reviewer=rita) == verdict.suspect

    again = services.verdict_record(
        suspect_id=verdict.suspect_id, reviewer=rita, decision="relabel", label="Koi_Fish"
    )

    assert again.pk != verdict.pk
    subject.refresh_from_db()
    assert subject.retired_label.name == "Koi_Fish"
    assert Verdict.objects.filter(undone_at__isnull=True).get() == again


def test_an_undo_sent_twice_moves_the_label_and_regrades_once() -> None:
    subject = gold_subject("Blip")
    ann = volunteer("ann", gold_confusion={"Blip": {"Blip": 1}})
    vote(ann, subject, "Blip")
    verdict = relabelled(subject, "Blip", "Tomte")
    rita = verdict.reviewer
    first = services.verdict_undo(verdict_id=verdict.pk, user=rita, reason="slip")
    again = services.verdict_undo(verdict_id=verdict.pk, user=rita, reason="replayed")

    assert (again.pk, again.undone_at, again.undo_reason) == (
        first.pk,
        first.undone_at,
        "slip",
    )
    assert LabelChange.objects.filter(cause=LabelChange.Cause.UNDO).count() == 1
    assert VolunteerProfile.objects.get(user=ann).gold_confusion == {"Blip": {"Blip": 1}}


def test_only_its_reviewer_or_an_admin_undoes_a_verdict() -> None:
    subject = retired_subject("Blip")
    verdict = relabelled(subject, "Blip", "Tomte", judge=reviewer("rita"))
    for intruder in (reviewer("sam"), volunteer("vic")):
        with pytest.raises(PermissionDenied):
            services.verdict_undo(verdict_id=verdict.pk, user=intruder)
    subject.refresh_from_db()
    assert subject.retired_label.name == "Tomte"
    assert Verdict.objects.get().undone_at is None

    boss = admin()
    undone = services.verdict_undo(verdict_id=verdict.pk, user=boss, reason="rita asked")
    assert undone.undone_by == boss
    assert LabelChange.objects.get(cause=LabelChange.Cause.UNDO).changed_by == boss


def test_a_missing_verdict_is_not_found() -> None:
    with pytest.raises(Verdict.DoesNotExist):
        services.verdict_undo(verdict_id=12345, user=reviewer())


def test_an_undo_after_a_later_relabel_is_refused_and_changes_nothing() -> None:
    """Another reviewer relabelled the glitch again from a later audit: putting the first
    verdict's label back would overwrite theirs."""
    subject = retired_subject("Blip")
    verdict = relabelled(subject, "Blip", "Tomte", judge=reviewer("rita"))
    later = relabelled(subject, "Tomte", "Koi_Fish", judge=reviewer("sam"))

    with pytest.raises(services.UndoRefusedError, match="has changed since: Tomte -> Koi_Fish"):
        services.verdict_undo(verdict_id=verdict.pk, user=verdict.reviewer)

    subject.refresh_from_db()
    assert subject.retired_label.name == "Koi_Fish"
    assert Verdict.objects.get(pk=verdict.pk).undone_at is None
    assert not LabelChange.objects.filter(cause=LabelChange.Cause.UNDO).exists()
    services.verdict_undo(verdict_id=later.pk, user=later.reviewer)  # the later one first
    services.verdict_undo(verdict_id=verdict.pk, user=verdict.reviewer)  # then this one
    subject.refresh_from_db()
    assert subject.retired_label.name == "Blip"


def test_an_undo_after_the_class_was_deprecated_and_remapped_is_refused() -> None:
    from webapp.discovery.services import _remap_labels

    subject = retired_subject("Blip")
    verdict = relabelled(subject, "Blip", "Tomte")
    _remap_labels(glitch_class("Tomte"), glitch_class("Koi_Fish"), actor=admin())

    with pytest.raises(services.UndoRefusedError, match="its class was deprecated"):
        services.verdict_undo(verdict_id=verdict.pk, user=verdict.reviewer)
    subject.refresh_from_db()
    assert subject.retired_label.name == "Koi_Fish"


def test_an_undo_after_the_label_moved_without_a_log_entry_is_refused() -> None:
    subject = retired_subject("Blip")
    verdict = relabelled(subject, "Blip", "Tomte")
    Subject.objects.filter(pk=subject.pk).update(retired_label=glitch_class("Whistle"))

    with pytest.raises(services.UndoRefusedError, match="is Whistle now, not Tomte"):
        services.verdict_undo(verdict_id=verdict.pk, user=verdict.reviewer)
    subject.refresh_from_db()
    assert subject.retired_label.name == "Whistle"


def test_an_undo_after_another_reviewer_confirmed_the_new_label_is_refused() -> None:
    subject = retired_subject("Blip")
    verdict = relabelled(subject, "Blip", "Tomte", judge=reviewer("rita"))
    (later,) = finished_audit((subject, "Tomte", "Blip"))
    services.verdict_record(suspect_id=later.pk, reviewer=reviewer("sam"), decision="agree")

    with pytest.raises(services.UndoRefusedError, match="sam confirmed Tomte"):
        services.verdict_undo(verdict_id=verdict.pk, user=verdict.reviewer)
    subject.refresh_from_db()
    assert subject.retired_label.name == "Tomte"


def test_an_undo_back_to_a_class_deprecated_since_is_refused() -> None:
    subject = retired_subject("Blip")
    verdict = relabelled(subject, "Blip", "Tomte")
    GlitchClass.objects.filter(name="Blip").update(status=GlitchClass.Status.DEPRECATED)

    with pytest.raises(services.UndoRefusedError, match="Blip has been deprecated since"):
        services.verdict_undo(verdict_id=verdict.pk, user=verdict.reviewer)
    subject.refresh_from_db()
    assert subject.retired_label.name == "Tomte"


def test_an_undone_relabel_leaves_the_export_saying_what_it_said_before() -> None:
    """The labels export's label_source is its last change's: an undone relabel and its undo
    are left out, so the label is the crowd's again, with no label before review."""
    subject = retired_subject("Blip")
    verdict = relabelled(subject, "Blip", "Tomte")
    services.verdict_undo(verdict_id=verdict.pk, user=verdict.reviewer)

    (row,) = exports.label_rows(Subject.objects.filter(pk=subject.pk))
    assert (row["label"], row["label_source"], row["label_before_review"]) == ("Blip", "crowd", "")


def test_the_change_log_csv_names_the_verdict_an_undo_took_back() -> None:
    verdict = relabelled(retired_subject("Blip"), "Blip", "Tomte")
    services.verdict_undo(verdict_id=verdict.pk, user=verdict.reviewer, reason="slip")

    relabel, undo = selectors.label_change_rows(selectors.label_changes())
    header = list(selectors.CSV_HEADER)
    assert dict(zip(header, relabel, strict=True))["verdict"] == verdict.pk
    row = dict(zip(header, undo, strict=True))
    assert (row["before"], row["after"], row["cause"], row["verdict"]) == (
        "Tomte",
        "Blip",
        "undo",
        verdict.pk,
    )
    assert (row["changed_by"], row["reason"]) == ("rita", "slip")
