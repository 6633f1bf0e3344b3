"""Clustering of CNN embeddings into groups of similar glitches: spectral clustering on a
nearest-neighbour graph, the number of clusters chosen by the modularity of that graph.

Spectral clustering with the default rbf affinity fails on raw CNN features (ARI 0.002
measured here, docs/discovery.md); a k-nearest-neighbour graph adapts to the local scale
and works. The number of clusters: the eigengap of the Laplacian is fragile when a diffuse
group (None_of_the_Above) sits among tight ones (3 instead of 4 on two of three bench
pools); the partition with the highest modularity of the same graph found 4 on all three.
UMAP first is optional (off by default): with min_dist 0 it tears groups into pieces.
Clusters smaller than `min_cluster_size` are noise (label -1): too few glitches for a
batch of volunteers.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.linalg import qr, svd
from scipy.sparse import csgraph
from scipy.sparse import csr_matrix as CsrMatrix
from scipy.sparse.linalg import eigsh
from sklearn.base import BaseEstimator, ClusterMixin
from sklearn.neighbors import kneighbors_graph
from sklearn.preprocessing import StandardScaler
from sklearn.utils.validation import check_random_state, validate_data

NOISE = -1
SELECT_K = ("modularity", "eigengap")  # how the number of clusters is chosen


class GlitchClusterer(ClusterMixin, BaseEstimator):
    """z-score -> (UMAP) -> kNN graph -> spectral embedding -> cluster_qr for every
    k <= max_clusters -> the k whose partition has the highest modularity.

    The spectral steps are SpectralClustering(affinity="nearest_neighbors",
    assign_labels="cluster_qr")'s, computed once for all k.

    Parameters
    ----------
    n_clusters : int or None
        Fixed number of clusters; None chooses it (see select_k) among 1..max_clusters.
    max_clusters : int
        Upper bound of the search.
    min_cluster_size : int
        Clusters with fewer members become noise (-1).
    n_neighbors : int
        Neighbours of the affinity graph (capped at n_samples - 1).
    select_k : "modularity" or "eigengap"
        How n_clusters=None chooses: the partition with the highest modularity of the kNN
        graph, or the largest gap among the smallest Laplacian eigenvalues.
    standardize : bool
        z-score every feature first, so a few loud CNN channels do not dominate the
        distances (better purity in bench/discovery.py, see docs/discovery.md).
    umap_components : int or None
        Dimensions UMAP reduces to before clustering; None or 0 (the default) clusters the
        (z-scored) input as is.
    umap_neighbors, umap_min_dist, umap_metric : UMAP's n_neighbors, min_dist and metric.
    random_state : int, RandomState or None
        Seeds UMAP and the Lanczos start vector (N > 500).

    Attributes
    ----------
    labels_ : (n_samples,) int64, cluster per sample, -1 for noise; clusters are numbered
        by decreasing size.
    n_clusters_ : number of clusters kept (noise excluded).
    eigenvalues_ : the smallest eigenvalues of the normalised Laplacian (ascending).
    modularity_ : (max_clusters,) float, modularity of the partition into k = 1, 2, ...
        clusters (before small clusters become noise).
    embedding_ : (n_samples, d) float32, the space that was clustered.
    """

    def __init__(
        self,
        *,
        n_clusters: int | None = None,
        max_clusters: int = 30,
        min_cluster_size: int = 5,
        n_neighbors: int = 15,
        select_k: str = "modularity",
        standardize: bool = True,
        umap_components: int | None = None,
        umap_neighbors: int = 30,
        umap_min_dist: float = 0.0,
        umap_metric: str = "cosine",
        random_state: Any = None,
    ) -> None:
        self.n_clusters = n_clusters
        self.max_clusters = max_clusters
        self.min_cluster_size = min_cluster_size
        self.n_neighbors = n_neighbors
        self.select_k = select_k
        self.standardize = standardize
        self.umap_components = umap_components
        self.umap_neighbors = umap_neighbors
        self.umap_min_dist = umap_min_dist
        self.umap_metric = umap_metric
        self.random_state = random_state

    def fit(self, X: Any, y: Any = None) -> GlitchClusterer:
        """X: (n_samples, n_features) float embeddings. Returns self."""
        X = validate_data(self, X, dtype=[np.float64, np.float32], ensure_min_samples=2)
        if self.select_k not in SELECT_K:
            raise ValueError(f"select_k must be one of {SELECT_K}, got {self.select_k!r}")
        rng = check_random_state(self.random_state)
        seed = int(rng.randint(np.iinfo(np.int32).max))
        n = X.shape[0]
        space = self._reduce(X, seed)
        k = max(1, min(self.n_neighbors, n - 1))
        graph = _symmetric_knn_graph(space, k)
        max_k = max(1, min(self.max_clusters, n - 1))
        fixed = None if self.n_clusters is None else max(1, min(int(self.n_clusters), n))
        values, maps = _laplacian_eigen(graph, max(max_k, fixed or 0) + 1, seed)
        self.eigenvalues_ = values[: max_k + 1]
        candidates = [_partition(maps, c) for c in range(1, max_k + 1)]
        self.modularity_ = np.array([modularity(graph, labels) for labels in candidates])
        if fixed is not None:
            raw = _partition(maps, fixed)
        elif self.select_k == "eigengap":
            raw = candidates[min(eigengap(self.eigenvalues_), max_k) - 1]
        else:
            raw = candidates[int(np.argmax(self.modularity_))]
        self.labels_ = relabel_by_size(raw, self.min_cluster_size)
        self.n_clusters_ = int(self.labels_.max() + 1) if n else 0
        self.embedding_ = space.astype(np.float32)
        return self

    def _reduce(self, X: np.ndarray, seed: int) -> np.ndarray:
        n = X.shape[0]
        if self.standardize:
            X = StandardScaler().fit_transform(X)
        if not self.umap_components or n <= self.umap_components + 2:
            return np.asarray(X, dtype=np.float64)
        return umap_project(
            X,
            n_components=self.umap_components,
            n_neighbors=self.umap_neighbors,
            min_dist=self.umap_min_dist,
            metric=self.umap_metric,
            random_state=seed,
        ).astype(np.float64)

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.non_deterministic = False
        return tags


def umap_project(
    X: np.ndarray,
    *,
    n_components: int = 2,
    n_neighbors: int = 15,
    min_dist: float = 0.1,
    metric: str = "cosine",
    random_state: int | None = 0,
) -> np.ndarray:
    """UMAP of (N, D) features -> (N, n_components) float32 (the map uses n_components=2).

    umap is imported here only: its import compiles numba code (tens of seconds).
    """
    import umap

    n = X.shape[0]
    reducer = umap.UMAP(
        n_components=n_components,
        n_neighbors=max(2, min(n_neighbors, n - 1)),
        min_dist=min_dist,
        metric=metric,
        random_state=random_state,
        n_jobs=1,  # a random_state makes UMAP single-threaded anyway; say so
        init="spectral" if n > n_components + 1 else "random",
    )
    return np.asarray(reducer.fit_transform(X), dtype=np.float32)


def _symmetric_knn_graph(X: np.ndarray, k: int) -> CsrMatrix:
    """The affinity SpectralClustering(affinity="nearest_neighbors") builds: 0.5 (C + C^T)
    of the kNN connectivity C (self included)."""
    connectivity = kneighbors_graph(X, n_neighbors=k, include_self=True)
    return CsrMatrix(0.5 * (connectivity + connectivity.T))


def _laplacian_eigen(graph: CsrMatrix, k: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The k smallest eigenvalues (ascending, (k,)) of the normalised Laplacian
    L = I - D^-1/2 A D^-1/2 and the spectral embedding (n, k): their eigenvectors scaled by
    D^-1/2, as sklearn's spectral_embedding (and so SpectralClustering) computes it."""
    n = graph.shape[0]
    k = min(k, n)
    laplacian, sqrt_degree = csgraph.laplacian(graph, normed=True, return_diag=True)
    if n <= 500 or k >= n - 1:
        values, vectors = np.linalg.eigh(laplacian.toarray())
        values, vectors = values[:k], vectors[:, :k]
    else:
        # The smallest eigenvalues of L are the largest of I - L, which Lanczos finds
        # quickly; which="SM" on L itself converges slowly.
        v0 = np.random.default_rng(seed).uniform(-1, 1, n)
        top, vectors = eigsh(_identity_minus(laplacian), k=k, which="LA", v0=v0)
        values = 1.0 - top
    order = np.argsort(values)
    maps = vectors[:, order] / np.maximum(np.asarray(sqrt_degree), 1e-12)[:, None]
    return np.clip(values[order], 0.0, 2.0), maps


