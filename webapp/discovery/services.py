"""Writes of discovery: stored embeddings, map and clusters; batches labelled in one
action; the new-class lifecycle (proposed -> provisional -> accepted -> deprecated)."""

from __future__ import annotations

import contextlib
import io
import logging
import os
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, models, transaction
from django.db.models import Count, Max
from django.db.models.functions import Now
from django.utils import timezone

from ml.classes import ALIASES, NONE_OF_THE_ABOVE, spelled_as, spelling_key
from ml.neighbours import normalise, order_by_centrality
from webapp import jobs
from webapp.accounts.usernames import skeleton
from webapp.discovery import selectors
from webapp.discovery.models import (
    Batch,
    ClassProposal,
    Cluster,
    ClusterRun,
    EmbeddingSet,
    ProposalEvent,
    ProposalVote,
)
from webapp.labeling import config as labeling_config
from webapp.labeling import keys as class_keys
from webapp.labeling import selectors as labeling_selectors
from webapp.labeling import services as labeling
from webapp.labeling.models import Classification, GlitchClass, Subject
from webapp.modeling import services as modeling_services
from webapp.modeling.models import ClaimHolder, ModelVersion
from webapp.review.models import LabelChange
from webapp.typed_text import typed_text

logger = logging.getLogger(__name__)

# --- embeddings, map, clusters (written by tasks/discovery.py) ------------------------


def embeddings_path(*, version_id: int) -> Path:
    return Path(settings.GLITCHLAB_DISCOVERY_DIR) / f"embeddings-model-{version_id}.npz"


def embedding_set_claim(
    *, version_id: int, force: bool = False, worker: str = ""
) -> EmbeddingSet | None:
    """Claim the version's embedding job (compare-and-set, webapp.jobs): None if another
    delivery holds it (and still beats) or it is already done (unless `force`: a refresh)."""
    embedding_set, _ = EmbeddingSet.objects.get_or_create(model_version_id=version_id)
    claimable = (
        EmbeddingSet.Status.PENDING,
        EmbeddingSet.Status.FAILED,
        EmbeddingSet.Status.CANCELLED,
    ) + ((EmbeddingSet.Status.READY,) if force else ())
    return jobs.job_claim(
        EmbeddingSet,
        pk=embedding_set.pk,
        claimable=claimable,
        worker=worker,
        stale_after_s=settings.GLITCHLAB_HEARTBEAT_TIMEOUT_S,
        error="",
    )


def embedding_set_failed_if_missing(*, embedding_set: EmbeddingSet) -> bool:
    """Ready embeddings whose file is not there (selectors.embedding_set_on_disk) marked
    failed, "embeddings file missing: PATH", so that Embed again makes them anew. Only the
    clustering and an admin's Embed again do this, where the file is needed now; a page
    skips them and writes nothing (a GET changes nothing, and a brief miss on a shared
    mount would fail the active model's embeddings for good). Returns whether the file is
    missing."""
    if selectors.embedding_set_on_disk(embedding_set):
        return False
    error = selectors.embedding_file_missing(embedding_set)
    if jobs.job_fail(
        EmbeddingSet, pk=embedding_set.pk, error=error, statuses=(EmbeddingSet.Status.READY,)
    ):
        logger.error(
            "embeddings %s (model version %s): %s; marked failed (the active model's are "
            "made again with Embed again on /discovery/)",
            embedding_set.pk, embedding_set.model_version_id, error,
        )  # fmt: skip
    return True


class EmbeddingJobLiveError(Exception):
    """An embedding job is queued or running (`job`): another waits for it to end."""

    def __init__(self, message: str, *, job: EmbeddingSet) -> None:
        super().__init__(message)
        self.job = job


def embedding_set_queue(*, version_id: int) -> None:
    """Queue the version's embedding job (tasks.discovery.embed_subjects) once this
    transaction commits. Its row waits as pending first (made so, or again after it failed
    or was cancelled), so the page tells a queued job from one that failed or was never
    made; a ready or live row is left alone (the task then does nothing, or another delivery
    is at it). A broker that refuses the job fails the row at once with the reason."""
    from tasks.discovery import embed_subjects
    from tasks.publish import enqueue_on_commit

    embedding_set, _ = EmbeddingSet.objects.get_or_create(model_version_id=version_id)
    jobs.job_requeue(
        EmbeddingSet,
        pk=embedding_set.pk,
        ended=(EmbeddingSet.Status.FAILED, EmbeddingSet.Status.CANCELLED),
        waiting=EmbeddingSet.Status.PENDING,
    )
    enqueue_on_commit(
        embed_subjects,
        version_id,
        on_refused=lambda reason: embedding_set_refused(version_id=version_id, error=reason),
    )


