"""Reads of discovery: the stored embeddings and map, similar glitches, clusters to label,
the classes a batch may be given, who may do what."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from django.conf import settings
from django.contrib.auth.models import AnonymousUser, User
from django.db.models import Count, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce, Now

from ml.classes import NONE_OF_THE_ABOVE
from ml.neighbours import nearest, normalise
from webapp.accounts.roles import ADMIN, has_role, is_reviewer
from webapp.discovery.models import Batch, ClassProposal, Cluster, ClusterRun, EmbeddingSet
from webapp.labeling.metadata import map_facts
from webapp.labeling.models import Classification, GlitchClass, Subject, SubjectImage
from webapp.labeling.selectors import (
    among,
    glitch_classes_for_volunteer,
    in_lists,
    subject_ids_answers_visible,
    subjects_within_level,
)
from webapp.modeling.models import ModelVersion, Prediction
from webapp.modeling.selectors import SubjectFiles

logger = logging.getLogger(__name__)

# --- who may do what -------------------------------------------------------------------


def can_batch_label(user: User | AnonymousUser) -> bool:
    """Volunteers from GLITCHLAB_DISCOVERY_MIN_LEVEL on; reviewers and admins always."""
    if not user.is_authenticated:
        return False
    if is_reviewer(user):
        return True
    level = getattr(getattr(user, "volunteer_profile", None), "level", 1)
    return int(level) >= settings.GLITCHLAB_DISCOVERY_MIN_LEVEL


def can_review_proposals(user: User | AnonymousUser) -> bool:
    return is_reviewer(user)


def can_decide_classes(user: User | AnonymousUser) -> bool:
    """Accepting and deprecating classes changes the registry: admins only."""
    return has_role(user, ADMIN)


# --- embeddings ------------------------------------------------------------------------


def subject_files_all() -> list[SubjectFiles]:
    """Every subject with images, as the tasks hand them to ml/ (label: retired or gold)."""
    from webapp.modeling.selectors import subject_files  # the one mapping of rows to files

    def label_of(s: Subject) -> str | None:
        chosen = s.gold_label or s.retired_label
        return chosen.name if chosen else None

    return subject_files(Subject.objects.all(), label_of)


def embedding_set_live() -> EmbeddingSet | None:
    """An embedding job waiting for or running on a worker (what the page can cancel)."""
    return (
        EmbeddingSet.objects.select_related("model_version")
        .filter(status__in=EmbeddingSet.LIVE_STATUSES)
        .first()
    )


_missing_logged: set[str] = set()  # the files this process has logged missing


def embedding_file_missing(embedding_set: EmbeddingSet) -> str:
    """The error of ready embeddings whose file is not there (embedding_set_on_disk)."""
    return f"embeddings file missing: {Path(embedding_set.path)}"


def embedding_set_on_disk(embedding_set: EmbeddingSet) -> bool:
    """Whether ready embeddings' file is there. A read, as every selector: the pages skip
    embeddings whose file is missing (VAR_DIR/discovery pruned, the database restored
    without the volume, a mount lost or slow to answer one lookup) and go on with an
    earlier model's, or none, and the discovery page tells admins (embeddings_health), with
    Embed again. An ERROR line in the log, once per process and file while it stays missing.
    Nothing is written: a file back after a brief miss (NFS) is used again. The clustering
    and Embed again mark them failed (services.embedding_set_failed_if_missing); before, the
    first page to look did, a GET failing the active model's embeddings for good."""
    path = Path(embedding_set.path)
    if embedding_set.path and path.is_file():
        _missing_logged.discard(str(path))
        return True
    if str(path) not in _missing_logged:
        _missing_logged.add(str(path))
        error = embedding_file_missing(embedding_set)
        logger.error(
            "embeddings %s (model version %s): %s; the pages go on without them (Embed "
            "again on /discovery/ makes the active model's anew)",
            embedding_set.pk, embedding_set.model_version_id, error,
        )  # fmt: skip
    return False


def _first_on_disk(rows: QuerySet[EmbeddingSet]) -> EmbeddingSet | None:
    """The first of `rows` (ready embeddings) whose file is there (embedding_set_on_disk):
    one whose file is missing is passed over and left as it is."""
    missing: list[int] = []
    while (found := rows.exclude(pk__in=missing).first()) is not None:
        if embedding_set_on_disk(found):
            return found
        missing.append(found.pk)
    return None


def embedding_set_current() -> EmbeddingSet | None:
    """The active model's embeddings when ready, else the newest ready ones (whose file is
    there: embedding_set_on_disk)."""
    ready = EmbeddingSet.objects.filter(status=EmbeddingSet.Status.READY)
    return _first_on_disk(ready.filter(model_version__is_active=True)) or _first_on_disk(ready)


