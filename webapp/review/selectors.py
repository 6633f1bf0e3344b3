"""Reads of the review app: what an audit ranks, a reviewer's next suspect, its evidence."""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import numpy as np
from django.conf import settings
from django.contrib.auth.models import User
from django.db.models import Exists, F, OuterRef, Q, QuerySet

from ml.classes import NONE_OF_THE_ABOVE
from webapp.labeling import config as labeling_config
from webapp.labeling import consensus
from webapp.labeling.models import Classification, GlitchClass, Subject, VolunteerProfile
from webapp.modeling.selectors import SubjectFiles, subject_files
from webapp.review.models import AuditRun, LabelChange, Suspect, Verdict

# --- what an audit ranks ---------------------------------------------------------------


def subjects_to_audit() -> QuerySet[Subject]:
    """Retired pool subjects (their retired label) and gold subjects (their gold label)."""
    return Subject.objects.filter(
        Q(role=Subject.Role.POOL, status=Subject.Status.RETIRED, retired_label__isnull=False)
        | Q(role=Subject.Role.GOLD, gold_label__isnull=False)
    )


def current_label(subject: Subject) -> str | None:
    """The label a subject trains with: gold label for gold, retired label otherwise."""
    chosen = subject.gold_label if subject.is_gold else subject.retired_label
    return chosen.name if chosen is not None else None


@dataclass(frozen=True)
class LabelHistory:
    """What the review log (LabelChange) says of a subject's label: the field it lives in,
    gold_label for gold, retired_label otherwise."""

    before: str  # the label before its first change (what the volunteers' votes gave)
    after: str  # the label its last change not taken back set (== before: cancelled out)
    cause: str  # LabelChange.Cause of that change: "review" or "remap"; "undo": none stands
    at: datetime  # when its newest change was made, undos included

    @property
    def cancelled_out(self) -> bool:
        """Changed, then changed back (Blip -> Tomte -> Blip), or every change undone: the
        label is where it started."""
        return self.before == self.after


def label_histories(
    *, subject_ids: Iterable[int], cancelled_out: bool = False
) -> dict[int, LabelHistory]:
    """subject id -> LabelHistory, for the subjects whose label a reviewer or a remap
    changed; one query however many subjects. The labels export and the volunteers' pages
    (the glitch page, My glitches) read it: one account of a changed label. No reason and no
    reviewer: reasons are for reviewers and admins (the change log's CSV).

    A relabel undone and its undo say nothing of the label (it is back as it was, and so is
    what it is said to be), but `at` is the newest change of all, undos included: the label
    moved then. A history that cancels out (every change undone, or changed back by later
    changes: Blip -> Tomte -> Blip) is left out ("changed from Blip to Blip"), unless
    `cancelled_out` (the labels export, whose label_changed_at still says when the label
    last moved, so that a reader of an export made in between finds the row changed)."""
    changes = (
        LabelChange.objects.filter(subject_id__in=list(subject_ids))
        .values_list(
            "subject_id",
            "subject__role",
            "field",
            "cause",
            "before",
            "after",
            "created_at",
            "verdict__undone_at",
        )
        .order_by("created_at", "id")
    )
    found: dict[int, LabelHistory] = {}
    for pk, role, changed, cause, before, after, at, undone_at in changes:
        labelled = "gold_label" if role == Subject.Role.GOLD else "retired_label"
        if changed != labelled:
            continue
        known = found.get(pk)
        if cause == LabelChange.Cause.UNDO or undone_at is not None:
            # An undo puts back the label its relabel found, so an undone change moves
            # nothing: what stood before it stands (before the first: its own `before`).
            if known is None:
                known = LabelHistory(before, before, LabelChange.Cause.UNDO, at)
            found[pk] = LabelHistory(known.before, known.after, known.cause, at)
        else:
            first = known.before if known is not None else before
            found[pk] = LabelHistory(before=first, after=after, cause=cause, at=at)
    if cancelled_out:
        return found
    return {pk: history for pk, history in found.items() if not history.cancelled_out}


