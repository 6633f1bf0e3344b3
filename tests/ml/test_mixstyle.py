"""MixStyle: training images trade feature statistics, shapes are kept, eval is untouched."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from ml.backbones import build_backbone
from ml.errors import UserError
from ml.mixstyle import MixStyle, mixing_style, style_stages
from ml.train import TrainConfig, fit


def _two_styles() -> torch.Tensor:
    """(16, 4, 6, 6): one pattern, quiet (mean 0, std 1) and loud (mean 5, std 3) in turn."""
    pattern = torch.randn(1, 4, 6, 6, generator=torch.Generator().manual_seed(0))
    pattern = (pattern - pattern.mean((2, 3), keepdim=True)) / pattern.std((2, 3), keepdim=True)
    return torch.cat([pattern, 5 + 3 * pattern] * 8)


def test_a_training_image_gets_statistics_between_its_own_and_its_partners() -> None:
    x = _two_styles()
    torch.manual_seed(3)
    mixed = MixStyle(p=1.0)(nn.Identity().train(), (x,), x)

    means = mixed.mean(dim=(2, 3))
    assert ((means >= -1e-4) & (means <= 5 + 1e-4)).all()
    moved = (means - x.mean(dim=(2, 3))).abs().amax(dim=1)
    assert (moved > 0.5).sum() >= 4  # a quiet image paired with a loud one took on its style
    for i in range(len(x)):  # the shape in each channel is the input's: correlation 1
        for c in range(4):
            a, b = x[i, c].flatten(), mixed[i, c].flatten()
            assert torch.corrcoef(torch.stack([a, b]))[0, 1] > 0.999


def test_eval_mode_and_p_zero_leave_features_alone() -> None:
    x = _two_styles()
    assert MixStyle(p=1.0)(nn.Identity().eval(), (x,), x) is x
    assert MixStyle(p=0.0)(nn.Identity().train(), (x,), x) is x


def test_the_stages_are_the_ends_of_stride_4_8_and_16_and_hooks_go_away() -> None:
    extractor, _ = build_backbone("efficientnet_lite0", pretrained=False)
    stages = style_stages(extractor)
    heights: list[int] = []
    handles = [
        stage.register_forward_hook(lambda _m, _i, out: heights.append(out.shape[-2]))
        for stage in stages
    ]
    with torch.no_grad():
        extractor.eval()(torch.zeros(1, 3, 64, 64))
    for handle in handles:
        handle.remove()
    assert heights == [16, 8, 4]

    with mixing_style(stages, 0.5):
        assert all(len(s._forward_hooks) == 1 for s in stages)
    assert all(len(s._forward_hooks) == 0 for s in stages)


def test_a_backbone_without_known_blocks_is_a_clear_error() -> None:
    extractor, _ = build_backbone("vgg16", pretrained=False)
    with pytest.raises(UserError, match="mixstyle"):
        style_stages(extractor)


def test_fit_mixes_styles_only_when_asked(tmp_path) -> None:
    rng = np.random.default_rng(0)
    images = rng.integers(0, 255, (16, 3, 32, 32), dtype=np.uint8)
    labels = ["Blip", "Whistle"] * 8
    base = dict(image_size=32, epochs=1, batch_size=8, device="cpu", augment=False,
                sampling="uniform", pretrained=False)  # fmt: skip

    def head_after(mixstyle: float) -> torch.Tensor:
        fit(images, labels, None, None, TrainConfig(**base, mixstyle=mixstyle),  # type: ignore[arg-type]
            tmp_path / str(mixstyle))  # fmt: skip
        state = torch.load(tmp_path / str(mixstyle) / "last.pt", weights_only=True)["model"]
        return state["head.weight"]

    plain, again, mixed = head_after(0.0), head_after(0.0), head_after(1.0)
    assert torch.equal(plain, again)  # the same seed trains the same model...
    assert not torch.equal(plain, mixed)  # ...so the difference is MixStyle's

    with pytest.raises(UserError, match="probability"):
        fit(images, labels, None, None, TrainConfig(**base, mixstyle=1.5), tmp_path / "bad")  # type: ignore[arg-type]
