"""Evaluation numbers agree with scikit-learn; unknown classes count as errors, not a crash."""

import json

import numpy as np
import pytest
from sklearn.metrics import confusion_matrix, precision_recall_fscore_support, top_k_accuracy_score

from ml.evaluate import evaluate_predictions, plot_confusion

CLASSES = ["Blip", "Whistle", "Koi_Fish", "Tomte", "Chirp", "Helix"]


def noisy_predictions(n: int, seed: int = 0) -> tuple[np.ndarray, list[str]]:
    """(n, 6) probabilities that are right about 60% of the time, and the true labels."""
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, len(CLASSES), n)
    logits = rng.normal(size=(n, len(CLASSES)))
    logits[np.arange(n), truth] += 1.2
    probs = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    return probs, [CLASSES[i] for i in truth]


def test_report_agrees_with_scikit_learn() -> None:
    probs, labels = noisy_predictions(80)
    report = evaluate_predictions(probs, labels, CLASSES)

    y_true = [CLASSES.index(t) for t in labels]
    y_pred = probs.argmax(1)
    for k in range(1, 6):
        expected = top_k_accuracy_score(y_true, probs, k=k, labels=range(len(CLASSES)))
        assert report[f"top{k}"] == pytest.approx(expected)
    precision, recall, f1, support = precision_recall_fscore_support(
        y_true, y_pred, labels=range(len(CLASSES)), zero_division=0
    )
    for i, name in enumerate(CLASSES):
        row = report["per_class"][name]
        assert row["precision"] == pytest.approx(precision[i])
        assert row["recall"] == pytest.approx(recall[i])
        assert row["f1"] == pytest.approx(f1[i])
        assert row["support"] == support[i]
    assert report["confusion"] == confusion_matrix(y_true, y_pred).tolist()
    assert report["n"] == 80 and report["labels"] == CLASSES
    assert len(report["misclassified"]) == int((y_pred != np.array(y_true)).sum())
    json.dumps(report)  # strict JSON


def test_unknown_class_counts_as_error_and_is_reported(tmp_path) -> None:
    probs, labels = noisy_predictions(40)
    known = evaluate_predictions(probs, labels, CLASSES)
    extra = np.full((10, len(CLASSES)), 1 / len(CLASSES))
    report = evaluate_predictions(
        np.vstack([probs, extra]),
        labels + ["Reverse_Chirp"] * 10,
        CLASSES,
        ids=[f"g{i}" for i in range(50)],
        files=[[f"/data/g{i}_1.0.png"] for i in range(50)],
    )
    assert report["unknown_labels"] == ["Reverse_Chirp"]
    assert report["labels"] == CLASSES + ["Reverse_Chirp"]
    assert report["top1"] == pytest.approx(known["top1"] * 40 / 50)
    assert report["top5"] == pytest.approx(known["top5"] * 40 / 50)
    assert report["per_class"]["Reverse_Chirp"] == {
        "precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 10,
    }  # fmt: skip
    wrong = {m["id"]: m for m in report["misclassified"]}
    assert wrong["g45"]["true"] == "Reverse_Chirp"
    assert wrong["g45"]["files"] == ["/data/g45_1.0.png"]

    plot_confusion(report, tmp_path / "confusion.png")
    assert (tmp_path / "confusion.png").read_bytes()[:4] == b"\x89PNG"


def test_macro_f1_and_macro_recall_are_scikit_learns() -> None:
    """A class that is only ever predicted counts in scikit-learn's macro F1 (with F1 0);
    leaving it out made the number look better than it is."""
    from sklearn.metrics import balanced_accuracy_score, f1_score

    y_true = ["Blip", "Blip", "Whistle", "Whistle"]
    y_pred = ["Blip", "Tomte", "Whistle", "Tomte"]  # Tomte: predicted, never true
    probs = np.array([[1.0 if c == p else 0.0 for c in CLASSES] for p in y_pred])
    report = evaluate_predictions(probs, y_true, CLASSES)
    assert report["macro_f1"] == pytest.approx(f1_score(y_true, y_pred, average="macro"))
    assert report["macro_f1"] == pytest.approx(4 / 9)  # (2/3 + 2/3 + 0) / 3
    assert report["macro_recall"] == pytest.approx(balanced_accuracy_score(y_true, y_pred))
    probs, labels = noisy_predictions(80, seed=3)
    report = evaluate_predictions(probs, labels, CLASSES)
    predicted = [CLASSES[i] for i in probs.argmax(1)]
    assert report["macro_f1"] == pytest.approx(f1_score(labels, predicted, average="macro"))
    assert report["macro_recall"] == pytest.approx(balanced_accuracy_score(labels, predicted))
