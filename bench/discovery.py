"""Discovery benchmark: can clustering find three new classes hidden among None_of_the_Above?

A synthetic pool (ml/synth, crop style): None_of_the_Above plus Reverse_Chirp,
Fast_Scattering and Blip_Low_Frequency (unknown to the registry), optionally with the
known classes they resemble (Chirp, Scattered_Light, Blip) as low-confidence confusers.
Features (--features):

* ``known`` (default): what the product clusters. tasks/discovery.py embeds with the active
  model's truncated CNN, a model fine-tuned on the known classes; here a small stand-in:
  Lite0 fine-tuned on the 22 known classes simulated with another seed (40 per class,
  128 px, 6 epochs; ~2 min to simulate and ~5 min to train on 2 shared CPU cores, cached).
  The new classes are never in its training data.
* ``imagenet``: frozen ImageNet EfficientNet-Lite0 at 224 px (no training at all).

The real row (--rows real): real glitches (../shared/data/gravityspy-real) of classes left
out of training, clustered with real glitches of known classes that the model never saw.
A model is trained the product's way (bench/real.py's recipe: simulated glitches plus real
ones, TrainConfig defaults; --size 128 px, --epochs 4, --sim-per-class 40 on --device cpu
unless told otherwise) without any glitch, simulated or real, of the left-out classes
(--real-left-out), and on the known classes' real glitches of bench/real.py's "report" part
only; its "tune" part (a third of each big class, by id hash) is the pool's known side. The
pool: every real glitch of the left-out classes plus those unseen known-class glitches. The
line "all real" clusters every real glitch (training glitches included, as the product
embeds every subject).

With --heldout DIR (labelled real glitches kept apart from the real set), the same model
embeds DIR's glitches too, which are clustered alone ("held-out") and with the unseen pool
("real unseen + held-out"). DIR is read as bench/heldout.py reads it (its --help says more):
DIR/<class>/<id>_<duration>.png (or .jpg; <duration> 0.5, 1.0, 2.0 or 4.0, the views of one
glitch sharing its id, ids unique across the class folders), Gravity Spy's
<ifo>_<id>_spectrogram_<duration>.png, <name>.png without a duration for a glitch of one
view, or a DIR/manifest.csv with columns id,label,duration,path. Before anything trains, the
run stops, every case named, when a glitch of DIR is also in the real set, or one glitch is
in DIR under two classes; a class of DIR outside the 22 is left out, and said. A held-out
glitch a file of which does not decode is left out, and named; every file not clustered is
listed ("not scored: ...").

Clustering: ml.cluster.GlitchClusterer. Printed: purity, ARI, per new class the recall of
its best cluster, and the volunteer actions to label the pool with cluster sheets against
one glitch at a time; for the real pools, each of the default's clusters counted by class
and archive (the volunteer's Zooniverse JPEGs, Gravity Spy's PNGs, the golden examples).

  python bench/discovery.py                     # 30 per class + the real row, cached under /tmp
  python bench/discovery.py --seed 7 --per-class 60 --sweep --rows sim
  python bench/discovery.py --features imagenet --rows sim
  python bench/discovery.py --rows real --real-left-out Whistle,Power_Line   # the tune row
  python bench/discovery.py --rows real --heldout DIR      # the report row, on DIR's glitches too
  python bench/discovery.py --rows real --heldout DIR --device cuda   # its model on a GPU
"""

from __future__ import annotations

import argparse
import itertools
import subprocess
import sys
import time
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ml.cluster import GlitchClusterer, best_cluster_recall, purity  # noqa: E402
from ml.data import Sample  # noqa: E402

if TYPE_CHECKING:
    from bench.heldout import HeldOut
    from ml.train import TrainConfig

