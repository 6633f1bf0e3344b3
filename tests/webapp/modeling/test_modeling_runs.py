"""Training runs: one at a time (enforced by the database), claim, cancel, lost workers."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from webapp.modeling import services
from webapp.modeling.models import TrainingRun

pytestmark = pytest.mark.django_db


def request_run() -> TrainingRun:
    return services.training_run_request(trigger=TrainingRun.Trigger.ADMIN)


def test_a_second_request_while_one_is_queued_gets_a_clear_answer():
    first = request_run()
    with pytest.raises(services.RunAlreadyLiveError, match=f"run {first.pk} is queued"):
        request_run()
    assert TrainingRun.objects.count() == 1


def test_the_database_itself_refuses_a_second_live_run():
    TrainingRun.objects.create(status=TrainingRun.Status.RUNNING)
    with pytest.raises(IntegrityError), transaction.atomic():
        TrainingRun.objects.create(status=TrainingRun.Status.QUEUED)


def test_finished_runs_do_not_block_a_new_one():
    for status in ("succeeded", "failed", "cancelled"):
        TrainingRun.objects.create(status=status)
    assert request_run().status == TrainingRun.Status.QUEUED


def test_only_the_first_delivery_of_a_run_claims_it():
    run = request_run()
    claimed = services.training_run_claim(run_id=run.pk, task_id="t1", worker="gpu@a")
    assert claimed is not None and claimed.status == TrainingRun.Status.RUNNING
    assert services.training_run_claim(run_id=run.pk, task_id="t1", worker="gpu@b") is None
    run.refresh_from_db()
    assert run.worker == "gpu@a"


def test_a_redelivered_run_takes_over_only_once_its_worker_stopped_beating(settings):
    run = request_run()
    services.training_run_claim(run_id=run.pk, task_id="t1", worker="gpu@a")
    assert services.training_run_claim(run_id=run.pk, task_id="t1", worker="gpu@b") is None

    stale = timezone.now() - timedelta(seconds=settings.GLITCHLAB_HEARTBEAT_TIMEOUT_S + 60)
    TrainingRun.objects.filter(pk=run.pk).update(heartbeat_at=stale)
    taken = services.training_run_claim(run_id=run.pk, task_id="t1", worker="gpu@b")

    # (the task then continues from the run's last.pt: tests/ml/test_train_resume.py)
    assert taken is not None and taken.worker == "gpu@b" and taken.heartbeat_at > stale
    assert services.training_run_claim(run_id=run.pk, task_id="t1", worker="gpu@c") is None


def test_cancelling_a_queued_run_ends_it_and_its_message_does_nothing():
    run = request_run()
    services.training_run_cancel(run_id=run.pk)
    run.refresh_from_db()
    assert run.status == TrainingRun.Status.CANCELLED
    assert services.training_run_claim(run_id=run.pk, task_id="t", worker="w") is None


def test_cancelling_a_running_run_asks_it_to_stop_at_its_next_step():
    run = request_run()
    services.training_run_claim(run_id=run.pk, task_id="t", worker="w")
    assert services.training_run_heartbeat(run_id=run.pk) is False
    services.training_run_cancel(run_id=run.pk)
    assert services.training_run_heartbeat(run_id=run.pk, progress={"fraction": 0.5}) is True
    assert services.training_run_mark_cancelled(run_id=run.pk)
    run.refresh_from_db()
    assert run.status == TrainingRun.Status.CANCELLED and run.finished_at


def test_cancelling_a_finished_run_is_refused():
    run = TrainingRun.objects.create(status=TrainingRun.Status.SUCCEEDED)
    with pytest.raises(services.NothingToDoError):
        services.training_run_cancel(run_id=run.pk)


def test_the_reaper_fails_runs_whose_heartbeat_stopped_and_spares_live_ones():
    stale = TrainingRun.objects.create(
        status=TrainingRun.Status.RUNNING, heartbeat_at=timezone.now() - timedelta(minutes=10)
    )
    assert services.training_runs_fail_lost(silent_for_s=300) == 1
    fresh = TrainingRun.objects.create(
        status=TrainingRun.Status.RUNNING, heartbeat_at=timezone.now()
    )
    assert services.training_runs_fail_lost(silent_for_s=300) == 0
    stale.refresh_from_db()
    fresh.refresh_from_db()
    assert stale.status == TrainingRun.Status.FAILED and "heartbeat" in stale.error
    assert fresh.status == TrainingRun.Status.RUNNING


def test_a_restarted_worker_fails_the_runs_it_had_claimed():
    run = request_run()
    services.training_run_claim(run_id=run.pk, task_id="t", worker="gpu@host")
    assert services.training_runs_fail_lost(worker="gpu@other") == 0
    assert services.training_runs_fail_lost(worker="gpu@host") == 1
    run.refresh_from_db()
    assert run.status == TrainingRun.Status.FAILED and "worker lost" in run.error
    assert request_run().status == TrainingRun.Status.QUEUED  # the slot is free again


def test_a_failed_run_is_retried_as_itself_and_keeps_its_log():
    """A run whose worker died was failed by the reaper long before Redis would hand its
    message back, so the takeover that resumes from last.pt never came: the epochs it had
    trained were lost, and a new request started over. A retry queues the same run (same
    folder and config: the task resumes from its last.pt)."""
    run = request_run()
    services.training_run_claim(run_id=run.pk, task_id="t", worker="gpu@host")
    services.training_run_log(run_id=run.pk, line="epoch 1/4: loss 1.0")
    services.training_runs_fail_lost(worker="gpu@host")
    retried = services.training_run_retry(run_id=run.pk)
    assert (retried.pk, retried.status, retried.error) == (run.pk, "queued", "")
    assert retried.config == run.config and retried.out_dir_name == run.out_dir_name
    assert "epoch 1/4" in retried.log
    assert "retried by an admin after: worker gpu@host" in retried.log
    assert TrainingRun.objects.count() == 1
    # Its message gets it as any queued run; a second retry while it is live is refused.
    assert services.training_run_claim(run_id=run.pk, task_id="t2", worker="gpu@b") is not None
    with pytest.raises(services.NothingToDoError, match="is already running: nothing to retry"):
        services.training_run_retry(run_id=run.pk)


def test_the_old_task_of_a_retried_run_can_no_longer_finish_cancel_or_feed_it():
    """The reaper failed a run whose worker was only silent, an admin retried it and a new
    task took it. The old task, still alive, was told to go on at each beat and could then
    register its model as the run's, or mark the new task's run cancelled. Now each of its
    beats tells it to stop, and its success, cancel or failure changes nothing."""
    run = request_run()
    services.training_run_claim(run_id=run.pk, task_id="old", worker="gpu@a")
    services.training_runs_fail_lost(worker="gpu@a")
    services.training_run_retry(run_id=run.pk)
    services.training_run_claim(run_id=run.pk, task_id="new", worker="gpu@b")

    assert services.training_run_heartbeat(run_id=run.pk, task_id="old") is True  # stop
    assert services.training_run_heartbeat(run_id=run.pk, task_id="new") is False
    assert services.training_run_mark_cancelled(run_id=run.pk, task_id="old") is False
    finished = outcome(model_dir="/tmp/m", checkpoint_path="/tmp/m/best.pt")
    assert services.training_run_succeed(run_id=run.pk, outcome=finished, task_id="old") is None
    run.refresh_from_db()
    assert (run.status, run.celery_task_id) == (TrainingRun.Status.RUNNING, "new")
    version = services.training_run_succeed(run_id=run.pk, outcome=finished, task_id="new")
    assert version is not None and version.training_run_id == run.pk


def test_only_failed_runs_are_retried_and_never_beside_a_live_one():
    for status in ("succeeded", "cancelled"):
        done = TrainingRun.objects.create(status=status)
        with pytest.raises(services.NothingToDoError, match=f"{done.pk} {status}: only a failed"):
            services.training_run_retry(run_id=done.pk)
    failed = TrainingRun.objects.create(status=TrainingRun.Status.FAILED, error="boom")
    live = request_run()
    with pytest.raises(services.RunAlreadyLiveError, match=f"run {live.pk} is queued"):
        services.training_run_retry(run_id=failed.pk)
    failed.refresh_from_db()
    assert (failed.status, failed.error) == ("failed", "boom")
    with pytest.raises(TrainingRun.DoesNotExist):
        services.training_run_retry(run_id=failed.pk + 100)


def test_a_retried_run_gets_the_full_queued_timeout_again():
    """The reaper fails runs queued longer than GLITCHLAB_QUEUED_TIMEOUT_S since they were
    made: a run retried a day after it was made would have been failed at the next beat."""
    run = TrainingRun.objects.create(status=TrainingRun.Status.FAILED, error="worker lost")
    TrainingRun.objects.filter(pk=run.pk).update(created_at=timezone.now() - timedelta(days=2))
    services.training_run_retry(run_id=run.pk)
    assert services.training_runs_fail_lost(silent_for_s=300, waiting_for_s=86400) == 0
    TrainingRun.objects.filter(pk=run.pk).update(heartbeat_at=timezone.now() - timedelta(days=2))
    assert services.training_runs_fail_lost(silent_for_s=300, waiting_for_s=86400) == 1


def test_the_old_task_of_a_retried_run_cannot_fail_it():
    """A task the reaper gave up on may still end (its time limit, an error) after the run
    was retried: its failure must not end the retry."""
    run = request_run()
    services.training_run_claim(run_id=run.pk, task_id="old", worker="gpu@a")
    services.training_runs_fail_lost(worker="gpu@a")
    services.training_run_retry(run_id=run.pk)
    assert not services.training_run_fail(run_id=run.pk, error="late", task_id="old")
    services.training_run_claim(run_id=run.pk, task_id="new", worker="gpu@b")
    assert not services.training_run_fail(run_id=run.pk, error="late", task_id="old")
    assert TrainingRun.objects.get(pk=run.pk).status == TrainingRun.Status.RUNNING
    assert services.training_run_fail(run_id=run.pk, error="its own", task_id="new")
    assert TrainingRun.objects.get(pk=run.pk).error == "its own"


def test_a_run_keeps_the_folder_it_was_named_with_and_an_older_run_its_old_one():
    """A run's folder holds its last.pt, from which a retry resumes: a run made before
    folder names carried the creation time keeps run-<id>, or its retry would start over;
    a new run's name is fixed when it is made (a database reset cannot reuse it)."""
    run = request_run()
    assert run.out_dir_name == run.folder == f"run-{run.pk}-{run.created_at:%Y%m%dT%H%M%S}"
    TrainingRun.objects.filter(pk=run.pk).update(folder="")  # as migration 0006 left it
    run.refresh_from_db()
    assert run.out_dir_name == f"run-{run.pk}"


