"""AdaBN: a model's BatchNorm statistics re-estimated on unlabelled pool images, nothing else."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from ml.backbones import DEFAULT_BACKBONE
from ml.errors import UserError
from ml.model import LoadedModel, build_glitchnet, predict_proba
from ml.train import adapt_batchnorm

SIZE = 32


def _model() -> LoadedModel:
    torch.manual_seed(0)
    module = build_glitchnet(DEFAULT_BACKBONE, 2, pretrained=False).eval()
    config = {"image_size": SIZE, "encoding": "rgb-durations", "backbone": DEFAULT_BACKBONE}
    return LoadedModel(module, ("Blip", "Whistle"), config, torch.device("cpu"), bf16=False)


def _first_norm(model: LoadedModel) -> nn.BatchNorm2d:
    return next(m for m in model.module.modules() if isinstance(m, nn.BatchNorm2d))


def test_statistics_follow_the_pool_and_the_weights_stay() -> None:
    model = _model()
    weights = {k: v.clone() for k, v in model.module.state_dict().items() if "running" not in k}
    pool = np.random.default_rng(0).integers(180, 255, (40, 3, SIZE, SIZE)).astype(np.uint8)
    images = pool[:4]
    before = predict_proba(model, images)
    mean_before = _first_norm(model).running_mean.clone()

    adapt_batchnorm(model, pool, batch_size=8)

    assert not torch.allclose(_first_norm(model).running_mean, mean_before)
    after = {k: v for k, v in model.module.state_dict().items() if "running" not in k}
    changed = [k for k in weights if not torch.equal(weights[k], after[k])]
    assert changed == [] or all("num_batches_tracked" in k for k in changed)
    assert not model.module.training  # ready for inference again
    assert not np.allclose(predict_proba(model, images), before)


def test_too_few_or_wrongly_sized_images_are_refused() -> None:
    model = _model()
    with pytest.raises(UserError, match="at least 2 images"):
        adapt_batchnorm(model, np.zeros((1, 3, SIZE, SIZE), dtype=np.uint8))
    with pytest.raises(ValueError, match="the model takes 32"):
        adapt_batchnorm(model, np.zeros((4, 3, 16, 16), dtype=np.uint8))
