"""`python -m ml embed`: pooled CNN features of every glitch of a folder, saved as .npz."""

from __future__ import annotations

import argparse
import sys
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
    parser.add_argument("--out", required=True, type=Path, metavar="FILE.npz")
    parser.add_argument("--device", default="auto", help="auto | cpu | cuda")
    add_encode_arguments(parser)


def run(args: argparse.Namespace) -> int:
    import numpy as np

    from ml.embed import embed
    from ml.files import atomic_write
    from ml.model import load_model, views_of

    model = load_model(args.model, device=args.device)
    # One glitch saved under several ids is one row, embedded from all its views, as
    # evaluate and audit count it once: two rows of one glitch are each other's nearest
    # neighbours and weigh twice in a cluster. Its other ids are kept (merged_ids, each with
    # the id of its row in merged_into), as predict keeps a row for each.
    split = merged_split_glitches(load(args.data, keep_unknown_labels=True))
    decoded = encode_for_model(model, split.samples, args)
    samples = decoded.samples  # the unreadable ones named on stderr
    vectors = embed(model, decoded.images, views=views_of(samples))
    rows = {s.id for s in samples}
    merged = [(other, ids[0]) for ids in split.merged if ids[0] in rows for other in ids[1:]]
    out = args.out if args.out.suffix == ".npz" else args.out.with_name(args.out.name + ".npz")
    atomic_write(
        out,
        lambda fh: np.savez(
            fh,
            ids=np.array([s.id for s in samples]),
            labels=np.array([s.label or "" for s in samples]),
            embeddings=vectors,
            merged_ids=np.array([other for other, _ in merged], dtype=str),
            merged_into=np.array([row for _, row in merged], dtype=str),
        ),
    )
    n = len(merged)
    also = f", {n} id{'s' * (n != 1)} merged into the same glitch's row (merged_ids)" if n else ""
    print(f"{len(samples)} embeddings of {vectors.shape[1]} dims -> {out}{also}", file=sys.stderr)
    return 0
