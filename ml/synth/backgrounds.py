"""Real detector background for the simulator: quiet stretches cut from real Omega scans.

A real Gravity Spy image is a colour-mapped Q-scan: inverting the viridis colour map
(ml.encoding.viridis_to_energy) gives back its normalised energy, 0..25.5 in 256 steps. The
glitch sits at t = 0; away from it the image is the detector's background, with its real
lines, low-frequency noise and texture. `BackgroundBank` keeps, for each window duration,
the columns of each real image where no glitch is (see `quiet_runs`), and `BackgroundBank.draw`
fills a whole window from them: the quiet runs of one image, in a random order, each
played forwards or backwards and mirrored at its end, from a random start. The simulator
then adds its glitch's excess energy on top, before colouring (ml.synth.generate).

Backgrounds are cut per duration (a 4 s window's texture is not a 1 s window's, stretched).
An Omega scan shows ONE Q plane: a low-Q plane draws noise as short vertical streaks, a
high-Q plane as long horizontal ones. A real background must match the plane of the glitch
drawn on it (a high-Q whistle on low-Q streaks gives itself away at a glance), so `draw`
picks among the patches whose `texture` is nearest that of the simulated noise it replaces.

Files that cannot be read are skipped, each named in `BackgroundBank.problems` (the CLI
prints them as warnings); a bank with no usable patch at all is a UserError.
"""

from __future__ import annotations

import functools
import hashlib
import os
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from ml.data import DURATIONS, Sample, load_samples
from ml.errors import UserError
from ml.synth.render import PLOT_HEIGHT, PLOT_WIDTH, VMAX

VERSION = 2  # bump when the same bank and seed draw other backgrounds (invalidates caches)
LOUD = 6.0  # normalised energy: a pixel above it is a loud tile (noise: ~0.3% of pixels)
QUIET_SHARE = 0.02  # a column with more loud pixels than this share (~10 rows) holds a glitch
CENTRE_GUARD = 0.1  # the middle 20% of every window is never background (the glitch is there)
MARGIN = 0.02  # of the width: columns this close to a loud one are left out too (faint tails)
BLEND = 24  # px: where two runs meet, they are cross-faded over this many columns
MIN_RUN = 16  # px: shorter quiet runs are dropped (too short to tile without visible repeats)
MIN_QUIET = 0.2  # of the width: an image with less quiet background gives no patch
MAX_RUNS = 3  # the longest quiet runs of an image kept: fewer joins where two runs meet
MATCH_SHARE = 0.1  # draw among this share of a duration's patches nearest in texture
MATCH_MIN = 3  # ... and never among fewer than this many
# Classes whose glitch can fill the whole window (lines, arches): none of their image is
# background, whatever the column test says.
LONG_CLASSES: frozenset[str] = frozenset(
    {"1080Lines", "Low_Frequency_Lines", "Scattered_Light", "Wandering_Line"}
)


@dataclass(frozen=True)
class Patch:
    """The quiet background of one real image, in the plot's pixel grid."""

    source: str  # id of the real glitch it was cut from
    runs: tuple[NDArray[np.uint8], ...]  # each uint8 (PLOT_HEIGHT, w): energy x 255 / VMAX
    texture: float  # `texture` of its runs (width-weighted): the Q plane it was drawn on


