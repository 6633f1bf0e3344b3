"""Embeddings are the pooled 1280-d Lite0 features, the same in any batch size."""

from pathlib import Path

import numpy as np
import torch

from ml.backbones import build_backbone
from ml.embed import embed
from ml.model import GlitchNet, load_model, make_checkpoint, save_checkpoint


def images(n: int, size: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (n, 3, size, size), dtype=np.uint8)


def test_embedding_of_a_saved_model_is_its_backbone_features(tmp_path: Path) -> None:
    extractor, dim = build_backbone("efficientnet_lite0")
    net = GlitchNet(extractor, num_classes=3)
    config = {"backbone": "efficientnet_lite0", "image_size": 32, "encoding": "rgb-durations"}
    checkpoint = make_checkpoint(
        net, epoch=1, config=config, class_names=["Blip", "Whistle", "Tomte"], metrics={}
    )
    save_checkpoint(checkpoint, tmp_path / "best.pt")
    model = load_model(tmp_path, device="cpu", bf16=False)
    x = images(7, 32)

    vectors = embed(model, x, batch_size=3)
    assert vectors.shape == (7, dim) == (7, 1280) and vectors.dtype == np.float32
    np.testing.assert_allclose(vectors, embed(model, x, batch_size=16), rtol=1e-4, atol=1e-4)
    with torch.inference_mode():
        direct = extractor.eval()(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(vectors, direct, rtol=1e-4, atol=1e-4)


def test_images_of_another_size_are_resized_to_the_models() -> None:
    extractor, _ = build_backbone("efficientnet_lite0")
    vectors = embed(extractor, images(2, 40), image_size=32)
    assert vectors.shape == (2, 1280) and np.isfinite(vectors).all()
