"""MixStyle (Zhou et al., ICLR 2021): training images swap part of their feature "style".

In the early stages of a CNN the per-channel mean and standard deviation of a feature map
carry texture and rendering (noise grain, JPEG blur, colour scale), not shape. MixStyle
normalises each training image's feature maps and gives them statistics mixed with those
of another image of the batch, so the layers above cannot tell an image's source from its
statistics alone. Here that source is "simulated" or "real": real-looking texture alone
sent real glitches of a class without real examples to the few real-rich classes
(docs/real_benchmark.md). Only in training; a model in eval mode is unchanged.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import torch
from torch import nn

from ml.backbones import FeatureExtractor, style_blocks
from ml.errors import UserError

ALPHA = 0.1  # Beta(alpha, alpha) mixing weights: mostly near 0 or 1 (the paper's value)
STYLE_STRIDES = (4, 8, 16)  # mix after the last block at each of these strides (res1-res3)


class MixStyle:
    """A forward hook: with probability p, mix a feature map's instance statistics."""

    def __init__(self, p: float, alpha: float = ALPHA, eps: float = 1e-6) -> None:
        self.p = p
        self.beta = torch.distributions.Beta(alpha, alpha)
        self.eps = eps

    def __call__(self, module: nn.Module, inputs: object, output: torch.Tensor) -> torch.Tensor:
        if not module.training or len(output) < 2 or float(torch.rand(())) >= self.p:
            return output
        x = output.float()
        mu = x.mean(dim=(2, 3), keepdim=True).detach()
        sigma = (x.var(dim=(2, 3), keepdim=True) + self.eps).sqrt().detach()
        lam = self.beta.sample((len(x), 1, 1, 1)).to(x.device)
        other = torch.randperm(len(x), device=x.device)
        mu_mix = lam * mu + (1 - lam) * mu[other]
        sigma_mix = lam * sigma + (1 - lam) * sigma[other]
        return ((x - mu) / sigma * sigma_mix + mu_mix).to(output.dtype)


def style_stages(extractor: FeatureExtractor, size: int = 64) -> list[nn.Module]:
    """The backbone's last block at each stride in STYLE_STRIDES, found by running one zero
    image of `size` pixels through it and watching each block's output height."""
    blocks = style_blocks(extractor)
    heights: dict[int, int] = {}
    handles = [
        block.register_forward_hook(lambda _m, _i, out, i=i: heights.__setitem__(i, out.shape[-2]))
        for i, block in enumerate(blocks)
    ]
    try:
        was_training = extractor.training
        extractor.eval()
        with torch.no_grad():
            extractor(torch.zeros(1, 3, size, size, device=next(extractor.parameters()).device))
        extractor.train(was_training)
    finally:
        for handle in handles:
            handle.remove()
    last = {}
    for i in sorted(heights):
        last[-(-size // heights[i])] = i  # ceil: "SAME" padding rounds sizes up
    missing = [s for s in STYLE_STRIDES if s not in last]
    if missing:
        raise UserError(f"mixstyle: {extractor.spec.name} has no block at stride {missing}")
    return [blocks[last[s]] for s in STYLE_STRIDES]


@contextmanager
def mixing_style(stages: Sequence[nn.Module], p: float) -> Iterator[None]:
    """MixStyle after each of `stages` while the block runs (nothing when p is 0)."""
    hook = MixStyle(p)
    handles = [stage.register_forward_hook(hook) for stage in stages] if p > 0 else []
    try:
        yield
    finally:
        for handle in handles:
            handle.remove()
