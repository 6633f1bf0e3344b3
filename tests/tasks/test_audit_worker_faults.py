"""A real worker killed with SIGKILL in the middle of an audit: the audit fails when the
worker comes back, and the next audit can start (the one-live-audit slot was freed)."""

from __future__ import annotations

import pytest
from celery_stack import celery_stack, wait_for
from glitch_data import make_dataset

from webapp.modeling.models import WorkerBeat
from webapp.review import services
from webapp.review.models import AuditRun

pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]


def audit_state(run_id: int) -> AuditRun:
    return AuditRun.objects.get(pk=run_id)


def test_a_worker_killed_mid_audit_frees_the_slot_for_the_next_audit(tiny_settings, tmp_path):
    with celery_stack(tiny_settings, tmp_path) as stack:
        make_dataset()
        worker = stack.start_worker()
        assert WorkerBeat.objects.filter(hostname=stack.hostname, takes_gpu_jobs=True).exists()
        run = services.audit_run_request(trigger=AuditRun.Trigger.COMMAND)
        # Loading torch and the ImageNet backbone takes seconds: time enough to kill it.
        wait_for(
            lambda: audit_state(run.pk).status != AuditRun.Status.QUEUED,
            timeout=120,
            every=0.05,
            what="the audit to be claimed",
        )
        worker.kill()
        assert audit_state(run.pk).status == AuditRun.Status.RUNNING  # until someone notices

        stack.start_worker()  # the same worker comes back: it fails what it had claimed
        lost = wait_for(
            lambda: (r := audit_state(run.pk)).status == AuditRun.Status.FAILED and r,
            timeout=30,
            what="the lost audit to be failed",
        )
        assert "worker lost" in lost.error

        following = services.audit_run_request(trigger=AuditRun.Trigger.COMMAND)
        wait_for(
            lambda: audit_state(following.pk).status != AuditRun.Status.QUEUED,
            timeout=120,
            what="the next audit to start",
        )