NEW = ("Reverse_Chirp", "Fast_Scattering", "Blip_Low_Frequency")
CONFUSERS = ("Chirp", "Scattered_Light", "Blip")
NOTA = "None_of_the_Above"
TRAIN_PER_CLASS = 40  # simulated glitches per known class for the stand-in model
TRAIN_SIZE = 128  # px: small enough to fine-tune on a CPU in minutes
TRAIN_EPOCHS = 6
BATCH_MAX = 50  # GLITCHLAB_BATCH_MAX
# Real row: the three real-rich classes after the big two are reported; Whistle and
# Power_Line (left out together) are the row the clusterer's settings were chosen on.
REAL_LEFT_OUT = ("Koi_Fish", "Violin_Mode", "Scratchy")
REAL_EPOCHS = 4  # bench/real.py's CPU size (--epochs, --size: the docs' numbers are these)
REAL_SIZE = 128
REAL_SIM_PER_CLASS = 40  # bench/real.py's simulated glitches of each class (--sim-per-class)
REAL_DEVICE = "cpu"  # where the real row's model trains and embeds (--device)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
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
    p.add_argument(
        "--rows",
        default="sim,real",
        help="sim: the simulated pools; real: classes left out of training on real glitches",
    )
    p.add_argument(
        "--real",
        type=Path,
        default=None,
        help="real row: labelled real glitches (default ../shared/data/gravityspy-real)",
    )
    p.add_argument(
        "--heldout",
        type=Path,
        metavar="DIR",
        help="real row: also cluster these labelled real glitches, which nothing trained on "
        "(alone and with the unseen pool); DIR/<class>/<id>_<duration>.png as above",
    )
    p.add_argument(
        "--real-left-out",
        default=",".join(REAL_LEFT_OUT),
        help="real row: classes left out of training (each needs >= 5 real glitches)",
    )
    p.add_argument("--size", type=int, default=REAL_SIZE, help="real row's model: px")
    p.add_argument("--epochs", type=int, default=REAL_EPOCHS, help="real row's model: epochs")
    p.add_argument("--sim-per-class", type=int, default=REAL_SIM_PER_CLASS,
                   help="real row's model: simulated glitches of each known class")  # fmt: skip
    p.add_argument("--device", default=REAL_DEVICE,
                   help="real row's model: where it trains and embeds (cpu, cuda)")  # fmt: skip
    args = p.parse_args(argv)
    args.rows = {r.strip() for r in args.rows.split(",") if r.strip()}
    if not args.rows <= {"sim", "real"}:
        p.error("--rows: sim, real or both")
    args.real_left_out = tuple(c.strip() for c in args.real_left_out.split(",") if c.strip())
    if args.real is None:
        from bench.real import REAL

        args.real = REAL
    return args


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
    """(labels (N,), features (N, 1280) float32), cached as .npz. A new class's label from a
    pool or cache made before it was renamed (Low_Frequency_Blip) reads as its name now
    (ml.classes.ALIASES): it would be counted as none of NEW."""
    from ml.classes import spelled_as

    if args.features == "known":
        labels, vectors = known_features(root, known_model(args), args.cache)
    else:
        labels, vectors = imagenet_features(root, args.cache, args.encoding)
    return np.array([spelled_as(str(x), NEW) or str(x) for x in labels]), vectors


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


def evaluate(
    name: str,
    labels: np.ndarray,
    vectors: np.ndarray,
    new: tuple[str, ...] = NEW,
    **params: object,
) -> dict:
    """Cluster `vectors` with GlitchClusterer(**params); print and return the scores, with
    best-cluster and majority recall for each class in `new`."""
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
        "recall": {c: best_cluster_recall(labels, found, c) for c in new},
        "majority_recall": {c: majority_recall(labels, found, c) for c in new},
        "actions_one_by_one": one,
        "actions_sheets": sheets,
        "seconds": seconds,
        "clusters_found": found,
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


