"""Writes of the modelling app: training runs, the model registry, predictions, re-routing.

Every state change of a run or a version is a compare-and-set update (`filter(id=...,
status=...).update(...)`, then check the count) so that a re-delivered Celery message, a
second worker or a double click does nothing twice. Jobs are enqueued only once the
transaction that made them necessary has committed (tasks.publish.enqueue_on_commit); a
broker that refuses the job fails its row at once, with the reason. The claim, heartbeat
and reaping of runs are the shared ones of webapp.jobs.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import timedelta
from typing import Any

import numpy as np
from django.conf import settings
from django.contrib.auth.models import User
from django.db import IntegrityError, OperationalError, connection, transaction
from django.db.models import Exists, OuterRef, Q
from django.db.models.functions import Now
from django.utils import timezone

from ml import active, train_config
from webapp import jobs
from webapp.labeling import config as labeling_config
from webapp.labeling.models import Subject
from webapp.labeling.selectors import in_lists
from webapp.modeling import gate, selectors
from webapp.modeling.models import (
    ClaimHolder,
    ModelVersion,
    Prediction,
    TrainingRun,
    WorkerBeat,
)

logger = logging.getLogger(__name__)

LOG_LIMIT = 200_000  # characters of a run's log kept in the database


class RunAlreadyLiveError(Exception):
    """A training run is already queued or running; only one may be at a time."""

    def __init__(self, run: TrainingRun | None) -> None:
        self.run = run
        where = f"run {run.pk} is {run.status}" if run else "another run is queued or running"
        super().__init__(f"Not started: {where}. Wait for it to finish or cancel it first.")


# Cancelling a job that already ended (webapp.jobs.job_cancel raises it).
NothingToDoError = jobs.JobNotLiveError


class RunAlreadyRetriedError(NothingToDoError):
    """Retry of a run that is queued or running (a second click): nothing changed."""


def json_safe(obj: Any) -> Any:
    """NaN and infinities -> None, so a metrics dict is strict JSON (a JSONField refuses NaN)."""
    if isinstance(obj, float):
        return obj if np.isfinite(obj) else None
    if isinstance(obj, dict):
        return {str(k): json_safe(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [json_safe(v) for v in obj]
    return obj


# --- training runs ---------------------------------------------------------------------


# The ml.train.TrainConfig field each setting chooses.
_TRAIN_SETTINGS = {
    "backbone": "GLITCHLAB_TRAIN_BACKBONE",
    "encoding": "GLITCHLAB_TRAIN_ENCODING",
    "image_size": "GLITCHLAB_TRAIN_IMAGE_SIZE",
    "epochs": "GLITCHLAB_TRAIN_EPOCHS",
    "batch_size": "GLITCHLAB_TRAIN_BATCH_SIZE",
    "head_only": "GLITCHLAB_TRAIN_HEAD_ONLY",
    "pretrained": "GLITCHLAB_TRAIN_PRETRAINED",
    "device": "GLITCHLAB_TRAIN_DEVICE",
    "seed": "GLITCHLAB_TRAIN_SEED",
    "self_train": "GLITCHLAB_SELF_TRAIN_MIN_CONFIDENCE",
    "sim_only_weight": "GLITCHLAB_TRAIN_SIM_ONLY_WEIGHT",
}


def train_config_default() -> dict[str, Any]:
    """The ml.train.TrainConfig fields a deployment's settings choose for its retrains. A
    setting left unset (None) is left out: a retrain's TrainConfig then holds the recipe's
    default, the one `python -m ml train` trains with (the settings repeated them, and a
    default changed in ml/train_config.py did not reach the product)."""
    chosen = {field: getattr(settings, name) for field, name in _TRAIN_SETTINGS.items()}
    return {field: value for field, value in chosen.items() if value is not None}


def training_run_request(
    *,
    trigger: str,
    requested_by: User | None = None,
    config_overrides: Mapping[str, Any] | None = None,
) -> TrainingRun:
    """Queue a retrain. Raises RunAlreadyLiveError while another run is queued or running.

    The check is the database's unique constraint, not a read-then-write, so two requests
    racing each other cannot both create a run. If the broker refuses the job, the run
    comes back failed (outside a transaction: at once) and the next request may start.
    """
    # Stored resolved, every field: about.json reads what the model trained with, and an
    # attempt that resumes the run after a deploy changed the defaults keeps its recipe.
    # sim_only_weight may stay None, left to the training glitches (the model's config
    # holds what was chosen).
    config = asdict(
        train_config.TrainConfig(**{**train_config_default(), **dict(config_overrides or {})})
    )
    try:
        with transaction.atomic():
            run = TrainingRun.objects.create(
                trigger=trigger,
                requested_by=requested_by if requested_by and requested_by.pk else None,
                config=config,
            )
            run.folder = f"run-{run.pk}-{run.created_at:%Y%m%dT%H%M%S}"
            run.save(update_fields=["folder"])
    except IntegrityError:
        raise RunAlreadyLiveError(selectors.training_run_live()) from None
    _send_training(run.pk)
    return TrainingRun.objects.get(pk=run.pk)


def _send_training(run_id: int) -> None:
    """Queue the run's training task once the transaction commits; a broker that refuses
    it fails the run (outside a transaction: at once), which frees the one-live-run slot."""
    from tasks.publish import enqueue_on_commit
    from tasks.training import train_model

    enqueue_on_commit(
        train_model,
        run_id,
        on_refused=lambda reason: training_run_fail(run_id=run_id, error=reason),
    )


def training_run_claim(*, run_id: int, task_id: str, worker: str) -> TrainingRun | None:
    """queued -> running for the worker that got the message; also a running run whose
    heartbeat went stale (its worker died and Redis handed the message back: the task then
    resumes from the run's last.pt). None if it is not ours (cancelled, finished, or taken
    by another delivery of the same message)."""
    return jobs.job_claim(
        TrainingRun,
        pk=run_id,
        claimable=(TrainingRun.Status.QUEUED,),
        worker=worker,
        stale_after_s=settings.GLITCHLAB_HEARTBEAT_TIMEOUT_S,
        celery_task_id=task_id,
        progress={"phase": "starting", "fraction": 0.0},
    )


def _held_by(task_id: str | None) -> Q | None:
    """A run's task acts on it only while it holds it: a run the reaper failed and an admin
    retried is the new task's, though the old one may still be alive (a silent worker)."""
    return None if task_id is None else Q(celery_task_id=task_id)


