"""`python -m ml scan`: Gravity Spy-style Omega scans of real strain around a list of trigger times.

Reads strain that gwpy reads offline (GWOSC HDF5, GWF with --channel, or a plain series
in .txt/.npy with --sample-rate and --gps-start), whitens a stretch around each trigger
with an ASD estimated from the data (gwpy), runs ONE Q-scan per trigger (per-row median
normalisation, as Gravity Spy) and writes the four windows in the simulator's layout:
OUT/<label>/<ifo>_<id>_spectrogram_<dur>.png plus OUT/manifest.csv.

Every Q-scan runs at SCAN_RATE (8192 Hz): faster data are resampled to it before whitening;
slower data (GWOSC's 4096 Hz files) are whitened at their own rate and the whitened stretch
is upsampled to it. gwpy's tiling of 4096 Hz data stops at 1291 Hz (the lowest-Q tiles'
windows must end below the Nyquist), which hid 1.3-2 kHz; upsampled, every tile up to 2048 Hz
is there, each over the part of its window the data hold (the band above their Nyquist is
empty: upsampling after whitening adds nothing there). Gravity Spy resampled every input to
16384 Hz for the same reason. Data sampled below 4096 Hz are tiled up to their Nyquist only.

The manifest also carries each trigger's metadata under Gravity Spy's names (ml.metadata):
ifo, gps_time (its event_time), channel, and what the scan measures of its loudest tile:
peak_frequency, central_freq, bandwidth, glitch_duration, snr and q_value. One tile is
not Omicron's cluster of tiles: central_freq is the tile's frequency (the peak's), and
bandwidth and duration are the tile's, as gwpy's QPlane.table reports them.
"""

from __future__ import annotations

import argparse
import csv
import re
import sys
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np

from ml.data import MANIFEST_COLUMNS, MANIFEST_NAME
from ml.errors import UserError
from ml.metadata import IFO, MANIFEST_NAMES, hashed_id
from ml.synth.render import FMAX, FMIN

SCAN_RATE = 8192.0  # Hz: every Q-scan runs at this rate (>= 8192 tiles up to 2048 Hz)
HALF_STRETCH = 4.0  # s: the Q-scan sees trigger +- 4 s (the 4 s window plus margins)
WHITEN_PAD = 16.0  # s: extra data on each side for the ASD estimate and the filter ramps
FFT_LENGTH = 2.0  # s: ASD estimate segments (0.5 Hz resolution, well below 10 Hz)
UNLABELLED = "unlabelled"  # folder of triggers that come without a label
LABEL = re.compile(r"[A-Za-z0-9][A-Za-z0-9_]{0,63}")  # a class name (1080Lines starts with 1)
SCAN_COLUMNS = (
    *MANIFEST_COLUMNS,  # what ml.data reads; the rest describes the scan
    "ifo",
    MANIFEST_NAMES["event_time"],
    "channel",
    "peak_frequency",
    "central_freq",
    "bandwidth",
    MANIFEST_NAMES["duration"],
    "peak_energy",
    "snr",
    "q_value",
    "q_plane",
    "sample_rate",
    "source",
    "style",
)


@dataclass(frozen=True)
class Trigger:
    gps: float  # GPS time the windows are centred on
    id: str  # alphanumeric id (from the list, or derived from source and time)
    label: str  # class label, or "" if unknown
    # the time exactly as the list gives it, in plain decimals ("1126259462.4123"): what the
    # manifest's gps_time says (a float holds only ~0.2 us at 1e9 s; Omicron gives ns)
    exact: str


def read_strain(
    path: Path,
    *,
    sample_rate: float | None = None,
    gps_start: float = 0.0,
    channel: str | None = None,
) -> Any:
    """A gwpy TimeSeries from a GWOSC HDF5, GWF, .txt or .npy file (read offline)."""
    from gwpy.timeseries import TimeSeries

    if not path.is_file():
        raise UserError(f"no such strain file: {path}")
    suffix = path.suffix.lower()
    try:
        if suffix in (".hdf5", ".h5", ".hdf"):
            return TimeSeries.read(str(path), format="hdf5.gwosc")
        if suffix == ".gwf":
            if not channel:
                raise UserError("a .gwf file needs --channel (e.g. H1:GDS-CALIB_STRAIN)")
            return TimeSeries.read(str(path), channel)
        if suffix in (".txt", ".dat", ".csv", ".npy"):
            data = np.load(path) if suffix == ".npy" else np.loadtxt(path, delimiter=None)
            data = np.asarray(data, dtype=np.float64)
            if data.ndim == 2 and data.shape[1] == 2:  # (time, value) columns
                dt = float(np.median(np.diff(data[:, 0])))
                return TimeSeries(data[:, 1], t0=float(data[0, 0]), dt=dt)
            if data.ndim != 1:
                raise UserError(f"{path}: expected one column of samples or (time, value)")
            if not sample_rate:
                raise UserError(f"{path}: a plain series needs --sample-rate")
            return TimeSeries(data, t0=gps_start, sample_rate=sample_rate)
    except UserError:
        raise
    except Exception as exc:  # gwpy/h5py raise many kinds; the user needs one line
        raise UserError(f"cannot read strain from {path}: {exc}") from None
    raise UserError(f"unknown strain format {suffix!r}: use .hdf5, .gwf, .txt or .npy")


