"""Average bench/real.py's fold models with its simulated-only model, from their JSON files.

`bench/real.py --sim-only` trains both and prints the average in one run. At the product's
size on a CPU that run is longer than a session (docs/real_benchmark.md, "Condition (a)"),
so it is run in pieces: the simulated-only model once (`--sim-only-alone --json SIM`), and
the folds alone (`--only-fold K --json FOLD_K`), with the same --part, size, epochs and seed.
This script joins the pieces by glitch id and prints, over the glitches the folds scored,
each fold's model, the simulated-only model and the two averaged at `ml train`'s default
weight (ml.train_config.AUTO_SIM_ONLY_WEIGHT), with the mean recall over the classes scored
(the class-out folds' measure); then top-1 and mean recall at each weight of --weights
(0: the fold models alone, 1: the simulated-only model alone), from the same probabilities,
nothing trained again (docs/real_benchmark.md, "The average's weight").

    python bench/real_average.py /tmp/sim.json /tmp/fold1.json /tmp/fold6.json [--json OUT]
    python bench/real_average.py sim.json folds.json --weights 0,0.5,0.7,1
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.real import print_summary, summarise  # noqa: E402
from ml.data import Sample  # noqa: E402
from ml.evaluate import evaluate_predictions  # noqa: E402
from ml.model import blend  # noqa: E402
from ml.train_config import AUTO_SIM_ONLY_WEIGHT  # noqa: E402

# What must agree between the pieces for their probabilities to be comparable.
SAME = ("part", "config", "sim", "names")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("sim_only", type=Path, help="JSON of bench/real.py --sim-only-alone")
    p.add_argument("folds", type=Path, nargs="+", help="JSONs of bench/real.py --only-fold K")
    p.add_argument(
        "--weights",
        type=weights_list,
        default=DEFAULT_WEIGHTS,
        help="comma-separated weights of the simulated-only model to score the blend at "
        f"(default {','.join(f'{w:g}' for w in DEFAULT_WEIGHTS)})",
    )
    p.add_argument("--json", type=Path, help="also write the summaries here")
    return p.parse_args(argv)


DEFAULT_WEIGHTS = (0.0, 0.25, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)


def weights_list(text: str) -> tuple[float, ...]:
    """'0,0.5,1' -> (0.0, 0.5, 1.0); argparse's error for anything else."""
    try:
        weights = tuple(float(w) for w in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not comma-separated numbers: {text!r}") from None
    if bad := [w for w in weights if not 0 <= w <= 1]:
        raise argparse.ArgumentTypeError(f"a weight is in [0, 1], not {bad[0]:g}")
    return weights


def load(path: Path) -> dict[str, Any]:
    try:
        return dict(json.loads(path.read_text()))
    except (OSError, ValueError) as exc:
        raise SystemExit(f"{path}: not a bench/real.py JSON ({exc})") from None


def settings_of(piece: dict[str, Any], key: str) -> Any:
    """piece[key]; a config with TrainConfig's defaults for the fields it lacks (a field
    added to the code between two pieces, at its default, trains the same recipe). Every
    piece's models are one network each (bench/real.py trains with `fit`): a piece without
    sim_only_weight is one at 0, whatever `ml train`'s default."""
    from dataclasses import asdict

    from ml.train import TrainConfig

    if key != "config":
        return piece.get(key)
    return {**asdict(TrainConfig(sim_only_weight=0.0)), **piece.get("config", {})}


def joined(
    sim: dict[str, Any], folds: list[dict[str, Any]]
) -> tuple[list[str], np.ndarray, np.ndarray]:
    """(ids, fold probabilities, simulated-only probabilities), rows in the folds' order.
    SystemExit when the pieces were run with different settings, when a fold JSON has no
    fold probabilities, when two folds scored one glitch, or when the simulated-only model
    did not score a glitch that a fold did."""
    for i, fold in enumerate(folds):
        if differ := [k for k in SAME if settings_of(fold, k) != settings_of(sim, k)]:
            raise SystemExit(f"fold file {i + 1} was run with other settings: {', '.join(differ)}")
        if "cv" not in fold.get("probabilities", {}) or "truth" not in fold:
            raise SystemExit(f"fold file {i + 1} holds no fold model (was it --sim-only-alone?)")
    if "sim_only" not in sim.get("probabilities", {}):
        raise SystemExit("the first file holds no simulated-only model (run --sim-only-alone)")
    ids = [g for fold in folds for g in fold["ids"]]
    if twice := [g for g, n in Counter(ids).items() if n > 1]:
        raise SystemExit(f"scored by two fold files: {', '.join(sorted(twice)[:5])}")
    sim_rows = {g: row for g, row in zip(sim["ids"], sim["probabilities"]["sim_only"], strict=True)}
    if missing := [g for g in ids if g not in sim_rows]:
        raise SystemExit(f"the simulated-only model did not score: {', '.join(missing[:5])}")
    cv = np.array([row for fold in folds for row in fold["probabilities"]["cv"]])
    return ids, cv, np.array([sim_rows[g] for g in ids])


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    sim = load(args.sim_only)
    folds = [load(p) for p in args.folds]
    ids, cv, sim_probs = joined(sim, folds)
    truth = [t for fold in folds for t in fold["truth"]]
    names = list(sim["names"])
    # summarise() reads labels and ids only; no single-example class is scored on a tune part
    samples = [Sample(g, t, {}) for g, t in zip(ids, truth, strict=True)]

    def scored(weight: float) -> dict[str, Any]:
        probs = blend(cv, sim_probs, weight)
        return summarise(evaluate_predictions(probs, truth, names, ids=ids), samples, set())

    result: dict[str, Any] = {"n": len(ids), "fold_files": [str(p) for p in args.folds]}
    for key, title, weight in (
        ("cv", "each fold's model", 0.0),
        ("sim_only", "the simulated-only model", 1.0),
        ("cv_with_sim_only", "each fold's model averaged with the simulated-only model "
         f"(weight {AUTO_SIM_ONLY_WEIGHT:g}, ml train's default)", AUTO_SIM_ONLY_WEIGHT),
    ):  # fmt: skip
        result[key] = scored(weight)
        print_summary(title, result[key])
    folds_recall = result["cv"]["macro_recall"]
    averaged_recall = result["cv_with_sim_only"]["macro_recall"]
    result["average_minus_folds_macro_recall"] = averaged_recall - folds_recall
    print(f"\nmean recall over the {len(set(truth))} classes scored: folds {folds_recall:.3f}, "
          f"averaged {averaged_recall:.3f} ({averaged_recall - folds_recall:+.3f})")  # fmt: skip
    result["by_weight"] = by_weight = []
    print("\nweight of the simulated-only model: top-1, mean recall over the classes scored")
    for weight in args.weights:
        summary = scored(weight)
        by_weight.append({"weight": weight, "top1": summary["top1"],
                          "macro_recall": summary["macro_recall"]})  # fmt: skip
        print(f"  {weight:4.2f}  {summary['top1']:.3f}  {summary['macro_recall']:.3f}")
    if args.json:
        args.json.write_text(json.dumps(result, indent=1))
    return result


if __name__ == "__main__":
    main()