def label_change_standing(*, subject: Subject, history: LabelHistory | None) -> LabelHistory | None:
    """`history` if the label the subject trains with now (its gold label for gold, else its
    retired label: current_label, the field label_histories reads) is still the one its last
    change set, else None (moved since without a change logged, or never retired). The glitch
    page and My glitches read it: both say the same of one glitch. Reads ids only, no query."""
    label_id = subject.gold_label_id if subject.is_gold else subject.retired_label_id
    if history is None or history.cancelled_out or label_id is None:
        return None
    # class_name reads the table again once for a class accepted in another process meanwhile
    return history if labeling_config.class_name(label_id) == history.after else None


def relabel_targets() -> QuerySet[GlitchClass]:
    """The classes a reviewer may relabel a glitch with: active ones. A provisional class is
    still collecting votes: a label of it would give the next retrain an output no admin
    accepted, which a reject would not take back; a deprecated one is gone."""
    return GlitchClass.objects.filter(status=GlitchClass.Status.ACTIVE)


def audit_files() -> list[SubjectFiles]:
    """The subjects an audit ranks, as ml/ needs them (id, label, image files)."""
    return subject_files(subjects_to_audit(), current_label)


@dataclass
class VoteTable:
    """Per subject, the mean of the weighted votes' columns W_i (P(true class | answer)), and
    how many votes it is the mean of (the audit weighs the votes by their number)."""

    posterior: dict[int, dict[str, float]] = field(default_factory=dict)  # subject id -> {class: v}
    counts: dict[int, int] = field(default_factory=dict)  # subject id -> number of votes


def vote_posteriors(*, subject_ids: list[int]) -> VoteTable:
    """Mean W_i over each subject's votes that name a class.

    Pool votes carry the W_i stored when they were cast. Gold votes store none (gold
    answers train the volunteer, they do not vote), so for them W_i is computed from the
    volunteer's gold confusion matrix as it is now: a skilled volunteer who keeps
    "getting a gold subject wrong" is evidence against the gold label.
    """
    rules = labeling_config.consensus_rules()
    votes = (
        Classification.objects.filter(subject_id__in=subject_ids)
        .exclude(glitch_class__name=NONE_OF_THE_ABOVE)
        .values_list("subject_id", "volunteer_id", "glitch_class__name", "weight")
    )
    confusions = dict(VolunteerProfile.objects.values_list("user_id", "gold_confusion"))
    names = [n for n in _class_names() if n != NONE_OF_THE_ABOVE]
    sums: dict[int, dict[str, float]] = {}
    counts: dict[int, int] = {}
    for subject_id, volunteer_id, answer, weight in votes:
        column = weight or consensus.confusion_column(
            confusions.get(volunteer_id) or {},
            answer,
            names,
            prior_alpha=rules.prior_alpha,
            prior_weight=rules.prior_weight,
        )
        total = sums.setdefault(subject_id, {})
        for name, value in column.items():
            total[name] = total.get(name, 0.0) + float(value)
        counts[subject_id] = counts.get(subject_id, 0) + 1
    return VoteTable(
        {sid: {n: v / counts[sid] for n, v in total.items()} for sid, total in sums.items()},
        counts,
    )


def _class_names() -> list[str]:
    from webapp.labeling.models import GlitchClass

    return list(GlitchClass.objects.values_list("name", flat=True))


# --- runs ------------------------------------------------------------------------------


def audit_run_live() -> AuditRun | None:
    return AuditRun.objects.filter(status__in=AuditRun.LIVE_STATUSES).first()


def audit_run_latest() -> AuditRun | None:
    """The newest finished audit: the one reviewers work through."""
    return AuditRun.objects.filter(status=AuditRun.Status.SUCCEEDED).first()


def audit_run_failed_last() -> AuditRun | None:
    """The newest audit that ended, if it failed or was cancelled: it is newer than the
    latest finished one (whose suspects the queue still holds), and the review page says
    so. None once a later audit succeeds."""
    ended = AuditRun.objects.exclude(status__in=AuditRun.LIVE_STATUSES).first()
    if ended is None or ended.status == AuditRun.Status.SUCCEEDED:
        return None
    return ended


def audit_dir(run: AuditRun) -> Path:
    return Path(settings.VAR_DIR) / "review" / run.out_dir_name


