"""TrainConfig.sim_only_weight: a model on the simulated glitches alone, trained beside the
main one and averaged into every prediction (docs/real_benchmark.md, condition (a))."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch
from image_factories import TINY_TRAIN

from ml.cli import main
from ml.encoding import encode_samples
from ml.errors import UserError
from ml.model import (
    SIM_ONLY_DIR,
    blend,
    load_model,
    predict_and_embed,
    predict_proba,
    views_of,
)


@pytest.fixture(scope="module")
def averaged(sim_and_real: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    sim, real = sim_and_real
    model = tmp_path_factory.mktemp("m") / "model"
    code = main(["train", "--data", str(sim), "--data", str(real), "--out", str(model),
                 "--sim-only-weight", "0.5", *TINY_TRAIN])  # fmt: skip
    assert code == 0
    return model


def test_the_simulated_only_model_trains_on_the_synth_folder_alone(
    averaged: Path, sim_and_real: tuple[Path, Path]
) -> None:
    main_model, companion = (
        load_model(averaged, device="cpu"),
        load_model(averaged / SIM_ONLY_DIR, device="cpu"),
    )
    assert main_model.companion is not None and companion.companion is None
    assert companion.class_names == main_model.class_names
    assert main_model.config["sim_only_weight"] == 0.5 and companion.config["sim_only_weight"] == 0
    # what its predictions name as their model names the one averaged in too
    identity = main_model.identity()
    assert identity["sim_only"] == companion.identity() and identity["sim_only_weight"] == 0.5
    assert identity["dir"] == str(averaged.resolve()) and "sim_only" not in companion.identity()
    # it saw the 6 simulated glitches, less those the split kept for validation
    history = json.loads((averaged / SIM_ONLY_DIR / "history.json").read_text())
    assert history and not (averaged / SIM_ONLY_DIR / "teacher").exists()


def test_every_prediction_is_the_weighted_mean_of_the_two_models(
    averaged: Path, sim_and_real: tuple[Path, Path]
) -> None:
    from ml.data import load_samples

    samples = load_samples(sim_and_real[1]).samples
    model = load_model(averaged, device="cpu")
    images = encode_samples(samples, model.encoding, model.image_size, workers=1)
    views = views_of(samples)
    alone = predict_proba(replace(model, companion=None), images, views=views)
    assert model.companion is not None
    other = predict_proba(model.companion, images, views=views)
    both = predict_proba(model, images, views=views)
    np.testing.assert_allclose(both, 0.5 * alone + 0.5 * other, atol=1e-5)
    assert not np.allclose(both, alone, atol=1e-3)  # the companion changes something
    probs, embedding = predict_and_embed(model, images, views=views)
    np.testing.assert_allclose(probs, both, atol=1e-5)
    assert embedding.shape[0] == len(samples)  # from the main model alone


def test_by_default_it_is_on_for_simulated_and_real_glitches_and_off_otherwise() -> None:
    """None (the default): a simulated-only model to train (2 classes or more) and real
    glitches it keeps from pulling a lone real glitch to the real-rich classes."""
    from ml.data import Sample
    from ml.train import TrainConfig, resolve_sim_only_weight

    def glitch(label: str, source: str) -> Sample:
        return Sample(id=f"{label}-{source}", label=label, paths={}, source=source)

    sim = [glitch("Blip", "sim"), glitch("Whistle", "sim")]
    real = [glitch("Blip", "real")]
    sources = {"sim"}

    def chosen(samples: list[Sample], **fields: object) -> float | None:
        return resolve_sim_only_weight(TrainConfig(**fields), samples, sources).sim_only_weight  # type: ignore[arg-type]

    assert TrainConfig().sim_only_weight is None
    assert chosen(sim + real) == 0.5
    assert chosen(sim) == 0.0  # simulations alone: the second model would be the first
    assert chosen(real) == 0.0  # nothing simulated to train it on
    assert chosen(sim[:1] + real) == 0.0  # one simulated class: no classifier
    assert chosen(sim + real, head_only=True) == 0.0  # a fine-tuned model's option
    assert chosen(sim + real, sim_only_weight=0.0) == 0.0  # given: kept
    assert chosen(sim, sim_only_weight=0.3) == 0.3  # given: kept (train() checks it)


def test_ml_train_by_default_averages_on_a_synth_folder_and_real_glitches(
    sim_and_real: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sim, real = sim_and_real
    default, off = tmp_path / "default", tmp_path / "off"
    args = ["train", "--data", str(sim), "--data", str(real)]
    assert main([*args, "--out", str(default), *TINY_TRAIN]) == 0
    assert main(["train", "--data", str(sim), "--data", str(real), "--out", str(off),
                 "--sim-only-weight", "0", *TINY_TRAIN]) == 0  # fmt: skip

    said = capsys.readouterr().err  # what the data chose is said, once; a weight given is not
    assert said.count("sim_only_weight 0.5: a second model trains on the simulated") == 1
    model = load_model(default, device="cpu")
    assert model.companion is not None and model.config["sim_only_weight"] == 0.5
    assert (default / SIM_ONLY_DIR / "best.pt").is_file()
    alone = load_model(off, device="cpu")
    assert alone.companion is None and alone.config["sim_only_weight"] == 0.0
    assert not (off / SIM_ONLY_DIR).exists()


def test_without_a_synth_folder_it_is_refused_before_training(
    sim_and_real: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["train", "--data", str(sim_and_real[1]), "--out", str(tmp_path / "m"),
                 "--sim-only-weight", "0.5", *TINY_TRAIN])  # fmt: skip
    assert code != 0 and "needs a --data folder that ml synth wrote" in capsys.readouterr().err
    assert not (tmp_path / "m").exists()
    # the library says why too, before decoding anything
    from ml.data import load_samples
    from ml.train import TrainConfig, train

    samples = load_samples(sim_and_real[1]).samples
    with pytest.raises(UserError, match="simulated training glitches of 2 classes or more"):
        train(samples, [], TrainConfig(sim_only_weight=0.5, image_size=32), tmp_path / "n")


def test_a_model_whose_simulated_only_model_is_missing_is_refused_clearly(
    averaged: Path, tmp_path: Path
) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(averaged, copy)
    shutil.rmtree(copy / SIM_ONLY_DIR)
    with pytest.raises(UserError, match="trained with sim_only_weight, but .* holds no model"):
        load_model(copy, device="cpu")


@pytest.mark.parametrize("weight", [1.5, -0.5, 1.0])
def test_a_model_whose_weight_is_no_weight_is_refused_clearly(
    averaged: Path, tmp_path: Path, weight: float
) -> None:
    # training never writes one: an edited config would have failed at every prediction
    copy = tmp_path / "copy"
    shutil.copytree(averaged, copy)
    checkpoint = torch.load(copy / "best.pt", map_location="cpu", weights_only=True)
    checkpoint["config"]["sim_only_weight"] = weight
    torch.save(checkpoint, copy / "best.pt")
    with pytest.raises(UserError, match=f"its sim_only_weight, {weight:g}, is not a weight"):
        load_model(copy, device="cpu")


def test_a_synth_folder_is_told_by_its_config_json(
    sim_and_real: tuple[Path, Path], tmp_path: Path
) -> None:
    from ml.synth import written_by_synth

    sim, real = sim_and_real
    assert written_by_synth(sim) and written_by_synth(sim / "manifest.csv")
    assert not written_by_synth(real)
    scan = tmp_path / "scan"  # ml scan's output: a manifest.csv, no config.json
    scan.mkdir()
    (scan / "manifest.csv").write_text("id,label,duration,path\n")
    assert not written_by_synth(scan)


def test_progress_counts_the_simulated_only_models_epochs_too(
    sim_and_real: tuple[Path, Path], tmp_path: Path
) -> None:
    """The simulated-only model trains first, for as long as the model: reported nowhere,
    a run's page sat at "decode" for half the training, as if stuck."""
    from test_train import config

    from ml.data import load_samples
    from ml.train import TrainProgress, train

    sim, real = sim_and_real
    samples = load_samples([sim, real]).samples
    done: list[tuple[int, int]] = []

    def progress(event: TrainProgress) -> None:
        if event.epoch_done:
            done.append((event.epoch, event.epochs))

    train(samples, [], config(epochs=2, sim_only_weight=0.5), tmp_path / "m",
          workers=1, progress=progress, simulated_sources={str(sim)})  # fmt: skip

    assert done == [(1, 4), (2, 4), (3, 4), (4, 4)]


def test_a_blend_weight_outside_zero_to_one_is_refused() -> None:
    ours, theirs = np.array([[1.0, 0.0]]), np.array([[0.0, 1.0]])
    np.testing.assert_allclose(blend(ours, theirs, 0.25), [[0.75, 0.25]])
    for weight in (-0.1, 1.5):
        with pytest.raises(ValueError, match="in \\[0, 1\\]"):
            blend(ours, theirs, weight)
