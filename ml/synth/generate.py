"""Simulator driver: noise + glitch -> whitened Q-scan -> four images, many glitches in parallel.

Every glitch has its own seed derived from (seed, class, index), so the output does not
depend on the number of workers, and the same seed gives the same bytes. The output
folder follows Gravity Spy's Zenodo layout, `OUT/<label>/<ifo>_<id>_spectrogram_<dur>.png`,
with `OUT/manifest.csv` (one row per image) and `OUT/config.json` (the arguments; a
second call with the same arguments returns at once).
"""

from __future__ import annotations

import csv
import hashlib
import json
import multiprocessing
import os
import threading
import warnings
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ml import data, files
from ml.classes import CANONICAL_NAMES
from ml.errors import UserError
from ml.metadata import hashed_id, tile_bandwidth
from ml.synth import render
from ml.synth.backgrounds import VERSION as BACKGROUNDS_VERSION
from ml.synth.backgrounds import BackgroundBank, bank_from_folder, load_bank
from ml.synth.noise import colour, whiten_design
from ml.synth.waveforms import (
    NEW_CLASS_NAMES,
    WAVEFORMS,
    Context,
    Glitch,
    background_transients,
    noise_envelope,
)

SAMPLE_RATE = 8192.0  # Hz: >= 8192 so the Q-scan reaches 2048 Hz
STRETCH = 8.0  # s of simulated strain per glitch: the 4 s window plus margins
GPS_RANGE = (1126051217.0, 1137254417.0)  # O1, for GPS-like trigger times
IFOS = ("H1", "L1")
FORMAT_VERSION = 5  # bump when the images change for the same arguments (invalidates caches)


def source_digest() -> str:
    """The simulator's own source (this package's modules, ml.files.source_digest): a run
    cached under the same arguments but drawn by other code is drawn again (a simulator trial
    compared with the default must not read the default's cached glitches). Read when
    `generate` first runs, not when the package is imported (`ml train` imports it for
    `written_by_synth`)."""
    return files.source_digest(Path(__file__).parent)


MANIFEST_COLUMNS = (
    *data.MANIFEST_COLUMNS,  # what ml.data reads; the rest describes the simulation
    "ifo",
    "gps_time",
    "snr",
    "central_frequency",
    "bandwidth",  # of the loudest Q tile (ml.metadata.tile_bandwidth), as Gravity Spy's
    "peak_frequency",
    "peak_energy",
    "q",
    "q_plane",
    "glitch_duration",
    "repetitions",
    "time_offset",
    "sample_rate",
    "seed",
    "index",
    "style",
    "extra",
    "background",  # id of the real glitch whose background it was pasted on ("" = simulated)
)

Progress = bool | Callable[[int, int], None]


# Classes renamed since their glitches were first drawn, by the name they were drawn under:
# seeds and ids keep it, so that a run draws the glitches it drew before the rename (the
# benchmarks' recorded pools among them).
DRAWN_AS: dict[str, str] = {"Blip_Low_Frequency": "Low_Frequency_Blip"}


def glitch_seed(seed: int, label: str, index: int) -> int:
    """The 63-bit seed of glitch `index` of class `label` for the run seed `seed`."""
    label = DRAWN_AS.get(label, label)
    digest = hashlib.sha256(f"glitchlab-synth:{seed}:{label}:{index}".encode()).digest()
    return int.from_bytes(digest[:8], "big") >> 1


def glitch_id(seed: int, label: str, index: int) -> str:
    """A 10-character alphanumeric id, like Gravity Spy's, unique per (seed, label, index)."""
    label = DRAWN_AS.get(label, label)
    return hashed_id(f"id:{seed}:{label}:{index}")


