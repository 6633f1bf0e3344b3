"""Turn a glitch's Omega-scan images into one uint8 CHW array a CNN eats (and cache it).

Encodings (George, Shen & Huerta 2018):

* ``rgb-durations`` (the paper's best): the 1.0, 2.0 and 4.0 s views, each turned into
  normalised energy by inverting the viridis colour map, stacked as channels R, G, B.
* ``single-2.0``: the 2.0 s view as its RGB image.
* ``mosaic``: the four views as RGB tiles, 0.5 | 1.0 over 2.0 | 4.0, each size/2.

Every view is first cropped to the plot frame (no title, axes or colour bar), found from the
pixels themselves, so full 800x600 / 600x450 Zooniverse plots and bare crops both work.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import hashlib
import json
import logging
import math
import multiprocessing
import os
import re
import shutil
import socket
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageOps

from ml.data import MIN_PLOT_PIXELS, Sample, opened_image_problem
from ml.errors import DiskFullError, UserError
from ml.files import atomic_write, megabytes, out_of_space

ENCODINGS: tuple[str, ...] = ("rgb-durations", "single-2.0", "mosaic")
DEFAULT_ENCODING = "rgb-durations"
RGB_DURATIONS: tuple[float, float, float] = (1.0, 2.0, 4.0)  # -> channels R, G, B
SINGLE_DURATION = 2.0
MOSAIC_LAYOUT: tuple[tuple[float, float], tuple[float, float]] = ((0.5, 1.0), (2.0, 4.0))

# Plot frame of the standard 800x600 Gravity Spy rendering, as fractions of width/height:
# the fallback when the frame cannot be found from the pixels.
_DEFAULT_FRAME = (101 / 800, 61 / 600, 674 / 800, 540 / 600)
_CUBE_BITS = 5  # viridis lookup cube of 32^3 cells: built in ~0.1 s by each worker process
_FRAME_STEP = 4  # the frame search scores every 4th row / column
_REFINE_WINDOW = 8  # the cube's guess is within a few entries of the nearest; search +-8
_VIRIDIS_TOLERANCE = 30.0  # RGB distance to the colour map under which a pixel counts as plot
_CHROMA_THRESHOLD = 25  # max-min channel above which a pixel is coloured (plot), not grey
_CACHE_FORMAT = 4  # bump when the encoded pixels change, so old caches are not reused
# The least share of a plot area's pixels near the colour map (viridis_mask) for an image to
# be read as a viridis Omega scan; the energy is read from viridis, so any other colouring
# gives a wrong tensor. Measured on the crops: ../shared/data/gravityspy-real's 665 images
# 0.855 at the least (golden-ExtremelyLoud_2.0.jpg, its yellow smeared by JPEG; 0.78 saved
# again at JPEG quality 10), median 1.0; the field guide's 70 the same 0.855; 704 views of
# `ml synth` (full, crop, on real backgrounds) 0.9999. Real plots coloured with another map
# instead: grey 0, jet, hot and YlGnBu at most 0.007, inferno and magma 0.11, plasma and
# cividis 0.29; turbo, whose blues lie on viridis's, 0.34 to 0.81, so it is caught only in
# part. 0.5 keeps every real image far above it.
_MIN_VIRIDIS_SHARE = 0.5
# A half-written cache array (<name>.<host>-<pid>.partial.npy) is its writer's alone while it
# decodes. One whose writer died (SIGKILL at the hard time limit, the OOM killer) is removed
# when the next encode starts: at once when the writer ran on this host (same host name and
# pid namespace) and its pid is gone; otherwise (another host sharing the cache, docs/
# deploy.md, whose pids mean nothing here, or a name from before the host was in it) once
# it is this old. Twice the default training time limit (GLITCHLAB_TRAIN_TIME_LIMIT_S, 6 h),
# and decoding is only a training's first minutes; a live writer also keeps the file's mtime
# recent, as the kernel stamps writes through the map.
_STALE_PARTIAL_S = 12 * 3600


_logger = logging.getLogger(__name__)


class DecodeError(UserError):
    """An image that passed the cheap check in ml.data but cannot be decoded."""


# --- viridis ------------------------------------------------------------------------------


@functools.cache
def _viridis_lut() -> np.ndarray:
    """float32 (256, 3): matplotlib's viridis in 0..255 units."""
    import matplotlib  # only here: importing matplotlib costs ~0.3 s per worker process

    colours = matplotlib.colormaps["viridis"](np.arange(256))[:, :3]
    return (colours * 255.0).astype(np.float32)


