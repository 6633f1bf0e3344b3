"""Writes of the review app: audit runs, their suspects, and verdicts flowing back into labels.

A verdict changes the label a subject trains with (retired label; gold label for gold
subjects, moving every gold answer's count in the volunteers' confusion matrices), logs the
change, and is recorded once per reviewer and suspect - all in one transaction under the
subject's row lock, so two reviewers answering the same suspect cannot both relabel it.
A verdict can be undone by its reviewer or an admin (verdict_undo): a relabel's label goes
back, under the same lock, unless someone moved or confirmed it since.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from webapp import jobs
from webapp.accounts.roles import ADMIN, has_role, is_reviewer
from webapp.labeling import consensus
from webapp.labeling.models import (
    Classification,
    GlitchClass,
    GlitchClassExample,
    Subject,
    VolunteerProfile,
    field_guide_glitch_id,
)
from webapp.review import selectors
from webapp.review.models import AuditRun, LabelChange, Suspect, Verdict

__all__ = [
    "AlreadyDecidedError",
    "AuditAlreadyLiveError",
    "StaleSuspectError",
    "Suspect",
    "UndoRefusedError",
]


class AuditAlreadyLiveError(Exception):
    """An audit is already queued or running."""


class StaleSuspectError(Exception):
    """The subject's label changed since the audit ranked it; the evidence is out of date."""


class AlreadyDecidedError(Exception):
    """The reviewer gave this suspect another verdict before; `verdict` is that one, which
    stands (a verdict is never changed: an agreed label is settled for good)."""

    def __init__(self, verdict: Verdict) -> None:
        super().__init__(f"already decided: {verdict.decision}")
        self.verdict = verdict


class UndoRefusedError(Exception):
    """The verdict's relabel cannot be taken back: the label moved or was confirmed since,
    and putting the old one back would overwrite that. The message says what happened."""


# --- audit runs ------------------------------------------------------------------------


def audit_config_default() -> dict[str, Any]:
    return {
        "n_splits": settings.GLITCHLAB_AUDIT_FOLDS,
        "c": settings.GLITCHLAB_AUDIT_C,
        "model_votes": settings.GLITCHLAB_AUDIT_MODEL_VOTES,
        "features": settings.GLITCHLAB_AUDIT_FEATURES,
    }


def audit_run_request(
    *, trigger: str, requested_by: User | None = None, enqueue: bool = True
) -> AuditRun:
    """Queue an audit (the task starts once this transaction commits). One live run at a
    time, enforced by the database: raises AuditAlreadyLiveError. If the broker refuses
    the job, the run comes back failed (outside a transaction: at once), with the reason."""
    try:
        with transaction.atomic():
            run = AuditRun.objects.create(
                trigger=trigger,
                requested_by=requested_by if requested_by and requested_by.pk else None,
                config=audit_config_default(),
            )
    except IntegrityError:
        raise AuditAlreadyLiveError("an audit is already queued or running") from None
    if enqueue:
        from tasks.publish import enqueue_on_commit
        from tasks.review import audit_labels

        enqueue_on_commit(
            audit_labels,
            run.pk,
            on_refused=lambda reason: audit_run_fail(run_id=run.pk, error=reason),
        )
    return AuditRun.objects.get(pk=run.pk)


def audit_run_claim(*, run_id: int, worker: str = "") -> AuditRun | None:
    """queued -> running; also a running run whose heartbeat went stale (its worker died
    and Redis handed the message back). None if another delivery got it first."""
    return jobs.job_claim(
        AuditRun,
        pk=run_id,
        claimable=(AuditRun.Status.QUEUED,),
        worker=worker,
        stale_after_s=settings.GLITCHLAB_HEARTBEAT_TIMEOUT_S,
    )


def audit_run_heartbeat(*, run_id: int) -> bool:
    """The audit is alive; returns whether an admin asked it to stop."""
    return jobs.job_heartbeat(AuditRun, pk=run_id)


