"""A real worker killed with SIGKILL in the middle of training leaves a clean state."""

from __future__ import annotations

import pytest
from celery_stack import celery_stack, wait_for
from glitch_data import make_dataset

from webapp.modeling import services
from webapp.modeling.models import ModelVersion, TrainingRun

pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]


def run_state(run_id: int) -> TrainingRun:
    return TrainingRun.objects.get(pk=run_id)


def test_a_worker_killed_mid_training_fails_the_run_and_keeps_the_active_model(
    tiny_settings, tmp_path
):
    with celery_stack(tiny_settings, tmp_path) as stack:
        make_dataset()
        active = ModelVersion.objects.create(name="serving", is_active=True, val_top1=0.9)
        worker = stack.start_worker()
        # A fine-tune long enough to be killed in the middle of it.
        run = services.training_run_request(
            trigger=TrainingRun.Trigger.COMMAND,
            config_overrides={"head_only": False, "epochs": 200},
        )
        wait_for(
            lambda: run_state(run.pk).progress.get("phase") in ("decode", "train"),
            timeout=300,
            what="the run to be decoding or training",
        )
        worker.kill()

        assert run_state(run.pk).status == TrainingRun.Status.RUNNING  # until someone notices
        stack.start_worker()  # the same worker comes back: it fails what it had claimed
        lost = wait_for(
            lambda: (r := run_state(run.pk)).status == TrainingRun.Status.FAILED and r,
            timeout=30,
            what="the lost run to be failed",
        )
        assert "worker lost" in lost.error
        active.refresh_from_db()
        assert active.is_active and ModelVersion.objects.count() == 1  # untouched

        # The slot is free again, and the restarted worker trains the next run to the end.
        done = stack.manage("retrain", "--wait", "--head-only", "--epochs", "1", "--timeout", "400")
        assert done.returncode == 0, done.stdout + done.stderr
        assert "succeeded" in done.stdout
