"""The Celery app: Redis broker, configuration from Django settings (namespace CELERY).

Start workers with
    celery -A tasks worker -Q gpu -c 1 -n gpu@%h        # one per accelerator
    celery -A tasks worker -Q default -n default@%h     # CPU work
    celery -A tasks beat                                # periodic retrain check, reaper
"""

from __future__ import annotations

import os
from datetime import timedelta
from typing import Any

from celery import Celery
from celery.signals import worker_ready
from django.conf import settings

from tasks import queues

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "webapp.settings")

app = Celery("glitchlab")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.update(
    task_default_queue=queues.DEFAULT,
    task_routes=queues.TASK_ROUTES,
    include=[
        "tasks.training",
        "tasks.predictions",
        "tasks.review",
        "tasks.discovery",
        "tasks.housekeeping",
    ],
)


def beat_schedule() -> dict[str, dict[str, Any]]:
    """Periodic jobs; their intervals come from settings (0 turns the retrain check off)."""
    schedule: dict[str, dict[str, Any]] = {
        "reap-lost-runs": {
            "task": "tasks.training.reap_lost_runs",
            "schedule": timedelta(seconds=settings.GLITCHLAB_REAPER_EVERY_S),
        },
        # Subjects imported after the last activation get the active model's prediction.
        "score-unscored-subjects": {
            "task": "tasks.predictions.score_unscored",
            "schedule": timedelta(seconds=max(settings.GLITCHLAB_REAPER_EVERY_S, 60.0) * 10),
        },
        "clear-expired-sessions": {
            "task": "tasks.housekeeping.clear_expired_sessions",
            "schedule": timedelta(days=1),
        },
    }
    if settings.GLITCHLAB_AUDIT_EVERY_HOURS > 0:  # webapp/review: rank suspected mislabels
        schedule["audit-labels"] = {
            "task": "tasks.review.audit_periodic",
            "schedule": timedelta(hours=settings.GLITCHLAB_AUDIT_EVERY_HOURS),
        }
    if settings.GLITCHLAB_RETRAIN_EVERY_HOURS > 0:
        schedule["retrain-when-enough-new-labels"] = {
            "task": "tasks.training.maybe_retrain",
            "schedule": timedelta(hours=settings.GLITCHLAB_RETRAIN_EVERY_HOURS),
        }
    # A message not taken before the next one is sent is dropped: a worker back after an
    # outage runs each periodic job once, not once per beat it missed.
    for entry in schedule.values():
        entry["options"] = {"expires": entry["schedule"].total_seconds()}
    return schedule


app.conf.beat_schedule = beat_schedule()


@worker_ready.connect
def _fail_runs_this_worker_lost(sender: Any = None, **_: Any) -> None:
    """A worker that starts cannot be running anything yet: jobs it claimed before died.
    Then it beats (a WorkerBeat row) for as long as it lives: the dashboard's live workers."""
    from tasks.common import Heartbeat
    from tasks.training import fail_lost_jobs
    from webapp.modeling.services import worker_beat

    hostname = getattr(sender, "hostname", "") or ""
    if not hostname:
        return
    fail_lost_jobs(worker=hostname)
    consumed = sorted(getattr(app.amqp.queues, "consume_from", None) or app.amqp.queues)

    def beat() -> None:
        worker_beat(hostname=hostname, queues=consumed, takes_gpu_jobs=queues.GPU in consumed)

    beat()
    # A daemon thread of the worker's main process: it stops when the process dies.
    Heartbeat(beat, settings.GLITCHLAB_HEARTBEAT_EVERY_S).__enter__()