def audit_run_cancel_requested(*, run_id: int) -> bool:
    return jobs.job_cancel_requested(AuditRun, pk=run_id)


def audit_run_cancel(*, run_id: int) -> AuditRun:
    """Cancel a queued audit at once, or ask a running one to stop at its next batch.
    Raises webapp.jobs.JobNotLiveError if it had already ended."""
    jobs.job_cancel(AuditRun, pk=run_id, waiting=AuditRun.Status.QUEUED)
    return AuditRun.objects.get(pk=run_id)


def audit_run_mark_cancelled(*, run_id: int) -> bool:
    return jobs.job_mark_cancelled(AuditRun, pk=run_id)


def audit_run_fail(*, run_id: int, error: str) -> bool:
    return jobs.job_fail(AuditRun, pk=run_id, error=error)


def audit_runs_fail_lost(
    *,
    worker: str | None = None,
    silent_for_s: float | None = None,
    waiting_for_s: float | None = None,
) -> int:
    return jobs.jobs_fail_lost(
        AuditRun, worker=worker, silent_for_s=silent_for_s, waiting_for_s=waiting_for_s
    )


@dataclass(frozen=True)
class SuspectData:
    """One ranked subject, as the task hands it over (ml.audit.AuditRow + names)."""

    subject_id: int
    given_label: str
    suggested_label: str
    score: float
    is_issue: bool
    self_confidence: float
    vote_agreement: float | None
    probabilities: dict[str, float]  # the top 5


def audit_run_store(
    *, run_id: int, ranked: Sequence[SuspectData], features: str, n_subjects: int
) -> bool:
    """Save the most suspect rows (every confident-learning issue, within the min/max of
    settings) and mark the run succeeded, in one transaction. False if not running."""
    n_issues = sum(1 for row in ranked if row.is_issue)
    keep = min(
        max(n_issues, settings.GLITCHLAB_AUDIT_MIN_SUSPECTS), settings.GLITCHLAB_AUDIT_MAX_SUSPECTS
    )
    gold = set(
        Subject.objects.filter(
            pk__in=[r.subject_id for r in ranked], role=Subject.Role.GOLD
        ).values_list("pk", flat=True)
    )
    with transaction.atomic():
        if not jobs.job_finish(
            AuditRun,
            pk=run_id,
            status=AuditRun.Status.SUCCEEDED,
            features=features,
            n_subjects=n_subjects,
            n_gold=len(gold),
            n_issues=n_issues,
        ):
            return False
        Suspect.objects.bulk_create(
            [
                Suspect(
                    run_id=run_id,
                    subject_id=row.subject_id,
                    rank=rank,
                    given_label=row.given_label,
                    suggested_label=row.suggested_label,
                    score=row.score,
                    is_issue=row.is_issue,
                    self_confidence=row.self_confidence,
                    vote_agreement=row.vote_agreement,
                    is_gold=row.subject_id in gold,
                    probabilities=row.probabilities,
                )
                for rank, row in enumerate(ranked[:keep])
            ],
            batch_size=1000,
        )
    return True


# --- verdicts --------------------------------------------------------------------------


