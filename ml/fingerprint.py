"""Do two image files show the same glitch? A fingerprint of the detector noise around it.

Two Omega scans of one glitch share their background noise pixel for pixel, whatever file
they were saved as (PNG or JPEG, 800x600 or 600x450, a whole plot or a crop of its plot
area), and a view shares it with the middle of the same glitch's longer views. Two
different glitches do not, even two Blips that look alike. A fingerprint is the plot
area's log energy on a GRID, less its smooth part (a Gaussian of SMOOTH_PX grid cells), so
that the glitch's shape counts for little and the noise's grain for much.

`matches` finds such views among many glitches (one matrix product per ratio), and
`merge_same_glitches` makes one Sample of glitches saved under several ids, so that a
grouped split cannot put one glitch on both sides. `merge_split_glitches` does it among the
glitches that lack a duration only, cheaply enough for every `ml train` and every import.

Measured by bench/fingerprint.py on ../shared/data/gravityspy-real (665 views of 242
glitches) and on 880 simulated glitches (the simulator's views of one glitch share their
noise too; 40 of each class, among them many near-identical Power_Lines), SAME_GLITCH holds
thresholds between the lowest correlation of two views of one glitch and the highest of
two different glitches, for each ratio of durations (docs/real_benchmark.md has the
numbers). It found 5 glitches of the real set saved under 2-3 ids each (Zooniverse Blips,
one duration per id).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from ml.data import DURATIONS, Sample, sample_of

GRID = (96, 256)  # (rows, columns) the plot area is resampled to; 256 columns leave 32
# in the middle eighth that a 4 s view shares with the 0.5 s one
SMOOTH_PX = 2.0  # sigma (grid cells) of the smooth part taken away
# duration ratio (longer / shorter view) -> lowest correlation that means the same glitch
SAME_GLITCH: dict[int, float] = {1: 0.55, 2: 0.55, 4: 0.48, 8: 0.39}
BLOCK = 2048  # views scored at once in `matches`: memory BLOCK x views x 4 bytes
# Views compared without being asked (ml train, ml audit, imports): the check is pairwise;
# 3,520 views took 61 s on 2 cores (bench/fingerprint.py), so 20,000 take roughly 10-20
# minutes (fingerprints grow with the views, pairs with their square); beyond, it is
# skipped and said so. `python -m ml duplicates` has no limit.
AUTO_MAX_VIEWS = 20_000

Fingerprint = NDArray[np.float32]


def fingerprint(path: Path) -> Fingerprint:
    """float32 GRID: the noise grain of one view's plot area (log energy less its smooth
    part). Raises ml.encoding.DecodeError for a file that cannot be decoded."""
    from scipy.ndimage import gaussian_filter

    from ml.encoding import read_plot_area, viridis_to_energy

    energy = viridis_to_energy(read_plot_area(path))
    rows, cols = GRID
    image = Image.fromarray(energy.astype(np.float32), mode="F")
    grid = np.asarray(image.resize((cols, rows), Image.Resampling.BILINEAR), dtype=np.float64)
    grid = np.log1p(25.5 * grid)  # normalised energy 0..25.5
    return (grid - gaussian_filter(grid, SMOOTH_PX)).astype(np.float32)


def _unit(x: NDArray[np.float32]) -> NDArray[np.float32]:
    """A window flattened to unit length, less its row means (steady lines) and its column
    means (broadband pulses)."""
    x = x - x.mean(axis=1, keepdims=True)
    flat = (x - x.mean(axis=0, keepdims=True)).ravel().astype(np.float32)
    norm = float(np.linalg.norm(flat))
    return flat / norm if norm > 0 else flat


def _middle(fp: Fingerprint, ratio: int) -> Fingerprint:
    """The middle 1/ratio of a fingerprint in time: where a view `ratio` times shorter sits."""
    cols = fp.shape[1]
    keep = cols // ratio
    start = (cols - keep) // 2
    return fp[:, start : start + keep]


def _narrowed(fp: Fingerprint, cols: int) -> Fingerprint:
    image = Image.fromarray(fp.astype(np.float32), mode="F")
    resized = image.resize((cols, fp.shape[0]), Image.Resampling.BILINEAR)
    return np.asarray(resized, dtype=np.float32)


def similarity(longer: Fingerprint, shorter: Fingerprint, ratio: int = 1) -> float:
    """Correlation of two views' fingerprints, the second's window `ratio` times shorter
    (1: the same duration): the middle of the longer against the shorter narrowed to it."""
    if ratio == 1:
        return float(_unit(longer) @ _unit(shorter))
    middle = _middle(longer, ratio)
    return float(_unit(middle) @ _unit(_narrowed(shorter, middle.shape[1])))


def same_glitch(a: Path, b: Path) -> bool:
    """Whether two views of one duration show the same glitch (SAME_GLITCH), whatever file
    each was saved as. Raises ml.encoding.DecodeError for a file that cannot be decoded."""
    return similarity(fingerprint(a), fingerprint(b)) >= SAME_GLITCH[1]


def windows(
    fps: Sequence[Fingerprint], ratio: int
) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
    """(longer, shorter): each fingerprint's window as the longer view of a pair (its middle
    1/ratio) and as the shorter (narrowed to that width), unit rows, so that
    `longer[i] @ shorter[j]` is `similarity(fps[i], fps[j], ratio)`."""
    longer = np.stack([_unit(_middle(fp, ratio)) for fp in fps])
    if ratio == 1:
        return longer, longer
    return longer, np.stack([_unit(_narrowed(fp, fp.shape[1] // ratio)) for fp in fps])


@dataclass(frozen=True)
class Match:
    """Two views, of two samples, that show the same glitch."""

    a: str  # sample id
    a_duration: float | None  # the view's duration (s); None: its file names none
    b: str
    b_duration: float | None
    similarity: float


def _views(sample: Sample) -> list[tuple[float | None, Path]]:
    """(duration, file) of each view really present; one (None, file) for a file without one."""
    views = sample.views()
    if views:
        return sorted(views.items())
    return [(None, next(iter(sample.paths.values())))]


View = tuple[str, float | None, Path]  # (sample id, duration or None, file)


def _fingerprinted(
    samples: Sequence[Sample], skipped: list[tuple[Path, str]] | None
) -> tuple[list[View], list[Fingerprint]]:
    """Every view really present and its fingerprint; a view that cannot be decoded is left
    out, and added to `skipped` (file, why) when given."""
    from ml.encoding import DecodeError

    views, fps = [], []
    for s in samples:
        for d, path in _views(s):
            try:
                fps.append(fingerprint(path))
            except DecodeError as error:
                if skipped is not None:  # why, without the file name the caller has
                    skipped.append((path, str(error).removeprefix(f"{path}: ")))
                continue
            views.append((s.id, d, path))
    return views, fps


def matches(
    samples: Sequence[Sample],
    against: Sequence[Sample] | None = None,
    skipped: list[tuple[Path, str]] | None = None,
) -> list[Match]:
    """Every pair of views of two different samples that shows the same glitch (SAME_GLITCH),
    the best pair per two samples, most similar first. Durations decide which ratio a pair
    is tried at; a view of unknown duration is tried at all. Decodes every view once. With
    `against`, only pairs of a sample of `samples` and one of `against` are tried: the cost
    grows with the product of their views, not with the square of all. A view that cannot
    be decoded is compared with nothing; `skipped`, when given, gets (file, why) for each."""
    views, fps = _fingerprinted(samples, skipped)
    others, other_fps = (views, fps) if against is None else _fingerprinted(against, skipped)
    best: dict[tuple[str, str], Match] = {}
    if not views or not others:
        return []
    for ratio in SAME_GLITCH:
        longer, shorter = windows(fps, ratio)
        if against is None:
            sides = [(views, longer, views, shorter)]
        else:
            other_longer, other_shorter = windows(other_fps, ratio)
            sides = [(views, longer, others, other_shorter)]
            if ratio > 1:  # at ratio 1 the other way round gives the same scores
                sides.append((others, other_longer, views, shorter))
        for side in sides:
            _keep_best(best, *side, ratio=ratio, mirror=ratio == 1 and against is None)
    return sorted(best.values(), key=lambda m: -m.similarity)


def _keep_best(
    best: dict[tuple[str, str], Match],
    long_views: list[View],
    long_windows: NDArray[np.float32],
    short_views: list[View],
    short_windows: NDArray[np.float32],
    *,
    ratio: int,
    mirror: bool,
) -> None:
    """Add to `best` every pair (a long view, a short view) of two samples at `ratio` that
    passes SAME_GLITCH, where it beats the pair kept for those two samples; `mirror`: both
    lists are one (ratio 1), so each pair is looked at once."""
    for start in range(0, len(long_views), BLOCK):
        # [i, j]: view start + i as the longer, view j as the shorter
        scores = long_windows[start : start + BLOCK] @ short_windows.T
        for i, j in zip(*np.nonzero(scores >= SAME_GLITCH[ratio]), strict=True):
            (id_i, d_i, _), (id_j, d_j, _) = long_views[start + i], short_views[j]
            if id_i == id_j or (mirror and start + i > j):
                continue
            if d_i is not None and d_j is not None and d_i != ratio * d_j:
                continue
            key = (min(id_i, id_j), max(id_i, id_j))
            value = float(scores[i, j])
            if key not in best or value > best[key].similarity:
                best[key] = Match(id_i, d_i, id_j, d_j, value)


def _mergeable(m: Match, by_id: Mapping[str, Sample]) -> bool:
    """Both views have a known duration (a view of unknown length fits no slot) and both
    samples one label (two labels for one glitch is a question for a person)."""
    known = m.a_duration is not None and m.b_duration is not None
    return known and by_id[m.a].label == by_id[m.b].label


def merge_same_glitches(
    samples: Sequence[Sample], found: Sequence[Match] | None = None
) -> tuple[list[Sample], list[tuple[str, ...]]]:
    """(samples with every glitch saved under several ids made one, the ids merged).

    A merged glitch keeps the first id (sorted) and every view of its parts; where two parts
    hold a view of the same duration, the first part's is kept. Only samples of one label
    whose matched views both have a known duration are merged: a match across labels (one
    glitch, two labels) or with a file of unknown duration is left for the caller to report
    (`found`, from `matches`, when it is already at hand).
    """
    by_id = {s.id: s for s in samples}
    parent = {s.id: s.id for s in samples}

    def root(x: str) -> str:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for m in matches(samples) if found is None else found:
        if not _mergeable(m, by_id):
            continue
        ra, rb = root(m.a), root(m.b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    groups: dict[str, list[Sample]] = {}
    for s in samples:
        groups.setdefault(root(s.id), []).append(s)
    merged: list[Sample] = []
    merges: list[tuple[str, ...]] = []
    for parts in groups.values():
        if len(parts) == 1:
            merged.append(parts[0])
            continue
        parts = sorted(parts, key=lambda s: s.id)
        views: dict[float, Path] = {}
        for part in parts:
            for duration, path in part.views().items():
                views.setdefault(duration, path)
        first = parts[0]
        merged.append(sample_of(first.id, first.label, views, ifo=first.ifo, source=first.source))
        merges.append(tuple(p.id for p in parts))
    return merged, merges


@dataclass(frozen=True)
class SplitGlitches:
    """What `merge_split_glitches` did: the samples after it, the ids merged into one
    glitch, and the matches it left (labels differ, or a view of unknown duration)."""

    samples: list[Sample]
    merged: list[tuple[str, ...]]
    unmerged: list[Match]
    not_compared: int = 0  # views of glitches that lack a duration, too many to compare

    def report(self, labels: Mapping[str, str | None]) -> list[str]:
        """One line per merged glitch and per match left; `labels`: sample id -> label."""
        lines = [f"one glitch saved under several ids, merged as {ids[0]}: {' + '.join(ids)}"
                 for ids in self.merged]  # fmt: skip
        for m in self.unmerged:
            why = (
                f"labelled {labels[m.a]} and {labels[m.b]}"
                if labels[m.a] != labels[m.b]
                else "a view without a duration"
            )
            lines.append(f"{m.a} and {m.b} show the same glitch ({why}): kept apart")
        if self.not_compared:
            lines.append(
                f"glitches that lack a duration hold {self.not_compared} views, more than "
                f"{AUTO_MAX_VIEWS}: too many to look for one glitch saved under several ids"
            )
        return lines


def lacks_a_duration(sample: Sample) -> bool:
    """True for a glitch with fewer views than DURATIONS: it may be part of one glitch saved
    under several ids, which `merge_split_glitches` looks for."""
    return len(sample.views()) < len(DURATIONS)


def merge_split_glitches(samples: Sequence[Sample]) -> SplitGlitches:
    """`merge_same_glitches` among the samples that lack a duration: one glitch's views saved
    under several ids (as the Zooniverse Blips of the real set were). A sample with every
    duration is whole and is not fingerprinted, so that sets of whole glitches (every
    simulation, Gravity Spy's training set) cost nothing; a whole glitch saved twice is left
    to `python -m ml duplicates`, and so are sets of more than AUTO_MAX_VIEWS such views
    (`not_compared`). Samples keep their order, a merged one where the part
    whose id it keeps was."""
    partial = [s for s in samples if lacks_a_duration(s)]
    n_views = sum(len(_views(s)) for s in partial)
    if n_views > AUTO_MAX_VIEWS:
        return SplitGlitches(list(samples), [], [], not_compared=n_views)
    found = matches(partial)
    merged, merges = merge_same_glitches(partial, found)
    by_id = {s.id: s for s in partial}
    first = {s.id: s for s in merged}
    gone = {i for ids in merges for i in ids[1:]}
    kept = [first.get(s.id, s) for s in samples if s.id not in gone]
    unmerged = [m for m in found if not _mergeable(m, by_id)]
    return SplitGlitches(kept, merges, unmerged)
