"""How well ml.fingerprint tells the same glitch from another, on the real dev set.

    .venv/bin/python bench/fingerprint.py [--real ../shared/data/gravityspy-real] [--copies 60]

Prints the views of different ids that show one glitch (merged before what follows), then,
for each duration ratio (1: the same duration; 2, 4, 8: a view against the middle
of its glitch's view that many times longer), the lowest similarity between two views of
one glitch and the highest between views of two different glitches, beside the threshold
ml.fingerprint.SAME_GLITCH uses; for ratio 1 the "same glitch" pairs are `--copies` views
re-saved as another archive would (cropped to the plot area, shrunk to 600x450, JPEG
quality 70). Then the time taken per fingerprint. A threshold is sound where the first
number is above it and the second below.

How it can mislead: 242 glitches of 6 big classes and 16 single examples; a set with many
near-identical glitches (a repeating detector artefact) could bring two different glitches
closer than any pair here.
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

from ml.data import load_samples  # noqa: E402
from ml.encoding import plot_frame  # noqa: E402
from ml.fingerprint import (  # noqa: E402
    SAME_GLITCH,
    fingerprint,
    matches,
    merge_same_glitches,
    similarity,
)

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--real", type=Path, default=REAL)
    parser.add_argument("--copies", type=int, default=60, help="views re-saved for ratio 1")
    args = parser.parse_args()

    loaded = load_samples(args.real).samples
    found = matches(loaded)
    samples, merges = merge_same_glitches(loaded, found)
    for m in found:
        print(f"same glitch under two ids: {m.a} ({m.a_duration} s) and {m.b} ({m.b_duration} s), "
              f"similarity {m.similarity:.3f}")  # fmt: skip
    print(f"{len(merges)} glitches were saved under several ids; merged, as bench/real.py does")
    views = [(s.id, d, p) for s in samples for d, p in sorted(s.views().items())]
    t0 = time.perf_counter()
    fps = {(gid, d): fingerprint(p) for gid, d, p in views}
    per_view = (time.perf_counter() - t0) / len(views)
    print(f"{len(samples)} glitches, {len(views)} views; {1000 * per_view:.0f} ms a fingerprint")

    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as folder:
        picked = rng.choice(len(views), min(args.copies, len(views)), replace=False)
        copies = [
            similarity(fps[(gid, d)], fingerprint(archive_copy(p, Path(folder) / f"{i}.jpg")))
            for i, (gid, d, p) in enumerate(views[j] for j in picked)
        ]
    print("ratio  same glitch (lowest)  different glitches (highest)  threshold")
    for ratio in SAME_GLITCH:
        same: list[float] = list(copies) if ratio == 1 else []
        other = -1.0
        for (gid, d), fp in fps.items():
            longer = d * ratio
            if ratio > 1 and (gid, longer) in fps:
                same.append(similarity(fps[(gid, longer)], fp, ratio))
            for (gid2, d2), fp2 in fps.items():
                if d2 == longer and gid2 != gid and (ratio > 1 or (gid2, d2) > (gid, d)):
                    other = max(other, similarity(fp2, fp, ratio))
        lowest = f"{min(same):.3f} ({len(same)} pairs)" if same else "-"
        print(f"{ratio:>5}  {lowest:<21} {other:<29.3f} {SAME_GLITCH[ratio]:.2f}")


if __name__ == "__main__":
    main()
