"""Training tasks: fine-tune a model for a TrainingRun (gpu), the periodic retrain check and
the reaper of runs whose worker died (default)."""

from __future__ import annotations

import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from celery import Task
from celery.exceptions import SoftTimeLimitExceeded
from celery.utils.log import get_task_logger
from django.conf import settings

from tasks.celery import app
from tasks.common import (
    Heartbeat,
    device_description,
    fail_row_when_task_fails,
    fresh_connection,
    report_progress,
    scoring_wait_s,
    time_limits,
    to_samples,
    unless_the_database_is_down,
)
from webapp.discovery import services as discovery_services
from webapp.modeling import selectors, services
from webapp.modeling.models import TrainingRun
from webapp.review import services as review_services

logger = get_task_logger(__name__)

TRAIN_LIMIT_S = settings.GLITCHLAB_TRAIN_TIME_LIMIT_S


def models_dir() -> Path:
    return Path(settings.VAR_DIR) / "models"


def encode_cache_dir() -> Path:
    return Path(settings.VAR_DIR) / "cache" / "encoded"


class _RunReporter:
    """Turns ml.train's progress events into the run's progress JSON, the Celery task state
    and heartbeats; remembers whether an admin asked to cancel."""

    def __init__(self, task: Task, run_id: int, task_id: str) -> None:
        self.task = task
        self.task_id = task_id  # the run's holder (claimed with it)
        self.run_id = run_id
        self.cancel = False
        self.state: dict[str, Any] = {"phase": "starting", "fraction": 0.0}
        self._last_write = 0.0
        # When this attempt started by this host's clock, which stamps the encode cache's
        # files (the run's started_at is the database's clock: webapp.jobs).
        self.started = time.time()

    def publish(self, state: dict[str, Any], *, force: bool = False) -> None:
        state = services.json_safe(state)  # NaN (e.g. the loss of a head-only fit) is not JSON
        self.state = state
        now = time.monotonic()
        if not force and now - self._last_write < 1.0:
            return
        self._last_write = now
        with unless_the_database_is_down(f"run {self.run_id}'s progress"):
            self.cancel = services.training_run_heartbeat(
                run_id=self.run_id, task_id=self.task_id, progress=state
            )
        report_progress(self.task, state)

    def beat(self) -> None:
        beat = services.training_run_heartbeat(run_id=self.run_id, task_id=self.task_id)
        self.cancel = beat or self.cancel

    def on_encode(self, done: int, total: int) -> None:
        fraction = done / max(total, 1)
        self.publish(
            {"phase": "decode", "done": done, "total": total, "fraction": 0.05 * fraction},
            force=done == total,
        )

    def on_train(self, p: Any) -> None:  # p: ml.train.TrainProgress
        if p.note:  # not a step: a line for the run's log
            services.training_run_log(run_id=self.run_id, line=p.note)
            return
        done = (p.epoch - 1 + p.step / max(p.steps, 1)) / max(p.epochs, 1)
        state = {
            "phase": "train",
            "epoch": p.epoch,
            "epochs": p.epochs,
            "step": p.step,
            "steps": p.steps,
            "loss": round(float(p.loss), 5),
            "images_per_second": round(float(p.images_per_second), 1),
            "metrics": {k: round(float(v), 5) for k, v in p.metrics.items()},
            "fraction": round(0.05 + 0.9 * done, 4),
        }
        self.publish(state, force=p.epoch_done)
        if p.epoch_done:
            metrics = ", ".join(f"{k} {v:.4f}" for k, v in p.metrics.items())
            with unless_the_database_is_down(f"run {self.run_id}'s log line"):
                services.training_run_log(
                    run_id=self.run_id,
                    line=f"epoch {p.epoch}/{p.epochs}: loss {p.loss:.4f}, {metrics}, "
                    f"{p.images_per_second:.0f} img/s",
                )

    def should_cancel(self) -> bool:
        return self.cancel


