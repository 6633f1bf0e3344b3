"""A simulated-only model depends on the simulated glitches and the recipe, not on the real
labels that grow between retrains: `ml train --sim-only-from` (and the retrain task) reuse
one trained on the same, and train again when anything it learns from differs."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from image_factories import TINY_TRAIN, write_glitches

from ml.cli import main
from ml.model import SIM_ONLY_DIR
from ml.synth import generate
from ml.train import (
    SIM_ONLY_KEY_FILE,
    TrainConfig,
    reuse_sim_only,
    sim_only_key,
    stratified_split,
)


@pytest.fixture(scope="module")
def first(sim_and_real: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    sim, real = sim_and_real
    model = tmp_path_factory.mktemp("first") / "model"
    args = ["train", "--data", str(sim), "--data", str(real), "--out", str(model)]
    assert main([*args, *TINY_TRAIN]) == 0
    assert (model / SIM_ONLY_DIR / SIM_ONLY_KEY_FILE).is_file()
    return model


def _sim_checkpoint(model: Path) -> Path:
    return model / SIM_ONLY_DIR / "best.pt"


def test_more_real_glitches_reuse_the_simulated_only_model(
    sim_and_real: tuple[Path, Path], first: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sim, real = sim_and_real
    more = tmp_path / "more-real"
    for label, n in (("Blip", 5), ("Whistle", 4)):  # the real set grew: 6 -> 9
        write_glitches(more, label, n)
    model = tmp_path / "second"
    capsys.readouterr()
    code = main(["train", "--data", str(sim), "--data", str(more), "--out", str(model),
                 "--sim-only-from", str(first), *TINY_TRAIN])  # fmt: skip
    assert code == 0
    assert "reused, not trained again" in capsys.readouterr().err
    assert _sim_checkpoint(model).read_bytes() == _sim_checkpoint(first).read_bytes()
    assert not (model / SIM_ONLY_DIR / "history.json").exists()  # nothing trained there
    key = json.loads((model / SIM_ONLY_DIR / SIM_ONLY_KEY_FILE).read_text())
    assert key == json.loads((first / SIM_ONLY_DIR / SIM_ONLY_KEY_FILE).read_text())
    # the model it makes loads and averages the reused one in, as a trained one
    from ml.model import load_model

    loaded = load_model(model, device="cpu")
    assert loaded.companion is not None and loaded.config["sim_only_weight"] == 0.5


@pytest.mark.parametrize("change", ["other simulations", "other recipe"])
def test_anything_the_simulated_only_model_learns_from_changed_trains_it_again(
    change: str,
    sim_and_real: tuple[Path, Path],
    first: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    sim, real = sim_and_real
    flags: list[str] = []
    if change == "other simulations":
        sim = tmp_path / "sim"
        generate(sim, 3, classes=["Blip", "Whistle"], style="crop", seed=6, workers=1)
    else:
        flags = ["--lr", "3e-4"]
    model = tmp_path / "second"
    capsys.readouterr()
    code = main(["train", "--data", str(sim), "--data", str(real), "--out", str(model),
                 "--sim-only-from", str(first), *TINY_TRAIN, *flags])  # fmt: skip
    assert code == 0
    assert "no simulated-only model to reuse" in capsys.readouterr().err
    assert (model / SIM_ONLY_DIR / "history.json").is_file()  # trained here
    assert _sim_checkpoint(model).read_bytes() != _sim_checkpoint(first).read_bytes()


def test_a_missing_model_folder_is_refused_before_any_training(
    sim_and_real: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sim, real = sim_and_real
    code = main(["train", "--data", str(sim), "--data", str(real), "--out", str(tmp_path / "m"),
                 "--sim-only-from", str(tmp_path / "nowhere"), *TINY_TRAIN])  # fmt: skip
    assert code != 0
    assert "--sim-only-from: no such model folder" in capsys.readouterr().err
    assert not (tmp_path / "m").exists()


@pytest.mark.parametrize("written", ["", "not json", "[1, 2]", '{"key": "other"}'])
def test_a_candidate_with_an_unreadable_or_other_key_is_passed_over(
    written: str, tmp_path: Path
) -> None:
    bad, good = tmp_path / "bad", tmp_path / "good"
    for model, text in ((bad, written), (good, json.dumps({"key": "k"}))):
        (model / SIM_ONLY_DIR).mkdir(parents=True)
        (model / SIM_ONLY_DIR / SIM_ONLY_KEY_FILE).write_text(text)
        (model / SIM_ONLY_DIR / "best.pt").write_bytes(model.name.encode())
    into = tmp_path / "new" / SIM_ONLY_DIR
    assert reuse_sim_only([bad, tmp_path / "gone", good], "k", into) == good
    assert (into / "best.pt").read_bytes() == b"good"
    assert json.loads((into / SIM_ONLY_KEY_FILE).read_text()) == {"key": "k"}
    assert reuse_sim_only([bad], "k", tmp_path / "other" / SIM_ONLY_DIR) is None
    assert not (tmp_path / "other").exists()  # nothing half-made where none was reused


def test_a_key_without_its_checkpoint_is_not_reused(tmp_path: Path) -> None:
    (tmp_path / "m" / SIM_ONLY_DIR).mkdir(parents=True)
    (tmp_path / "m" / SIM_ONLY_DIR / SIM_ONLY_KEY_FILE).write_text(json.dumps({"key": "k"}))
    assert reuse_sim_only([tmp_path / "m"], "k", tmp_path / "new" / SIM_ONLY_DIR) is None


def test_the_key_follows_what_the_model_learns_from_and_only_that() -> None:
    images = np.zeros((4, 3, 8, 8), np.uint8)
    labels, sources = ["Blip", "Blip", "Whistle", "Whistle"], ["s"] * 4
    classes = ["Blip", "Whistle"]
    config = TrainConfig(sim_only_weight=0.0)
    key = sim_only_key(images, labels, sources, classes, config)
    assert sim_only_key(images.copy(), labels, sources, classes, config) == key
    one_pixel = images.copy()
    one_pixel[3, 2, 7, 7] = 1
    changed = [
        sim_only_key(one_pixel, labels, sources, classes, config),
        sim_only_key(images, ["Blip", "Whistle", "Blip", "Whistle"], sources, classes, config),
        sim_only_key(images, labels, ["s", "s", "s", "t"], classes, config),
        sim_only_key(images, labels, sources, [*classes, "Tomte"], config),
        sim_only_key(images, labels, sources, classes, replace(config, lr=3e-4)),
        sim_only_key(images, labels, sources, classes, replace(config, seed=1)),
    ]
    assert key not in changed and len(set(changed)) == len(changed)
    # what the simulated-only model does not use leaves it as it is
    for same in (
        replace(config, sim_only_weight=0.5),
        replace(config, self_train=0.5),
        replace(config, val_fraction=0.1),
        replace(config, eval_batch_size=8),
    ):
        assert sim_only_key(images, labels, sources, classes, same) == key


def test_glitches_added_to_one_class_and_source_move_no_other_across_the_split() -> None:
    labels = ["Blip"] * 10 + ["Whistle"] * 10 + ["Blip"] * 5
    sources = ["sim"] * 20 + ["real"] * 5
    before = stratified_split(labels, 0.2, 3, sources)
    grown_labels = ["Blip"] * 4 + labels + ["Whistle"] * 3  # real glitches, first and last
    grown_sources = ["real"] * 4 + sources + ["real"] * 3
    after = stratified_split(grown_labels, 0.2, 3, grown_sources)
    simulated_val = {i for i in before[1] if sources[i] == "sim"}
    assert {i - 4 for i in after[1] if grown_sources[i] == "sim"} == simulated_val
    assert simulated_val  # some simulated glitches validate at all


def test_where_no_link_can_be_made_the_model_is_copied(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import ml.train

    def no_links(*args: object) -> None:
        raise OSError("Invalid cross-device link")

    (tmp_path / "m" / SIM_ONLY_DIR).mkdir(parents=True)
    (tmp_path / "m" / SIM_ONLY_DIR / SIM_ONLY_KEY_FILE).write_text(json.dumps({"key": "k"}))
    (tmp_path / "m" / SIM_ONLY_DIR / "best.pt").write_bytes(b"weights")
    monkeypatch.setattr(ml.train.os, "link", no_links)
    into = tmp_path / "new" / SIM_ONLY_DIR
    assert reuse_sim_only([tmp_path / "m"], "k", into) == tmp_path / "m"
    assert (into / "best.pt").read_bytes() == b"weights"
    assert not (into / "best.pt").samefile(tmp_path / "m" / SIM_ONLY_DIR / "best.pt")
    assert sorted(p.name for p in into.iterdir()) == ["best.pt", SIM_ONLY_KEY_FILE]


def test_a_cancel_while_the_simulated_only_model_trains_stops_there_and_keys_nothing(
    sim_and_real: tuple[Path, Path], tmp_path: Path
) -> None:
    # A half-trained simulated-only model must never be reused as a trained one.
    from ml.data import load_samples
    from ml.train import train

    sim, real = sim_and_real
    samples = [*load_samples(sim).samples, *load_samples(real).samples]
    sources = {s.source for s in load_samples(sim).samples}
    model = tmp_path / "model"
    config = TrainConfig(image_size=32, epochs=1, batch_size=8, device="cpu", seed=0)
    result = train(samples, [], replace(config, sim_only_weight=0.5), model,
                   simulated_sources=sources, should_cancel=lambda: True)  # fmt: skip
    assert result.cancelled
    assert result.model_dir == model / SIM_ONLY_DIR  # the model's own fit never started
    assert not (model / SIM_ONLY_DIR / SIM_ONLY_KEY_FILE).exists()
    assert not (model / "best.pt").exists()
