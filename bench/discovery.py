"""Discovery benchmark: can clustering find three new classes hidden among None_of_the_Above?

A synthetic pool (ml/synth, crop style): None_of_the_Above plus Reverse_Chirp,
Fast_Scattering and Low_Frequency_Blip (unknown to the registry), optionally with the
known classes they resemble (Chirp, Scattered_Light, Blip) as low-confidence confusers.
Features (--features):

* ``known`` (default): what the product clusters. tasks/discovery.py embeds with the active
  model's truncated CNN, a model fine-tuned on the known classes; here a small stand-in:
  Lite0 fine-tuned on the 22 known classes simulated with another seed (40 per class,
  128 px, 6 epochs; ~2 min to simulate and ~5 min to train on 2 shared CPU cores, cached).
  The new classes are never in its training data.
* ``imagenet``: frozen ImageNet EfficientNet-Lite0 at 224 px (no training at all).

Clustering: ml.cluster.GlitchClusterer. Printed: purity, ARI, per new class the recall of
its best cluster, and the volunteer actions to label the pool with cluster sheets against
one glitch at a time.

  python bench/discovery.py                     # 30 per class, cached under /tmp
  python bench/discovery.py --seed 7 --per-class 60 --sweep
  python bench/discovery.py --features imagenet
"""

from __future__ import annotations

import argparse
import itertools
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ml.cluster import GlitchClusterer, best_cluster_recall, purity  # noqa: E402

NEW = ("Reverse_Chirp", "Fast_Scattering", "Low_Frequency_Blip")
CONFUSERS = ("Chirp", "Scattered_Light", "Blip")
NOTA = "None_of_the_Above"
TRAIN_PER_CLASS = 40  # simulated glitches per known class for the stand-in model
TRAIN_SIZE = 128  # px: small enough to fine-tune on a CPU in minutes
TRAIN_EPOCHS = 6
BATCH_MAX = 50  # GLITCHLAB_BATCH_MAX


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--per-class", type=int, default=30)
    p.add_argument("--cache", type=Path, default=Path("/tmp/glitchlab-bench-discovery"))
    p.add_argument("--seed", type=int, default=6)
    p.add_argument("--sweep", action="store_true", help="also try other UMAP/graph settings")
    p.add_argument("--encoding", default="rgb-durations", help="ml.encoding of the images")
    p.add_argument(
        "--features",
        choices=("known", "imagenet"),
        default="known",
        help="known: a model fine-tuned on the 22 known classes (as the product); "
        "imagenet: frozen ImageNet Lite0",
    )
    p.add_argument("--train-seed", type=int, default=100, help="seed of the known-class set")
    return p.parse_args()


def pool(args: argparse.Namespace) -> Path:
    out = args.cache / f"pool-{args.per_class}-{args.seed}"
    if not (out / NOTA).is_dir():
        classes = ",".join((NOTA, *CONFUSERS))
        command = [sys.executable, "-m", "ml", "synth", "--out", str(out), "--per-class",
                   str(args.per_class), "--classes", classes, "--new-classes", ",".join(NEW),
                   "--style", "crop", "--seed", str(args.seed), "--quiet"]  # fmt: skip
        t0 = time.perf_counter()
        subprocess.run(command, check=True)
        print(f"simulated the pool in {time.perf_counter() - t0:.0f} s -> {out}")
    return out


def known_model(args: argparse.Namespace) -> Path:
    """A Lite0 fine-tuned on the 22 known classes (never the new ones), trained once and
    cached: the stand-in for the active model whose truncated CNN the product embeds with."""
    from ml.classes import CANONICAL_NAMES

    data = args.cache / f"known-{TRAIN_PER_CLASS}-{args.train_seed}"
    if not (data / "manifest.csv").is_file():
        command = [sys.executable, "-m", "ml", "synth", "--out", str(data), "--per-class",
                   str(TRAIN_PER_CLASS), "--classes", ",".join(CANONICAL_NAMES),
                   "--style", "crop", "--seed", str(args.train_seed), "--quiet"]  # fmt: skip
        t0 = time.perf_counter()
        subprocess.run(command, check=True)
        print(f"simulated the known-class set in {time.perf_counter() - t0:.0f} s -> {data}")
    out = args.cache / f"model-{data.name}-{args.encoding}-{TRAIN_SIZE}"
    if not (out / "best.pt").is_file():
        command = [sys.executable, "-m", "ml", "train", "--data", str(data), "--out", str(out),
                   "--encoding", args.encoding, "--image-size", str(TRAIN_SIZE), "--epochs",
                   str(TRAIN_EPOCHS), "--val-fraction", "0.1", "--device", "cpu", "--seed", "0",
                   "--cache-dir", str(args.cache)]  # fmt: skip
        t0 = time.perf_counter()
        subprocess.run(command, check=True)
        print(f"trained the known-class model in {time.perf_counter() - t0:.0f} s -> {out}")
    return out


def features(root: Path, args: argparse.Namespace) -> tuple[np.ndarray, np.ndarray]:
    """(labels (N,), features (N, 1280) float32), cached as .npz."""
    if args.features == "known":
        return known_features(root, known_model(args), args.cache)
    return imagenet_features(root, args.cache, args.encoding)


def known_features(root: Path, model_dir: Path, cache: Path) -> tuple[np.ndarray, np.ndarray]:
    """Pooled features of the fine-tuned model: what tasks/discovery.py embed_subjects stores."""
    path = cache / f"features-{root.name}-{model_dir.name}.npz"
    if path.is_file():
        with np.load(path) as data:
            return data["labels"], data["embeddings"]
    from ml.data import load_samples
    from ml.embed import embed
    from ml.encoding import encode_samples
    from ml.model import load_model

    model = load_model(model_dir, device="cpu")
    samples = load_samples(root, keep_unknown_labels=True).samples
    t0 = time.perf_counter()
    images = encode_samples(samples, model.encoding, model.image_size, workers=2, cache_dir=cache)
    vectors = embed(model, images)
    print(f"decoded and embedded {len(samples)} glitches in {time.perf_counter() - t0:.0f} s")
    labels = np.array([s.label or "" for s in samples])
    np.savez(path, labels=labels, embeddings=vectors)
    return labels, vectors


