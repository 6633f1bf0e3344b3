"""Find suspected label errors: out-of-fold probabilities + confident learning + crowd votes.

The method is confident learning (Northcutt, Jiang & Chuang, "Confident Learning:
Estimating Uncertainty in Dataset Labels", JAIR 70, 2021; what cleanlab's
`find_label_issues` implements), done here in numpy instead of adding cleanlab:

1. Out-of-fold probabilities p (N, K): k-fold, each fold predicted by a model that never
   saw it (by default a logistic regression on frozen features: the linear head of
   ml.train's head-only mode). A sample's own, possibly wrong, label cannot vouch for it.
   The features are first reduced to 64 principal components (fitted on all samples
   without labels, so no label leaks across folds): on 1,100 x 1280-d Lite0 features the
   k-fold took 190 s at full width and ~11 s at 64, with equal or better precision.
2. Per-class thresholds t_j = mean p[i, j] over the samples labelled j (the class's
   average self-confidence).
3. The confident joint C[i][j]: samples labelled i whose p[:, j] >= t_j (argmax over the
   classes passing their threshold), calibrated so row i sums to the count of label i.
4. Prune by noise rate: for every off-diagonal cell (i, j), the round(C[i][j]) samples
   labelled i with the largest margin p[:, j] - p[:, i] are label issues.
5. Rank every sample by its label quality, self-confidence p[i, given], lowest first
   (cleanlab's `get_label_quality_scores` default; "normalized_margin" is the alternative).
   The issues of step 4 are flagged (`is_issue`) and say how deep the queue is worth
   reading. We do not put the flagged issues first, as `find_label_issues` orders its
   output: on bench/mislabel.py (22 synthetic classes, 5% flips) issues-first ranking gave
   top-k precision 0.71-0.84, the plain self-confidence order 0.89-0.93 on the same
   probabilities (`order="issues_first"` keeps the option).

Crowd votes (GlitchLab's weighted volunteer votes) enter as a second distribution over
classes, v_i = mean of the votes' confusion-matrix columns W_i (P(true class | answer)).
Steps 2-5 run on the blend q = (1 - w) p + w v wherever a sample has votes, so a label the
model and the volunteers both doubt ranks above one only the model doubts. Without votes
q = p and this is plain confident learning. This also audits gold: a gold label that
skilled volunteers keep "getting wrong" has a low v[gold].

The paper's own method (George et al. 2018: train on many random splits, collect the
examples most often misclassified) is step 1 with a vote over splits; confident learning
adds per-class thresholds so a hard class (None_of_the_Above) does not flood the list.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

RANK_BY = ("self_confidence", "normalized_margin")
ORDERS = ("score", "issues_first")


@dataclass(frozen=True)
class AuditRow:
    """One sample of an audit, in ranking order (rank 0 is the most suspect)."""

    index: int  # position in the input arrays
    given: int  # the label it carries (class index)
    suggested: int  # the most likely other class (never == given)
    score: float  # suspicion in [0, 1]: 1 - q[given] (q: model and votes blended)
    is_issue: bool  # flagged by confident learning (prune by noise rate)
    self_confidence: float  # out-of-fold model p[given]
    vote_agreement: float | None  # volunteers' v[given], None without votes


def out_of_fold_proba(
    features: np.ndarray,
    labels: np.ndarray,
    n_classes: int,
    *,
    n_splits: int = 5,
    c: float = 0.05,
    n_components: int | None = 64,
    random_state: int = 0,
) -> np.ndarray:
    """Out-of-fold class probabilities from a standardised logistic regression.

    features (N, D) float, labels (N,) int in [0, n_classes) -> (N, n_classes) float64, rows
    sum to 1. Stratified k-fold (k = min(n_splits, N)); a class absent from a fold's
    training part gets probability 0 in that fold. `n_components` (None: off) reduces the
    features by PCA first when they are wider.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import KFold, StratifiedKFold

    x = np.asarray(features, dtype=np.float64)
    y = np.asarray(labels, dtype=np.int64)
    if x.ndim != 2 or len(x) != len(y):
        raise ValueError(f"features {x.shape} and labels {y.shape} do not match")
    if len(y) < 2:
        raise ValueError("need at least 2 samples for out-of-fold probabilities")
    if n_components is not None and x.shape[1] > n_components and len(x) > n_components:
        from sklearn.decomposition import PCA

        x = PCA(n_components, random_state=random_state).fit_transform(x)
    k = max(2, min(n_splits, len(y)))
    counts = np.bincount(y, minlength=n_classes)
    if counts[counts > 0].min() >= k:
        splits = StratifiedKFold(k, shuffle=True, random_state=random_state).split(x, y)
    else:  # a rare class cannot be in every fold; stratification would warn or fail
        splits = KFold(k, shuffle=True, random_state=random_state).split(x)
    probs = np.zeros((len(y), n_classes))
    for train, held_out in splits:
        mean = x[train].mean(0)
        std = x[train].std(0) + 1e-6
        classes = np.unique(y[train])
        if len(classes) == 1:
            probs[held_out, classes[0]] = 1.0
            continue
        clf = LogisticRegression(C=c, max_iter=1000, random_state=random_state)
        clf.fit((x[train] - mean) / std, y[train])
        probs[np.ix_(held_out, clf.classes_)] = clf.predict_proba((x[held_out] - mean) / std)
    return probs


