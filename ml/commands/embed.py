"""`python -m ml embed`: pooled CNN features of every glitch of a folder, saved as .npz."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ml.commands import add_data_argument, add_encode_arguments, encode_for_model, load


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
    samples = load(args.data, keep_unknown_labels=True)
    decoded = encode_for_model(model, samples, args)
    samples = decoded.samples  # the unreadable ones named on stderr
    vectors = embed(model, decoded.images, views=views_of(samples))
    out = args.out if args.out.suffix == ".npz" else args.out.with_name(args.out.name + ".npz")
    atomic_write(
        out,
        lambda fh: np.savez(
            fh,
            ids=np.array([s.id for s in samples]),
            labels=np.array([s.label or "" for s in samples]),
            embeddings=vectors,
        ),
    )
    print(f"{len(samples)} embeddings of {vectors.shape[1]} dims -> {out}", file=sys.stderr)
    return 0
