"""Contact sheets for docs: each class's real golden example beside six synthetic ones.

    python -m ml.synth.contact --real ../shared/data/gravityspy-real --out docs/images/synth

One small PNG per class (`<label>.png`): the golden field-guide image first (or a grey
tile for the classes Gravity Spy has none of), then six simulated glitches at the golden
image's duration, all downscaled to 240x180 with an adaptive 128-colour palette.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from PIL import Image, ImageDraw

from ml.synth.generate import (
    SAMPLE_RATE,
    STRETCH,
    glitch_seed,
    render_windows,
    simulate,
)
from ml.synth.waveforms import WAVEFORMS

TILE = (240, 180)


def golden_example(real_root: Path, label: str) -> tuple[Path | None, float]:
    """The golden image of a class and its window duration (1.0 s when there is none)."""
    for path in sorted((real_root / label).glob("golden-*")):
        return path, float(path.stem.rsplit("_", 1)[1])
    return None, 1.0


def contact_sheet(real_root: Path, label: str, n: int = 6, seed: int = 2024) -> Image.Image:
    """One row: the golden example, then `n` synthetic glitches, as a palette image."""
    golden, duration = golden_example(real_root, label)
    tiles = []
    if golden is not None:
        tiles.append(Image.open(golden).convert("RGB").resize(TILE, Image.Resampling.LANCZOS))
    else:
        blank = Image.new("RGB", TILE, (160, 160, 160))
        ImageDraw.Draw(blank).text((10, 80), "no real example", fill="black")
        tiles.append(blank)
    for i in range(n):
        sim = simulate(label, glitch_seed(seed, label, i))
        images, _ = render_windows(
            sim.whitened,
            SAMPLE_RATE,
            epoch=-STRETCH / 2,
            centre=0.0,
            title=f"{label} (sim)",
            styles=["full"],
        )
        image = Image.fromarray(images[("full", duration)])
        tiles.append(image.resize(TILE, Image.Resampling.LANCZOS))
    sheet = Image.new("RGB", (TILE[0] * len(tiles), TILE[1]), "white")
    for k, tile in enumerate(tiles):
        sheet.paste(tile, (k * TILE[0], 0))
    return sheet.quantize(colors=128, method=Image.Quantize.MEDIANCUT)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--real", type=Path, required=True, help="gravityspy-real folder")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--classes", help="comma-separated (default: all 25)")
    args = parser.parse_args()
    labels = args.classes.split(",") if args.classes else list(WAVEFORMS)
    args.out.mkdir(parents=True, exist_ok=True)
    for label in labels:
        contact_sheet(args.real, label).save(args.out / f"{label}.png", optimize=True)
        print(label, flush=True)


if __name__ == "__main__":
    main()