def per_class_thresholds(probs: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """t_j = mean probs[i, j] over samples labelled j: (N, K), (N,) -> (K,); classes
    without samples get threshold 1 + eps (nothing can be confidently counted in them)."""
    n_classes = probs.shape[1]
    thresholds = np.full(n_classes, 1.0 + 1e-6)
    for j in range(n_classes):
        members = labels == j
        if members.any():
            thresholds[j] = probs[members, j].mean()
    return thresholds


def confident_joint(probs: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Calibrated confident joint C (K, K) float: C[i][j] estimates how many samples
    labelled i truly belong to j; row i sums to the number labelled i."""
    n, n_classes = probs.shape
    thresholds = per_class_thresholds(probs, labels)
    above = probs >= thresholds[None, :] - 1e-12  # float noise: a sample at its mean counts
    masked = np.where(above, probs, -np.inf)
    confident = above.any(1)
    true_guess = masked.argmax(1)
    joint = np.zeros((n_classes, n_classes))
    np.add.at(joint, (labels[confident], true_guess[confident]), 1.0)
    counts = np.bincount(labels, minlength=n_classes).astype(float)
    row_sums = joint.sum(1)
    scale = np.divide(counts, row_sums, out=np.zeros(n_classes), where=row_sums > 0)
    return joint * scale[:, None]


def find_label_issues(probs: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Confident learning, prune by noise rate: (N, K) probs, (N,) int labels -> (N,) bool."""
    joint = confident_joint(probs, labels)
    issues = np.zeros(len(labels), dtype=bool)
    n_classes = probs.shape[1]
    for i in range(n_classes):
        members = np.flatnonzero(labels == i)
        if len(members) == 0:
            continue
        for j in range(n_classes):
            n_off = int(round(joint[i, j]))
            if j == i or n_off == 0:
                continue
            margin = probs[members, j] - probs[members, i]
            # Keep one sample for the class: cleanlab never prunes a class to nothing.
            take = min(n_off, len(members) - 1)
            if take > 0:
                issues[members[np.argsort(-margin, kind="stable")[:take]]] = True
    return issues


def normalized_margin(probs: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """p[given] - max other p, mapped to [0, 1]: (N, K), (N,) -> (N,)."""
    given = probs[np.arange(len(labels)), labels]
    others = probs.copy()
    others[np.arange(len(labels)), labels] = -np.inf
    return (given - others.max(1) + 1.0) / 2.0


def blend_votes(
    probs: np.ndarray, votes: np.ndarray | None, vote_weight: float
) -> tuple[np.ndarray, np.ndarray]:
    """q = (1 - w) p + w v on the rows with votes (a row of NaN in `votes` means none).

    Returns (q (N, K), has_votes (N,) bool). Vote rows are renormalised to sum to 1.
    """
    if votes is None or vote_weight <= 0:
        return probs, np.zeros(len(probs), dtype=bool)
    v = np.asarray(votes, dtype=np.float64)
    if v.shape != probs.shape:
        raise ValueError(f"votes {v.shape} and probabilities {probs.shape} do not match")
    has = ~np.isnan(v).any(1) & (np.nan_to_num(v).sum(1) > 0)
    q = probs.copy()
    v_norm = v[has] / v[has].sum(1, keepdims=True)
    q[has] = (1.0 - vote_weight) * probs[has] + vote_weight * v_norm
    return q, has


class MislabelFinder:
    """Rank samples by how likely their label is wrong (scikit-learn style estimator).

    >>> finder = MislabelFinder(n_splits=5).fit(features, labels, n_classes=22)
    >>> finder.rows_[0]            # the most suspect sample
    After fit: proba_ (N, K) out-of-fold probabilities, blended_ (N, K) model + votes,
    issues_ (N,) bool, rows_ list[AuditRow] most suspect first.
    """

    def __init__(
        self,
        *,
        n_splits: int = 5,  # k of the k-fold
        c: float = 0.05,  # inverse L2 strength of the logistic regression
        n_components: int | None = 64,  # PCA width before the regression (None: off)
        vote_weight: float = 0.5,  # w of q = (1 - w) p + w v where a sample has votes
        rank_by: str = "self_confidence",  # or "normalized_margin"
        order: str = "score",  # or "issues_first": flagged issues before the rest
        random_state: int = 0,  # seeds the fold split and the PCA
    ) -> None:
        self.n_splits = n_splits
        self.c = c
        self.n_components = n_components
        self.order = order
        self.vote_weight = vote_weight
        self.rank_by = rank_by
        self.random_state = random_state

    def fit(
        self,
        features: np.ndarray,
        labels: Sequence[int] | np.ndarray,
        *,
        n_classes: int | None = None,
        votes: np.ndarray | None = None,
    ) -> MislabelFinder:
        """features (N, D) float, labels (N,) int, votes (N, K) float or NaN rows."""
        y = np.asarray(labels, dtype=np.int64)
        k = int(n_classes if n_classes is not None else y.max() + 1)
        probs = out_of_fold_proba(
            features,
            y,
            k,
            n_splits=self.n_splits,
            c=self.c,
            n_components=self.n_components,
            random_state=self.random_state,
        )
        return self.fit_proba(probs, y, votes=votes)

    def fit_proba(
        self,
        probs: np.ndarray,
        labels: Sequence[int] | np.ndarray,
        *,
        votes: np.ndarray | None = None,
    ) -> MislabelFinder:
        """Rank from out-of-fold probabilities computed elsewhere (e.g. k fine-tunes on a GPU)."""
        if self.rank_by not in RANK_BY:
            raise ValueError(f"rank_by must be one of {RANK_BY}, got {self.rank_by!r}")
        p = np.asarray(probs, dtype=np.float64)
        y = np.asarray(labels, dtype=np.int64)
        q, has_votes = blend_votes(p, votes, self.vote_weight)
        self.proba_ = p
        self.blended_ = q
        self.issues_ = find_label_issues(q, y)
        rows = np.arange(len(y))
        confidence = q[rows, y]
        key = confidence if self.rank_by == "self_confidence" else normalized_margin(q, y)
        if self.order not in ORDERS:
            raise ValueError(f"order must be one of {ORDERS}, got {self.order!r}")
        first = ~self.issues_ if self.order == "issues_first" else np.zeros(len(y), dtype=bool)
        order = np.lexsort((rows, key, first))  # least confident first
        others = q.copy()
        others[rows, y] = -np.inf
        suggested = others.argmax(1)
        v = blend_votes(np.zeros_like(p), votes, 1.0)[0] if votes is not None else None
        self.rows_ = [
            AuditRow(
                index=int(i),
                given=int(y[i]),
                suggested=int(suggested[i]),
                score=float(1.0 - confidence[i]),
                is_issue=bool(self.issues_[i]),
                self_confidence=float(p[i, y[i]]),
                vote_agreement=float(v[i, y[i]]) if v is not None and has_votes[i] else None,
            )
            for i in order
        ]
        return self


def top_k(probs_row: np.ndarray, class_names: Sequence[str], k: int = 3) -> list[tuple[str, float]]:
    """The k most probable classes of one (K,) row, as (name, probability), best first."""
    order = np.argsort(-probs_row, kind="stable")[:k]
    return [(class_names[int(j)], float(probs_row[int(j)])) for j in order]
