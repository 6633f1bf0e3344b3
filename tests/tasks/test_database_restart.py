"""A database that restarts under a running job: a progress write it refuses does not fail
the job, and a job that does fail says why instead of staying "running" until the reaper
blames a lost worker. PostgreSQL's restart is its server ending the job's connection
(pg_terminate_backend), which Django does not reconnect by itself inside a task."""

from __future__ import annotations

import contextlib

import pytest
from billiard.exceptions import WorkerLostError
from celery.signals import task_failure
from django.db import OperationalError, connection
from glitch_data import make_dataset, make_subject
from postgres_restart import end_this_connection

from tasks import predictions, training
from webapp.modeling import services
from webapp.modeling.models import ModelVersion, TrainingRun

pytestmark = pytest.mark.django_db(transaction=True)

needs_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="a SQLite database does not restart"
)


def as_the_dashboard_reads_it(row):
    """The row read on a connection of its own, as the web app's process reads it."""
    connection.close()
    row.refresh_from_db()
    return row


def heartbeat_that(when_progress: int, then, monkeypatch) -> None:
    """services.training_run_heartbeat, with `then()` before the n-th progress write (the
    training loop's; the heartbeat thread's beats carry no progress)."""
    real = services.training_run_heartbeat
    writes = {"n": 0}

    def heartbeat(**kwargs):
        if kwargs.get("progress") is not None:
            writes["n"] += 1
            if writes["n"] == when_progress:
                then()
        return real(**kwargs)

    monkeypatch.setattr(services, "training_run_heartbeat", heartbeat)


def test_a_progress_write_the_database_refuses_does_not_fail_the_training(
    tiny_settings, eager_celery, monkeypatch
):
    make_dataset()

    def refuse():
        raise OperationalError("server closed the connection unexpectedly")

    heartbeat_that(2, refuse, monkeypatch)
    with contextlib.suppress(OperationalError):  # eager: a failed task raises here
        services.training_run_request(trigger=TrainingRun.Trigger.COMMAND)

    run = TrainingRun.objects.get()
    assert run.status == TrainingRun.Status.SUCCEEDED, (run.status, run.error)


@needs_postgresql
def test_a_postgresql_restart_during_training_does_not_fail_the_run(
    tiny_settings, eager_celery, monkeypatch
):
    make_dataset()
    heartbeat_that(2, end_this_connection, monkeypatch)
    with contextlib.suppress(Exception):  # eager: a failed task raises here
        services.training_run_request(trigger=TrainingRun.Trigger.COMMAND)

    connection.close()  # read as the web app reads it, on a connection of its own
    run = TrainingRun.objects.get()
    assert run.status == TrainingRun.Status.SUCCEEDED, (run.status, run.error)
    assert ModelVersion.objects.get(training_run=run).is_active


@needs_postgresql
def test_a_training_that_a_postgresql_restart_fails_says_why(tiny_settings, monkeypatch):
    run = TrainingRun.objects.create(config={})

    def meets_a_restart(run, reporter):
        end_this_connection()
        return TrainingRun.objects.count()  # the task's next query

    monkeypatch.setattr(training, "_train", meets_a_restart)
    with pytest.raises(OperationalError):
        training.train_model.apply(args=[run.pk], task_id="t", throw=True)

    as_the_dashboard_reads_it(run)
    assert run.status == TrainingRun.Status.FAILED, (run.status, run.error)
    assert run.error.startswith("OperationalError: "), run.error


@needs_postgresql
def test_a_promote_whose_scoring_a_postgresql_restart_fails_ends_saying_why(
    tiny_settings, monkeypatch
):
    version = ModelVersion.objects.create(name="candidate", activation_pending=True)
    make_subject("Blip")
    real = predictions.selectors.subjects_to_score

    def meets_a_restart(**kwargs):
        end_this_connection()
        return real(**kwargs)

    monkeypatch.setattr(predictions.selectors, "subjects_to_score", meets_a_restart)
    with pytest.raises(OperationalError):
        predictions.score_subjects.apply(args=[version.pk], throw=True)

    as_the_dashboard_reads_it(version)
    assert not version.activation_pending  # not "switching" for 9 h
    assert version.activation_error.startswith("scoring failed: OperationalError"), (
        version.activation_error
    )


@needs_postgresql
def test_a_lost_worker_reported_after_a_postgresql_restart_fails_its_run(tiny_settings):
    run = TrainingRun.objects.create(config={})
    services.training_run_claim(run_id=run.pk, task_id="t", worker="gpu@a")
    end_this_connection()  # the worker's main process held this connection

    task_failure.send(
        sender=training.train_model,
        task_id="t",
        args=[run.pk],
        exception=WorkerLostError("Worker exited prematurely: signal 9 (SIGKILL)."),
    )

    as_the_dashboard_reads_it(run)
    assert run.status == TrainingRun.Status.FAILED, (run.status, run.error)
    assert run.error.startswith("worker lost: WorkerLostError"), run.error


def test_only_a_database_that_does_not_answer_is_written_around():
    """A missing column or bad data is a bug, not an outage: it must fail the job at once,
    not turn into a warning at every step for hours."""
    from django.db import DataError, ProgrammingError

    from tasks.common import unless_the_database_is_down

    with unless_the_database_is_down("progress"):
        raise OperationalError("server closed the connection unexpectedly")
    for bug in (ProgrammingError("column x does not exist"), DataError("value too long")):
        with pytest.raises(type(bug)), unless_the_database_is_down("progress"):
            raise bug