def training_run_heartbeat(
    *, run_id: int, task_id: str | None = None, progress: Mapping[str, Any] | None = None
) -> bool:
    """Record that the run is alive (and its progress); returns whether the task should stop:
    a cancel was asked, or (with task_id) the run is no longer this task's."""
    fields: dict[str, Any] = {} if progress is None else {"progress": dict(progress)}
    return jobs.job_heartbeat(TrainingRun, pk=run_id, only_if=_held_by(task_id), **fields)


def training_run_set_device(*, run_id: int, device: str, n_train: int, n_val: int) -> None:
    TrainingRun.objects.filter(pk=run_id).update(device=device, n_train=n_train, n_val=n_val)


def training_run_log(*, run_id: int, line: str) -> None:
    """Append one timestamped line to the run's log (trimmed to its last LOG_LIMIT chars)."""
    with transaction.atomic():
        run = TrainingRun.objects.select_for_update().only("log").get(pk=run_id)
        stamp = timezone.now().strftime("%H:%M:%S")
        run.log = (run.log + f"{stamp} {line.rstrip()}\n")[-LOG_LIMIT:]
        run.save(update_fields=["log"])


def training_run_fail(*, run_id: int, error: str, task_id: str | None = None) -> bool:
    """A queued or running run -> failed; False if it had already ended. With task_id (the
    task's own failure), only while that task holds the run: not once it was retried."""
    return jobs.job_fail(TrainingRun, pk=run_id, error=error, only_if=_held_by(task_id))


def training_run_mark_cancelled(*, run_id: int, task_id: str | None = None) -> bool:
    return jobs.job_mark_cancelled(TrainingRun, pk=run_id, only_if=_held_by(task_id))


def training_run_cancel(*, run_id: int) -> TrainingRun:
    """Cancel a queued run at once, or ask a running one to stop at its next step."""
    jobs.job_cancel(TrainingRun, pk=run_id, waiting=TrainingRun.Status.QUEUED)
    return TrainingRun.objects.get(pk=run_id)


def training_run_retry(*, run_id: int, requested_by: User | None = None) -> TrainingRun:
    """A failed run queued again, as itself: the same config and folder, so the training
    continues after its last finished epoch (its last.pt; ml.train resumes from it) instead
    of starting over. This is how a run whose worker died (the reaper or the restarted
    worker failed it) keeps what it had trained. Raises NothingToDoError unless the run
    failed, RunAlreadyLiveError while another run is queued or running (the same unique
    constraint as a new request), the model's DoesNotExist for an unknown id."""
    who = requested_by.get_username() if requested_by and requested_by.pk else "an admin"
    try:
        with transaction.atomic():
            run = TrainingRun.objects.select_for_update().get(pk=run_id)
            if run.status in TrainingRun.LIVE_STATUSES:
                raise RunAlreadyRetriedError(
                    f"Training run {run_id} is already {run.status}: nothing to retry."
                )
            if run.status != TrainingRun.Status.FAILED:
                raise NothingToDoError(
                    f"Training run {run_id} {run.status}: only a failed run can be retried."
                )
            jobs.job_requeue(
                TrainingRun,
                pk=run_id,
                ended=(TrainingRun.Status.FAILED,),
                waiting=TrainingRun.Status.QUEUED,
                celery_task_id="",  # the old task, if it still ran, may no longer fail it
                progress={},
            )
    except IntegrityError:
        raise RunAlreadyLiveError(selectors.training_run_live()) from None
    training_run_log(
        run_id=run_id,
        line=f"retried by {who} after: {run.error or 'no error recorded'}; it continues "
        "after its last finished epoch",
    )
    _send_training(run_id)
    return TrainingRun.objects.get(pk=run_id)


