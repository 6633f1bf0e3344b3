"""ml.audit: confident learning finds labels flipped on a toy set, and volunteer votes help."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from image_factories import write_glitches

from ml.audit import MislabelFinder, confident_joint, find_label_issues, out_of_fold_proba
from ml.cli import main


def blobs(n_classes: int = 4, per_class: int = 40, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Well separated Gaussian blobs in 16 dimensions: (N, 16) features, (N,) labels."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(n_classes, 16)) * 4.0
    labels = np.repeat(np.arange(n_classes), per_class)
    return centres[labels] + rng.normal(size=(len(labels), 16)), labels


def flip(
    labels: np.ndarray, n: int, n_classes: int, seed: int = 1
) -> tuple[np.ndarray, np.ndarray]:
    """Labels with `n` random samples moved to another class; returns (noisy, flipped idx)."""
    rng = np.random.default_rng(seed)
    flipped = rng.choice(len(labels), size=n, replace=False)
    noisy = labels.copy()
    noisy[flipped] = (labels[flipped] + rng.integers(1, n_classes, size=n)) % n_classes
    return noisy, flipped


def test_flipped_labels_rank_on_top_with_the_true_class_suggested() -> None:
    x, truth = blobs()
    noisy, flipped = flip(truth, 8, 4)
    finder = MislabelFinder(n_splits=5).fit(x, noisy, n_classes=4)
    top = [row.index for row in finder.rows_[:8]]
    assert set(top) == set(flipped.tolist())
    suggested = {row.index: row.suggested for row in finder.rows_[:8]}
    assert all(suggested[i] == truth[i] for i in flipped)
    assert all(row.is_issue for row in finder.rows_[:8])
    assert finder.rows_[0].score > 0.5 > finder.rows_[-1].score


def test_out_of_fold_probabilities_do_not_see_their_own_label() -> None:
    x, truth = blobs()
    noisy, flipped = flip(truth, 8, 4)
    probs = out_of_fold_proba(x, noisy, 4)
    assert probs.shape == (160, 4)
    np.testing.assert_allclose(probs.sum(1), 1.0)
    # An in-sample fit would memorise the wrong label; out of fold the true class wins.
    assert (probs[flipped].argmax(1) == truth[flipped]).all()


def test_confident_joint_counts_the_flips_off_the_diagonal() -> None:
    labels = np.array([0] * 10 + [1] * 10)
    probs = np.zeros((20, 2))
    probs[:, 0] = np.where(labels == 0, 0.9, 0.1)
    probs[[0, 1], 0] = 0.1  # two samples labelled 0 look like class 1
    probs[:, 1] = 1 - probs[:, 0]
    joint = confident_joint(probs, labels)
    assert joint.sum(1).tolist() == [10, 10]
    assert round(joint[0, 1]) == 2
    assert set(np.flatnonzero(find_label_issues(probs, labels))) == {0, 1}


def test_votes_break_ties_the_model_cannot() -> None:
    """Two samples equally doubtful to the model: the one volunteers also doubt ranks first."""
    labels = np.array([0] * 10 + [1] * 10)
    probs = np.tile([0.9, 0.1], (20, 1))
    probs[labels == 1] = [0.1, 0.9]
    probs[[3, 4]] = [0.45, 0.55]
    votes = np.full((20, 2), np.nan)
    votes[3] = [0.95, 0.05]  # the crowd is sure sample 3 is class 0
    votes[4] = [0.1, 0.9]  # ...and that sample 4 is not
    finder = MislabelFinder(vote_weight=0.5).fit_proba(probs, labels, votes=votes)
    assert finder.rows_[0].index == 4
    assert finder.rows_[0].vote_agreement == pytest.approx(0.1)
    ranks = {row.index: r for r, row in enumerate(finder.rows_)}
    assert ranks[4] < ranks[3]


def test_no_label_issue_on_a_clean_set() -> None:
    x, truth = blobs()
    finder = MislabelFinder().fit(x, truth, n_classes=4)
    assert not finder.issues_.any()
    assert finder.rows_[0].score < 0.5


def test_cli_ranks_a_relabelled_glitch_first(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for label in ("Blip", "Whistle"):
        write_glitches(tmp_path, label, 8)
    # A Whistle-looking glitch filed under Blip: the label error to find.
    for path in (tmp_path / "Whistle").glob("gWh003_*"):
        path.rename(tmp_path / "Blip" / path.name)
    code = main(["audit", "--data", str(tmp_path), "--image-size", "64", "--folds", "4", "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0
    first = out["suspects"][0]
    assert (first["id"], first["label"], first["suggested"]) == ("gWh003", "Blip", "Whistle")
    assert len(out["suspects"]) == 16
    assert out["suspects"][-1]["score"] < first["score"]