def embedding_set_mapped() -> EmbeddingSet | None:
    """The embeddings the map draws: the current ones once their map is made, else the
    newest ready ones that have a map (an earlier model's, while the new map is made, or if
    making it was refused, failed or was lost: nothing runs it again by itself; the
    discovery page tells admins, embeddings_health)."""
    current = embedding_set_current()
    if current is not None and current.has_map:
        return current
    return _first_on_disk(
        EmbeddingSet.objects.filter(status=EmbeddingSet.Status.READY, has_map=True)
    )


def map_wait_s() -> int:
    """How long a map-and-cluster job may take from its queueing before it is taken as lost
    (its message, or its worker): its time limit (tasks.discovery.cluster_subjects, the
    scoring's) and an hour waiting in the default queue. An admin may queue it again then."""
    return settings.GLITCHLAB_SCORE_TIME_LIMIT_S + 3600


def map_being_made() -> Q:
    """Embeddings whose map and clusters a job is making: queued, by the database's clock
    (as every job time: webapp.jobs), less than map_wait_s() ago and not ended since."""
    return Q(map_queued_at__gte=Now() - timedelta(seconds=map_wait_s()))


@dataclass(frozen=True)
class EmbeddingsHealth:
    """What the discovery page tells admins: whether the active model's embeddings and the
    current ones' map and clusters were made, and when not, whether a job is making them.
    A failed, cancelled or lost job is not run again by itself."""

    active: ModelVersion | None  # the active model
    active_set: EmbeddingSet | None  # its embeddings' row, in any status; None: never made
    current: EmbeddingSet | None  # the ready embeddings the pages use (embedding_set_current)
    map_making: bool  # a job is making `current`'s map and clusters
    # the active model's embeddings are ready but their file is not there (read now: the
    # row stays ready until the clustering or Embed again marks it failed)
    active_missing: bool = False

    @property
    def embed_again(self) -> bool:
        """The active model's embeddings failed, were cancelled, were never made, or their
        file is missing."""
        if self.active is None:
            return False
        return (
            self.active_set is None
            or self.active_missing
            or self.active_set.status in (EmbeddingSet.Status.FAILED, EmbeddingSet.Status.CANCELLED)
        )

    @property
    def active_error(self) -> str:
        """Why the active model's embeddings are not used ("" when not known)."""
        if self.active_set is None:
            return ""
        if self.active_missing:
            return embedding_file_missing(self.active_set)
        return self.active_set.error

    @property
    def map_again(self) -> bool:
        """The current embeddings have no map or clusters (`error` says why, when known)
        and no job is making them."""
        current = self.current
        if current is None or self.map_making:
            return False
        return not current.has_map or bool(current.error)

    @property
    def behind(self) -> bool:
        """What everyone else is told, without the errors: the map is being updated."""
        return self.embed_again or self.map_making or self.map_again


def embeddings_health(*, current: EmbeddingSet | None) -> EmbeddingsHealth:
    """`current`: embedding_set_current(), which the caller has already."""
    active = ModelVersion.objects.filter(is_active=True).first()
    active_set = (
        EmbeddingSet.objects.filter(model_version=active).first() if active is not None else None
    )
    making = (
        current is not None
        and EmbeddingSet.objects.filter(map_being_made(), pk=current.pk).exists()
    )
    missing = (
        active_set is not None
        and active_set.status == EmbeddingSet.Status.READY
        and (current is None or current.pk != active_set.pk)  # current: its file is there
        and not embedding_set_on_disk(active_set)
    )
    return EmbeddingsHealth(
        active=active,
        active_set=active_set,
        current=current,
        map_making=making,
        active_missing=missing,
    )


@dataclass(frozen=True)
class StoredEmbeddings:
    ids: np.ndarray  # (N,) int64 subject ids
    unit: np.ndarray  # (N, D) float32, rows normalised
    xy: np.ndarray | None  # (N, 2) float32 map coordinates, once computed
    row: dict[int, int]  # subject id -> row


def embeddings_load(embedding_set: EmbeddingSet) -> StoredEmbeddings:
    path = Path(embedding_set.path)
    return _load(str(path), path.stat().st_mtime_ns)