def real_pools(args: argparse.Namespace) -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """The real row: {"real unseen": (labels, features, archives), "all real": ...} of a model
    trained the product's way without the left-out classes (trained once per left-out set,
    cached); archives: which of the real set's archives each glitch comes from. With
    --heldout, also the held-out glitches alone and with the unseen pool (archive
    "held-out"), embedded by the same model."""
    from bench.heldout import load_heldout
    from bench.real import archive_of, labelled_real, part_of

    left_out = tuple(sorted(args.real_left_out))
    real = labelled_real(args.real)
    counts = {c: sum(s.label == c for s in real) for c in left_out}
    if min(counts.values(), default=0) < 5:
        raise SystemExit(f"--real-left-out: each class needs >= 5 real glitches, got {counts}")
    heldout = load_heldout(args.heldout, real, args.real) if args.heldout else None
    singles = {c for c in {s.label for s in real} if sum(s.label == c for s in real) == 1}
    # The known classes' glitches of bench/real.py's tune part are never trained on.
    unseen = np.array([s.label in left_out or part_of(s, singles) == "tune" for s in real])
    real_train = [s for s, u in zip(real, unseen, strict=True) if not u]
    name = cache_name(args, left_out, real_train)
    model = real_model(args, name, real_train)
    # v3: one glitch saved under several ids counted once (v2: the view ensemble's features)
    path = args.cache / f"real-features-{name}-v3.npz"
    if not path.is_file():
        vectors, whole, _ = embed_glitches(model, real, args.cache, args.device)
        labels_all = np.array([str(s.label) for s in real])
        np.savez(path, labels=labels_all, unseen=unseen, embeddings=vectors, whole=whole)
    with np.load(path) as data:
        labels_all, cached_unseen = data["labels"], data["unseen"]
        vectors, whole = unit(data["embeddings"]), unit(data["whole"])
    if not np.array_equal(cached_unseen, unseen):
        raise SystemExit(f"{path} was made with another split: delete it")
    archives = np.array([archive_of(s) for s in real])
    pools = {
        "real unseen": (labels_all[unseen], vectors[unseen], archives[unseen]),
        "all real": (labels_all, vectors, archives),
        "real unseen, whole glitch only": (labels_all[unseen], whole[unseen], archives[unseen]),
    }
    if heldout is not None:
        # A held-out glitch a file of which does not decode is left out, and named (as
        # bench/heldout.py leaves it out of its scores): one bad file does not stop the row.
        held_vectors, _, held = embed_glitches(
            model, heldout.samples, args.cache, args.device, held_out=heldout
        )
        if not held:
            raise SystemExit(f"none of the held-out glitches could be read: {heldout.summary()}")
        print(f"held-out: {len(held)} glitches to cluster; {heldout.summary()}")
        held_vectors = unit(held_vectors)
        held_labels = np.array([str(s.label) for s in held])
        held_archives = np.array(["held-out"] * len(held))
        pools["held-out"] = (held_labels, held_vectors, held_archives)
        pools["real unseen + held-out"] = (
            np.concatenate([labels_all[unseen], held_labels]),
            np.concatenate([vectors[unseen], held_vectors]),
            np.concatenate([archives[unseen], held_archives]),
        )
    return pools


def cache_name(
    args: argparse.Namespace, left_out: tuple[str, ...], real_train: list[Sample]
) -> str:
    """The cache name of the real row's model and features: the left-out classes and a digest
    of what the model depends on (bench/real.py's recipe_digest: ml/'s source, the
    TrainConfig, the simulations, the real training glitches and the real set's path). Before
    2026-12-07's change it was the classes and the size alone, so a model trained by older code or
    another recipe was reused whenever its metrics.json existed."""
    from bench.real import SIM_SEED, recipe_digest

    digest = recipe_digest(
        real_config(args),
        sim=["crop", args.sim_per_class, SIM_SEED],
        real=str(args.real.resolve()),
        real_train=sorted(s.id for s in real_train),
    )
    return "-".join(left_out) + "-" + digest


def real_config(args: argparse.Namespace) -> TrainConfig:
    """The real row's TrainConfig: bench/real.py's recipe at --size and --epochs, seed 0."""
    from bench.real import config_of

    recipe = argparse.Namespace(
        size=args.size, epochs=args.epochs, device=args.device, seed=0, set=[]
    )
    return config_of(recipe)


def real_model(args: argparse.Namespace, name: str, real_train: list[Sample]) -> Path:
    """The real row's model: trained the product's way (bench/real.py's recipe, at --size
    and --epochs: its CPU size by default) on --sim-per-class simulations of every class but
    the left-out ones plus `real_train`; once, then kept in the cache under `name`
    (cache_name: the code and the recipe, not only the arguments)."""
    from bench.real import simulated
    from ml.encoding import encode_samples
    from ml.train import class_names_of, fit

    out = args.cache / f"real-model-{name}"
    if (out / "metrics.json").is_file():  # trained by an earlier run of this code and recipe
        return out
    config = real_config(args)
    sim_args = argparse.Namespace(
        cache=args.cache,
        sim_style="crop",
        sim_per_class=args.sim_per_class,
        real_backgrounds=0.0,
        part="",
    )
    sim = [s for s in simulated(sim_args, []) if s.label not in args.real_left_out]
    train = sim + real_train
    t0 = time.perf_counter()
    images = encode_samples(
        train, config.encoding, args.size, workers=2, cache_dir=args.cache / "encoded"
    )
    labels = [str(s.label) for s in train]
    sources = ["sim"] * len(sim) + ["real"] * len(real_train)
    fit(images, labels, None, None, config, out, class_names=class_names_of(labels),
        sources=sources)  # fmt: skip
    print(f"trained without {name} on {len(sim)} simulated + {len(real_train)} real glitches "
          f"in {time.perf_counter() - t0:.0f} s -> {out}")  # fmt: skip
    return out