@dataclass
class Simulation:
    whitened: NDArray[np.float64]  # whitened strain, unit-variance noise, STRETCH s long
    stationary: NDArray[np.float64]  # the white noise with its level drift, before colouring
    strain: NDArray[np.float64]  # the coloured strain it came from
    glitch: Glitch
    ifo: str
    gps_time: float  # GPS time of the trigger (the centre of every window)
    time_offset: float  # s: where the glitch sits relative to the trigger

    def whitened_noise(self) -> NDArray[np.float64]:
        """The whitened noise alone, without the glitch and the faint unrelated transients:
        what a real background replaces (render_windows). Made only when asked: it costs a
        third of a simulation, and only glitches drawn on a real background need it."""
        return whiten_design(colour(self.stationary, SAMPLE_RATE), SAMPLE_RATE)


def time_axis(n: int, sample_rate: float) -> NDArray[np.float64]:
    """Seconds relative to the trigger, which sits in the middle of the stretch."""
    return np.asarray(np.arange(n) / sample_rate - n / sample_rate / 2, dtype=np.float64)


def simulate(label: str, seed: int) -> Simulation:
    """One glitch of class `label` in design-PSD noise, from its own seed (see `glitch_seed`)."""
    if label not in WAVEFORMS:
        raise UserError(f"unknown class {label!r}")
    rng = np.random.default_rng(seed)
    ifo = IFOS[int(rng.integers(0, len(IFOS)))]
    gps_time = round(float(rng.uniform(*GPS_RANGE)), 3)
    n = int(STRETCH * SAMPLE_RATE)
    white = rng.standard_normal(n)
    ctx = Context(rng, time_axis(n, SAMPLE_RATE), SAMPLE_RATE)
    glitch = WAVEFORMS[label](ctx)
    stationary = white * noise_envelope(ctx)
    strain = colour(stationary + background_transients(ctx) + glitch.waveform, SAMPLE_RATE)
    whitened = whiten_design(strain, SAMPLE_RATE)
    offset = ctx.offset if ctx.offset is not None else 0.0
    return Simulation(whitened, stationary, strain, glitch, ifo, gps_time, offset)


# background(duration, simulated noise energy of that window) -> the energy drawn instead
Background = Callable[[float, NDArray[np.float32]], NDArray[np.float32]]


def render_windows(
    whitened: NDArray[np.float64],
    sample_rate: float,
    *,
    epoch: float,
    centre: float,
    title: str,
    styles: Sequence[str],
    norm: str = "white",
    noise: NDArray[np.float64] | None = None,
    background: Background | None = None,
    fmax: float = render.FMAX,
) -> tuple[dict[tuple[str, float], NDArray[np.uint8]], dict[str, float]]:
    """Images {(style, duration): RGB uint8} of the four windows around `centre`, from ONE Q-scan.

    With `background` and `noise` (the whitened noise alone, the shape of `whitened`), each
    window is background(duration, the noise's own energy in that window) (float32
    (PLOT_HEIGHT, PLOT_WIDTH) normalised energy, e.g. a real background from
    ml.synth.backgrounds) plus the glitch's excess energy over its noise on the same Q
    plane, |s|^2 + 2 Re(s n*): the simulated noise is gone, the speckle it puts on the glitch
    stays. Also returns the scan's loudest tile (of `whitened`):
    {"peak_frequency", "peak_energy", "q_plane"}. `fmax`: render.q_scan's, the top of the
    band that holds data (ml scan's strain sampled below 4096 Hz).
    """
    backgrounds = background is not None
    if backgrounds and noise is None:
        raise ValueError("a background needs the noise alone (noise=...)")
    qgram = render.q_scan(
        whitened,
        sample_rate,
        epoch=epoch,
        centre=centre,
        norm="median" if norm == "median" else "white",
        reference=noise if backgrounds else None,
        fmax=fmax,
    )
    noise_gram = qgram.reference_gram() if backgrounds else None
    excess = qgram.excess() if backgrounds else None
    images: dict[tuple[str, float], NDArray[np.uint8]] = {}
    for duration in render.DURATIONS:
        if background is not None and noise_gram is not None and excess is not None:
            own = render.spectrogram(noise_gram, centre=centre, duration=duration)
            glitch = render.spectrogram(excess, centre=centre, duration=duration, floor=None)
            values = np.clip(background(duration, own) + glitch, 0.0, None)
        else:
            values = render.spectrogram(qgram, centre=centre, duration=duration)
        for style in styles:
            images[(style, duration)] = render.render_image(
                values,
                style=style,  # type: ignore[arg-type]
                title=title,
                duration=duration,
            )
    peak = {
        "peak_frequency": float(qgram.peak["frequency"]),
        "peak_energy": float(qgram.peak["energy"]),
        "q_plane": qgram.q,
    }
    return images, peak


