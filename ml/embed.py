"""Embeddings: the truncated network's pooled features (1280-d for Lite0) for any images.

The same vector the classifier head reads, so similar glitches lie close together; used
for similarity search, t-SNE/UMAP maps and clustering None_of_the_Above.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

import numpy as np
import torch

from ml.backbones import FeatureExtractor
from ml.model import LoadedModel, bf16_supported, run_batched, run_model


def embed(
    model: LoadedModel | FeatureExtractor,
    images: np.ndarray | torch.Tensor,
    *,
    batch_size: int = 256,
    image_size: int | None = None,
    views: Sequence[Collection[float]] | None = None,
) -> np.ndarray:
    """Pooled features: (N, 3, H, W) uint8 -> (N, D) float32, D = model's feature dim.

    `model` is a trained model (load_model) or a bare ImageNet extractor (build_backbone,
    placed on its device by the caller). Runs batched under torch.inference_mode, bf16 where
    the device supports it. Images are resized to the trained model's image size (or
    `image_size` when given) when they differ. `views` (ml.model.views_of, trained models
    only): each vector is the view ensemble's mean over the glitch and its views alone.
    """
    if isinstance(model, LoadedModel):
        features = model.module.eval().features
        return run_model(
            model, features, images, batch_size=batch_size, views=views, image_size=image_size
        )
    if views is not None:
        raise ValueError("the view ensemble needs a trained model, not a bare extractor")
    device = next(model.parameters()).device
    return run_batched(
        model.eval(), images, device=device, bf16=bf16_supported(device),
        batch_size=batch_size, image_size=image_size,
    )  # fmt: skip