def verdict_record(
    *,
    suspect_id: int,
    reviewer: User,
    decision: str,
    label: str | None = None,
    reason: str = "",
) -> Verdict:
    """Record a reviewer's verdict; a relabel changes the subject's training label.

    Idempotent per (suspect, reviewer): a resubmitted form returns the first verdict.
    Raises PermissionDenied for a non-reviewer, ValidationError for a bad decision or
    label, StaleSuspectError when the label moved since the audit, AlreadyDecidedError
    when the reviewer's first verdict on the suspect was another.
    """
    if not is_reviewer(reviewer):
        raise PermissionDenied("only reviewers may give verdicts")
    if decision not in Verdict.Decision.values:
        raise ValidationError({"decision": f"unknown decision {decision!r}"})
    with transaction.atomic():
        suspect = Suspect.objects.select_related("subject").get(pk=suspect_id)
        subject = (
            Subject.objects.select_for_update(of=("self",))
            .select_related("retired_label", "gold_label")
            .get(pk=suspect.subject_id)
        )
        existing = Verdict.objects.filter(
            suspect=suspect, reviewer=reviewer, undone_at__isnull=True
        ).first()
        if existing is not None:
            # The same verdict again (a double click, a resent form) is the first one; another
            # (Back, then a different button) must not be told it was saved.
            if not _same_verdict(existing, decision=decision, label=label):
                raise AlreadyDecidedError(existing)
            return existing
        before = selectors.current_label(subject)
        if before != suspect.given_label:
            raise StaleSuspectError(
                f"the label of {subject.external_id} is now {before}, not {suspect.given_label}"
            )
        after = before
        new_class = None
        if decision == Verdict.Decision.RELABEL:
            new_class = selectors.relabel_targets().filter(name=label or "").first()
            if new_class is None:
                raise ValidationError({"label": _not_a_label(label or "")})
            if new_class.name == before:
                raise ValidationError({"label": f"{label} is already the label: choose agree"})
            after = new_class.name
        verdict = Verdict.objects.create(
            suspect=suspect,
            subject=subject,
            reviewer=reviewer,
            decision=decision,
            label_before=before,
            label_after=after,
            reason=reason.strip(),
        )
        if new_class is not None:
            _relabel(subject, new_class, verdict=verdict, reviewer=reviewer)
        return verdict


def _same_verdict(verdict: Verdict, *, decision: str, label: str | None) -> bool:
    if verdict.decision != decision:
        return False
    return decision != Verdict.Decision.RELABEL or verdict.label_after == label


def _not_a_label(name: str) -> str:
    """Why `name` cannot be a relabel's class (selectors.relabel_targets is the rule)."""
    found = GlitchClass.objects.filter(name=name).first()
    if found is None or found.status == GlitchClass.Status.DEPRECATED:
        return f"unknown class {name!r}"
    return (
        f"{name} is {found.status}: only a class an admin has accepted can be a label "
        "(a provisional class is still collecting votes)"
    )


def _relabel(
    subject: Subject, new_class: GlitchClass, *, verdict: Verdict, reviewer: User
) -> LabelChange:
    """Move the training label; for gold, move the volunteers' gold answers with it."""
    # A gold glitch retired with its answer (field guide, an accepted class's gold): its
    # public label, the export's and the map's, is that answer and moves with it.
    retired_too = subject.is_gold and (
        subject.retired_label_id is not None and subject.retired_label_id == subject.gold_label_id
    )
    return _move_label(
        subject,
        new_class,
        retired_too=retired_too,
        changed_by=reviewer,
        reason=verdict.reason,
        verdict=verdict,
    )


def _move_label(
    subject: Subject,
    new_class: GlitchClass,
    *,
    retired_too: bool,
    changed_by: User,
    reason: str,
    verdict: Verdict | None = None,
    undoes: Verdict | None = None,
) -> LabelChange:
    """Set the label the subject trains with to `new_class` (gold: regrading its gold
    answers, and the retired label too when `retired_too`), and log it."""
    rescored = 0
    if subject.is_gold:
        before = subject.gold_label.name if subject.gold_label else ""
        rescored = _regrade_gold_answers(subject, before, new_class.name)
        moved = ["gold_label"]
        if retired_too:
            subject.retired_label = new_class
            moved.append("retired_label")
        subject.gold_label = new_class
        subject.save(update_fields=moved)
        field = LabelChange.Field.GOLD_LABEL
    else:
        before = subject.retired_label.name if subject.retired_label else ""
        subject.retired_label = new_class
        subject.save(update_fields=["retired_label"])
        field = LabelChange.Field.RETIRED_LABEL
    retired_after = subject.retired_label.name if subject.retired_label else ""
    return LabelChange.objects.create(
        subject=subject,
        field=field,
        cause=LabelChange.Cause.UNDO if undoes is not None else LabelChange.Cause.REVIEW,
        before=before,
        after=new_class.name,
        changed_by=changed_by,
        verdict=verdict,
        undoes=undoes,
        reason=reason,
        volunteers_rescored=rescored,
        retired_label_too=retired_too,
        retired_label_after=retired_after,
    )


