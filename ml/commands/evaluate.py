"""`python -m ml evaluate`: top-1..5, per-class metrics and confusion of a model on a folder."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from ml.commands import (
    add_data_argument,
    add_encode_arguments,
    encode_for_model,
    load,
    merged_split_glitches,
)


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", required=True, metavar="MODEL_DIR")
    add_data_argument(parser)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--plot", type=Path, metavar="PNG", help="save the confusion matrix")
    parser.add_argument("--device", default="auto", help="auto | cpu | cuda")
    add_encode_arguments(parser)


def run(args: argparse.Namespace) -> int:
    from ml.errors import UserError
    from ml.evaluate import evaluate, plot_confusion
    from ml.model import load_model, views_of

    model = load_model(args.model, device=args.device)
    labelled = [s for s in load(args.data, keep_unknown_labels=True) if s.label is not None]
    if not labelled:
        raise UserError("no labelled glitches to evaluate on")
    samples = merged_split_glitches(labelled).samples  # a glitch under two ids counts once
    images = encode_for_model(model, samples, args)
    report = evaluate(
        model,
        images,
        [str(s.label) for s in samples],  # all labelled (a merge keeps one label)
        ids=[s.id for s in samples],
        files=[s.files() for s in samples],
        views=views_of(samples),
    )
    if args.plot:
        plot_confusion(report, args.plot)
    if args.json:
        print(json.dumps(report))
        return 0
    print(
        f"n = {report['n']}  " + "  ".join(f"top{k} {report[f'top{k}']:.4f}" for k in range(1, 6))
    )
    print(f"{'class':<22} {'precision':>9} {'recall':>7} {'f1':>7} {'support':>8}")
    for label, row in report["per_class"].items():
        if row["support"]:
            print(f"{label:<22} {row['precision']:>9.3f} {row['recall']:>7.3f} "
                  f"{row['f1']:>7.3f} {row['support']:>8d}")  # fmt: skip
    if report["unknown_labels"]:
        print(f"unknown to the model (counted as errors): {', '.join(report['unknown_labels'])}")
    return 0