def audit_dirs_in_use() -> set[str]:
    """The folders (AuditRun.out_dir_name) whose features a page may read: the latest
    finished audit's, which reviewers work through (a suspect's page shows its neighbours
    from them), and a live audit's, being written. An older audit's suspect page, opened
    by its address, says its features are gone."""
    runs = AuditRun.objects.filter(status__in=AuditRun.LIVE_STATUSES)
    latest = audit_run_latest()
    return {run.out_dir_name for run in [*runs, *([latest] if latest else [])]}


# --- a reviewer's queue ----------------------------------------------------------------


def suspects_open(*, reviewer: User, run: AuditRun | None = None) -> QuerySet[Suspect]:
    """The latest audit's suspects this reviewer has not answered, most suspect first.

    Left out: suspects whose label changed since the audit (a verdict or a new vote moved
    it: the audit's evidence is stale), and subjects whose current label a reviewer already
    confirmed or set (agree / relabel) - a later audit doubting it again is not re-asked.
    An undone verdict counts for none of this: its suspect is open again.
    """
    run = run or audit_run_latest()
    if run is None:
        return Suspect.objects.none()
    standing = Verdict.objects.filter(undone_at__isnull=True)
    settled = standing.filter(
        subject=OuterRef("subject"),
        label_after=OuterRef("given_label"),
        decision__in=[Verdict.Decision.AGREE, Verdict.Decision.RELABEL],
    )
    answered = standing.filter(suspect=OuterRef("pk"), reviewer=reviewer)
    label_unchanged = Q(is_gold=True, subject__gold_label__name=F("given_label")) | Q(
        is_gold=False, subject__retired_label__name=F("given_label")
    )
    return (
        Suspect.objects.filter(run=run)
        .filter(label_unchanged)
        .exclude(Exists(settled))
        .exclude(Exists(answered))
        .select_related("subject")
        .order_by("rank")
    )


def suspect_next(*, reviewer: User) -> Suspect | None:
    return suspects_open(reviewer=reviewer).first()


def suspect_get(*, suspect_id: int) -> Suspect | None:
    return (
        Suspect.objects.select_related("subject", "subject__retired_label", "subject__gold_label")
        .prefetch_related("subject__images")
        .filter(pk=suspect_id)
        .first()
    )


@dataclass(frozen=True)
class VoteRow:
    volunteer: str
    answer: str
    weight: float  # the vote's W_i for its own answer: P(true = answer | answered)
    weight_for_given: float  # ... and for the label under review


def suspect_votes(*, suspect: Suspect) -> list[VoteRow]:
    """Who voted what on the subject, with the weight their vote carried."""
    table = {
        v.pk: v
        for v in Classification.objects.filter(subject=suspect.subject).select_related(
            "volunteer", "glitch_class"
        )
    }
    rules = labeling_config.consensus_rules()
    names = _class_names()
    confusions = dict(
        VolunteerProfile.objects.filter(
            user_id__in=[v.volunteer_id for v in table.values()]
        ).values_list("user_id", "gold_confusion")
    )
    rows = []
    for vote in table.values():
        answer = vote.glitch_class.name
        column = vote.weight or (
            {}
            if answer == NONE_OF_THE_ABOVE
            else consensus.confusion_column(
                confusions.get(vote.volunteer_id) or {},
                answer,
                names,
                prior_alpha=rules.prior_alpha,
                prior_weight=rules.prior_weight,
            )
        )
        rows.append(
            VoteRow(
                volunteer=vote.volunteer.get_username(),
                answer=answer,
                weight=float(column.get(answer, 0.0)),
                weight_for_given=float(column.get(suspect.given_label, 0.0)),
            )
        )
    return sorted(rows, key=lambda r: (-r.weight, r.volunteer))


# --- nearest neighbours ----------------------------------------------------------------


@functools.lru_cache(maxsize=4)
def _audit_features(path: str, mtime_ns: int) -> tuple[np.ndarray, np.ndarray]:
    """(ids (N,), unit features (N, D) float32) of an audit's features.npz."""
    with np.load(path) as data:
        return data["subject_ids"].astype(np.int64), data["features"].astype(np.float32)


