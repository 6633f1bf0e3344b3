"""Real-data benchmark: how well does a model trained the product's way classify REAL glitches?

The only real labelled set here is ../shared/data/gravityspy-real (242 glitches, 22 classes;
105 Blip, 73 Whistle, 19 Koi_Fish, 12 Power_Line, 9 Violin_Mode, 8 Scratchy and one golden
field-guide example for each of the other 16 classes). Protocol (docs/real_benchmark.md):

* Grouped k-fold: a fold holds whole glitches (every view of one glitch is one Sample, so
  its views never split). Each fold's model is trained as `ml train` trains: simulated
  glitches (ml.synth, its own seed) plus every real glitch outside the fold, with the
  TrainConfig defaults unless --set overrides them; it predicts the fold's real glitches.
* Two parts, so that what we tune on is not what we report. Every glitch of the six
  big classes goes, by a hash of its id, to `tune` (a third) or `report` (two thirds); the
  16 single-example classes are always in `report`. Choose settings with `--part tune`,
  then run `--part report` once and quote that. A report fold's training set still
  holds the tune glitches (they are ordinary training data there).
* Predictions are the product's: the view ensemble (ml.views: the glitch whole and each of
  its views alone, averaged); the same models' predictions from the whole glitch alone are
  printed beside them.
* --adabn also scores each fold's model after ml.train.adapt_batchnorm on all 242 real
  images (no labels): what re-estimating BatchNorm on a deployment's pool would give.
* --self-train T also self-trains each fold: its model labels the fold's held-out real
  glitches (their labels unused), those with top probability >= T join the training set
  as real glitches of the guessed class, and a second model is trained from scratch:
  what using a deployment's unlabelled pool this way would give (the pool is here the
  glitches scored, as a deployment labels its own pool).
* --real-backgrounds P draws that share of the simulated glitches on quiet stretches of real
  images (ml.synth.backgrounds), cut only from the OTHER part's glitches (the report part's
  when tuning, the tune part's when reporting): they sit on the training side of every fold,
  never among the glitches scored.
* --class-out (tune part): one fold per big class whose model sees no real glitch of that
  class, the golden examples' situation; with --class-keep N it sees N of them (report-part
  glitches, never scored), the situation of the 16 rare classes when the product trains on
  the whole real set and meets new real glitches of them.
* Printed: top-1, top-5, macro recall, per-class recall over the part's real glitches;
  for the single-example classes, how their only real example is classified when it is
  held out (the simulator's realism: the model saw no real glitch of that class); and
  a model trained on simulated glitches only: recall on the six big classes, and each
  fold's model averaged with it (probabilities, half each): since 2026-12-07 that average
  is what `ml train` does by default on simulated and real glitches, so it is the product's
  row (the product trains its simulated-only model on the simulations of its training
  split; here one is trained on all of them, once per run). --no-sim-only skips both.
  The JSON keeps every scored glitch's probabilities (ids, names, probabilities).

How it can mislead: the real set is small (a per-class recall of a 9-glitch class moves by
0.11 per glitch); the golden examples are the clearest glitch of each class, chosen for a
field guide, so their recall is likelier to be high than a typical glitch's; the CPU run
uses small images and few epochs (--size, --epochs) and a full GPU run can differ.

  python bench/real.py --part tune --folds 3            # CPU-sized, for choosing settings
  python bench/real.py --part report --folds 5          # the number to quote
  python bench/real.py --part report --set sampling=class --set augment_axes=xy
  python bench/real.py --part report --size 224 --epochs 10 --device cuda   # GPU-sized
  python bench/real.py --part tune --folds 3 --only-fold 1 --real-backgrounds 0.5   # quick
  python bench/real.py --part tune --class-out --class-keep 1   # a class with one real example
  python bench/real.py --part tune --sim-only-alone   # the simulator alone, one training
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import asdict, fields, replace
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from ml.data import Sample, load_samples  # noqa: E402
from ml.encoding import encode_samples  # noqa: E402
from ml.evaluate import evaluate_predictions  # noqa: E402
from ml.files import ml_source_digest  # noqa: E402
from ml.fingerprint import merge_same_glitches  # noqa: E402
from ml.model import blend, load_model, predict_proba, views_of  # noqa: E402
from ml.synth import generate  # noqa: E402
from ml.train import (  # noqa: E402
    TrainConfig,
    adapt_batchnorm,
    class_names_of,
    fit,
    pseudo_labels,
)
from ml.train_config import AUTO_SIM_ONLY_WEIGHT  # noqa: E402

REAL = REPO.parent / "shared" / "data" / "gravityspy-real"
SIM_SEED = 2026  # not the demo's seed (0) nor any test's
TUNE_SHARE = 1 / 3  # of each big class's glitches, by id hash


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--real", type=Path, default=REAL, help="labelled real glitches")
    p.add_argument("--part", choices=("tune", "report", "all"), default="report")
    p.add_argument("--folds", type=int, default=5)
    p.add_argument(
        "--only-fold",
        type=int,
        metavar="K",
        help="train and score fold K (1..folds) alone: a quick, noisier comparison; the "
        "summary covers that fold's glitches only",
    )
    add_training_options(p, size=128, epochs=4)
    p.add_argument("--seed", type=int, default=0, help="fold assignment and training seed")
    p.add_argument(
        "--sim-only",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="also a model on simulations only, and each fold's model averaged with it (half "
        "each): `ml train`'s default recipe on simulated and real glitches since 2026-12-07 "
        "(--no-sim-only: the folds' models alone, one training less)",
    )
    p.add_argument(
        "--sim-only-alone",
        action="store_true",
        help="the simulated-only model alone, no grouped CV: a quick check of the simulator",
    )
    p.add_argument("--no-real-train", action="store_true", help="folds train on sim only")
    p.add_argument(
        "--adabn",
        action="store_true",
        help="also score each fold's model after AdaBN on all real images (no labels)",
    )
    p.add_argument(
        "--class-out",
        action="store_true",
        help="tune part, one fold per big class: its model is trained on no real glitch of "
        "that class (simulations of it only), as the golden examples are scored in the "
        "report part; the recalls say how real glitches of a class without real training "
        "examples fare beside the real-rich classes",
    )
    p.add_argument(
        "--class-keep",
        type=int,
        default=0,
        metavar="N",
        help="with --class-out: N real glitches of the class (drawn from the report part, "
        "never scored here) stay in training, as the 16 rare classes have one real example "
        "each when the product trains on the whole real set",
    )
    p.add_argument(
        "--self-train",
        type=float,
        metavar="THRESHOLD",
        help="also self-train: each fold's model labels its held-out real glitches (no "
        "labels used); those at >= THRESHOLD join its training set as real; train again",
    )
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="FIELD=VALUE",
        help="override a TrainConfig field (repeatable), e.g. lr=3e-4",
    )
    p.add_argument(
        "--real-backgrounds",
        type=float,
        default=0.0,
        metavar="FRACTION",
        help="share of simulated glitches drawn on real backgrounds cut from the other part",
    )
    p.add_argument("--cache", type=Path, default=Path("/tmp/glitchlab-bench-real"))
    p.add_argument(
        "--keep-models",
        action="store_true",
        help="keep this run's trained models (CACHE/models/<recipe digest>-<random>/) after it "
        "ends; by default the folder is removed",
    )
    p.add_argument("--json", type=Path, help="also write the full result here")
    return p.parse_args()


def labelled_real(path: Path) -> list[Sample]:
    """The labelled glitches of the real set at `path`, a glitch saved under several ids made
    one (ml.fingerprint: its views share their noise), so that no split puts one glitch on
    both sides; SystemExit when it holds none."""
    real = [s for s in load_samples(path).samples if s.label]
    if not real:
        raise SystemExit(f"no labelled real glitches in {path} (--real)")
    merged, merges = merge_same_glitches(real)
    for ids in merges:
        print(f"one glitch saved as {len(ids)} ids, merged: {', '.join(ids)}")
    return merged


def archive_of(sample: Sample) -> str:
    """The archive a glitch of ../shared/data/gravityspy-real comes from (its README names
    them by id): 'zoo' (a volunteer's Zooniverse JPEGs), 'golden' (the field-guide JPEGs),
    else 'gravityspy' (the official training-set PNGs, ids H1_/L1_)."""
    for prefix in ("zoo", "golden"):
        if sample.id.startswith(prefix):
            return prefix
    return "gravityspy"


def recipe_digest(config: TrainConfig, **more: Any) -> str:
    """16 hex digits naming what a model trained here depends on: ml/'s source
    (ml.files.ml_source_digest), the TrainConfig but its device, and `more` (the simulations,
    the real training glitches, ...). A cache of trained models keyed on it is missed when
    the code or the recipe changes, not only when the arguments do."""
    recipe = {k: v for k, v in asdict(config).items() if k != "device"}
    text = json.dumps({"ml": ml_source_digest(), "config": recipe, **more}, sort_keys=True,
                      default=str)  # fmt: skip
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def run_models_dir(cache: Path, config: TrainConfig, **more: Any) -> Path:
    """This run's own folder for the models it trains, CACHE/models/<recipe digest>-<random>:
    two runs sharing a cache (in parallel, or with other code) never load each other's
    checkpoints (each fold's folder was CACHE/models/fold{k} before)."""
    parent = cache / "models"
    parent.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=f"{recipe_digest(config, **more)}-", dir=parent))