@app.task(
    bind=True,
    # Safe to deliver twice: the claim below lets only the first delivery work.
    acks_late=True,
    **time_limits(TRAIN_LIMIT_S),
)
def train_model(self: Task, run_id: int) -> dict[str, Any]:
    """Train the model of TrainingRun `run_id` on retired labels + gold, validate on the
    fixed validation set, gate it against the active model and register it."""
    task_id = self.request.id or ""  # the run's holder once claimed: what it does names it
    run = services.training_run_claim(
        run_id=run_id, task_id=task_id, worker=self.request.hostname or ""
    )
    if run is None:
        logger.info("run %s is not queued any more: nothing to do", run_id)
        return {"run_id": run_id, "status": "skipped"}
    reporter = _RunReporter(self, run_id, task_id)
    try:
        with Heartbeat(reporter.beat, settings.GLITCHLAB_HEARTBEAT_EVERY_S):
            return _train(run, reporter)
    except SoftTimeLimitExceeded:
        fresh_connection()
        services.training_run_fail(
            run_id=run_id,
            error=f"stopped at the time limit of {TRAIN_LIMIT_S} s",
            task_id=task_id,
        )
        raise
    except Exception as exc:
        fresh_connection()  # a database restart fails the run: say so, not "worker lost"
        services.training_run_log(run_id=run_id, line=traceback.format_exc())
        services.training_run_fail(
            run_id=run_id, error=f"{type(exc).__name__}: {exc}", task_id=task_id
        )
        raise


# With the task's id: a run retried since (a new message) is not this task's to fail.
fail_row_when_task_fails(
    train_model.name,
    lambda run_id, error, task_id: services.training_run_fail(
        run_id=int(run_id), error=error, task_id=task_id
    ),
)


def _train(run: TrainingRun, reporter: _RunReporter) -> dict[str, Any]:
    from ml.data import SIMULATED_SOURCE
    from ml.evaluate import right_by_id
    from ml.model import checkpoint_class_names, git_commit, library_versions
    from ml.train import TrainConfig, resolve_sim_only_weight, train

    run_id = run.pk
    # The config the request stored, every field resolved then (sim_only_weight may be
    # None: decided below, from the training glitches): an attempt after a deploy that
    # changed TrainConfig's defaults resumes with the recipe the run began with.
    config = TrainConfig(**run.config)
    train_files, val_files = selectors.training_data()
    train_samples, val_samples = to_samples(train_files), to_samples(val_files)
    # the open pool, for self-training (ml.train.train; head-only models do not use it)
    pool_files = [] if config.head_only else selectors.self_training_pool()
    pool = to_samples(pool_files)
    before = (run.n_train, run.n_val)  # set by an earlier attempt (a retry, a takeover)
    if before != (0, 0) and before != (len(train_samples), len(val_samples)):
        services.training_run_log(
            run_id=run_id,
            line=f"the labels changed since this run's earlier attempt ({before[0]} training "
            f"and {before[1]} validation glitches, now {len(train_samples)} and "
            f"{len(val_samples)}): this attempt trains on today's labels",
        )
    # Left to the data (None): decided here, so that the log says what trains.
    config = resolve_sim_only_weight(config, train_samples, {SIMULATED_SOURCE})
    services.training_run_set_device(
        run_id=run_id,
        device=device_description(config.device),
        n_train=len(train_samples),
        n_val=len(val_samples),
    )
    services.training_run_log(
        run_id=run_id,
        line=f"training on {len(train_samples)} glitches (retired + gold), validating on "
        f"{len(val_samples)}; {config.backbone} {config.encoding} {config.image_size}px, "
        + ("head only (one pass)" if config.head_only else f"{config.epochs} epochs")
        + (f", then self-trained with {len(pool)} open pool glitches" if pool else "")
        + (
            f"; first a model on the {sum(s.source == SIMULATED_SOURCE for s in train_samples)} "
            f"simulated glitches alone, averaged in at weight {config.sim_only_weight}"
            if config.sim_only_weight
            else ""
        ),
    )
    out_dir = models_dir() / run.out_dir_name
    # The classes are the model's, as `ml train` makes them: those of the glitches that
    # decode (a class every training glitch of which does not is left out, not an untrained
    # output), read back from its checkpoint below.
    result = train(
        train_samples,
        val_samples,
        config,
        out_dir,
        cache_dir=encode_cache_dir(),
        workers=1 if len(train_samples) + len(val_samples) < 200 else None,
        encode_progress=reporter.on_encode,
        progress=reporter.on_train,
        should_cancel=reporter.should_cancel,
        resume=True,  # a run retried or taken over after its worker died: after its last epoch
        pool_samples=pool,
        # glitches.json names the glitches as their archive does (`ml evaluate` warns when
        # it scores one this model saw), not by subject key
        glitch_names={
            str(f.subject_id): f.external_id
            for f in [*train_files, *val_files, *pool_files]
            if f.external_id
        },
        # the simulated glitches rarely change between retrains: their model is reused then
        sim_only_from=selectors.model_dirs_newest(),
    )
    if result.cancelled:
        if services.training_run_mark_cancelled(run_id=run_id, task_id=reporter.task_id):
            _prune_encode_cache(run_id, before=reporter.started)
            _drop_resume_checkpoints(run_id, out_dir)
        return {"run_id": run_id, "status": "cancelled"}
    if pool:
        services.training_run_log(
            run_id=run_id,
            line=f"self-training: the first model was sure (>= {config.self_train}) of "
            f"{result.pseudo_labels} of the {len(pool)} pool glitches; they joined training",
        )
    class_names = checkpoint_class_names(result.model_dir)
    if result.undecodable:  # left out by ml.train, each named in the run's log
        left_out = set(result.undecodable)
        train_samples = [s for s in train_samples if s.id not in left_out]
        val_samples = [s for s in val_samples if s.id not in left_out]
    reporter.publish({"phase": "gate", "fraction": 0.97}, force=True)
    baseline = _active_model_scores(val_samples, config.device, run_id)
    val_ids = [str(s.id) for s in val_samples]
    version = services.training_run_succeed(
        run_id=run_id,
        task_id=reporter.task_id,
        outcome=services.TrainOutcome(
            model_dir=str(result.model_dir),
            checkpoint_path=str(Path(result.model_dir) / "best.pt"),
            class_names=class_names,
            metrics=result.metrics,
            train_subject_ids=[int(s.id) for s in train_samples],
            val_subject_ids=[int(s.id) for s in val_samples],
            code_version=git_commit() or "",
            library_versions=library_versions(),
            seconds=result.train_seconds,  # every attempt's epochs, not the last attempt's
            images_per_second=result.images_per_second,
            baseline_top1=baseline.top1,
            baseline_version_id=baseline.version_id,
            candidate_correct=right_by_id(result.metrics, val_ids),
            baseline_correct=baseline.correct,
        ),
    )
    if version is None and services.training_run_mark_cancelled(
        run_id=run_id, task_id=reporter.task_id
    ):  # cancelled during the last evaluation or the gate: no model is registered
        _prune_encode_cache(run_id, before=reporter.started)
        _drop_resume_checkpoints(run_id, out_dir)
        return {"run_id": run_id, "status": "cancelled"}
    if version is None:  # failed meanwhile, or retried by another task: not ours to report
        logger.info("run %s ended or changed hands before its model was stored", run_id)
        return {"run_id": run_id, "status": "skipped"}
    _prune_encode_cache(run_id, before=reporter.started)
    _drop_resume_checkpoints(run_id, out_dir)
    services.training_run_log(
        run_id=run_id,
        line=f"done: {len(result.history)} epoch{'s' if len(result.history) != 1 else ''} "
        f"trained in {result.train_seconds:.1f} s"
        + (f", resumed after epoch {result.resumed_after}" if result.resumed_after else "")
        + f" ({result.images_per_second:.0f} img/s); "
        f"validation top-1 {result.metrics.get('top1')}; gate: {version.gate} "
        f"({version.gate_reason})",
    )
    return {
        "run_id": run_id,
        "status": "succeeded",
        "model_version_id": version.pk,
        "top1": result.metrics.get("top1"),
    }