def test_a_registered_version_records_its_checkpoints_sha256_once(tmp_path, monkeypatch):
    """A model was named only by this site's "run-1": an export could not say which bytes
    decided its labels. Its checkpoint's sha256 is read once, as the version is registered
    (never per request); a file not there leaves it empty (unknown), not a wrong hash."""
    import hashlib

    checkpoint = tmp_path / "best.pt"
    checkpoint.write_bytes(b"weights" * 1000)
    versions = []
    for path in (checkpoint, tmp_path / "gone.pt"):
        run = request_run()
        services.training_run_claim(run_id=run.pk, task_id=f"t{run.pk}", worker="gpu@a")
        finished = outcome(model_dir=str(tmp_path), checkpoint_path=str(path))
        versions.append(
            services.training_run_succeed(run_id=run.pk, outcome=finished, task_id=f"t{run.pk}")
        )

    registered, missing = versions
    assert registered.checkpoint_sha256 == hashlib.sha256(checkpoint.read_bytes()).hexdigest()
    assert missing.checkpoint_sha256 == ""


def outcome(*, model_dir: str, checkpoint_path: str) -> services.TrainOutcome:
    """A finished training's outcome, two classes, no baseline: what these tests store."""
    return services.TrainOutcome(
        model_dir=model_dir,
        checkpoint_path=checkpoint_path,
        class_names=["Blip", "Whistle"],
        metrics={"top1": 0.5},
        train_subject_ids=[1],
        val_subject_ids=[],
        code_version="abc",
        library_versions={},
        seconds=1.0,
        images_per_second=1.0,
        baseline_top1=None,
        baseline_version_id=None,
        candidate_correct=None,
        baseline_correct=None,
    )
