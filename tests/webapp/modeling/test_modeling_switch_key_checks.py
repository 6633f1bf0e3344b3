"""A model's switch (a promote, a roll back, an owed re-route) holds its version's row and
the open glitches for as long as it recomputes them: FOR NO KEY UPDATE, so that rows which
only name them wait for nothing (docs/labelling.md, "Lock order"). A prediction stored
meanwhile checks, as it commits, that its version and its glitch exist (FOR KEY SHARE).
Before, the switch held both FOR UPDATE: the beat's scoring of newly imported glitches
(the GPU worker) waited for the whole switch of the same model (the re-route that its
last scoring owed, on the default queue), which on a large pool recomputes every open
glitch. Not a deadlock: the switch takes the version first and waits for nothing the
scoring holds. The switch is paused while it holds its locks (tests/webapp/races.py);
PostgreSQL only."""

import threading

import numpy as np
import pytest
from django.db import connection
from django.utils import timezone
from races import in_threads, until_reached_or_waiting
from webapp_factories import SubjectFactory

from webapp.labeling.models import Subject
from webapp.modeling import services
from webapp.modeling.models import ModelVersion, Prediction

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="needs row locks: run with DATABASE_URL=postgres"
    ),
]

CLASSES = ["Blip", "Whistle"]


def scored(version: ModelVersion, subject_id: int) -> None:
    services.predictions_store(
        version_id=version.pk,
        subject_ids=[subject_id],
        probs=np.array([[0.95, 0.05]]),
        class_names=CLASSES,
    )


def test_the_beats_scoring_stores_its_predictions_while_a_reroute_of_its_model_runs(
    seeded, monkeypatch
):
    seeded.GLITCHLAB_LEVELS = [["Blip", "Whistle"], ["Koi_Fish"]]
    active = ModelVersion.objects.create(name="active", class_names=CLASSES, is_active=True)
    old = SubjectFactory(images=(1.0,)).pk
    scored(active, old)
    new = SubjectFactory(images=(1.0,)).pk  # imported since: no prediction yet
    ModelVersion.objects.filter(pk=active.pk).update(reroute_queued_at=timezone.now())

    switch_holds_them = threading.Event()
    stored = threading.Event()
    held_back = []
    reroute = services.queue_reroute

    def pause_before_the_reroute(**kwargs):  # the version's row and both glitches held
        switch_holds_them.set()
        until_reached_or_waiting(stored)  # the predictions stored, or waiting for a lock
        held_back.append(not stored.is_set())
        return reroute(**kwargs)

    monkeypatch.setattr(services, "queue_reroute", pause_before_the_reroute)

    def switch():
        services.model_version_activate(version_id=active.pk)

    def beats_scoring():
        assert switch_holds_them.wait(20)
        scored(active, new)
        stored.set()

    assert in_threads(switch, beats_scoring) == []
    assert held_back == [False]  # stored while the switch held its locks
    assert Prediction.objects.filter(model_version=active, subject_id=new).exists()
    # the re-route, which read the predictions after they were stored, ranked it too
    assert Subject.objects.get(pk=new).priority > 0