def embedding_set_request(*, version_id: int) -> EmbeddingSet:
    """An admin's "Embed again": the active model's embeddings, which failed, were cancelled
    or were never made, queued again (otherwise only the next activation, or the re-route
    after newly imported glitches are scored, queues them again). One embedding job at a
    time: raises EmbeddingJobLiveError while one is queued or running (a second click; or
    another model's, which its cancel ends). ValidationError for a version that is not the
    active one or whose embeddings are ready (ready embeddings whose file is missing are
    failed first, embedding_set_failed_if_missing, and queued again); the model's
    DoesNotExist for an unknown id. A broker that refuses the job: the row comes back
    failed with the reason."""
    version = ModelVersion.objects.get(pk=version_id)
    if not version.is_active:
        raise ValidationError(
            f"Not queued: {version.name} is not the active model; only the active model's "
            "embeddings are made again."
        )
    live = selectors.embedding_set_live()
    if live is not None:
        raise EmbeddingJobLiveError(_live_job_message(live, version), job=live)
    embedding_set, created = EmbeddingSet.objects.get_or_create(model_version=version)
    if not created:
        if embedding_set.status == EmbeddingSet.Status.READY:
            embedding_set_failed_if_missing(embedding_set=embedding_set)  # so queued again
        # Compare and set: of two clicks (or two admins) only one takes the ended row.
        waits = jobs.job_requeue(
            EmbeddingSet,
            pk=embedding_set.pk,
            ended=(EmbeddingSet.Status.FAILED, EmbeddingSet.Status.CANCELLED),
            waiting=EmbeddingSet.Status.PENDING,
        )
        if not waits:
            embedding_set.refresh_from_db()
            if embedding_set.status in EmbeddingSet.LIVE_STATUSES:
                raise EmbeddingJobLiveError(
                    _live_job_message(embedding_set, version), job=embedding_set
                )
            raise ValidationError(
                f"The embeddings of {version.name} are {embedding_set.status}: "
                "nothing to embed again."
            )
    embedding_set_queue(version_id=version.pk)
    return EmbeddingSet.objects.get(pk=embedding_set.pk)


def _live_job_message(live: EmbeddingSet, version: ModelVersion) -> str:
    if live.model_version_id == version.pk:
        return (
            f"Embedding job {live.pk} ({version.name}) is already {live.status}: "
            "nothing queued again."
        )
    return (
        f"Not queued: embedding job {live.pk} ({live.model_version.name}) is {live.status}, "
        "and the GPU worker embeds one model at a time. Embed again once it has ended "
        "(or cancel it)."
    )


def embedding_set_heartbeat(*, set_id: int) -> bool:
    """The job is alive; returns whether an admin asked it to stop."""
    return jobs.job_heartbeat(EmbeddingSet, pk=set_id)


def embedding_set_cancel_requested(*, set_id: int) -> bool:
    return jobs.job_cancel_requested(EmbeddingSet, pk=set_id)


def embedding_set_cancel(*, set_id: int) -> EmbeddingSet:
    """Cancel a pending embedding job at once, or ask a running one to stop at its next
    batch. Raises webapp.jobs.JobNotLiveError if it had already ended."""
    jobs.job_cancel(EmbeddingSet, pk=set_id, waiting=EmbeddingSet.Status.PENDING)
    return EmbeddingSet.objects.get(pk=set_id)


def embedding_set_mark_cancelled(*, set_id: int) -> bool:
    return jobs.job_mark_cancelled(EmbeddingSet, pk=set_id)


def embedding_set_refused(*, version_id: int, error: str) -> None:
    """The broker refused the version's embedding job: its row says so (the page shows it;
    the next activation or a refresh queues it again). A live row is left alone."""
    embedding_set, _ = EmbeddingSet.objects.get_or_create(model_version_id=version_id)
    jobs.job_fail(
        EmbeddingSet, pk=embedding_set.pk, error=error, statuses=(EmbeddingSet.Status.PENDING,)
    )


def embedding_sets_fail_lost(
    *,
    worker: str | None = None,
    silent_for_s: float | None = None,
    waiting_for_s: float | None = None,
) -> int:
    return jobs.jobs_fail_lost(
        EmbeddingSet, worker=worker, silent_for_s=silent_for_s, waiting_for_s=waiting_for_s
    )


class MapAlreadyQueuedError(Exception):
    """A job is making these embeddings' map and clusters: another waits for it to end."""


def embedding_set_map_queue(*, set_id: int) -> bool:
    """Queue the map and clusters of ready embeddings (tasks.discovery.cluster_subjects)
    once this transaction commits, claiming them first (compare and set on map_queued_at):
    False while a job queued less than selectors.map_wait_s() ago is making them. A broker
    that refuses the job says so on the row (`error`, which the page shows) and frees the
    claim: before, the refusal failed the embedding task after its row was ready, and
    nothing ever made that map or said it was missing."""
    from tasks.discovery import cluster_subjects
    from tasks.publish import enqueue_on_commit

    claimed = (
        EmbeddingSet.objects.filter(pk=set_id, status=EmbeddingSet.Status.READY)
        .exclude(selectors.map_being_made())
        .update(map_queued_at=Now(), error="")
    )
    if not claimed:
        return False
    enqueue_on_commit(
        cluster_subjects,
        set_id,
        on_refused=lambda reason: embedding_set_map_ended(set_id=set_id, error=reason),
    )
    return True