def image_name(ifo: str, glitch_id_: str, duration: float) -> str:
    """Gravity Spy's file name of one window."""
    return f"{ifo}_{glitch_id_}_spectrogram_{render.duration_label(duration)}.png"


def _fmt(value: float) -> str:
    return f"{value:.6g}"


BackgroundJobs = tuple[tuple[str, str, float], ...]  # ml.synth.backgrounds.load_bank's argument


def make_glitch(
    out_dir: Path,
    label: str,
    index: int,
    seed: int,
    styles: Sequence[str],
    backgrounds: tuple[BackgroundJobs, float] | None = None,
) -> list[dict[str, str]]:
    """Simulate and render glitch `index` of `label`; write its PNGs; return its manifest rows.

    With several styles, each style goes to its own sub-folder OUT/<style>/<label>/...
    `backgrounds` = (bank jobs, fraction): that share of glitches, drawn from the glitch's
    seed, is pasted on a real background from the bank instead of its simulated noise.
    """
    gseed = glitch_seed(seed, label, index)
    gid = glitch_id(seed, label, index)
    sim = simulate(label, gseed)
    donors: dict[float, str] = {}
    background: Background | None = None
    if backgrounds is not None:
        # its own stream: the glitch itself is drawn exactly as without real backgrounds
        rng = np.random.default_rng([gseed, 0xB6])
        jobs, fraction = backgrounds
        if rng.random() < fraction:
            bank = load_bank(jobs)

            def background(duration: float, noise: NDArray[np.float32]) -> NDArray[np.float32]:
                donors[duration], energy = bank.draw(duration, rng, like=noise)
                return energy

    images, peak = render_windows(
        sim.whitened,
        SAMPLE_RATE,
        epoch=-STRETCH / 2,
        centre=0.0,
        title=render.title_for(sim.ifo),
        styles=styles,
        noise=sim.whitened_noise() if background is not None else None,
        background=background,
    )
    g = sim.glitch
    common = {
        "ifo": sim.ifo,
        "gps_time": f"{sim.gps_time:.3f}",
        "snr": _fmt(g.snr),
        "central_frequency": _fmt(g.central_frequency),
        "bandwidth": _fmt(tile_bandwidth(peak["peak_frequency"], peak["q_plane"])),
        "peak_frequency": _fmt(peak["peak_frequency"]),
        "peak_energy": _fmt(peak["peak_energy"]),
        "q": _fmt(g.q),
        "q_plane": _fmt(peak["q_plane"]),
        "glitch_duration": _fmt(g.glitch_duration),
        "repetitions": str(g.repetitions),
        "time_offset": _fmt(sim.time_offset),
        "sample_rate": _fmt(SAMPLE_RATE),
        "seed": str(gseed),
        "index": str(index),
        "extra": json.dumps(g.extra, sort_keys=True, default=_jsonable),
    }
    rows = []
    for (style, duration), image in images.items():
        rel = Path(label) / image_name(sim.ifo, gid, duration)
        if len(styles) > 1:
            rel = Path(style) / rel
        render.save_png(image, out_dir / rel)
        row = {"id": gid, "label": label, "duration": render.duration_label(duration)}
        rows.append(
            {
                **row,
                "path": rel.as_posix(),
                **common,
                "style": style,
                "background": donors.get(duration, ""),
            }
        )
    return rows


