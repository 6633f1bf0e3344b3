"""ml.audit: flipped labels rank first, votes count by their number, the suggestion is the
blend's (model and votes together), never one vote's."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from image_factories import write_glitches, write_simulated_with_one_split

from ml.audit import AuditRow, MislabelFinder, out_of_fold_proba
from ml.cli import main

BLIP, TOMTE, WHISTLE = 0, 1, 2


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


def vote_column(answer: int, weight: float, n_classes: int = 3) -> np.ndarray:
    """One volunteer's W column: `weight` on the answer, the rest spread evenly."""
    column = np.full(n_classes, (1 - weight) / (n_classes - 1))
    column[answer] = weight
    return column


def one_suspect(model_row: list[float], votes: list[np.ndarray]) -> MislabelFinder:
    """A Blip-labelled sample with the model's `model_row` and these votes, among 30 clean
    samples of the three classes; returns the fitted finder (the suspect is index 0)."""
    labels = np.array([BLIP] + [BLIP, TOMTE, WHISTLE] * 10)
    probs = np.full((31, 3), 0.05)
    probs[np.arange(31), labels] = 0.9
    probs[0] = model_row
    mean_votes = np.full((31, 3), np.nan)
    n_votes = np.zeros(31, dtype=int)
    if votes:
        mean_votes[0] = np.mean(votes, axis=0)
        n_votes[0] = len(votes)
    return MislabelFinder().fit_proba(probs, labels, votes=mean_votes, n_votes=n_votes)


def row_of(finder: MislabelFinder, index: int) -> AuditRow:
    return next(row for row in finder.rows_ if row.index == index)


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


def test_cleanlab_flags_the_samples_that_look_like_another_class() -> None:
    labels = np.array([0] * 10 + [1] * 10)
    probs = np.zeros((20, 2))
    probs[:, 0] = np.where(labels == 0, 0.9, 0.1)
    probs[[0, 1], 0] = 0.1  # two samples labelled 0 look like class 1
    probs[:, 1] = 1 - probs[:, 0]
    finder = MislabelFinder().fit_proba(probs, labels)
    assert set(np.flatnonzero(finder.issues_)) == {0, 1}
    assert {row.index for row in finder.rows_[:2]} == {0, 1}


def test_classes_nobody_carries_do_not_blunt_the_ranking() -> None:
    """The job audits over the whole class list, most of it unused by the labels: the flips
    still rank first, with cleanlab's class-threshold adjustment too."""
    x, truth = blobs()
    noisy, flipped = flip(truth, 8, 4)
    probs = np.zeros((160, 22))
    probs[:, :4] = out_of_fold_proba(x, noisy, 4)
    finder = MislabelFinder(adjust=True).fit_proba(probs, noisy)
    assert {row.index for row in finder.rows_[:8]} == set(flipped.tolist())
    assert finder.rows_[0].score > 0.5 > finder.rows_[-1].score


def test_the_only_glitch_of_a_class_does_not_head_the_queue() -> None:
    """A field-guide example alone in its class: no fold saw another of it, so the model's
    zero for its class says nothing; the real flips come first."""
    x, truth = blobs()
    noisy, flipped = flip(truth, 8, 4)
    lonely = np.vstack([x, x[:1] + 40.0])  # far from everything, the one sample of class 4
    labels = np.append(noisy, 4)
    finder = MislabelFinder().fit(lonely, labels, n_classes=5)
    assert {row.index for row in finder.rows_[:8]} == set(flipped.tolist())
    assert finder.rows_[-1].index == 160
    assert not finder.rows_[-1].is_issue