def training_runs_fail_lost(
    *,
    worker: str | None = None,
    silent_for_s: float | None = None,
    waiting_for_s: float | None = None,
) -> int:
    """Mark failed the running runs whose worker is gone (webapp.jobs.jobs_fail_lost). The
    active model is never touched: a run only creates a candidate version when it succeeds."""
    return jobs.jobs_fail_lost(
        TrainingRun, worker=worker, silent_for_s=silent_for_s, waiting_for_s=waiting_for_s
    )


@dataclass(frozen=True)
class TrainOutcome:
    """What the training task hands back to be recorded (plain values, no ml objects)."""

    model_dir: str
    checkpoint_path: str
    class_names: list[str]
    metrics: dict[str, Any]
    train_subject_ids: list[int]
    val_subject_ids: list[int]
    code_version: str
    library_versions: dict[str, str]
    seconds: float
    images_per_second: float
    baseline_top1: float | None  # the active model's top-1 on the same validation set
    baseline_version_id: int | None
    # Per validation subject (val_subject_ids order): is the new model right, is the active
    # one right (None: it could not be scored). The gate compares them pair by pair.
    candidate_correct: list[bool]
    baseline_correct: list[bool] | None


def training_run_succeed(
    *, run_id: int, outcome: TrainOutcome, task_id: str | None = None
) -> ModelVersion | None:
    """Record a finished run: a new candidate ModelVersion, gated against the active one
    (webapp.modeling.gate); if it passes (and GLITCHLAB_AUTO_PROMOTE), its activation is
    requested, unless another version's is pending (an admin's promote or roll back, which
    it would silently replace: the run's log says so instead). A failed or undecided gate
    leaves the choice to an admin. None if the run was no longer running (or, with task_id,
    no longer this task's), or an admin asked it to stop (its model is then not registered:
    the caller marks it cancelled)."""
    held = _held_by(task_id)
    digest = checkpoint_sha256(outcome.checkpoint_path)  # not in the transaction: a file read
    with transaction.atomic():
        if not jobs.job_finish(
            TrainingRun,
            pk=run_id,
            status=TrainingRun.Status.SUCCEEDED,
            only_if=Q(cancel_requested=False) & held if held else Q(cancel_requested=False),
            baseline_top1=outcome.baseline_top1,
            baseline_version_id=outcome.baseline_version_id,
            progress={"phase": "done", "fraction": 1.0},
        ):
            return None
        val_top1 = outcome.metrics.get("top1") if outcome.val_subject_ids else None
        version = ModelVersion.objects.create(
            name=f"run-{run_id}",
            training_run_id=run_id,
            model_dir=outcome.model_dir,
            checkpoint_path=outcome.checkpoint_path,
            checkpoint_sha256=digest,
            class_names=outcome.class_names,
            metrics=json_safe(outcome.metrics),
            val_top1=val_top1,
            train_subject_ids=outcome.train_subject_ids,
            val_subject_ids=outcome.val_subject_ids,
            code_version=outcome.code_version,
            library_versions=outcome.library_versions,
        )
        verdict = gate.gate_decide(
            has_active=outcome.baseline_version_id is not None,
            candidate_correct=outcome.candidate_correct if outcome.val_subject_ids else None,
            baseline_correct=outcome.baseline_correct,
            alpha=settings.GLITCHLAB_GATE_ALPHA,
        )
        version.gate = verdict.gate
        version.gate_reason = verdict.reason[:300]
        version.gate_comparison = (
            json_safe(asdict(verdict.comparison)) if verdict.comparison else {}
        )
        version.save(update_fields=["gate", "gate_reason", "gate_comparison"])
        if version.gate == ModelVersion.Gate.PASSED and settings.GLITCHLAB_AUTO_PROMOTE:
            version = model_version_request_activation(
                version_id=version.pk, unless_another_is_pending=True
            )
            pending = None
            if not version.activation_pending:  # left alone: which switch it waits behind
                pending = ModelVersion.objects.filter(activation_pending=True).first()
            if pending is not None:
                training_run_log(
                    run_id=run_id,
                    line=f"gate passed, but {version.name} is not promoted automatically: "
                    f"the switch to {pending.name} asked for before is still pending and is "
                    f"not overridden; promote {version.name} from the dashboard if it should "
                    f"replace {pending.name}",
                )
    return version


