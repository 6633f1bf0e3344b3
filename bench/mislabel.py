"""Mislabel finding: flip 5% of a synthetic retired set's labels, can ml.audit find them?

A retired set of simulated glitches (ml/synth, Gravity Spy crop style, the 22 classes) is
embedded once with frozen ImageNet EfficientNet-Lite0 (the ranking job's default
features); then, per seed, 5% of the labels are moved to a uniformly drawn other class and
ml.audit.MislabelFinder ranks every glitch. With k = the number flipped we report the
precision and recall of the top k (equal by construction), of confident learning's own
issue set, and of the plain "1 - out-of-fold self-confidence" ranking without the
confident-learning thresholds.

    python bench/mislabel.py                         # reuses var/bench/synth-al-50 if there
    python bench/mislabel.py --per-class 25 --seeds 5 --noise 0.05
    python bench/mislabel.py --features gaussian     # seconds: no images, a smoke run

Features are cached under var/bench/ (shared with bench/active_learning.py's pool).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ml.audit import ORDERS, RANK_BY, MislabelFinder, out_of_fold_proba  # noqa: E402

OUT = ROOT / "var" / "bench"
POOL = OUT / "synth-al-50"  # bench/active_learning.py's simulated pool (50 per class)


def synth_pool(folder: Path, per_class: int, seed: int, workers: int = 2) -> None:
    """Simulate `per_class` crop-style glitches of every class into `folder` (one time)."""
    import importlib
    from concurrent.futures import ProcessPoolExecutor

    generate = importlib.import_module("ml.synth.generate")
    if (folder / "DONE").is_file():
        return
    labels = generate.resolve_classes(None, None)
    jobs = [(label, i) for i in range(per_class) for label in labels]
    print(f"simulating {len(jobs)} glitches into {folder} (one time) ...", flush=True)
    folder.mkdir(parents=True, exist_ok=True)
    with ProcessPoolExecutor(max_workers=workers) as pool:
        futures = [
            pool.submit(generate.make_glitch, folder, label, i, seed, ["crop"]) for label, i in jobs
        ]
        for future in futures:
            future.result()
    (folder / "DONE").write_text("ok\n")


def image_features(data: Path, image_size: int) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """(N, 1280) frozen Lite0 features, (N,) int labels, class names; cached as .npz.

    The cache key is bench/active_learning.py's, so a pool it embedded is not embedded again.
    """
    from ml.data import load_samples

    samples = [s for s in load_samples([data]).samples if s.label is not None and not s.substituted]
    key = hashlib.sha256(
        f"{data.resolve()}|{image_size}|{len(samples)}|{samples[0].id}|{samples[-1].id}".encode()
    ).hexdigest()[:16]
    names = sorted({str(s.label) for s in samples})
    labels = np.array([names.index(str(s.label)) for s in samples])
    for cache in (OUT / f"al-features-{key}.npz", OUT / f"mislabel-features-{key}.npz"):
        if cache.is_file():
            return np.load(cache)["x"], labels, names
    import torch

    from ml.backbones import DEFAULT_BACKBONE, build_backbone
    from ml.embed import embed
    from ml.encoding import encode_samples

    started = time.perf_counter()
    images = encode_samples(samples, "rgb-durations", image_size, cache_dir=OUT / "encoded")
    extractor, _ = build_backbone(DEFAULT_BACKBONE, pretrained=True)
    with torch.inference_mode():
        x = embed(extractor.to(torch.device("cpu")), np.asarray(images), batch_size=64)
    print(f"decoded + embedded {len(samples)} glitches in {time.perf_counter() - started:.0f} s")
    OUT.mkdir(parents=True, exist_ok=True)
    np.savez(OUT / f"mislabel-features-{key}.npz", x=x)
    return x, labels, names


def gaussian_features(n_classes: int, per_class: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Overlapping Gaussian clusters: a fast stand-in for real features (smoke runs)."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(n_classes, 64)) * 1.2
    labels = np.repeat(np.arange(n_classes), per_class)
    return centres[labels] + rng.normal(size=(len(labels), 64)), labels


def subsample(labels: np.ndarray, per_class: int, seed: int) -> np.ndarray:
    """Indices of at most `per_class` samples of every class (sorted)."""
    rng = np.random.default_rng(seed)
    keep = [rng.permutation(np.flatnonzero(labels == c))[:per_class] for c in np.unique(labels)]
    return np.sort(np.concatenate(keep))


def flip_labels(
    labels: np.ndarray, n_classes: int, noise: float, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Move round(noise * N) random samples to a uniformly drawn other class."""
    rng = np.random.default_rng(1000 + seed)
    n_flip = max(1, round(noise * len(labels)))
    flipped = rng.choice(len(labels), size=n_flip, replace=False)
    noisy = labels.copy()
    noisy[flipped] = (labels[flipped] + rng.integers(1, n_classes, size=n_flip)) % n_classes
    return noisy, flipped


