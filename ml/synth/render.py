"""Gravity Spy-style Omega scans: one Q-scan per glitch, rendered at 0.5, 1, 2 and 4 s.

The Q-transform is gwpy's (`gwpy.signal.qtransform.q_scan`, Q 4-64, 10-2048 Hz), run ONCE
on the whitened stretch; each of the four windows is then interpolated from that one
QGram onto the grid Gravity Spy's images were drawn from (2 ms x 0.5 Hz, TRES x FRES),
spread over the plot's pixels as the plot did, and coloured with viridis (normalised energy
0-25.5). Matplotlib draws only the frame (title, axes, colour bar) once per
(title, duration), and the pixels are pasted into it: ~20x faster than plotting each image.

Styles: `full` is the 800x600 image volunteers see, plot area x in [101, 673),
y in [61, 540); `crop` is that plot area alone (572x479).
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

DURATIONS: tuple[float, ...] = (0.5, 1.0, 2.0, 4.0)
STYLES: tuple[str, ...] = ("full", "crop")
Style = Literal["full", "crop"]
FMIN, FMAX = 10.0, 2048.0  # Hz: the plot's log frequency axis
QRANGE = (4.0, 64.0)
VMAX = 25.5  # normalised energy at the top of the colour map
TRES, FRES = 0.002, 0.5  # s, Hz: the grid Gravity Spy's make_q_scans interpolated onto
FULL_SIZE = (800, 600)  # (width, height) of a `full` image
PLOT_BOX = (101, 61, 673, 540)  # (left, top, right, bottom) pixel box of the plot area
PLOT_WIDTH = PLOT_BOX[2] - PLOT_BOX[0]  # 572
PLOT_HEIGHT = PLOT_BOX[3] - PLOT_BOX[1]  # 479
SITE_NAMES = {"H1": "Hanford", "L1": "Livingston", "V1": "Virgo"}


def duration_label(duration: float) -> str:
    """'0.5', '1.0', '2.0', '4.0': how Gravity Spy file names spell a window."""
    return f"{float(duration):.1f}"


def row_frequencies(height: int = PLOT_HEIGHT) -> NDArray[np.float64]:
    """Centre frequency (Hz) of each pixel row, top row first (log axis FMIN..FMAX)."""
    frac = (np.arange(height) + 0.5) / height
    return np.asarray(FMAX * (FMIN / FMAX) ** frac, dtype=np.float64)


def frequency_of_row(row: float, height: int = PLOT_HEIGHT) -> float:
    """Frequency (Hz) at pixel row `row` (0 = top) of a plot `height` rows tall."""
    return float(FMAX * (FMIN / FMAX) ** ((row + 0.5) / height))


@dataclass
class QGram:
    """Energies of the most significant Q plane: one row per frequency, each on its own grid."""

    q: float  # the plane's quality factor
    frequencies: NDArray[np.float64]  # Hz, ascending, one per row
    energies: list[NDArray[np.float64]]  # normalised energy of each row's tiles
    epoch: float  # s: time of the first tile of every row
    duration: float  # s: span of every row (tile spacing = duration / row size)
    peak: dict[str, float]  # loudest tile in the search window: energy, frequency, time
    # energies of a second series (q_scan's `reference`) on the same plane, tiles, windows and
    # normalisation: the noise alone, so that `energies - reference` is the glitch's excess
    reference: list[NDArray[np.float64]] | None = None
    # Hz: the top of the band the rows tile (q_scan's `fmax`); a window draws nothing above it
    fmax: float = FMAX

    def reference_gram(self) -> QGram:
        """The reference series alone on this plane."""
        if self.reference is None:
            raise ValueError("q_scan was not given a reference series")
        return QGram(
            self.q, self.frequencies, self.reference, self.epoch, self.duration, self.peak,
            fmax=self.fmax,
        )  # fmt: skip

    def excess(self) -> QGram:
        """This plane with each tile's energy minus the reference's (may be negative)."""
        if self.reference is None:
            raise ValueError("q_scan was not given a reference series")
        rows = [e - r for e, r in zip(self.energies, self.reference, strict=True)]
        return QGram(
            self.q, self.frequencies, rows, self.epoch, self.duration, self.peak, fmax=self.fmax
        )


def q_scan(
    whitened: NDArray[np.float64],
    sample_rate: float,
    *,
    epoch: float,
    centre: float,
    norm: Literal["white", "median"] = "white",
    reference: NDArray[np.float64] | None = None,
    fmax: float = FMAX,
) -> QGram:
    """The most significant Q plane of a whitened series (float64, 1-d), with gwpy's tiling.

    gwpy's QTiling (Q 4-64, 10-2048 Hz, mismatch 0.2) gives the planes, rows, bi-square
    windows and tile counts, exactly as `TimeSeries.q_transform`; the per-row transforms
    run here on plain arrays (gwpy wraps every row in a TimeSeries, which costs more than
    the FFTs). The plane is the one with the loudest tile within +-0.25 s of `centre`.

    Energies are normalised by the MEAN tile energy of the noise (Omega scan's "normalised
    energy": white noise has mean 1 and median ln 2), which is what Gravity Spy's images
    show: the background of real images (median pixel 0.8 after interpolation, measured on
    bench/real.py's tune part) sits at 0.69 of what median-normalising gives (1.2).
    `norm="median"` estimates that mean robustly per row as median / ln 2 (gwpy's per-row
    median normalisation, rescaled), right for real strain. `norm="white"` divides by the
    mean tile energy of unit-variance white noise, 8 T / N^3, which equals the per-row
    estimate on noise but does not wash out a line that lasts most of the stretch; the
    simulator whitens exactly, so its noise is unit-variance white and this is what it uses.

    `reference` (same shape): another series, transformed on the chosen plane with the same
    normalisation (QGram.reference); the simulator passes its noise alone, so that
    `QGram.excess()` is the glitch's energy |s|^2 + 2 Re(s n*) over the noise it sits in.

    `fmax` (Hz, at most FMAX): the top of the band tiled, for data whose content stops below
    FMAX (ml scan's upsampled strain: its own Nyquist); `spectrogram` leaves the rows above it
    blank. The tiling must reach it: gwpy lowers its top frequency to
    sample_rate / 2 / (1 + sqrt(11) / Q_min), 1291 Hz at 4096 Hz (a warning), 2239 Hz at 8192.
    """
    from gwpy.signal.qtransform import QTiling

    n = whitened.size
    duration = n / sample_rate
    # gwpy's FFT convention (TimeSeries.fft): rfft / N, one-sided (doubled but DC)
    fseries = np.fft.rfft(whitened) / n
    fseries[1:] *= 2.0
    white_mean = 8.0 * duration / float(n) ** 3
    tiling = QTiling(duration, sample_rate, qrange=QRANGE, frange=(FMIN, fmax))
    best: QGram | None = None
    best_plane: Any = None
    best_scale: list[float] = []
    for plane in tiling:
        energies = []
        scales = []
        peak = {"energy": 0.0, "frequency": 0.0, "time": 0.0}
        for tile in plane:
            energy = _tile_energy(fseries, tile)
            scale = float(np.median(energy)) / math.log(2.0) if norm == "median" else white_mean
            energy /= scale
            scales.append(scale)
            dt = duration / energy.size
            lo = max(int(math.ceil((centre - 0.25 - epoch) / dt)), 0)
            hi = min(int(math.floor((centre + 0.25 - epoch) / dt)) + 1, energy.size)
            if hi > lo:
                i = lo + int(np.argmax(energy[lo:hi]))
                if energy[i] > peak["energy"]:
                    peak = {
                        "energy": float(energy[i]),
                        "frequency": float(tile.frequency),
                        "time": epoch + i * dt,
                    }
            energies.append(energy)
        if best is None or peak["energy"] > best.peak["energy"]:
            freqs = np.asarray(plane.frequencies, dtype=np.float64)
            best = QGram(float(plane.q), freqs, energies, epoch, duration, peak, fmax=fmax)
            best_plane, best_scale = plane, scales
    assert best is not None
    if reference is not None:
        rseries = np.fft.rfft(reference) / n
        rseries[1:] *= 2.0
        best.reference = [
            _tile_energy(rseries, tile) / scale
            for tile, scale in zip(best_plane, best_scale, strict=True)
        ]
    return best


def _tile_energy(fseries: NDArray[np.complex128], tile: Any) -> NDArray[np.float64]:
    """Un-normalised energy of one Q tile row (gwpy's QTile) of a one-sided spectrum."""
    windowed = fseries[tile.get_data_indices()] * tile.get_window()
    padded = np.pad(windowed, tile.padding, mode="constant")
    tdenergy = np.fft.ifft(np.fft.ifftshift(padded))
    return np.asarray(tdenergy.real**2 + tdenergy.imag**2, dtype=np.float64)


def spectrogram(
    qgram: QGram,
    *,
    centre: float,
    duration: float,
    width: int = PLOT_WIDTH,
    height: int = PLOT_HEIGHT,
    floor: float | None = 0.0,
) -> NDArray[np.float32]:
    """Normalised energy on the pixel grid of one window: float32 (height, width), top row = FMAX.

    Values below `floor` are raised to it (None: kept, for an excess that may be negative).
    Rows above the band the Q-scan tiled (`qgram.fmax`, below FMAX only for data sampled
    below 4096 Hz) are blank (energy 0): nothing was measured there. Between the top tile row
    and `qgram.fmax` (half a tile step) the top row is held, as near any edge of the tiling.

    Each Q row is cubic-interpolated in time (only the samples the window needs), then
    the rows are cubic-interpolated in log frequency, as gwpy's `QGram.interpolate`
    does for the whole stretch. Gravity Spy's make_q_scans asked gwpy for a grid of
    tres=2 ms by fres=0.5 Hz and its plot filled each pixel from the grid cell holding the
    pixel's centre, so the interpolation is evaluated at those grid points only: a 0.5 s
    window has 250 distinct columns, and below ~20 Hz a 0.5 Hz row spans several pixels.
    """
    from scipy.interpolate import InterpolatedUnivariateSpline, RectBivariateSpline

    freqs = qgram.frequencies
    # Gravity Spy drew each window from gwpy's interpolation onto a TRES x FRES grid (time x
    # linear frequency), each grid cell filling the pixels whose centre falls in it; compute
    # the grid points the pixels use, then spread them over the pixels
    start = centre - duration / 2
    pixel_t = start + (np.arange(width) + 0.5) * duration / width
    column = np.floor((pixel_t - start) / TRES + 1e-9).astype(np.int64)
    columns, col_of_pixel = np.unique(column, return_inverse=True)
    xout = start + columns * TRES
    rows = np.empty((freqs.size, xout.size), dtype=np.float64)
    pixel = max(duration / width, TRES)  # time between the samples used
    for i, values in enumerate(qgram.energies):
        x0, dx = qgram.epoch, qgram.duration / values.size
        i0 = max(int(math.floor((xout[0] - x0) / dx)) - 4, 0)
        i1 = min(int(math.ceil((xout[-1] - x0) / dx)) + 5, values.size)
        xs = x0 + dx * np.arange(i0, i1)
        if dx < pixel:  # several tiles per pixel: linear is as smooth, and 20x cheaper
            rows[i] = np.interp(xout, xs, values[i0:i1])
        elif i1 - i0 >= 4:
            rows[i] = InterpolatedUnivariateSpline(xs, values[i0:i1], k=3, ext=3)(xout)
        else:
            rows[i] = np.interp(xout, x0 + dx * np.arange(values.size), values)
    logf = np.log(freqs)
    # each grid row is evaluated at its lower edge; gwpy's own was at its centre (+FRES/2), a
    # quarter-hertz shift tried and not adopted (docs/real_benchmark.md, the grid trial)
    grid_f = FMIN + np.floor((row_frequencies(height) - FMIN) / FRES + 1e-9) * FRES
    fvalues, row_of_pixel = np.unique(grid_f, return_inverse=True)  # ascending
    target = np.clip(np.log(fvalues), logf[0], logf[-1])
    grid = RectBivariateSpline(logf, xout, rows, kx=3, ky=1)(target, xout)
    grid[fvalues > qgram.fmax] = 0.0  # no data: not the top row's values held up to FMAX
    out = grid[row_of_pixel][:, col_of_pixel]
    if floor is not None:
        out = np.clip(out, floor, None)
    return out.astype(np.float32)


@lru_cache(maxsize=1)
def _viridis_lut() -> NDArray[np.uint8]:
    from matplotlib import colormaps

    lut = colormaps["viridis"](np.linspace(0.0, 1.0, 256))[:, :3]
    return np.round(lut * 255).astype(np.uint8)


def colourise(values: NDArray[np.float32]) -> NDArray[np.uint8]:
    """Viridis RGB (H, W, 3) uint8 of normalised energy, 0..VMAX mapped to the full map."""
    index = np.clip(values * (255.0 / VMAX), 0, 255).astype(np.uint8)
    return _viridis_lut()[index]


def _time_ticks(duration: float) -> tuple[list[float], list[str]]:
    half = duration / 2
    ticks = [-half, -half / 2, 0.0, half / 2, half]
    labels = []
    for t in ticks:
        text = f"{t:g}" if abs(t) not in (0.125, 0.25) else f"{t:.3f}".rstrip("0")
        if "." not in text:
            text += ".0"
        labels.append(text)
    return ticks, labels


@lru_cache(maxsize=32)
def frame(title: str, duration: float) -> NDArray[np.uint8]:
    """The 800x600 RGB frame (title, axes, ticks, colour bar) of one window, uint8 (600, 800, 3)."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.colorbar import ColorbarBase
    from matplotlib.colors import Normalize
    from matplotlib.figure import Figure
    from matplotlib.ticker import FixedLocator, NullLocator

    width, height = FULL_SIZE
    left, top, right, bottom = PLOT_BOX
    fig = Figure(figsize=(width / 100, height / 100), dpi=100, facecolor="white")
    FigureCanvasAgg(fig)
    ax = fig.add_axes(
        (left / width, 1 - bottom / height, (right - left) / width, (bottom - top) / height)
    )
    ax.set_yscale("log", base=2)
    ax.set_xlim(-duration / 2, duration / 2)
    ax.set_ylim(FMIN, FMAX)
    yticks = [16, 32, 64, 128, 256, 512, 1024, 2048]
    ax.yaxis.set_major_locator(FixedLocator(yticks))
    ax.yaxis.set_minor_locator(NullLocator())
    ax.set_yticklabels([str(y) for y in yticks], fontsize=12)
    xticks, xlabels = _time_ticks(duration)
    ax.set_xticks(xticks)
    ax.set_xticklabels(xlabels, fontsize=15)
    ax.tick_params(direction="in", length=4, top=False, right=False)
    ax.set_xlabel("Time (s)", fontsize=20)
    ax.set_ylabel("Frequency (Hz)", fontsize=20)
    ax.set_facecolor(tuple(_viridis_lut()[0] / 255.0))
    fig.suptitle(title, fontsize=20, y=0.985)
    cax = fig.add_axes((690 / width, 1 - bottom / height, 22 / width, (bottom - top) / height))
    bar = ColorbarBase(cax, cmap="viridis", norm=Normalize(0.0, VMAX))
    bar.set_ticks([0, 5, 10, 15, 20, 25])
    bar.ax.tick_params(labelsize=12)
    bar.set_label("Normalized energy", fontsize=15)
    fig.canvas.draw()
    rgba = np.asarray(fig.canvas.buffer_rgba())  # type: ignore[attr-defined]
    return np.array(rgba[:, :, :3], dtype=np.uint8)


def title_for(ifo: str) -> str:
    """Plot title of a detector, as on Gravity Spy's images ('Hanford', 'Livingston')."""
    return SITE_NAMES.get(ifo, ifo)


def render_image(
    values: NDArray[np.float32], *, style: Style, title: str, duration: float
) -> NDArray[np.uint8]:
    """RGB uint8 image of one window: (600, 800, 3) for `full`, (479, 572, 3) for `crop`."""
    pixels = colourise(values)
    if style == "crop":
        return pixels
    if style != "full":
        raise ValueError(f"unknown style {style!r}")
    image = frame(title, duration).copy()
    left, top, right, bottom = PLOT_BOX
    # keep the frame's spines (rows 61-62, 539-540; columns 101-102, 672-673)
    image[top + 2 : bottom - 1, left + 2 : right - 1] = pixels[2:-1, 2:-1]
    return image


def save_png(image: NDArray[np.uint8], path: Path) -> None:
    """Write an RGB uint8 array as PNG; byte-identical for identical arrays (no metadata)."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(image, mode="RGB").save(buffer, format="PNG", compress_level=1)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buffer.getvalue())
