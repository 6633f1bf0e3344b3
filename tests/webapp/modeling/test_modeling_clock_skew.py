"""Hosts whose clocks disagree (a GPU host minutes behind or ahead of the web host) share
one clock for the jobs: the database's. A claim, a heartbeat or a worker's beat written on
one host is judged by the reaper, a redelivery or the dashboard on another."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from webapp.modeling import selectors, services
from webapp.modeling.models import TrainingRun, WorkerBeat

pytestmark = pytest.mark.django_db


@pytest.fixture
def host_clock(monkeypatch):
    """Set this process's clock `seconds` off the true time (the database's)."""
    true_now = timezone.now

    def off_by(seconds: float) -> None:
        monkeypatch.setattr(timezone, "now", lambda: true_now() + timedelta(seconds=seconds))

    return off_by


def test_a_gpu_host_6_min_behind_keeps_its_training_alive(settings, host_clock):
    settings.GLITCHLAB_HEARTBEAT_TIMEOUT_S = 300
    run = TrainingRun.objects.create(config={})
    host_clock(-360)  # the GPU host
    services.training_run_claim(run_id=run.pk, task_id="t", worker="gpu@a")
    assert not services.training_run_heartbeat(run_id=run.pk, task_id="t")

    host_clock(0)  # the reaper, on the beat's host
    assert services.training_runs_fail_lost(silent_for_s=300) == 0

    run.refresh_from_db()
    assert run.status == TrainingRun.Status.RUNNING, run.error


def test_a_gpu_host_6_min_ahead_does_not_take_over_a_run_that_beats(settings, host_clock):
    settings.GLITCHLAB_HEARTBEAT_TIMEOUT_S = 300
    run = TrainingRun.objects.create(config={})
    services.training_run_claim(run_id=run.pk, task_id="t", worker="gpu@a")
    services.training_run_heartbeat(run_id=run.pk, task_id="t")

    host_clock(+360)  # another GPU host, handed the same message again
    assert services.training_run_claim(run_id=run.pk, task_id="t2", worker="gpu@b") is None

    run.refresh_from_db()
    assert (run.worker, run.celery_task_id) == ("gpu@a", "t")


def test_a_gpu_worker_40_s_behind_is_shown_alive(settings, host_clock):
    settings.GLITCHLAB_HEARTBEAT_EVERY_S = 10  # shown alive while seen within 30 s
    host_clock(-40)  # the GPU worker's beat
    services.worker_beat(hostname="gpu@a", queues=["gpu"], takes_gpu_jobs=True)

    host_clock(0)  # the dashboard, on the web host
    state = selectors.dashboard_state()
    assert state["gpu_worker_alive"] and state["gpu_workers"] == ["gpu@a"], state["workers"]


def test_a_worker_that_stopped_beating_is_still_shown_gone(settings):
    settings.GLITCHLAB_HEARTBEAT_EVERY_S = 10
    services.worker_beat(hostname="gpu@a", queues=["gpu"], takes_gpu_jobs=True)
    services.worker_beat(hostname="gpu@b", queues=["gpu"], takes_gpu_jobs=True)
    silent = timezone.now() - timedelta(seconds=31)
    WorkerBeat.objects.filter(hostname="gpu@b").update(seen_at=silent)
    assert selectors.dashboard_state()["gpu_workers"] == ["gpu@a"]