def checkpoint_sha256(path: str) -> str:
    """The file's sha256 in hex, read once as its version is registered (a model's file is
    tens of MB: never per request); "" when it cannot be read (gone, or never written)."""
    try:
        with open(path, "rb") as fh:
            return hashlib.file_digest(fh, "sha256").hexdigest()
    except OSError:
        return ""


def worker_beat(*, hostname: str, queues: Sequence[str], takes_gpu_jobs: bool) -> None:
    """A worker says it is alive (tasks.celery starts this beat when a worker is ready), at
    the database's time: the dashboard judges it by that clock, not by the worker host's."""
    WorkerBeat.objects.update_or_create(
        hostname=hostname,
        defaults={"queues": sorted(queues), "takes_gpu_jobs": takes_gpu_jobs, "seen_at": Now()},
    )


# --- who works on a claim that has no job row (ClaimHolder) ----------------------------


def claim_hold(*, kind: str, object_id: int, worker: str) -> int | None:
    """The task starts work on the claim (a version's scoring or switch, a map): a
    ClaimHolder names its worker and beats from now on. None while another delivery holds
    it and still beats (a redelivered message, a second worker): that one does the work. A
    holder silent for GLITCHLAB_HEARTBEAT_TIMEOUT_S (its worker died) is taken over, as a
    job row is (webapp.jobs.job_claim). Returns the holder's id, for claim_beat and
    claim_drop."""
    stale, _ = jobs.worker_gone(silent_for_s=settings.GLITCHLAB_HEARTBEAT_TIMEOUT_S)
    with transaction.atomic():
        ClaimHolder.objects.filter(stale, kind=kind, object_id=object_id).delete()
        try:
            with transaction.atomic():  # of two deliveries racing, the unique constraint picks one
                return ClaimHolder.objects.create(kind=kind, object_id=object_id, worker=worker).pk
        except IntegrityError:
            return None


def claim_beat(*, holder_id: int) -> None:
    """The task working on the claim is alive (tasks.common.Heartbeat calls it)."""
    ClaimHolder.objects.filter(pk=holder_id).update(heartbeat_at=Now())


def claim_drop(*, holder_id: int | None = None, kind: str = "", object_id: int = 0) -> None:
    """The task ended (its holder, by id), or was reported lost (the claim's holder, by kind
    and object: the worker's main process, whose child held it, cannot know its id)."""
    rows = ClaimHolder.objects.all()
    if holder_id is not None:
        rows = rows.filter(pk=holder_id)
    else:
        rows = rows.filter(kind=kind, object_id=object_id)
    rows.delete()


# How long ending a lost claim waits for its row: a switch whose worker was killed while it
# waited for a lock keeps its transaction, and the version's row, until PostgreSQL notices
# (its wait ends, and then the answer finds no client). Shorter than PostgreSQL's
# deadlock_timeout (1 s): a switch alive but silent gives way to none.
RELEASE_LOCK_WAIT = "500ms"


def claims_fail_lost(
    *,
    kind: str,
    release: Callable[[int, str], object],
    worker: str | None = None,
    silent_for_s: float | None = None,
) -> int:
    """End the claims of `kind` whose task's worker is gone, by the job rows' rule
    (webapp.jobs.worker_gone: this worker restarted, or silent for `silent_for_s`):
    `release(object id, reason)` says why on the claim's row (the same function as the
    task's lost-child handler). One DELETE whose WHERE holds the rule decides: a holder
    that beat meanwhile stays, and the claim with it.

    A claim whose row stays locked for RELEASE_LOCK_WAIT is left, holder and all, and
    logged: the reaper ends it once the lock is gone (the holder beats no more). Before, a
    worker restarted after being killed mid-switch waited in its start-up for the dead
    switch's lock, taking no job, and the claim was not ended meanwhile."""
    gone, reason = jobs.worker_gone(worker=worker, silent_for_s=silent_for_s)
    released = 0
    held = ClaimHolder.objects.filter(gone, kind=kind).values_list("pk", "object_id")
    for holder_id, object_id in list(held):
        try:
            with transaction.atomic():
                _wait_for_locks_at_most(RELEASE_LOCK_WAIT)
                if not ClaimHolder.objects.filter(gone, pk=holder_id).delete()[0]:
                    continue
                release(object_id, reason)
        except OperationalError as exc:
            if getattr(exc.__cause__, "sqlstate", None) != LOCK_NOT_AVAILABLE:
                raise
            logger.warning(
                "the %s claim of %s is not ended yet (%s): its row is locked, by the "
                "transaction of a job whose worker died; the reaper ends it once the lock "
                "is gone", kind, object_id, reason,
            )  # fmt: skip
            continue
        released += 1
    return released


