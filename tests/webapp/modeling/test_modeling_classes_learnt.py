"""A retrain's model outputs the classes it learnt, as `ml train`'s does: a class whose every
training glitch does not decode is left out of it, not kept as a column nothing trained.
The task fixed its class list before the decode, so that model gave such a class a share
of every glitch's probability (its untrained row of the head), and the dashboard listed
it, while the run's log said "the model does not learn it"."""

from __future__ import annotations

from pathlib import Path

import pytest
from glitch_data import apply_tiny_training, make_dataset, make_subject

from ml.model import load_model
from tasks.celery import app
from tests.ml.image_factories import damage_middle
from webapp.labeling.models import Subject
from webapp.modeling import services
from webapp.modeling.models import ModelVersion, TrainingRun

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def eager(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.VAR_DIR = tmp_path / "var"
    apply_tiny_training(settings, head_only=False)
    old = (app.conf.task_always_eager, app.conf.task_eager_propagates)
    app.conf.task_always_eager, app.conf.task_eager_propagates = True, True
    yield
    app.conf.task_always_eager, app.conf.task_eager_propagates = old


def test_a_class_none_of_whose_glitches_decodes_is_not_an_output(eager) -> None:
    make_dataset(open_per_class=1)
    koi = make_subject("Koi_Fish", role=Subject.Role.GOLD)
    for image in koi.images.all():
        damage_middle(Path(image.image.path))

    run = services.training_run_request(trigger=TrainingRun.Trigger.COMMAND)

    run.refresh_from_db()
    assert run.status == TrainingRun.Status.SUCCEEDED, run.error + run.log
    assert "class Koi_Fish: every training glitch of it was left out" in run.log
    version = ModelVersion.objects.get(training_run=run)
    model = load_model(version.model_dir, device="cpu")
    assert list(model.class_names) == version.class_names == ["Blip", "Whistle"]
    assert all("Koi_Fish" not in p.probabilities for p in version.predictions.all())