def add_training_options(p: argparse.ArgumentParser, *, size: int, epochs: int) -> None:
    """The options of how a model is trained here (config_of and simulated read them)."""
    p.add_argument("--size", type=int, default=size, help="px (the product trains at 224)")
    p.add_argument("--epochs", type=int, default=epochs)
    p.add_argument("--sim-per-class", type=int, default=40)
    p.add_argument("--sim-style", default="crop", choices=("full", "crop"))
    p.add_argument("--device", default="auto")


def config_of(args: argparse.Namespace) -> TrainConfig:
    # sim_only_weight 0: each model here is one network (`fit`); the product's average with
    # the simulated-only model (`ml train`'s default on simulated and real glitches) is its
    # own row, from one simulated-only model of the run (--sim-only, on by default).
    config = replace(
        TrainConfig(),
        image_size=args.size,
        epochs=args.epochs,
        device=args.device,
        seed=args.seed,
        sim_only_weight=0.0,
    )
    types = {f.name: type(getattr(config, f.name)) for f in fields(config)}
    for item in args.set:
        name, _, text = item.partition("=")
        if name not in types:
            raise SystemExit(f"--set {item}: TrainConfig has no field {name!r}")
        if name == "sim_only_weight":  # fit() trains no second model: it would fail late
            raise SystemExit(f"--set {item}: use --sim-only (the average is its own row)")
        kind = types[name]
        value: Any = text.lower() in ("1", "true", "yes") if kind is bool else kind(text)
        config = replace(config, **{name: value})
    return config