def imagenet_features(root: Path, cache: Path, encoding: str) -> tuple[np.ndarray, np.ndarray]:
    """Frozen ImageNet Lite0 features at 224 px."""
    path = cache / f"features-{root.name}-{encoding}.npz"
    if path.is_file():
        with np.load(path) as data:
            return data["labels"], data["embeddings"]
    from ml.backbones import build_backbone
    from ml.data import load_samples
    from ml.embed import embed
    from ml.encoding import encode_samples

    samples = load_samples(root, keep_unknown_labels=True).samples
    t0 = time.perf_counter()
    images = encode_samples(samples, encoding, 224, workers=2, cache_dir=cache)
    t1 = time.perf_counter()
    extractor, _ = build_backbone("efficientnet_lite0")
    vectors = embed(extractor, images, batch_size=32, image_size=224)
    t2 = time.perf_counter()
    print(f"decoded {len(samples)} glitches in {t1 - t0:.0f} s, embedded in {t2 - t1:.0f} s")
    labels = np.array([s.label or "" for s in samples])
    np.savez(path, labels=labels, embeddings=vectors)
    return labels, vectors


def actions(labels: np.ndarray, clusters: np.ndarray) -> tuple[int, int]:
    """Volunteer actions to give every glitch one vote: (one by one, with cluster sheets).
    A sheet costs one submit per BATCH_MAX glitches plus one key per odd one out (each then
    labelled on its own); noise glitches are labelled one by one."""
    one_by_one = len(labels)
    with_sheets = int((clusters < 0).sum())
    for cluster in np.unique(clusters[clusters >= 0]):
        members = labels[clusters == cluster]
        _, counts = np.unique(members, return_counts=True)
        odd = len(members) - int(counts.max())
        with_sheets += -(-len(members) // BATCH_MAX) + 2 * odd  # untick + label alone
    return one_by_one, with_sheets


def majority_recall(labels: np.ndarray, clusters: np.ndarray, name: str) -> float:
    """Share of the class inside clusters whose majority it is (a class split into two
    clean clusters still counts whole: volunteers label both sheets the same)."""
    found = 0
    for cluster in np.unique(clusters[clusters >= 0]):
        members = labels[clusters == cluster]
        values, counts = np.unique(members, return_counts=True)
        if values[counts.argmax()] == name:
            found += int((members == name).sum())
    return found / max(int((labels == name).sum()), 1)


def evaluate(name: str, labels: np.ndarray, vectors: np.ndarray, **params: object) -> dict:
    from sklearn.metrics import adjusted_rand_score

    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clusterer = GlitchClusterer(random_state=0, **params).fit(vectors)  # type: ignore[arg-type]
    seconds = time.perf_counter() - t0
    found = clusterer.labels_
    one, sheets = actions(labels, found)
    result = {
        "pool": name,
        "params": params,
        "n": len(labels),
        "clusters": clusterer.n_clusters_,
        "noise": int((found < 0).sum()),
        "purity": purity(labels, found),
        "ari": adjusted_rand_score(labels, found),
        "recall": {c: best_cluster_recall(labels, found, c) for c in NEW},
        "majority_recall": {c: majority_recall(labels, found, c) for c in NEW},
        "actions_one_by_one": one,
        "actions_sheets": sheets,
        "seconds": seconds,
    }
    recall = " ".join(
        f"{c}={r:.2f}/{result['majority_recall'][c]:.2f}" for c, r in result["recall"].items()
    )
    print(
        f"{name:<14} {str(params):<52} k={result['clusters']:<3} noise={result['noise']:<3} "
        f"purity={result['purity']:.3f} ARI={result['ari']:.3f} {recall} "
        f"actions {one} -> {sheets}  ({seconds:.1f} s)"
    )
    return result


def main() -> int:
    args = parse_args()
    args.cache.mkdir(parents=True, exist_ok=True)
    labels, vectors = features(pool(args), args)
    print(f"features: {args.features}")
    # What tasks/discovery.py cluster_subjects clusters: the stored unit vectors.
    vectors = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    hidden = np.isin(labels, (NOTA, *NEW))
    pools = {
        "NOTA+3 new": (labels[hidden], vectors[hidden]),
        "+3 confusers": (labels, vectors),
    }
    settings: list[dict[str, object]] = [
        {},  # the default: z-scored, kNN graph, k by modularity
        {"select_k": "eigengap"},  # the number of clusters by the eigengap instead
        {"standardize": False},  # no z-score
        {"umap_components": 10},  # UMAP first (the default before 2026-11-26)
        {"umap_components": 10, "select_k": "eigengap"},  # the old default
    ]
    if args.sweep:
        settings += [{"n_neighbors": k} for k in (10, 30)]
        grid = itertools.product((10, 30), (5, 10), (10, 15, 30))
        settings += [
            {"umap_components": c, "umap_neighbors": u, "n_neighbors": k} for u, c, k in grid
        ]
    print("recall: best cluster / clusters the class is the majority of")
    for name, (y, X) in pools.items():
        counts = {c: int((y == c).sum()) for c in np.unique(y)}
        print(f"\n{name}: {len(y)} glitches {counts}")
        for params in settings:
            evaluate(name, y, X, **params)
    return 0


if __name__ == "__main__":
    sys.exit(main())
