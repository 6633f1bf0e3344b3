"""A retrain trains with `python -m ml train`'s recipe: ml.train.TrainConfig's defaults, and
a GLITCHLAB_TRAIN_* setting only where a deployment sets one. The settings repeated those
defaults: a default the benchmark's rules change in ml/train.py (docs/real_benchmark.md:
sim_only_weight waits on the held-out check) would have changed `ml train` and
bench/heldout.py's models, and left the product training the old recipe."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, dataclass
from typing import Any

import pytest

import ml.train
import ml.train_config
from tasks.celery import app
from webapp.modeling import services
from webapp.modeling.models import TrainingRun

pytestmark = pytest.mark.django_db(transaction=True)


@dataclass
class _Retuned(ml.train.TrainConfig):
    """TrainConfig as a later benchmark may leave it: other defaults."""

    image_size: int = 160
    epochs: int = 12
    batch_size: int = 48
    seed: int = 3
    self_train: float = 0.8
    sim_only_weight: float = 0.5


class _Stop(Exception):
    """Ends the retrain where it would start training: what it trains with is known then."""


def retune(monkeypatch: pytest.MonkeyPatch, config_class: type) -> None:
    """TrainConfig's defaults as a deploy may change them: in its home and in ml.train."""
    monkeypatch.setattr(ml.train_config, "TrainConfig", config_class)
    monkeypatch.setattr(ml.train, "TrainConfig", config_class)


@pytest.fixture
def trained_with(settings, tmp_path, monkeypatch) -> Iterator[list[Any]]:
    """The TrainConfig each retrain hands to ml.train.train (none trains), with the recipe's
    defaults retuned (_Retuned)."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.VAR_DIR = tmp_path / "var"
    configs: list[Any] = []

    def train(train_samples: Any, val_samples: Any, config: Any, out_dir: Any, **_: Any) -> None:
        configs.append(config)
        raise _Stop

    retune(monkeypatch, _Retuned)
    monkeypatch.setattr(ml.train, "train", train)
    eager = (app.conf.task_always_eager, app.conf.task_eager_propagates)
    app.conf.task_always_eager, app.conf.task_eager_propagates = True, False
    yield configs
    app.conf.task_always_eager, app.conf.task_eager_propagates = eager


def test_a_retrain_trains_with_ml_trains_defaults(trained_with) -> None:
    run = services.training_run_request(trigger=TrainingRun.Trigger.COMMAND)

    (config,) = trained_with
    assert asdict(config) == asdict(_Retuned())
    run.refresh_from_db()
    assert "_Stop" in run.error  # it got no further


def test_what_a_deployment_sets_replaces_the_default(settings, trained_with) -> None:
    settings.GLITCHLAB_TRAIN_IMAGE_SIZE = 128
    settings.GLITCHLAB_TRAIN_SIM_ONLY_WEIGHT = 0.0

    services.training_run_request(trigger=TrainingRun.Trigger.COMMAND)

    (config,) = trained_with
    assert asdict(config) == asdict(_Retuned(image_size=128, sim_only_weight=0.0))


def test_a_run_stores_the_recipe_it_trains_with(trained_with) -> None:
    """about.json's models[...].backbone reads it: it was null for every model, as the run
    stored only what the deployment set."""
    run = services.training_run_request(trigger=TrainingRun.Trigger.COMMAND)

    run.refresh_from_db()
    assert run.config == asdict(_Retuned())


def test_a_retried_run_keeps_its_recipe_after_a_deploy_changes_the_defaults(
    trained_with, monkeypatch
) -> None:
    """A retry resumes the run after its last finished epoch: the epochs left train as the
    earlier ones did, not with the recipe of the code deployed since."""
    run = services.training_run_request(trigger=TrainingRun.Trigger.COMMAND)

    @dataclass
    class _RetunedAgain(ml.train.TrainConfig):
        image_size: int = 96
        epochs: int = 3

    retune(monkeypatch, _RetunedAgain)
    services.training_run_retry(run_id=run.pk)

    first, retried = trained_with
    assert asdict(retried) == asdict(first) == asdict(_Retuned())