def embed_glitches(
    model_dir: Path,
    samples: list[Sample],
    cache: Path,
    device: str,
    held_out: HeldOut | None = None,
) -> tuple[np.ndarray, np.ndarray, list[Sample]]:
    """(the view ensemble's features, as the product embeds (ml.views); the whole glitch's;
    the samples embedded). With `held_out`, a glitch a file of which does not decode is
    left out, named, and listed there as not scored; without, it raises DecodeError."""
    from ml.embed import embed
    from ml.encoding import encode_decodable, encode_samples
    from ml.model import load_model, views_of

    model = load_model(model_dir, device=device)
    size, encoded = model.image_size, cache / "encoded"
    if held_out is None:
        images = encode_samples(samples, model.encoding, size, workers=2, cache_dir=encoded)
    else:
        decoded = encode_decodable(samples, model.encoding, size, workers=2, cache_dir=encoded,
                                   warn=lambda line: print(f"not scored: {line}"))  # fmt: skip
        held_out.left_out_by_decoding(samples, decoded)
        samples, images = decoded.samples, decoded.images
    return embed(model, images, views=views_of(samples)), embed(model, images), samples


def print_composition(labels: np.ndarray, archives: np.ndarray, clusters: np.ndarray) -> None:
    """Each cluster's glitches counted by class and archive: does a class split by where its
    images come from (a rendering), or by how its glitches look?"""
    for k in sorted(set(clusters.tolist())):
        mine = clusters == k
        counts: dict[str, int] = {}
        for label, archive in zip(labels[mine], archives[mine], strict=True):
            counts[f"{label}/{archive}"] = counts.get(f"{label}/{archive}", 0) + 1
        parts = ", ".join(f"{key} {n}" for key, n in sorted(counts.items(), key=lambda kv: -kv[1]))
        print(f"    cluster {k} ({int(mine.sum())}): {parts}")


def knn_vote(labels: np.ndarray, vectors: np.ndarray, k: int = 5) -> float:
    """Leave-one-out k-nearest-neighbour vote (cosine on z-scored features): how far the
    features separate the classes locally, a bound on what a graph clustering can do."""
    from sklearn.preprocessing import StandardScaler

    z = unit(StandardScaler().fit_transform(vectors))
    similarity = z @ z.T
    np.fill_diagonal(similarity, -np.inf)
    right = 0
    for i, row in enumerate(np.argsort(-similarity, axis=1)[:, :k]):
        values, counts = np.unique(labels[row], return_counts=True)
        right += int(values[counts.argmax()] == labels[i])
    return right / len(labels)


def unit(vectors: np.ndarray) -> np.ndarray:
    """Rows L2-normalised: what tasks/discovery.py cluster_subjects clusters."""
    return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if "real" in args.rows:
        from ml.errors import UserError
        from ml.model import resolve_device

        try:
            resolve_device(args.device)  # no GPU where one is asked for: said now, in one line
        except UserError as exc:
            raise SystemExit(str(exc)) from None
    args.cache.mkdir(parents=True, exist_ok=True)
    # (pool, new classes, labels, features, the archive of each glitch: real pools only)
    rows: list[tuple[str, tuple[str, ...], np.ndarray, np.ndarray, np.ndarray | None]] = []
    if "sim" in args.rows:
        labels, vectors = features(pool(args), args)
        print(f"features: {args.features}")
        vectors = unit(vectors)
        hidden = np.isin(labels, (NOTA, *NEW))
        rows.append(("NOTA+3 new", NEW, labels[hidden], vectors[hidden], None))
        rows.append(("+3 confusers", NEW, labels, vectors, None))
    if "real" in args.rows:
        for name, (y, X, where) in real_pools(args).items():
            rows.append((name, tuple(sorted(args.real_left_out)), y, X, where))
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
    for name, new, y, X, where in rows:
        counts = {str(c): int((y == c).sum()) for c in np.unique(y)}
        print(f"\n{name}: {len(y)} glitches, {len(counts)} classes {counts}")
        print(f"5-NN vote (leave one out): {knn_vote(y, X):.3f}")
        for params in settings:
            result = evaluate(name, y, X, new, **params)
            if not params and where is not None:  # the default's clusters, by class and archive
                print_composition(y, where, result["clusters_found"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