def embedding_set_map_request(*, set_id: int) -> EmbeddingSet:
    """An admin's "Map and cluster again": the map and clusters of ready embeddings queued
    again. Raises MapAlreadyQueuedError while a job is making them (a second click),
    ValidationError for embeddings that are not ready, the model's DoesNotExist for an
    unknown id. A broker that refuses the job: the row's `error` says so."""
    embedding_set = EmbeddingSet.objects.select_related("model_version").get(pk=set_id)
    name = embedding_set.model_version.name
    if embedding_set_map_queue(set_id=set_id):
        return EmbeddingSet.objects.get(pk=set_id)
    embedding_set.refresh_from_db()
    if embedding_set.status != EmbeddingSet.Status.READY:
        raise ValidationError(
            f"Not queued: the embeddings of {name} are {embedding_set.status}; their map "
            "and clusters are made once they are ready."
        )
    raise MapAlreadyQueuedError(
        f"The map and clusters of {name} are already being made: nothing queued again."
    )


def embedding_set_map_ended(*, set_id: int, error: str = "") -> None:
    """The map-and-cluster job ended (or was refused): its claim is freed, and `error`
    (empty when it worked) says why the map or clusters were not made. A failure reported
    once the job had ended (the worker's main process, after the task's own except block)
    changes nothing; neither does anything once the embeddings are made again."""
    rows = EmbeddingSet.objects.filter(pk=set_id, status=EmbeddingSet.Status.READY)
    if error:
        rows = rows.filter(map_queued_at__isnull=False)
    rows.update(map_queued_at=None, error=error[: jobs.ERROR_LIMIT])


def embedding_set_map_claimed(*, set_id: int) -> bool:
    """A map-and-cluster job is owed for these embeddings (map_queued_at): its task works
    only then, so a message delivered again once the claim was freed does nothing."""
    return EmbeddingSet.objects.filter(pk=set_id, map_queued_at__isnull=False).exists()


def embedding_set_map_lost(*, set_id: int, error: str) -> None:
    """The map-and-cluster job's worker was lost (its child killed: the worker's main
    process reports it; the whole worker: its restart or the reaper,
    embedding_set_maps_fail_lost): the claim is freed, "the job failed: <error>", and the
    page offers Map and cluster again. Its holder goes, so the reaper does not free the
    claim of a job queued since."""
    embedding_set_map_ended(set_id=set_id, error=f"the job failed: {error}")
    modeling_services.claim_drop(kind=ClaimHolder.Kind.MAP, object_id=set_id)


def embedding_set_maps_fail_lost(
    *, worker: str | None = None, silent_for_s: float | None = None
) -> int:
    """Map-and-cluster jobs whose worker is gone (webapp.modeling.services.claims_fail_lost,
    the job rows' rule) free their claim, saying why (embedding_set_map_lost)."""
    return modeling_services.claims_fail_lost(
        kind=ClaimHolder.Kind.MAP,
        release=lambda pk, why: embedding_set_map_lost(set_id=pk, error=why),
        worker=worker,
        silent_for_s=silent_for_s,
    )


def _write_npz(path: Path, **arrays: np.ndarray) -> None:
    """Atomically: a reader sees the old file or the new one, never half of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)  # type: ignore[arg-type]
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    tmp.write_bytes(buffer.getvalue())
    os.replace(tmp, path)


def embedding_set_store(*, set_id: int, ids: Sequence[int], embeddings: np.ndarray) -> EmbeddingSet:
    """(N,) subject ids and (N, D) float32 embeddings -> the version's .npz; READY."""
    embedding_set = EmbeddingSet.objects.get(pk=set_id)
    path = embeddings_path(version_id=embedding_set.model_version_id)
    vectors = np.asarray(embeddings, dtype=np.float32)
    _write_npz(path, ids=np.asarray(ids, dtype=np.int64), embeddings=vectors)
    EmbeddingSet.objects.filter(pk=set_id).update(
        status=EmbeddingSet.Status.READY,
        path=str(path),
        n_subjects=len(ids),
        dim=vectors.shape[1] if vectors.ndim == 2 else 0,
        has_map=False,
        map_queued_at=None,  # the map of the embeddings before these is no longer wanted
        finished_at=Now(),  # the database's clock, as webapp.jobs stamps started_at
    )
    return EmbeddingSet.objects.get(pk=set_id)


def embedding_set_fail(*, set_id: int, error: str) -> bool:
    return jobs.job_fail(EmbeddingSet, pk=set_id, error=error)


def map_store(*, set_id: int, xy: np.ndarray) -> None:
    """Add the (N, 2) map coordinates (rows as in the file) to the stored embeddings."""
    embedding_set = EmbeddingSet.objects.get(pk=set_id)
    path = Path(embedding_set.path)
    with np.load(path, allow_pickle=False) as data:
        ids, vectors = data["ids"], data["embeddings"]
    _write_npz(path, ids=ids, embeddings=vectors, xy=np.asarray(xy, dtype=np.float32))
    EmbeddingSet.objects.filter(pk=set_id).update(has_map=True)


