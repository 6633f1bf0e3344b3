"""Benchmark: decode + crop + encode throughput (img/s) of ml.encoding on the real Gravity Spy set.

    .venv/bin/python bench/decode.py [--root DIR] [--encoding rgb-durations] [--size 224]
                                     [--workers 1 N ...] [--repeat 1]

Prints, per worker count, images decoded per second (each file the encoding reads is decoded
once, cropped, converted and resized) and samples encoded per second, with no cache, process
start included; then the cost of a cache hit. Not a test. --repeat N runs N passes over the
data in one call (more work per process start, for machines with many cores).
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from ml.data import load_samples  # noqa: E402
from ml.encoding import DEFAULT_ENCODING, ENCODINGS, encode_samples, files_read  # noqa: E402

DEFAULT_ROOT = REPO.parent / "shared/data/gravityspy-real"


def _pil_only(job: tuple[Path, int]) -> int:
    """The floor: decode + resize with PIL alone (no frame search, no viridis inversion)."""
    path, size = job
    with Image.open(path) as image:
        return image.convert("RGB").resize((size, size), Image.Resampling.BILINEAR).width


def _pil_only_rate(paths: list[Path], size: int, workers: int) -> float:
    jobs = [(path, size) for path in paths]
    start = time.perf_counter()
    if workers == 1:
        list(map(_pil_only, jobs))
    else:
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(workers, mp_context=context) as pool:
            list(pool.map(_pil_only, jobs, chunksize=8))
    return len(jobs) / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=DEFAULT_ROOT)
    parser.add_argument("--encoding", choices=ENCODINGS, default=DEFAULT_ENCODING)
    parser.add_argument("--size", type=int, default=224)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, os.cpu_count() or 1])
    parser.add_argument("--repeat", type=int, default=1, help="passes over the data per count")
    args = parser.parse_args()

    loaded = load_samples(args.root)
    samples = loaded.samples * args.repeat
    paths = [path for s in samples for path in files_read(s, args.encoding)]
    print(
        f"{len(loaded.samples)} samples in {args.root}; encoding={args.encoding} "
        f"size={args.size} repeat={args.repeat}: {len(paths)} image decodes; "
        f"cpu_count={os.cpu_count()}"
    )
    with tempfile.TemporaryDirectory() as cache_dir:
        for workers in args.workers:
            last = workers == args.workers[-1]
            start = time.perf_counter()
            encode_samples(
                samples,
                args.encoding,
                args.size,
                workers=workers,
                cache_dir=Path(cache_dir) if last else None,  # the last run fills the cache
            )
            seconds = time.perf_counter() - start
            print(
                f"workers={workers:3d}: {len(paths) / seconds:7.1f} img/s "
                f"{len(samples) / seconds:7.1f} samples/s ({seconds:.1f} s, incl. process "
                f"start); PIL decode+resize alone: "
                f"{_pil_only_rate(paths, args.size, workers):7.1f} img/s"
            )

        start = time.perf_counter()
        array = encode_samples(samples, args.encoding, args.size, cache_dir=Path(cache_dir))
        total = int(array.sum(dtype=np.uint64))  # touch every byte of the memory map
        seconds = time.perf_counter() - start
        print(
            f"cache hit: {len(samples) / seconds:7.0f} samples/s ({seconds * 1000:.0f} ms, "
            f"{array.nbytes / 2**20:.0f} MiB, checksum {total})"
        )


if __name__ == "__main__":
    main()
