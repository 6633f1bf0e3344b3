"""`python -m ml evaluate`: top-1..5, per-class metrics and confusion of a model on a folder."""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

from ml.commands import (
    add_data_argument,
    add_encode_arguments,
    encode_for_model,
    load_result,
    merged_split_glitches,
    warn_if_trained_on,
)


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", required=True, metavar="MODEL_DIR")
    add_data_argument(parser)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--plot", type=Path, metavar="PNG", help="save the confusion matrix")
    parser.add_argument("--device", default="auto", help="auto | cpu | cuda")
    add_encode_arguments(parser)


def run(args: argparse.Namespace) -> int:
    from ml.data import no_labels_message
    from ml.errors import UserError
    from ml.evaluate import evaluate, plot_confusion
    from ml.model import load_model, views_of
    from ml.train import GLITCH_IDS_FILE

    model = load_model(args.model, device=args.device)
    loaded = load_result(args.data, keep_unknown_labels=True, class_names=model.class_names)
    labelled = [s for s in loaded.samples if s.label is not None]
    if not labelled:
        raise UserError(no_labels_message(loaded, args.data))
    split = merged_split_glitches(labelled)  # a glitch under two ids counts once
    samples = split.samples
    # Said before the long part, on stderr (with --json too): each would lower or inflate
    # the score without looking wrong.
    unknown = Counter(str(s.label) for s in samples if s.label not in model.class_names)
    named = ", ".join(f"{label} ({n})" for label, n in sorted(unknown.items()))
    if unknown and sum(unknown.values()) == len(samples):
        # Every glitch an error by construction: a 0.0 report would read as a score (a folder
        # per glitch once gave one, every "class" a glitch id).
        raise UserError(
            f"none of the {len(samples)} labelled glitches has a class of this model "
            f"(labels: {named}; the model's: {', '.join(model.class_names)}): nothing to "
            "score; check the class folders' names, or --model"
        )
    if unknown:
        print(f"warning: labels that are no class of this model, counted as errors: {named}",
              file=sys.stderr)  # fmt: skip
    seen = warn_if_trained_on(model, samples, split.merged, "not a held-out score")
    # The list holds ids: the same glitch saved under another id or name (a crop, a copy, a
    # Zooniverse upload) passes it, and fingerprinting it against the training data is a
    # command of its own (ml.commands.duplicates), not a step of every evaluation.
    data = " ".join(f"--data {root}" for root in args.data)
    assert model.path is not None  # load_model sets it
    checked = (
        f"only ids were checked ({GLITCH_IDS_FILE} in its folder)"
        if (model.path.parent / GLITCH_IDS_FILE).is_file()
        else f"nothing was checked (its folder holds no {GLITCH_IDS_FILE})"
    )
    print(f"note: against what this model trained on, {checked}; the same glitch saved under "
          f"another id is found by its image with python -m ml duplicates {data} --against "
          "<training data>", file=sys.stderr)  # fmt: skip
    decoded = encode_for_model(model, samples, args)
    samples = decoded.samples
    report = evaluate(
        model,
        decoded.images,
        [str(s.label) for s in samples],  # all labelled (a merge keeps one label)
        ids=[s.id for s in samples],
        files=[s.files() for s in samples],
        views=views_of(samples),
    )
    report = {"model": model.identity(), "data": list(args.data), **report}
    report["seen_in_training"] = seen
    report["left_out"] = decoded.dropped  # not scored: a file of theirs does not decode
    # not scored either: what the loader did not read (the warnings above say why)
    report["not_read"] = {
        "files": loaded.files_left_out,
        "glitches": loaded.glitches_left_out,
        "folders": loaded.folders_left_out,
    }
    if args.plot:
        plot_confusion(report, args.plot)
    if args.json:
        print(json.dumps(report))
        return 0
    if report["unknown_labels"]:  # before the numbers it lowers, in the report itself
        counts = ", ".join(
            f"{label} ({report['per_class'][label]['support']})"
            for label in report["unknown_labels"]
        )
        print(f"counted as errors: {report['n_unknown']} of the {report['n']} glitches carry a "
              f"label that is no class of this model: {counts}")  # fmt: skip
    print(
        f"n = {report['n']}  " + "  ".join(f"top{k} {report[f'top{k}']:.4f}" for k in range(1, 6))
    )
    print(f"macro recall {report['macro_recall']:.4f}  macro F1 {report['macro_f1']:.4f}")
    print(f"{'class':<22} {'precision':>9} {'recall':>7} {'f1':>7} {'support':>8}")
    for label, row in report["per_class"].items():
        if row["support"]:
            print(f"{label:<22} {row['precision']:>9.3f} {row['recall']:>7.3f} "
                  f"{row['f1']:>7.3f} {row['support']:>8d}")  # fmt: skip
    if decoded.dropped:
        print(f"{len(decoded.dropped)} glitches left out, unreadable (above): not in these numbers")
    if (not_read := loaded.left_out_line()) is not None:
        print(f"{not_read}: not in these numbers")
    return 0
