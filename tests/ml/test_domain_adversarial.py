"""The class-conditional source critic (TrainConfig.domain_adversarial): the backbone is
pushed away from features that tell simulated from real within a class."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from test_train import bright_half_images, config

from ml.errors import UserError
from ml.model import LAST_CHECKPOINT
from ml.train import (
    DomainCritic,
    TrainProgress,
    adversarial_strength,
    fit,
    reverse_gradient,
    source_indices,
)


class WorkerLost(Exception):
    pass


def test_gradient_reversal_keeps_values_and_flips_and_scales_the_gradient() -> None:
    x = torch.tensor([1.0, -2.0, 3.0], requires_grad=True)
    y = reverse_gradient(x, torch.tensor(0.5))
    (y * torch.tensor([1.0, 2.0, 3.0])).sum().backward()

    assert torch.equal(y.detach(), x.detach())
    assert torch.allclose(x.grad, torch.tensor([-0.5, -1.0, -1.5]))


def test_the_critic_answers_with_the_outputs_of_each_image_s_own_class() -> None:
    critic = DomainCritic(feature_dim=4, num_classes=3, num_sources=2)
    features = torch.randn(5, 4)
    classes = torch.tensor([0, 2, 1, 2, 0])

    guess = critic(features, classes)

    every = critic.net(features).view(5, 3, 2)
    assert guess.shape == (5, 2)
    for i, c in enumerate(classes.tolist()):
        assert torch.equal(guess[i], every[i, c])


def test_the_pull_starts_at_zero_and_rises_to_the_weight() -> None:
    assert adversarial_strength(0.3, 0.0) == 0.0
    assert 0.0 < adversarial_strength(0.3, 0.1) < adversarial_strength(0.3, 0.5)
    assert adversarial_strength(0.3, 1.0) == pytest.approx(0.3, abs=1e-4)


def test_sources_become_indices_and_one_source_means_no_critic() -> None:
    index, n = source_indices(["sim", "real", "sim", "upload"])
    assert n == 3 and index is not None and index.tolist() == [1, 0, 1, 2]
    assert source_indices(["sim", "sim"]) == (None, 0)
    assert source_indices(None) == (None, 0)


def _sources(n: int) -> list[str]:
    return ["real" if i % 3 == 0 else "sim" for i in range(n)]


def test_a_run_with_the_critic_logs_its_loss_and_resumes_with_it(tmp_path: Path) -> None:
    x, y = bright_half_images(32, seed=0)
    with_critic = config(epochs=2, domain_adversarial=0.5)

    def die_after_first(event: TrainProgress) -> None:
        if event.epoch_done and event.epoch == 1:
            raise WorkerLost

    with pytest.raises(WorkerLost):
        fit(x, y, None, None, with_critic, tmp_path, sources=_sources(32), progress=die_after_first)
    state = torch.load(tmp_path / LAST_CHECKPOINT, weights_only=True)["train_state"]
    assert set(state["critic"]) >= {"net.0.weight", "net.2.weight"}

    result = fit(x, y, None, None, with_critic, tmp_path, sources=_sources(32), resume=True)

    assert [row["epoch"] for row in result.history] == [1.0, 2.0]
    for row in result.history:  # the critic's cross-entropy, two sources: ~ln 2 at chance
        assert 0.0 < row["critic_loss"] < 5.0
    with pytest.raises(UserError, match="other sources"):
        fit(x, y, None, None, with_critic, tmp_path, sources=["sim"] * 32, resume=True)


def test_without_two_sources_or_a_weight_there_is_no_critic(tmp_path: Path) -> None:
    x, y = bright_half_images(16, seed=0)
    one_source = fit(x, y, None, None, config(domain_adversarial=0.5), tmp_path / "a")
    no_weight = fit(x, y, None, None, config(), tmp_path / "b", sources=_sources(16))
    assert "critic_loss" not in one_source.history[0]
    assert "critic_loss" not in no_weight.history[0]


def test_the_critic_s_gradient_reaches_the_backbone_reversed(tmp_path: Path) -> None:
    """One step's backbone gradient with the critic at strength s, minus the step without
    it, is -s times the critic loss's own gradient: the backbone climbs the critic's loss."""
    from ml.model import build_glitchnet

    torch.manual_seed(0)
    module = build_glitchnet("efficientnet_lite0", 2, pretrained=False)
    module.train()  # (eval-mode statistics of an untrained net leave gradients ~1e-11)
    critic = DomainCritic(module.backbone.feature_dim, 2, 2)
    x = torch.from_numpy(bright_half_images(8, seed=0)[0])
    y = torch.tensor([0, 1] * 4)
    d = torch.tensor([0, 0, 1, 1] * 2)
    weight = [p for p in module.backbone.parameters() if p.dim() == 4][-1]  # the last conv

    def backbone_grad(strength: float | None) -> torch.Tensor:
        module.zero_grad()
        critic.zero_grad()
        torch.manual_seed(1)  # the same stochastic depth in each pass
        features = module.features(x)
        loss = torch.nn.functional.cross_entropy(module.head(features), y)
        if strength is None:  # the critic's loss alone, not reversed
            loss = torch.nn.functional.cross_entropy(critic(features, y), d)
        elif strength > 0:
            reversed_ = reverse_gradient(features, torch.tensor(strength))
            loss = loss + torch.nn.functional.cross_entropy(critic(reversed_, y), d)
        loss.backward()
        return weight.grad.detach().clone()

    plain, pulled, critic_only = backbone_grad(0.0), backbone_grad(0.7), backbone_grad(None)

    scale = critic_only.abs().max()
    assert scale > 1e-4
    assert torch.allclose((pulled - plain) / scale, -0.7 * critic_only / scale, atol=1e-3)
