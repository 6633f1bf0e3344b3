"""Active learning vs random order: labels needed to reach 90% / 95% test accuracy.

Simulated volunteers label a pool of simulated glitches (ml/synth, Gravity Spy crops) one
batch of K at a time; after each batch a linear head on frozen ImageNet EfficientNet-Lite0
features is retrained (the loop of tasks/ with a CPU-sized model). The next batch is either
the first K of ml.active.rank_for_labelling (margin uncertainty + embedding diversity: the
function the Celery re-ranking calls) or K at random. Volunteers' consensus labels are
wrong with probability --noise (a uniformly drawn other class).

    python bench/active_learning.py                       # synthesises the pool if needed
    python bench/active_learning.py --data DIR --k 20 --seeds 3 --noise 0.05
    python bench/active_learning.py --features gaussian   # seconds: no images, a smoke run

Prints a table and writes JSON + a learning-curve plot under var/bench/.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ml.active import rank_for_labelling  # noqa: E402

OUT = ROOT / "var" / "bench"
TARGETS = (0.80, 0.85, 0.90, 0.95)  # test accuracy; more than one, the pool may cap it


# ---------------------------------------------------------------- features


def synth_pool(folder: Path, per_class: int, seed: int, workers: int = 2) -> None:
    """Simulate glitches with ml/synth, round-robin over the classes (glitch i of every
    class before glitch i + 1 of any), so a run stopped early still gives a balanced pool.
    The images are the same bytes `python -m ml synth --seed SEED --style crop` writes."""
    import importlib
    from concurrent.futures import ProcessPoolExecutor

    generate = importlib.import_module("ml.synth.generate")
    done = folder / "DONE"
    if done.is_file():
        return
    labels = generate.resolve_classes(None, None)
    jobs = [(label, i) for i in range(per_class) for label in labels]
    print(f"simulating {len(jobs)} glitches into {folder} (one-time) ...", flush=True)
    folder.mkdir(parents=True, exist_ok=True)
    with ProcessPoolExecutor(max_workers=workers) as pool:
        for future in [
            pool.submit(generate.make_glitch, folder, label, i, seed, ["crop"]) for label, i in jobs
        ]:
            future.result()
    done.write_text("ok\n")


def image_features(data: Path, image_size: int) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """(N, 1280) frozen Lite0 features, (N,) int labels, class names; cached as .npz."""
    from ml.data import load_samples

    # Only complete glitches (a pool being simulated may hold a half-written one).
    samples = [s for s in load_samples([data]).samples if s.label is not None and not s.substituted]
    key = hashlib.sha256(
        f"{data.resolve()}|{image_size}|{len(samples)}|{samples[0].id}|{samples[-1].id}".encode()
    ).hexdigest()[:16]
    cache = OUT / f"al-features-{key}.npz"
    names = sorted({str(s.label) for s in samples})
    labels = np.array([names.index(str(s.label)) for s in samples])
    if cache.is_file():
        return np.load(cache)["x"], labels, names
    import torch

    from ml.backbones import build_backbone
    from ml.embed import embed
    from ml.encoding import encode_samples

    started = time.perf_counter()
    images = encode_samples(samples, "rgb-durations", image_size, cache_dir=OUT / "encoded")
    extractor, _ = build_backbone("efficientnet_lite0", pretrained=True)
    extractor = extractor.to(torch.device("cpu"))
    x = embed(extractor, np.asarray(images), batch_size=64)
    print(f"decoded + embedded {len(samples)} glitches in {time.perf_counter() - started:.0f} s")
    cache.parent.mkdir(parents=True, exist_ok=True)
    np.savez(cache, x=x)
    return x, labels, names


def gaussian_features(n_classes: int, per_class: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Overlapping Gaussian clusters: a fast stand-in for real features (smoke runs)."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(n_classes, 64)) * 1.2
    labels = np.repeat(np.arange(n_classes), per_class)
    x = centres[labels] + rng.normal(size=(len(labels), 64))
    return x, labels


# ---------------------------------------------------------------- simulation


@dataclass
class Curve:
    n_labels: list[int]
    accuracy: list[float]

    def labels_to_reach(self, target: float) -> int | None:
        for n, acc in zip(self.n_labels, self.accuracy, strict=True):
            if acc >= target:
                return n
        return None


def fit_head(x: np.ndarray, y: np.ndarray, n_classes: int, c: float):  # noqa: ANN201
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=c, max_iter=200, tol=1e-3)
    model.fit(x, y)
    return model


def full_probs(model, x: np.ndarray, n_classes: int) -> np.ndarray:  # noqa: ANN001
    """(N, n_classes) probabilities, zero for classes not yet seen in the labels."""
    probs = np.zeros((len(x), n_classes))
    probs[:, model.classes_] = model.predict_proba(x)
    return probs


def simulate(
    x_pool: np.ndarray,
    y_pool: np.ndarray,
    x_test: np.ndarray,
    y_test: np.ndarray,
    *,
    n_classes: int,
    strategy: str,
    k: int,
    noise: float,
    max_labels: int,
    seed: int,
    diversity: float,
    c: float,
) -> Curve:
    rng = np.random.default_rng(seed)
    # What the crowd's consensus says for each glitch, fixed per seed (same for both orders).
    noisy = y_pool.copy()
    flip = rng.random(len(y_pool)) < noise
    noisy[flip] = (y_pool[flip] + rng.integers(1, n_classes, flip.sum())) % n_classes
    labelled = list(rng.choice(len(x_pool), size=k, replace=False))  # the same cold start
    curve = Curve([], [])
    while True:
        y = noisy[labelled]
        if len(np.unique(y)) < 2:
            acc = float(np.mean(y_test == y[0]))
            model = None
        else:
            model = fit_head(x_pool[labelled], y, n_classes, c)
            acc = float(np.mean(model.predict(x_test) == y_test))
        curve.n_labels.append(len(labelled))
        curve.accuracy.append(acc)
        rest = np.setdiff1d(np.arange(len(x_pool)), labelled)
        if len(labelled) >= max_labels or len(rest) == 0:
            return curve
        take = min(k, len(rest))
        if strategy == "random" or model is None:
            batch = rng.choice(rest, size=take, replace=False)
        else:
            order, _ = rank_for_labelling(
                full_probs(model, x_pool[rest], n_classes),
                x_pool[rest],
                uncertainty_weight=1.0,
                diversity=diversity,
                n_diverse=take,
                random_state=seed,
            )
            batch = rest[order[:take]]
        labelled.extend(int(i) for i in batch)


def stratified_test_split(labels: np.ndarray, fraction: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    test = []
    for label in np.unique(labels):
        members = np.flatnonzero(labels == label)
        test.extend(rng.choice(members, size=max(1, round(len(members) * fraction)), replace=False))
    mask = np.zeros(len(labels), dtype=bool)
    mask[test] = True
    return mask


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, help="labelled glitch folder (default: simulate)")
    parser.add_argument("--per-class", type=int, default=50, help="simulated glitches per class")
    parser.add_argument("--features", choices=["lite0", "gaussian"], default="lite0")
    parser.add_argument("--image-size", type=int, default=160, help="pixels fed to Lite0")
    parser.add_argument("--k", type=int, default=20, help="labels between two retrains")
    parser.add_argument("--noise", type=float, default=0.05, help="share of wrong consensus labels")
    parser.add_argument("--seeds", type=int, default=3, help="repetitions (cold starts, noise)")
    parser.add_argument("--diversity", type=float, default=0.3, help="rank_for_labelling's mix")
    parser.add_argument("--test-fraction", type=float, default=0.25)
    parser.add_argument("--pca", type=int, default=128, help="feature dimensions for the head")
    parser.add_argument("--c", type=float, default=0.1, help="inverse L2 strength of the head")
    parser.add_argument("--max-labels", type=int, default=0, help="stop here (0: whole pool)")
    parser.add_argument("--synth-only", action="store_true", help="only simulate the pool")
    parser.add_argument("--no-synth", action="store_true", help="use the pool as it is on disk")
    args = parser.parse_args()
    if args.synth_only:
        synth_pool(args.data or OUT / f"synth-al-{args.per_class}", args.per_class, seed=7)
        return 0

    started = time.perf_counter()
    if args.features == "gaussian":
        x, y = gaussian_features(22, args.per_class, 0)
        names = [f"class{i}" for i in range(22)]
        source = "gaussian clusters"
    else:
        data = args.data or OUT / f"synth-al-{args.per_class}"
        if args.data is None and not args.no_synth:
            synth_pool(data, args.per_class, seed=7)
        x, y, names = image_features(data, args.image_size)
        source = f"{data} (ml/synth crops), frozen Lite0 ImageNet features at {args.image_size} px"
    from sklearn.decomposition import PCA
    from sklearn.preprocessing import StandardScaler

    x = StandardScaler().fit_transform(x)
    if args.pca and x.shape[1] > args.pca:
        x = PCA(args.pca, random_state=0).fit_transform(x)  # unsupervised: pool + test
        x = StandardScaler().fit_transform(x)
    test = stratified_test_split(y, args.test_fraction, seed=0)
    pool_x, pool_y, test_x, test_y = x[~test], y[~test], x[test], y[test]
    n_classes = len(names)
    print(f"data: {source}")
    print(f"{n_classes} classes, pool {len(pool_y)}, test {len(test_y)}, K={args.k}, "
          f"noise={args.noise}, seeds={args.seeds}")  # fmt: skip

    curves: dict[str, list[Curve]] = {"random": [], "active": []}
    for seed in range(args.seeds):
        for strategy in curves:
            curves[strategy].append(
                simulate(
                    pool_x,
                    pool_y,
                    test_x,
                    test_y,
                    n_classes=n_classes,
                    strategy=strategy,
                    k=args.k,
                    noise=args.noise,
                    max_labels=args.max_labels or len(pool_y),
                    seed=seed,
                    diversity=args.diversity,
                    c=args.c,
                )  # fmt: skip
            )

    # The ceiling: the head trained on the whole pool with clean labels.
    ceiling = float(np.mean(fit_head(pool_x, pool_y, n_classes, args.c).predict(test_x) == test_y))
    results: dict[str, object] = {
        "source": source,
        "classes": n_classes,
        "pool": int(len(pool_y)),
        "test": int(len(test_y)),
        "k": args.k,
        "noise": args.noise,
        "seeds": args.seeds,
        "diversity": args.diversity,
        "accuracy_with_whole_clean_pool": ceiling,
        "targets": {},
    }
    print(f"accuracy with the whole pool labelled (clean): {ceiling:.3f}")
    print(f"{'target':>8} {'random':>14} {'active':>14} {'fewer labels':>13}")
    for target in TARGETS:
        row = {}
        for strategy, cs in curves.items():
            needed = [c.labels_to_reach(target) for c in cs]
            row[strategy] = needed
        reached = all(n is not None for n in row["random"] + row["active"])
        mean_random = float(np.mean([n for n in row["random"] if n is not None] or [np.nan]))
        mean_active = float(np.mean([n for n in row["active"] if n is not None] or [np.nan]))
        saving = 1 - mean_active / mean_random if reached else float("nan")
        results["targets"][f"{target:.2f}"] = {  # type: ignore[index]
            "random": row["random"],
            "active": row["active"],
            "mean_random": mean_random,
            "mean_active": mean_active,
            "fewer_labels": saving,
        }
        note = "" if reached else "  (not reached in every run)"
        print(f"{target:>8.0%} {mean_random:>14.0f} {mean_active:>14.0f} {saving:>12.0%}{note}")
    results["seconds"] = round(time.perf_counter() - started, 1)
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "active_learning.json").write_text(json.dumps(results, indent=1))
    plot(
        curves, OUT / "active_learning.png", title=f"{Path(source.split(' (')[0]).name}, K={args.k}"
    )
    print(f"wrote {OUT / 'active_learning.json'} and active_learning.png "
          f"({results['seconds']} s)")  # fmt: skip
    return 0


def plot(curves: dict[str, list[Curve]], path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    for strategy, cs in curves.items():
        n = cs[0].n_labels
        acc = np.mean([c.accuracy[: len(n)] for c in cs], axis=0)
        ax.plot(n, acc, label="uncertainty + diversity" if strategy == "active" else "random")
    for target in TARGETS:
        ax.axhline(target, color="grey", lw=0.5, ls="--")
    ax.set_xlabel("labels")
    ax.set_ylabel("test accuracy")
    ax.set_ylim(0.3, 1.0)
    ax.set_title(title, fontsize=9)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


if __name__ == "__main__":
    raise SystemExit(main())
