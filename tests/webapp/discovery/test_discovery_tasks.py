"""After a model is activated, every subject gets its embedding (gpu task, here on the CPU
in this process), the map is drawn and similar glitches can be asked for."""

import sys
from pathlib import Path

import numpy as np
import pytest
from rest_framework.test import APIClient

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tasks"))
from glitch_data import apply_tiny_training, make_dataset  # noqa: E402

import tasks.discovery  # noqa: E402,F401  (a worker imports it through the app's include)
from tasks.celery import app  # noqa: E402
from webapp.discovery.models import EmbeddingSet  # noqa: E402
from webapp.labeling.models import Subject  # noqa: E402
from webapp.modeling import services  # noqa: E402
from webapp.modeling.models import ModelVersion, TrainingRun  # noqa: E402


@pytest.fixture
def eager(seeded, tmp_path):
    seeded.VAR_DIR = tmp_path / "var"
    apply_tiny_training(seeded)
    old = (app.conf.task_always_eager, app.conf.task_eager_propagates)
    app.conf.task_always_eager = app.conf.task_eager_propagates = True
    yield seeded
    app.conf.task_always_eager, app.conf.task_eager_propagates = old


def test_activation_embeds_every_subject_and_draws_the_map(eager):
    make_dataset(open_per_class=3)
    services.training_run_request(trigger=TrainingRun.Trigger.COMMAND)
    version = ModelVersion.objects.get(is_active=True)

    embedding_set = EmbeddingSet.objects.get(model_version=version)
    assert embedding_set.status == "ready", embedding_set.error
    assert embedding_set.n_subjects == Subject.objects.count()  # gold and retired too
    assert embedding_set.has_map
    with np.load(embedding_set.path) as data:
        assert data["embeddings"].dtype == np.float32
        assert data["xy"].shape == (embedding_set.n_subjects, 2)

    pool = Subject.objects.filter(role="pool").first()
    body = APIClient().get(f"/api/discovery/subjects/{pool.pk}/similar/?k=3").json()
    assert len(body["similar"]) == 3