def _neighbour_space(suspect: Suspect) -> tuple[np.ndarray, np.ndarray, str] | None:
    """Discovery's stored embeddings of the current model when they hold the subject,
    else the features this audit stored. (ids, unit rows, what they are) or None."""
    from django.apps import apps

    if apps.is_installed("webapp.discovery"):
        from webapp.discovery import selectors as discovery

        embedding_set = discovery.embedding_set_current()
        if embedding_set is not None and Path(embedding_set.path).is_file():
            stored = discovery.embeddings_load(embedding_set)
            if suspect.subject_id in stored.row:
                return stored.ids, stored.unit, "model embeddings (discovery)"
    path = audit_dir(suspect.run) / "features.npz"
    if not path.is_file():
        return None
    ids, unit = _audit_features(str(path), path.stat().st_mtime_ns)
    return ids, unit, "audit features"


def suspect_neighbours(*, suspect: Suspect, per_class: int = 4) -> dict[str, list[Subject]]:
    """The nearest subjects (cosine) now labelled with each of the two candidate classes,
    the given label first. Empty when no features hold the subject."""
    space = _neighbour_space(suspect)
    if space is None:
        return {}
    ids, unit, _ = space
    where = np.flatnonzero(ids == suspect.subject_id)
    if len(where) == 0:
        return {}
    sims = unit @ unit[where[0]]
    result: dict[str, list[Subject]] = {}
    for label in (suspect.given_label, suspect.suggested_label):
        labelled = set(
            subjects_to_audit()
            .filter(
                Q(role=Subject.Role.GOLD, gold_label__name=label)
                | Q(role=Subject.Role.POOL, retired_label__name=label)
            )
            .exclude(pk=suspect.subject_id)
            .values_list("pk", flat=True)
        )
        members = np.flatnonzero(np.isin(ids, list(labelled)))
        best = members[np.argsort(-sims[members], kind="stable")[:per_class]]
        chosen = [int(i) for i in ids[best]]
        by_id = Subject.objects.prefetch_related("images").in_bulk(chosen)
        result[label] = [by_id[i] for i in chosen if i in by_id]
    return result


# --- verdicts given --------------------------------------------------------------------


RECENT_VERDICTS = 30  # how many the verdicts page lists


def verdicts_recent(*, reviewer: User | None, limit: int = RECENT_VERDICTS) -> QuerySet[Verdict]:
    """The newest verdicts, undone ones included (marked): `reviewer`'s, or everyone's
    (None: an admin's view)."""
    verdicts = Verdict.objects.select_related("subject", "reviewer", "undone_by", "suspect")
    if reviewer is not None:
        verdicts = verdicts.filter(reviewer=reviewer)
    return verdicts.order_by("-created_at", "-id")[:limit]


def verdict_last_standing(*, reviewer: User) -> Verdict | None:
    """The reviewer's newest verdict not undone: the suspect page offers to undo it."""
    return (
        Verdict.objects.filter(reviewer=reviewer, undone_at__isnull=True)
        .select_related("subject")
        .order_by("-created_at", "-id")
        .first()
    )


# --- the change log --------------------------------------------------------------------


def label_changes() -> QuerySet[LabelChange]:
    return LabelChange.objects.select_related("subject", "changed_by", "verdict").order_by(
        "created_at", "id"
    )


CSV_HEADER = (
    "when",
    "subject_id",
    "external_id",
    "field",
    "before",
    "after",
    "changed_by",
    "decision",
    "reason",
    "volunteers_rescored",
    "cause",  # review (a verdict), remap (a class deprecated) or undo (a verdict's taken back)
    # last, for column counters: the verdict a review change made, or an undo took back
    "verdict",
)


def label_change_rows(changes: QuerySet[LabelChange]) -> list[tuple[object, ...]]:
    """One CSV row per change, in CSV_HEADER's order."""
    return [
        (
            c.created_at.isoformat(),
            c.subject_id,
            c.subject.external_id,
            c.field,
            c.before,
            c.after,
            c.changed_by.get_username(),
            c.verdict.decision if c.verdict else "",
            c.reason,
            c.volunteers_rescored,
            c.cause,
            c.verdict_id or c.undoes_id or "",
        )
        for c in changes
    ]
