"""`python -m ml predict`: class probabilities for every glitch of a folder."""

from __future__ import annotations

import argparse
import json

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
    parser.add_argument("--device", default="auto", help="auto | cpu | cuda")
    add_encode_arguments(parser)


def run(args: argparse.Namespace) -> int:
    from ml.model import load_model, predict_proba, views_of

    model = load_model(args.model, device=args.device)
    # One glitch saved under several ids is predicted once, from all its views; each of its
    # ids still gets its row, naming the others.
    split = merged_split_glitches(load(args.data, keep_unknown_labels=True))
    samples = split.samples
    ids_of = {ids[0]: ids for ids in split.merged}
    decoded = encode_for_model(model, samples, args)
    samples = decoded.samples  # the unreadable ones named on stderr, and in the JSON
    probs = predict_proba(model, decoded.images, views=views_of(samples))
    names = model.class_names
    rows = [
        {
            "id": glitch_id,
            "label": sample.label,
            "predicted": names[int(p.argmax())],
            "confidence": float(p.max()),
            "probabilities": {name: float(v) for name, v in zip(names, p, strict=True)},
            "same_glitch_as": [i for i in ids_of.get(sample.id, ()) if i != glitch_id],
        }
        for sample, p in zip(samples, probs, strict=True)
        for glitch_id in ids_of.get(sample.id, (sample.id,))
    ]
    if args.json:
        answer = {
            "model": model.identity(),
            "data": list(args.data),
            "class_names": list(names),
            "predictions": rows,
            "left_out": decoded.dropped,
        }
        print(json.dumps(answer))
        return 0
    print("# confidence: the model's probability of the class it predicts; label: the one the "
          "data give (empty: none)")  # fmt: skip
    print("# id\tpredicted\tconfidence\tlabel")
    for row in rows:
        print(f"{row['id']}\t{row['predicted']}\t{row['confidence']:.3f}\t{row['label'] or ''}")
    return 0