def read_triggers(path: Path, source: str) -> list[Trigger]:
    """Triggers from a CSV with a `gps` (or `time`) column and optional `id`, `label`, one per
    id: a trigger within 0.1 ms of an earlier one draws its id and is that glitch again, left
    out with a line on stderr; an id given to two triggers is refused (one id names the
    files, and the second trigger's images replaced the first's)."""
    if not path.is_file():
        raise UserError(f"no such trigger list: {path}")
    with path.open(newline="") as f:
        rows = list(csv.DictReader(f))
    if not rows:
        return []
    columns = {c.strip().lower(): c for c in rows[0]}
    time_col = columns.get("gps") or columns.get("time") or columns.get("gps_time")
    if time_col is None:
        raise UserError(f"{path}: needs a 'gps' or 'time' column")
    triggers: list[Trigger] = []
    first: dict[str, tuple[Trigger, bool]] = {}  # id -> its first trigger, and if it was drawn
    for row in rows:
        exact = _exact_time(row[time_col] or "")
        if exact is None:
            raise UserError(f"{path}: bad time {row[time_col]!r}")
        gps = float(exact)
        given = (row.get(columns.get("id", ""), "") or "").strip()
        gid = given or _trigger_id(source, exact)
        if not gid.replace("_", "").replace("-", "").isalnum():
            raise UserError(f"{path}: id {gid!r} must be letters and digits")
        label = (row.get(columns.get("label", ""), "") or "").strip()
        if label and not LABEL.fullmatch(label):
            # The label names the folder the images go to: "../x" wrote outside --out.
            raise UserError(f"{path}: label {label!r} must be a class name (letters, digits, _)")
        trigger = Trigger(gps, gid, label, exact)
        if gid in first:
            # One id names the files: a second trigger under it wrote over the first's images.
            earlier, drawn = first[gid]
            if drawn and not given and _id_key(earlier.exact) == _id_key(exact):
                print(
                    f"{path.name}: {exact} lies within 0.1 ms of {earlier.exact}: one glitch, "
                    f"scanned once as {gid}",
                    file=sys.stderr,
                )
                continue
            raise UserError(f"{path}: id {gid!r} names two triggers: each needs its own")
        first[gid] = (trigger, not given)
        triggers.append(trigger)
    return triggers


def _exact_time(text: str) -> str | None:
    """A time as plain decimals, every digit given kept (1.1262594624123e9 ->
    1126259462.4123; 1126259462.41230 stays so), or None if it is not a finite number of a
    sane size (1e-999999999 would be a billion zeros)."""
    try:
        time = Decimal(text.strip())
    except ArithmeticError:  # decimal.InvalidOperation: not a number
        return None
    exponent = time.as_tuple().exponent
    if not time.is_finite() or not isinstance(exponent, int) or exponent < -30:
        return None  # "nan", "inf" (float() reads them)
    if time.adjusted() > 30:
        return None
    return format(time, "f")


def _id_key(exact: str) -> str:
    """The time as a trigger's id reads it: to 0.1 ms, as every scan has (float, 4 decimals)."""
    return f"{float(exact):.4f}"


def _trigger_id(source: str, exact: str) -> str:
    """10 characters drawn from (source, time to 0.1 ms): the id every scan has given that
    trigger, so a re-scan's import (deduplicated on source and id) finds its glitches again.
    A time hashed in full gave a time finer than 0.1 ms (nearly every Omicron or Gravity Spy
    trigger) a new id and the import a second copy of each glitch."""
    return hashed_id(f"{source}:{_id_key(exact)}")


