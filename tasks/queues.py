"""The Celery queue names (defined here only) and which task goes to which queue.

gpu: work that wants the accelerator (train, embed, predict); its worker runs `-c 1`.
default: CPU work (consensus recompute and re-routing, clustering, audits, the reaper).
"""

from __future__ import annotations

GPU = "gpu"
DEFAULT = "default"
ALL = (GPU, DEFAULT)

TASK_ROUTES: dict[str, dict[str, str]] = {
    "tasks.training.train_model": {"queue": GPU},
    "tasks.predictions.score_subjects": {"queue": GPU},
    "tasks.predictions.activate_and_reroute": {"queue": DEFAULT},
    "tasks.predictions.score_unscored": {"queue": DEFAULT},
    "tasks.training.maybe_retrain": {"queue": DEFAULT},
    "tasks.training.reap_lost_runs": {"queue": DEFAULT},
    "tasks.discovery.embed_subjects": {"queue": GPU},
    "tasks.discovery.cluster_subjects": {"queue": DEFAULT},
    "tasks.review.audit_labels": {"queue": DEFAULT},
    "tasks.review.audit_periodic": {"queue": DEFAULT},
    "tasks.housekeeping.clear_expired_sessions": {"queue": DEFAULT},
}
