"""Scoring a version stores the view ensemble's probabilities (ml.views): a four-view
glitch averaged over itself and each view alone, a one-view glitch over the durations its
view could have."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from glitch_data import make_subject

from ml.backbones import build_backbone
from ml.encoding import encode_samples
from ml.model import (
    GlitchNet,
    load_model,
    make_checkpoint,
    predict_proba,
    save_checkpoint,
    views_of,
)
from ml.views import duration_hypotheses
from tasks import predictions
from tasks.common import to_samples
from webapp.modeling import selectors
from webapp.modeling.models import ModelVersion, Prediction

pytestmark = pytest.mark.django_db
CLASSES = ["Blip", "Whistle", "Koi_Fish"]


def untrained_model(folder: Path) -> Path:
    torch.manual_seed(0)
    extractor, _ = build_backbone("efficientnet_lite0")
    config = {
        "backbone": "efficientnet_lite0",
        "image_size": 32,
        "encoding": "rgb-durations",
        "view_dropout": 0.3,
    }  # fine-tuned with view dropout
    checkpoint = make_checkpoint(
        GlitchNet(extractor, num_classes=3), epoch=1, config=config, class_names=CLASSES,
        metrics={},
    )  # fmt: skip
    save_checkpoint(checkpoint, folder / "best.pt")
    return folder


def test_scoring_stores_the_view_ensembles_probabilities(tiny_settings, tmp_path) -> None:
    four_views = make_subject("Blip", rng=np.random.default_rng(1))
    one_view = make_subject("Whistle", rng=np.random.default_rng(2), durations=(1.0,))
    model_dir = untrained_model(tmp_path / "model")
    version = ModelVersion.objects.create(
        name="v", class_names=CLASSES, model_dir=str(model_dir), activation_pending=True
    )
    samples = to_samples(selectors.subjects_to_score(version=version))

    assert predictions.score_subjects.run(version.pk)["scored"] == 2

    model = load_model(model_dir, device="cpu")
    images = np.asarray(encode_samples(samples, model.encoding, model.image_size, workers=1))
    ensemble = predict_proba(model, images, views=views_of(samples))
    plain = predict_proba(model, images)
    for sample, want, whole in zip(samples, ensemble, plain, strict=True):
        stored = Prediction.objects.get(model_version=version, subject_id=int(sample.id))
        got = np.array([stored.probabilities[c] for c in CLASSES])
        np.testing.assert_allclose(got, want, atol=1e-5)
        if int(sample.id) == four_views.pk:
            assert np.abs(got - whole).max() > 1e-4  # the ensemble, not the whole glitch
        else:
            assert int(sample.id) == one_view.pk
            image = torch.from_numpy(images[samples.index(sample)][None])
            lone = sum(w * predict_proba(model, h) for h, w in duration_hypotheses(image))
            np.testing.assert_allclose(got, lone[0], atol=1e-5)
            assert np.abs(got - whole).max() > 1e-4  # not the view alone as encoded


def test_subjects_that_cannot_be_scored_do_not_restart_the_chain_at_every_beat(
    tiny_settings, tmp_path, monkeypatch, django_capture_on_commit_callbacks
) -> None:
    """A subject without images, or whose image does not decode, never gets a prediction.
    Counted as unscored, it made the beat queue scoring every 10 minutes, and each run
    ended in activate_and_reroute: every open subject's consensus recomputed under row
    locks, for nothing. Now the imageless one is not counted, and a run that scored nothing
    for the active version stops there."""
    from webapp.labeling.models import Subject, SubjectImage

    marked: list[int] = []  # activate_and_reroute queued (the chain)
    monkeypatch.setattr(
        predictions.activate_and_reroute, "delay", lambda version_id: marked.append(1)
    )
    make_subject("Blip", rng=np.random.default_rng(1))
    broken = make_subject("Whistle", rng=np.random.default_rng(2), durations=(1.0,))
    Path(SubjectImage.objects.get(subject=broken).image.path).write_bytes(b"not an image")
    Subject.objects.create(external_id="H1_noimages00", source="modeling-test")
    version = ModelVersion.objects.create(
        name="v", class_names=CLASSES, model_dir=str(untrained_model(tmp_path / "m")),
        is_active=True,
    )  # fmt: skip
    assert selectors.subjects_unscored_count(version=version) == 2  # not the imageless one

    def score() -> int:
        with django_capture_on_commit_callbacks(execute=True):
            return predictions.score_subjects.run(version.pk)["scored"]

    assert score() == 1
    assert marked == [1]  # something new: the chain re-routes
    assert selectors.subjects_unscored_count(version=version) == 1  # the broken image
    assert score() == 0
    assert marked == [1]  # nothing new for the active model: no re-route

    ModelVersion.objects.filter(pk=version.pk).update(is_active=False, activation_pending=True)
    assert score() == 0
    assert marked == [1, 1]  # a pending activation goes on, whatever could not be scored


def test_when_the_active_model_cannot_score_the_dashboard_says_why(
    tiny_settings, tmp_path, admin_client
) -> None:
    """The active model's checkpoint is gone: scoring new subjects (the beat) failed into
    the worker's log only, and new subjects waited without a prediction, unexplained."""
    make_subject("Blip", rng=np.random.default_rng(1))
    version = ModelVersion.objects.create(
        name="v", class_names=CLASSES, model_dir=str(tmp_path / "gone"), is_active=True
    )
    with pytest.raises(Exception, match="no model at"):
        predictions.score_subjects.run(version.pk)
    version.refresh_from_db()
    assert "scoring failed" in version.scoring_error and "no model at" in version.scoring_error
    page = admin_client.get("/modeling/").content.decode()
    assert 'data-testid="scoring-error"' in page and "no model at" in page

    untrained_model(tmp_path / "gone")  # the checkpoint is back: the next beat clears it
    assert predictions.score_subjects.run(version.pk)["scored"] == 1
    version.refresh_from_db()
    assert version.scoring_error == ""


def test_gold_glitches_are_scored_like_open_pool_ones(tiny_settings, tmp_path) -> None:
    """The map and similar lists show each point's model guess; scoring only the pool left
    gold "unlabelled" with no confidence beside scored pool glitches: a volunteer could
    tell which answers are checked, and farm them (issue #14)."""
    from django.contrib.auth.models import Group, User

    from webapp.accounts.roles import REVIEWER
    from webapp.discovery import selectors as discovery
    from webapp.labeling.models import Subject

    pool = make_subject("Blip", rng=np.random.default_rng(1))
    gold = make_subject("Whistle", role=Subject.Role.GOLD, rng=np.random.default_rng(2))
    version = ModelVersion.objects.create(
        name="v", class_names=CLASSES, model_dir=str(untrained_model(tmp_path / "m")),
        is_active=True,
    )  # fmt: skip
    assert predictions.score_subjects.run(version.pk)["scored"] == 2
    reviewer = User.objects.create(username="rev")  # sees every guess (a volunteer: voted ones)
    reviewer.groups.add(Group.objects.get_or_create(name=REVIEWER)[0])
    labels = discovery.subject_labels([pool.pk, gold.pk], viewer=reviewer)
    assert labels[pool.pk] in CLASSES and labels[gold.pk] in CLASSES
    assert Prediction.objects.get(subject=gold).confidence is not None
