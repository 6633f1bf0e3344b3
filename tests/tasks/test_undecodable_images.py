"""A subject whose image passed the import's cheap check but does not decode is left out of
a retrain and an audit, which name its file and go on (scoring: test_scoring_views.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from glitch_data import make_dataset

import ml.model  # noqa: F401  (bound to the real build_backbone before a test patches it)
from tasks import review as review_tasks
from tests.ml.image_factories import damage_middle
from webapp.modeling import services as modeling
from webapp.modeling.models import ModelVersion, TrainingRun
from webapp.review import services as review
from webapp.review.models import AuditRun


def _damage(subject) -> Path:
    return damage_middle(Path(subject.images.get(duration=1.0).image.path))


@pytest.mark.django_db(transaction=True)
def test_a_retrain_leaves_the_subject_out_and_names_its_file(tiny_settings, eager_celery):
    data = make_dataset()
    bad = data["train"][0]
    damaged = _damage(bad)

    run = modeling.training_run_request(trigger=TrainingRun.Trigger.COMMAND)

    run.refresh_from_db()
    assert run.status == TrainingRun.Status.SUCCEEDED, run.error + run.log
    assert f"glitch {bad.pk} left out: {damaged}: cannot decode" in run.log
    assert "1 training and 0 validation glitches left out" in run.log
    version = ModelVersion.objects.get(training_run=run)
    assert bad.pk not in version.train_subject_ids
    assert len(version.train_subject_ids) == len(data["train"]) - 1


@pytest.fixture
def features_without_a_cnn(monkeypatch):
    """The audit's real decoding, a stand-in for the ImageNet backbone: each image's mean
    energy per channel."""
    monkeypatch.setattr("ml.backbones.build_backbone", lambda name, pretrained: (object(), 3))
    monkeypatch.setattr(
        "ml.embed.embed",
        lambda model, images, **_: images.reshape(len(images), 3, -1).mean(-1).astype("f4"),
    )


@pytest.mark.django_db
def test_an_audit_leaves_the_subject_out_and_goes_on(tiny_settings, features_without_a_cnn):
    data = make_dataset()
    bad = data["train"][0]
    _damage(bad)
    run = review.audit_run_request(trigger=AuditRun.Trigger.COMMAND, enqueue=False)

    result = review_tasks.audit_labels.apply(args=[run.pk]).get()

    run.refresh_from_db()
    assert (result["status"], run.status) == ("succeeded", AuditRun.Status.SUCCEEDED), run.error
    assert run.n_subjects == len(data["train"]) - 1
    assert not run.suspects.filter(subject=bad).exists()


@pytest.mark.django_db
def test_an_audit_with_no_image_that_decodes_fails_saying_so(tiny_settings, features_without_a_cnn):
    data = make_dataset(labels=("Blip",), retired_per_class=2, gold_per_class=0)
    for subject in data["train"]:
        for image in subject.images.all():
            damage_middle(Path(image.image.path))
    run = review.audit_run_request(trigger=AuditRun.Trigger.COMMAND, enqueue=False)

    with pytest.raises(Exception, match="none of the 2 subjects to audit has images that"):
        review_tasks.audit_labels.apply(args=[run.pk]).get()

    run.refresh_from_db()
    assert run.status == AuditRun.Status.FAILED
    assert "none of the 2 subjects to audit has images that decode" in run.error


def test_the_gate_counts_a_glitch_the_active_model_cannot_read_as_wrong_for_it(monkeypatch):
    """The active model may read a view the new model's encoding does not: a validation
    glitch whose view only it cannot decode was left out of its report, and so counted as
    right for it (`right_by_id`), and its top-1 was over fewer glitches: the two models were
    not compared on the same set. Now it is wrong for the active model, as a glitch a model
    cannot classify is."""
    from types import SimpleNamespace

    import numpy as np

    from ml.encoding import Decodable
    from tasks import training

    samples = [SimpleNamespace(id=i, label="Blip") for i in (1, 2, 3)]
    active = SimpleNamespace(pk=7, name="old", model_dir="m", checkpoint_path="m/best.pt")
    monkeypatch.setattr(training.selectors, "model_version_active", lambda: active)
    loaded = SimpleNamespace(encoding="rgb-durations", image_size=16)
    monkeypatch.setattr("ml.model.load_model", lambda *a, **k: loaded)
    monkeypatch.setattr("ml.model.views_of", lambda samples: None)
    monkeypatch.setattr(
        "ml.encoding.encode_decodable",
        lambda samples, *a, **k: Decodable(
            np.zeros((2, 3, 16, 16), np.uint8), samples[1:], [1, 2], ["glitch 1 left out: x"]
        ),
    )
    monkeypatch.setattr("ml.evaluate.evaluate", lambda *a, **k: {"top1": 1.0, "misclassified": []})
    monkeypatch.setattr(training.services, "training_run_log", lambda **_: None)

    baseline = training._active_model_scores(samples, "cpu", run_id=1)

    assert baseline.top1 == pytest.approx(2 / 3)  # was 1.0: over the two it could read
    assert baseline.correct == [False, True, True]  # the first was right
