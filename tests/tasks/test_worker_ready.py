"""A worker that starts before the database is up or migrated still beats: its start-up
clean-up of the jobs it had claimed before (tasks.celery's worker_ready handler) failing is
logged and tried again at its heartbeats, and the dashboard sees the worker meanwhile."""

from __future__ import annotations

import logging
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.db import OperationalError, ProgrammingError
from django.utils import timezone

import tasks.common
import tasks.training
from tasks import celery as celery_module
from webapp.discovery.models import EmbeddingSet
from webapp.modeling.models import ModelVersion, WorkerBeat
from webapp.review.models import AuditRun

pytestmark = pytest.mark.django_db

HOST = "gpu@starting"


class Heartbeats:
    """Stands in for tasks.common.Heartbeat: records each started beat, starts no thread."""

    started: list[Heartbeats] = []

    def __init__(self, beat, every_s: float) -> None:
        self.beat = beat

    def __enter__(self) -> Heartbeats:
        Heartbeats.started.append(self)
        return self


class Clock:
    """time.monotonic for tasks.celery, moved on by the test."""

    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now


@pytest.fixture
def worker_start(monkeypatch):
    """(calls of fail_lost_jobs, the errors it raises first, the clock); the real one
    runs once the errors are used up."""
    Heartbeats.started = []
    monkeypatch.setattr(tasks.common, "Heartbeat", Heartbeats)
    clock = Clock()
    monkeypatch.setattr(celery_module, "time", clock, raising=False)
    calls: list[dict] = []
    errors: list[Exception] = []
    real = tasks.training.fail_lost_jobs

    def fail_lost_jobs(**kwargs):
        calls.append(kwargs)
        if errors:
            raise errors.pop(0)
        return real(**kwargs)

    monkeypatch.setattr(tasks.training, "fail_lost_jobs", fail_lost_jobs)
    return calls, errors, clock


def start_worker() -> None:
    celery_module._fail_runs_this_worker_lost(sender=SimpleNamespace(hostname=HOST))


def test_a_failing_clean_up_still_starts_the_heartbeat(worker_start, caplog):
    calls, errors, _ = worker_start
    errors.append(ProgrammingError('relation "modeling_trainingrun" does not exist'))

    with caplog.at_level(logging.WARNING):
        start_worker()  # before: the error went out of the handler, and nothing beat

    assert WorkerBeat.objects.filter(hostname=HOST).exists()
    assert len(Heartbeats.started) == 1
    assert "tried again at each heartbeat" in caplog.text
    assert 'relation "modeling_trainingrun" does not exist' in caplog.text

    Heartbeats.started[0].beat()  # the database migrated: the clean-up is done at last
    Heartbeats.started[0].beat()
    assert len(calls) == 2  # once failed, once done, then no more


def test_a_clean_up_tried_again_fails_only_the_jobs_claimed_before_the_start(worker_start):
    calls, errors, clock = worker_start
    errors.append(ProgrammingError("not migrated"))
    now = timezone.now()
    lost = AuditRun.objects.create(
        status="running", worker=HOST, heartbeat_at=now - timedelta(minutes=10)
    )
    start_worker()
    # A minute later the worker has claimed an embedding job, which beats
    clock.now += 60
    taken = EmbeddingSet.objects.create(
        model_version=ModelVersion.objects.create(name="m"),
        status="running",
        worker=HOST,
        heartbeat_at=now - timedelta(seconds=20),
    )

    Heartbeats.started[0].beat()

    assert calls[-1] == {"worker": HOST, "silent_for_s": 60.0}
    lost.refresh_from_db()
    taken.refresh_from_db()
    assert lost.status == "failed" and "restarted" in lost.error
    assert taken.status == "running"


def test_a_worker_down_with_the_database_beats_once_it_is_back(worker_start, monkeypatch):
    """The first beat failing too (no database at all) still starts the heartbeat."""
    _, errors, _ = worker_start
    from webapp.modeling import services

    real_beat = services.worker_beat
    down = [True]

    def worker_beat(**kwargs):
        if down[0]:
            raise OperationalError("connection refused")
        return real_beat(**kwargs)

    monkeypatch.setattr(services, "worker_beat", worker_beat)
    errors.append(OperationalError("connection refused"))
    start_worker()
    assert not WorkerBeat.objects.filter(hostname=HOST).exists()
    down[0] = False
    Heartbeats.started[0].beat()
    assert WorkerBeat.objects.filter(hostname=HOST).exists()
