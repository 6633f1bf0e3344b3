"""`python -m ml audit`: rank the glitches of a labelled folder, most likely mislabelled first."""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING

import numpy as np

from ml.commands import (
    add_data_argument,
    add_encode_arguments,
    at_least,
    encode,
    encode_for_model,
    load,
    merged_split_glitches,
    warn_if_trained_on,
)
from ml.errors import UserError

if TYPE_CHECKING:
    from ml.model import LoadedModel

FROZEN_ENCODING = "rgb-durations"  # how the glitches are read without --model

# Why a model that trained on the audited glitches is no judge of their labels (said when
# it did, from its folder's list of what it trained on).
VOUCHES = (
    "its features learnt these labels and tend to vouch for them, so few suspects is no sign "
    "of clean labels: audit with a model that did not train on them, or without --model"
)


def configure(parser: argparse.ArgumentParser) -> None:
    add_data_argument(parser)
    parser.add_argument(
        "--model",
        metavar="MODEL_DIR",
        help="use this model's embeddings (default: frozen ImageNet EfficientNet-Lite0 "
        "features); not one trained on these glitches, which vouches for the labels it learnt "
        "(warned, by the ids its folder lists)",
    )
    parser.add_argument("--folds", type=at_least(2), default=5, help="k of the k-fold (default 5)")
    parser.add_argument(
        "--c", type=at_least(0.0, float, strictly=True), default=0.05,
        help="inverse L2 of the linear head",
    )  # fmt: skip
    parser.add_argument(
        "--pca", type=at_least(0), default=64, help="principal components before the head (0: off)"
    )
    parser.add_argument("--top", type=at_least(1), help="print only the N most suspect glitches")
    parser.add_argument(
        "--image-size", type=at_least(16), default=224, help="without --model (224)"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--device", default="auto", help="auto | cpu | cuda")
    parser.add_argument("--seed", type=int, default=0)
    add_encode_arguments(parser)


def run(args: argparse.Namespace) -> int:
    from ml.audit import MislabelFinder, top_k
    from ml.classes import ClassRegistry

    model = None
    if args.model:
        from ml.model import load_model

        model = load_model(args.model, device=args.device)
    # one glitch under two ids in two folds would vouch for its own label
    split = merged_split_glitches([s for s in load(args.data) if s.label is not None])
    samples = split.samples
    present = {s.label for s in samples}
    if len(present) < 2:
        raise UserError("an audit needs labelled glitches of at least 2 classes")
    seen = warn_if_trained_on(model, samples, split.merged, VOUCHES) if model else []
    features, samples = _features(samples, model, args)  # less the unreadable, named on stderr
    present = {s.label for s in samples}
    if len(present) < 2:
        raise UserError("an audit needs readable labelled glitches of at least 2 classes")
    names = [name for name in ClassRegistry().names if name in present]
    labels = [names.index(str(s.label)) for s in samples]  # all labelled (see above)
    finder = MislabelFinder(
        n_splits=args.folds, c=args.c, n_components=args.pca or None, random_state=args.seed
    )
    finder.fit(features, labels, n_classes=len(names))
    rows = finder.rows_[: args.top] if args.top else finder.rows_
    out = [
        {
            "id": samples[r.index].id,
            "label": names[r.given],
            "suggested": names[r.suggested],
            "score": round(r.score, 6),
            "is_issue": r.is_issue,
            "top3": [[n, round(p, 6)] for n, p in top_k(finder.proba_[r.index], names)],
        }
        for r in rows
    ]
    if args.json:
        n_issues = int(finder.issues_.sum())
        answer = {
            "model": model.identity() if model is not None else _frozen_features(args),
            "data": list(args.data),
            "class_names": names,
            "n_issues": n_issues,
            "suspects": out,
            "seen_in_training": seen,
        }
        print(json.dumps(answer))
        return 0
    print("# score: how likely the label is wrong (1 - cleanlab's label quality), most suspect "
          "first; *: cleanlab flags the label as an issue")  # fmt: skip
    print("# * score\tid\tlabel -> suggested")
    for row in out:
        flag = "*" if row["is_issue"] else " "
        print(f"{flag} {row['score']:.3f}\t{row['id']}\t{row['label']} -> {row['suggested']}")
    return 0


def _frozen_features(args: argparse.Namespace) -> dict[str, object]:
    """What embeds the glitches without --model: the keys of LoadedModel.identity that say
    so, and that the weights are ImageNet's."""
    from ml.backbones import DEFAULT_BACKBONE

    return {
        "backbone": DEFAULT_BACKBONE,
        "weights": "ImageNet, frozen",
        "encoding": FROZEN_ENCODING,
        "image_size": args.image_size,
    }


def _features(
    samples: list, model: LoadedModel | None, args: argparse.Namespace
) -> tuple[np.ndarray, list]:
    """The embeddings of the samples that decode (by `model`, else by frozen ImageNet
    features), and those samples."""
    import torch

    from ml.embed import embed

    if model is not None:
        from ml.model import views_of

        decoded = encode_for_model(model, samples, args)
        return embed(model, decoded.images, views=views_of(decoded.samples)), decoded.samples
    from ml.backbones import DEFAULT_BACKBONE, build_backbone
    from ml.model import resolve_device

    extractor, _ = build_backbone(DEFAULT_BACKBONE, pretrained=True)
    extractor = extractor.to(resolve_device(args.device))
    decoded = encode(
        samples, FROZEN_ENCODING, args.image_size, cache_dir=args.cache_dir, workers=args.workers
    )
    n = len(decoded.samples)
    print(f"embedding {n} glitches with frozen {DEFAULT_BACKBONE}", file=sys.stderr)
    with torch.inference_mode():
        return embed(extractor, decoded.images), decoded.samples
