"""ml.train.train leaves out a glitch whose file does not decode, names it in the run's
notes, and trains on the rest: one bad file does not cost the run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ml.data import load_samples
from ml.errors import UserError
from ml.train import TrainConfig, TrainProgress, train
from tests.ml.image_factories import damage_middle, write_glitches

CONFIG = TrainConfig(image_size=32, epochs=1, batch_size=8, device="cpu", seed=0,
                     augment=False, sampling="uniform", head_only=True)  # fmt: skip


def _split(root: Path) -> tuple[list, list]:
    samples = load_samples(root, keep_unknown_labels=True).samples
    return samples[::2] + samples[1::4], samples[3::4]


def _notes(events: list[TrainProgress]) -> list[str]:
    return [e.note for e in events if e.note]


def test_a_glitch_that_does_not_decode_is_left_out_and_the_run_goes_on(tmp_path: Path) -> None:
    for label in ("Blip", "Whistle"):
        write_glitches(tmp_path / "data", label, 6)
    train_samples, val_samples = _split(tmp_path / "data")
    bad = train_samples[1]
    damaged = damage_middle(bad.paths[1.0])
    events: list[TrainProgress] = []

    result = train(train_samples, val_samples, CONFIG, tmp_path / "model", workers=1,
                   progress=events.append)  # fmt: skip

    assert (tmp_path / "model" / "best.pt").is_file() and result.undecodable == [bad.id]
    notes = _notes(events)
    assert notes[0].startswith(f"glitch {bad.id} left out: {damaged}: cannot decode")
    assert notes[1].startswith("1 training and 0 validation glitches left out")
    seen = json.loads((tmp_path / "model" / "glitches.json").read_text())
    assert bad.id not in seen["train"] and len(seen["train"]) == len(train_samples) - 1


def test_a_class_that_loses_every_training_glitch_is_named(tmp_path: Path) -> None:
    for label in ("Blip", "Whistle", "Reverse_Chirp"):
        write_glitches(tmp_path / "data", label, 4)
    train_samples, val_samples = _split(tmp_path / "data")
    for sample in train_samples:
        if sample.label == "Reverse_Chirp":
            damage_middle(sample.paths[4.0])
    events: list[TrainProgress] = []

    result = train(train_samples, val_samples, CONFIG, tmp_path / "model", workers=1,
                   progress=events.append)  # fmt: skip

    assert (
        "class Reverse_Chirp: every training glitch of it was left out, so the model does "
        "not learn it"
    ) in _notes(events)
    assert len(result.undecodable) == sum(s.label == "Reverse_Chirp" for s in train_samples)


def test_fewer_than_two_training_glitches_left_is_said(tmp_path: Path) -> None:
    write_glitches(tmp_path / "data", "Blip", 3)
    samples = load_samples(tmp_path / "data").samples
    for sample in samples[1:]:
        damage_middle(sample.paths[2.0])

    with pytest.raises(UserError, match="need at least 2 labelled training glitches that decode, "
                       "got 1: 2 left out"):  # fmt: skip
        train(samples, [], CONFIG, tmp_path / "model", workers=1)