@functools.cache
def _viridis_cube() -> tuple[np.ndarray, np.ndarray]:
    """Nearest viridis index (uint8) and its distance (float32) at the centre of each cube cell."""
    lut = _viridis_lut()
    step = 1 << (8 - _CUBE_BITS)
    centres = np.arange(1 << _CUBE_BITS, dtype=np.float32) * step + (step - 1) / 2
    grid = np.stack(np.meshgrid(centres, centres, centres, indexing="ij"), -1).reshape(-1, 3)
    # |a - b|^2 = |a|^2 - 2 a.b + |b|^2: one matrix product instead of a (cells, 256, 3) array.
    squared = (grid**2).sum(1, keepdims=True) - 2 * grid @ lut.T + (lut**2).sum(1)
    index = squared.argmin(1)
    distance = np.sqrt(np.maximum(squared[np.arange(len(grid)), index], 0))
    return index.astype(np.uint8), distance.astype(np.float32)


def _cube_cells(rgb: np.ndarray) -> np.ndarray:
    shift = 8 - _CUBE_BITS
    q = (rgb >> shift).astype(np.int32)
    return (q[..., 0] << (2 * _CUBE_BITS)) | (q[..., 1] << _CUBE_BITS) | q[..., 2]


@functools.cache
def _colour_table() -> np.ndarray:
    """uint16 (2^24,): 1 + nearest viridis index of each RGB colour met so far, 0 = not yet.

    Per process, filled as images come in; np.zeros maps pages lazily, so only the colours
    seen cost memory (at most 32 MiB). Plots reuse colours: after a few images most pixels
    are a single lookup.
    """
    return np.zeros(1 << 24, dtype=np.uint16)


def _nearest_viridis(keys: np.ndarray) -> np.ndarray:
    """uint8 (N,): nearest viridis index of packed 0xRRGGBB colours (int32 (N,)).

    A 32^3 lookup cube gives a first guess, refined among its +-_REFINE_WINDOW neighbours.
    """
    colours = np.stack([(keys >> 16) & 255, (keys >> 8) & 255, keys & 255], -1)
    guess = _viridis_cube()[0][_cube_cells(colours)].astype(np.int16)
    window = np.arange(-_REFINE_WINDOW, _REFINE_WINDOW + 1, dtype=np.int16)
    candidates = np.clip(guess[:, None] + window, 0, 255)
    diff = _viridis_lut()[candidates] - colours[:, None, :].astype(np.float32)
    return candidates[np.arange(len(keys)), (diff * diff).sum(-1).argmin(-1)].astype(np.uint8)


def viridis_to_energy(rgb: np.ndarray) -> np.ndarray:
    """Invert matplotlib's viridis: uint8 (H, W, 3) RGB -> float32 (H, W) in [0, 1].

    0 is the bottom of Gravity Spy's colour bar, 1 the top (normalised energy 25.5). Each
    pixel takes the nearest of the 256 colour-map entries (a colour off the map, e.g. a JPEG
    artefact, takes the nearest on it), not its luminance. Vectorised; each distinct colour
    is solved once per process (see _colour_table).
    """
    if rgb.ndim != 3 or rgb.shape[-1] != 3:
        raise ValueError(f"expected (H, W, 3) RGB, got shape {rgb.shape}")
    packed = np.asarray(rgb, dtype=np.uint8).astype(np.int32)
    keys = (packed[..., 0] << 16) | (packed[..., 1] << 8) | packed[..., 2]
    table = _colour_table()
    index = table[keys]
    unseen = index == 0
    if unseen.any():
        new = np.unique(keys[unseen])
        table[new] = _nearest_viridis(new).astype(np.uint16) + 1
        index[unseen] = table[keys[unseen]]
    return (index - 1).astype(np.float32) / np.float32(255.0)