def test_votes_break_ties_the_model_cannot() -> None:
    """Two samples equally doubtful to the model: the one volunteers also doubt ranks first."""
    labels = np.array([0] * 10 + [1] * 10)
    probs = np.tile([0.9, 0.1], (20, 1))
    probs[labels == 1] = [0.1, 0.9]
    probs[[3, 4]] = [0.45, 0.55]
    votes = np.full((20, 2), np.nan)
    votes[3] = [0.95, 0.05]  # the crowd is sure sample 3 is class 0
    votes[4] = [0.1, 0.9]  # ...and that sample 4 is not
    n_votes = np.where(np.isnan(votes[:, 0]), 0, 3)
    finder = MislabelFinder().fit_proba(probs, labels, votes=votes, n_votes=n_votes)
    assert finder.rows_[0].index == 4
    assert finder.rows_[0].vote_agreement == pytest.approx(0.1)
    ranks = {row.index: r for r, row in enumerate(finder.rows_)}
    assert ranks[4] < ranks[3]


def test_votes_that_agree_with_the_label_lower_the_suspicion() -> None:
    doubted = [0.3, 0.6, 0.1]  # the model leans Tomte for this Blip
    alone = one_suspect(doubted, [])
    few = one_suspect(doubted, [vote_column(BLIP, 0.9)] * 3)
    many = one_suspect(doubted, [vote_column(BLIP, 0.9)] * 40)  # a gold subject's answers
    assert alone.rows_[0].index == 0
    assert row_of(alone, 0).score > row_of(few, 0).score > 0.5 > row_of(many, 0).score
    assert row_of(many, 0).vote_agreement == pytest.approx(0.9)


def test_a_lone_vote_does_not_overrule_a_confident_model() -> None:
    """The demo's bug: one wrong vote of weight 0.81 made the suggestion Whistle while the
    model said Tomte. The suggestion is the blend's, and one vote is one vote."""
    finder = one_suspect([0.25, 0.7, 0.05], [vote_column(WHISTLE, 0.81)])
    assert row_of(one_suspect([0.25, 0.7, 0.05], []), 0).suggested == TOMTE
    assert row_of(finder, 0).suggested == TOMTE


def test_agreeing_votes_move_the_suggestion_where_the_model_is_unsure() -> None:
    """The suggestion follows model and votes together: one vote breaks a near tie of the
    model's, and a crowd that agrees wins over a model that prefers another class."""
    unsure = [0.3, 0.355, 0.345]
    assert row_of(one_suspect(unsure, []), 0).suggested == TOMTE
    assert row_of(one_suspect(unsure, [vote_column(WHISTLE, 0.81)]), 0).suggested == WHISTLE
    confident = [0.2, 0.65, 0.15]
    assert row_of(one_suspect(confident, [vote_column(WHISTLE, 0.81)] * 3), 0).suggested == TOMTE
    crowd = [vote_column(WHISTLE, 0.81)] * 40
    assert row_of(one_suspect(confident, crowd), 0).suggested == WHISTLE


def test_votes_without_their_count_are_refused() -> None:
    probs = np.tile([0.9, 0.1], (4, 1))
    with pytest.raises(ValueError, match="n_votes"):
        MislabelFinder().fit_proba(probs, [0, 0, 0, 1], votes=np.tile([0.5, 0.5], (4, 1)))


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
    # no --model: what embedded the glitches, in the keys a model's identity has
    assert out["model"] == {"backbone": "efficientnet_lite0", "weights": "ImageNet, frozen",
                            "encoding": "rgb-durations", "image_size": 64}  # fmt: skip
    assert out["data"] == [str(tmp_path)]


def test_cli_audits_one_glitch_saved_under_two_ids_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Two ids of one glitch in different folds would each be predicted by a head that
    # trained on the other: its label could not look wrong.
    write_simulated_with_one_split(tmp_path, ["Blip", "Whistle"], 4)
    code = main(["audit", "--data", str(tmp_path), "--image-size", "64", "--folds", "2", "--json"])
    captured = capsys.readouterr()
    assert code == 0
    ids = {row["id"] for row in json.loads(captured.out)["suspects"]}
    assert len(ids) == 8 and "g0a" in ids and "g0b" not in ids  # 9 ids, 8 glitches
    assert "merged as g0a: g0a + g0b" in captured.err