def cluster_run_store(
    *,
    set_id: int,
    subject_ids: Sequence[int],
    labels: Sequence[int] | np.ndarray,
    embeddings: np.ndarray,
    params: dict[str, Any],
) -> ClusterRun:
    """One clustering: a Cluster per label >= 0, members ordered nearest the centre first
    (a batch shows the typical members first)."""
    labels_arr = np.asarray(labels, dtype=np.int64)
    ids = np.asarray(subject_ids, dtype=np.int64)
    unit = normalise(embeddings)
    with transaction.atomic():
        run = ClusterRun.objects.create(
            embedding_set_id=set_id,
            params={k: v for k, v in params.items() if isinstance(v, str | int | float | None)},
            n_subjects=len(ids),
            n_clusters=int(labels_arr.max() + 1) if len(ids) else 0,
            n_noise=int((labels_arr < 0).sum()),
        )
        for index in range(run.n_clusters):
            rows = np.flatnonzero(labels_arr == index)
            ordered = rows[order_by_centrality(unit[rows])]
            Cluster.objects.create(
                run=run, index=index, subject_ids=[int(i) for i in ids[ordered]], size=len(rows)
            )
    return run


# --- batches ---------------------------------------------------------------------------


def _lock_batches_of(volunteer: User) -> None:
    """Within a transaction: wait for any other request that is opening or submitting a
    batch for this volunteer (their user row's lock), so a second click or a second tab sees
    the batch the first one made instead of opening another (the database allows one open
    batch each), and a lasso never deletes a batch while it is being submitted.

    FOR NO KEY UPDATE, not FOR UPDATE: it waits for the same requests, but not for the key
    check of a row that names the volunteer (a vote's volunteer_id, checked as it commits).
    With FOR UPDATE a vote from another tab held the profile and waited for this lock while
    the sheet held it and wanted the profile: a deadlock (docs/labelling.md, "Lock order")."""
    User.objects.select_for_update(no_key=True).filter(pk=volunteer.pk).first()


def batch_from_cluster(*, volunteer: User) -> Batch | None:
    """The volunteer's open batch, else a new one from the next cluster; None: nothing to do."""
    _require(selectors.can_batch_label(volunteer), "batch labelling opens at a higher level")
    with transaction.atomic():
        _lock_batches_of(volunteer)
        existing = selectors.batch_open_for(volunteer=volunteer)
        if existing is not None:
            return existing
        found = selectors.cluster_next_for_volunteer(volunteer=volunteer)
        if found is None:
            return None
        cluster, subject_ids = found
        return Batch.objects.create(
            volunteer=volunteer,
            source=Batch.Source.CLUSTER,
            cluster=cluster,
            subject_ids=subject_ids,
        )


def batch_from_subjects(*, volunteer: User, subject_ids: Sequence[int]) -> Batch:
    """A batch of glitches chosen on the map (lasso); closed and answered ones are dropped
    (gold is taken like pool: dropping it would tell it apart)."""
    _require(selectors.can_batch_label(volunteer), "batch labelling opens at a higher level")
    wanted = list(dict.fromkeys(int(i) for i in subject_ids))
    todo = selectors.subjects_open_for(
        volunteer=volunteer, subject_ids=wanted, limit=settings.GLITCHLAB_BATCH_MAX
    )
    if not todo:
        raise ValidationError("none of these glitches is open for your vote")
    with transaction.atomic():
        _lock_batches_of(volunteer)
        # A lasso batch replaces an unsubmitted one: the volunteer chose what to look at.
        Batch.objects.filter(volunteer=volunteer, submitted_at__isnull=True).delete()
        return Batch.objects.create(
            volunteer=volunteer,
            source=Batch.Source.LASSO,
            subject_ids=todo,
        )


@dataclass(frozen=True)
class BatchLabel:
    """What a batch is labelled as: exactly one of the three."""

    class_name: str = ""  # an active class (None_of_the_Above included)
    proposal_id: int | None = None  # a proposed or provisional class
    new_name: str = ""  # propose a new class now ...
    new_description: str = ""  # ... with this description


def batch_submit(
    *,
    volunteer: User,
    batch_id: int,
    selected_ids: Sequence[int],
    label: BatchLabel,
) -> Batch:
    """Give every selected glitch of the batch the volunteer's vote, in one transaction.

    Each vote goes through labeling.classification_create (consensus, weights, discovery
    routing) with a key derived from the batch, so a replayed submit changes nothing; a
    vote for a not-yet-accepted class is a None_of_the_Above vote plus a ProposalVote. A
    gold glitch on the sheet is voted on like a pool one, and scores only if it is the
    gold the queue handed the volunteer (their gold due): a sheet picks no gold to score.
    Locks: the volunteer's user row, the batch, the new class's name (a proposal), then
    every selected glitch at once in id order, then the profile (the first vote): the
    order a vote and an undo keep, glitch before profile (docs/labelling.md, "Lock order").
    """
    with transaction.atomic():
        # In line with a lasso or a tag sheet opened meanwhile, which deletes the open batch:
        # it must see this one submitted, not delete it under the votes.
        _lock_batches_of(volunteer)
        batch = Batch.objects.select_for_update().filter(pk=batch_id, volunteer=volunteer).first()
        if batch is None:
            raise ValidationError("no such batch")
        if batch.submitted_at is not None:
            return batch  # a double-sent submit: the first one stands
        shown = [int(i) for i in batch.subject_ids]
        selected = [i for i in dict.fromkeys(int(i) for i in selected_ids)]
        if not selected:
            raise ValidationError("select at least one glitch", code="none_selected")
        if set(selected) - set(shown):
            raise ValidationError("selected glitches must come from the batch", code="not_in_batch")
        proposal = _proposal_for(volunteer, label)
        class_name = NONE_OF_THE_ABOVE if proposal is not None else label.class_name
        if not class_name:
            raise ValidationError("choose a class", code="no_class")
        _lock_subjects(selected)
        voted = skipped = 0
        for subject_id in selected:
            try:
                result = labeling.classification_create(
                    volunteer=volunteer,
                    subject_id=subject_id,
                    class_name=class_name,
                    idempotency_key=uuid.uuid5(batch.key, str(subject_id)),
                )
                voted += 1
            except labeling.AlreadyVotedError:
                skipped += 1
                continue
            # A late vote (the glitch retired after the sheet was opened) is kept but counts
            # nowhere; a proposal vote on it would make it gold of the class over the crowd.
            if proposal is not None and not result.late:
                ProposalVote.objects.get_or_create(
                    volunteer=volunteer,
                    subject_id=subject_id,
                    defaults={"proposal": proposal, "batch": batch},
                )
        batch.selected_ids = selected
        batch.class_name = proposal.name if proposal is not None else class_name
        batch.proposal = proposal
        batch.n_voted = voted
        batch.n_skipped = skipped
        batch.submitted_at = timezone.now()
        batch.save()
    return batch