def viridis_mask(rgb: np.ndarray) -> np.ndarray:
    """bool (H, W): pixels whose colour lies near the viridis colour map (JPEG-tolerant)."""
    return _viridis_cube()[1][_cube_cells(np.asarray(rgb, dtype=np.uint8))] < _VIRIDIS_TOLERANCE


# --- plot frame -----------------------------------------------------------------------------


def _longest_run(flags: np.ndarray, max_gap: int = 0) -> tuple[int, int]:
    """[start, stop) of the longest run of True in a 1-D bool array, bridging gaps of up to
    `max_gap` False entries between True ones; (0, 0) when there is no True."""
    padded = np.concatenate(([False], flags, [False])).astype(np.int8)
    edges = np.flatnonzero(np.diff(padded))
    starts, stops = list(edges[0::2]), list(edges[1::2])
    if not starts:
        return 0, 0
    merged = [[starts[0], stops[0]]]
    for start, stop in zip(starts[1:], stops[1:], strict=True):
        if start - merged[-1][1] <= max_gap:
            merged[-1][1] = stop
        else:
            merged.append([start, stop])
    start, stop = max(merged, key=lambda run: run[1] - run[0])
    return int(start), int(stop)


def _plot_like(rgb: np.ndarray) -> np.ndarray:
    """bool (H, W): viridis colours, or coloured (not white/grey/black) pixels.

    JPEG smears a thin yellow track into purple, giving blends that lie off the colour map;
    they are still coloured, unlike the white margins, black text and grey anti-aliasing.
    """
    red, green, blue = rgb[..., 0], rgb[..., 1], rgb[..., 2]  # (not .max(-1): 30x slower)
    chroma = np.maximum(np.maximum(red, green), blue) - np.minimum(np.minimum(red, green), blue)
    return viridis_mask(rgb) | (chroma > _CHROMA_THRESHOLD)