def part_of(sample: Sample, singles: set[str]) -> str:
    """'report' for single-example classes; else 'tune' for a third of the ids by hash."""
    if sample.label in singles:
        return "report"
    h = int.from_bytes(hashlib.sha256(sample.id.encode()).digest()[:4], "big") / 2**32
    return "tune" if h < TUNE_SHARE else "report"


def assign_folds(samples: list[Sample], folds: int, seed: int) -> np.ndarray:
    """Fold of each sample: per class, shuffled and dealt round-robin (stratified). One
    Sample is one whole glitch, so a glitch's views are always in one fold."""
    rng = np.random.default_rng(seed)
    fold = np.zeros(len(samples), dtype=np.int64)
    by_class: dict[str, list[int]] = defaultdict(list)
    for i, s in enumerate(samples):
        by_class[str(s.label)].append(i)
    start = 0
    for label in sorted(by_class):
        members = np.array(by_class[label])
        rng.shuffle(members)
        for j, i in enumerate(members):
            fold[i] = (start + j) % folds
        start += len(members)  # spread the single-example classes over the folds
    return fold


def simulated(args: argparse.Namespace, donors: list[Sample]) -> list[Sample]:
    """The simulated training glitches; with --real-backgrounds, drawn partly on backgrounds of
    `donors` (real glitches never scored in this run)."""
    out = args.cache / f"sim-{args.sim_style}-{args.sim_per_class}-{SIM_SEED}"
    bank = None
    if args.real_backgrounds > 0:
        from ml.synth.backgrounds import bank_from_samples

        bank = bank_from_samples(donors)
        out = out.with_name(f"{out.name}-bg{args.real_backgrounds:g}-from-{len(donors)}")
        print(f"real backgrounds from {len(bank.donors())} of {len(donors)} real glitches "
              f"outside the {args.part} part")  # fmt: skip
    generate(
        out,
        args.sim_per_class,
        style=args.sim_style,
        seed=SIM_SEED,
        progress=False,
        real_backgrounds=bank,
        real_background_fraction=args.real_backgrounds,
    )
    return load_samples(out).samples