@lru_cache(maxsize=4)
def _load(path: str, mtime_ns: int) -> StoredEmbeddings:
    """Cached per (file, modification time): a rewritten file is read again."""
    with np.load(path, allow_pickle=False) as data:
        ids = np.asarray(data["ids"], dtype=np.int64)
        unit = normalise(data["embeddings"])
        xy = np.asarray(data["xy"], dtype=np.float32) if "xy" in data else None
    return StoredEmbeddings(ids=ids, unit=unit, xy=xy, row={int(i): r for r, i in enumerate(ids)})


def subjects_to_cluster(*, version: ModelVersion | None) -> list[int]:
    """Ids of the candidates for new classes: discovery subjects, open subjects the model
    calls None_of_the_Above, and open subjects it is unsure about."""
    candidates = Q(status=Subject.Status.DISCOVERY)
    if version is not None:
        unsure = Prediction.objects.filter(model_version=version).filter(
            Q(predicted_label=NONE_OF_THE_ABOVE)
            | Q(confidence__lt=settings.GLITCHLAB_DISCOVERY_LOW_CONFIDENCE)
        )
        candidates |= Q(status=Subject.Status.ACTIVE, pk__in=unsure.values("subject_id"))
    return list(
        Subject.objects.filter(candidates, role=Subject.Role.POOL)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


@dataclass(frozen=True)
class SimilarSubject:
    subject_id: int
    similarity: float
    image_url: str
    label: str  # retired label, else the active model's guess, else ""


def similar_subjects(
    *, subject_id: int, viewer: User | AnonymousUser, k: int | None = None
) -> list[SimilarSubject] | None:
    """The k most similar subjects by cosine similarity of the current embeddings, gold
    and pool alike: a gold subject looks like any other (the label is the retired one, or
    the model's guess where the viewer may see it: subject_labels). None: no embeddings
    for it (none current, or they do not hold it: the API's empty list)."""
    embedding_set = embedding_set_current()
    if embedding_set is None:
        return None
    try:
        stored = embeddings_load(embedding_set)
    except OSError:  # the file gone since it was looked for: none to show
        return None
    row = stored.row.get(subject_id)
    if row is None:
        return None
    k = k or settings.GLITCHLAB_SIMILAR_K
    found = nearest(stored.unit, row, k * 2 + 5)
    ids = [int(stored.ids[r]) for r, _ in found]
    # Only subjects still stored (one deleted since the embeddings were made is skipped).
    stored_ids = set(Subject.objects.filter(pk__in=ids).values_list("pk", flat=True))
    labels = subject_labels(ids, viewer=viewer)
    images = thumbnails(ids)
    out = [
        SimilarSubject(sid, round(sim, 4), images.get(sid, ""), labels.get(sid, ""))
        for sid, (_, sim) in zip(ids, found, strict=True)
        if sid in stored_ids
    ]
    return out[:k]


def thumbnails(subject_ids: list[int]) -> dict[int, str]:
    """subject id -> URL of its 1 s view (or the nearest duration it has)."""
    best: dict[int, tuple[float, str]] = {}
    wanted = set(subject_ids)
    rows = among(SubjectImage.objects.all(), "subject_id", wanted).values_list(
        "subject_id", "duration", "image"
    )
    for sid, duration, name in rows:
        if sid not in wanted:
            continue
        distance = abs(float(duration) - 1.0)
        if sid not in best or distance < best[sid][0]:
            best[sid] = (distance, settings.MEDIA_URL + name)
    return {sid: url for sid, (_, url) in best.items()}


def subject_labels(
    subject_ids: list[int], *, viewer: User | AnonymousUser, visible: set[int] | None = None
) -> dict[int, str]:
    """Retired label, else the active model's predicted label where the viewer may see it
    (labeling's subject_answers_visible: a reviewer, or a volunteer who voted on it, on
    gold a scored vote; issue #14's "no answers before voting"). Gold and pool alike: never
    the gold answer.
    `visible`: that rule's answer for these ids, when the caller has it already."""
    if visible is None:
        visible = subject_ids_answers_visible(subject_ids=subject_ids, viewer=viewer)
    wanted = set(subject_ids)
    active = Prediction.objects.filter(model_version__is_active=True)
    labels: dict[int, str] = {
        sid: guess
        for sid, guess in among(active, "subject_id", wanted).values_list(
            "subject_id", "predicted_label"
        )
        if sid in visible
    }
    retired = Subject.objects.filter(retired_label__isnull=False)
    labels.update(
        (sid, name)
        for sid, name in among(retired, "pk", wanted).values_list("pk", "retired_label__name")
        if sid in wanted
    )
    return labels


# --- the map ---------------------------------------------------------------------------


def map_points(*, viewer: User | AnonymousUser) -> dict[str, Any]:
    """Everything the map draws, as columns: ids, x, y, class, confidence, cluster, image.
    Gold subjects are points like any other (a missing point would tell gold apart): class
    and confidence are the retired label, or the model's guess and confidence where the
    viewer may see them (subject_labels), never the gold answer; else "unlabelled" and
    None. "answers_shown": the ids whose answers (guess, hover facts) these columns show,
    for the view to mark the viewer's votes on them seen (not part of the answer)."""
    embedding_set = embedding_set_mapped()
    if embedding_set is None:
        return {"ready": False, "ids": []}
    stored = embeddings_load(embedding_set)
    if stored.xy is None:
        return {"ready": False, "ids": []}
    ids = [int(i) for i in stored.ids]
    # the active model's, as the guesses in `label` (subject_labels): one model's guess and
    # confidence, also while the map is an earlier model's (embedding_set_mapped)
    confidence = dict(
        Prediction.objects.filter(model_version__is_active=True).values_list(
            "subject_id", "confidence"
        )
    )
    cluster_of: dict[int, int] = {}
    run = ClusterRun.objects.filter(embedding_set=embedding_set).first()
    if run is not None:
        for cluster in run.clusters.all():
            for sid in cluster.subject_ids:
                cluster_of[int(sid)] = cluster.index
    shown = subject_ids_answers_visible(subject_ids=ids, viewer=viewer)
    labels = subject_labels(ids, viewer=viewer, visible=shown)
    images = thumbnails(ids)
    return {
        "ready": True,
        "model": embedding_set.model_version.name,
        "ids": ids,
        "x": [round(float(x), 4) for x in stored.xy[:, 0]],
        "y": [round(float(y), 4) for y in stored.xy[:, 1]],
        "label": [labels.get(i, "") or "unlabelled" for i in ids],
        "confidence": [confidence.get(i) if i in shown else None for i in ids],
        "cluster": [cluster_of.get(i, -1) for i in ids],
        "image": [images.get(i, "") for i in ids],
        **_facts_shown(map_facts(ids), ids, shown),  # ifo, snr, peak_frequency: the hover's
        "answers_shown": shown,
    }


def _facts_shown(facts: dict[str, list[Any]], ids: list[int], shown: set[int]) -> dict[str, Any]:
    """The hover's measurements only where the viewer may see the answers: with the
    detector they join public tables that hold the label (labeling.metadata's
    IDENTIFYING_FIELDS)."""
    hidden = [i not in shown for i in ids]
    return {
        name: [
            None if away and name != "ifo" else value
            for value, away in zip(column, hidden, strict=True)
        ]
        for name, column in facts.items()
    }


# --- batches ---------------------------------------------------------------------------


def cluster_run_current() -> ClusterRun | None:
    """The current embeddings' clusters; while their map and clusters are not made yet (or
    making them was lost), the newest clusters of ready embeddings, an earlier model's, so
    that cluster batches go on. None when the current embeddings were clustered and had too
    few candidates."""
    embedding_set = embedding_set_current()
    if embedding_set is None:
        return None
    runs = ClusterRun.objects.filter(embedding_set__status=EmbeddingSet.Status.READY)
    if embedding_set.has_map:  # cluster_subjects reached it: its answer stands
        return runs.filter(embedding_set=embedding_set).first()
    return runs.first()


# The statuses in which a subject takes votes, and the roles that take them: validation
# glitches keep their known label and only ever measure the model (a crowd label there
# would replace it in the export, and the votes would measure nothing).
OPEN_STATUSES = [Subject.Status.ACTIVE, Subject.Status.DISCOVERY]
VOTED_ROLES = [Subject.Role.POOL, Subject.Role.GOLD]


def _votable_by(volunteer: User) -> QuerySet[Subject]:
    """Open glitches the volunteer's level reaches (the queue's rule,
    labeling.selectors.subjects_within_level); every open glitch for reviewers and admins,
    who batch-label at any level (can_batch_label). Never one whose pictures the server
    found broken (Subject.pictures_problem): out of the queue, it was still on the sheets."""
    votable = Subject.objects.filter(
        status__in=OPEN_STATUSES, role__in=VOTED_ROLES, pictures_problem=""
    )
    if is_reviewer(volunteer):
        return votable
    return votable.filter(subjects_within_level(volunteer=volunteer))


def subjects_open_for(
    *, volunteer: User, subject_ids: list[int], limit: int | None = None
) -> list[int]:
    """The subjects (order kept) the volunteer may still vote on: subjects collecting votes
    or waiting in discovery, within their level as the queue has it (_votable_by), not yet
    answered by them, never a validation glitch. Gold and pool alike (issue #14): a lasso
    that dropped gold, or a map that marked it closed, would tell gold apart; a vote on
    gold in a batch scores only on the volunteer's gold due
    (labeling.services._scores_as_gold). The first `limit` of them when given.

    Asked IN_LIST_MAX ids at a time, in order, until `limit` are found: a cluster or a tag
    may hold more glitches than one statement binds (PostgreSQL 65,535 parameters), and a
    sheet needs only its first ones. (labeling.selectors.among would read every open
    subject instead.)"""
    found: list[int] = []
    votable = _votable_by(volunteer)
    for chunk in in_lists(subject_ids):
        answered = set(
            Classification.objects.filter(volunteer=volunteer, subject_id__in=chunk).values_list(
                "subject_id", flat=True
            )
        )
        open_ids = set(votable.filter(pk__in=chunk).values_list("pk", flat=True))
        found.extend(i for i in chunk if i in open_ids and i not in answered)
        if limit is not None and len(found) >= limit:
            return found[:limit]
    return found


def subject_ids_open_for(*, volunteer: User) -> set[int]:
    """Every subject subjects_open_for would keep for the volunteer, as a set (two queries
    with no list of ids: the map asks for all of its points at once)."""
    open_ids = set(_votable_by(volunteer).values_list("pk", flat=True))
    answered = Classification.objects.filter(volunteer=volunteer).values_list(
        "subject_id", flat=True
    )
    return open_ids.difference(answered)


def cluster_next_for_volunteer(*, volunteer: User) -> tuple[Cluster, list[int]] | None:
    """The largest cluster of the current run with enough glitches the volunteer has not
    answered yet (GLITCHLAB_BATCH_MIN, or all of a smaller cluster), and those glitches."""
    run = cluster_run_current()
    if run is None:
        return None
    for cluster in run.clusters.all():
        todo = subjects_open_for(
            volunteer=volunteer,
            subject_ids=list(cluster.subject_ids),
            limit=settings.GLITCHLAB_BATCH_MAX,
        )
        if len(todo) >= min(settings.GLITCHLAB_BATCH_MIN, max(cluster.size, 1)) and todo:
            return cluster, todo
    return None


def batch_open_for(*, volunteer: User) -> Batch | None:
    return Batch.objects.filter(volunteer=volunteer, submitted_at__isnull=True).first()


@dataclass(frozen=True)
class BatchChoice:
    value: str  # class name, or "proposal:<id>"
    label: str
    key: str | None
    provisional: bool


def batch_choices(*, volunteer: User) -> list[BatchChoice]:
    """The labels a batch may get: the volunteer's classes (None_of_the_Above last), then
    the provisional classes collecting votes."""
    choices = [
        BatchChoice(c.name, c.display_name, c.key, False)
        for c in glitch_classes_for_volunteer(volunteer=volunteer)
    ]
    for proposal in ClassProposal.objects.filter(status=ClassProposal.Status.PROVISIONAL).order_by(
        "name"
    ):
        choices.append(
            BatchChoice(f"proposal:{proposal.pk}", proposal.name.replace("_", " "), None, True)
        )
    return choices


def batch_subjects(*, batch: Batch) -> list[dict[str, Any]]:
    ids = [int(i) for i in batch.subject_ids]
    images = thumbnails(ids)
    return [{"id": i, "image": images.get(i, "")} for i in ids]


def proposals_for_review(*, with_labels: bool = False) -> list[ClassProposal]:
    """Every proposal with its history; `with_labels` (for admins) adds what deprecating
    its class would move (_remap_labels): n_votes, n_gold and n_retired, which the page's
    question says before one click moves them all."""
    proposals = (
        ClassProposal.objects.select_related("proposed_by", "glitch_class", "remapped_to")
        .prefetch_related("events__actor")
        .order_by("status", "-created_at")
    )
    if with_labels:
        proposals = proposals.annotate(
            n_votes=_count_of_class(Classification, "glitch_class"),
            n_gold=_count_of_class(Subject, "gold_label"),
            n_retired=_count_of_class(Subject, "retired_label"),
        )
    return list(proposals)


def _count_of_class(model: type[Classification | Subject], field: str) -> Coalesce:
    """The rows of `model` whose `field` is the proposal's class (one indexed count each)."""
    rows = model.objects.filter(**{field: OuterRef("glitch_class")}).order_by()
    return Coalesce(Subquery(rows.values(field).annotate(n=Count("pk")).values("n")), 0)


def remap_targets() -> list[GlitchClass]:
    return list(GlitchClass.objects.filter(status=GlitchClass.Status.ACTIVE))
