"""The re-route that follows the beat's scoring of new subjects with the active model: when
it fails (the database, its worker lost, the broker refusing it), the dashboard says why
and the next beat queues it again, until the new subjects are ranked by the model. Before,
it was never queued again (their predictions exist, so the beat saw nothing to do) and
nothing said so: the new subjects waited at priority 0 until the next promote."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
from billiard.exceptions import WorkerLostError
from celery.signals import task_failure
from django.db import OperationalError
from django.utils import timezone
from glitch_data import make_subject
from kombu.exceptions import OperationalError as BrokerDown

from tasks import predictions
from tasks.common import scoring_wait_s
from webapp.labeling.models import Subject
from webapp.modeling import services
from webapp.modeling.models import ModelVersion, Prediction

pytestmark = pytest.mark.django_db

REFUSED = "Error 111 connecting to 127.0.0.1:6379. Connection refused."


@pytest.fixture
def fake_model(monkeypatch):
    """A model that scores every glitch a confident Blip (no checkpoint, no torch)."""
    model = SimpleNamespace(encoding="rgb-durations", image_size=8, class_names=["Blip", "Whistle"])
    monkeypatch.setattr("ml.model.load_model", lambda *a, **k: model)

    def predict_and_embed(model, images, views=None):
        n = len(images)
        vectors = np.random.default_rng(0).normal(size=(n, 16)).astype(np.float32)
        return np.tile([[0.97, 0.03]], (n, 1)), vectors

    monkeypatch.setattr("ml.model.predict_and_embed", predict_and_embed)
    monkeypatch.setattr("tasks.discovery.embed_subjects.delay", lambda *a: None)
    return model


@dataclass
class Chain:
    """The beat, the scoring and the re-route, with the broker's queue as lists."""

    commit: Any
    scorings: list[int] = field(default_factory=list)
    reroutes: list[int] = field(default_factory=list)
    broker_down: bool = False

    def send_reroute(self, version_id: int) -> None:
        if self.broker_down:
            raise BrokerDown(REFUSED)
        self.reroutes.append(version_id)

    def beat(self) -> dict[str, Any]:
        with self.commit(execute=True):
            return predictions.score_unscored.run()

    def score(self, version_id: int) -> None:
        with self.commit(execute=True):
            predictions.score_subjects.run(version_id)

    def reroute(self, version_id: int) -> None:
        with self.commit(execute=True):
            predictions.activate_and_reroute.run(version_id)


@pytest.fixture
def chain(tiny_settings, fake_model, monkeypatch, django_capture_on_commit_callbacks) -> Chain:
    chain = Chain(commit=django_capture_on_commit_callbacks)
    monkeypatch.setattr(predictions.score_subjects, "delay", chain.scorings.append)
    monkeypatch.setattr(predictions.activate_and_reroute, "delay", chain.send_reroute)
    return chain


@pytest.fixture
def scored(chain) -> tuple[ModelVersion, Subject]:
    """An active model and a subject imported after its activation, scored by the beat:
    its re-route is queued, not yet run."""
    active = ModelVersion.objects.create(
        name="active", is_active=True, model_dir="/x", class_names=["Blip", "Whistle"]
    )
    new = make_subject("Blip")
    chain.beat()
    assert chain.scorings == [active.pk]
    chain.score(active.pk)
    assert Prediction.objects.filter(model_version=active, subject=new).exists()
    return active, new


KILLED = WorkerLostError("Worker exited prematurely: signal 9 (SIGKILL).")


def worker_reports(task: Any, version: ModelVersion, exception: BaseException) -> None:
    """The worker's main process reports the task failed (task_failure), as Celery does when
    the task raised or its prefork child was killed (no except block of its own ran)."""
    task_failure.send(sender=task, task_id="t", args=(version.pk,), exception=exception)


def shown(client, version: ModelVersion) -> str:
    """The re-route error as the dashboard and its status JSON show it ("" if neither)."""
    page = client.get("/modeling/").content.decode()
    state = client.get("/modeling/status.json").json()
    in_json = state["active_model"].get("reroute_error", "")
    in_page = 'data-testid="reroute-error"' in page and in_json in page
    assert bool(in_json) == in_page, (in_json, page)
    return in_json


def ranked_after_the_next_beat(chain: Chain, version: ModelVersion, subject: Subject, client):
    """The beat queues the owed re-route again, once services.REROUTE_RETRY_AFTER_S have
    passed since it failed (not at every beat: one that fails each time would run every ten
    minutes); once it runs, the subject is ranked by the model and the dashboard says
    nothing more."""
    chain.reroutes.clear()
    chain.beat()
    assert chain.reroutes == []  # failed just now: not yet
    failed = timezone.now() - timedelta(seconds=services.REROUTE_RETRY_AFTER_S + 1)
    ModelVersion.objects.filter(pk=version.pk).update(reroute_queued_at=failed)
    chain.beat()
    assert chain.reroutes == [version.pk]
    chain.beat()
    assert chain.reroutes == [version.pk]  # queued: not queued again at every beat
    chain.reroute(version.pk)
    subject.refresh_from_db()
    assert subject.priority > 0
    assert shown(client, version) == ""
    chain.beat()
    assert chain.reroutes == [version.pk]  # done: nothing owed


