"""The Celery app: Redis broker, configuration from Django settings (namespace CELERY).

Start workers with
    celery -A tasks worker -Q gpu -c 1 -n gpu@%h        # one per accelerator
    celery -A tasks worker -Q default -n default@%h     # CPU work
    celery -A tasks beat                                # periodic retrain check, reaper
"""

from __future__ import annotations

import os
import time
from datetime import timedelta
from typing import Any

from celery import Celery
from celery.signals import worker_ready
from celery.utils.log import get_logger
from django.conf import settings

from tasks import queues

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "webapp.settings")
logger = get_logger(__name__)

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
    Then it beats (a WorkerBeat row) for as long as it lives: the dashboard's live workers.

    The beat starts whatever the clean-up does: a worker up before the database is (a host
    reboot) or migrated (the first `compose up`) takes jobs all the same, and was shown as
    "no GPU worker" for as long as it lived. A clean-up that fails is logged and tried
    again at each beat until it succeeds, on the rows this worker claimed before it was
    ready only (silent since then): a job it took meanwhile beats, and stays running."""
    from tasks.common import Heartbeat, fresh_connection
    from tasks.training import fail_lost_jobs
    from webapp.modeling.services import worker_beat

    hostname = getattr(sender, "hostname", "") or ""
    if not hostname:
        return
    consumed = sorted(getattr(app.amqp.queues, "consume_from", None) or app.amqp.queues)
    ready_at = time.monotonic()
    cleanup_error: str | None = ""  # None once done; else the last error logged

    def clean_up() -> None:
        nonlocal cleanup_error
        try:
            fail_lost_jobs(worker=hostname, silent_for_s=time.monotonic() - ready_at)
        except Exception as exc:
            fresh_connection()  # a connection the error broke is closed; the next opens anew
            if f"{exc!r}" != cleanup_error:  # each new error once, not at every beat
                cleanup_error = f"{exc!r}"
                logger.exception(
                    "worker %s: the jobs it had claimed before it started are not failed yet "
                    "(the database is down or not migrated?); tried again at each heartbeat",
                    hostname,
                )
            return
        if cleanup_error:
            logger.warning("worker %s: its start-up clean-up of lost jobs is done", hostname)
        cleanup_error = None

    def beat() -> None:
        if cleanup_error is not None:
            clean_up()
        worker_beat(hostname=hostname, queues=consumed, takes_gpu_jobs=queues.GPU in consumed)

    try:
        beat()
    except Exception:
        fresh_connection()
        logger.exception("worker %s: its first heartbeat was not written; tried again", hostname)
    # A daemon thread of the worker's main process: it stops when the process dies.
    Heartbeat(beat, settings.GLITCHLAB_HEARTBEAT_EVERY_S).__enter__()
