"""Evaluation as in the paper's tables: top-1..5, per-class precision/recall/F1, confusion.

The report is a JSON-able dict. Labels in the evaluation data that the model does not
know are appended to `labels` (after the model's classes); such samples count as errors
everywhere (top-k included) and are listed under `unknown_labels`.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ml.files import atomic_write
from ml.model import LoadedModel, predict_proba

TOP_K = (1, 2, 3, 4, 5)


def evaluate_predictions(
    probs: np.ndarray,
    true_labels: Sequence[str],
    class_names: Sequence[str],
    *,
    ids: Sequence[str] | None = None,
    files: Sequence[Sequence[str]] | None = None,
) -> dict[str, Any]:
    """Score (N, C) probabilities (column j = class_names[j]) against N true labels.

    Returns {"n", "top1".."top5", "accuracy", "macro_f1", "macro_recall", "labels", "per_class":
    {label: {"precision", "recall", "f1", "support"}}, "confusion" (rows true, columns
    predicted, in `labels` order), "unknown_labels", "misclassified": [{"id", "true",
    "predicted", "confidence", "files"}]}. Precision, recall and F1 follow scikit-learn
    (zero_division=0).
    """
    probs = np.asarray(probs, dtype=np.float64)
    n, c = probs.shape
    if len(true_labels) != n:
        raise ValueError(f"{n} rows of probabilities but {len(true_labels)} labels")
    known = list(class_names)
    unknown = sorted({str(t) for t in true_labels} - set(known))
    labels = known + unknown
    index = {name: i for i, name in enumerate(labels)}
    y_true = np.array([index[str(t)] for t in true_labels], dtype=np.int64)
    y_pred = probs.argmax(1) if n else np.zeros(0, dtype=np.int64)

    report: dict[str, Any] = {"n": n}
    if n:
        # Stable descending order, so ties rank like argmax (lowest index first).
        ranked = np.argsort(-probs, axis=1, kind="stable")
        for k in TOP_K:
            hit = (ranked[:, : min(k, c)] == y_true[:, None]).any(1)
            report[f"top{k}"] = float(hit.mean())
    else:
        report.update({f"top{k}": float("nan") for k in TOP_K})

    size = len(labels)
    confusion = np.zeros((size, size), dtype=np.int64)
    np.add.at(confusion, (y_true, y_pred), 1)
    tp = np.diag(confusion).astype(np.float64)
    support = confusion.sum(1)
    predicted = confusion.sum(0)
    precision = np.divide(tp, predicted, out=np.zeros(size), where=predicted > 0)
    recall = np.divide(tp, support, out=np.zeros(size), where=support > 0)
    denom = precision + recall
    f1 = np.divide(2 * precision * recall, denom, out=np.zeros(size), where=denom > 0)
    per_class = {
        name: {
            "precision": float(precision[i]),
            "recall": float(recall[i]),
            "f1": float(f1[i]),
            "support": int(support[i]),
        }
        for i, name in enumerate(labels)
    }
    present = support > 0
    # scikit-learn's macro F1: over the classes in the truth or the predictions (a class only
    # predicted counts, with F1 0); macro recall: over the classes in the truth (balanced
    # accuracy, the real-data benchmark's measure)
    scored = present | (predicted > 0)
    report.update(
        {
            "accuracy": report["top1"],
            "macro_f1": float(f1[scored].mean()) if scored.any() else float("nan"),
            "macro_recall": float(recall[present].mean()) if present.any() else float("nan"),
            "labels": labels,
            "per_class": per_class,
            "confusion": confusion.tolist(),
            "unknown_labels": unknown,
            "n_unknown": int(sum(support[len(known) :])),
        }
    )
    wrong = np.flatnonzero(y_pred != y_true)
    report["misclassified"] = [
        {
            "id": str(ids[i]) if ids is not None else str(i),
            "true": labels[y_true[i]],
            "predicted": labels[y_pred[i]],
            "confidence": float(probs[i, y_pred[i]]),
            "files": [str(f) for f in files[i]] if files is not None else [],
        }
        for i in (int(j) for j in wrong)
    ]
    return json_safe(report)


def evaluate(
    model: LoadedModel,
    images: np.ndarray,
    true_labels: Sequence[str],
    *,
    ids: Sequence[str] | None = None,
    files: Sequence[Sequence[str]] | None = None,
    batch_size: int = 256,
    views: Sequence[Collection[float]] | None = None,
) -> dict[str, Any]:
    """Predict uint8 (N, 3, S, S) images with `model` and score them (evaluate_predictions).
    `views` (ml.model.views_of the samples): scored as the view ensemble predicts."""
    probs = predict_proba(model, images, batch_size=batch_size, views=views)
    return evaluate_predictions(probs, true_labels, model.class_names, ids=ids, files=files)


def right_by_id(report: dict[str, Any], ids: Sequence[str]) -> list[bool]:
    """Per sample id, in `ids` order: did the model of this report (evaluate_predictions,
    called with ids) get it right. The input of a paired comparison (mcnemar_exact)."""
    wrong = {str(m["id"]) for m in report.get("misclassified", [])}
    return [str(i) not in wrong for i in ids]


@dataclass(frozen=True)
class PairedComparison:
    """Two models scored on the same N samples: McNemar's exact test on the samples where
    exactly one of them is right (the concordant ones say nothing about which is better)."""

    n: int  # samples both models were scored on
    a_only: int  # samples model a gets right and model b wrong
    b_only: int  # samples model b gets right and model a wrong
    p_value: float  # two-sided exact binomial test of a_only vs b_only (1.0 with none)
    alpha: float  # the significance level asked for
    min_discordant: int  # fewest disagreements whose most lopsided split reaches alpha

    @property
    def discordant(self) -> int:
        return self.a_only + self.b_only

    @property
    def decidable(self) -> bool:
        """False: even if one model won every disagreement, p would stay above alpha."""
        return self.discordant >= self.min_discordant

    @property
    def significant(self) -> bool:
        return self.decidable and self.p_value <= self.alpha


def mcnemar_exact(
    a_correct: Sequence[bool] | np.ndarray,
    b_correct: Sequence[bool] | np.ndarray,
    *,
    alpha: float = 0.05,
) -> PairedComparison:
    """Compare two models on the same samples: (N,) bool "right" of each, same order.

    The exact (binomial) form of McNemar's test: under "equally good", each of the d
    disagreements goes to either model with probability 1/2. With few disagreements no
    split can be significant (d < 6 at alpha 0.05); `decidable` says so.
    """
    from scipy.stats import binomtest

    a = np.asarray(a_correct, dtype=bool)
    b = np.asarray(b_correct, dtype=bool)
    if a.shape != b.shape or a.ndim != 1:
        raise ValueError(f"paired comparison needs two (N,) arrays, got {a.shape} and {b.shape}")
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must be in (0, 1), got {alpha}")
    a_only, b_only = int((a & ~b).sum()), int((b & ~a).sum())
    d = a_only + b_only
    p_value = float(binomtest(a_only, d, 0.5).pvalue) if d else 1.0
    # The most lopsided split of d pairs has p = 2 * 0.5**d (capped at 1).
    min_discordant = 1
    while min(1.0, 2.0 * 0.5**min_discordant) > alpha:
        min_discordant += 1
    return PairedComparison(
        n=int(a.size),
        a_only=a_only,
        b_only=b_only,
        p_value=min(p_value, 1.0),
        alpha=alpha,
        min_discordant=min_discordant,
    )


def plot_confusion(report: dict[str, Any], path: str | Path) -> None:
    """Save the report's confusion matrix (row-normalised colours, counts written) as PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = report["labels"]
    counts = np.array(report["confusion"], dtype=np.float64).reshape(len(labels), len(labels))
    rows = counts.sum(1, keepdims=True)
    share = np.divide(counts, rows, out=np.zeros_like(counts), where=rows > 0)
    side = max(4.0, 0.45 * len(labels) + 2)
    fig, ax = plt.subplots(figsize=(side, side))
    ax.imshow(share, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(len(labels)), labels, rotation=90, fontsize=7)
    ax.set_yticks(range(len(labels)), labels, fontsize=7)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(f"top-1 {report.get('top1', float('nan')):.3f}, n = {report.get('n', 0)}")
    for (i, j), value in np.ndenumerate(counts):
        if value:
            color = "white" if share[i, j] > 0.5 else "black"
            ax.text(j, i, str(int(value)), ha="center", va="center", fontsize=6, color=color)
    fig.tight_layout()

    def write(fh: Any) -> None:
        fig.savefig(fh, format="png", dpi=110)

    try:
        atomic_write(Path(path), write)
    finally:
        plt.close(fig)


def json_safe(obj: Any) -> Any:
    """NaN/inf -> None so the report is strict JSON."""
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, dict):
        return {k: json_safe(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [json_safe(v) for v in obj]
    return obj