def _partition(maps: np.ndarray, k: int) -> np.ndarray:
    """k clusters from the first k columns of the spectral embedding by cluster_qr
    (Damle, Minden & Ying 2019; the same steps as sklearn's assign_labels="cluster_qr")."""
    if k <= 1:
        return np.zeros(maps.shape[0], dtype=np.int64)
    vectors = maps[:, :k]
    _, _, pivots = qr(vectors.T, pivoting=True)
    ut, _, v = svd(vectors[pivots[:k], :].T)
    return np.abs(vectors @ (ut @ v.conj())).argmax(axis=1).astype(np.int64)


def modularity(graph: Any, labels: np.ndarray) -> float:
    """Newman's modularity of a partition of a weighted undirected graph (symmetric sparse
    (n, n)): the share of edge weight inside clusters minus what random wiring with the same
    degrees would put there. 0 for one cluster; higher is a better split of the graph."""
    coo = graph.tocoo()
    total = float(coo.data.sum())
    if total <= 0:
        return 0.0
    labels = np.asarray(labels)
    inside = float(coo.data[labels[coo.row] == labels[coo.col]].sum()) / total
    degree = np.asarray(graph.sum(axis=1)).ravel()
    _, codes = np.unique(labels, return_inverse=True)
    per_cluster = np.bincount(codes, weights=degree) / total
    return inside - float((per_cluster**2).sum())


