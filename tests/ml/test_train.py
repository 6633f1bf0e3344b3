"""A one-epoch fine-tuning learns a separable set; checkpoints reload to the same predictions."""

from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import torch

from ml.model import load_model, predict_proba
from ml.train import TrainConfig, TrainResult, fit, stratified_split

SIZE = 48
CLASSES = ("Blip", "Whistle")


def bright_half_images(n: int, seed: int) -> tuple[np.ndarray, list[str]]:
    """uint8 (n, 3, 48, 48) noise; Blip has a bright top half, Whistle a bright bottom half."""
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 40, (n, 3, SIZE, SIZE)).astype(np.uint8)
    labels = []
    for i in range(n):
        half = i % 2
        images[i, :, half * SIZE // 2 : (half + 1) * SIZE // 2] += rng.integers(
            120, 200, dtype=np.uint8
        )
        labels.append(CLASSES[half])
    return images, labels


def config(**changes: object) -> TrainConfig:
    # The loop's mechanics, not the recipe: no augmentation and a plain shuffle, so that one
    # short epoch learns (tests/ml/test_train_recipe.py tests the augmentation and sampling,
    # bench/real.py measures them on real glitches).
    base = TrainConfig(
        image_size=SIZE, epochs=1, batch_size=8, device="cpu", seed=0, augment=False,
        sampling="uniform",
    )  # fmt: skip
    return TrainConfig(**{**base.__dict__, **changes})  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[TrainResult, np.ndarray]:
    train_x, train_y = bright_half_images(96, seed=0)
    val_x, val_y = bright_half_images(40, seed=1)
    out = tmp_path_factory.mktemp("model")
    events = []
    result = fit(train_x, train_y, val_x, val_y, config(), out, progress=events.append)
    assert events and events[-1].epoch_done
    return result, val_x


def test_one_epoch_beats_chance_clearly(trained: tuple[TrainResult, np.ndarray]) -> None:
    result, _ = trained
    assert result.metrics["top1"] >= 0.7  # chance is 0.5


def test_model_dir_holds_a_reloadable_checkpoint(trained: tuple[TrainResult, np.ndarray]) -> None:
    result, val_x = trained
    out = result.model_dir
    for name in ("best.pt", "last.pt", "metrics.json", "history.json", "confusion.png"):
        assert (out / name).is_file(), name
    checkpoint = torch.load(out / "best.pt", weights_only=True)
    assert {"model", "epoch", "config", "class_names", "metrics", "versions", "git_commit",
            "created"} <= checkpoint.keys()  # fmt: skip
    assert checkpoint["class_names"] == list(CLASSES)
    assert checkpoint["config"]["backbone"] == "efficientnet_lite0"

    first = predict_proba(load_model(out, device="cpu"), val_x)
    again = predict_proba(load_model(out / "best.pt", device="cpu"), val_x)
    assert first.shape == (40, 2) and first.dtype == np.float32
    np.testing.assert_allclose(first.sum(1), 1.0, rtol=1e-5)
    np.testing.assert_array_equal(first, again)
    assert (first.argmax(1) == np.arange(40) % 2).mean() == pytest.approx(result.metrics["top1"])


def test_head_only_writes_the_same_checkpoint_format(tmp_path: Path) -> None:
    train_x, train_y = bright_half_images(24, seed=2)
    val_x, val_y = bright_half_images(16, seed=3)
    events: list = []
    result = fit(train_x, train_y, val_x, val_y, config(head_only=True), tmp_path,
                 progress=events.append)  # fmt: skip
    assert result.metrics["top1"] >= 0.75
    # its progress shows a real training loss (it showed "loss nan")
    assert len(events) == 1 and 0 <= events[0].loss < 1.0
    model = load_model(tmp_path, device="cpu")
    assert model.config["head_only"] and model.class_names == CLASSES


def test_cancel_before_the_first_epoch_ends_leaves_no_checkpoint(tmp_path: Path) -> None:
    train_x, train_y = bright_half_images(16, seed=4)
    result = fit(train_x, train_y, None, None, config(batch_size=4), tmp_path,
                 should_cancel=lambda: True)  # fmt: skip
    assert result.cancelled and result.best_epoch == 0
    assert not (tmp_path / "best.pt").exists()


def test_stratified_split_keeps_single_sample_classes_in_training() -> None:
    labels = ["Blip"] * 10 + ["Whistle"] * 5 + ["Paired_Doves"]
    train_idx, val_idx = stratified_split(labels, 0.2, seed=0)
    assert sorted(train_idx + val_idx) == list(range(16))
    assert [labels[i] for i in val_idx].count("Blip") == 2
    assert [labels[i] for i in val_idx].count("Whistle") == 1
    assert 15 in train_idx
    assert stratified_split(labels, 0.2, seed=0) == (train_idx, val_idx)


def test_stratified_split_by_source_keeps_a_lone_real_glitch_in_training() -> None:
    # `ml train --data SIM --data REAL`: Tomte has 40 simulations and its one golden example;
    # Blip 10 simulated and 10 real glitches. Split by class alone, the golden example went
    # to validation for about one seed in five, and the model never trained on it.
    labels = ["Tomte"] * 41 + ["Blip"] * 20
    sources = ["sim"] * 40 + ["real"] + ["sim"] * 10 + ["real"] * 10
    for seed in range(20):
        train_idx, val_idx = stratified_split(labels, 0.2, seed, sources)
        assert sorted(train_idx + val_idx) == list(range(61))
        assert 40 in train_idx, seed
        validated = Counter((labels[i], sources[i]) for i in val_idx)
        assert validated == {("Tomte", "sim"): 8, ("Blip", "sim"): 2, ("Blip", "real"): 2}
    with pytest.raises(ValueError, match="differ in length"):
        stratified_split(labels, 0.2, 0, sources[:-1])