def whitened_stretch(strain: Any, gps: float) -> tuple[np.ndarray, float] | None:
    """Whitened samples of gps +- HALF_STRETCH at SCAN_RATE and their start time; None if out
    of the data. `strain` is sampled at SCAN_RATE or below (GWOSC's 4 kHz files are common):
    it is whitened at its own rate, then upsampled (polyphase, band-limited: the band above
    its Nyquist stays empty, where whitening first would have lifted the filter's leakage,
    images of the band below, to the noise's level)."""
    from fractions import Fraction

    from scipy.signal import resample_poly

    start, end = float(strain.span[0]), float(strain.span[1])
    lo, hi = gps - HALF_STRETCH, gps + HALF_STRETCH
    ramp = FFT_LENGTH  # the whitening filter corrupts ~fftlength/2 at each end
    if lo - ramp < start or hi + ramp > end:
        return None
    segment = strain.crop(max(start, lo - WHITEN_PAD), min(end, hi + WHITEN_PAD))
    white = segment.whiten(fftlength=FFT_LENGTH, overlap=FFT_LENGTH / 2)
    values = np.asarray(white.value, dtype=np.float64)
    rate = float(white.sample_rate.value)
    if rate < SCAN_RATE:
        ratio = Fraction(SCAN_RATE / rate).limit_denominator(1000)
        values = resample_poly(values, ratio.numerator, ratio.denominator)  # ms of edge effects
    rate = SCAN_RATE
    n = int(round(2 * HALF_STRETCH * rate))
    i0 = int(round((lo - float(white.t0.value)) * rate))
    data = np.asarray(values[i0 : i0 + n], dtype=np.float64)
    if data.size != n or not np.all(np.isfinite(data)):
        return None
    return data, float(white.t0.value) + i0 / rate


def scan(
    strain_path: str | Path,
    times_path: str | Path,
    out_dir: str | Path,
    *,
    ifo: str | None = None,
    style: str = "full",
    sample_rate: float | None = None,
    gps_start: float = 0.0,
    channel: str | None = None,
    progress: bool = False,
) -> Path:
    """Render the four windows around every trigger; returns OUT/manifest.csv. Skips triggers
    too close to the data's edges (reported on stderr)."""
    from ml.synth.generate import image_name, render_windows
    from ml.synth.render import STYLES, duration_label, save_png, title_for

    if style not in STYLES:
        raise UserError(f"unknown style {style!r}: use one of {', '.join(STYLES)}")
    if (Path(out_dir) / MANIFEST_NAME).exists():
        raise UserError(
            f"{out_dir} already holds a {MANIFEST_NAME} (an earlier scan or a dataset), which this "
            "scan would replace: choose a new --out folder"
        )
    if ifo is not None and not IFO.fullmatch(ifo):
        raise UserError(f"--ifo {ifo!r} is not a detector name (H1, L1, V1 ...)")
    strain_file = Path(strain_path)
    strain = read_strain(strain_file, sample_rate=sample_rate, gps_start=gps_start, channel=channel)
    rate = float(strain.sample_rate.value)
    if rate > SCAN_RATE:
        strain = strain.resample(SCAN_RATE)
    data_rate = min(rate, SCAN_RATE)  # the rate of what is scanned (upsampling adds nothing)
    # Hz: the top of the band the Q tiles cover (a rate read from time stamps may be a hair
    # under 4096 Hz)
    band_top = FMAX if data_rate / 2 >= FMAX * (1 - 1e-6) else data_rate / 2
    if band_top <= 2 * FMIN:
        raise UserError(
            f"{rate:g} Hz data reach only {rate / 2:g} Hz: too little above the plots' "
            f"{FMIN:g} Hz for a Q-scan"
        )
    if rate < SCAN_RATE:
        print(_rate_note(rate, band_top), file=sys.stderr)
    detector = ifo or _ifo_of(strain)
    if detector is None:
        # It names every file (<ifo>_<id>_...), titles the plots and fills the ifo column that
        # the web import and ml.data read: a guess made Livingston data "Hanford" throughout.
        raise UserError(
            f"{strain_file.name} does not say which detector recorded it: give --ifo "
            "(H1, L1, V1 ...)"
        )
    channel_name = channel or _channel_of(strain)
    triggers = read_triggers(Path(times_path), strain_file.name)
    out = Path(out_dir)
    rows: list[dict[str, str]] = []
    skipped = 0
    items: Any = triggers
    if progress:
        from tqdm import tqdm

        items = tqdm(triggers, unit="trigger", desc="scan")
    for trig in items:
        stretch = whitened_stretch(strain, trig.gps)
        if stretch is None:
            skipped += 1
            continue
        data, t0 = stretch
        images, peak = render_windows(
            data,
            SCAN_RATE,
            epoch=t0 - trig.gps,
            centre=0.0,
            title=title_for(detector),
            styles=[style],
            norm="median",
            fmax=band_top,
        )
        bandwidth, tile_duration = loudest_tile(
            peak["peak_frequency"],
            peak["q_plane"],
            stretch=data.size / SCAN_RATE,
            rate=SCAN_RATE,
            fmax=band_top,
        )
        folder = trig.label or UNLABELLED
        for (_, duration), image in images.items():
            rel = Path(folder) / image_name(detector, trig.id, duration)
            save_png(image, out / rel)
            rows.append(
                {
                    "id": trig.id,
                    "label": trig.label,
                    "duration": duration_label(duration),
                    "path": rel.as_posix(),
                    "ifo": detector,
                    "gps_time": trig.exact,
                    "channel": channel_name,
                    "peak_frequency": f"{peak['peak_frequency']:.6g}",
                    "central_freq": f"{peak['peak_frequency']:.6g}",
                    "bandwidth": f"{bandwidth:.6g}",
                    "glitch_duration": f"{tile_duration:.6g}",
                    "peak_energy": f"{peak['peak_energy']:.6g}",
                    "snr": f"{(2 * peak['peak_energy']) ** 0.5:.6g}",
                    "q_value": f"{peak['q_plane']:.6g}",
                    "q_plane": f"{peak['q_plane']:.6g}",
                    "sample_rate": f"{data_rate:g}",
                    "source": strain_file.name,
                    "style": style,
                }
            )
    if skipped:
        print(f"skipped {skipped} trigger(s) too close to the data's edges", file=sys.stderr)
    if triggers and not rows:
        raise UserError("no trigger lies inside the strain data (with 6 s to spare each side)")
    out.mkdir(parents=True, exist_ok=True)
    manifest = out / MANIFEST_NAME
    with manifest.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=SCAN_COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    return manifest


