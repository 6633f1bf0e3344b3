"""ml.cluster: the glitch clusterer finds separable groups, counts them itself (the most
modular partition of the kNN graph), follows scikit-learn's estimator conventions;
`python -m ml cluster` writes every id's cluster."""

from __future__ import annotations

import json
import re
import warnings

import numpy as np
import pytest
from scipy.sparse import csr_matrix
from sklearn.datasets import make_blobs
from sklearn.metrics import adjusted_rand_score
from sklearn.utils.estimator_checks import parametrize_with_checks

from ml.cli import main
from ml.cluster import (
    GlitchClusterer,
    best_cluster_recall,
    eigengap,
    modularity,
    purity,
    relabel_by_size,
)


def blobs(n_per: int = 30, centers: int = 4, seed: int = 0):
    X, y = make_blobs(
        n_samples=n_per * centers,
        centers=centers,
        n_features=16,
        cluster_std=1.0,
        random_state=seed,
    )
    return X.astype(np.float32), y


def test_finds_the_number_of_separable_groups_and_their_members():
    X, y = blobs()
    clusterer = GlitchClusterer(umap_components=None, random_state=0).fit(X)
    assert clusterer.n_clusters_ == 4
    assert adjusted_rand_score(y, clusterer.labels_) == pytest.approx(1.0)
    assert purity(y, clusterer.labels_) == 1.0


def test_the_default_counts_groups_by_modularity_without_umap():
    X, y = blobs(n_per=25, centers=5, seed=2)
    clusterer = GlitchClusterer(random_state=0).fit(X)
    assert clusterer.n_clusters_ == 5
    assert int(np.argmax(clusterer.modularity_)) + 1 == 5  # modularity_[k - 1] is k clusters'
    assert clusterer.modularity_[0] == pytest.approx(0.0)  # one cluster explains nothing
    assert adjusted_rand_score(y, clusterer.labels_) == pytest.approx(1.0)
    assert clusterer.embedding_.shape == X.shape  # no UMAP unless asked for


def test_eigengap_is_still_available():
    X, y = blobs(n_per=25, centers=3, seed=4)
    clusterer = GlitchClusterer(select_k="eigengap", random_state=0).fit(X)
    assert clusterer.n_clusters_ == 3
    assert adjusted_rand_score(y, clusterer.labels_) == pytest.approx(1.0)


def test_an_unknown_way_to_choose_k_is_refused():
    X, _ = blobs(n_per=10, centers=2)
    with pytest.raises(ValueError, match="select_k"):
        GlitchClusterer(select_k="silhouette").fit(X)


def test_modularity_rewards_cutting_between_cliques_not_through_them():
    clique = np.ones((4, 4)) - np.eye(4)
    graph = csr_matrix(np.block([[clique, np.zeros((4, 4))], [np.zeros((4, 4)), clique]]))
    assert modularity(graph, np.array([0, 0, 0, 0, 1, 1, 1, 1])) == pytest.approx(0.5)
    assert modularity(graph, np.zeros(8)) == pytest.approx(0.0)
    assert modularity(graph, np.array([0, 0, 1, 1, 0, 0, 1, 1])) < 0.0


