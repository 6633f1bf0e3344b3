"""After a model is chosen: score the open subjects with it (gpu), then switch to it and
re-route the queue (default), then embed every subject with it for discovery (gpu,
tasks.discovery). Also the periodic scorer of newly imported subjects."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from celery import Task
from celery.utils.log import get_task_logger
from django.conf import settings

from tasks.celery import app
from tasks.common import (
    Heartbeat,
    fail_row_when_task_fails,
    fresh_connection,
    report_progress,
    scoring_wait_s,
    time_limits,
    to_samples,
    unless_the_database_is_down,
)
from tasks.publish import enqueue_on_commit
from webapp.discovery import services as discovery_services
from webapp.modeling import selectors, services
from webapp.modeling.models import ClaimHolder, ModelVersion

logger = get_task_logger(__name__)

SCORE_LIMIT_S = settings.GLITCHLAB_SCORE_TIME_LIMIT_S


def _wanted(version_id: int) -> ModelVersion | None:
    """The version if it still needs scoring: pending activation, or the active one."""
    version = ModelVersion.objects.filter(pk=version_id).first()
    if version is None or not (version.activation_pending or version.is_active):
        return None
    return version


@app.task(bind=True, acks_late=True, **time_limits(SCORE_LIMIT_S))
def score_subjects(self: Task, version_id: int) -> dict[str, Any]:
    """Predict (and embed) every open subject that lacks a prediction from this version,
    in batches of GLITCHLAB_SCORE_BATCH_SIZE; then hand over to activate_and_reroute.

    While it scores, a ClaimHolder names its worker and beats, as a job row does: a worker
    killed whole (a host reboot) leaves it behind, and the worker's restart or the reaper
    end the pending activation, or free the beat's claim, saying why. A second delivery
    does nothing while one scores and beats; one after it (the first died: Redis hands the
    message out again) continues where it stopped: only subjects without this version's
    prediction are scored, and a pending request its death ended is not scored at all.
    """
    holder = services.claim_hold(
        kind=ClaimHolder.Kind.SCORING, object_id=version_id, worker=self.request.hostname or ""
    )
    if holder is None:
        logger.info("version %s is being scored by another delivery: nothing to do", version_id)
        return {"version_id": version_id, "status": "skipped"}
    try:
        with Heartbeat(
            lambda: services.claim_beat(holder_id=holder), settings.GLITCHLAB_HEARTBEAT_EVERY_S
        ):
            return _score(self, version_id)
    finally:  # the beat may queue the next one (score_unscored); never hides _score's error
        with unless_the_database_is_down("the end of the scoring job"):
            services.claim_drop(holder_id=holder)
        with unless_the_database_is_down("the end of the scoring job"):
            services.model_version_scoring_ended(version_id=version_id)


def _score(task: Task, version_id: int) -> dict[str, Any]:
    from ml.encoding import encode_decodable
    from ml.model import load_model, predict_and_embed, views_of

    version = _wanted(version_id)
    if version is None:
        return {"version_id": version_id, "status": "skipped"}
    try:
        todo = selectors.subjects_to_score(version=version)
        batch = settings.GLITCHLAB_SCORE_BATCH_SIZE
        scored = 0
        unscorable: list[int] = []
        if todo:
            model = load_model(
                Path(version.model_dir or version.checkpoint_path),
                device=settings.GLITCHLAB_TRAIN_DEVICE,
            )
            for start in range(0, len(todo), batch):
                if _wanted(version_id) is None:  # superseded by a newer request
                    return {"version_id": version_id, "status": "superseded", "scored": scored}
                samples = to_samples(todo[start : start + batch])
                decoded = encode_decodable(
                    samples, model.encoding, model.image_size, workers=1, warn=logger.warning
                )
                images, kept = decoded.images, decoded.samples
                if kept:
                    # the view ensemble (ml.views); probabilities and embedding in one pass
                    probs, vectors = predict_and_embed(model, images, views=views_of(kept))
                    services.predictions_store(
                        version_id=version_id,
                        subject_ids=[int(s.id) for s in kept],
                        probs=probs,
                        class_names=list(model.class_names),
                        embeddings=vectors,
                    )
                scored += len(kept)
                unscorable += sorted({int(s.id) for s in samples} - {int(s.id) for s in kept})
                report_progress(task, {"done": start + len(samples), "total": len(todo)})
        services.model_version_mark_scored(
            version_id=version_id, scored=scored, unscorable_ids=unscorable
        )
    except Exception as exc:
        fresh_connection()  # a database restart ends the promote now, saying so
        services.model_version_scoring_failed(
            version_id=version_id, error=f"scoring failed: {type(exc).__name__}: {exc}"
        )
        raise
    return {"version_id": version_id, "status": "scored", "scored": scored}


# Limited like the scoring before it: the switch holds every open subject's row lock in one
# transaction, which a soft limit rolls back (its handler fails the activation, saying so).
@app.task(bind=True, acks_late=True, **time_limits(SCORE_LIMIT_S))
def activate_and_reroute(self: Task, version_id: int) -> dict[str, Any]:
    """Switch to the version (if pending), recompute open consensus, re-route the queue.
    Idempotent: on an active version it only recomputes and re-routes again; one delivered
    again after its worker died finds the request it held ended, and does nothing. While it
    works, a ClaimHolder names its worker and beats (score_subjects says why)."""
    holder = services.claim_hold(
        kind=ClaimHolder.Kind.SWITCH, object_id=version_id, worker=self.request.hostname or ""
    )
    if holder is None:
        logger.info("version %s is being switched by another delivery: nothing to do", version_id)
        return {"version_id": version_id, "status": "skipped"}
    try:
        # Beats from a thread of its own: the switch's transaction holds the version's row.
        with Heartbeat(
            lambda: services.claim_beat(holder_id=holder), settings.GLITCHLAB_HEARTBEAT_EVERY_S
        ):
            version = services.model_version_activate(version_id=version_id, holder_id=holder)
    except Exception as exc:
        fresh_connection()
        services.model_version_switch_failed(
            version_id=version_id, reason=f"{type(exc).__name__}: {exc}"
        )
        services.claim_drop(holder_id=holder)
        raise
    if version is None:
        return {"version_id": version_id, "status": "superseded"}
    # Discovery's map follows the active model: its embeddings are the next step of the
    # chain score -> activate -> embed (a no-op if this version's are done or running).
    discovery_services.embedding_set_queue(version_id=version_id)
    return {"version_id": version_id, "status": "active", "rerouted": version.n_rerouted}


# A promote's scoring or switch killed with its worker (OOM, a hard time limit) reaches no
# except block: its pending request ends now, saying why, not when it expires hours later;
# the active model's scoring or re-route of new subjects says why too, and the beat queues
# it again. (A worker killed whole reports nothing: its restart or the reaper do the same,
# services.model_version_claims_fail_lost.)
fail_row_when_task_fails(
    score_subjects.name,
    lambda version_id, error, _task_id: services.model_version_scoring_lost(
        version_id=int(version_id), error=error
    ),
)
fail_row_when_task_fails(
    activate_and_reroute.name,
    lambda version_id, error, _task_id: services.model_version_switch_lost(
        version_id=int(version_id), reason=error
    ),
)


@app.task
def score_unscored() -> dict[str, Any]:
    """Beat: subjects imported since the last activation get the active model's prediction,
    and then their place in the queue (the re-route that follows a scoring, queued again
    here if it failed: the predictions exist, so no scoring would queue it).

    One job at a time (ModelVersion.scoring_queued_at, claimed by compare and set): one
    waiting behind a training on the GPU worker is not joined by another at every beat.
    Subjects the last scoring could not decode do not queue one alone."""
    version = selectors.model_version_active()
    if version is None:
        return {"queued": False, "reason": "no active model"}
    rerouting = services.model_version_reroute_queue(
        version_id=version.pk, stale_after_s=scoring_wait_s()
    )
    if rerouting:
        enqueue_on_commit(
            activate_and_reroute,
            version.pk,
            on_refused=lambda reason: services.model_version_switch_failed(
                version_id=version.pk, reason=reason
            ),
        )
    missing = selectors.subjects_to_score_count(version=version)
    if not missing:
        return {"queued": False, "missing": 0, "rerouting": rerouting}
    if not services.model_version_scoring_queue(
        version_id=version.pk, stale_after_s=scoring_wait_s()
    ):
        return {
            "queued": False,
            "missing": missing,
            "rerouting": rerouting,
            "reason": "a scoring job is queued",
        }
    enqueue_on_commit(
        score_subjects,
        version.pk,
        on_refused=lambda _: services.model_version_scoring_ended(version_id=version.pk),
    )
    return {"queued": True, "missing": missing, "rerouting": rerouting}
