"""`python -m ml synth`: simulate labelled glitches and write them as Gravity Spy Omega scans."""

from __future__ import annotations

import argparse
import sys
import time

from ml.synth.backgrounds import bank_from_folder
from ml.synth.generate import generate
from ml.synth.render import STYLES


def _names(text: str | None) -> list[str] | None:
    if text is None:
        return None
    return [name.strip() for name in text.split(",") if name.strip()]


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", required=True, help="output folder (OUT/<label>/..., manifest)")
    parser.add_argument("--per-class", type=int, required=True, help="glitches per class")
    parser.add_argument("--classes", help="comma-separated classes (default: all 22)")
    parser.add_argument(
        "--new-classes", help="comma-separated classes outside the 22, e.g. Reverse_Chirp"
    )
    parser.add_argument("--style", default="full", choices=STYLES, help="full 800x600 or crop")
    parser.add_argument("--seed", type=int, default=0, help="run seed (same seed, same bytes)")
    parser.add_argument("--workers", type=int, default=None, help="processes (default: cores)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.add_argument(
        "--real-backgrounds",
        metavar="DIR",
        help="folder of real glitch images (<label>/<id>_<duration>.png|jpg): draw glitches on "
        "quiet stretches cut from them instead of simulated noise",
    )
    parser.add_argument(
        "--real-background-fraction",
        type=float,
        default=0.5,
        help="share of glitches drawn on a real background (with --real-backgrounds; default 0.5)",
    )


def run(args: argparse.Namespace) -> int:
    start = time.perf_counter()
    bank = None
    if args.real_backgrounds:
        bank = bank_from_folder(args.real_backgrounds)
        for problem in bank.problems:
            print(f"warning: skipped {problem}", file=sys.stderr)
    manifest = generate(
        args.out,
        args.per_class,
        classes=_names(args.classes),
        new_classes=_names(args.new_classes),
        style=args.style,
        seed=args.seed,
        workers=args.workers,
        progress=not args.quiet,
        real_backgrounds=bank,
        real_background_fraction=args.real_background_fraction,
    )
    print(f"wrote {manifest} in {time.perf_counter() - start:.1f} s")
    return 0