def test_umap_first_still_separates_the_groups():
    X, y = blobs(n_per=25, centers=3, seed=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clusterer = GlitchClusterer(umap_components=5, random_state=0).fit(X)
    assert clusterer.n_clusters_ == 3
    assert adjusted_rand_score(y, clusterer.labels_) > 0.95
    assert clusterer.embedding_.shape == (75, 5)


def test_tiny_clusters_become_noise():
    X, _ = blobs(n_per=30, centers=3)
    rng = np.random.default_rng(0)
    far = 60.0 + rng.normal(size=(4, X.shape[1])).astype(np.float32)  # four outliers
    clusterer = GlitchClusterer(
        umap_components=None, n_neighbors=5, min_cluster_size=6, random_state=0
    ).fit(np.vstack([X, far]))
    assert list(clusterer.labels_[-4:]) == [-1, -1, -1, -1]  # with the one blob point they took
    assert clusterer.n_clusters_ == 3


def test_same_seed_same_clusters():
    X, _ = blobs()
    a = GlitchClusterer(umap_components=None, random_state=3).fit(X).labels_
    b = GlitchClusterer(umap_components=None, random_state=3).fit(X).labels_
    assert (a == b).all()


def test_eigengap_counts_near_zero_eigenvalues():
    assert eigengap(np.array([0.0, 0.0, 0.01, 0.6, 0.7])) == 3
    assert eigengap(np.array([0.0])) == 1


def test_relabel_orders_by_size_and_drops_small():
    labels = relabel_by_size(np.array([5, 5, 5, 2, 2, 2, 2, 9]), min_cluster_size=2)
    assert list(labels) == [1, 1, 1, 0, 0, 0, 0, -1]


def test_best_cluster_recall_ignores_noise():
    true = np.array(["A"] * 4 + ["B"] * 2)
    pred = np.array([0, 0, 0, -1, 1, 1])
    assert best_cluster_recall(true, pred, "A") == 0.75
    assert best_cluster_recall(true, pred, "C") == 0.0


# Every check applies: with min_cluster_size=1 nothing is noise, so even the one-sample
# and two-sample checks hold. UMAP is off here only to keep the ~50 fits quick.
@parametrize_with_checks(
    [GlitchClusterer(umap_components=None, min_cluster_size=1, max_clusters=5, random_state=0)],
)
def test_scikit_learn_conventions(estimator, check):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check(estimator)


def test_cli_writes_the_cluster_of_every_id(tmp_path, capsys):
    X, y = blobs(n_per=20, centers=3)
    ids = np.array([f"g{i}" for i in range(len(X))])
    np.savez(tmp_path / "emb.npz", ids=ids, labels=y.astype(str), embeddings=X)
    out = tmp_path / "clusters.json"
    code = main(
        [
            "cluster",
            "--embeddings",
            str(tmp_path / "emb.npz"),
            "--out",
            str(out),
            "--min-cluster-size",
            "4",
            "--select-k",
            "eigengap",
        ]
    )
    assert code == 0
    result = json.loads(out.read_text())
    assert set(result["clusters"]) == set(ids)
    assert result["n_clusters"] == 3
    assert "3 clusters" in capsys.readouterr().err


def test_cli_says_what_is_wrong_with_a_bad_file(tmp_path, capsys):
    (tmp_path / "bad.npz").write_bytes(b"not a zip")
    code = main(["cluster", "--embeddings", str(tmp_path / "bad.npz"), "--out", "x.json"])
    assert code == 2
    assert "not an embeddings file" in capsys.readouterr().err


@pytest.mark.parametrize("name", ["emb.json", "emb.npy", "no-ids.npz"])
def test_cli_says_which_file_it_takes_when_given_another(name, tmp_path, capsys):
    """A JSON file was said to hold "pickled (object) data", a .npy was a traceback."""
    given = tmp_path / name
    if name.endswith(".json"):
        given.write_text(json.dumps({"ids": ["g0", "g1"], "embeddings": [[0.0], [1.0]]}))
    elif name.endswith(".npy"):
        np.save(given, np.zeros((2, 3), dtype=np.float32))
    else:
        np.savez(given, embeddings=np.zeros((2, 3), dtype=np.float32))

    code = main(["cluster", "--embeddings", str(given), "--out", str(tmp_path / "out.json")])

    err = capsys.readouterr().err
    assert code == 2 and err.startswith(f"error: {given}: not an embeddings file")
    assert err.rstrip().endswith(
        "--embeddings takes the .npz that python -m ml embed writes (ids, embeddings)"
    )
    assert "pickle" not in err and err.count("\n") == 1


def test_cli_help_gives_the_clusterers_own_defaults(capsys):
    """--help said the eigengap chose the number of clusters by default, after the default
    became modularity."""
    with pytest.raises(SystemExit):
        main(["cluster", "--help"])
    shown = " ".join(capsys.readouterr().out.split())  # argparse's wrapping undone
    defaults = GlitchClusterer().get_params()
    assert f"(default {defaults['select_k']})" in shown and "default: eigengap" not in shown
    assert "--n-clusters N a fixed number of clusters (default: the number --select-k" in shown
    for flag, name in [("--max-clusters N", "max_clusters"), ("--n-neighbors N", "n_neighbors"),
                       ("--min-cluster-size K", "min_cluster_size")]:  # fmt: skip
        assert re.search(rf"{flag} [^(]*\(default {defaults[name]}\)", shown), flag


def test_cli_refuses_embeddings_that_hold_nan_in_one_line(tmp_path, capsys):
    """A diverged model's NaN embeddings were a 30-line scikit-learn traceback."""
    X, _ = blobs(n_per=5, centers=2)
    X[3, 0] = np.nan
    ids = np.array([f"g{i}" for i in range(len(X))])
    np.savez(tmp_path / "emb.npz", ids=ids, embeddings=X)

    code = main(["cluster", "--embeddings", str(tmp_path / "emb.npz"), "--out", "x.json"])

    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "Traceback" not in err
    assert "the embeddings of 1 of the 10 glitches hold NaN or infinity (g3)" in err
