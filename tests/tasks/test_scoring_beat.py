"""The beat's scoring of new subjects (tasks.predictions.score_unscored) keeps one job on
the GPU queue at most, and does not queue one for subjects it already knows do not decode."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from django.utils import timezone
from glitch_data import make_subject

from tasks import predictions
from tasks.common import scoring_wait_s
from webapp.modeling.models import ModelVersion

pytestmark = pytest.mark.django_db


@pytest.fixture
def beat(monkeypatch, django_capture_on_commit_callbacks):
    """Runs score_unscored as the beat would; returns the versions it queued scoring for."""
    sent: list[int] = []
    monkeypatch.setattr(predictions.score_subjects, "delay", sent.append)

    def run() -> list[int]:
        with django_capture_on_commit_callbacks(execute=True):
            predictions.score_unscored.run()
        return sent

    return run


def test_a_scoring_job_waiting_behind_a_training_is_not_joined_by_another(
    tiny_settings, tmp_path, beat
) -> None:
    """A 6 h training on the one GPU worker used to collect a scoring job at every beat
    (36 of them), each loading the model and re-routing the queue when its turn came."""
    version = ModelVersion.objects.create(
        name="active", is_active=True, model_dir=str(tmp_path / "gone")
    )
    make_subject("Blip")  # imported after the activation: unscored
    assert beat() == [version.pk]
    assert beat() == [version.pk]  # 10 minutes later, the job still waits
    assert beat() == [version.pk]

    with pytest.raises(Exception, match="no model at"):  # the job runs (and fails)
        predictions.score_subjects.run(version.pk)
    assert beat() == [version.pk, version.pk]  # it ended: the next beat queues again


def test_a_scoring_job_lost_on_its_way_is_queued_again_later(tiny_settings, beat) -> None:
    """Its message lost (Redis lost its data) or its worker killed: the job never ends. The
    beat queues another once it is older than a training and a scoring can take."""
    version = ModelVersion.objects.create(name="active", is_active=True)
    make_subject("Blip")
    assert beat() == [version.pk]
    queued = timezone.now() - timedelta(seconds=scoring_wait_s() - 60)
    ModelVersion.objects.filter(pk=version.pk).update(scoring_queued_at=queued)
    assert beat() == [version.pk]
    lost = timezone.now() - timedelta(seconds=scoring_wait_s() + 60)
    ModelVersion.objects.filter(pk=version.pk).update(scoring_queued_at=lost)
    assert beat() == [version.pk, version.pk]


def test_a_subject_that_does_not_decode_does_not_queue_a_job_at_every_beat(
    tiny_settings, monkeypatch, beat
) -> None:
    """Such a subject never gets a prediction: counted as unscored, it queued a GPU job (and
    a model load, and a decode) every 10 minutes, forever. A new subject still does."""
    version = ModelVersion.objects.create(name="active", is_active=True, model_dir="/x")
    broken = make_subject("Blip")
    for image in broken.images.all():
        Path(image.image.path).write_bytes(b"not a png")
    loads: list[Any] = []

    def load_model(*args: Any, **kwargs: Any) -> SimpleNamespace:
        loads.append(args)
        return SimpleNamespace(encoding="rgb-durations", image_size=32, class_names=["Blip"])

    monkeypatch.setattr("ml.model.load_model", load_model)
    assert predictions.score_subjects.run(version.pk)["scored"] == 0  # logged and skipped
    assert beat() == []

    make_subject("Whistle")  # a new import
    assert beat() == [version.pk]


def test_many_unreadable_subjects_neither_stop_the_beat_nor_stay_unscored_for_good(
    tiny_settings, beat
) -> None:
    """Before: the ids the last scoring could not read went into the beat's count as a
    list, a parameter each (PostgreSQL takes 65,535: a large import on a broken media
    mount made the beat fail at every run), and they were passed over for good even when
    the failure had passed. Now the count's statement does not grow with the list, and the
    list is trusted for UNSCORABLE_RETRY_AFTER."""
    from django.db import connection

    from webapp.modeling.selectors import UNSCORABLE_RETRY_AFTER

    unreadable = make_subject("Blip")
    version = ModelVersion.objects.create(
        name="active",
        is_active=True,
        scored_at=timezone.now(),
        unscorable_subject_ids=[unreadable.pk, *range(10**6, 10**6 + 70_000)],
    )
    sizes: list[int] = []

    def count(execute, sql, params, many, context):
        sizes.append(len(params or ()))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        assert beat() == []
    assert max(sizes) < 100
    a_day_later = timezone.now() - UNSCORABLE_RETRY_AFTER - timedelta(minutes=1)
    ModelVersion.objects.filter(pk=version.pk).update(scored_at=a_day_later)
    assert beat() == [version.pk]  # tried again
