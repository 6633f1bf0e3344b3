"""`python -m ml cluster`: cluster the embeddings `python -m ml embed` wrote; JSON out."""

from __future__ import annotations

import argparse
import json
import sys
import zipfile
from pathlib import Path

from ml.errors import UserError
from ml.files import atomic_write


def configure(parser: argparse.ArgumentParser) -> None:
    from ml.cluster import SELECT_K, GlitchClusterer

    # The defaults are the clusterer's own, so that help cannot name another (it said the
    # eigengap chose k after the default became modularity).
    defaults = GlitchClusterer().get_params()
    parser.add_argument("--embeddings", required=True, type=Path, metavar="FILE.npz")
    parser.add_argument("--out", required=True, type=Path, metavar="FILE.json")
    parser.add_argument(
        "--min-cluster-size", type=int, default=defaults["min_cluster_size"], metavar="K",
        help="smaller clusters are noise, -1 (default %(default)s)",
    )  # fmt: skip
    parser.add_argument(
        "--n-clusters", type=int, default=defaults["n_clusters"], metavar="N",
        help="a fixed number of clusters (default: the number --select-k chooses)",
    )  # fmt: skip
    parser.add_argument("--max-clusters", type=int, default=defaults["max_clusters"], metavar="N",
                        help="the most --select-k may choose (default %(default)s)")  # fmt: skip
    parser.add_argument("--n-neighbors", type=int, default=defaults["n_neighbors"], metavar="N",
                        help="of the kNN graph (default %(default)s)")  # fmt: skip
    parser.add_argument(
        "--select-k",
        choices=SELECT_K,
        default=defaults["select_k"],
        help="how the number of clusters is chosen: by the modularity of its partition of "
        "the kNN graph, or by the eigengap of the graph's Laplacian (default %(default)s)",
    )
    parser.add_argument(
        "--umap-components", type=int, default=0, help="UMAP first to this many dims (0: none)"
    )
    parser.add_argument(
        "--no-standardize", action="store_true", help="do not z-score the features first"
    )
    parser.add_argument("--seed", type=int, default=0)


def run(args: argparse.Namespace) -> int:
    import numpy as np

    from ml.cluster import GlitchClusterer

    if not args.embeddings.is_file():
        raise UserError(f"{args.embeddings}: no such file")
    if args.min_cluster_size < 1:
        raise UserError("--min-cluster-size must be at least 1")
    expected = "--embeddings takes the .npz that python -m ml embed writes (ids, embeddings)"
    if not zipfile.is_zipfile(args.embeddings):
        # numpy reads any file that is no .npy or .npz as a pickle, and said "This file
        # contains pickled (object) data" of a JSON file
        raise UserError(f"{args.embeddings}: not an embeddings file: {expected}")
    try:
        data = np.load(args.embeddings, allow_pickle=False)
        ids = [str(i) for i in data["ids"]]
        vectors = np.asarray(data["embeddings"], dtype=np.float32)
        labels = [str(x) for x in data["labels"]] if "labels" in data else [""] * len(ids)
        # ml embed's other ids of a glitch saved under several, each with its row's id
        same = (
            dict(zip(map(str, data["merged_ids"]), map(str, data["merged_into"]), strict=True))
            if "merged_ids" in data
            else {}
        )
    except (KeyError, ValueError, OSError) as exc:
        raise UserError(f"{args.embeddings}: not an embeddings file ({exc}): {expected}") from exc
    if vectors.ndim != 2 or len(ids) != vectors.shape[0] or len(ids) < 2:
        raise UserError(f"{args.embeddings}: need ids and (N >= 2, D) embeddings")
    bad = [ids[i] for i in np.flatnonzero(~np.isfinite(vectors).all(axis=1))]
    if bad:  # was scikit-learn's 30-line traceback
        shown = ", ".join(bad[:5]) + (", ..." if len(bad) > 5 else "")
        raise UserError(
            f"{args.embeddings}: the embeddings of {len(bad)} of the {len(ids)} glitches hold "
            f"NaN or infinity ({shown}): a model whose training diverged? Check its "
            "metrics.json, and embed again with another model"
        )
    clusterer = GlitchClusterer(
        n_clusters=args.n_clusters,
        max_clusters=args.max_clusters,
        min_cluster_size=args.min_cluster_size,
        n_neighbors=args.n_neighbors,
        select_k=args.select_k,
        standardize=not args.no_standardize,
        umap_components=args.umap_components or None,
        random_state=args.seed,
    ).fit(vectors)
    clusters = [int(c) for c in clusterer.labels_]
    sizes = {str(c): clusters.count(c) for c in sorted(set(clusters))}
    result = {
        "n_clusters": clusterer.n_clusters_,
        "sizes": sizes,  # cluster -> members; "-1" is noise
        "clusters": dict(zip(ids, clusters, strict=True)),
        "labels": dict(zip(ids, labels, strict=True)),
        "same_glitch_as": same,  # an id merged into another's row: that id (ml embed)
        "params": clusterer.get_params(),
    }
    text = json.dumps(result, indent=1)
    atomic_write(args.out, lambda fh: fh.write(text), text=True)
    print(
        f"{len(ids)} glitches -> {clusterer.n_clusters_} clusters, "
        f"{sizes.get('-1', 0)} noise -> {args.out}",
        file=sys.stderr,
    )
    return 0