LOCK_NOT_AVAILABLE = "55P03"  # PostgreSQL's error when lock_timeout runs out


def _wait_for_locks_at_most(timeout: str) -> None:
    """Until this transaction ends, a lock not granted within `timeout` is an error
    (PostgreSQL; SQLite locks the whole file and waits its own busy timeout)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"SET LOCAL lock_timeout = '{timeout}'")


def model_version_claims_fail_lost(
    *, worker: str | None = None, silent_for_s: float | None = None
) -> dict[str, int]:
    """Scorings and switches whose worker is gone (claims_fail_lost): a pending activation
    ends, "not switched: <why>"; the beat's scoring is freed for the next beat, and the
    dashboard says why; an owed re-route says why and is queued again by the beat."""
    return {
        "scorings_failed": claims_fail_lost(
            kind=ClaimHolder.Kind.SCORING,
            release=lambda pk, why: model_version_scoring_lost(version_id=pk, error=why),
            worker=worker,
            silent_for_s=silent_for_s,
        ),
        "switches_failed": claims_fail_lost(
            kind=ClaimHolder.Kind.SWITCH,
            release=lambda pk, why: model_version_switch_lost(version_id=pk, reason=why),
            worker=worker,
            silent_for_s=silent_for_s,
        ),
    }


# --- activation: promote, roll back ----------------------------------------------------


# A second request for the same pending activation this soon is the first one sent twice.
ACTIVATION_REPEAT = timedelta(minutes=1)


def activation_just_requested(version: ModelVersion) -> bool:
    """The version's activation is pending and was asked for within ACTIVATION_REPEAT."""
    requested = version.activation_requested_at
    return bool(
        version.activation_pending
        and requested is not None
        and requested > timezone.now() - ACTIVATION_REPEAT
    )


# Any number, the same for every activation request: the key of their advisory lock.
_ACTIVATION_REQUESTS_LOCK = 0x61637469  # "acti"


