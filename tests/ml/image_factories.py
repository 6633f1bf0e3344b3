"""Factories for tiny Gravity Spy-like images on disk, shared by the ml/ data and encoding tests."""

from __future__ import annotations

from pathlib import Path

import matplotlib
import numpy as np
from PIL import Image

# `ml train` flags for a model trained in seconds (one epoch of 32 px images on the CPU).
TINY_TRAIN = ("--epochs", "1", "--image-size", "32", "--batch-size", "4", "--device", "cpu",
              "--workers", "1", "--val-fraction", "0.34")  # fmt: skip

# A miniature of the 800x600 layout: plot frame at x in [25, 165), y in [15, 120),
# a colour bar to its right, white margins where the axes and title would be.
FULL_SIZE = (200, 150)  # width, height
PLOT_BOX = (25, 15, 165, 120)  # x0, y0, x1, y1 (exclusive ends)


def viridis_rgb(energy: np.ndarray) -> np.ndarray:
    """uint8 (H, W, 3): matplotlib's viridis of `energy` (float in [0, 1])."""
    return np.rint(matplotlib.colormaps["viridis"](energy)[..., :3] * 255).astype(np.uint8)


def blob_energy(height: int, width: int, centre: float = 0.5, spread: float = 0.1) -> np.ndarray:
    """float (H, W) in [0, 1]: a gaussian blob at horizontal position `centre` (0..1)."""
    y, x = np.mgrid[0:height, 0:width]
    return np.exp(
        -(((x / width - centre) / spread) ** 2) - (((y / height - 0.6) / (2 * spread)) ** 2)
    )


def full_plot(energy: np.ndarray) -> np.ndarray:
    """uint8 (150, 200, 3): `energy` rendered in a plot frame with black border and colour bar."""
    x0, y0, x1, y1 = PLOT_BOX
    canvas = np.full((FULL_SIZE[1], FULL_SIZE[0], 3), 255, dtype=np.uint8)
    canvas[y0 - 1 : y1 + 1, x0 - 1 : x1 + 1] = 0  # the frame line
    plot = np.asarray(Image.fromarray((energy * 255).astype(np.uint8)).resize((x1 - x0, y1 - y0)))
    canvas[y0:y1, x0:x1] = viridis_rgb(plot / 255.0)
    bar = np.linspace(1, 0, y1 - y0)[:, None].repeat(8, 1)
    canvas[y0:y1, x1 + 8 : x1 + 16] = viridis_rgb(bar)
    canvas[2:8, 80:120] = 0  # a "title"
    return canvas


def write_image(path: Path, rgb: np.ndarray) -> Path:
    """Save uint8 (H, W, 3) as PNG or JPEG by the suffix of `path`; make its folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(rgb).save(path, quality=95)  # quality is ignored for PNG
    return path


def write_glitch(
    folder: Path,
    name_of: str,
    durations: tuple[float, ...] = (0.5, 1.0, 2.0, 4.0),
    suffix: str = ".png",
) -> list[Path]:
    """Write one full plot per duration as `folder/name_of.format(d=duration)` + suffix.

    The blob sits further left the longer the duration, so every view differs.
    """
    paths = []
    for duration in durations:
        energy = blob_energy(105, 140, centre=0.2 + 0.15 * durations.index(duration))
        paths.append(write_image(folder / (name_of.format(d=duration) + suffix), full_plot(energy)))
    return paths


GLITCH_DURATIONS = (0.5, 1.0, 2.0, 4.0)
# where each class's blob sits (fraction of the plot height): separable by position
CENTRE = {"Blip": 0.25, "Whistle": 0.75, "Reverse_Chirp": 0.5}


def write_glitches(root: Path, label: str, count: int, first: int = 0) -> None:
    """`count` glitches of `label` as <label>/<id>_<duration>.png, blob placed by class."""
    for n in range(first, first + count):
        for duration in GLITCH_DURATIONS:
            energy = blob_energy(105, 140, centre=CENTRE[label], spread=0.08 + 0.01 * (n % 3))
            write_image(root / label / f"g{label[:2]}{n:03d}_{duration}.png", full_plot(energy))


def write_simulated_with_one_split(root: Path, classes: list[str], per_class: int) -> str:
    """Simulated glitches (ml.synth: views of one glitch share their noise, as real Omega
    scans do) as `root/<label>/g<n>_<duration>.png`, the first glitch's short views (0.5 s,
    1 s) under id `g0a` and its long ones under `g0b`; returns the first glitch's label."""
    from ml.data import load_samples
    from ml.synth import generate

    made = root.parent / f"{root.name}-made"
    generate(made, per_class, classes=classes, style="crop", seed=5, workers=1)
    samples = load_samples(made).samples
    for n, sample in enumerate(samples):
        (root / str(sample.label)).mkdir(parents=True, exist_ok=True)
        for duration, path in sample.views().items():
            part = ("a" if duration < 2 else "b") if n == 0 else ""
            target = root / str(sample.label) / f"g{n}{part}_{duration}.png"
            target.write_bytes(path.read_bytes())
    return str(samples[0].label)


def png_declaring(path: Path, width: int, height: int) -> Path:
    """A small, well-formed PNG header + end that *declares* width x height pixels."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit greyscale
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\0" * 64))
        + chunk(b"IEND", b"")
    )
    return path


def damage_middle(path: Path, length: int = 200) -> Path:
    """Flip `length` bytes in the middle of a file: its header and end marker stay whole, so
    ml.data's cheap check passes it and only decoding finds the damage."""
    data = bytearray(path.read_bytes())
    middle = len(data) // 2
    for i in range(middle, min(middle + length, len(data) - 16)):
        data[i] ^= 0x55
    path.write_bytes(bytes(data))
    return path