def train_predict(
    config: TrainConfig,
    train_images: np.ndarray,
    train_samples: list[Sample],
    train_sources: list[str],
    test_images: np.ndarray,
    test_samples: list[Sample],
    names: list[str],
    out: Path,
    pool_images: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, float]:
    """Fit on the training set; (probabilities of the test images over `names` as the
    product predicts them (the view ensemble), the same from the whole glitch alone, the
    ensemble's after AdaBN on pool_images when given, seconds)."""
    started = time.perf_counter()
    labels = [str(s.label) for s in train_samples]
    fit(train_images, labels, None, None, config, out, class_names=names, sources=train_sources)
    model = load_model(out, device=config.device)
    views = views_of(test_samples)
    probs = predict_proba(model, test_images, batch_size=config.eval_batch_size, views=views)
    whole = predict_proba(model, test_images, batch_size=config.eval_batch_size)
    adapted = None
    if pool_images is not None:
        adapt_batchnorm(model, pool_images)
        adapted = predict_proba(model, test_images, batch_size=config.eval_batch_size, views=views)
    return probs, whole, adapted, time.perf_counter() - started


def summarise(
    report: dict[str, Any], samples: list[Sample], singles: set[str], *, by_archive: bool = False
) -> dict[str, Any]:
    """The scores of `report` (ml.evaluate) over `samples`; with `by_archive`, each class's
    recall in each archive of the real set (archive_of) as well."""
    per_class = report["per_class"]
    recalls = {c: per_class[c]["recall"] for c in per_class if per_class[c]["support"] > 0}
    wrong = {m["id"]: m["predicted"] for m in report["misclassified"]}
    single_rows = {s.label: wrong.get(s.id, s.label) for s in samples if s.label in singles}
    extra = {"recall_by_archive": recall_by_archive(samples, set(wrong))} if by_archive else {}
    return {
        **extra,
        "n": report["n"],
        "top1": report["top1"],
        "top5": report["top5"],
        "macro_recall": float(np.mean(list(recalls.values()))),
        "recall": recalls,
        "support": {c: per_class[c]["support"] for c in recalls},  # glitches of each class
        "singles_right": sum(1 for c, p in single_rows.items() if c == p),
        "singles": single_rows,
        # where the wrong ones went, most common first, and each wrong glitch
        "confused": dict(
            Counter(
                f"{m['true']} -> {m['predicted']}" for m in report["misclassified"]
            ).most_common()
        ),
        "wrong": [
            {k: m[k] for k in ("id", "true", "predicted", "confidence")}
            for m in report["misclassified"]
        ],
    }


def recall_by_archive(samples: list[Sample], wrong: set[str]) -> dict[str, dict[str, list[int]]]:
    """{class: {archive: [right, glitches]}} for each class with more than one glitch in
    `samples` (`wrong`: the ids predicted wrong). Some classes come from one archive only
    (Koi_Fish, Power_Line, Violin_Mode: Zooniverse; Scratchy: Gravity Spy's PNGs), so a
    class's recall can be an archive's."""
    counts = Counter(str(s.label) for s in samples)
    out: dict[str, dict[str, list[int]]] = defaultdict(dict)
    for s in samples:
        if counts[str(s.label)] > 1:
            cell = out[str(s.label)].setdefault(archive_of(s), [0, 0])
            cell[0] += s.id not in wrong
            cell[1] += 1
    return {c: dict(sorted(by.items())) for c, by in sorted(out.items())}