def _prune_encode_cache(run_id: int, *, before: float) -> None:
    """A run that ended (not failed: a retry reuses its arrays) removes the encode cache's
    arrays written before it started (`before`, a time.time() of the worker's): they hold
    earlier sets of glitches, and each retrain's new labels make a new full-size array."""
    from ml.encoding import prune_cache

    files, size = prune_cache(encode_cache_dir(), before=before)
    if files:
        services.training_run_log(
            run_id=run_id,
            line=f"encode cache: removed {files} arrays of earlier runs ({size / 1e6:.0f} MB)",
        )


def _drop_resume_checkpoints(run_id: int, model_dir: Path) -> None:
    """A run that succeeded or was cancelled keeps best.pt; its last.pt (as large, more with
    the optimiser's state) only served to resume it, and only a failed run is retried."""
    from ml.model import drop_resume_checkpoints

    freed = drop_resume_checkpoints(model_dir)
    if freed:
        services.training_run_log(
            run_id=run_id, line=f"removed last.pt, not needed once done ({freed / 1e6:.0f} MB)"
        )


@dataclass(frozen=True)
class _Baseline:
    version_id: int | None = None  # the active model, if any
    top1: float | None = None  # over the whole validation set, an unreadable glitch wrong
    # per validation glitch, in order: did it get it right (one it could not read, its
    # encoding reading a view the new model's does not, is wrong for it)
    correct: list[bool] | None = None