def _jsonable(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def resolve_classes(classes: Iterable[str] | None, new_classes: Iterable[str] | None) -> list[str]:
    """The ordered class list of a run: the 22 (or `classes`), then `new_classes`."""
    chosen = list(CANONICAL_NAMES) if classes is None else list(classes)
    extra = list(new_classes or [])
    for name in chosen:
        if name not in CANONICAL_NAMES and name not in NEW_CLASS_NAMES:
            raise UserError(f"unknown class {name!r}; known: {', '.join(CANONICAL_NAMES)}")
    for name in extra:
        if name not in NEW_CLASS_NAMES:
            raise UserError(f"unknown new class {name!r}; known: {', '.join(NEW_CLASS_NAMES)}")
    out: list[str] = []
    for name in chosen + extra:
        if name not in out:
            out.append(name)
    return out


def _report(progress: Progress, total: int) -> Callable[[int], None]:
    if callable(progress):
        done = [0]

        def step(n: int) -> None:
            done[0] += n
            progress(done[0], total)

        return step
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=total, unit="glitch", desc="synth")

        def step_bar(n: int) -> None:
            bar.update(n)
            if bar.n >= total:
                bar.close()

        return step_bar
    return lambda n: None


def written_by_synth(root: str | os.PathLike[str]) -> bool:
    """Whether a data root (a folder, or its manifest CSV) is `generate`'s output: its
    manifest.csv beside the config.json that only ml synth writes."""
    folder = Path(root)
    folder = folder.parent if folder.suffix.lower() == ".csv" else folder
    return (folder / "manifest.csv").is_file() and (folder / "config.json").is_file()


