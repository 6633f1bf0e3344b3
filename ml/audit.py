"""Find suspected label errors: out-of-fold probabilities blended with the crowd's votes,
ranked and flagged by cleanlab (confident learning).

1. Out-of-fold probabilities p (N, K): k-fold, each fold predicted by a model that never
   saw it (by default a logistic regression on frozen features: the linear head of
   ml.train's head-only mode). A sample's own, possibly wrong, label cannot vouch for it.
   The features are first reduced to 64 principal components (fitted on all samples
   without labels, so no label leaks across folds): on 1,100 x 1280-d Lite0 features the
   k-fold took 190 s at full width and ~11 s at 64, with equal or better precision.
2. Crowd votes (GlitchLab's weighted volunteer votes): v_i (K,) is the mean of sample i's
   n_i votes' confusion-matrix columns W (P(true class | answer)). The blend counts the
   model as `model_votes` = m volunteers:

       q_i = (m p_i + n_i v_i) / (m + n_i)      (q_i = p_i without votes)

   so one vote moves q by at most 1 / (m + 1), and many agreeing votes (a gold subject's
   answers) outweigh the model. A fixed weight (q = p/2 + v/2 whatever the count, this
   module's first version) let one wrong vote of weight 0.81 outvote a model whose top
   class had 0.29. A lone vote now overrules the model's choice only where the model's
   margin is below ~0.8 / m (0.02 at the default m = 34).
3. cleanlab ranks: `cleanlab.rank.get_label_quality_scores(labels, q, method=rank_by,
   adjust_pred_probs=adjust)`; suspicion = 1 - quality, most suspect first.
4. cleanlab flags: `cleanlab.filter.find_label_issues(labels, q)` (prune by noise rate,
   Northcutt, Jiang & Chuang, "Confident Learning", JAIR 70, 2021). The flags say how
   deep the queue is worth reading; `order="issues_first"` puts them first.
   The only sample of a class (a field-guide example, a class accepted yesterday) goes
   last: no fold saw another of its class, so its p[given] = 0 says nothing.
5. The suggested class is argmax of q over the classes other than the given one: model
   and votes together, never a vote alone.

The defaults (C = 0.05, self-confidence, not adjusted, by score, m = 34) are the best mean
top-k precision over confusion and uniform label noise on bench/mislabel.py's tune half;
docs/review.md has their numbers on the report half. Issues first gained 0.02 under
confusion noise (within seed noise) and lost 0.13 under uniform noise. Smaller m rank
worse with votes under confusion noise (a wrong vote on a right label reads as a doubt)
but suggest the true class more often: 0.95 at m = 2-3, 0.91 at m = 34.

cleanlab sees only the classes some sample is labelled with (renumbered, q renormalised):
it gives a class nobody carries an unreachable threshold, which flattens the adjusted
scores of every sample. A gold label that skilled volunteers keep "getting wrong" has a
low v[gold], so this audits gold too.

The paper's own method (George et al. 2018: train on many random splits, collect the
examples most often misclassified) is step 1 with a vote over splits; confident learning
adds per-class thresholds so a hard class (None_of_the_Above) does not flood the list.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

RANK_BY = ("self_confidence", "normalized_margin", "confidence_weighted_entropy")
ORDERS = ("score", "issues_first")


@dataclass(frozen=True)
class AuditRow:
    """One sample of an audit, in ranking order (rank 0 is the most suspect)."""

    index: int  # position in the input arrays
    given: int  # the label it carries (class index)
    suggested: int  # argmax of q over the other classes (never == given)
    score: float  # suspicion in [0, 1]: 1 - cleanlab's label quality of `given` under q
    is_issue: bool  # flagged by cleanlab's find_label_issues (prune by noise rate)
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


def vote_distribution(
    votes: np.ndarray, n_votes: np.ndarray, n_samples: int
) -> tuple[np.ndarray, np.ndarray]:
    """votes (N, K) float, each row the mean of that sample's n_i vote columns (NaN or zero
    rows: nobody voted), n_votes (N,) int >= 0 -> (v (N, K) float64, rows renormalised to
    sum to 1 and zero without votes; has_votes (N,) bool)."""
    v = np.asarray(votes, dtype=np.float64)
    n = np.asarray(n_votes, dtype=np.float64)
    if v.ndim != 2 or len(v) != n_samples or n.shape != (n_samples,):
        raise ValueError(f"votes {v.shape} and n_votes {n.shape} do not match {n_samples} rows")
    has = ~np.isnan(v).any(1) & (np.nan_to_num(v).sum(1) > 0) & (n > 0)
    out = np.zeros(v.shape)
    out[has] = v[has] / v[has].sum(1, keepdims=True)
    return out, has


def blend_votes(
    probs: np.ndarray,
    votes: np.ndarray | None,
    n_votes: np.ndarray | None,
    model_votes: float,
) -> tuple[np.ndarray, np.ndarray]:
    """q_i = (m p_i + n_i v_i) / (m + n_i), the model counted as m = `model_votes` votes.

    probs (N, K) float; votes, n_votes as in `vote_distribution`. Returns (q (N, K)
    float64, has_votes (N,) bool); rows without votes keep p.
    """
    p = np.asarray(probs, dtype=np.float64)
    if votes is None:
        return p, np.zeros(len(p), dtype=bool)
    if n_votes is None:
        raise ValueError("votes need n_votes: how many votes each row is the mean of")
    if model_votes <= 0:
        raise ValueError(f"model_votes must be > 0, got {model_votes}")
    v, has = vote_distribution(votes, n_votes, len(p))
    if v.shape != p.shape:
        raise ValueError(f"votes {v.shape} and probabilities {p.shape} do not match")
    n = np.asarray(n_votes, dtype=np.float64)[has]
    weight = (n / (n + model_votes))[:, None]
    q = p.copy()
    q[has] = (1.0 - weight) * p[has] + weight * v[has]
    return q, has


def label_quality(
    blended: np.ndarray, labels: np.ndarray, *, rank_by: str, adjust: bool
) -> tuple[np.ndarray, np.ndarray]:
    """cleanlab on the classes present: (N, K) q, (N,) int labels -> (quality (N,) float in
    [0, 1], low = suspect; is_issue (N,) bool). Fewer than 2 classes: nothing is flagged."""
    from cleanlab.filter import find_label_issues
    from cleanlab.rank import get_label_quality_scores

    present = np.unique(labels)
    # cleanlab wants labels 0..K'-1 and rows summing to 1 over the classes it sees.
    q = blended[:, present] + 1e-12
    q /= q.sum(1, keepdims=True)
    y = np.searchsorted(present, labels)
    if len(present) < 2:
        return q[np.arange(len(y)), y], np.zeros(len(y), dtype=bool)
    with warnings.catch_warnings():
        # "May not flag all label issues in class k, it has too few examples": a rare class
        # is kept at its one example, as wanted; the warning would only fill the worker log.
        warnings.filterwarnings("ignore", message="May not flag all label issues")
        quality = get_label_quality_scores(y, q, method=rank_by, adjust_pred_probs=adjust)
        # n_jobs=1: a Celery prefork worker is a daemon process and may not start a pool.
        issues = find_label_issues(y, q, filter_by="prune_by_noise_rate", n_jobs=1)
    return np.asarray(quality, dtype=np.float64), np.asarray(issues, dtype=bool)


def suggest(blended: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """(N, K) q, (N,) int given labels -> (N,) int: argmax of q over the other classes."""
    others = np.asarray(blended, dtype=np.float64).copy()
    others[np.arange(len(labels)), labels] = -np.inf
    return others.argmax(1)


class MislabelFinder:
    """Rank samples by how likely their label is wrong (scikit-learn style estimator).

    >>> finder = MislabelFinder(n_splits=5).fit(features, labels, n_classes=22)
    >>> finder.rows_[0]            # the most suspect sample
    After fit: proba_ (N, K) out-of-fold probabilities, blended_ (N, K) model + votes,
    quality_ (N,) cleanlab label quality, issues_ (N,) bool, rows_ list[AuditRow] most
    suspect first.
    """

    def __init__(
        self,
        *,
        n_splits: int = 5,  # k of the k-fold
        c: float = 0.05,  # inverse L2 strength of the logistic regression
        n_components: int | None = 64,  # PCA width before the regression (None: off)
        model_votes: float = 34.0,  # the model counts as this many volunteers in the blend
        rank_by: str = "self_confidence",  # cleanlab's label quality method (RANK_BY)
        adjust: bool = False,  # cleanlab's adjust_pred_probs: subtract class thresholds
        order: str = "score",  # or "issues_first": flagged issues before the rest
        random_state: int = 0,  # seeds the fold split and the PCA
    ) -> None:
        self.n_splits = n_splits
        self.c = c
        self.n_components = n_components
        self.model_votes = model_votes
        self.rank_by = rank_by
        self.adjust = adjust
        self.order = order
        self.random_state = random_state

    def fit(
        self,
        features: np.ndarray,
        labels: Sequence[int] | np.ndarray,
        *,
        n_classes: int | None = None,
        votes: np.ndarray | None = None,
        n_votes: np.ndarray | None = None,
    ) -> MislabelFinder:
        """features (N, D) float, labels (N,) int, votes (N, K) float mean vote columns (NaN
        rows: none), n_votes (N,) int: how many votes each row of `votes` averages."""
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
        return self.fit_proba(probs, y, votes=votes, n_votes=n_votes)

    def fit_proba(
        self,
        probs: np.ndarray,
        labels: Sequence[int] | np.ndarray,
        *,
        votes: np.ndarray | None = None,
        n_votes: np.ndarray | None = None,
    ) -> MislabelFinder:
        """Rank from out-of-fold probabilities (N, K) computed elsewhere (e.g. k fine-tunes
        on a GPU); labels (N,) int; votes and n_votes as in `fit`."""
        if self.rank_by not in RANK_BY:
            raise ValueError(f"rank_by must be one of {RANK_BY}, got {self.rank_by!r}")
        if self.order not in ORDERS:
            raise ValueError(f"order must be one of {ORDERS}, got {self.order!r}")
        if self.adjust and self.rank_by == "confidence_weighted_entropy":
            raise ValueError("cleanlab cannot adjust confidence_weighted_entropy")
        p = np.asarray(probs, dtype=np.float64)
        y = np.asarray(labels, dtype=np.int64)
        q, has_votes = blend_votes(p, votes, n_votes, self.model_votes)
        quality, issues = label_quality(q, y, rank_by=self.rank_by, adjust=self.adjust)
        self.proba_ = p
        self.blended_ = q
        self.quality_ = quality
        self.issues_ = issues
        rows = np.arange(len(y))
        first = ~issues if self.order == "issues_first" else np.zeros(len(y), dtype=bool)
        # The only sample of its class had no other to be learnt from out of fold: its
        # p[given] = 0 says nothing about its label, so it goes last, not first.
        alone = np.bincount(y)[y] < 2
        order = np.lexsort((rows, quality, first, alone))  # lowest label quality first
        suggested = suggest(q, y)
        agreement = None
        if votes is not None and n_votes is not None:
            agreement = vote_distribution(votes, n_votes, len(y))[0][rows, y]
        self.rows_ = [
            AuditRow(
                index=int(i),
                given=int(y[i]),
                suggested=int(suggested[i]),
                score=float(np.clip(1.0 - quality[i], 0.0, 1.0)),
                is_issue=bool(issues[i]),
                self_confidence=float(p[i, y[i]]),
                vote_agreement=(
                    float(agreement[i]) if agreement is not None and has_votes[i] else None
                ),
            )
            for i in order
        ]
        return self


def top_k(probs_row: np.ndarray, class_names: Sequence[str], k: int = 3) -> list[tuple[str, float]]:
    """The k most probable classes of one (K,) row, as (name, probability), best first."""
    order = np.argsort(-probs_row, kind="stable")[:k]
    return [(class_names[int(j)], float(probs_row[int(j)])) for j in order]