def _lock_subjects(subject_ids: Sequence[int]) -> None:
    """Lock the sheet's glitches in one statement, in id order, before its first vote locks
    the volunteer's profile (docs/labelling.md, "Lock order"). Locked one by one, in the
    order the sheet lists them, with the profile held from the first vote on: two
    volunteers' sheets of the same glitches in other orders deadlocked (the review's
    lassos, ascending and descending: 3 pairs of 3, one sheet's 40 votes lost), and so did
    a vote or an undo from the volunteer's other tab on a glitch of the sheet (it holds the
    glitch, then wants the profile). The votes lock each row again, already theirs."""
    rows = Subject.objects.select_for_update().filter(pk__in=subject_ids)
    list(rows.order_by("pk").values_list("pk", flat=True))


def _proposal_for(volunteer: User, label: BatchLabel) -> ClassProposal | None:
    if label.new_name:
        return class_proposal_create(
            volunteer=volunteer, name=label.new_name, description=label.new_description
        )
    if label.proposal_id is not None:
        proposal = ClassProposal.objects.filter(
            pk=label.proposal_id,
            status__in=[ClassProposal.Status.PROPOSED, ClassProposal.Status.PROVISIONAL],
        ).first()
        if proposal is None:
            raise ValidationError("that class is not collecting votes", code="not_collecting")
        return proposal
    return None


# --- the new-class lifecycle -----------------------------------------------------------

CLASS_NAME = re.compile(r"^[A-Z][A-Za-z0-9_]{2,63}$")


def _require(allowed: bool, message: str) -> None:
    if not allowed:
        raise PermissionDenied(message)


def _record(proposal: ClassProposal, actor: User | None, note: str = "") -> None:
    ProposalEvent.objects.create(proposal=proposal, status=proposal.status, actor=actor, note=note)


def _require_length(model: type[models.Model], field: str, text: str) -> None:
    """Free text longer than its model field allows is refused, naming the field: the
    limit lives on the model (PostgreSQL would refuse a long CharField with a 500, SQLite
    and TextField not at all)."""
    column = model._meta.get_field(field)
    limit = column.max_length if isinstance(column, models.Field) else None
    if limit is not None and len(text) > limit:
        raise ValidationError({field: f"at most {limit} characters ({len(text)} given)"})


@transaction.atomic  # the advisory lock lasts until the transaction ends
def class_proposal_create(*, volunteer: User, name: str, description: str) -> ClassProposal:
    """A volunteer proposes a class: Capitalised_Words (no _ at the end, no __), with a
    description, naming no class or proposal, not even spelled another way or by a
    look-alike. One proposal at a time is checked and made (_one_proposal_at_a_time); a
    name stored meanwhile by a write that skips this (the shell) is refused as taken, as
    the check would."""
    _require(selectors.can_batch_label(volunteer), "proposing classes opens at a higher level")
    _one_proposal_at_a_time()
    waiting = ClassProposal.objects.filter(
        proposed_by=volunteer, status=ClassProposal.Status.PROPOSED
    ).count()
    if waiting >= settings.GLITCHLAB_PROPOSALS_WAITING_MAX:
        raise ValidationError(
            {
                "name": f"you have {waiting} proposals waiting for a reviewer: propose again once "
                "a reviewer has looked at them"
            }
        )
    name = name.strip().replace(" ", "_")
    _class_name_shape_check(name)
    description = typed_text(description)  # new lines one character each, as the form's box
    if not description:
        raise ValidationError({"description": "say what the glitches look like"})
    _require_length(ClassProposal, "description", description)
    _class_name_free_check(name)
    try:
        with transaction.atomic():  # a savepoint: the sheet's transaction goes on usable
            proposal = ClassProposal.objects.create(
                name=name, description=description, proposed_by=volunteer
            )
    except IntegrityError:
        _class_name_free_check(name)  # says which name took it
        raise ValidationError({"name": f"{name} already exists"}) from None
    _record(proposal, volunteer)
    return proposal


# Any number, the same for every proposal: the key of their advisory lock.
_PROPOSAL_NAMES_LOCK = 0x6E616D65  # "name"