@dataclass
class BackgroundBank:
    """Quiet real background per window duration, from the images of real glitches."""

    patches: dict[float, list[Patch]]  # duration -> patches (in file order)
    files: tuple[str, ...]  # the image files the patches came from (sorted)
    jobs: tuple[tuple[str, str, float], ...]  # load_bank's argument: rebuilds it in a worker
    problems: list[str] = field(default_factory=list)  # "<file>: <why it was skipped>"

    @property
    def fingerprint(self) -> str:
        """sha256 of the files' names, sizes and modification times: the cache key of a run."""
        digest = hashlib.sha256()
        for name in self.files:
            stat = os.stat(name)
            digest.update(f"{name}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
        return digest.hexdigest()

    def donors(self) -> list[str]:
        """Ids of the real glitches that gave at least one patch, sorted."""
        return sorted({p.source for patches in self.patches.values() for p in patches})

    def draw(
        self,
        duration: float,
        rng: np.random.Generator,
        like: NDArray[np.float32] | None = None,
    ) -> tuple[str, NDArray[np.float32]]:
        """(donor glitch id, float32 (PLOT_HEIGHT, PLOT_WIDTH) normalised energy) of a window.

        `like`: the simulated noise the background replaces (energy, any shape); the patch is
        drawn among the MATCH_SHARE (at least MATCH_MIN) of this duration's patches nearest
        to it in `texture`, so that background and glitch look drawn on one Q plane.
        """
        choices = self.patches.get(duration, [])
        if not choices:
            raise UserError(f"no real background for the {duration} s window")
        if like is not None:
            target = texture(like)
            ranked = sorted(choices, key=lambda p: abs(p.texture - target))
            keep = max(MATCH_MIN, int(np.ceil(MATCH_SHARE * len(ranked))))
            choices = ranked[:keep]
        patch = choices[int(rng.integers(len(choices)))]
        return patch.source, fill(patch, PLOT_WIDTH, rng)


def fill(patch: Patch, width: int, rng: np.random.Generator) -> NDArray[np.float32]:
    """float32 (PLOT_HEIGHT, width) normalised energy tiled from a patch's quiet runs.

    The runs come in a random order, each forwards or backwards, cross-faded where they meet;
    the strip is then repeated mirrored (forwards, backwards, ...) so that it never jumps
    where it repeats, and read from a random start.
    """
    order = rng.permutation(len(patch.runs))
    pieces = [patch.runs[i][:, :: -1 if rng.random() < 0.5 else 1] for i in order]
    strip = pieces[0].astype(np.float32)
    for piece in pieces[1:]:
        strip = _cross_fade(strip, piece.astype(np.float32))
    period = np.concatenate([strip, strip[:, ::-1]], axis=1)
    start = int(rng.integers(period.shape[1]))
    columns = (start + np.arange(width)) % period.shape[1]
    return period[:, columns] * np.float32(VMAX / 255.0)


def _cross_fade(left: NDArray[np.float32], right: NDArray[np.float32]) -> NDArray[np.float32]:
    """`left` then `right`, overlapping by BLEND columns faded linearly from one into the other:
    two stretches of different noise meet without a hard vertical edge."""
    n = min(BLEND, left.shape[1], right.shape[1])
    ramp = np.linspace(0.0, 1.0, n + 2, dtype=np.float32)[1:-1]
    joint = left[:, left.shape[1] - n :] * (1 - ramp) + right[:, :n] * ramp
    return np.concatenate([left[:, : left.shape[1] - n], joint, right[:, n:]], axis=1)


def energy_of_image(rgb: NDArray[np.uint8]) -> NDArray[np.float32]:
    """Normalised energy (float32 (H, W), 0..VMAX) of a viridis plot area, uint8 (H, W, 3).

    The inverse of ml.synth.render.colourise, to within one colour-map step (VMAX / 255).
    """
    from ml.encoding import viridis_to_energy

    return viridis_to_energy(rgb) * np.float32(VMAX)


def texture(energy: NDArray[np.float32]) -> float:
    """How an energy image (H, W) is streaked: log of the mean absolute step of log(1 + E)
    along time over that along frequency. A low-Q plane (tiles short in time: vertical
    streaks) gives ~ +1 to +3, a high-Q plane (horizontal streaks) ~ -2 to 0."""
    values = np.log1p(np.asarray(energy, dtype=np.float32))
    along_time = float(np.abs(np.diff(values, axis=1)).mean())
    along_frequency = float(np.abs(np.diff(values, axis=0)).mean())
    return float(np.log((along_time + 1e-6) / (along_frequency + 1e-6)))


def to_plot_grid(energy: NDArray[np.float32]) -> NDArray[np.float32]:
    """Resample an energy image (H, W) onto the simulator's plot grid (PLOT_HEIGHT, PLOT_WIDTH).

    Real plot areas are ~573x479 (800x600 PNGs) or ~429x359 (600x450 JPEGs); both span the
    same axes, so a plain resize maps time and log frequency onto the simulator's pixels.
    """
    from PIL import Image

    if energy.shape == (PLOT_HEIGHT, PLOT_WIDTH):
        return energy.astype(np.float32)
    image = Image.fromarray(energy.astype(np.float32), mode="F")
    resized = image.resize((PLOT_WIDTH, PLOT_HEIGHT), Image.Resampling.BILINEAR)
    return np.asarray(resized, dtype=np.float32)


def quiet_runs(energy: NDArray[np.float32]) -> list[tuple[int, int]]:
    """[start, stop) column runs of an energy image (H, W) where no glitch is.

    A column is quiet when at most QUIET_SHARE of its pixels are LOUD, it lies outside the
    middle 2 x CENTRE_GUARD of the window, and no loud column is within MARGIN of it. Runs
    shorter than MIN_RUN are dropped, and only the MAX_RUNS longest kept; with less than
    MIN_QUIET of the width quiet in all, none is returned (the glitch, or something else,
    fills the window).
    """
    height, width = energy.shape
    loud = (energy > LOUD).mean(axis=0) > QUIET_SHARE
    centre = np.abs(np.arange(width) + 0.5 - width / 2) < CENTRE_GUARD * width
    bad = loud | centre
    margin = max(1, round(MARGIN * width))
    grown = np.convolve(bad.astype(np.int32), np.ones(2 * margin + 1, dtype=np.int32), "same")
    quiet = grown == 0
    edges = np.flatnonzero(np.diff(np.concatenate(([0], quiet.astype(np.int8), [0]))))
    runs = [(int(a), int(b)) for a, b in zip(edges[0::2], edges[1::2], strict=True)]
    runs = [(a, b) for a, b in runs if b - a >= MIN_RUN]
    runs = sorted(sorted(runs, key=lambda r: r[0] - r[1])[:MAX_RUNS])
    if sum(b - a for a, b in runs) < MIN_QUIET * width:
        return []
    return runs


def patch_of_file(path: Path, source: str) -> Patch | None:
    """The quiet background of one image file, or None when it has too little.

    Raises ml.encoding.DecodeError (naming the file) when it cannot be decoded.
    """
    from ml.encoding import read_plot_area

    energy = to_plot_grid(energy_of_image(read_plot_area(path)))
    runs = quiet_runs(energy)
    if not runs:
        return None
    codes = np.clip(np.rint(energy * (255.0 / VMAX)), 0, 255).astype(np.uint8)
    widths = [b - a for a, b in runs]
    textures = [texture(energy[:, a:b]) for a, b in runs]
    return Patch(
        source,
        tuple(np.ascontiguousarray(codes[:, a:b]) for a, b in runs),
        float(np.average(textures, weights=widths)),
    )


def bank_from_samples(
    samples: Iterable[Sample], *, exclude_labels: Iterable[str] = LONG_CLASSES
) -> BackgroundBank:
    """A bank from real glitches (ml.data Samples): every view whose duration is known.

    Views of `exclude_labels` glitches, and files named without a duration, give nothing.
    An image that cannot be decoded is skipped and named in `problems`.
    """
    excluded = set(exclude_labels)
    jobs: list[tuple[str, str, float]] = []
    for sample in samples:
        if sample.label in excluded:
            continue
        jobs.extend((str(path), sample.id, d) for d, path in sample.views().items())
    return load_bank(tuple(sorted(jobs)))


def bank_from_folder(
    root: str | os.PathLike[str], *, exclude_labels: Iterable[str] = LONG_CLASSES
) -> BackgroundBank:
    """A bank from a folder (or manifest CSV) of real glitch images, read as ml.data reads
    labelled data (`<label>/<id>_<duration>.<ext>`, any label). Files ml.data refuses
    (unreadable, truncated, too large) are skipped and named in `problems`; so are files
    whose name gives no duration (their window length is unknown)."""
    if not Path(root).exists():
        raise UserError(f"real backgrounds: {root}: no such folder")
    result = load_samples(Path(root), keep_unknown_labels=True)
    samples = result.samples
    undated = [f"{s.paths[s.substituted[0]]}: no duration in the name; not used as background"
               for s in samples if s.substituted and not s.views()]  # fmt: skip
    bank = bank_from_samples(samples, exclude_labels=exclude_labels)
    return replace(bank, problems=[*result.problems, *undated, *bank.problems])


@functools.cache
def load_bank(jobs: tuple[tuple[str, str, float], ...]) -> BackgroundBank:
    """The bank of (file, glitch id, duration) jobs; cached per process, so that the
    simulator's workers (forked after the parent loaded it, or spawned and loading once)
    share one copy."""
    from ml.encoding import DecodeError

    patches: dict[float, list[Patch]] = {}
    files: list[str] = []
    problems: list[str] = []
    for path, source, duration in jobs:
        try:
            patch = patch_of_file(Path(path), source)
        except DecodeError as exc:
            problems.append(str(exc))
            continue
        if patch is not None:
            patches.setdefault(duration, []).append(patch)
            files.append(path)
    if not any(patches.values()):
        reason = f" ({len(problems)} unreadable, e.g. {problems[0]})" if problems else ""
        raise UserError(
            f"real backgrounds: none of {len(jobs)} images has a quiet stretch to use{reason}"
        )
    missing = [d for d in DURATIONS if not patches.get(d)]
    if missing:
        raise UserError(
            "real backgrounds: no usable image for the "
            + ", ".join(f"{d} s" for d in missing)
            + " window(s); every duration needs at least one"
        )
    return BackgroundBank(patches, tuple(sorted(files)), jobs, problems)
