"""Discovery's jobs of the active model, lost (a worker killed, a broker that refused the
clustering), are recorded on their row and run again when an admin asks: the embedding
once however often its message comes, the map and clusters once made, the claim freed."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from billiard.exceptions import WorkerLostError
from celery.signals import task_failure
from glitch_data import make_dataset
from kombu.exceptions import OperationalError

from ml.encoding import Decodable
from tasks import discovery as discovery_tasks
from webapp.discovery import selectors, services
from webapp.discovery.models import EmbeddingSet
from webapp.modeling.models import ModelVersion

pytestmark = pytest.mark.django_db

LOST = WorkerLostError("Worker exited prematurely: signal 9 (SIGKILL).")


@pytest.fixture
def fake_model(monkeypatch, tiny_settings, tmp_path):
    """A model and a UMAP that cost nothing: what is tested is the jobs' bookkeeping."""
    tiny_settings.GLITCHLAB_DISCOVERY_DIR = tmp_path / "discovery"
    model = SimpleNamespace(encoding="rgb-durations", image_size=4, class_names=["Blip"])
    monkeypatch.setattr("ml.model.load_model", lambda path, device: model)
    monkeypatch.setattr(
        "ml.encoding.encode_decodable",
        lambda samples, encoding, size, **_: Decodable(
            np.zeros((len(samples), 3, 4, 4), np.uint8), samples, list(range(len(samples))), []
        ),
    )
    rng = np.random.default_rng(0)
    monkeypatch.setattr(
        "ml.embed.embed",
        lambda m, images, **k: rng.normal(size=(len(images), 8)).astype(np.float32),
    )
    monkeypatch.setattr(
        "ml.cluster.umap_project", lambda unit, **k: np.zeros((len(unit), 2), np.float32)
    )
    make_dataset()


@pytest.fixture
def sent(monkeypatch) -> dict[str, list[int]]:
    queued: dict[str, list[int]] = {"embed": [], "map": []}
    monkeypatch.setattr(discovery_tasks.embed_subjects, "delay", queued["embed"].append)
    monkeypatch.setattr(discovery_tasks.cluster_subjects, "delay", queued["map"].append)
    return queued


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """Run `job()` and then its transaction's on-commit callbacks (what it queued), as a
    worker or a request outside the test's transaction does at once."""

    def run(job):
        with django_capture_on_commit_callbacks(execute=True):
            return job()

    return run


def health() -> selectors.EmbeddingsHealth:
    return selectors.embeddings_health(current=selectors.embedding_set_current())


def test_a_clustering_the_broker_refuses_is_recorded_and_made_when_asked_again(
    fake_model, monkeypatch, committed
):
    version = ModelVersion.objects.create(name="run-2", is_active=True, model_dir="/x")

    def refuse(*args: object) -> None:
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(discovery_tasks.cluster_subjects, "delay", refuse)
    result = committed(lambda: discovery_tasks.embed_subjects.apply(args=[version.pk]))

    assert result.state == "SUCCESS" and result.get()["status"] == "ready"  # stored: done
    row = EmbeddingSet.objects.get(model_version=version)
    assert row.status == "ready" and not row.has_map and row.map_queued_at is None
    assert row.error.startswith("the task broker (Redis) did not answer")
    assert health().map_again and not health().map_making

    queued: list[int] = []
    monkeypatch.setattr(discovery_tasks.cluster_subjects, "delay", queued.append)
    committed(lambda: services.embedding_set_map_request(set_id=row.pk))
    assert queued == [row.pk] and health().map_making
    assert discovery_tasks.cluster_subjects.apply(args=[row.pk]).get()["set_id"] == row.pk

    row.refresh_from_db()
    assert row.has_map and row.error == "" and row.map_queued_at is None
    assert not health().map_again and not health().behind


def test_embeddings_lost_with_their_worker_are_embedded_once_when_asked_again(
    fake_model, sent, committed
):
    run1 = ModelVersion.objects.create(name="run-1", model_dir="/x")
    assert discovery_tasks.embed_subjects.apply(args=[run1.pk]).get()["status"] == "ready"
    version = ModelVersion.objects.create(name="run-2", is_active=True, model_dir="/x")
    services.embedding_set_claim(version_id=version.pk, worker="gpu@h")
    task_failure.send(
        sender=discovery_tasks.embed_subjects, task_id="t", args=(version.pk,), exception=LOST
    )
    assert health().embed_again and health().active_set.status == "failed"

    committed(lambda: services.embedding_set_request(version_id=version.pk))
    assert sent["embed"] == [version.pk] and not health().embed_again

    # The one message delivered twice (Redis hands it out again): the second does nothing.
    first = committed(lambda: discovery_tasks.embed_subjects.apply(args=[version.pk]).get())
    second = committed(lambda: discovery_tasks.embed_subjects.apply(args=[version.pk]).get())
    assert (first["status"], second["status"]) == ("ready", "skipped")
    row = EmbeddingSet.objects.get(model_version=version)
    assert row.status == "ready" and sent["map"] == [row.pk]
    assert selectors.embedding_set_current() == row


def test_a_clustering_that_fails_or_is_killed_says_why_and_frees_its_claim(
    fake_model, sent, monkeypatch, committed
):
    version = ModelVersion.objects.create(name="run-2", is_active=True, model_dir="/x")
    committed(lambda: discovery_tasks.embed_subjects.apply(args=[version.pk]).get())
    row = EmbeddingSet.objects.get(model_version=version)
    assert sent["map"] == [row.pk] and health().map_making

    def boom(unit: np.ndarray, **kwargs: object) -> np.ndarray:
        raise ValueError("UMAP could not embed")

    monkeypatch.setattr("ml.cluster.umap_project", boom)
    # apply() sends task_failure too, as a worker does: its handler must not overwrite why
    assert discovery_tasks.cluster_subjects.apply(args=[row.pk]).state == "FAILURE"
    row.refresh_from_db()
    assert row.error == "the job failed: ValueError: UMAP could not embed"
    assert row.map_queued_at is None and health().map_again

    assert services.embedding_set_map_queue(set_id=row.pk)  # an admin's click: claimed again
    task_failure.send(
        sender=discovery_tasks.cluster_subjects, task_id="t", args=(row.pk,), exception=LOST
    )
    row.refresh_from_db()
    assert row.error.startswith("the job failed: worker lost: WorkerLostError")
    assert row.map_queued_at is None and health().map_again
