"""How well ml.fingerprint tells the same glitch from another, on real and simulated glitches.

    .venv/bin/python bench/fingerprint.py [--real ../shared/data/gravityspy-real] [--copies 60]
                                          [--sim DIR | --sim-per-class 40]

Prints the views of different ids that show one glitch in the real set (merged before what
follows), then, for each duration ratio (1: the same duration; 2, 4, 8: a view against the
middle of its glitch's view that many times longer), the lowest similarity between two
views of one glitch and the highest between views of two different glitches, in the real
set and in a simulated one (the simulator's views of one glitch share their noise, as real
Omega scans do; 40 of each class by default, the bench/real.py simulations, made in a
temporary folder unless --sim names them), beside the threshold ml.fingerprint.SAME_GLITCH
uses. For ratio 1 the real "same glitch" pairs are `--copies` views re-saved as another
archive would (cropped to the plot area, shrunk to 600x450, JPEG quality 70). Then the time
taken per fingerprint. A threshold is sound where the "same" numbers are above it and the
"different" ones below. Last, every simulated glitch is saved as two ids (its short views
under one, its long views under the other) and `merge_split_glitches`, what `ml train` and
`import_glitches` run, must make each one glitch again and nothing else.

How it can mislead: 242 real glitches of 6 big classes and 16 single examples, and one
simulator; a set with many near-identical glitches (a repeating detector artefact) could
bring two different glitches closer than any pair here. The thresholds were chosen on these
same numbers.
"""

from __future__ import annotations

import argparse
import io
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.real import SIM_SEED  # noqa: E402
from ml.data import Sample, load_samples, sample_of  # noqa: E402
from ml.encoding import plot_frame  # noqa: E402
from ml.fingerprint import (  # noqa: E402
    SAME_GLITCH,
    Fingerprint,
    fingerprint,
    matches,
    merge_same_glitches,
    merge_split_glitches,
    similarity,
    windows,
)
from ml.synth import generate  # noqa: E402

View = tuple[str, float, Path]  # (glitch id, duration, file)
Row = tuple[tuple[float, int] | None, float | None]

REAL = REPO.parent / "shared" / "data" / "gravityspy-real"


def archive_copy(path: Path, out: Path) -> Path:
    """`path` saved as another archive might hold it: the plot area cropped one or two pixels
    inside its frame, shrunk to the plot area of a 600x450 image, JPEG quality 70."""
    rgb = np.asarray(Image.open(path).convert("RGB"))
    x0, y0, x1, y1 = plot_frame(rgb)
    crop = Image.fromarray(rgb[y0 + 1 : y1 - 1, x0 + 2 : x1 - 1]).resize((429, 359))
    buffer = io.BytesIO()
    crop.save(buffer, "JPEG", quality=70)
    out.write_bytes(buffer.getvalue())
    return out


def simulations(args: argparse.Namespace, folder: Path) -> list[Sample]:
    """The simulated set: --sim, or --sim-per-class of each class made in `folder` as
    bench/real.py makes its training simulations (crop style, its seed)."""
    if args.sim is None:
        args.sim = folder / "sim"
        generate(args.sim, args.sim_per_class, style="crop", seed=SIM_SEED, progress=False)
    return [s for s in load_samples(args.sim).samples if s.label is not None]


def split_check(samples: list[Sample]) -> str:
    """What `merge_split_glitches` (what `ml train` and imports run) makes of every simulated
    glitch saved as two ids, its 0.5 s and 1 s views under one and 2 s and 4 s under the
    other: how many are merged back right, how many merges are wrong, and the time."""
    parts = []
    for s in samples:
        views = s.views()
        for part, keep in (("short", lambda d: d < 2), ("long", lambda d: d >= 2)):
            kept = {d: p for d, p in views.items() if keep(d)}
            parts.append(sample_of(f"{s.id}/{part}", s.label, kept))
    t0 = time.perf_counter()
    merged = merge_split_glitches(parts).merged
    seconds = time.perf_counter() - t0
    right = sum(len(ids) == 2 and ids[0].split("/")[0] == ids[1].split("/")[0] for ids in merged)
    return (
        f"split into two ids each: {right} of {len(samples)} simulated glitches merged back, "
        f"{len(merged) - right} wrong merges; {seconds:.0f} s for {len(parts)} partial glitches"
    )


def scores(views: list[View], fps: list[Fingerprint], ratio: int, copies: list[float]) -> Row:
    """(same glitch lowest and its pair count, different glitches highest) at `ratio`."""
    longer, shorter = windows(fps, ratio)
    ids = np.array([v[0] for v in views])
    durations = np.array([v[1] for v in views])
    pairs = durations[:, None] == ratio * durations[None, :]
    if ratio == 1:
        np.fill_diagonal(pairs, False)
    same = ids[:, None] == ids[None, :]
    matrix = longer @ shorter.T
    same_scores = [*copies, *matrix[pairs & same]]
    lowest = (min(same_scores), len(same_scores)) if same_scores else None
    different = matrix[pairs & ~same]
    return lowest, float(different.max()) if different.size else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--real", type=Path, default=REAL)
    parser.add_argument("--copies", type=int, default=60, help="views re-saved for ratio 1")
    parser.add_argument("--sim", type=Path, help="simulated glitches (default: made here)")
    parser.add_argument("--sim-per-class", type=int, default=40)
    args = parser.parse_args()

    loaded = load_samples(args.real).samples
    found = matches(loaded)
    real, merges = merge_same_glitches(loaded, found)
    for m in found:
        print(f"same glitch under two ids: {m.a} ({m.a_duration} s) and {m.b} ({m.b_duration} s), "
              f"similarity {m.similarity:.3f}")  # fmt: skip
    print(f"{len(merges)} glitches were saved under several ids; merged, as bench/real.py does")

    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as folder:
        sets = {"real": real, "simulated": simulations(args, Path(folder))}
        views: dict[str, list[View]] = {}
        fps: dict[str, list[Fingerprint]] = {}
        for name, samples in sets.items():
            views[name] = [(s.id, d, p) for s in samples for d, p in sorted(s.views().items())]
            t0 = time.perf_counter()
            fps[name] = [fingerprint(p) for _, _, p in views[name]]
            per_view = (time.perf_counter() - t0) / len(views[name])
            print(f"{name}: {len(samples)} glitches, {len(views[name])} views; "
                  f"{1000 * per_view:.0f} ms a fingerprint")  # fmt: skip
        picked = rng.choice(len(views["real"]), min(args.copies, len(views["real"])), replace=False)
        copies = [
            similarity(fps["real"][j], fingerprint(archive_copy(views["real"][j][2],
                                                                Path(folder) / f"{j}.jpg")))
            for j in picked
        ]  # fmt: skip
        split = split_check(sets["simulated"])
    print("ratio  set        same glitch (lowest)  different glitches (highest)  threshold")
    for ratio in SAME_GLITCH:
        for name in sets:
            lowest, highest = scores(views[name], fps[name], ratio, copies * (name == "real"))
            same = f"{lowest[0]:.3f} ({lowest[1]} pairs)" if lowest else "-"
            other = f"{highest:.3f}" if highest is not None else "-"
            print(f"{ratio:>5}  {name:<10} {same:<21} {other:<29} {SAME_GLITCH[ratio]:.2f}")
    print(split)


if __name__ == "__main__":
    main()