def plot_frame(rgb: np.ndarray) -> tuple[int, int, int, int]:
    """(x0, y0, x1, y1), exclusive ends: the plot area of a Gravity Spy image (uint8 HxWx3).

    The plot is the largest block of viridis-coloured pixels: the widest run of columns that
    are mostly plot-like (the colour bar is a narrow run of its own, ~2% of the width away),
    then within those columns the tallest run of such rows. A bare crop is all plot and comes
    back whole. If nothing plausible is found, the standard 800x600 frame, scaled to the
    image, is used.
    """
    height, width = rgb.shape[:2]
    # Column scores from every 4th row, row scores from every 4th column: 4x less work, and
    # the edges found stay exact to the pixel along the axis that is scored.
    every_4th_row = _plot_like(rgb[::_FRAME_STEP])
    x0, x1 = _longest_run(every_4th_row.mean(0) > 0.5, max_gap=width // 200)
    y0, y1 = 0, 0
    if x1 > x0:
        every_4th_column = _plot_like(rgb[:, x0:x1:_FRAME_STEP])
        y0, y1 = _longest_run(every_4th_column.mean(1) > 0.5, max_gap=height // 200)
    if x1 - x0 >= 0.3 * width and y1 - y0 >= 0.3 * height:
        return _trim_frame_lines(rgb, x0, y0, x1, y1)
    fx0, fy0, fx1, fy1 = _DEFAULT_FRAME
    return round(fx0 * width), round(fy0 * height), round(fx1 * width), round(fy1 * height)


def _trim_frame_lines(
    rgb: np.ndarray, x0: int, y0: int, x1: int, y1: int
) -> tuple[int, int, int, int]:
    """Drop up to 2 edge rows/columns that are mostly off the colour map: a JPEG-blurred
    frame line is dark and slightly coloured, so it can pass as plot in _plot_like. A frame
    under 3 px a side is left as it is (read_plot_area refuses it): trimming it would index
    past its end."""

    def off_map(line: np.ndarray) -> bool:
        return bool(viridis_mask(line).mean() < 0.5)

    for _ in range(2):
        if y1 - y0 < 3 or x1 - x0 < 3:
            break
        y0 += off_map(rgb[y0, x0:x1])
        y1 -= off_map(rgb[y1 - 1, x0:x1])
        x0 += off_map(rgb[y0:y1, x0])
        x1 -= off_map(rgb[y0:y1, x1 - 1])
    return x0, y0, x1, y1


def _decode_rgb(path: Path) -> np.ndarray:
    """uint8 (H, W, 3) pixels of an image file, upright as a browser shows it (its EXIF
    orientation applied); DecodeError naming the file if it is broken or cannot be an Omega
    scan (ml.data.opened_image_problem). Every read for the model or a fingerprint is this."""
    try:
        with Image.open(path) as image:
            problem = opened_image_problem(image)  # a caller may not have asked ml.data
            rgb = None if problem else np.asarray(ImageOps.exif_transpose(image).convert("RGB"))
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise DecodeError(f"{path}: cannot decode image ({type(exc).__name__}: {exc})") from exc
    if rgb is None:
        raise DecodeError(f"{path}: {problem}")
    return rgb


def read_plot_area(path: Path) -> np.ndarray:
    """uint8 (H, W, 3) RGB of the plot area of one image: ~573x479 for an 800x600 plot.

    Accepts full Zooniverse plots (title, axes, colour bar; PNG or JPEG, any size) and
    bare crops of the plot area, which pass through unchanged. DecodeError naming the file
    when it cannot be decoded, its plot area is under MIN_PLOT_PIXELS a side or it is not
    coloured with viridis (under _MIN_VIRIDIS_SHARE of the plot area near the map).
    """
    rgb = _decode_rgb(Path(path))
    x0, y0, x1, y1 = plot_frame(rgb)
    if x1 - x0 < MIN_PLOT_PIXELS or y1 - y0 < MIN_PLOT_PIXELS:
        raise DecodeError(
            f"{path}: plot area of {max(x1 - x0, 0)}x{max(y1 - y0, 0)} pixels, too small for an "
            f"Omega scan (at least {MIN_PLOT_PIXELS}x{MIN_PLOT_PIXELS})"
        )
    crop = np.ascontiguousarray(rgb[y0:y1, x0:x1])
    share = float(viridis_mask(crop).mean())
    if share < _MIN_VIRIDIS_SHARE:
        raise DecodeError(
            f"{path}: not a viridis Omega scan ({share:.1%} of its plot area's pixels lie "
            f"near the viridis colour map; at least {_MIN_VIRIDIS_SHARE:.0%} must)"
        )
    return crop


# --- encodings ------------------------------------------------------------------------------


def _resize_rgb(rgb: np.ndarray, width: int, height: int) -> np.ndarray:
    # PIL's BILINEAR widens its kernel when shrinking, so it averages the area (antialiased).
    return np.asarray(Image.fromarray(rgb).resize((width, height), Image.Resampling.BILINEAR))


def _resize_energy(energy: np.ndarray, size: int) -> np.ndarray:
    """float32 (H, W) in [0, 1] -> uint8 (size, size); energy is resized, not colours."""
    image = Image.fromarray(energy.astype(np.float32), mode="F")
    resized = np.asarray(image.resize((size, size), Image.Resampling.BILINEAR))
    return np.clip(np.rint(resized * 255.0), 0, 255).astype(np.uint8)


def _check(encoding: str, size: int) -> None:
    if encoding not in ENCODINGS:
        raise UserError(f"unknown encoding {encoding!r}: choose one of {', '.join(ENCODINGS)}")
    if size < 2:
        raise UserError(f"image size must be at least 2 pixels, got {size}")


def encode_sample(sample: Sample, encoding: str = DEFAULT_ENCODING, size: int = 224) -> np.ndarray:
    """uint8 (3, size, size) CHW array of one glitch in `encoding` (one of ENCODINGS).

    rgb-durations: channel c is the normalised energy (0..255 = 0..25.5) of the
    RGB_DURATIONS[c] view. single-2.0 and mosaic: the plot's RGB pixels.
    A file that cannot be decoded raises DecodeError naming it.
    """
    _check(encoding, size)
    return _encode(sample, encoding, size, _read_cached_factory())


def _read_cached_factory() -> Callable[[Path], np.ndarray]:
    """read_plot_area, memoised for one sample: a view used for two durations decodes once."""
    crops: dict[Path, np.ndarray] = {}

    def read(path: Path) -> np.ndarray:
        if path not in crops:
            crops[path] = read_plot_area(path)
        return crops[path]

    return read


def view_source(sample: Sample, duration: float) -> tuple[Path, float]:
    """(file, fraction): the `duration` view is the middle `fraction` (in time) of `file`.

    A view present is itself (fraction 1). A missing one is cut from the shortest longer
    view present: the Omega scans of one glitch share their centre, so the 1 s window is
    the middle quarter of the 4 s one (an R=G=B copy of one view looks like no real
    four-view glitch). With no longer view, the nearest view stands in whole.
    """
    views = sample.views()
    longer = [d for d in views if d > duration]
    if duration in views or not longer:
        return Path(sample.path_for(duration)), 1.0
    source = min(longer)
    return Path(views[source]), duration / source


def _view(source: tuple[Path, float], read: Callable[[Path], np.ndarray]) -> np.ndarray:
    """uint8 (H, W, 3) plot area of a view, from its view_source (file, fraction)."""
    path, fraction = source
    rgb = read(path)
    if fraction == 1.0:
        return rgb
    width = rgb.shape[1]
    keep = max(1, round(width * fraction))
    start = (width - keep) // 2
    return rgb[:, start : start + keep]


def _encode(
    sample: Sample, encoding: str, size: int, read: Callable[[Path], np.ndarray]
) -> np.ndarray:
    if encoding == "rgb-durations":
        energies: dict[tuple[Path, float], np.ndarray] = {}
        channels = []
        for duration in RGB_DURATIONS:
            source = view_source(sample, duration)
            if source not in energies:
                energies[source] = _resize_energy(viridis_to_energy(_view(source, read)), size)
            channels.append(energies[source])
        return np.stack(channels)
    if encoding == "single-2.0":
        rgb = _resize_rgb(_view(view_source(sample, SINGLE_DURATION), read), size, size)
        return np.ascontiguousarray(rgb.transpose(2, 0, 1))
    # mosaic: tile (row, col) covers [edges[row], edges[row+1]) x [edges[col], edges[col+1])
    edges = (0, size // 2, size)
    out = np.empty((size, size, 3), dtype=np.uint8)
    for row, durations in enumerate(MOSAIC_LAYOUT):
        for col, duration in enumerate(durations):
            top, bottom, left, right = edges[row], edges[row + 1], edges[col], edges[col + 1]
            tile = _resize_rgb(
                _view(view_source(sample, duration), read), right - left, bottom - top
            )
            out[top:bottom, left:right] = tile
    return np.ascontiguousarray(out.transpose(2, 0, 1))


def _encode_job(job: tuple[Sample, str, int]) -> np.ndarray | str:
    """The sample's array, or the message of the DecodeError it raised (a worker process
    hands it back as text, so that the samples after it still decode)."""
    sample, encoding, size = job
    try:
        return _encode(sample, encoding, size, _read_cached_factory())
    except DecodeError as exc:
        return str(exc)


# --- many samples, in parallel, cached -------------------------------------------------------


def durations_read(encoding: str) -> tuple[float, ...]:
    """The views (durations in s) that `encoding` reads from each sample."""
    if encoding == "rgb-durations":
        return RGB_DURATIONS
    if encoding == "single-2.0":
        return (SINGLE_DURATION,)
    return tuple(d for row in MOSAIC_LAYOUT for d in row)


def files_read(sample: Sample, encoding: str) -> tuple[Path, ...]:
    """The distinct files `encoding` decodes for `sample` (a substituted view counts once)."""
    return tuple(dict.fromkeys(view_source(sample, d)[0] for d in durations_read(encoding)))


def cache_key(samples: Sequence[Sample], encoding: str, size: int) -> str:
    """sha256 over (format, encoding, size, and per sample each view read: its duration,
    absolute path, byte size and mtime), in order. Editing or replacing a file changes it."""
    digest = hashlib.sha256(f"glitchlab-encoding/{_CACHE_FORMAT}/{encoding}/{size}".encode())
    for sample in samples:
        digest.update(b"\n")
        for duration in durations_read(encoding):
            path, fraction = view_source(sample, duration)
            try:
                stat = path.stat()
            except OSError as exc:
                raise DecodeError(f"{path}: cannot read ({exc.strerror})") from exc
            digest.update(
                f"{duration}\t{path.absolute()}\t{fraction}\t{stat.st_size}\t{stat.st_mtime_ns}\t".encode()
            )
    return digest.hexdigest()


def encode_samples(
    samples: Sequence[Sample],
    encoding: str = DEFAULT_ENCODING,
    size: int = 224,
    *,
    workers: int | None = None,
    cache_dir: Path | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> np.ndarray:
    """uint8 (N, 3, size, size): encode_sample of every sample, in order.

    Files are decoded once, over `workers` processes (default os.cpu_count(); 1, or a call
    from a daemonic process, = in this process). With `cache_dir`, the array is written
    there as an .npy named by cache_key, and later calls with the same files return it
    memory-mapped read-only (np.load mmap_mode="r") without decoding anything.
    `progress(done, total)` is called as samples finish; nothing is printed. A broken file
    raises DecodeError naming it; encode_decodable leaves its sample out instead.
    """
    images, dropped = _encode_cached(samples, encoding, size, workers, cache_dir, progress, True)
    if dropped:  # a cached array of encode_decodable's, with holes
        raise DecodeError(dropped[min(dropped)])
    return images


@dataclass(frozen=True)
class Decodable:
    """encode_decodable's answer: the samples whose files decode, and why the others did not."""

    images: np.ndarray  # uint8 (K, 3, size, size): the kept samples' arrays, in order
    samples: list[Any]  # the K samples kept, in the order given
    kept: list[int]  # their positions among the samples given
    dropped: list[str]  # one line per sample left out: "glitch <id> left out: <file>: <why>"
    why: dict[int, str] = field(default_factory=dict)  # position given -> "<file>: <why>"


def encode_decodable(
    samples: Sequence[Sample],
    encoding: str = DEFAULT_ENCODING,
    size: int = 224,
    *,
    workers: int | None = None,
    cache_dir: Path | None = None,
    progress: Callable[[int, int], None] | None = None,
    warn: Callable[[str], None] | None = None,
) -> Decodable:
    """encode_samples, less the samples a file of which raises DecodeError (damaged past the
    cheap check of ml.data, too small, not viridis): each is left out and `warn` (default:
    this module's logger) gets a line naming it and its file, so that one bad file costs
    its glitch, not a training, an audit or a scoring batch. The caller says what it means
    when a class, or everything, is gone. Cached like encode_samples; the holes too."""
    warn = warn or _logger.warning
    images, errors = _encode_cached(samples, encoding, size, workers, cache_dir, progress, False)
    kept = [i for i in range(len(samples)) if i not in errors]
    dropped = [f"glitch {samples[i].id} left out: {errors[i]}" for i in sorted(errors)]
    for line in dropped:
        warn(line)
    if errors:
        images = np.asarray(images[kept]) if kept else np.zeros((0, 3, size, size), np.uint8)
    return Decodable(images, [samples[i] for i in kept], kept, dropped, why=errors)


def _dropped_path(cache_path: Path) -> Path:
    """Beside a cached array: which of its samples did not decode (their rows are zeros)."""
    return cache_path.with_name(f"{cache_path.stem}.dropped.json")


def _encode_cached(
    samples: Sequence[Sample],
    encoding: str,
    size: int,
    workers: int | None,
    cache_dir: Path | None,
    progress: Callable[[int, int], None] | None,
    strict: bool,
) -> tuple[np.ndarray, dict[int, str]]:
    """uint8 (N, 3, size, size) and {position: DecodeError message} of the samples that did
    not decode (their rows zeros). `strict`: the first such sample raises, nothing cached."""
    _check(encoding, size)
    total = len(samples)
    cache_path: Path | None = None
    if cache_dir is not None:
        try:
            key = cache_key(samples, encoding, size)
        except DecodeError:
            if strict:
                raise
            key = None  # a file is missing: decoding names it, and nothing is cached
        if key is not None:
            cache_path = Path(cache_dir) / f"{encoding}-{size}-{key[:32]}.npy"
        if cache_path is not None and cache_path.is_file():
            if progress is not None:
                progress(total, total)
            with contextlib.suppress(OSError):  # used now: prune_cache keeps what runs use
                os.utime(cache_path)
            dropped_file = _dropped_path(cache_path)
            errors: dict[int, str] = {}
            if dropped_file.is_file():
                errors = {int(i): why for i, why in json.loads(dropped_file.read_text()).items()}
            return np.load(cache_path, mmap_mode="r"), errors

    shape = (total, 3, size, size)
    partial: Path | None = None
    errors = {}
    try:
        if cache_path is None:
            out = np.empty(shape, dtype=np.uint8)
        else:
            cache_path.parent.mkdir(parents=True, exist_ok=True)
            _remove_dead_partials(cache_path.parent)
            # Written under a temporary name and renamed at the end: a killed run leaves no
            # half-written cache behind that a later run would trust.
            partial = cache_path.with_name(f"{cache_path.stem}.{_writer()}.partial.npy")
            out = _reserved_memmap(partial, shape)
        for index, encoded in enumerate(_encode_all(samples, encoding, size, workers)):
            if isinstance(encoded, str):
                if strict:
                    raise DecodeError(encoded)
                errors[index] = encoded
                out[index] = 0
            else:
                out[index] = encoded
            if progress is not None:
                progress(index + 1, total)
        if cache_path is None or partial is None:
            return out, errors
        out.flush()  # type: ignore[attr-defined]
        del out
        if errors:  # before the array: an array is only ever found with its holes beside it
            atomic_write(
                _dropped_path(cache_path), lambda fh: json.dump(errors, fh, indent=0), text=True
            )
        os.replace(partial, cache_path)
    finally:
        if partial is not None:  # any failure of this attempt (once renamed, nothing to do)
            # Where a file still mapped cannot be removed (Windows), it stays for the next
            # encode's _remove_dead_partials, and the error that brought us here is raised,
            # not the removal's.
            with contextlib.suppress(OSError):
                partial.unlink(missing_ok=True)
    return np.load(cache_path, mmap_mode="r"), errors


def _reserved_memmap(path: Path, shape: tuple[int, ...]) -> np.ndarray:
    """A new uint8 .npy of `shape` at `path`, memory-mapped for writing, every byte of it
    given disk space before the map is made. A write through a map to a page the file
    system cannot back kills the process with SIGBUS: no Python error, a Celery worker lost
    ("signal 7"), the partial file left. Reserved first, a full disk raises DiskFullError
    here instead, naming the folder and the space needed and free."""
    try:
        created = np.lib.format.open_memmap(path, mode="w+", dtype=np.uint8, shape=shape)
        start, stop = created.offset, created.offset + created.nbytes
        del created  # unmapped with nothing written through it: the header is on disk
        _reserve(path, start, stop)
    except OSError as exc:
        if not out_of_space(exc):
            raise
        path.unlink(missing_ok=True)  # first: the free space said is without it
        free = shutil.disk_usage(path.parent).free
        raise DiskFullError(
            f"not enough disk space for the decoded images in {path.parent}: need "
            f"{megabytes(math.prod(shape))}, {megabytes(free)} free"
        ) from exc
    return np.lib.format.open_memmap(path, mode="r+")


def _reserve(path: Path, start: int, stop: int) -> None:
    """Give bytes [start, stop) of the file at `path` their disk blocks now (OSError ENOSPC
    when the disk is full). Its content is kept: the .npy header before `start`."""
    if stop <= start:  # no samples: posix_fallocate refuses a length of 0
        return
    with open(path, "r+b") as fh:
        if hasattr(os, "posix_fallocate"):  # Linux, the BSDs: no data written, ~1 ms a GB
            try:
                os.posix_fallocate(fh.fileno(), start, stop - start)
                return
            except OSError as exc:
                # A file system that cannot reserve (musl does not emulate it where the
                # kernel cannot) falls back to writing, below; a full disk is raised.
                if exc.errno not in (errno.EOPNOTSUPP, errno.EINVAL, errno.ENOSYS):
                    raise
        # macOS and Windows have no posix_fallocate: writing the zeros makes the blocks real
        # (one sequential write of the array more, small beside decoding it). A copy-on-write
        # file system (APFS, ZFS, btrfs) may still want new blocks when the map is written
        # over these, so there a full disk can still end in SIGBUS.
        fh.seek(start)
        zeros = bytes(min(stop - start, 1 << 20))
        for offset in range(start, stop, len(zeros)):
            fh.write(zeros[: stop - offset])


@functools.cache
def _host() -> str:
    """This host in a partial file's name: its host name (no dots, which the name splits
    on) and, where /proc tells it, its pid namespace, since containers that share a host name
    (docker --network host) number their processes apart."""
    host = re.sub(r"[^A-Za-z0-9-]", "_", socket.gethostname()) or "host"
    with contextlib.suppress(OSError):
        host += f"_{os.stat('/proc/self/ns/pid').st_ino}"
    return host


def _writer() -> str:
    """'<host>-<pid>': who writes a partial file (a pool worker forked from us has its own pid)."""
    return f"{_host()}-{os.getpid()}"


def _pid_alive(pid: int) -> bool:
    if os.name != "posix":  # Windows' os.kill ends the process: left to the age rule
        return True
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return False
    except OSError:  # exists, another user's
        return True
    return True


def _remove_dead_partials(cache_dir: Path) -> None:
    """Remove the half-written arrays of `cache_dir` whose writer is dead (_STALE_PARTIAL_S):
    a process killed while decoding leaves a full-size one, which a retry would not reuse
    (its name has the pid) and which could fill the disk one retry at a time."""
    stale_before = time.time() - _STALE_PARTIAL_S
    for path in cache_dir.glob("*.partial.npy"):
        writer = path.name.removesuffix(".partial.npy").rpartition(".")[2]
        host, _, pid = writer.rpartition("-")
        try:
            dead = host == _host() and pid.isdigit() and not _pid_alive(int(pid))
            if not dead and path.stat().st_mtime >= stale_before:
                continue
            size = path.stat().st_size
            path.unlink()
        except OSError:  # removed meanwhile, or not ours to remove: left as it is
            continue
        _logger.info("encode cache: removed %s (%s) left by a dead process", path, megabytes(size))


def prune_cache(cache_dir: Path, before: float) -> tuple[int, int]:
    """Remove the arrays of `cache_dir` (encode_samples's, finished or left half-written by a
    killed process) last written or used before `before` (a time.time()), each with the
    list of its holes; (arrays, bytes) removed. Each set of glitches has its own array, so a
    cache that is never pruned grows by a copy of the data set per retrain. A file that
    cannot be removed is left."""
    removed = size = 0
    for path in Path(cache_dir).glob("*.npy"):
        try:
            stat = path.stat()
            if stat.st_mtime >= before:
                continue
            path.unlink()  # the array first: its holes alone are never mistaken for it
        except OSError:  # removed meanwhile, or not ours to remove: left as it is
            continue
        with contextlib.suppress(OSError):
            _dropped_path(path).unlink(missing_ok=True)
        removed, size = removed + 1, size + stat.st_size
    return removed, size


def _encode_all(
    samples: Sequence[Sample], encoding: str, size: int, workers: int | None
) -> Iterator[np.ndarray | str]:
    workers = max(1, min(workers or os.cpu_count() or 1, len(samples)))
    jobs = [(sample, encoding, size) for sample in samples]
    if workers == 1 or multiprocessing.current_process().daemon:
        # (a daemonic process, e.g. a multiprocessing pool's worker, may not have children)
        yield from map(_encode_job, jobs)
        return
    # spawn, not fork: the caller may hold torch/CUDA threads that a fork would corrupt.
    context = multiprocessing.get_context("spawn")
    chunksize = max(1, min(16, len(jobs) // (workers * 4)))
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        yield from pool.map(_encode_job, jobs, chunksize=chunksize)