def test_a_reroute_the_database_failed_is_shown_and_queued_again(
    chain, scored, monkeypatch, admin_client
) -> None:
    active, new = scored
    assert chain.reroutes == [active.pk]

    def closed(**_: Any) -> int:
        raise OperationalError("server closed the connection unexpectedly")

    with monkeypatch.context() as m:
        m.setattr(services, "queue_reroute", closed)
        with pytest.raises(OperationalError):
            chain.reroute(active.pk)
    # the worker's parent reports the same failure again (task_failure): nothing changes
    worker_reports(
        predictions.activate_and_reroute,
        active,
        OperationalError("server closed the connection unexpectedly"),
    )

    new.refresh_from_db()
    assert new.priority == 0.0
    assert shown(admin_client, active) == (
        "not re-routed: OperationalError: server closed the connection unexpectedly"
    )
    ranked_after_the_next_beat(chain, active, new, admin_client)


def test_a_reroute_whose_worker_was_lost_is_shown_and_queued_again(
    chain, scored, admin_client
) -> None:
    """Its prefork child killed (OOM) while it recomputed every open consensus: no except
    block ran; the worker's main process reports it (task_failure)."""
    active, new = scored
    worker_reports(predictions.activate_and_reroute, active, KILLED)

    new.refresh_from_db()
    assert new.priority == 0.0
    assert shown(admin_client, active).startswith("not re-routed: worker lost: WorkerLostError")
    ranked_after_the_next_beat(chain, active, new, admin_client)


def test_a_reroute_the_broker_refused_is_shown_and_queued_again(chain, admin_client) -> None:
    active = ModelVersion.objects.create(
        name="active", is_active=True, model_dir="/x", class_names=["Blip", "Whistle"]
    )
    new = make_subject("Blip")
    chain.beat()
    chain.broker_down = True
    chain.score(active.pk)  # scored; its re-route is refused
    assert Prediction.objects.filter(model_version=active, subject=new).exists()
    assert "did not answer" in shown(admin_client, active)

    chain.beat()  # still down: refused again, still shown
    assert "did not answer" in shown(admin_client, active)
    new.refresh_from_db()
    assert new.priority == 0.0

    chain.broker_down = False
    ranked_after_the_next_beat(chain, active, new, admin_client)


def test_a_reroute_lost_without_a_word_is_queued_again_once_it_is_stale(chain, scored) -> None:
    """Its message lost (Redis lost its data) or its whole worker killed: no failure is
    reported. The beat queues it again once it is older than a scoring may wait."""
    active, _ = scored
    chain.beat()
    waiting = timezone.now() - timedelta(seconds=scoring_wait_s() - 60)
    ModelVersion.objects.filter(pk=active.pk).update(reroute_queued_at=waiting)
    chain.beat()
    assert chain.reroutes == [active.pk]  # the scoring's, waiting or running
    lost = timezone.now() - timedelta(seconds=scoring_wait_s() + 60)
    ModelVersion.objects.filter(pk=active.pk).update(reroute_queued_at=lost)
    chain.beat()
    assert chain.reroutes == [active.pk, active.pk]


def test_a_new_active_model_drops_the_old_ones_owed_reroute(chain, scored) -> None:
    """The next model routes every open subject: the old one owes nothing, and a late
    failure report of its re-route changes nothing."""
    old, _ = scored
    new_model = ModelVersion.objects.create(
        name="next", activation_pending=True, class_names=["Blip", "Whistle"]
    )
    chain.reroute(new_model.pk)
    services.model_version_switch_failed(version_id=old.pk, reason="worker lost: late")
    old.refresh_from_db()
    assert not old.is_active
    assert (old.reroute_queued_at, old.reroute_error) == (None, "")


def test_a_scoring_whose_worker_was_lost_is_shown_and_queued_again_at_the_next_beat(
    chain, admin_client
) -> None:
    """Before: the beat's scoring of new subjects killed with its worker (OOM) recorded
    nothing (the handler only ended a pending request) and its claim stayed taken: the next
    beats queued nothing for 9 h, and the dashboard said nothing."""
    active = ModelVersion.objects.create(
        name="active", is_active=True, model_dir="/x", class_names=["Blip", "Whistle"]
    )
    make_subject("Blip")
    chain.beat()
    assert chain.scorings == [active.pk]  # queued; its worker is killed while it scores
    worker_reports(predictions.score_subjects, active, KILLED)
    active.refresh_from_db()
    assert active.scoring_error.startswith("scoring failed: worker lost: WorkerLostError")
    assert "worker lost" in admin_client.get("/modeling/").content.decode()
    chain.beat()
    assert chain.scorings == [active.pk, active.pk]  # queued again at once
