"""Celery's configuration keeps long GPU jobs safe: routing, prefetch, acks, time limits."""

from __future__ import annotations

import pytest
from django.conf import settings

from tasks import queues
from tasks.celery import app, beat_schedule
from tasks.predictions import activate_and_reroute, score_subjects
from tasks.training import maybe_retrain, train_model


def test_gpu_work_goes_to_the_gpu_queue_and_the_rest_to_default():
    assert app.amqp.router.route({}, train_model.name)["queue"].name == queues.GPU
    assert app.amqp.router.route({}, score_subjects.name)["queue"].name == queues.GPU
    assert app.amqp.router.route({}, activate_and_reroute.name)["queue"].name == queues.DEFAULT
    assert app.amqp.router.route({}, maybe_retrain.name)["queue"].name == queues.DEFAULT


def test_a_worker_reserves_one_long_job_at_a_time():
    assert app.conf.worker_prefetch_multiplier == 1


def test_redis_does_not_redeliver_a_training_that_is_still_running():
    visibility = app.conf.broker_transport_options["visibility_timeout"]
    assert visibility > train_model.time_limit > train_model.soft_time_limit
    assert visibility > score_subjects.time_limit


def test_only_idempotent_tasks_ack_late():
    assert train_model.acks_late and score_subjects.acks_late and activate_and_reroute.acks_late
    assert not maybe_retrain.acks_late  # the beat sends it again on schedule anyway


def test_the_beat_checks_for_new_labels_every_n_hours_and_reaps_lost_runs(settings):
    settings.GLITCHLAB_RETRAIN_EVERY_HOURS = 6
    schedule = beat_schedule()
    assert schedule["retrain-when-enough-new-labels"]["schedule"].total_seconds() == 6 * 3600
    assert "reap-lost-runs" in schedule
    settings.GLITCHLAB_RETRAIN_EVERY_HOURS = 0
    assert "retrain-when-enough-new-labels" not in beat_schedule()


def test_every_beat_message_expires_before_the_next_one_is_sent(settings):
    """Messages never expired: after a worker outage the backlog of beats (a reaper per
    minute, a scoring check per 10) all ran at once when it came back."""
    settings.GLITCHLAB_RETRAIN_EVERY_HOURS = 6
    settings.GLITCHLAB_AUDIT_EVERY_HOURS = 24
    schedule = beat_schedule()
    assert {"reap-lost-runs", "audit-labels", "retrain-when-enough-new-labels"} <= set(schedule)
    for name, entry in schedule.items():
        expires = entry.get("options", {}).get("expires")
        assert expires is not None, name
        assert 0 < expires <= entry["schedule"].total_seconds(), name


def test_broker_defaults_to_the_redis_url():
    assert settings.CELERY_BROKER_URL.startswith("redis://")


@pytest.mark.django_db
def test_the_beat_retrains_only_when_enough_new_labels_exist(
    tiny_settings, django_capture_on_commit_callbacks
):
    from glitch_data import make_subject

    from webapp.modeling.models import TrainingRun

    tiny_settings.GLITCHLAB_RETRAIN_MIN_NEW_LABELS = 2
    make_subject("Blip", retired=True)
    assert maybe_retrain.apply().get()["started"] is False
    make_subject("Whistle", retired=True)
    with django_capture_on_commit_callbacks() as sent:
        result = maybe_retrain.apply().get()
    assert result["started"] is True and len(sent) == 1
    assert TrainingRun.objects.get().trigger == TrainingRun.Trigger.SCHEDULE
    assert maybe_retrain.apply().get()["started"] is False  # one run at a time


@pytest.mark.django_db
def test_the_beat_does_not_retrain_the_labels_a_candidate_not_promoted_was_trained_on(
    tiny_settings, django_capture_on_commit_callbacks
):
    """Before: new labels were counted since the active model, so after a candidate the gate
    did not pass the daily check trained the same labels again, every day."""
    import datetime as dt

    from django.utils import timezone
    from glitch_data import make_subject

    from webapp.labeling.models import Subject
    from webapp.modeling.models import ModelVersion

    tiny_settings.GLITCHLAB_RETRAIN_MIN_NEW_LABELS = 2
    start = timezone.now() - dt.timedelta(days=3)
    active = ModelVersion.objects.create(name="active", is_active=True)
    ModelVersion.objects.filter(pk=active.pk).update(created_at=start)

    def retire(label: str, days: float) -> None:
        subject = make_subject(label, retired=True)
        Subject.objects.filter(pk=subject.pk).update(retired_at=start + dt.timedelta(days=days))

    retire("Blip", 1)
    retire("Whistle", 1)
    candidate = ModelVersion.objects.create(name="not-promoted", gate=ModelVersion.Gate.UNDECIDED)
    ModelVersion.objects.filter(pk=candidate.pk).update(created_at=start + dt.timedelta(days=2))
    assert maybe_retrain.apply().get()["started"] is False  # those two trained the candidate
    retire("Blip", 2.5)
    retire("Whistle", 2.5)
    with django_capture_on_commit_callbacks() as sent:
        assert maybe_retrain.apply().get()["started"] is True
    assert len(sent) == 1


def test_every_late_acking_task_ends_before_redis_would_deliver_it_again():
    """A message acked late is delivered again once the visibility timeout passes: a task
    with no time limit (activate_and_reroute holds every open subject's row lock in one
    transaction; cluster_subjects runs UMAP) could run on past it, twice, or forever."""
    import tasks.discovery  # noqa: F401 - registers its tasks
    import tasks.review  # noqa: F401

    visibility = app.conf.broker_transport_options["visibility_timeout"]
    late = [t for name, t in app.tasks.items() if name.startswith("tasks.") and t.acks_late]
    assert len(late) >= 6
    unlimited = [t.name for t in late if not t.time_limit or t.time_limit >= visibility]
    assert unlimited == []


@pytest.mark.django_db
def test_the_beat_clears_expired_sessions_once_a_day():
    """Before: expired session rows stayed in the database for ever (nothing ran Django's
    clearsessions), one per login and per kept draft."""
    import datetime as dt

    from django.contrib.sessions.models import Session
    from django.utils import timezone

    from tasks.housekeeping import clear_expired_sessions

    entry = beat_schedule()["clear-expired-sessions"]
    assert entry["task"] == clear_expired_sessions.name
    assert entry["schedule"].total_seconds() == 24 * 3600
    assert app.amqp.router.route({}, clear_expired_sessions.name)["queue"].name == queues.DEFAULT
    now = timezone.now()
    Session.objects.create(session_key="old", session_data="", expire_date=now - dt.timedelta(1))
    Session.objects.create(session_key="live", session_data="", expire_date=now + dt.timedelta(1))
    clear_expired_sessions.apply().get()
    assert list(Session.objects.values_list("session_key", flat=True)) == ["live"]
