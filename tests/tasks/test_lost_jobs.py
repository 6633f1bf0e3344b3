"""Audits and embedding sets whose worker died are reaped like training runs, and a
redelivered message takes over a running row only once its heartbeat has gone stale."""

from __future__ import annotations

from datetime import timedelta

import pytest
from billiard.exceptions import WorkerLostError
from celery.signals import task_failure
from django.utils import timezone

from tasks import discovery as discovery_tasks
from tasks import review as review_tasks
from tasks.training import fail_lost_jobs, reap_lost_runs
from webapp.discovery import services as discovery
from webapp.discovery.models import EmbeddingSet
from webapp.modeling.models import ModelVersion
from webapp.review import services as review
from webapp.review.models import AuditRun

pytestmark = pytest.mark.django_db


@pytest.fixture
def long_ago(settings):
    return timezone.now() - timedelta(seconds=settings.GLITCHLAB_HEARTBEAT_TIMEOUT_S + 60)


def running_set(name: str, **fields) -> EmbeddingSet:
    version = ModelVersion.objects.create(name=name)
    return EmbeddingSet.objects.create(model_version=version, status="running", **fields)


def test_the_reaper_fails_audits_and_embeddings_whose_heartbeat_stopped(long_ago):
    audit = AuditRun.objects.create(status="running", heartbeat_at=long_ago)
    lost = running_set("lost", heartbeat_at=long_ago)
    alive = running_set("alive", heartbeat_at=timezone.now())

    result = reap_lost_runs.apply().get()

    assert (result["audits_failed"], result["embeddings_failed"]) == (1, 1)
    audit.refresh_from_db()
    lost.refresh_from_db()
    alive.refresh_from_db()
    assert audit.status == lost.status == "failed" and "no heartbeat" in audit.error
    assert alive.status == "running"
    # The one-live-audit slot is free again.
    assert (
        review.audit_run_request(trigger=AuditRun.Trigger.COMMAND, enqueue=False).status == "queued"
    )


def test_a_restarted_worker_fails_the_audits_and_embeddings_it_had_claimed():
    audit = AuditRun.objects.create(status="running", worker="default@host")
    mine = running_set("mine", worker="default@host", heartbeat_at=timezone.now())
    other = running_set("other", worker="gpu@elsewhere", heartbeat_at=timezone.now())

    assert fail_lost_jobs(worker="default@host") == {
        "runs_failed": 0,
        "audits_failed": 1,
        "embeddings_failed": 1,
        "scorings_failed": 0,
        "switches_failed": 0,
        "maps_failed": 0,
    }
    assert AuditRun.objects.get(pk=audit.pk).status == "failed"
    assert EmbeddingSet.objects.get(pk=mine.pk).status == "failed"
    assert EmbeddingSet.objects.get(pk=other.pk).status == "running"


def test_a_redelivered_audit_takes_over_only_a_run_whose_heartbeat_is_stale(long_ago):
    run = AuditRun.objects.create(status="running", worker="a", heartbeat_at=timezone.now())
    assert review.audit_run_claim(run_id=run.pk, worker="b") is None  # a is alive

    AuditRun.objects.filter(pk=run.pk).update(heartbeat_at=long_ago)
    taken = review.audit_run_claim(run_id=run.pk, worker="b")
    assert taken is not None and taken.worker == "b" and taken.heartbeat_at > long_ago
    assert review.audit_run_claim(run_id=run.pk, worker="c") is None  # b now beats


def test_a_redelivered_embedding_takes_over_only_a_stale_set(long_ago):
    held = running_set("held", worker="a", heartbeat_at=timezone.now())
    version_id = held.model_version_id
    assert discovery.embedding_set_claim(version_id=version_id, worker="b") is None

    EmbeddingSet.objects.filter(pk=held.pk).update(heartbeat_at=long_ago)
    taken = discovery.embedding_set_claim(version_id=version_id, worker="b")
    assert taken is not None and taken.worker == "b"
    assert discovery.embedding_set_claim(version_id=version_id, worker="c") is None


def test_a_lost_child_process_fails_its_audit_and_its_embedding_set():
    audit = AuditRun.objects.create(status="running")
    held = running_set("held", heartbeat_at=timezone.now())
    lost = WorkerLostError("Worker exited prematurely: signal 9 (SIGKILL).")
    for task, arg in (
        (review_tasks.audit_labels, audit.pk),
        (discovery_tasks.embed_subjects, held.model_version_id),
    ):
        task_failure.send(sender=task, task_id="t", exception=lost, args=[arg], kwargs={})

    audit.refresh_from_db()
    held.refresh_from_db()
    assert audit.status == held.status == "failed"
    assert "worker lost: WorkerLostError" in audit.error and "SIGKILL" in held.error


def test_a_hard_time_limit_says_so_on_the_row():
    from celery.exceptions import TimeLimitExceeded

    audit = AuditRun.objects.create(status="running")
    task_failure.send(
        sender=review_tasks.audit_labels,
        task_id="t",
        exception=TimeLimitExceeded(7200),
        args=[audit.pk],
        kwargs={},
    )
    audit.refresh_from_db()
    assert audit.status == "failed"
    assert audit.error.startswith("stopped at the hard time limit (7200 s)"), audit.error


def test_progress_that_meets_no_redis_does_not_fail_the_job(monkeypatch):
    from kombu.exceptions import OperationalError

    from tasks.common import report_progress

    def down(**_):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    task = review_tasks.audit_labels
    monkeypatch.setattr(task, "update_state", down)
    task.push_request(id="t", is_eager=False)
    try:
        report_progress(task, {"phase": "decode"})  # logged, not raised
    finally:
        task.pop_request()


def test_a_job_whose_queued_message_was_lost_is_failed_and_frees_its_slot(settings):
    """Redis lost its data (or a worker died holding the message unstarted): the row stays
    queued or pending, and its kind's one live-job slot refused every later audit and
    retrain, for ever. After GLITCHLAB_QUEUED_TIMEOUT_S the reaper fails it, saying why;
    a job that has merely waited less than that stays."""
    from webapp.modeling.models import TrainingRun

    day_ago = timezone.now() - timedelta(seconds=settings.GLITCHLAB_QUEUED_TIMEOUT_S + 60)
    lost_audit = AuditRun.objects.create(status="queued")
    lost_run = TrainingRun.objects.create(status="queued")
    lost_set = EmbeddingSet.objects.create(
        model_version=ModelVersion.objects.create(name="v"), status="pending"
    )
    for row in (lost_audit, lost_run, lost_set):
        type(row).objects.filter(pk=row.pk).update(created_at=day_ago)
    waiting = EmbeddingSet.objects.create(
        model_version=ModelVersion.objects.create(name="w"), status="pending"
    )

    result = reap_lost_runs.apply().get()

    assert (result["audits_failed"], result["runs_failed"], result["embeddings_failed"]) == (
        1, 1, 1,
    )  # fmt: skip
    for row in (lost_audit, lost_run, lost_set):
        row.refresh_from_db()
        assert row.status == "failed" and "message was lost" in row.error
    waiting.refresh_from_db()
    assert waiting.status == "pending"
    audit = review.audit_run_request(trigger=AuditRun.Trigger.COMMAND, enqueue=False)
    assert audit.status == "queued"  # the slot is free again
