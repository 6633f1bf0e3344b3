"""Held-out real glitches: how the product's model classifies real glitches nothing here chose.

For a labelled set of real glitches kept apart from everything GlitchLab was tuned on (the
issue's owners hold 69, all 22 classes). One model is trained as `ml train` trains it:
simulated glitches (bench/real.py's: ml.synth, seed 2026) plus every labelled glitch of
--real; a second on the simulated glitches alone. Each classifies the held-out glitches
(the product's view ensemble), and so do the two averaged (probabilities, half each: the
candidate of docs/real_benchmark.md that was seen to help on the report part at GPU size
and failed its CPU-size rule). Printed for each: top-1, top-5, macro recall, per-class
recall, and the same over the held-out glitches of the rare classes (those with at most
--rare real examples in --real: the golden examples' situation).

  python bench/heldout.py --heldout DIR --device cuda          # the product's size, 224 px
  python bench/heldout.py --heldout DIR --size 128 --epochs 4  # bench/real.py's CPU size

DIR holds `<label>/<id>_<duration>.<ext>` as ml.data reads it (crops of the plot area or
whole plots). A held-out glitch that --real also holds (the same id, or a byte-identical
file, or the same glitch saved otherwise: cropped, re-encoded or another of its durations,
found by its noise with ml.fingerprint) is refused: it would score a glitch the model
trained on. One glitch that DIR holds under several ids (a duration per id, say) is scored
once, from all its views.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.real import (  # noqa: E402
    REAL,
    add_training_options,
    config_of,
    labelled_real,
    print_summary,
    simulated,
    summarise,
    train_predict,
)
from ml.data import Sample, load_samples  # noqa: E402
from ml.encoding import encode_decodable, encode_samples  # noqa: E402
from ml.evaluate import evaluate_predictions  # noqa: E402
from ml.fingerprint import matches, merge_same_glitches  # noqa: E402
from ml.train import class_names_of  # noqa: E402


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--heldout", type=Path, required=True, help="labelled real glitches to score")
    p.add_argument("--real", type=Path, default=REAL, help="labelled real glitches to train on")
    p.add_argument("--rare", type=int, default=1, help="a class with <= this many --real is rare")
    add_training_options(p, size=224, epochs=10)  # the product's size
    p.add_argument("--seed", type=int, default=0, help="training seed")
    p.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE",
                   help="override a TrainConfig field (repeatable)")  # fmt: skip
    p.add_argument("--cache", type=Path, default=Path("/tmp/glitchlab-bench-heldout"))
    p.add_argument("--json", type=Path, help="also write the full result here")
    args = p.parse_args(argv)
    args.real_backgrounds, args.part = 0.0, "all"  # what bench/real.py's helpers read
    return args


def _seen_in(held: list[Sample], real: list[Sample]) -> set[str]:
    """Ids of held-out glitches that --real also holds: the same id, a byte-identical file
    under another name, or a view of the same glitch saved otherwise (cropped, re-encoded, or
    another duration: ml.fingerprint)."""

    def digest(path: Path) -> str:
        return hashlib.sha256(path.read_bytes()).hexdigest()

    real_files = {digest(Path(f)) for s in real for f in s.files()}
    real_ids = {s.id for s in real}
    seen = {
        s.id
        for s in held
        if s.id in real_ids or any(digest(Path(f)) in real_files for f in s.files())
    }
    unseen = [s for s in held if s.id not in seen]
    held_ids = {s.id for s in unseen}
    for m in matches(unseen, against=real):  # held-out against real pairs only
        seen.add(m.a if m.a in held_ids else m.b)
    return seen


def load_heldout(path: Path, real: list[Sample], real_path: Path) -> list[Sample]:
    """The labelled glitches under `path`, a glitch saved under several ids made one (as
    bench/real.py's labelled_real does); SystemExit when there are none, or when any of them
    is also in `real` (loaded from `real_path`): a model trained on it would score it."""
    loaded = load_samples(path)
    for problem in loaded.problems:
        print(f"skipped: {problem}")
    held = [s for s in loaded.samples if s.label]
    if not held:
        raise SystemExit(f"no labelled glitches in {path}")
    held, merges = merge_same_glitches(held)
    for ids in merges:
        print(f"one held-out glitch saved as {len(ids)} ids, merged: {', '.join(ids)}")
    if shared := sorted(_seen_in(held, real)):
        raise SystemExit(
            f"{len(shared)} held-out glitches are also in {real_path} (e.g. {shared[0]}): "
            "they would be scored by a model trained on them"
        )
    return held


def scores(probs: np.ndarray, samples: list[Sample], names: list[str]) -> dict[str, Any]:
    """bench/real.py's summary (top-1, top-5, macro and per-class recall, errors) of `probs`."""
    truth = [str(s.label) for s in samples]
    report = evaluate_predictions(probs, truth, names, ids=[s.id for s in samples])
    return summarise(report, samples, set())


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    config = config_of(args)
    args.cache.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    real = labelled_real(args.real)
    held = load_heldout(args.heldout, real, args.real)
    sim = simulated(args, [])
    names = class_names_of([str(s.label) for s in sim + real])
    if unknown := sorted({str(s.label) for s in held} - set(names)):
        raise SystemExit(f"held-out classes the models cannot output: {', '.join(unknown)}")
    cache = args.cache / "encoded"
    real_images = encode_samples(real, config.encoding, args.size, cache_dir=cache)
    sim_images = encode_samples(sim, config.encoding, args.size, cache_dir=cache)
    # A held-out glitch whose file does not decode is left out, named, and counted in the
    # result's "left_out" (one odd file stopped the whole check before): the scores below
    # are over the rest, which is said beside them.
    decoded = encode_decodable(
        held,
        config.encoding,
        args.size,
        cache_dir=cache,
        warn=lambda line: print(f"warning: {line}"),
    )
    held, held_images = decoded.samples, decoded.images
    counts = Counter(str(s.label) for s in real)
    rare = [i for i, s in enumerate(held) if counts[str(s.label)] <= args.rare]
    if decoded.dropped:
        print(f"{len(decoded.dropped)} held-out glitches left out, unreadable (above)")
    print(
        f"{len(held)} held-out glitches ({len(rare)} of rare classes), {len(real)} real and "
        f"{len(sim)} simulated training glitches; data ready in {time.perf_counter() - t0:.0f} s"
    )

    models = args.cache / "models" / f"s{args.seed}-{args.size}px-{args.epochs}ep"
    both, _, _, seconds = train_predict(
        config, np.concatenate([sim_images, real_images]), sim + real,
        ["sim"] * len(sim) + ["real"] * len(real), held_images, held, names, models / "main",
    )  # fmt: skip
    print(f"simulated + real model: {seconds:.0f} s")
    alone, _, _, seconds = train_predict(
        config, sim_images, sim, ["sim"] * len(sim), held_images, held, names, models / "sim-only"
    )
    print(f"simulated-only model: {seconds:.0f} s")
    result: dict[str, Any] = {"heldout": str(args.heldout), "seed": args.seed,
                              "size": args.size, "epochs": args.epochs,
                              "left_out": decoded.dropped}  # fmt: skip
    rows = {
        "simulated + real (the product)": both,
        "simulated only": alone,
        "the two averaged": (both + alone) / 2,
    }
    for title, probs in rows.items():
        row = scores(probs, held, names)
        if rare:
            row["rare"] = scores(probs[rare], [held[i] for i in rare], names)
        result[title] = row
        print_summary(title, row)
        if rare:
            r = row["rare"]
            print(f"rare classes (<= {args.rare} real): {r['n']} glitches, top-1 {r['top1']:.3f}")
    result["ids"], result["names"] = [s.id for s in held], names
    result["probabilities"] = {k: np.round(v, 5).tolist() for k, v in rows.items()}
    if args.json:
        args.json.write_text(json.dumps(result, indent=1, default=str))
    return result


if __name__ == "__main__":
    main()