def _one_proposal_at_a_time() -> None:
    """Until the transaction ends, no other proposal is checked or made: otherwise two
    volunteers proposing at once each checked the names before the other's was committed
    (the review: the same name a 500, the unique name refusing the second insert and that
    sheet's votes rolled back; names spelled alike both made, and the check no longer told
    them apart). PostgreSQL: an advisory lock, taken before the sheet's glitches
    (docs/labelling.md, "Lock order"); SQLite's transactions already run one at a time
    (they begin IMMEDIATE, webapp/settings.py)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_PROPOSAL_NAMES_LOCK])


def class_name_check(name: str, *, other_than: str = "") -> None:
    """Raises ValidationError ({"name": why}) for a new class name that is not
    Capitalised_Words, or names a class or proposal (but `other_than`: a renamed one's own
    name) spelled another way or by a look-alike: what a volunteer's proposal is held to,
    for the admin's forms (a class or a proposal added or renamed there)."""
    _class_name_shape_check(name)
    _class_name_free_check(name, other_than=other_than)


def _class_name_shape_check(name: str) -> None:
    if not CLASS_NAME.match(name):
        raise ValidationError(
            {"name": "3-64 letters, digits or _, starting with a capital (e.g. Reverse_Chirp)"}
        )


def _class_name_free_check(name: str, *, other_than: str = "") -> None:
    names = [*GlitchClass.objects.values_list("name", flat=True)]
    names += ClassProposal.objects.values_list("name", flat=True)
    names = [n for n in names if n != other_than]
    taken = _class_spelled_as(name, names)
    if taken == name:
        raise ValidationError({"name": f"{name} already exists"})
    if taken is not None:
        raise ValidationError(
            {
                "name": f"{name} is {taken} spelled another way (case, _ or a Gravity Spy "
                f"nickname): a folder of it would be read as {taken}"
            }
        )
    alike = _class_looking_like(name, names)
    if alike is not None:
        raise ValidationError(
            {
                "name": f"{name} looks like {alike} (1, I and l, 0 and O, rn and m read "
                f"alike): on the sheets and in the field guide one would be taken for the other"
            }
        )
    # after the names taken: Koi_Fish_ is told it is Koi_Fish, its real fault
    if name.endswith("_") or "__" in name:
        raise ValidationError({"name": "no _ at the end and no __ (e.g. Reverse_Chirp)"})


def _class_spelled_as(name: str, names: list[str]) -> str | None:
    """The class or proposal among `names` that `name` names up to case and separators, or
    by a Gravity Spy nickname (ml.classes.ALIASES): the spellings ml.data's reader folds
    together (spelled_as), so a dataset's folder of the new class would be read as it."""
    # spelled_as is None also when `name` matches two of them (both then taken): the first.
    same = (n for n in names if spelling_key(n) == spelling_key(name))
    return spelled_as(name, names) or next(same, None)


def _class_looking_like(name: str, names: list[str]) -> str | None:
    """The class or proposal among `names` that `name` reads as to the eye: the same
    look-alike skeleton (the one Talk's new usernames are held to, usernames.skeleton), of
    its name or of a Gravity Spy nickname of it (N0TA). An expert proposed B1ip, Koi_F1sh
    and Whist1e: case and separators aside they are new, and the field guide listed Blip
    and B1ip side by side."""
    wanted = skeleton(name)
    nicknames = [(key, ALIASES[key]) for key in ALIASES if ALIASES[key] in names]
    alike = [n for n in names if skeleton(n) == wanted]
    alike += [target for key, target in nicknames if skeleton(key) == wanted]
    return alike[0] if alike else None


class ProposalUnchangedError(ValidationError):
    """The proposal is already where the action leads (a second click, a second tab, or
    another reviewer first): nothing changed."""


def _locked(proposal_id: int, *allowed: str, leads_to: str) -> ClassProposal:
    """The proposal, locked, if the action may move it from its status to `leads_to`.

    FOR NO KEY UPDATE: the actions wait for each other, but not for the key check of a
    proposal vote (a sheet's, checked as it commits, holding the sheet's glitches). With
    FOR UPDATE an acceptance held the proposal and waited for a glitch the sheet held, and
    the sheet's commit waited for the proposal: a deadlock (docs/labelling.md, "Lock
    order"). No action changes the proposal's id; one that names its class (a unique
    column) takes the full lock as it does."""
    proposal = ClassProposal.objects.select_for_update(no_key=True).filter(pk=proposal_id).first()
    if proposal is None:
        raise ValidationError("no such proposal")
    if proposal.status == leads_to:
        raise ProposalUnchangedError(f"{proposal.name} is already {proposal.status}.")
    if proposal.status not in allowed:
        raise ValidationError(f"Not done: {proposal.name} is {proposal.status}.")
    return proposal


def class_proposal_make_provisional(*, actor: User, proposal_id: int) -> ClassProposal:
    """A reviewer opens the class for votes: a provisional GlitchClass, offered in batches."""
    _require(selectors.can_review_proposals(actor), "reviewers only")
    with transaction.atomic():
        proposal = _locked(
            proposal_id, ClassProposal.Status.PROPOSED, leads_to=ClassProposal.Status.PROVISIONAL
        )
        order = GlitchClass.objects.aggregate(top=Max("order"))["top"] or 0
        proposal.glitch_class = GlitchClass.objects.create(
            name=proposal.name,
            description=proposal.description,
            status=GlitchClass.Status.PROVISIONAL,
            order=order + 1,
        )
        proposal.status = ClassProposal.Status.PROVISIONAL
        proposal.save(update_fields=["glitch_class", "status"])
        _record(proposal, actor)
    return proposal