def _regrade_gold_answers(subject: Subject, old: str, new: str) -> int:
    """Every gold answer on the subject moves from row `old` to row `new` of its
    volunteer's confusion matrix, and is re-marked right or wrong. Levels stay: volunteers
    are never demoted, and a promotion this earns happens at their next gold answer."""
    # Their profiles locked in user id order (docs/labelling.md, "Lock order"): in the order
    # the answers came back, two glitches relabelled at once that the same volunteers had
    # answered each held one profile and wanted the other's, a deadlock.
    answers = list(
        Classification.objects.filter(subject=subject, was_gold=True)
        .select_related("glitch_class")
        .order_by("volunteer_id")
    )
    for answer in answers:
        profile = VolunteerProfile.objects.select_for_update().get(user_id=answer.volunteer_id)
        moved = consensus.confusion_add(profile.gold_confusion, old, answer.glitch_class.name, -1)
        profile.gold_confusion = consensus.confusion_add(moved, new, answer.glitch_class.name)
        profile.save(update_fields=["gold_confusion"])
        answer.was_correct = answer.glitch_class.name == new
        answer.save(update_fields=["was_correct"])
    return len(answers)


# --- undoing a verdict -----------------------------------------------------------------


def verdict_undo(*, verdict_id: int, user: User, reason: str = "") -> Verdict:
    """Take back a verdict (a slip of the key, a mis-click): its reviewer's own, or anyone's
    for an admin. A relabel's label goes back to what it was, exactly as the relabel moved
    it (gold: the gold answers regraded back; the retired label too where it moved), and the
    log gets a change of cause `undo`. An agree or unsure changes no label. The verdict is
    kept, marked undone (who, when, why); it no longer counts, and the suspect is open to
    its reviewer again.

    Idempotent: a verdict undone already comes back as it is, nothing moved again (a double
    click, a replay). Raises Verdict.DoesNotExist, PermissionDenied (not a reviewer, or
    another reviewer's verdict), UndoRefusedError (the label moved or was confirmed since).
    """
    if not is_reviewer(user):
        raise PermissionDenied("only reviewers may undo verdicts")
    found = Verdict.objects.only("reviewer_id", "subject_id").get(pk=verdict_id)
    if found.reviewer_id != user.pk and not has_role(user, ADMIN):
        raise PermissionDenied("only its reviewer or an admin may undo a verdict")
    with transaction.atomic():
        # The subject's row lock first (docs/labelling.md, "Lock order"), as verdict_record
        # takes it: a verdict, another undo or a relabel of the glitch waits, and what is
        # read below is what they left.
        subject = (
            Subject.objects.select_for_update(of=("self",))
            .select_related("retired_label", "gold_label")
            .get(pk=found.subject_id)
        )
        verdict = Verdict.objects.select_related("subject", "reviewer", "undone_by").get(
            pk=verdict_id
        )
        if verdict.undone_at is not None:
            return verdict
        if verdict.decision == Verdict.Decision.RELABEL:
            _relabel_undo(subject, verdict, user=user, reason=reason.strip())
        # Compare-and-set: only one request marks it undone (the lock makes this the one).
        claimed = Verdict.objects.filter(pk=verdict.pk, undone_at__isnull=True).update(
            undone_at=timezone.now(), undone_by=user, undo_reason=reason.strip()
        )
        if claimed != 1:  # pragma: no cover - the subject's lock serialises undos
            raise UndoRefusedError("the verdict was undone meanwhile")
        return Verdict.objects.select_related("subject", "reviewer", "undone_by").get(pk=verdict.pk)


