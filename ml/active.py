"""Active learning: which unlabelled glitches volunteers should see first, and at which level.

Pure numpy. The Celery re-ranking task (tasks/predictions.py) and bench/active_learning.py
call the same functions, so what the benchmark measures is what the queue does.

* `uncertainty(probs)`: how unsure the model is about each glitch (margin or entropy).
* `rank_for_labelling(probs, embeddings, ...)`: an order over the glitches. A base score
  blends uncertainty and confidence (`uncertainty_weight` 1 = most uncertain first, for
  experienced volunteers and for learning; 0 = most confident first, for beginners), then
  the first `n_diverse` picks are chosen greedily so that each is also far, on the
  embedding, from those already picked (no twenty near-identical blips in a row).
* `route_levels(probs, class_names, levels, ...)`: Gravity Spy's routing: a glitch
  confidently predicted as a class goes to the level that introduced that class; an
  uncertain one goes one level above the classes it hesitates between.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
from numpy.typing import NDArray

Measure = Literal["margin", "entropy", "least_confident"]

_EPS = 1e-12


def uncertainty(probs: NDArray[np.floating], measure: Measure = "margin") -> NDArray[np.float64]:
    """(N, C) class probabilities -> (N,) uncertainty in [0, 1] (1: no idea).

    margin: 1 - (p1 - p2); entropy: H(p) / log C; least_confident: 1 - p1.
    """
    p = np.asarray(probs, dtype=np.float64)
    if p.ndim != 2 or p.shape[1] < 1:
        raise ValueError(f"probs must be (N, C), got {p.shape}")
    if p.shape[0] == 0:
        return np.zeros(0)
    if measure == "margin":
        if p.shape[1] == 1:
            return 1.0 - p[:, 0]
        top2 = -np.partition(-p, 1, axis=1)[:, :2]
        return np.clip(1.0 - (top2[:, 0] - top2[:, 1]), 0.0, 1.0)
    if measure == "entropy":
        if p.shape[1] == 1:
            return np.zeros(p.shape[0])
        h = -(p * np.log(np.clip(p, _EPS, 1.0))).sum(axis=1)
        return np.clip(h / np.log(p.shape[1]), 0.0, 1.0)
    if measure == "least_confident":
        return np.clip(1.0 - p.max(axis=1), 0.0, 1.0)
    raise ValueError(f"unknown uncertainty measure {measure!r}")


PROJECTED_DIMS = 64


def project_embeddings(
    embeddings: NDArray[np.floating], dims: int = PROJECTED_DIMS, seed: int = 0
) -> NDArray[np.float32]:
    """(N, D) features -> (N, dims) float32 by a fixed, seeded Gaussian random projection.

    Cosine distances are roughly preserved (Johnson-Lindenstrauss), and the projection
    depends only on (D, dims, seed), so batches scored at different times stay comparable.
    Rows are L2-normalised. D <= dims: the rows are only normalised.
    """
    x = np.asarray(embeddings, dtype=np.float32)
    if x.ndim != 2:
        raise ValueError(f"embeddings must be (N, D), got {x.shape}")
    if x.shape[1] > dims:
        rng = np.random.default_rng(seed)
        matrix = rng.standard_normal((x.shape[1], dims)).astype(np.float32) / np.sqrt(dims)
        x = x @ matrix
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return (x / np.maximum(norms, _EPS)).astype(np.float32)


def _reduce(embeddings: NDArray[np.floating], dims: int) -> NDArray[np.float64]:
    """L2-normalised rows, projected on their top `dims` principal axes (fast distances)."""
    x = np.asarray(embeddings, dtype=np.float64)
    x = x - x.mean(axis=0, keepdims=True)
    if x.shape[1] > dims and x.shape[0] > dims:
        _, _, vt = np.linalg.svd(x, full_matrices=False)
        x = x @ vt[:dims].T
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.maximum(norms, _EPS)


def rank_for_labelling(
    probs: NDArray[np.floating],
    embeddings: NDArray[np.floating] | None = None,
    *,
    uncertainty_weight: float = 1.0,
    diversity: float = 0.3,
    measure: Measure = "margin",
    n_diverse: int = 500,
    candidates: int = 4000,
    dims: int = 64,
    random_state: int | None = 0,
) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
    """Order N glitches for labelling.

    probs: (N, C) float class probabilities; embeddings: (N, D) float features of the same
    glitches (None: no diversity term). Returns (order, base_score): order is an (N,) int64
    permutation, best first; base_score (N,) float64 in [0, 1] is the blend of uncertainty
    and confidence before diversity.

    The first min(n_diverse, N) positions are filled greedily from the `candidates` best
    base scores: each pick maximises (1 - diversity) * base + diversity * d, where d is the
    cosine distance (on `dims` principal axes) to the nearest glitch already picked,
    divided by its largest value. The rest follow by base score. Ties are broken by a
    seeded random jitter, so equal scores do not keep the import order.
    """
    p = np.asarray(probs, dtype=np.float64)
    n = p.shape[0]
    if not 0.0 <= uncertainty_weight <= 1.0 or not 0.0 <= diversity <= 1.0:
        raise ValueError("uncertainty_weight and diversity must lie in [0, 1]")
    if embeddings is not None and len(embeddings) != n:
        raise ValueError(f"{len(embeddings)} embeddings for {n} probability rows")
    if n == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0)
    u = uncertainty(p, measure)
    base = uncertainty_weight * u + (1.0 - uncertainty_weight) * (1.0 - u)
    jitter = np.random.default_rng(random_state).uniform(0.0, 1e-9, size=n)
    by_base = np.argsort(-(base + jitter), kind="stable")
    if embeddings is None or diversity == 0.0 or n < 3:
        return by_base.astype(np.int64), base

    pool = by_base[: min(candidates, n)]
    x = _reduce(np.asarray(embeddings)[pool], dims)
    pool_base = base[pool]
    n_pick = min(n_diverse, len(pool))
    picked: list[int] = []
    taken = np.zeros(len(pool), dtype=bool)
    nearest = np.full(len(pool), np.inf)  # cosine distance to the nearest picked glitch
    for step in range(n_pick):
        if step == 0:
            i = 0  # the best base score opens the list
        else:
            d = np.where(np.isfinite(nearest), nearest, 0.0)
            scale = d[~taken].max() if (~taken).any() else 1.0
            score = (1.0 - diversity) * pool_base + diversity * d / max(scale, _EPS)
            score[taken] = -np.inf
            i = int(np.argmax(score))
        picked.append(i)
        taken[i] = True
        nearest = np.minimum(nearest, 1.0 - x @ x[i])
    head = pool[picked]
    rest = by_base[~np.isin(by_base, head)]
    return np.concatenate([head, rest]).astype(np.int64), base


def route_levels(
    probs: NDArray[np.floating],
    class_names: Sequence[str],
    levels: Sequence[Sequence[str]],
    *,
    confidence: float = 0.9,
) -> NDArray[np.int64]:
    """(N, C) probabilities -> (N,) 1-based level each glitch is routed to.

    levels[k] lists the classes level k + 1 adds. A glitch whose top class has p >= confidence
    goes to the level that introduced that class; otherwise to one level above the later of
    the levels of its two most likely classes (capped at the top level), so whoever sees it
    has both candidate answers unlocked and some experience. A class no level lists
    (None_of_the_Above, a new class) counts as the top level.
    """
    p = np.asarray(probs, dtype=np.float64)
    top_level = max(len(levels), 1)
    level_of = {name: k + 1 for k, names in enumerate(levels) for name in names}
    class_level = np.array([level_of.get(name, top_level) for name in class_names], dtype=np.int64)
    if p.shape[0] == 0:
        return np.zeros(0, dtype=np.int64)
    order = np.argsort(-p, axis=1)
    first = order[:, 0]
    confident = p[np.arange(len(p)), first] >= confidence
    if p.shape[1] > 1:
        second = order[:, 1]
        unsure_level = np.maximum(class_level[first], class_level[second]) + 1
    else:
        unsure_level = class_level[first] + 1
    routed = np.where(confident, class_level[first], np.minimum(unsure_level, top_level))
    return routed.astype(np.int64)


def experience_of_level(level: int, top_level: int) -> float:
    """0 for the first level, 1 for the top one: the uncertainty_weight of that level's queue."""
    if top_level <= 1:
        return 1.0
    return float(np.clip((level - 1) / (top_level - 1), 0.0, 1.0))
