"""bench/synth.py's linear transfer: simulations that sit where the real glitches of their
class sit transfer; simulations drawn where another class's real glitches sit do not. Its
realism probe scores every glitch held out, so noise it could memorise tells nothing."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from sklearn.metrics import roc_auc_score

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.real import part_of  # noqa: E402
from bench.synth import held_out_realness, linear_transfer  # noqa: E402
from ml.data import sample_of  # noqa: E402

CENTRES = {"Blip": np.array([4.0, 0.0]), "Whistle": np.array([0.0, 4.0])}


def _glitches(kind: str, where: dict[str, str], n: int, rng: np.random.Generator) -> tuple:
    """n glitches of each class (ids kind-label-i), features around the centre of where[label]."""
    samples, features, labels = [], [], []
    for label in CENTRES:
        for i in range(n):
            samples.append(sample_of(f"{kind}-{label}-{i}", label, {1.0: Path("x.png")}))
            features.append(CENTRES[where[label]] + rng.normal(0, 0.5, 2))
            labels.append(label)
    return samples, np.array(features), np.array(labels)


def _transfer(simulated_where: dict[str, str]) -> tuple[float, dict[str, float]]:
    rng = np.random.default_rng(0)
    real = _glitches("real", {"Blip": "Blip", "Whistle": "Whistle"}, 30, rng)
    sim = _glitches("sim", simulated_where, 20, rng)
    samples = real[0] + sim[0]
    features = np.concatenate([real[1], sim[1]])
    labels = np.concatenate([real[2], sim[2]])
    is_real = np.array([1] * len(real[0]) + [0] * len(sim[0]))
    return linear_transfer(features, labels, is_real, samples, 0.1)


def test_simulations_where_their_real_class_is_transfer() -> None:
    top1, recalls = _transfer({"Blip": "Blip", "Whistle": "Whistle"})
    assert top1 == 1.0
    assert recalls == {"Blip": 1.0, "Whistle": 1.0}


def test_simulated_blips_drawn_like_real_whistles_lose_the_real_blips() -> None:
    top1, recalls = _transfer({"Blip": "Whistle", "Whistle": "Blip"})
    assert recalls["Blip"] == 0.0 and recalls["Whistle"] == 0.0
    assert top1 == 0.0


def test_only_the_tune_part_is_scored() -> None:
    rng = np.random.default_rng(0)
    samples, features, labels = _glitches("real", {"Blip": "Blip", "Whistle": "Whistle"}, 30, rng)
    report = np.array([part_of(s, set()) == "report" for s in samples])
    assert 0 < report.sum() < len(samples)  # the id hash deals some each way
    features[report] = features[report][:, ::-1]  # report glitches look like the other class
    sim = _glitches("sim", {"Blip": "Blip", "Whistle": "Whistle"}, 20, rng)
    top1, recalls = linear_transfer(
        np.concatenate([features, sim[1]]),
        np.concatenate([labels, sim[2]]),
        np.array([1] * len(samples) + [0] * len(sim[0])),
        samples + sim[0],
        0.1,
    )
    assert top1 == 1.0 and recalls == {"Blip": 1.0, "Whistle": 1.0}


def test_realism_probe_tells_apart_what_differs() -> None:
    rng = np.random.default_rng(0)
    is_real = np.repeat([1, 0], 40)
    features = rng.normal(0, 1, (80, 5)) + is_real[:, None] * 3.0
    scores = held_out_realness(features, is_real, c=0.1, repeats=3)
    assert roc_auc_score(is_real, scores) > 0.95


def test_realism_probe_scores_held_out_so_memorised_noise_tells_nothing() -> None:
    # 300 noise features for 60 glitches: a probe scored on what it was fitted to would
    # separate any labels (AUC ~1); held out, it cannot beat chance by much.
    rng = np.random.default_rng(1)
    is_real = np.repeat([1, 0], 30)
    features = rng.normal(0, 1, (60, 300))
    for repeats in (1, 5):
        scores = held_out_realness(features, is_real, c=0.1, repeats=repeats)
        assert roc_auc_score(is_real, scores) < 0.75