def _relabel_undo(subject: Subject, verdict: Verdict, *, user: User, reason: str) -> None:
    """Put back the label `verdict` moved, refusing where that would overwrite a later
    change or confirmation of the label."""
    glitch = subject.external_id
    change = LabelChange.objects.filter(verdict=verdict).first()
    if change is None:
        raise UndoRefusedError(f"the label change of verdict {verdict.pk} is not in the log")
    if subject.is_gold != (change.field == LabelChange.Field.GOLD_LABEL):
        role = "gold" if subject.is_gold else "no longer gold"
        raise UndoRefusedError(f"{glitch} is {role} since verdict {verdict.pk}")
    # A later change that was itself undone, and its undo, cancel out: the label is back.
    later = (
        LabelChange.objects.filter(subject=subject, pk__gt=change.pk)
        .exclude(cause=LabelChange.Cause.UNDO)
        .exclude(verdict__undone_at__isnull=False)
        .select_related("changed_by")
        .order_by("pk")
        .first()
    )
    if later is not None:
        raise UndoRefusedError(
            f"the label of {glitch} has changed since: {later.before} -> {later.after} "
            f"({_cause_said(later)}, {later.changed_by}); undoing would overwrite that"
        )
    now = selectors.current_label(subject)
    retired_too = change.retired_label_too
    if retired_too is None:  # logged before it was kept: it moved where the two agree
        retired_too = subject.is_gold and subject.retired_label_id == subject.gold_label_id
    moved_away = now != verdict.label_after or (
        retired_too and (subject.retired_label is None or subject.retired_label.name != now)
    )
    if moved_away:
        raise UndoRefusedError(
            f"the label of {glitch} is {now} now, not {verdict.label_after}: "
            "undoing would overwrite that"
        )
    _refuse_if_confirmed_unlogged(subject, verdict, change)
    confirmed = (
        Verdict.objects.filter(
            subject=subject,
            pk__gt=verdict.pk,
            undone_at__isnull=True,
            decision__in=[Verdict.Decision.AGREE, Verdict.Decision.RELABEL],
        )
        .select_related("reviewer")
        .first()
    )
    if confirmed is not None:
        raise UndoRefusedError(
            f"{confirmed.reviewer} confirmed {verdict.label_after} for {glitch} since "
            f"(verdict {confirmed.pk}): undoing would overrule them"
        )
    old = GlitchClass.objects.filter(name=verdict.label_before).first()
    if old is None or old.status == GlitchClass.Status.DEPRECATED:
        raise UndoRefusedError(
            f"{verdict.label_before} has been deprecated since: the label cannot go back to it"
        )
    _move_label(
        subject, old, retired_too=retired_too, changed_by=user, reason=reason, undoes=verdict
    )


def _refuse_if_confirmed_unlogged(subject: Subject, verdict: Verdict, change: LabelChange) -> None:
    """Refuse where the new label was confirmed since by a step that logs no LabelChange:
    retired with it (the field guide's Add, load_field_guide's retiring of gold the guide
    shows) or shown under it in the field guide. Undoing would leave the glitch contradicting
    itself ("Retired: Tomte ... gold (Blip)") or the guide."""
    glitch = subject.external_id
    retired_now = subject.retired_label.name if subject.retired_label else ""
    kept = change.retired_label_after
    if kept is not None and retired_now != kept:
        raise UndoRefusedError(
            f"{glitch} was retired as {retired_now or 'nothing'} since verdict {verdict.pk} "
            f"(it was {kept or 'not retired'} then): undoing would leave its labels "
            "contradicting each other"
        )
    shown = (
        GlitchClassExample.objects.filter(glitch_id=field_guide_glitch_id(subject.pk))
        .exclude(glitch_class__name=verdict.label_before)
        .values_list("glitch_class__name", flat=True)
        .first()
    )
    if shown is not None:
        raise UndoRefusedError(
            f"the field guide shows {glitch} as {shown}: undoing would contradict it "
            "(an admin removes the example first)"
        )


def _cause_said(change: LabelChange) -> str:
    if change.cause == LabelChange.Cause.REMAP:
        return "its class was deprecated"
    return f"verdict {change.verdict_id}" if change.verdict_id else "a review"