def generate(
    out_dir: str | os.PathLike[str],
    per_class: int,
    *,
    classes: Iterable[str] | None = None,
    new_classes: Iterable[str] | None = None,
    style: str = "full",
    seed: int = 0,
    workers: int | None = None,
    progress: Progress = False,
    real_backgrounds: BackgroundBank | str | os.PathLike[str] | None = None,
    real_background_fraction: float = 0.5,
) -> Path:
    """Simulate `per_class` glitches of each class and write the four images of each.

    Args: `classes` defaults to the 22 canonical ones; `new_classes` adds classes outside
    them (ml.classes.NEW_CLASSES); `style` is "full" (800x600) or "crop" (572x479);
    `workers` processes (default: all cores); `progress` True for a tqdm bar, or a
    callback(done, total). `real_backgrounds` (a BackgroundBank, or a folder of real glitch
    images for ml.synth.backgrounds.bank_from_folder): that share of glitches,
    `real_background_fraction`, is drawn on a quiet stretch of a real image instead of
    simulated noise (the manifest's `background` column names the real glitch). Returns the
    path of OUT/manifest.csv. Cached: if OUT holds a finished run with the same arguments
    (and the same background files), drawn by the same simulator code (source_digest),
    nothing is recomputed.
    """
    if per_class < 0:
        raise UserError("--per-class must be >= 0")
    if not 0.0 <= real_background_fraction <= 1.0:
        raise UserError("--real-background-fraction must be between 0 and 1")
    styles = [s.strip() for s in style.split(",")] if style else []
    for s in styles:
        if s not in render.STYLES:
            raise UserError(f"unknown style {s!r}: use one of {', '.join(render.STYLES)}")
    labels = resolve_classes(classes, new_classes)
    out = Path(out_dir)
    manifest = out / "manifest.csv"
    config = {
        "per_class": per_class,
        "classes": labels,
        "style": ",".join(styles),
        "seed": seed,
        "version": FORMAT_VERSION,
        "source": source_digest(),
        "sample_rate": SAMPLE_RATE,
    }
    backgrounds: tuple[BackgroundJobs, float] | None = None
    if real_backgrounds is not None and real_background_fraction > 0:
        bank = (
            real_backgrounds
            if isinstance(real_backgrounds, BackgroundBank)
            else bank_from_folder(real_backgrounds)
        )
        if not isinstance(real_backgrounds, BackgroundBank):
            for problem in bank.problems:  # a caller passing a bank reports them itself
                warnings.warn(f"real backgrounds: skipped {problem}", stacklevel=2)
        backgrounds = (bank.jobs, real_background_fraction)
        config["real_backgrounds"] = f"v{BACKGROUNDS_VERSION}:{bank.fingerprint}"
        config["real_background_fraction"] = real_background_fraction
    config_path = out / "config.json"
    if manifest.exists() and not written_by_synth(out):
        raise UserError(
            f"{out} holds a manifest.csv that ml synth did not write (no config.json): a scan "
            "or another dataset, which a simulation would replace. Choose another --out"
        )
    if manifest.exists() and config_path.exists():
        try:
            if json.loads(config_path.read_text()) == config:
                return manifest
        except json.JSONDecodeError:
            pass
        _remove_previous(out, manifest)
    out.mkdir(parents=True, exist_ok=True)
    config_path.unlink(missing_ok=True)

    jobs = [(label, i) for label in labels for i in range(per_class)]
    _warm_up(styles)
    n_workers = max(1, min(workers or os.cpu_count() or 1, len(jobs) or 1))
    context = _pool_context()  # before the progress bar, whose monitor is a thread
    step = _report(progress, len(jobs))
    results: dict[tuple[str, int], list[dict[str, str]]] = {}
    if n_workers == 1:
        for label, i in jobs:
            results[(label, i)] = make_glitch(out, label, i, seed, styles, backgrounds)
            step(1)
    else:
        with ProcessPoolExecutor(max_workers=n_workers, mp_context=context) as pool:
            futures = {
                pool.submit(make_glitch, out, label, i, seed, styles, backgrounds): (label, i)
                for label, i in jobs
            }
            for future in as_completed(futures):
                results[futures[future]] = future.result()
                step(1)
    write_manifest(manifest, (row for job in jobs for row in results[job]))
    config_path.write_text(json.dumps(config, indent=1) + "\n")
    return manifest


def _pool_context() -> multiprocessing.context.BaseContext:
    """fork while this process runs no other thread: the workers inherit the warm imports and
    frames for free. A process with threads (a web server, a browser driver, a progress
    monitor) is forked with whatever locks those threads held, and the pool can hang for
    ever: then spawn, which costs each worker one import of gwpy."""
    return multiprocessing.get_context("fork" if threading.active_count() == 1 else "spawn")


def _warm_up(styles: Sequence[str]) -> None:
    """Import gwpy and draw the frames once, here: forked workers inherit them for free."""
    import gwpy.signal.qtransform  # noqa: F401

    if "full" in styles:
        for ifo in IFOS:
            for duration in render.DURATIONS:
                render.frame(render.title_for(ifo), duration)


def _remove_previous(out: Path, manifest: Path) -> None:
    """Delete the images of an earlier run with other arguments (only files it listed)."""
    with manifest.open(newline="") as f:
        for row in csv.DictReader(f):
            path = out / row.get("path", "")
            if path.is_file() and path.suffix == ".png" and out.resolve() in path.resolve().parents:
                path.unlink()
    manifest.unlink()


def write_manifest(path: Path, rows: Iterable[dict[str, str]]) -> None:
    """Write manifest rows (MANIFEST_COLUMNS) atomically."""
    tmp = path.with_suffix(".csv.tmp")
    with tmp.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=MANIFEST_COLUMNS, extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            writer.writerow(row)
    tmp.replace(path)


def read_manifest(path: str | os.PathLike[str]) -> list[dict[str, str]]:
    """The rows of a manifest written by `generate` or `ml scan`."""
    with Path(path).open(newline="") as f:
        return list(csv.DictReader(f))
