"""The steps after a model is chosen are chained explicitly: the activation task itself
queues the embeddings of the version it made active (no signal receiver does it)."""

from __future__ import annotations

import weakref

import pytest
from celery.signals import task_success

from tasks import discovery as discovery_tasks
from tasks import predictions
from webapp.discovery.models import EmbeddingSet
from webapp.modeling.models import ModelVersion

pytestmark = pytest.mark.django_db


@pytest.fixture
def queued(monkeypatch) -> list[int]:
    sent: list[int] = []
    monkeypatch.setattr(discovery_tasks.embed_subjects, "delay", sent.append)
    return sent


@pytest.fixture
def activate(django_capture_on_commit_callbacks):
    def run(version_id: int) -> dict:
        # .run: the bare body, with no Celery signal around it; then the commit.
        with django_capture_on_commit_callbacks(execute=True):
            return predictions.activate_and_reroute.run(version_id)

    return run


def test_activating_a_version_queues_its_embeddings_from_the_task_body(queued, activate):
    version = ModelVersion.objects.create(name="new", activation_pending=True)
    result = activate(version.pk)
    assert result["status"] == "active" and queued == [version.pk]


def test_a_superseded_activation_embeds_nothing(queued, activate):
    version = ModelVersion.objects.create(name="old")  # neither pending nor active
    assert activate(version.pk)["status"] == "superseded"
    assert queued == []


def test_no_task_success_receiver_starts_jobs():
    import tasks.celery  # noqa: F401  (every task module, as a worker loads them)

    receivers = [
        ref() if isinstance(ref, weakref.ref) else ref for _, ref in task_success.receivers
    ]
    modules = {getattr(fn, "__module__", "") for fn in receivers if fn is not None}
    assert not any(m.startswith("tasks") for m in modules), modules


def test_a_refused_embedding_job_says_so_on_its_row(monkeypatch, activate):
    from kombu.exceptions import OperationalError

    def refuse(*args):
        raise OperationalError("Error 111 connecting to 127.0.0.1:1. Connection refused.")

    monkeypatch.setattr(discovery_tasks.embed_subjects, "delay", refuse)
    monkeypatch.setattr(
        discovery_tasks.embed_subjects.app.conf, "task_always_eager", False, raising=False
    )
    version = ModelVersion.objects.create(name="new", activation_pending=True)
    assert activate(version.pk)["status"] == "active"
    row = EmbeddingSet.objects.get(model_version=version)
    assert row.status == EmbeddingSet.Status.FAILED and "did not answer" in row.error


def test_a_promote_whose_scoring_worker_was_lost_ends_at_once_saying_why():
    """A killed scoring job (OOM, a hard time limit) reaches no except block: the promote
    showed "switching" until it expired hours later. The worker's main process reports the
    loss (task_failure), which now ends the request."""
    from billiard.exceptions import WorkerLostError
    from celery.signals import task_failure

    from tasks.predictions import score_subjects
    from webapp.modeling.models import ModelVersion

    version = ModelVersion.objects.create(name="candidate", activation_pending=True)

    task_failure.send(
        sender=score_subjects,
        task_id="lost",
        args=(version.pk,),
        exception=WorkerLostError("Worker exited prematurely: signal 9 (SIGKILL)."),
    )

    version.refresh_from_db()
    assert not version.activation_pending and not version.is_active
    assert version.activation_error.startswith("not switched: worker lost: WorkerLostError")


def test_the_embeddings_an_activation_queues_wait_as_pending(queued, activate):
    """Queued, they are not told apart from embeddings that failed or were never made: the
    discovery page offers to embed again only those."""
    fresh = ModelVersion.objects.create(name="fresh", activation_pending=True)
    activate(fresh.pk)
    assert EmbeddingSet.objects.get(model_version=fresh).status == EmbeddingSet.Status.PENDING

    again = ModelVersion.objects.create(name="again", activation_pending=True)
    EmbeddingSet.objects.create(model_version=again, status="failed", error="worker lost")
    activate(again.pk)
    row = EmbeddingSet.objects.get(model_version=again)
    assert (row.status, row.error) == (EmbeddingSet.Status.PENDING, "")
    assert queued == [fresh.pk, again.pk]