def main() -> None:
    args = parse_args()
    if args.sim_only_alone:
        about_cv = {"--class-out": args.class_out, "--only-fold": args.only_fold is not None,
                    "--adabn": args.adabn, "--self-train": args.self_train is not None}  # fmt: skip
        if clash := [flag for flag, given in about_cv.items() if given]:
            raise SystemExit(f"--sim-only-alone runs no grouped CV: drop {', '.join(clash)}")
        args.sim_only = True
    config = config_of(args)
    args.cache.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    real = labelled_real(args.real)
    counts = Counter(s.label for s in real)
    singles = {c for c, n in counts.items() if n == 1}
    if args.real_backgrounds > 0 and args.part == "all":
        raise SystemExit("--real-backgrounds needs --part tune or report (backgrounds come "
                         "from the other part)")  # fmt: skip
    donors = [s for s in real if part_of(s, singles) != args.part]
    sim = simulated(args, donors)
    encode_cache = args.cache / "encoded"
    real_images = encode_samples(real, config.encoding, args.size, cache_dir=encode_cache)
    sim_images = encode_samples(sim, config.encoding, args.size, cache_dir=encode_cache)
    print(
        f"{len(real)} real glitches ({len(singles)} single-example classes), {len(sim)} "
        f"simulated; data ready in {time.perf_counter() - t0:.0f} s"
    )
    print("config:", json.dumps({k: v for k, v in asdict(config).items() if k != "weights_path"}))

    # Every fold trains on the same classes (the simulator draws all 22), in one order.
    names = class_names_of([str(s.label) for s in sim + real])
    parts = np.array([part_of(s, singles) for s in real])
    tested = np.flatnonzero(parts == args.part) if args.part != "all" else np.arange(len(real))
    big = sorted(c for c, n in counts.items() if n > 1)
    if args.class_out:  # one fold per big class, and none of its real glitches trains
        if args.part != "tune":
            raise SystemExit("--class-out scores the tune part (the report part has the golden "
                             "examples for this)")  # fmt: skip
        args.folds = len(big)
        fold_of = np.array([big.index(str(real[i].label)) for i in tested])
    elif args.class_keep:
        raise SystemExit("--class-keep goes with --class-out")
    else:
        fold_of = assign_folds([real[i] for i in tested], args.folds, args.seed)
    if args.only_fold is not None:
        if not 1 <= args.only_fold <= args.folds:
            raise SystemExit(f"--only-fold must be between 1 and {args.folds}")
        keep = fold_of == args.only_fold - 1
        tested, fold_of = tested[keep], fold_of[keep]
    probs = np.zeros((len(tested), len(names)))
    whole = np.zeros_like(probs)
    adapted = np.zeros_like(probs)
    selfed = np.zeros_like(probs)
    pool = real_images if args.adabn else None
    models = run_models_dir(args.cache, config, sim=[args.sim_per_class, args.sim_style, SIM_SEED,
                            args.real_backgrounds], real=str(args.real))  # fmt: skip
    print(f"models: {models}")
    for k in range(0 if args.sim_only_alone else args.folds):
        rows = np.flatnonzero(fold_of == k)
        if rows.size == 0:  # --only-fold
            continue
        held = set(tested[rows].tolist())
        if args.class_out:
            of_class = [i for i, s in enumerate(real) if s.label == big[k]]
            spare = [i for i in of_class if parts[i] != "tune"]  # report part: not scored here
            draw = np.random.default_rng(args.seed + k)
            kept = draw.choice(spare, size=min(args.class_keep, len(spare)), replace=False)
            held |= set(of_class) - {int(i) for i in kept}
        train_real = [] if args.no_real_train else [i for i in range(len(real)) if i not in held]
        train_samples = sim + [real[i] for i in train_real]
        probs[rows], whole[rows], fold_adapted, seconds = train_predict(
            config,
            np.concatenate([sim_images, real_images[train_real]]),
            train_samples,
            ["sim"] * len(sim) + ["real"] * len(train_real),
            real_images[tested[rows]],
            [real[i] for i in tested[rows]],
            names,
            models / f"fold{k}",
            pool,
        )
        if fold_adapted is not None:
            adapted[rows] = fold_adapted
        if args.self_train:
            chosen, guessed = pseudo_labels(probs[rows], names, args.self_train)
            pseudo = tested[rows][chosen]
            right_guesses = sum(real[i].label == g for i, g in zip(pseudo, guessed, strict=True))
            selfed[rows], _, _, more = train_predict(
                config,
                np.concatenate([sim_images, real_images[train_real], real_images[pseudo]]),
                train_samples
                + [replace(real[i], label=g) for i, g in zip(pseudo, guessed, strict=True)],
                ["sim"] * len(sim) + ["real"] * (len(train_real) + len(pseudo)),
                real_images[tested[rows]],
                [real[i] for i in tested[rows]],
                names,
                models / f"fold{k}-self",
            )
            print(f"  self-training: {len(pseudo)} pseudo-labels ({right_guesses} right), "
                  f"{more:.0f} s")  # fmt: skip
        right = np.mean(
            [
                names[j] == real[i].label
                for j, i in zip(probs[rows].argmax(1), tested[rows], strict=True)
            ]
        )
        print(f"fold {k + 1}/{args.folds}: {len(rows)} real test glitches, {len(train_samples)} "
              f"training ({len(train_real)} real), top-1 {right:.3f}, {seconds:.0f} s")  # fmt: skip
    test_samples = [real[i] for i in tested]
    truth = [str(s.label) for s in test_samples]
    ids = [s.id for s in test_samples]
    result: dict[str, Any] = {
        "part": args.part,
        "folds": 0 if args.sim_only_alone else args.folds,
        "only_fold": args.only_fold,
        "config": asdict(config),
        "sim": {
            "per_class": args.sim_per_class,
            "style": args.sim_style,
            "seed": SIM_SEED,
            "real_backgrounds": args.real_backgrounds,
        },
        "ids": ids,
        "truth": truth,  # each scored glitch's label, rows follow ids
        "names": names,
        "probabilities": {},  # every scored glitch's, per model: rows follow ids, columns names
    }

    def scored(p: np.ndarray) -> dict[str, Any]:
        report = evaluate_predictions(p, truth, names, ids=ids)
        return summarise(report, test_samples, singles, by_archive=True)

    if not args.sim_only_alone:
        result["probabilities"]["cv"] = np.round(probs, 5).tolist()
        result["cv"] = scored(probs)
        result["cv_whole_glitch"] = scored(whole)
        print_summary("grouped CV, sim + real training, each fold's model alone", result["cv"])
        print_summary(
            "the same models, the whole glitch alone (no view ensemble)", result["cv_whole_glitch"]
        )
        result["probabilities"]["cv_whole_glitch"] = np.round(whole, 5).tolist()
    if args.adabn:
        result["cv_adabn"] = scored(adapted)
        print_summary("the same models after AdaBN on the real images", result["cv_adabn"])

    if args.self_train:
        result["cv_self_train"] = scored(selfed)
        print_summary(
            f"self-trained on pseudo-labels >= {args.self_train}", result["cv_self_train"]
        )

    if args.sim_only:
        sim_probs, _, _, seconds = train_predict(
            config, sim_images, sim, ["sim"] * len(sim), real_images[tested], test_samples,
            names, models / "sim-only",
        )  # fmt: skip
        summary = scored(sim_probs)
        big = [c for c in summary["recall"] if counts[c] > 1]
        summary["big_class_mean_recall"] = float(np.mean([summary["recall"][c] for c in big]))
        result["sim_only"] = summary
        print_summary(f"simulated-only model ({seconds:.0f} s)", summary)
        print(
            f"  mean recall over the {len(big)} big classes: {summary['big_class_mean_recall']:.3f}"
        )
        if not args.sim_only_alone:  # each fold's model and the simulated-only one, averaged
            both = blend(probs, sim_probs, AUTO_SIM_ONLY_WEIGHT)
            result["cv_with_sim_only"] = scored(both)
            print_summary(
                "each fold's model averaged with the simulated-only model (ml train's default)",
                result["cv_with_sim_only"],
            )
        result["probabilities"]["sim_only"] = np.round(sim_probs, 5).tolist()
    if not args.keep_models:
        shutil.rmtree(models, ignore_errors=True)
    print(f"total {time.perf_counter() - t0:.0f} s")
    if args.json:
        args.json.write_text(json.dumps(result, indent=1, default=str))


