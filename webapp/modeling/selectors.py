"""Reads about training runs, models, their predictions, and the data a retrain uses."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import connection
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.db.models.functions import Now
from django.utils import timezone

from ml.data import SIMULATED_SOURCE
from webapp.hot_sql import value_from_db
from webapp.modeling.models import ModelVersion, Prediction, TrainingRun, WorkerBeat

if TYPE_CHECKING:
    from webapp.labeling.models import Subject


def model_version_active() -> ModelVersion | None:
    return ModelVersion.objects.filter(is_active=True).first()


def prediction_for_consensus(
    *, subject: Subject, model_name: str | None = None
) -> tuple[str, dict[str, float]] | None:
    """The model's vote in a subject's consensus: (its model's name, the class
    probabilities) of the active model, or of the model named; None if it has none."""
    which, params = ("m.is_active", []) if model_name is None else ("m.name = %s", [model_name])
    with connection.cursor() as cursor:  # on every vote: SQL written out (webapp.hot_sql)
        cursor.execute(
            "SELECT m.name, p.probabilities FROM modeling_prediction p"
            " JOIN modeling_modelversion m ON m.id = p.model_version_id"
            f" WHERE p.subject_id = %s AND {which}",
            [subject.pk, *params],
        )
        row = cursor.fetchone()
    if row is None:
        return None
    probabilities = value_from_db(Prediction, "probabilities", row[1])
    return str(row[0]), {str(name): float(p) for name, p in probabilities.items()}


# --- runs ------------------------------------------------------------------------------


def training_run_live() -> TrainingRun | None:
    """The queued or running run, if any (there is at most one)."""
    return TrainingRun.objects.filter(status__in=TrainingRun.LIVE_STATUSES).first()


def training_runs_recent(*, limit: int = 20) -> QuerySet[TrainingRun]:
    return TrainingRun.objects.select_related("model_version", "requested_by")[:limit]


def model_dirs_newest(*, limit: int = 3) -> list[str]:
    """The folders of the newest registered models, newest first: where a retrain looks for
    a simulated-only model it can reuse (ml.train.train's sim_only_from)."""
    versions = ModelVersion.objects.exclude(model_dir="").order_by("-created_at", "-id")
    return list(versions.values_list("model_dir", flat=True)[:limit])


def new_labels_since_newest_model() -> int:
    """Subjects retired since the newest model's training run started, promoted or not (all,
    if none): the retrain check's count. Counted since the active model, a candidate the
    gate did not pass (undecided on a small validation set, often) left the count where it
    was, and the daily check trained the same labels again every day until an admin acted."""
    return _retired_since(
        ModelVersion.objects.select_related("training_run").order_by("-created_at", "-id").first()
    )


def _retired_since(version: ModelVersion | None) -> int:
    from webapp.labeling.models import Subject

    retired = Subject.objects.filter(
        role=Subject.Role.POOL, status=Subject.Status.RETIRED, retired_label__isnull=False
    )
    if version is None:
        return retired.count()
    since = version.training_run.started_at if version.training_run else version.created_at
    if since is None:
        return retired.count()
    return retired.filter(retired_at__gt=since).count()


# --- the data of a retrain -------------------------------------------------------------


@dataclass(frozen=True)
class SubjectFiles:
    """One subject as ml/ needs it: its id, label and image files (duration -> path)."""

    subject_id: int
    label: str | None
    paths: dict[float, Path]
    ifo: str
    # "simulated" or "real" (Subject.simulated), the two sources that training's class-source
    # sampling balances, as bench/real.py measured it: not Subject.source, which names an
    # import (one real archive, the demo's three simulated sets, a golden example alone)
    source: str = ""
    substituted: tuple[float, ...] = ()  # durations whose image stands in for a missing view
    external_id: str = ""  # the glitch's id in its archive (Subject.external_id)


def subject_files(subjects: QuerySet[Subject], label_of: Any) -> list[SubjectFiles]:
    from webapp.labeling.models import SubjectImage

    media = Path(settings.MEDIA_ROOT)
    paths: dict[int, dict[float, Path]] = defaultdict(dict)
    substituted: dict[int, list[float]] = defaultdict(list)
    images = SubjectImage.objects.filter(subject__in=subjects).values_list(
        "subject_id", "duration", "image", "substituted"
    )
    for subject_id, duration, name, stand_in in images:
        paths[subject_id][float(duration)] = media / name
        if stand_in:
            substituted[subject_id].append(float(duration))
    return [
        SubjectFiles(
            subject_id=s.pk,
            label=label_of(s),
            paths=paths[s.pk],
            ifo=s.ifo,
            source=SIMULATED_SOURCE if s.simulated else "real",
            substituted=tuple(sorted(substituted[s.pk])),
            external_id=s.external_id,
        )
        for s in subjects.select_related("retired_label", "gold_label").order_by("pk")
        if paths.get(s.pk)
    ]


def training_data() -> tuple[list[SubjectFiles], list[SubjectFiles]]:
    """(train, validation): retired pool labels plus gold subjects train; validation
    subjects (a fixed set, role=validation) only ever validate."""
    from webapp.labeling.models import Subject

    train = Subject.objects.filter(
        Q(role=Subject.Role.POOL, status=Subject.Status.RETIRED, retired_label__isnull=False)
        | Q(role=Subject.Role.GOLD, gold_label__isnull=False)
    )
    validation = Subject.objects.filter(role=Subject.Role.VALIDATION).exclude(
        Q(source_label="") & Q(gold_label__isnull=True)
    )

    def train_label(s: Subject) -> str | None:
        chosen = s.gold_label if s.role == Subject.Role.GOLD else s.retired_label
        return chosen.name if chosen else None

    def val_label(s: Subject) -> str | None:
        return s.gold_label.name if s.gold_label else (s.source_label or None)

    return subject_files(train, train_label), subject_files(validation, val_label)


def self_training_pool() -> list[SubjectFiles]:
    """Open pool glitches a retrain may label for itself (no label is read): the newest
    GLITCHLAB_SELF_TRAIN_POOL of them, so the encoded cache holds from run to run."""
    from webapp.labeling.models import Subject

    limit = settings.GLITCHLAB_SELF_TRAIN_POOL
    if limit <= 0:
        return []
    open_pool = Subject.objects.filter(status=Subject.Status.ACTIVE, role=Subject.Role.POOL)
    newest = list(open_pool.order_by("-pk").values_list("pk", flat=True)[:limit])
    return subject_files(Subject.objects.filter(pk__in=newest), lambda s: None)


def _unscored(version: ModelVersion) -> QuerySet[Subject]:
    """Open pool and gold subjects with images that have no prediction from `version` yet.

    Gold too: the discovery map and similar lists show a point's model guess to reviewers
    and to volunteers who voted on it, so a gold glitch left without one stood out from the
    open pool ("unlabelled", no confidence) and told which answers are checked (issue #14).
    A subject without images can never have one: counting it kept the scoring beat queueing
    a job every time it ran."""
    from webapp.labeling.models import Subject, SubjectImage

    has_images = Exists(SubjectImage.objects.filter(subject=OuterRef("pk")))
    return Subject.objects.filter(
        has_images,
        status=Subject.Status.ACTIVE,
        role__in=(Subject.Role.POOL, Subject.Role.GOLD),
    ).exclude(predictions__model_version=version)


def subjects_to_score(*, version: ModelVersion) -> list[SubjectFiles]:
    return subject_files(_unscored(version), lambda s: None)


def subjects_unscored_count(*, version: ModelVersion) -> int:
    return _unscored(version).count()


# How long the subjects a scoring could not read are passed over: a file that failed for a
# passing reason (the media mount down on the GPU host) is tried again after this.
UNSCORABLE_RETRY_AFTER = timedelta(days=1)


def subjects_to_score_count(*, version: ModelVersion) -> int:
    """Unscored subjects but those the version's last scoring (within UNSCORABLE_RETRY_AFTER)
    could not decode: what makes the beat queue a scoring job (each loads the model on the
    GPU). The ids are compared here, not sent as a list: a list is a parameter per id, and
    PostgreSQL takes 65,535 (a large import on a broken mount would stop the beat)."""
    fresh = version.scored_at and timezone.now() - version.scored_at < UNSCORABLE_RETRY_AFTER
    passed_over = set(version.unscorable_subject_ids) if fresh else set()
    if not passed_over:
        return _unscored(version).count()
    unscored = _unscored(version).values_list("pk", flat=True).iterator(chunk_size=10_000)
    return sum(1 for pk in unscored if pk not in passed_over)


# --- the admin dashboard ---------------------------------------------------------------


def _activation_failure(version: ModelVersion, active: ModelVersion | None) -> str:
    """Why the last request to switch to `version` (a promote, a roll back) failed, while
    that still matters: it is not pending, did not make it active, and no switch asked for
    after it succeeded ("" otherwise). It fails after the click (its scoring or switch
    fails, its worker is lost, it expires, a newer request supersedes it), when the page
    that said "Switching to" is long gone: the dashboard shows it until a later switch
    succeeds. Two request times are compared, not a request with an activation (the
    worker's clock): the active version's request came later only if it switched later."""
    if not version.activation_error or version.activation_pending or version.is_active:
        return ""
    requested = version.activation_requested_at
    later = active.activation_requested_at if active is not None else None
    if requested is not None and later is not None and later > requested:
        return ""
    return version.activation_error


def _last_request(active: ModelVersion | None) -> ModelVersion | None:
    """The version of the latest switch asked for, if it failed (_activation_failure)."""
    last = (
        ModelVersion.objects.filter(activation_requested_at__isnull=False)
        .order_by("-activation_requested_at", "-pk")
        .first()
    )
    return last if last is not None and _activation_failure(last, active) else None


def _train_seconds(metrics: dict[str, Any]) -> float | None:
    """The model's training time: its epochs' seconds (history.json, in its metrics), those
    of a failed attempt that a Retry resumed included. The run's own started_at..finished_at
    is its last attempt's alone. None for a model without a history."""
    history = metrics.get("history")
    if not history:
        return None
    return round(sum(float(row.get("seconds", 0.0)) for row in history), 1)


def _version_summary(version: ModelVersion | None, active: ModelVersion | None) -> Any:
    if version is None:
        return None
    metrics = version.metrics or {}
    delta = None
    if active is not None and version.val_top1 is not None and active.val_top1 is not None:
        delta = round(version.val_top1 - active.val_top1, 4)
    return {
        "id": version.pk,
        "name": version.name,
        "is_active": version.is_active,
        "activation_pending": version.activation_pending,
        "activation_error": version.activation_error,
        "activation_failure": _activation_failure(version, active),
        "scoring_error": version.scoring_error,
        "reroute_error": version.reroute_error,
        "gate": version.gate,
        "gate_reason": version.gate_reason,
        "top1": metrics.get("top1"),
        "top5": metrics.get("top5"),
        "macro_f1": metrics.get("macro_f1"),
        "delta_top1_vs_active": delta,
        "train_s": _train_seconds(metrics),
        "activated_at": version.activated_at.isoformat() if version.activated_at else None,
        "has_confusion": bool(version.model_dir)
        and (Path(version.model_dir) / "confusion.png").is_file(),
    }


def _run_summary(run: TrainingRun, active: ModelVersion | None) -> dict[str, Any]:
    version = getattr(run, "model_version", None)
    return {
        "id": run.pk,
        "status": run.status,
        "trigger": run.trigger,
        "requested_by": run.requested_by.get_username() if run.requested_by else None,
        "device": run.device,
        "worker": run.worker,
        "created_at": run.created_at.isoformat(),
        "duration_s": round(run.duration_s, 1) if run.duration_s is not None else None,
        "n_train": run.n_train,
        "n_val": run.n_val,
        "baseline_top1": run.baseline_top1,
        "error": run.error,
        "progress": run.progress,
        "cancel_requested": run.cancel_requested,
        "heartbeat_at": run.heartbeat_at.isoformat() if run.heartbeat_at else None,
        "log_tail": run.log[-3000:] if run.is_live else "",
        "version": _version_summary(version, active),
    }


WORKER_SEEN_WITHIN_HEARTBEATS = 3  # a worker silent for longer is shown as gone


def workers_alive() -> QuerySet[WorkerBeat]:
    """The workers that beat within the last three heartbeat intervals."""
    within = WORKER_SEEN_WITHIN_HEARTBEATS * settings.GLITCHLAB_HEARTBEAT_EVERY_S
    since = Now() - timedelta(seconds=within)  # the database's clock, as worker_beat writes
    return WorkerBeat.objects.filter(seen_at__gte=since)


def _subjects_with_broken_pictures() -> int:
    """Glitches out of the volunteers' queue because their image files are broken
    (labeling's Subject.pictures_problem)."""
    from webapp.labeling.models import Subject

    return Subject.objects.exclude(pictures_problem="").count()


def dashboard_state(*, history: int = 20) -> dict[str, Any]:
    """Everything the admin dashboard shows, as JSON-able data (also its polling endpoint).
    Database reads only: the broker is never asked, so a Redis outage cannot slow it."""
    active = model_version_active()
    live = training_run_live()
    pending = ModelVersion.objects.filter(activation_pending=True).first()
    pending_state = None
    if pending is not None:
        pending_state = {
            **_version_summary(pending, active),
            "scored": pending.predictions.count(),
            "unscored": subjects_unscored_count(version=pending),
        }
    workers = list(workers_alive())
    gpu = [w.hostname for w in workers if w.takes_gpu_jobs]
    return {
        "live_run": _run_summary(live, active) if live else None,
        "active_model": _version_summary(active, active),
        "pending_activation": pending_state,
        # the last promote or roll back, if it failed after the click: why, until one works
        "failed_switch": _version_summary(_last_request(active), active),
        "workers": {w.hostname: w.queues for w in workers},
        "gpu_worker_alive": bool(gpu),
        "gpu_workers": gpu,
        "workers_seen_within_s": WORKER_SEEN_WITHIN_HEARTBEATS
        * settings.GLITCHLAB_HEARTBEAT_EVERY_S,
        "new_labels_since_newest": new_labels_since_newest_model(),
        "pictures_broken": _subjects_with_broken_pictures(),
        "retrain_min_new_labels": settings.GLITCHLAB_RETRAIN_MIN_NEW_LABELS,
        "retrain_every_hours": settings.GLITCHLAB_RETRAIN_EVERY_HOURS,
        "runs": [_run_summary(r, active) for r in training_runs_recent(limit=history)],
    }
