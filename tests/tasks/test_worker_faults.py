"""A real worker killed with SIGKILL in the middle of a job (what an OOM killer or a crash
does: no cleanup, no acknowledgement) leaves a clean state, and the next job starts."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from celery_stack import celery_stack, restore_unacked, row, wait_for, wait_for_status
from django.utils import timezone
from glitch_data import make_dataset

from tasks.discovery import embed_subjects
from webapp.discovery.models import EmbeddingSet
from webapp.modeling import services
from webapp.modeling.models import ModelVersion, TrainingRun, WorkerBeat
from webapp.review import services as review
from webapp.review.models import AuditRun

pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]

RUNNING, FAILED, SUCCEEDED = "running", "failed", "succeeded"


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
            lambda: row(TrainingRun, run.pk).progress.get("phase") in ("decode", "train"),
            timeout=300,
            what="the run to be decoding or training",
        )
        worker.kill()

        assert row(TrainingRun, run.pk).status == RUNNING  # until someone notices
        stack.start_worker()  # the same worker comes back: it fails what it had claimed
        lost = wait_for_status(TrainingRun, run.pk, FAILED, timeout=30)
        assert "worker lost" in lost.error
        active.refresh_from_db()
        assert active.is_active and ModelVersion.objects.count() == 1  # untouched

        # The slot is free again, and the restarted worker trains the next run to the end.
        done = stack.manage("retrain", "--wait", "--head-only", "--epochs", "1", "--timeout", "400")
        assert done.returncode == 0, done.stdout + done.stderr
        assert "succeeded" in done.stdout


def _four_epochs_with_the_first_done() -> TrainingRun:
    """A 4-epoch fine-tune, once its first epoch is done (its last.pt written)."""
    run = services.training_run_request(
        trigger=TrainingRun.Trigger.COMMAND,
        config_overrides={"head_only": False, "epochs": 4},
    )
    wait_for(
        lambda: "epoch 1/4:" in row(TrainingRun, run.pk).log,
        timeout=300,
        every=0.1,
        what="the first epoch to be done (last.pt written)",
    )
    return run


def test_a_training_whose_worker_was_killed_resumes_on_another_worker(tiny_settings, tmp_path):
    with celery_stack(tiny_settings, tmp_path) as stack:
        make_dataset()
        first = stack.start_worker()
        run = _four_epochs_with_the_first_done()
        first.kill()
        assert "epoch 4/4:" not in row(TrainingRun, run.pk).log

        # Redis hands the unacknowledged message back (after the visibility timeout), and a
        # worker on another machine takes over the run once its heartbeat has gone stale
        # (there: GLITCHLAB_HEARTBEAT_TIMEOUT_S = 2).
        wait_for(
            lambda: timezone.now() - row(TrainingRun, run.pk).heartbeat_at > timedelta(seconds=3),
            timeout=10,
            what="the killed worker's heartbeat to be 3 s old",
        )
        restore_unacked(stack.env["CELERY_BROKER_URL"])
        other = f"gpu@other-{uuid.uuid4().hex[:6]}"
        stack.start_worker(hostname=other, GLITCHLAB_HEARTBEAT_TIMEOUT_S="2")
        wait_for(lambda: row(TrainingRun, run.pk).worker == other, timeout=120, what="the takeover")
        done = wait_for_status(TrainingRun, run.pk, SUCCEEDED, FAILED, timeout=900)
        assert done.status == SUCCEEDED, done.error + done.log
        # It continued from its last epoch: epoch 1 was trained once, and every epoch ran.
        assert done.log.count("epoch 1/4:") == 1 and "epoch 4/4:" in done.log
        assert ModelVersion.objects.filter(training_run=done).exists()


def test_a_training_failed_with_its_worker_is_retried_and_continues_after_its_last_epoch(
    tiny_settings, tmp_path
):
    """What production sees: the worker comes back (or the reaper runs) long before Redis
    would hand the message back, so the run is failed, not taken over. Retry continues it."""
    with celery_stack(tiny_settings, tmp_path) as stack:
        make_dataset()
        worker = stack.start_worker()
        run = _four_epochs_with_the_first_done()
        worker.kill()
        stack.start_worker()  # the same worker comes back: it fails what it had claimed
        lost = wait_for_status(TrainingRun, run.pk, FAILED, timeout=30)
        assert "worker lost" in lost.error and "epoch 4/4:" not in lost.log

        services.training_run_retry(run_id=run.pk)
        done = wait_for_status(TrainingRun, run.pk, SUCCEEDED, FAILED, timeout=900)
        assert done.status == SUCCEEDED, done.error + done.log
        # It continued after its last epoch: epoch 1 was trained once, and every epoch ran.
        assert "retried by an admin" in done.log
        assert done.log.count("epoch 1/4:") == 1 and "epoch 4/4:" in done.log
        assert ModelVersion.objects.filter(training_run=done).exists()


def test_a_worker_killed_mid_audit_frees_the_slot_for_the_next_audit(tiny_settings, tmp_path):
    with celery_stack(tiny_settings, tmp_path) as stack:
        make_dataset()
        worker = stack.start_worker()
        assert WorkerBeat.objects.filter(hostname=stack.hostname, takes_gpu_jobs=True).exists()
        run = review.audit_run_request(trigger=AuditRun.Trigger.COMMAND)
        # Loading torch and the ImageNet backbone takes seconds: time enough to kill it.
        wait_for_status(AuditRun, run.pk, RUNNING, FAILED, SUCCEEDED, timeout=120, every=0.05)
        worker.kill()
        assert row(AuditRun, run.pk).status == RUNNING  # until someone notices

        stack.start_worker()  # the same worker comes back: it fails what it had claimed
        lost = wait_for_status(AuditRun, run.pk, FAILED, timeout=30)
        assert "worker lost" in lost.error

        following = review.audit_run_request(trigger=AuditRun.Trigger.COMMAND)
        wait_for(
            lambda: row(AuditRun, following.pk).status != AuditRun.Status.QUEUED,
            timeout=120,
            what="the next audit to start",
        )


def test_a_worker_killed_mid_embedding_fails_the_set_and_the_next_one_is_embedded(
    tiny_settings, tmp_path, eager_celery
):
    tiny_settings.MEDIA_ROOT = tiny_settings.VAR_DIR / "media"  # where the worker looks
    make_dataset()
    # A first model, trained, activated and embedded in this process.
    run = services.training_run_request(trigger=TrainingRun.Trigger.COMMAND)
    version = ModelVersion.objects.get(training_run=run)
    assert version.is_active and version.embedding_set.status == EmbeddingSet.Status.READY
    embeddings = version.embedding_set.pk

    with celery_stack(tiny_settings, tmp_path) as stack:
        worker = stack.start_worker()
        embed_subjects.delay(version.pk, True)  # a refresh of the embeddings
        # The worker claims the set, then imports torch and loads the model: seconds.
        wait_for_status(EmbeddingSet, embeddings, RUNNING, timeout=120, every=0.05)
        worker.kill()
        assert row(EmbeddingSet, embeddings).status == RUNNING  # until someone notices

        stack.start_worker()
        lost = wait_for_status(EmbeddingSet, embeddings, FAILED, timeout=30)
        assert "worker lost" in lost.error

        embed_subjects.delay(version.pk)  # the next embedding job: claimed from failed
        wait_for_status(EmbeddingSet, embeddings, RUNNING, "ready", timeout=120, every=0.05)
        done = wait_for_status(EmbeddingSet, embeddings, "ready", FAILED, timeout=300)
        assert done.status == "ready", done.error
        assert done.n_subjects == 30 and done.error == ""
