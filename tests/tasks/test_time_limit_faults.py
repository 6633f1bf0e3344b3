"""A job past its hard time limit on a real prefork worker: the pool kills the child, the
worker's main process fails the row with the reason (tasks.common.fail_row_when_task_fails),
and the next job of that kind is claimed and runs."""

from __future__ import annotations

import pytest
from celery_stack import celery_stack, wait_for_status
from glitch_data import make_dataset

from tasks.common import time_limits
from tasks.review import audit_labels
from webapp.review import services as review
from webapp.review.models import AuditRun

pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]

FAILED, SUCCEEDED = "failed", "succeeded"


def test_an_audit_past_its_hard_time_limit_fails_and_the_next_audit_runs(tiny_settings, tmp_path):
    with celery_stack(tiny_settings, tmp_path) as stack:
        make_dataset()
        # Audits limited to 1 s, with no soft limit (none below two minutes:
        # tasks.common.time_limits); loading torch and the ImageNet backbone alone takes
        # longer. Prefork: the solo pool cannot interrupt its own task.
        limited = stack.start_worker(pool="prefork", GLITCHLAB_AUDIT_TIME_LIMIT_S="1")
        run = review.audit_run_request(trigger=AuditRun.Trigger.COMMAND, enqueue=False)
        # Celery sends the enqueuing process's limits with the message, and the worker's own
        # fill in only what it left out: send what a web process with that setting sends.
        audit_labels.apply_async((run.pk,), **time_limits(1))

        # No beat runs the reaper here, the heartbeat timeout is 300 s and the worker is not
        # restarted: only the task_failure handler in the worker's main process can fail it.
        stopped = wait_for_status(AuditRun, run.pk, FAILED, SUCCEEDED, timeout=60)
        assert stopped.status == FAILED, stopped
        assert stopped.error.startswith("stopped at the hard time limit (1 s)"), stopped.error
        assert stopped.started_at is not None  # claimed: it was stopped mid-job
        assert b"Hard time limit (1s) exceeded" in limited.read()

        # The one-live-audit slot is free, and a worker without that limit runs the next
        # audit to the end.
        limited.stop()
        stack.start_worker(pool="prefork")
        following = review.audit_run_request(trigger=AuditRun.Trigger.COMMAND)
        done = wait_for_status(AuditRun, following.pk, SUCCEEDED, FAILED, timeout=120)
        assert done.status == SUCCEEDED, done.error
