"""Similarity search: the k nearest neighbours of a glitch by cosine similarity of embeddings."""

from __future__ import annotations

import numpy as np


def normalise(embeddings: np.ndarray) -> np.ndarray:
    """(N, D) -> (N, D) float32 rows of unit length (zero rows stay zero)."""
    vectors = np.asarray(embeddings, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


def nearest(unit: np.ndarray, index: int, k: int) -> list[tuple[int, float]]:
    """The k rows of `unit` (normalised (N, D)) most similar to row `index`, itself
    excluded: [(row, cosine similarity)], most similar first."""
    n = unit.shape[0]
    k = max(0, min(k, n - 1))
    if k == 0:
        return []
    similarity = unit @ unit[index]
    similarity[index] = -np.inf
    top = np.argpartition(-similarity, k - 1)[:k]
    top = top[np.argsort(-similarity[top], kind="stable")]
    return [(int(i), float(similarity[i])) for i in top]


def order_by_centrality(unit: np.ndarray) -> np.ndarray:
    """Row order nearest the (normalised) mean first: a batch shows typical members first."""
    centre = unit.mean(axis=0)
    return np.argsort(-(unit @ centre), kind="stable")