def class_proposal_reject(*, actor: User, proposal_id: int, note: str = "") -> ClassProposal:
    _require(selectors.can_review_proposals(actor), "reviewers only")
    _require_length(ProposalEvent, "note", note)
    with transaction.atomic():
        proposal = _locked(
            proposal_id,
            ClassProposal.Status.PROPOSED,
            ClassProposal.Status.PROVISIONAL,
            leads_to=ClassProposal.Status.REJECTED,
        )
        if proposal.glitch_class is not None:
            glitch_class = proposal.glitch_class
            glitch_class.status = GlitchClass.Status.DEPRECATED
            glitch_class.save(update_fields=["status"])  # save, not update: signals fire
        proposal.status = ClassProposal.Status.REJECTED
        proposal.save(update_fields=["status"])
        _record(proposal, actor, note)
    return proposal


def class_proposal_accept(*, actor: User, proposal_id: int) -> ClassProposal:
    """An admin accepts: the class becomes active in the registry with a free key, and the
    glitches volunteers gave it become its gold subjects (they train the next model, whose
    output layer grows by one because training takes its class list from the labels)."""
    _require(selectors.can_decide_classes(actor), "admins only")
    with transaction.atomic():
        proposal = _locked(
            proposal_id, ClassProposal.Status.PROVISIONAL, leads_to=ClassProposal.Status.ACCEPTED
        )
        assert proposal.glitch_class_id is not None  # a provisional proposal has its class
        glitch_class = GlitchClass.objects.select_for_update().get(pk=proposal.glitch_class_id)
        taken = {key for key in GlitchClass.objects.values_list("key", flat=True) if key}
        glitch_class.key = class_keys.key_for(glitch_class.name, taken)
        glitch_class.status = GlitchClass.Status.ACTIVE
        glitch_class.save(update_fields=["key", "status"])
        n_gold = _seed_gold(proposal, glitch_class)
        proposal.status = ClassProposal.Status.ACCEPTED
        proposal.save(update_fields=["status"])
        _record(proposal, actor, f"{n_gold} gold glitches, key {glitch_class.key or '-'}")
    return proposal


def _seed_gold(proposal: ClassProposal, glitch_class: GlitchClass) -> int:
    """The pool glitches that several volunteers agreed belong to the class become its gold
    subjects, and the most agreed one a field-guide example.

    Agreed: at least GLITCHLAB_NEW_CLASS_GOLD_MIN_VOLUNTEERS distinct volunteers gave the
    glitch this class, and they are more than half of its voters. One volunteer's batch
    alone seeds nothing (gold decides whose votes count, so it must not rest on one person);
    the other glitches stay in the pool, where top-level volunteers can now choose the class.
    Only proposal votes whose vote counted (not after_retirement) are weighed against
    n_votes, which leaves late votes out too; a glitch the crowd retired keeps its label.

    The glitches with a vote for the proposal are locked first, all at once in id order,
    as a cluster sheet locks its glitches (docs/labelling.md, "Lock order"), and counted
    under those locks. Before, the UPDATE below locked them in the order its scan met them:
    it held a later glitch of a sheet submitted meanwhile and waited for an earlier one,
    which the sheet held while it waited for the later one, a deadlock.
    """
    voted = ProposalVote.objects.filter(proposal=proposal).values("subject_id")
    held = Subject.objects.select_for_update().filter(
        pk__in=voted, role=Subject.Role.POOL, retired_label__isnull=True
    )
    list(held.order_by("pk").values_list("pk", flat=True))
    counted = Classification.objects.filter(
        volunteer=models.OuterRef("volunteer"),
        subject=models.OuterRef("subject"),
        after_retirement=False,
    )
    agreed = (
        ProposalVote.objects.filter(
            models.Exists(counted),
            proposal=proposal,
            subject__role=Subject.Role.POOL,
            subject__retired_label__isnull=True,
        )
        .values("subject_id", "subject__n_votes")
        .annotate(n=Count("volunteer", distinct=True))
        .filter(n__gte=labeling_config.new_class_gold_min_volunteers())
        .order_by("-n", "subject_id")
    )
    subject_ids = [row["subject_id"] for row in agreed if 2 * row["n"] > row["subject__n_votes"]]
    n_gold = Subject.objects.filter(
        pk__in=subject_ids, role=Subject.Role.POOL, retired_label__isnull=True
    ).update(
        role=Subject.Role.GOLD,
        gold_label=glitch_class,
        status=Subject.Status.RETIRED,
        retired_label=glitch_class,
        retired_at=timezone.now(),
    )
    if subject_ids:
        # Every view of it, marked simulated when it came from the simulator (the demo's);
        # without an image file to show, the guide keeps the class's description alone.
        first = Subject.objects.select_related("gold_label").get(pk=subject_ids[0])
        with contextlib.suppress(ValidationError):
            labeling.glitch_class_example_from_subject(subject=first)
    return n_gold