def _one_activation_request_at_a_time() -> None:
    """Until the transaction ends, no other activation request runs: otherwise one request
    reads "nothing pending" while another's pending row is not yet committed, then clears
    that row once it commits. PostgreSQL: an advisory lock; SQLite's transactions already
    run one at a time (they begin IMMEDIATE, webapp/settings.py)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_ACTIVATION_REQUESTS_LOCK])


def model_version_request_activation(
    *, version_id: int, unless_another_is_pending: bool = False
) -> ModelVersion:
    """Make this version the next active one (promote or roll back: the same switch).

    The old model keeps serving: this only marks the version pending and queues the
    scoring of the backlog with it on the GPU queue; the switch itself happens in
    model_version_activate once every open subject has its prediction. A newer request
    replaces an older pending one, which says so (its activation_error); a request for the
    active version only drops a pending one (it stays active, nothing is scored). The same
    request again within ACTIVATION_REPEAT (a double click) queues nothing more; later, it
    queues the scoring again (a retry, when the first job's worker died: such a request
    also expires on its own, model_version_activations_expire).

    unless_another_is_pending (the automatic promotion of a retrain): leave a pending
    request for another version alone and change nothing. Requests are taken one at a
    time, so one made meanwhile (an admin's roll back) is seen, not superseded.
    """
    with transaction.atomic():
        _one_activation_request_at_a_time()
        version = ModelVersion.objects.select_for_update(no_key=True).get(pk=version_id)
        if activation_just_requested(version):
            return version
        others = ModelVersion.objects.filter(activation_pending=True).exclude(pk=version_id)
        if unless_another_is_pending and others.exists():
            return version
        others.update(
            activation_pending=False,
            activation_error=f"superseded by the request for {version.name}"[:2000],
        )
        if version.is_active:  # (the page refuses it; a request racing the switch is late)
            if version.activation_pending:  # left so by such a request before 2026-12-06
                version.activation_pending = False
                version.save(update_fields=["activation_pending"])
            return version  # nothing to switch to: it stays, and a pending request is dropped
        version.activation_pending = True
        version.activation_requested_at = timezone.now()
        version.activation_error = ""
        version.save(
            update_fields=["activation_pending", "activation_requested_at", "activation_error"]
        )
    from tasks.predictions import score_subjects
    from tasks.publish import enqueue_on_commit

    enqueue_on_commit(
        score_subjects,
        version.pk,
        on_refused=lambda reason: model_version_activation_failed(
            version_id=version.pk, error=reason
        ),
    )
    version.refresh_from_db()
    return version


def model_version_rollback_target() -> ModelVersion | None:
    """The version that was active before the current one (the last one activated)."""
    return (
        ModelVersion.objects.filter(is_active=False, activated_at__isnull=False)
        .order_by("-activated_at")
        .first()
    )


def model_version_activation_failed(*, version_id: int, error: str) -> None:
    ModelVersion.objects.filter(pk=version_id, activation_pending=True).update(
        activation_pending=False, activation_error=error[:2000]
    )


def model_version_switch_failed(*, version_id: int, reason: str) -> None:
    """activate_and_reroute failed (its error, its worker lost, the broker refused it): a
    pending request ends, saying so; the active version's re-route of newly scored subjects
    stays owed and says why on the dashboard, and the beat queues it again once
    REROUTE_RETRY_AFTER_S have passed (model_version_reroute_queue; reroute_queued_at then
    holds when it failed). Only a re-route owed and not yet said failed is failed: a second
    report of the same failure (the task's except block, then task_failure) or a report
    after it succeeded changes nothing."""
    model_version_activation_failed(version_id=version_id, error=f"not switched: {reason}")
    ModelVersion.objects.filter(
        pk=version_id, is_active=True, reroute_queued_at__isnull=False, reroute_error=""
    ).update(reroute_queued_at=Now(), reroute_error=f"not re-routed: {reason}"[:2000])


def model_version_switch_lost(*, version_id: int, reason: str) -> None:
    """The switch's worker was lost (its child killed: the worker's main process reports it;
    the whole worker: its restart or the reaper, claims_fail_lost): as a failed switch
    (model_version_switch_failed), and its holder goes, so the reaper does not end it again
    (a request made since, by then)."""
    model_version_switch_failed(version_id=version_id, reason=reason)
    claim_drop(kind=ClaimHolder.Kind.SWITCH, object_id=version_id)


# A failed re-route is queued again after this long, not at every beat (every 10 minutes):
# one that fails each time (the OOM killer, a lock timeout) recomputes every open subject's
# consensus under row locks and may take its worker with it.
REROUTE_RETRY_AFTER_S = 3600


def model_version_reroute_queue(*, version_id: int, stale_after_s: float) -> bool:
    """Claim the active version's owed re-route for the beat (compare and set): True if the
    caller is to queue it again, because the last one failed (model_version_switch_failed)
    more than REROUTE_RETRY_AFTER_S ago, or was queued more than `stale_after_s` ago (its
    message or its worker lost without a word). False while none is owed, one waits or
    runs, or the last failed too recently. The claim clears the error: if this one fails
    too, it is written again."""
    failed = ~Q(reroute_error="") & Q(
        reroute_queued_at__lt=Now() - timedelta(seconds=REROUTE_RETRY_AFTER_S)
    )
    lost = Q(reroute_error="", reroute_queued_at__lt=Now() - timedelta(seconds=stale_after_s))
    owed = ModelVersion.objects.filter(failed | lost, pk=version_id, is_active=True)
    return owed.update(reroute_queued_at=Now(), reroute_error="") == 1


def model_version_scoring_failed(*, version_id: int, error: str) -> None:
    """Scoring failed: a pending activation ends with the error; for the active version
    (new subjects, on the beat) the error is kept to be shown until scoring works again."""
    model_version_activation_failed(version_id=version_id, error=error)
    ModelVersion.objects.filter(pk=version_id, is_active=True).update(scoring_error=error[:2000])


def model_version_scoring_lost(*, version_id: int, error: str) -> None:
    """A scoring's worker was lost (its child killed: the worker's main process reports it;
    the whole worker: its restart or the reaper, claims_fail_lost): a pending request ends,
    "not switched: <error>"; for the active model (the beat's scoring of new subjects) the
    dashboard says why, and the beat's claim is freed: the next beat queues it again (before,
    it waited 9 h to take it as lost). Its holder goes, so the reaper does not end it again."""
    model_version_activation_failed(version_id=version_id, error=f"not switched: {error}")
    model_version_scoring_failed(version_id=version_id, error=f"scoring failed: {error}")
    model_version_scoring_ended(version_id=version_id)
    claim_drop(kind=ClaimHolder.Kind.SCORING, object_id=version_id)


def model_version_scoring_queue(*, version_id: int, stale_after_s: float) -> bool:
    """Claim the beat's one scoring job of this version (compare and set): True if the
    caller is to queue it; False while one queued less than `stale_after_s` ago waits or
    runs (one older than that is taken as lost: its message or its worker). The database's
    clock, as every job time (webapp.jobs)."""
    free = Q(scoring_queued_at__isnull=True) | Q(
        scoring_queued_at__lt=Now() - timedelta(seconds=stale_after_s)
    )
    return ModelVersion.objects.filter(free, pk=version_id).update(scoring_queued_at=Now()) == 1


def model_version_scoring_ended(*, version_id: int) -> None:
    """The scoring job ended (or was never queued): the next beat may queue another."""
    ModelVersion.objects.filter(pk=version_id).update(scoring_queued_at=None)


def model_version_activations_expire(*, older_than_s: float) -> int:
    """Drop activation requests whose scoring job never finished (its worker died)."""
    cutoff = timezone.now() - timedelta(seconds=older_than_s)
    return ModelVersion.objects.filter(
        activation_pending=True, activation_requested_at__lt=cutoff
    ).update(
        activation_pending=False,
        activation_error=f"its scoring did not finish within {older_than_s / 3600:.1f} h (its "
        "worker may have been lost, or the GPU queue was busy for that long); nothing was "
        "switched: promote it again",
    )


def model_version_mark_scored(*, version_id: int, scored: int, unscorable_ids: list[int]) -> None:
    """Every open subject that can be scored has this version's prediction (`scored` of them
    new; those of `unscorable_ids` do not decode): finish a pending activation, or re-route
    if the version is already active and new subjects were scored. An active version with
    nothing new (its only unscored subjects' images do not decode: the task logged them) has
    nothing to re-route: the chain would recompute every open subject's consensus, under
    row locks, at each beat for nothing."""
    version = ModelVersion.objects.get(pk=version_id)
    owed = version.is_active and scored > 0
    ModelVersion.objects.filter(pk=version_id).update(
        scored_at=timezone.now(),
        n_scored=version.predictions.count(),
        scoring_error="",
        unscorable_subject_ids=sorted(unscorable_ids),
        # marked before it is queued: if it fails, the beat knows it is still owed
        **({"reroute_queued_at": Now()} if owed else {}),
    )
    from tasks.predictions import activate_and_reroute
    from tasks.publish import enqueue_on_commit

    if version.activation_pending or owed:
        enqueue_on_commit(
            activate_and_reroute,
            version_id,
            on_refused=lambda reason: model_version_switch_failed(
                version_id=version_id, reason=reason
            ),
        )


def model_version_activate(*, version_id: int, holder_id: int | None = None) -> ModelVersion | None:
    """The atomic switch: in ONE transaction the version becomes the active one, every open
    subject's consensus is recomputed with it as the model vote, and every open subject is
    re-routed (level and priority) by it. Volunteers see either the old model's routing or
    the new one's, never a mix; nothing stays routed by an old model.

    None if the version is neither pending nor active (a newer request superseded it).
    A re-route owed by the beat's scoring (reroute_queued_at) is done: it and its last
    error are cleared, as those of the version it replaces (the new one routes now).
    The task's ClaimHolder (holder_id) goes in the same transaction: a re-route owed once
    this one commits (the beat's scoring waited for the version's row) finds it free.
    """
    with transaction.atomic():
        version = _activate(version_id)
        if holder_id is not None:
            claim_drop(holder_id=holder_id)
    return version


def _activate(version_id: int) -> ModelVersion | None:
    """The switch itself, inside model_version_activate's transaction.

    Its rows (the version's, the open glitches') are held FOR NO KEY UPDATE: other writers
    of them wait, as before, but rows that only name them do not. A prediction checks, as
    it commits, that its version and glitch exist (FOR KEY SHARE), and FOR UPDATE held the
    beat's scoring of new glitches back for the whole switch (docs/labelling.md, "Lock
    order"). The switch changes no key: `is_active`'s unique index is partial, which
    PostgreSQL does not count as one."""
    version = ModelVersion.objects.select_for_update(no_key=True).get(pk=version_id)
    if not (version.activation_pending or version.is_active):
        return None
    if not version.is_active:
        ModelVersion.objects.filter(is_active=True).update(
            is_active=False, reroute_queued_at=None, reroute_error=""
        )
        version.is_active = True
        version.activation_pending = False
        version.activated_at = timezone.now()
        version.save(update_fields=["is_active", "activation_pending", "activated_at"])
    held = _recompute_open_consensus()
    version.n_rerouted = queue_reroute(version=version, subject_ids=held)
    version.reroute_queued_at = None
    version.reroute_error = ""
    version.save(update_fields=["n_rerouted", "reroute_queued_at", "reroute_error"])
    return version


def _recompute_open_consensus() -> list[int]:
    """The model is one vote in every open subject's posterior: recompute them all. Returns
    their ids, in id order: the glitches the switch holds, and the only ones it re-routes.

    Locked in id order, as a cluster sheet locks its glitches (docs/labelling.md, "Lock
    order"). In the order the scan returned them (the queue's index: priority order) the
    switch held a later glitch of a sheet submitted meanwhile and waited for an earlier
    one the sheet held, while the sheet waited for the later one: a deadlock."""
    from webapp.labeling.services import subject_consensus_recompute

    open_subjects = (
        Subject.objects.select_for_update(no_key=True)  # _activate says why
        .filter(status=Subject.Status.ACTIVE, role=Subject.Role.POOL)
        .order_by("pk")
    )
    held = []
    for subject in open_subjects.iterator(chunk_size=500):
        subject_consensus_recompute(subject=subject)
        held.append(subject.pk)
    return held


# --- predictions and the queue ---------------------------------------------------------


def predictions_store(
    *,
    version_id: int,
    subject_ids: Sequence[int],
    probs: np.ndarray,
    class_names: Sequence[str],
    embeddings: np.ndarray | None = None,
) -> int:
    """Save (N, C) probabilities (and (N, D) embeddings, reduced for the diversity term) of
    N subjects. Idempotent: a subject that already has this version's prediction keeps it."""
    reduced = active.project_embeddings(embeddings) if embeddings is not None else None
    u = active.uncertainty(probs, "margin")
    rows = []
    for i, subject_id in enumerate(subject_ids):
        p = probs[i]
        top = int(np.argmax(p))
        rows.append(
            Prediction(
                model_version_id=version_id,
                subject_id=subject_id,
                probabilities={
                    name: round(float(v), 6) for name, v in zip(class_names, p, strict=True)
                },
                predicted_label=class_names[top],
                confidence=float(p[top]),
                margin=float(1.0 - u[i]),
                embedding=reduced[i].astype(np.float16).tobytes() if reduced is not None else None,
            )
        )
    created = Prediction.objects.bulk_create(rows, ignore_conflicts=True, batch_size=1000)
    return len(created)


def queue_reroute(*, version: ModelVersion, subject_ids: Sequence[int]) -> int:
    """Give the open subjects among `subject_ids` their level and priority from `version`'s
    predictions. The caller holds those subjects' row locks (the switch: every subject open
    when it locked them, _recompute_open_consensus).

    Level: Gravity Spy's routing (ml.active.route_levels): confident predictions go to
    the level that introduced the class, uncertain ones higher up. Priority inside each
    level's queue: ml.active.rank_for_labelling, confident-first for the first level,
    gradually uncertain-first up to the top level, with diversity on the embeddings.
    Subjects without a prediction from this version (imported during scoring) get
    priority 0 until the periodic scorer reaches them: no old model's rank survives.

    Only those subjects (docs/labelling.md, "Lock order"): one opened after the switch had
    locked the open ones (an undo that takes a glitch back from discovery) was updated here
    too, locked last, out of id order, and a cluster sheet holding it and waiting for a
    glitch the switch held deadlocked with it. Such a glitch keeps its routing, as one
    reopened after the switch does; a new one (imported meanwhile) has priority 0 already,
    and the beat's scoring re-routes it.
    """
    levels = labeling_config.levels()
    top_level = max(len(levels), 1)
    class_names = list(version.class_names)
    scored = Prediction.objects.filter(model_version=version, subject_id=OuterRef("pk"))
    preds: list[tuple[int, dict[str, float], bytes | memoryview | None]] = []
    # IN_LIST_MAX ids a statement: a list of them all is one parameter per subject, and
    # PostgreSQL takes 65,535 at most (a backlog of Gravity Spy's size made every
    # activation fail).
    for chunk in in_lists(subject_ids):
        still_open = Subject.objects.filter(
            pk__in=chunk, status=Subject.Status.ACTIVE, role=Subject.Role.POOL
        )
        preds += Prediction.objects.filter(
            model_version=version, subject__in=still_open
        ).values_list("subject_id", "probabilities", "embedding")
        still_open.exclude(Exists(scored)).update(priority=0.0)
    scored_ids = [subject_id for subject_id, _, _ in preds]
    if not preds:
        return 0
    probs = np.array([[float(p.get(name, 0.0)) for name in class_names] for _, p, _ in preds])
    embeddings = _embeddings_matrix([e for _, _, e in preds])
    routed = active.route_levels(
        probs, class_names, levels, confidence=settings.GLITCHLAB_ROUTE_CONFIDENCE
    )
    priority = np.zeros(len(preds))
    for level in range(1, top_level + 1):
        members = np.flatnonzero(routed == level)
        if len(members) == 0:
            continue
        order, _ = active.rank_for_labelling(
            probs[members],
            embeddings[members] if embeddings is not None else None,
            uncertainty_weight=active.experience_of_level(level, top_level),
            diversity=settings.GLITCHLAB_RANK_DIVERSITY,
        )
        # Priority in (0, 1], higher first; 0 stays for "not ranked by the active model".
        priority[members[order]] = 1.0 - np.arange(len(members)) / len(members)
    subjects = [
        Subject(pk=subject_id, level=int(routed[i]), priority=float(priority[i]))
        for i, subject_id in enumerate(scored_ids)
    ]
    return Subject.objects.bulk_update(subjects, ["level", "priority"], batch_size=1000)


def _embeddings_matrix(blobs: Sequence[bytes | memoryview | None]) -> np.ndarray | None:
    if not blobs or any(b is None for b in blobs):
        return None
    return np.stack([np.frombuffer(bytes(b), dtype=np.float16) for b in blobs if b is not None])