def loudest_tile(
    frequency: float, q: float, *, stretch: float, rate: float, fmax: float = FMAX
) -> tuple[float, float]:
    """(bandwidth in Hz, duration in s) of the Q-transform tile at `frequency` Hz in the
    plane of quality `q`, over `stretch` s sampled at `rate` Hz: the values gwpy's
    QPlane.table gives that tile (bandwidth 2 sqrt(pi) f / Q; duration the row's tile
    spacing), with the tiling ml.synth.render.q_scan used (up to `fmax` Hz)."""
    from gwpy.signal.qtransform import QTiling

    from ml.synth.render import QRANGE

    tiling = QTiling(stretch, rate, qrange=QRANGE, frange=(FMIN, fmax))
    plane = min(tiling, key=lambda p: abs(float(p.q) - q))
    row = min(plane, key=lambda r: abs(float(r.frequency) - frequency))
    return float(row.bandwidth), stretch / int(row.ntiles)


def _rate_note(rate: float, band_top: float) -> str:
    """What stderr says of strain sampled below SCAN_RATE: how far up the scan reaches."""
    how = f"whitened at {rate:g} Hz, then upsampled to {SCAN_RATE:g} Hz for the Q tiles"
    if band_top >= FMAX:
        return (
            f"note: {rate:g} Hz data are scanned up to {band_top:g} Hz, their Nyquist ({how}); "
            "near it the file's own anti-aliasing filter shapes what is shown (GWOSC: use its "
            "16 kHz files for glitches above ~1.6 kHz)"
        )
    return (
        f"warning: {rate:g} Hz data reach only {band_top:g} Hz, their Nyquist ({how}): the "
        f"plots are blank from {band_top:g} to {FMAX:g} Hz and no peak is looked for there"
    )


def _channel_of(strain: Any) -> str:
    """The strain's channel name when the file names one (a GWF channel), else ""."""
    name = str(getattr(strain, "channel", "") or getattr(strain, "name", "") or "")
    return name if ":" in name else ""


def _ifo_of(strain: Any) -> str | None:
    """The detector a GWOSC HDF5 or GWF file names (its channel's prefix, `L1:Strain`), else
    None: a plain series does not say."""
    name = str(getattr(strain, "name", "") or getattr(strain, "channel", "") or "")
    prefix = name.split(":", 1)[0]
    return prefix if IFO.fullmatch(prefix) else None


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--strain", required=True, help="GWOSC .hdf5, .gwf, .txt or .npy file")
    parser.add_argument("--times", required=True, help="CSV with a gps/time column (id, label)")
    parser.add_argument("--out", required=True, help="output folder")
    parser.add_argument(
        "--ifo", help="detector, e.g. L1 (default: the file's; a plain .txt/.npy series needs it)"
    )
    parser.add_argument("--style", default="full", choices=("full", "crop"))
    parser.add_argument("--sample-rate", type=float, help="Hz, for a plain .txt/.npy series")
    parser.add_argument("--gps-start", type=float, default=0.0, help="GPS of a plain series")
    parser.add_argument("--channel", help="channel to read from a .gwf file")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def run(args: argparse.Namespace) -> int:
    manifest = scan(
        args.strain,
        args.times,
        args.out,
        ifo=args.ifo,
        style=args.style,
        sample_rate=args.sample_rate,
        gps_start=args.gps_start,
        channel=args.channel,
        progress=not args.quiet,
    )
    print(f"wrote {manifest}")
    return 0
