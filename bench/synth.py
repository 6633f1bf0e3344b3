"""Benchmark: simulator throughput, glitches/s (each glitch = one Q-scan + 4 PNG windows).

    .venv/bin/python bench/synth.py [--per-class 2] [--workers 1 2] [--style full]

Runs `ml.synth.generate` over all 22 classes + the 3 new ones into a temporary folder, for
each worker count, and prints glitches/s in total and per worker (process start and the
gwpy import included, as a user would see them). Not a test.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from ml.synth import NEW_CLASS_NAMES, generate  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-class", type=int, default=2)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--style", default="full", choices=("full", "crop"))
    args = parser.parse_args()
    n = args.per_class * (22 + len(NEW_CLASS_NAMES))
    print(
        f"{n} glitches ({args.per_class}/class x 25 classes), style {args.style}, "
        f"{os.cpu_count()} cores"
    )
    for workers in args.workers:
        with tempfile.TemporaryDirectory() as tmp:
            start = time.perf_counter()
            generate(
                tmp,
                args.per_class,
                new_classes=NEW_CLASS_NAMES,
                style=args.style,
                seed=0,
                workers=workers,
            )
            wall = time.perf_counter() - start
        rate = n / wall
        print(
            f"workers={workers}: {wall:6.1f} s  {rate:5.2f} glitches/s  "
            f"{rate / workers:5.2f} glitches/s per core"
        )


if __name__ == "__main__":
    main()