def _active_model_scores(val_samples: list[Any], device: str, run_id: int) -> _Baseline:
    """The active model scored on this run's validation set, glitch by glitch: the gate
    compares the new model with it pair by pair (webapp.modeling.gate)."""
    active = selectors.model_version_active()
    if active is None:
        return _Baseline()
    if not val_samples:
        return _Baseline(version_id=active.pk)
    from ml.encoding import encode_decodable
    from ml.evaluate import evaluate, right_by_id
    from ml.model import load_model, views_of

    def log(line: str) -> None:
        services.training_run_log(run_id=run_id, line=f"scoring the active model: {line}")

    try:
        loaded = load_model(active.model_dir or active.checkpoint_path, device=device)
        # the active model may read a view this run's model does not (another encoding)
        decoded = encode_decodable(
            val_samples, loaded.encoding, loaded.image_size,
            workers=1, cache_dir=encode_cache_dir(), warn=log,
        )  # fmt: skip
        if not decoded.samples:
            raise ValueError("none of the validation glitches decodes for it")
        report = evaluate(
            loaded,
            decoded.images,
            [str(s.label) for s in decoded.samples],
            ids=[str(s.id) for s in decoded.samples],
            views=views_of(decoded.samples),
        )
    except SoftTimeLimitExceeded:  # the run's time is up: fail it now, not at the hard kill
        raise
    except Exception as exc:  # a missing checkpoint must not lose the new model
        services.training_run_log(
            run_id=run_id, line=f"could not score the active model {active.name}: {exc}"
        )
        return _Baseline(version_id=active.pk)
    # Scored on the glitches it could read; those it could not are wrong for it, so that
    # both models are compared on the same validation set (they counted as right).
    read = {str(s.id) for s in decoded.samples}
    ids = [str(s.id) for s in val_samples]
    correct = [ok and i in read for ok, i in zip(right_by_id(report, ids), ids, strict=True)]
    top1 = float(report["top1"]) * len(decoded.samples) / len(val_samples)
    return _Baseline(version_id=active.pk, top1=top1, correct=correct)


@app.task
def maybe_retrain() -> dict[str, Any]:
    """Beat: retrain when enough subjects retired since the newest model was trained (the
    active one, or a newer candidate the gate did not pass)."""
    new_labels = selectors.new_labels_since_newest_model()
    needed = settings.GLITCHLAB_RETRAIN_MIN_NEW_LABELS
    if new_labels < needed:
        return {
            "started": False,
            "reason": f"{new_labels} labels retired since the newest model < {needed}",
        }
    try:
        run = services.training_run_request(trigger=TrainingRun.Trigger.SCHEDULE)
    except services.RunAlreadyLiveError as exc:
        return {"started": False, "reason": str(exc)}
    return {"started": True, "run_id": run.pk, "new_labels": new_labels}


def fail_lost_jobs(
    *,
    worker: str | None = None,
    silent_for_s: float | None = None,
    waiting_for_s: float | None = None,
) -> dict[str, int]:
    """Every kind of job row (webapp.jobs): fail the running ones whose worker is gone
    (and, with waiting_for_s, the waiting ones whose message was lost); and end the claims
    with no job row whose task's worker is gone (ClaimHolder: a version's scoring or switch,
    a map), saying why."""
    return {
        "runs_failed": services.training_runs_fail_lost(
            worker=worker, silent_for_s=silent_for_s, waiting_for_s=waiting_for_s
        ),
        "audits_failed": review_services.audit_runs_fail_lost(
            worker=worker, silent_for_s=silent_for_s, waiting_for_s=waiting_for_s
        ),
        "embeddings_failed": discovery_services.embedding_sets_fail_lost(
            worker=worker, silent_for_s=silent_for_s, waiting_for_s=waiting_for_s
        ),
        **services.model_version_claims_fail_lost(worker=worker, silent_for_s=silent_for_s),
        "maps_failed": discovery_services.embedding_set_maps_fail_lost(
            worker=worker, silent_for_s=silent_for_s
        ),
    }


@app.task
def reap_lost_runs() -> dict[str, int]:
    """Beat: training runs, audits and embedding sets whose heartbeat stopped (their
    worker was killed) become failed, which frees their one-live-job slot; a version's
    scoring or switch, or a map, whose heartbeat stopped ends its claim, saying why."""
    failed = fail_lost_jobs(
        silent_for_s=settings.GLITCHLAB_HEARTBEAT_TIMEOUT_S,
        waiting_for_s=settings.GLITCHLAB_QUEUED_TIMEOUT_S,
    )
    expired = services.model_version_activations_expire(older_than_s=scoring_wait_s())
    return {**failed, "activations_expired": expired}
