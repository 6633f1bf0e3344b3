"""Reads for "My glitches": a volunteer's votes, what became of each glitch, and their
statistics (the gold figures from the skill they are promoted by, not counted again)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import User
from django.core.paginator import Page, Paginator
from django.db.models import F

from webapp.labeling import config
from webapp.labeling.metadata import shown_name
from webapp.labeling.models import Classification, Subject, class_display_name
from webapp.labeling.selectors import subject_ids_answers_visible, volunteer_progress
from webapp.modeling.models import Prediction
from webapp.review.selectors import LabelHistory, label_change_standing, label_histories

VOTES_PER_PAGE = 25
OUTCOME: dict[str, str] = {
    Subject.Status.ACTIVE: "collecting votes",
    Subject.Status.RETIRED: "retired",
    Subject.Status.CLOSED: "closed without consensus",
    Subject.Status.DISCOVERY: "sent to discovery",
}


@dataclass(frozen=True)
class HistoryRow:
    """One vote of the volunteer and what became of its glitch."""

    subject_id: int
    name: str  # its external id where the volunteer may see its answers, else "#<id>"
    answers_shown: bool  # the row shows its answers (the id, a model's guess): seen
    voted_at: object  # datetime
    answer: str  # the volunteer's class, display name
    outcome: str  # OUTCOME
    consensus: str | None  # the retired label, once retired
    agrees: bool | None  # answer == consensus, once retired
    model: str | None  # the active model's label, once the glitch left the queue
    model_confidence: float | None
    gold: bool  # a training glitch with a known answer
    correct: bool | None  # gold only: the feedback given at the vote
    right_answer: str | None  # gold only: shown at the vote already
    # the label shown (consensus, or right_answer) as it was before a reviewer (cause
    # "review") or an admin's remap ("remap") changed it: review.selectors.label_histories
    changed_from: str | None = None
    changed_by: str | None = None
    # the label the change set, where the row shows another (a glitch made gold after the
    # vote: the row shows its consensus, the change was to its gold label)
    changed_to: str | None = None


def volunteer_history(*, volunteer: User, page: int | str | None) -> Page:
    """The volunteer's votes, newest first, VOTES_PER_PAGE a page; object_list holds
    HistoryRow. A fixed number of queries a page, whatever the length of the history.

    A glitch is named by its external id (a key into public tables that hold its label)
    only where the volunteer may see its answers (subject_ids_answers_visible): not a gold
    glitch they voted on in a sheet, which scored nothing and shows them nothing."""
    votes = (
        Classification.objects.filter(volunteer=volunteer)
        .select_related("subject")
        .only(
            "glitch_class_id",
            "created_at",
            "was_gold",
            "was_correct",
            "subject__external_id",
            "subject__status",
            "subject__retired_label_id",
            "subject__gold_label_id",
            "subject__role",
        )
        .order_by("-created_at", "-id")
    )
    chosen: Page[Any] = Paginator(votes, VOTES_PER_PAGE).get_page(page)  # then HistoryRow
    left_queue = [
        v.subject_id for v in chosen.object_list if v.subject.status != Subject.Status.ACTIVE
    ]
    model_view = {
        sid: (label, confidence)
        for sid, label, confidence in Prediction.objects.filter(
            subject_id__in=left_queue, model_version__is_active=True
        ).values_list("subject_id", "predicted_label", "confidence")
    }
    ids = [v.subject_id for v in chosen.object_list]
    visible = subject_ids_answers_visible(subject_ids=ids, viewer=volunteer)
    changes = label_histories(subject_ids=ids)  # one query for the page
    chosen.object_list = [
        _row(vote, model_view, visible, changes.get(vote.subject_id)) for vote in chosen.object_list
    ]
    return chosen


def _display(class_pk: int | None) -> str:
    if class_pk is None:
        return ""
    # class_name reads the table again once for a class accepted in another process meanwhile
    return class_display_name(config.class_name(class_pk))


def _row(
    vote: Classification,
    model_view: dict[int, tuple[str, float | None]],
    visible: set[int],
    change: LabelHistory | None,
) -> HistoryRow:
    subject = vote.subject
    shown = vote.subject_id in visible
    retired = subject.status == Subject.Status.RETIRED and subject.retired_label_id is not None
    model, confidence = model_view.get(vote.subject_id, (None, None)) if shown else (None, None)
    gold = vote.was_gold and subject.gold_label_id is not None
    shown_label = _display(subject.gold_label_id) if gold else None
    if not gold and retired:
        shown_label = _display(subject.retired_label_id)
    # The glitch page's rule (review.selectors.label_change_standing), said beside the label
    # the row shows: both pages say the same of one glitch.
    change = label_change_standing(subject=subject, history=change) if shown_label else None
    changed_to = class_display_name(change.after) if change else None
    return HistoryRow(
        subject_id=vote.subject_id,
        name=shown_name(vote.subject_id, subject.external_id if shown else None),
        answers_shown=shown,
        voted_at=vote.created_at,
        answer=_display(vote.glitch_class_id),
        outcome=OUTCOME.get(subject.status, subject.status),
        consensus=_display(subject.retired_label_id) if retired else None,
        agrees=vote.glitch_class_id == subject.retired_label_id if retired else None,
        model=class_display_name(model) if model else None,
        model_confidence=confidence,
        gold=gold,
        correct=vote.was_correct if gold else None,
        right_answer=_display(subject.gold_label_id) if gold else None,
        changed_from=class_display_name(change.before) if change else None,
        changed_by=change.cause if change else None,
        changed_to=changed_to if changed_to != shown_label else None,
    )


@dataclass(frozen=True)
class HistoryStats:
    n_votes: int  # every vote, gold included (the profile's count)
    n_retired: int  # votes on pool glitches that have since retired
    n_agree: int  # ... that named the retired label
    n_gold: int  # gold answers and the right ones: the confusion matrix the
    n_gold_correct: int  # volunteer is promoted by (selectors.volunteer_progress)
    level: int
    max_level: int

    @property
    def agreement(self) -> float | None:
        return self.n_agree / self.n_retired if self.n_retired else None

    @property
    def gold_accuracy(self) -> float | None:
        return self.n_gold_correct / self.n_gold if self.n_gold else None


def volunteer_history_stats(*, volunteer: User) -> HistoryStats:
    progress = volunteer_progress(volunteer=volunteer)
    retired = Classification.objects.filter(
        volunteer=volunteer,
        was_gold=False,
        subject__status=Subject.Status.RETIRED,
        subject__retired_label__isnull=False,
    )
    return HistoryStats(
        n_votes=progress.n_classified,
        n_retired=retired.count(),
        n_agree=retired.filter(glitch_class_id=F("subject__retired_label_id")).count(),
        n_gold=progress.n_gold,
        n_gold_correct=progress.n_gold_correct,
        level=progress.level,
        max_level=progress.max_level,
    )