def _identity_minus(laplacian: Any) -> CsrMatrix:
    from scipy.sparse import identity

    return CsrMatrix(identity(laplacian.shape[0], format="csr") - laplacian)


def eigengap(eigenvalues: np.ndarray) -> int:
    """Number of clusters = position of the largest gap between consecutive eigenvalues
    (ascending), at least 1: with k well separated groups the first k are ~0."""
    values = np.sort(np.asarray(eigenvalues, dtype=np.float64))
    if values.size < 2:
        return 1
    gaps = np.diff(values)
    return int(np.argmax(gaps) + 1)


def relabel_by_size(labels: np.ndarray, min_cluster_size: int) -> np.ndarray:
    """Clusters below min_cluster_size -> -1; the rest renumbered 0.. by decreasing size."""
    labels = np.asarray(labels, dtype=np.int64)
    out = np.full(labels.shape, NOISE, dtype=np.int64)
    ids, counts = np.unique(labels[labels >= 0], return_counts=True)
    order = sorted(zip(ids, counts, strict=True), key=lambda ic: (-ic[1], ic[0]))
    new = 0
    for cluster, count in order:
        if count >= min_cluster_size:
            out[labels == cluster] = new
            new += 1
    return out


def purity(labels_true: np.ndarray, labels_pred: np.ndarray) -> float:
    """Fraction of clustered (non-noise) samples that carry their cluster's majority label."""
    true = np.asarray(labels_true)
    pred = np.asarray(labels_pred)
    kept = pred != NOISE
    if not kept.any():
        return 0.0
    total = 0
    for cluster in np.unique(pred[kept]):
        _, counts = np.unique(true[pred == cluster], return_counts=True)
        total += int(counts.max())
    return total / int(kept.sum())


def best_cluster_recall(labels_true: np.ndarray, labels_pred: np.ndarray, name: str) -> float:
    """Share of the class `name` that lies in its single best cluster (noise never counts)."""
    true = np.asarray(labels_true)
    pred = np.asarray(labels_pred)
    members = pred[(true == name) & (pred != NOISE)]
    n_class = int((true == name).sum())
    if n_class == 0 or members.size == 0:
        return 0.0
    _, counts = np.unique(members, return_counts=True)
    return int(counts.max()) / n_class