def simulated_votes(
    truth: np.ndarray, n_classes: int, n_votes: int, accuracy: float, seed: int
) -> np.ndarray:
    """(N, K) mean W_i of `n_votes` independent volunteers per glitch (as on gold subjects,
    where volunteers answer without seeing the label): each names the true class with
    probability `accuracy`, else a random other one; W_i is their prior-style column
    (accuracy on the answer, the rest spread evenly)."""
    rng = np.random.default_rng(2000 + seed)
    votes = np.zeros((len(truth), n_classes))
    for _ in range(n_votes):
        wrong = (truth + rng.integers(1, n_classes, size=len(truth))) % n_classes
        answer = np.where(rng.random(len(truth)) < accuracy, truth, wrong)
        column = np.full((len(truth), n_classes), (1 - accuracy) / (n_classes - 1))
        column[np.arange(len(truth)), answer] = accuracy
        votes += column / n_votes
    return votes


def score(ranked: list[int], issues: np.ndarray, flipped: np.ndarray) -> dict[str, float]:
    k = len(flipped)
    truth = set(flipped.tolist())
    hits = len(truth & set(ranked[:k]))
    found = set(np.flatnonzero(issues).tolist())
    return {
        "topk_precision": hits / k,
        "topk_recall": hits / k,
        "cl_issues": len(found),
        "cl_precision": len(found & truth) / max(len(found), 1),
        "cl_recall": len(found & truth) / k,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, help="labelled folder (default: the synth pool)")
    parser.add_argument("--per-class", type=int, default=50, help="glitches used per class")
    parser.add_argument("--noise", type=float, default=0.05, help="share of labels flipped")
    parser.add_argument("--seeds", type=int, default=5, help="independent flips")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--c", type=float, nargs="+", default=[0.05, 0.2, 1.0])
    parser.add_argument("--pca", type=int, default=64, help="0: the full feature width")
    parser.add_argument(
        "--votes", type=int, default=0, help="also blend N simulated volunteer votes per glitch"
    )
    parser.add_argument("--vote-accuracy", type=float, default=0.7)
    parser.add_argument("--features", choices=("images", "gaussian"), default="images")
    parser.add_argument("--image-size", type=int, default=224)
    args = parser.parse_args()

    if args.features == "gaussian":
        x, y = gaussian_features(22, args.per_class, 0)
        source = "gaussian"
    else:
        data = args.data or POOL
        if args.data is None and not (POOL / "DONE").is_file():
            data = Path("/tmp/glitchlab-mislabel-pool")
            synth_pool(data, args.per_class, seed=7)
        x, y, _ = image_features(data, args.image_size)
        source = str(data)
    idx = subsample(y, args.per_class, 0)
    x, y = x[idx], y[idx]
    n_classes = int(y.max()) + 1
    print(f"{len(y)} glitches, {n_classes} classes, {x.shape[1]}-d features from {source}")
    n_flip = max(1, round(args.noise * len(y)))
    width = args.pca or "all"
    print(f"flip {args.noise:.0%} of the labels ({n_flip}), {args.seeds} seeds,", end=" ")
    print(f"{args.folds}-fold linear head on {width} PCA dims")
    results = []
    for c in args.c:
        variants = [(r, o) for o in ORDERS for r in RANK_BY]
        per_rank: dict[tuple[str, str], list[dict[str, float]]] = {v: [] for v in variants}
        if args.votes:
            per_rank["self_confidence", f"+{args.votes} votes"] = []
        started = time.perf_counter()
        for seed in range(args.seeds):
            noisy, flipped = flip_labels(y, n_classes, args.noise, seed)
            # The out-of-fold probabilities once per (C, seed); both rankings read them.
            probs = out_of_fold_proba(
                x,
                noisy,
                n_classes,
                n_splits=args.folds,
                c=c,
                n_components=args.pca or None,
                random_state=seed,
            )
            plain = np.argsort(probs[np.arange(len(noisy)), noisy], kind="stable").tolist()
            for rank_by, order in variants:
                finder = MislabelFinder(rank_by=rank_by, order=order).fit_proba(probs, noisy)
                row = score([r.index for r in finder.rows_], finder.issues_, flipped)
                row["plain_precision"] = score(plain, finder.issues_, flipped)["topk_precision"]
                per_rank[rank_by, order].append(row)
            if args.votes:
                votes = simulated_votes(y, n_classes, args.votes, args.vote_accuracy, seed)
                finder = MislabelFinder(vote_weight=0.5).fit_proba(probs, noisy, votes=votes)
                row = score([r.index for r in finder.rows_], finder.issues_, flipped)
                row["plain_precision"] = float("nan")
                per_rank["self_confidence", f"+{args.votes} votes"].append(row)
        seconds = (time.perf_counter() - started) / args.seeds
        for (rank_by, order), rows in per_rank.items():
            mean = {key: float(np.mean([r[key] for r in rows])) for key in rows[0]}
            low = float(np.min([r["topk_precision"] for r in rows]))
            mean.update(c=c, rank_by=rank_by, order=order, seconds_per_audit=seconds)
            mean["topk_precision_min"] = low
            results.append(mean)
            print(
                f"C={c:<5} {rank_by:17s} {order:12s} "
                f"top-k precision=recall {mean['topk_precision']:.3f} "
                f"(min {low:.3f}; plain 1-p[given] {mean['plain_precision']:.3f}) | "
                f"CL flags {mean['cl_issues']:.0f}: "
                f"precision {mean['cl_precision']:.3f} recall {mean['cl_recall']:.3f} | "
                f"{seconds:.1f} s/audit",
                flush=True,
            )
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "mislabel.json").write_text(
        json.dumps(
            {"source": source, "n": len(y), "noise": args.noise, "results": results}, indent=1
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