def class_proposal_deprecate(*, actor: User, proposal_id: int, remap_to: str) -> ClassProposal:
    """An admin retires an accepted class: every vote, gold label and retired label moves
    to `remap_to` (each recorded: _remap_labels), the class loses its key and is no longer
    offered."""
    _require(selectors.can_decide_classes(actor), "admins only")
    with transaction.atomic():
        proposal = _locked(
            proposal_id, ClassProposal.Status.ACCEPTED, leads_to=ClassProposal.Status.DEPRECATED
        )
        assert proposal.glitch_class_id is not None  # an accepted proposal has its class
        if not remap_to:
            # the page's list starts on no class: the first one's labels were moved before
            # the admin chose (B1ip -> 1080Lines, one click, no undo)
            raise ValidationError(
                {"remap_to": f"Not done: choose the class {proposal.name}'s labels move to."}
            )
        # FOR NO KEY UPDATE: a vote for the class checks, as it commits, that the class
        # exists (FOR KEY SHARE); FOR UPDATE held it back while the vote held its glitch,
        # which _remap_labels waits for: a deadlock. The key's change below takes the full
        # lock last, when every glitch is held: only a vote that is committing holds the
        # class then, and it waits for nothing of ours.
        old = GlitchClass.objects.select_for_update(no_key=True).get(pk=proposal.glitch_class_id)
        target = GlitchClass.objects.filter(name=remap_to, status=GlitchClass.Status.ACTIVE).first()
        if target is None or target.pk == old.pk:
            raise ValidationError({"remap_to": f"{remap_to!r} is not another active class"})
        n = _remap_labels(old, target, actor=actor)
        old.status = GlitchClass.Status.DEPRECATED
        old.key = None
        old.save(update_fields=["status", "key"])
        proposal.status = ClassProposal.Status.DEPRECATED
        proposal.remapped_to = target
        proposal.save(update_fields=["status", "remapped_to"])
        _record(proposal, actor, f"{n} labels -> {target.name}")
    return proposal


def _remap_labels(old: GlitchClass, new: GlitchClass, *, actor: User) -> int:
    """Every vote, gold label and retired label of `old` moves to `new`, leaving a trace: a
    vote keeps the class its volunteer chose (remapped_from, the first one if moved twice),
    and each label moved is a LabelChange (cause remap), so the export says the label is an
    admin's remap, not an expert's gold or the crowd's answer.

    The glitches that hold a label of `old` are locked first, all at once in id order
    (docs/labelling.md, "Lock order"), and only their labels move: each change then has its
    glitch's lock, as a vote's and an undo's have. Before, the labels were updated first
    (their glitches locked as the scans returned them), then the glitches locked: a cluster
    sheet, which locks its glitches in id order, held one the deprecation wanted and wanted
    one it held. A vote for `old` that commits after the lock, on another glitch, keeps its
    class, as one that waited for the class row's lock did before."""
    reason = f"{old.name} deprecated: its labels moved to {new.name}"
    n = 0
    for chunk in labeling_selectors.in_lists(_lock_subjects_labelled(old)):
        n += _remap_labels_of(chunk, old, new, actor=actor, reason=reason)
    return n


def _lock_subjects_labelled(old: GlitchClass) -> list[int]:
    """The ids of the glitches with a vote for `old` or `old` as their gold or retired
    label, locked in one statement in id order."""
    voted = Classification.objects.filter(glitch_class=old).values("subject_id")
    labelled = models.Q(pk__in=voted) | models.Q(gold_label=old) | models.Q(retired_label=old)
    rows = Subject.objects.select_for_update().filter(labelled).order_by("pk")
    return list(rows.values_list("pk", flat=True))


def _remap_labels_of(
    subject_ids: Sequence[int], old: GlitchClass, new: GlitchClass, *, actor: User, reason: str
) -> int:
    """_remap_labels for these glitches (locked; one IN list)."""
    votes = Classification.objects.filter(glitch_class=old, subject_id__in=subject_ids)
    votes.filter(remapped_from__isnull=True).update(remapped_from=old)
    n = votes.update(glitch_class=new)
    for vote in Classification.objects.filter(subject_id__in=subject_ids):
        if old.name in vote.weight:  # W_i columns name classes: fold the old into the new
            weight = dict(vote.weight)
            weight[new.name] = weight.get(new.name, 0.0) + weight.pop(old.name)
            Classification.objects.filter(pk=vote.pk).update(weight=weight)
    changes = []
    for field in (LabelChange.Field.GOLD_LABEL, LabelChange.Field.RETIRED_LABEL):
        moved = Subject.objects.filter(pk__in=subject_ids, **{field: old})
        ids = list(moved.values_list("pk", flat=True))
        changes += [
            LabelChange(
                subject_id=pk,
                field=field,
                cause=LabelChange.Cause.REMAP,
                before=old.name,
                after=new.name,
                changed_by=actor,
                reason=reason,
            )
            for pk in ids
        ]
        n += moved.update(**{field: new})
    LabelChange.objects.bulk_create(changes, batch_size=1000)
    for subject in Subject.objects.filter(pk__in=subject_ids).order_by("pk"):
        labeling.subject_consensus_recompute(subject=subject)
    return n