def print_summary(title: str, s: dict[str, Any]) -> None:
    print(f"\n== {title}: {s['n']} real glitches")
    print(f"top-1 {s['top1']:.3f}  top-5 {s['top5']:.3f}  macro recall {s['macro_recall']:.3f}")
    for c, r in sorted(s["recall"].items(), key=lambda kv: kv[1]):
        # beside its count: a recall of 0.00 on one glitch is not one on five
        print(f"  {c:<22} recall {r:.2f} of {s['support'][c]:>3} glitches")
    if by := s.get("recall_by_archive"):  # the archive/class tangle, in plain sight
        print("recall by archive (zoo: Zooniverse JPEGs, gravityspy: H1_/L1_ PNGs, golden):")
        for c, cells in by.items():
            said = ", ".join(f"{a} {r / n:.2f} of {n}" for a, (r, n) in cells.items())
            print(f"  {c:<22} {said}")
    if s["confused"]:
        print("errors: " + ", ".join(f"{pair} {n}" for pair, n in s["confused"].items()))
    if s["singles"]:
        print(f"single-example classes right with their example held out: "
              f"{s['singles_right']} of {len(s['singles'])}")  # fmt: skip
        for c, p in sorted(s["singles"].items()):
            print(f"  {c:<22} -> {p}{'' if c == p else '  (wrong)'}")


if __name__ == "__main__":
    main()
