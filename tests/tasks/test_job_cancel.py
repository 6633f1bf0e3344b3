"""A cancel asked while an audit or an embedding job runs stops it at its next batch: the
row ends cancelled, nothing half-done is stored, and the next job can start."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from glitch_data import make_dataset

import ml.embed
from ml.encoding import Decodable
from tasks import discovery as discovery_tasks
from tasks import review as review_tasks
from webapp.discovery import services as discovery
from webapp.discovery.models import EmbeddingSet
from webapp.modeling.models import ModelVersion
from webapp.review import services as review
from webapp.review.models import AuditRun, Suspect

pytestmark = pytest.mark.django_db


def cancel_after_first_batch(monkeypatch, module, cancel) -> list[int]:
    """Wrap ml.embed.embed: the first batch is embedded, then an admin clicks cancel."""
    calls: list[int] = []
    real = ml.embed.embed

    def embed_then_cancel(model, images, **kwargs):
        calls.append(len(images))
        if len(calls) == 1:
            cancel()
        return real(model, images, **kwargs) if module is None else module(images)

    monkeypatch.setattr(ml.embed, "embed", embed_then_cancel)
    return calls


def test_an_audit_stops_at_the_next_batch_after_a_cancel(tiny_settings, monkeypatch):
    make_dataset()  # 30 subjects, 22 of them retired or gold
    monkeypatch.setattr(review_tasks, "EMBED_BATCH", 4)
    run = review.audit_run_request(trigger=AuditRun.Trigger.COMMAND, enqueue=False)
    calls = cancel_after_first_batch(
        monkeypatch,
        lambda images: np.zeros((len(images), 8), np.float32),
        lambda: review.audit_run_cancel(run_id=run.pk),
    )
    monkeypatch.setattr(
        "ml.backbones.build_backbone", lambda name, pretrained: (object(), 8)
    )  # the ImageNet weights are not needed to test the loop

    result = review_tasks.audit_labels.apply(args=[run.pk]).get()

    assert result["status"] == "cancelled"
    assert calls == [4]  # one batch of the six, then it stopped
    run.refresh_from_db()
    assert run.status == AuditRun.Status.CANCELLED and run.error == "cancelled by an admin"
    assert run.finished_at and not Suspect.objects.filter(run=run).exists()
    # The one-live-audit slot is free again.
    following = review.audit_run_request(trigger=AuditRun.Trigger.COMMAND, enqueue=False)
    assert following.status == AuditRun.Status.QUEUED


def test_an_embedding_job_stops_at_the_next_batch_after_a_cancel(tiny_settings, monkeypatch):
    make_dataset()
    tiny_settings.GLITCHLAB_SCORE_BATCH_SIZE = 4
    version = ModelVersion.objects.create(name="v", is_active=True, model_dir="/nowhere")
    sent: list[int] = []
    monkeypatch.setattr(discovery_tasks.cluster_subjects, "delay", sent.append)
    model = SimpleNamespace(encoding="rgb-durations", image_size=4)
    monkeypatch.setattr("ml.model.load_model", lambda path, device: model)
    monkeypatch.setattr(
        "ml.encoding.encode_decodable",
        lambda samples, encoding, size, **_: Decodable(
            np.zeros((len(samples), 3, 4, 4), np.uint8), samples, list(range(len(samples))), []
        ),
    )

    def cancel() -> None:
        discovery.embedding_set_cancel(set_id=EmbeddingSet.objects.get(model_version=version).pk)

    calls = cancel_after_first_batch(
        monkeypatch, lambda images: np.zeros((len(images), 8), np.float32), cancel
    )

    result = discovery_tasks.embed_subjects.apply(args=[version.pk]).get()

    assert result["status"] == "cancelled" and calls == [4] and sent == []
    embedding_set = EmbeddingSet.objects.get(model_version=version)
    assert embedding_set.status == EmbeddingSet.Status.CANCELLED and not embedding_set.path
    # A refresh (or the next activation) claims it again, and its old cancel is forgotten.
    again = discovery.embedding_set_claim(version_id=version.pk, worker="w")
    assert again is not None and not again.cancel_requested


def test_a_waiting_job_is_cancelled_at_once_and_an_ended_one_is_refused():
    from webapp.jobs import JobNotLiveError

    run = review.audit_run_request(trigger=AuditRun.Trigger.COMMAND, enqueue=False)
    assert review.audit_run_cancel(run_id=run.pk).status == AuditRun.Status.CANCELLED
    with pytest.raises(JobNotLiveError):
        review.audit_run_cancel(run_id=run.pk)
    # The task that arrives later finds nothing to claim.
    assert review_tasks.audit_labels.apply(args=[run.pk]).get()["status"] == "skipped"

    version = ModelVersion.objects.create(name="p")
    pending = EmbeddingSet.objects.create(model_version=version)
    assert discovery.embedding_set_cancel(set_id=pending.pk).status == EmbeddingSet.Status.CANCELLED
