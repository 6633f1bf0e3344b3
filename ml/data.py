"""Find glitch images on disk and group the durations of one glitch into one `Sample`.

Layouts read (detected per file, any mix, any number of roots):

* ours:          ``<root>/<label>/<id>_<duration>.<ext>`` (``Blip/H1_0ABC123xyz_1.0.png``)
* Gravity Spy:   ``<root>/<label>/<ifo>_<id>_spectrogram_<duration>.png`` (Zenodo training set;
  the sample id is ``<ifo>_<id>``)
* a folder per glitch: ``<root>/<label>/<id>/<id>_<duration>.<ext>``, the folder named as its
  files' id inside a class folder: read with the class of the folder above (another folder
  inside a class folder is refused: _read_glitch_folders)
* unlabelled:    ``<root>/<id>_<duration>.<ext>`` (files directly in the root: label None)
* undated:       ``<root>/<label>/<name>.<ext>`` with no duration in the name: a glitch with one
  view of unknown length (id ``<name>``), which stands in for every duration. A name whose
  end looks like a duration written otherwise (``_0.5s``, ``_500ms``, ``-0.5``, ``_0p5``, a
  copy's ``_0.5 (1)``, ``.png.png``) is a problem, not such a glitch: read so, each view of
  one glitch would be a glitch of its own
* manifest CSV:  a root that is a ``.csv`` file, or a folder holding a ``manifest.csv`` with a
  ``path`` column; one row per image with at least ``id,label,duration,path`` (path relative
  to the CSV, label may be empty; an ``ifo`` column is used if present, others are ignored).
  An empty duration is a glitch of one view of unknown length, as a file named without one.

An id names one glitch in a data set: the same id under several labels (``Blip/001_0.5.png``
beside ``Whistle/001_0.5.png``) is refused, one problem line per id.

Labels come from class folders or a manifest only: other CSV files in a folder (a
``filename,label`` table) are not read; LoadResult.csv_not_read names them, and
no_labels_message says where labels come from for a caller that found none.

Extensions png/jpg/jpeg in any case; images in other formats (TIFF, WebP, GIF, BMP ...) are
named in a problem line per folder and format, not read. Files are checked cheaply here
(header, end marker, size and pixel count); pixels are decoded once, later, by ml.encoding.

Everything left out is in LoadResult.problems (a line each, with why) and LoadResult.left_out
(an entry per file, row or folder, with its glitch): a caller prints left_out_line().

Untrusted input: a data set may come from anyone, so a file is refused (one problem line)
when it is larger than MAX_IMAGE_BYTES, declares more than MAX_IMAGE_PIXELS pixels (a
decompression bomb: a tiny PNG that inflates to gigabytes) or less than MIN_PLOT_PIXELS
a side, has no colour or several frames (opened_image_problem), or lies outside its root:
a symlink leading out of the folder, or a manifest path that is absolute or contains `..`.
"""

from __future__ import annotations

import csv
import math
import os
import re
import struct
from collections import Counter, defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePath
from typing import BinaryIO

from PIL import Image, UnidentifiedImageError

from ml.classes import CANONICAL_NAMES, ClassRegistry, spelled_as
from ml.metadata import IFO

DURATIONS: tuple[float, ...] = (0.5, 1.0, 2.0, 4.0)  # Omega-scan windows in seconds
IMAGE_SUFFIXES: frozenset[str] = frozenset({".png", ".jpg", ".jpeg"})
# Images in other formats: not read, but named (they were dropped unsaid, like a README)
OTHER_IMAGE_FORMATS: dict[str, str] = {
    ".tif": "TIFF", ".tiff": "TIFF", ".webp": "WebP", ".gif": "GIF", ".bmp": "BMP",
    ".svg": "SVG", ".heic": "HEIC", ".avif": "AVIF", ".jp2": "JPEG 2000",
}  # fmt: skip
MANIFEST_NAME = "manifest.csv"
MANIFEST_COLUMNS: tuple[str, ...] = ("id", "label", "duration", "path")
# Sample.source of simulated glitches where a caller names sources by kind, not by data root
# (the web app's retrain: this or "real"); ml.train.train's default simulated source.
SIMULATED_SOURCE = "simulated"
IFOS: tuple[str, ...] = ("H1", "L1", "V1")
# A Gravity Spy Omega scan is ~800x600 px and ~100 kB; these limits leave wide room for
# larger renderings while refusing files that would exhaust memory when decoded.
MAX_IMAGE_BYTES = 16 * 2**20
MAX_IMAGE_PIXELS = 25_000_000  # width * height, e.g. 5000 x 5000
# The least width and height (px) of an image, and of the plot area cropped from it, read as
# an Omega scan: the plot area of an 800x600 one is 573x479, its thumbnails are far above this;
# a smaller one holds no glitch the model could see (and a 1-px image once broke the crop).
MIN_PLOT_PIXELS = 16

# `<id>_<duration>.<ext>`; a Gravity Spy name carries `_spectrogram` before the duration.
_FILE_NAME = re.compile(
    r"^(?P<id>.+?)(?:_spectrogram)?_(?P<duration>\d+(?:\.\d+)?)\.(?:png|jpe?g)$", re.IGNORECASE
)
# The end of a name that gives a duration otherwise than _FILE_NAME reads it: with a unit
# (`_0.5s`, `_500ms`, `-1.0 sec`), or one of DURATIONS (_misnamed_view checks) as a decimal
# number after another separator or with another decimal mark (`-0.5`, ` 0.5`, `_0p5`,
# `_0,5`). Not an integer after `-` or a space (`golden-Blip-1.jpg`, a copy's number), nor
# another number (`Screen Shot ... at 10.21.33.png`), nor one of more than 4 digits before
# the mark (a GPS time `L1-1126259462.4`): those end names that carry no duration.
_DURATION_WITH_UNIT = re.compile(
    r"(?:^|[_\-\s.])(?P<number>\d{1,4}(?:[.,p]\d+)?)\s*(?P<unit>s|secs?|seconds?|ms|msecs?)$",
    re.IGNORECASE,
)
_DURATION_OTHERWISE = re.compile(
    r"(?:_(?P<number>\d{1,4}[p,]\d+)|[\-\s.](?P<decimal>\d{1,4}[.,p]\d+))$", re.IGNORECASE
)
# What a copy or a second save adds to a name: `x (1).png`, `x - Copy.png`, `x copy 2.png`,
# `x.png.png`, a space before the extension.
_COPY_MARK = re.compile(r"(?:\s*\(\d+\)|\s+-\s+copy(?:\s*\(\d+\))?|\s+copy(?:\s+\d+)?)$", re.I)
_INNER_EXTENSION = re.compile(r"\.(?:png|jpe?g)$", re.IGNORECASE)
VIEW_NAMING = (
    "name each view <id>_<duration>.png (or .jpg), the duration one of "
    f"{', '.join(map(str, DURATIONS))} (Gravity Spy's <id>_spectrogram_<duration>.png is read too)"
)
_IFO_PREFIX = re.compile(r"^(?P<ifo>H1|L1|V1)_")
_ABSOLUTE = re.compile(r"^([/\\]|[A-Za-z]:)")  # also Windows drive and UNC paths


@dataclass(frozen=True)
class Sample:
    """One glitch: a file for every duration in DURATIONS (after substitution)."""

    id: str  # glitch id, unique in a data set
    label: str | None  # class name, or None when unlabelled
    paths: Mapping[float, Path] = field(hash=False)  # duration (s) -> image file, every DURATION
    # durations filled with the nearest available view; all of them for a file whose name
    # gives no duration (its one view stands in for every duration)
    substituted: tuple[float, ...] = ()
    ifo: str | None = None  # detector (H1, L1, V1) when the id says so
    source: str = ""  # where it came from (the data root): for sampling balanced by source

    def views(self) -> dict[float, Path]:
        """The views really present (duration -> file), without substitutes."""
        return {d: p for d, p in self.paths.items() if d not in self.substituted}

    def path_for(self, duration: float) -> Path:
        """The file of `duration`, or of the nearest duration present (ties: the longer)."""
        if duration in self.paths:
            return self.paths[duration]
        return self.paths[nearest_duration(duration, self.paths.keys())]

    def files(self) -> list[str]:
        """The sample's image files as strings, each once, shortest duration first: a view
        that stands in for missing durations is one file (a glitch of one view was listed
        four times, as if it had four views, in ml evaluate's misclassified glitches)."""
        return list(dict.fromkeys(str(self.paths[d]) for d in sorted(self.paths)))


@dataclass(frozen=True)
class LeftOut:
    """A file, a manifest's row or a folder that load_samples did not read (a line of
    LoadResult.problems says why)."""

    where: str  # the file's path; "<manifest>:<line>" for a row naming no file; a folder's path
    glitch: tuple[str | None, str] | None = None  # (label, id) it was part of, when known
    folder: bool = False  # a whole folder, not entered (its files are not counted)
    why: str = ""  # its line of LoadResult.problems (one line may stand for several files)


@dataclass
class LoadResult:
    samples: list[Sample]  # sorted by (label, id): deterministic
    problems: list[str]  # what was skipped, one line each: "<file>: <reason>"
    notes: list[str] = field(default_factory=list)  # what was read otherwise than written
    # what `problems` left out, one entry per file, row or folder: a line may stand for
    # several files (one id in two class folders), so count these, not the lines
    left_out: list[LeftOut] = field(default_factory=list)
    csv_not_read: list[Path] = field(default_factory=list)  # CSV files in a folder root

    @property
    def files_left_out(self) -> int:
        """Files (and manifest rows) not read, each counted once; folders not entered aside."""
        return len({x.where for x in self.left_out if not x.folder})

    @property
    def folders_left_out(self) -> int:
        return sum(1 for x in self.left_out if x.folder)

    @property
    def glitches_left_out(self) -> int:
        """Glitches none of whose files was read: one that lost a view but kept others is
        read (a sample with that duration substituted), so it is not counted here."""
        read = {(s.label, s.id) for s in self.samples}
        wanted = {x.glitch or (None, x.where) for x in self.left_out if not x.folder}
        return len(wanted - read)

    def left_out_line(self) -> str | None:
        """One line for a caller to print beside what it did with the rest (a score must say
        what it is not over): "K files not read, G glitches left out entirely ..."; None when
        nothing was left out."""
        if not self.left_out:
            return None
        line = (
            f"{_count(self.files_left_out, 'file')} not read, "
            f"{_count(self.glitches_left_out, 'glitch', 'glitches')} left out entirely"
        )
        if self.folders_left_out:
            line += f", {_count(self.folders_left_out, 'folder')} not entered"
        return line + " (each named above with why)"


def _count(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else many or one + 's'}"


@dataclass
class _Refusals:
    """What load_samples leaves out as it goes: LoadResult.problems and .left_out."""

    problems: list[str] = field(default_factory=list)
    left_out: list[LeftOut] = field(default_factory=list)
    csv_not_read: list[Path] = field(default_factory=list)

    def file(
        self, where: Path | str, why: str, glitch: tuple[str | None, str] | None = None
    ) -> None:
        """One file (or manifest row) not read, and why."""
        self.problems.append(f"{where}: {why}")
        self.left_out.append(LeftOut(str(where), glitch, why=why))

    def folder(self, where: Path, why: str) -> None:
        self.problems.append(f"{where}: {why}")
        self.left_out.append(LeftOut(str(where), folder=True, why=why))

    def files(self, line: str, left_out: Iterable[LeftOut]) -> None:
        """Several files behind one line."""
        self.problems.append(line)
        self.left_out.extend(replace(x, why=line) for x in left_out)


@dataclass(frozen=True)
class _ImageRecord:
    """One image file found on disk, before grouping."""

    path: Path
    id: str
    label: str | None
    duration: float | None  # None: the name gives no duration (a single view of unknown length)
    ifo: str | None = None  # from a manifest's optional `ifo` column
    source: str = ""  # the root it was found under
    folder_above: str | None = None  # the name of the folder above its label's, in a root

    @property
    def glitch(self) -> tuple[str | None, str]:
        return (self.label, self.id)


def nearest_duration(wanted: float, available: Iterable[float]) -> float:
    """The available duration closest to `wanted` on a log scale; on a tie the longer one.

    Durations double from one view to the next, so "closest" is by ratio: for a missing
    1.0 s view, 0.5 s and 2.0 s are equally close and the 2.0 s view (more context) wins.
    """
    options = list(available)
    if not options:
        raise ValueError("no durations available")
    return min(options, key=lambda d: (round(abs(math.log2(d / wanted)), 9), -d))


def sample_of(
    glitch_id: str,
    label: str | None,
    views: Mapping[float, Path],
    *,
    ifo: str | None = None,
    source: str = "",
) -> Sample:
    """The Sample of a glitch from the views present (duration -> file, at least one): a
    missing duration takes the nearest view present and is listed in `substituted`."""
    paths = {d: views[d] if d in views else views[nearest_duration(d, views)] for d in DURATIONS}
    substituted = tuple(d for d in DURATIONS if d not in views)
    return Sample(glitch_id, label, paths, substituted, ifo, source)


def undated_sample(
    glitch_id: str, label: str | None, path: Path, *, ifo: str | None = None, source: str = ""
) -> Sample:
    """The Sample of a glitch whose one file gives no duration: it stands in for every
    duration, and none of them is known to be its own (Sample.views() is empty)."""
    return Sample(glitch_id, label, dict.fromkeys(DURATIONS, path), DURATIONS, ifo, source)


def ifo_of(glitch_id: str) -> str | None:
    """The detector named at the start of a Gravity Spy id (`H1_0ABC...` -> `H1`), else None."""
    match = _IFO_PREFIX.match(glitch_id)
    return match.group("ifo") if match else None


def parse_duration(text: str) -> float | None:
    """`"1"`, `"1.0"`, `"1.00"` -> 1.0 when it is one of DURATIONS, else None."""
    try:
        value = float(text)
    except ValueError:
        return None
    for duration in DURATIONS:
        if abs(value - duration) < 1e-9:
            return duration
    return None


def load_samples(
    roots: Path | str | Sequence[Path | str],
    *,
    registry: ClassRegistry | None = None,
    keep_unknown_labels: bool = False,
) -> LoadResult:
    """Find every glitch image under `roots` and group the durations of each glitch.

    A root is a folder (scanned recursively; a file's label is its parent folder's name,
    None for files directly in the root) or a manifest CSV. Unknown labels (not in
    `registry`, default the 22 canonical classes), unreadable files, bad names and duplicate
    views are skipped and reported in `problems`; the rest still loads. A missing duration
    is filled with the nearest available view (log scale; ties: the longer) and listed in
    `substituted`.
    """
    registry = ClassRegistry() if registry is None else registry
    root_list: list[Path | str] = (
        [roots] if isinstance(roots, str | Path) else list(roots)  # a str is not a list of roots
    )
    refused = _Refusals()
    records: list[_ImageRecord] = []
    for root in root_list:
        records.extend(replace(r, source=str(root)) for r in _records_of_root(Path(root), refused))

    kept: list[_ImageRecord] = []
    notes: list[str] = []
    records = _read_glitch_folders(records, registry, refused, notes)
    respelled: dict[str, str] = {}
    for record in records:
        if record.ifo is not None and not IFO.match(record.ifo):  # a manifest's column
            told = f"glitch {record.id}: ifo {record.ifo!r} is not a detector name: left empty"
            if told not in notes:
                notes.append(told)
            record = replace(record, ifo=None)
        if record.label is not None and record.label not in registry:
            # a folder named koi_fish, KoiFish or NOA is the class it names (told once)
            named = registry.match(record.label)
            if named is not None:
                if record.label not in respelled:
                    respelled[record.label] = named
                    notes.append(f"class {record.label!r} read as {named!r}")
                record = replace(record, label=named)
        if record.label is not None and record.label not in registry and not keep_unknown_labels:
            refused.file(record.path, f"unknown class {record.label!r} (not in the registry)",
                         record.glitch)  # fmt: skip
        elif _is_readable_image(record, refused):
            kept.append(record)

    samples = _group(kept, refused)
    samples.sort(key=lambda s: (s.label or "", s.id))
    left_out = [_glitch_as_read(x, registry) for x in refused.left_out]
    unlabelled = sum(1 for s in samples if s.label is None)
    if unlabelled and refused.csv_not_read:
        # A `filename,label` table beside flat images: said here, where the images are read
        # as unlabelled, not only by a caller that wanted labels and found none.
        notes.append(
            f"{_count(unlabelled, 'glitch', 'glitches')} without a label (files directly in "
            f"a root); {LABEL_SOURCES}; CSV files not read: "
            f"{', '.join(map(str, refused.csv_not_read))}"
        )
    return LoadResult(
        samples=samples,
        problems=refused.problems,
        notes=notes + _split_notes(kept),
        left_out=left_out,
        csv_not_read=refused.csv_not_read,
    )


LABEL_SOURCES = (
    "labels come from class folders (DIR/<class>/<id>_<duration>.png) or from a manifest CSV "
    f"with columns {','.join(MANIFEST_COLUMNS)}, a row per image, path relative to the CSV "
    "(as python -m ml synth writes: DIR/manifest.csv, or the CSV itself given as the data path)"
)


def no_labels_message(result: LoadResult, roots: Sequence[Path | str]) -> str:
    """One line for a caller that needs labelled glitches and found none in `roots`: where
    labels come from, and the CSV files it saw but does not read (a `filename,label` table
    beside flat images gave only "no labelled glitches")."""
    line = f"no labelled glitches in {', '.join(map(str, roots))}: {LABEL_SOURCES}"
    if result.csv_not_read:
        line += f"; CSV files not read: {', '.join(map(str, result.csv_not_read))}"
    return line


def _names_a_class(name: str, registry: ClassRegistry) -> bool:
    """Whether a folder's name is a class: of `registry` or Gravity Spy's, as spelt or not."""
    return registry.match(name) is not None or spelled_as(name, CANONICAL_NAMES) is not None


def _glitch_as_read(x: LeftOut, registry: ClassRegistry) -> LeftOut:
    """A file left out before its folder's name was read as a class, with its glitch as the
    samples name it: a respelt class folder (koi_fish) by the class it names; a folder per
    glitch (<class>/<id>/, _read_glitch_folders) by the class of the folder above, or a
    glitch whose other views were read counted as one left out entirely."""
    if x.glitch is None or x.glitch[0] is None or x.glitch[0] in registry:
        return x
    folder = Path(x.where).parent
    if x.glitch[0] == folder.name and _names_a_class(folder.parent.name, registry):
        above = folder.parent.name
        return replace(x, glitch=(registry.match(above) or above, x.glitch[1]))
    return replace(x, glitch=(registry.match(x.glitch[0]) or x.glitch[0], x.glitch[1]))


def _read_glitch_folders(
    records: list[_ImageRecord], registry: ClassRegistry, refused: _Refusals, notes: list[str]
) -> list[_ImageRecord]:
    """The records, those in a folder per glitch (`<class>/<id>/<id>_<duration>.png`: a folder
    that names no class, inside one that does) given the class of the folder above; a note
    says how many. Read as any folder, each glitch's folder was a class of its own: `ml
    evaluate` (which keeps unknown labels) scored every glitch wrong under classes named
    after glitch ids, in a report that looked like any other.

    Read, not refused, when the folder is named as its files' glitch id: the names give id
    and duration as in any class folder, so the class can only be the folder above. Another
    name (`Blip/Blip_Low_Frequency/x_0.5.png`, `Blip/night2/x_0.5.png`) may be a class of its
    own or a group of glitches: which is not ours to guess, so its files are refused with a
    line that says how to lay them out."""
    kept: list[_ImageRecord] = []
    glitches: set[tuple[str, str]] = set()
    unclear: dict[Path, list[_ImageRecord]] = defaultdict(list)
    for record in records:
        above = record.folder_above
        if (
            record.label is None
            or above is None
            or _names_a_class(record.label, registry)
            or not _names_a_class(above, registry)
        ):
            kept.append(record)
        elif record.id == record.label:
            glitches.add((above, record.id))
            kept.append(replace(record, label=above))
        else:
            unclear[record.path.parent].append(record)
    if glitches:
        example = next(r for r in kept if (r.label, r.id) in glitches).path.parent
        notes.append(
            f"{_count(len(glitches), 'glitch', 'glitches')} in a folder of their own "
            f"(<class>/<id>/<id>_<duration>.png, e.g. {example}): each read with the class "
            "of the folder above"
        )
    for folder, group in unclear.items():
        refused.files(
            f"{folder}: a folder inside class folder {folder.parent.name!r} that names no class "
            f"and is not named as its files' glitch id: its {_count(len(group), 'file')} "
            f"(e.g. {group[0].path.name}) are not read, as their class is unclear; move them "
            f"into {folder.parent.name}/, or name the folder after their glitch id "
            "(<class>/<id>/<id>_<duration>.png)",
            (LeftOut(str(r.path), (folder.parent.name, r.id)) for r in group),
        )
    return kept


# Folders that hold a data set's split (Kaggle's copy of Gravity Spy: train/, validation/,
# test/, each with a folder per class): read as any other folder, the split is lost.
SPLIT_FOLDERS = frozenset({"train", "training", "validation", "valid", "val", "test", "testing"})


def _split_notes(records: Sequence[_ImageRecord]) -> list[str]:
    """One note naming the split folders the images were found under, if any."""
    found: Counter[str] = Counter()
    for record in records:
        try:
            folders = record.path.relative_to(record.source).parts[:-1]
        except ValueError:  # listed by a manifest
            continue
        found.update({part for part in folders if part.lower() in SPLIT_FOLDERS})
    if not found:
        return []
    listed = ", ".join(f"{name}/ ({n} images)" for name, n in sorted(found.items()))
    return [
        f"images under split folders: {listed}; their split is not kept (each is read as any "
        "other folder): load each split as a folder of its own, and score only on glitches "
        "that nothing trained on"
    ]


def _records_of_root(root: Path, refused: _Refusals) -> list[_ImageRecord]:
    if root.is_file() and root.suffix.lower() == ".csv":
        return _records_of_manifest(root, refused)
    if not root.is_dir():
        refused.problems.append(f"{root}: no such folder or manifest CSV")  # nothing to count
        return []
    manifest = root / MANIFEST_NAME
    if manifest.is_file() and _manifest_has_paths(manifest):
        return _records_of_manifest(manifest, refused)
    return _records_of_folder(root, refused)


def _outside(path: Path, root: Path) -> bool:
    """True when `path`, with every symlink followed, is not inside `root`."""
    return not path.resolve().is_relative_to(root.resolve())


def _records_of_folder(root: Path, refused: _Refusals) -> list[_ImageRecord]:
    records = []
    other_formats: dict[tuple[Path, str], list[Path]] = defaultdict(list)
    for path in sorted(root.rglob("*")):
        if path.is_dir() and path.is_symlink():  # rglob does not enter it: say so
            refused.folder(
                path,
                "a symlinked folder, not read (copy its files in, or load it as a folder of "
                "its own)",
            )
            continue
        suffix = path.suffix.lower()
        if suffix == ".csv" and path.is_file() and not path.name.startswith("."):
            refused.csv_not_read.append(path)  # a label table? (not a problem: metadata is not)
            continue
        if suffix not in IMAGE_SUFFIXES and suffix not in OTHER_IMAGE_FORMATS:
            continue  # README.md, .DS_Store ...: not ours to judge
        if not path.is_file() or any(part.startswith(".") for part in path.relative_to(root).parts):
            continue  # hidden files and folders (.ipynb_checkpoints, ._Blip.png ...)
        if suffix in OTHER_IMAGE_FORMATS:
            other_formats[(path.parent, suffix)].append(path)
            continue
        label = None if path.parent == root else path.parent.name
        if _outside(path, root):
            refused.file(path, f"symlink leads outside {root}; refused", (label, path.stem))
            continue
        match = _FILE_NAME.match(path.name)
        if match is None and (misnamed := _misnamed_view(path.name)) is not None:
            # Read as a glitch of one undated view, each view of one glitch became a glitch
            # of its own, and was scored as one.
            what, glitch_id, better = misnamed
            refused.file(
                path,
                f"{what}: not read; {VIEW_NAMING}" + (f"; rename it {better!r}" if better else ""),
                (label, glitch_id or path.stem),
            )
            continue
        if match is None:
            # No duration in the name (a field-guide `golden-Blip.jpg`, a screenshot): one
            # view of unknown length, a glitch of its own; it stands in for every duration.
            above = path.parent.parent.name if label and path.parent.parent != root else None
            records.append(_ImageRecord(path, path.stem, label, None, folder_above=above))
            continue
        duration = parse_duration(match.group("duration"))
        if duration is None:
            refused.file(path, f"duration {match.group('duration')} is not one of {DURATIONS}",
                         (label, match.group("id")))  # fmt: skip
            continue
        above = path.parent.parent.name if label and path.parent.parent != root else None
        records.append(_ImageRecord(path, match.group("id"), label, duration,
                                    folder_above=above))  # fmt: skip
    for (folder, suffix), paths in other_formats.items():
        refused.files(_other_format_line(folder, suffix, paths), (
            LeftOut(str(p), (None if folder == root else folder.name, _id_of_name(p.stem)))
            for p in paths
        ))  # fmt: skip
    return records


def _other_format_line(folder: Path, suffix: str, paths: Sequence[Path]) -> str:
    """One line for the images of one format other than PNG and JPEG in one folder."""
    shown = ", ".join(p.name for p in paths[:3]) + (", ..." if len(paths) > 3 else "")
    return (
        f"{folder}: {_count(len(paths), OTHER_IMAGE_FORMATS[suffix] + ' image')} not read "
        f"({shown}): only PNG and JPEG files are read; save them as PNG under the same names"
    )


def glitch_id_of_file_name(name: str) -> str:
    """The glitch id an image's file name carries, as load_samples reads it from a folder
    (`H1_0PgqDFdHPl_1.0.png` -> `H1_0PgqDFdHPl`; a name with no duration: its stem)."""
    return _id_of_name(PurePath(name).stem)


def _id_of_name(stem: str) -> str:
    """The glitch id a file name (without its extension) carries, as a folder's image's."""
    match = _FILE_NAME.match(stem + ".png")
    return match.group("id") if match else stem


def _misnamed_view(name: str) -> tuple[str, str, str | None] | None:
    """For a file name that _FILE_NAME does not read but whose end looks like a duration: what
    is wrong with it, the glitch id it seems to carry, and the name it would be read under
    (None when its duration is none of DURATIONS). None for a name with no such end
    (`golden-Blip.jpg`: a one-view glitch of unknown duration)."""
    path = PurePath(name)
    stem, suffix = path.stem, path.suffix
    added = []
    while True:  # what a copy or a second save added, last first
        if mark := _COPY_MARK.search(stem):
            added.append(f"a copy's mark {mark.group(0).strip()!r}")
        elif mark := _INNER_EXTENSION.search(stem):
            added.append(f"a second extension {mark.group(0)!r}")
        elif stem != stem.rstrip():
            added.append("a space before its extension")
            stem = stem.rstrip()
            continue
        else:
            break
        stem = stem[: mark.start()]
    if added and (match := _FILE_NAME.match(stem + suffix)) is not None:
        return f"its name carries {' and '.join(added)}", match.group("id"), stem + suffix
    for pattern in (_DURATION_WITH_UNIT, _DURATION_OTHERWISE):
        if (match := pattern.search(stem)) is None:
            continue
        written = match.group(0)
        number = match.groupdict().get("number") or match.groupdict().get("decimal") or ""
        value = float(number.replace(",", ".").replace("p", ".").replace("P", "."))
        if (match.groupdict().get("unit") or "").lower().startswith("ms"):
            value /= 1000
        glitch_id = stem[: match.start()].removesuffix("_spectrogram")
        duration = parse_duration(str(value))
        if duration is None and not match.groupdict().get("unit"):
            continue  # a number, no unit: a duration only if it is one
        better = f"{glitch_id}_{duration}{suffix}" if glitch_id and duration else None
        return (
            f"its name ends in {written!r}, a duration not written as _<number>",
            glitch_id,
            better,
        )
    return None


# UTF-8 with or without the byte-order mark that spreadsheets write (Excel's "CSV UTF-8").
MANIFEST_ENCODING = "utf-8-sig"


def _manifest_has_paths(manifest: Path) -> bool:
    try:
        with manifest.open(newline="", encoding=MANIFEST_ENCODING) as handle:
            header = next(csv.reader(handle), [])
    except UnicodeDecodeError:
        return True  # _records_of_manifest says what is wrong with it
    return "path" in [name.strip() for name in header]


def _records_of_manifest(manifest: Path, refused: _Refusals) -> list[_ImageRecord]:
    try:
        return _read_manifest(manifest, refused)
    except UnicodeDecodeError as exc:
        refused.file(
            manifest, f"not UTF-8 text (byte {exc.start}); save it as UTF-8 and load it again"
        )  # its rows cannot be counted: the manifest counts as one file
        return []


def _read_manifest(manifest: Path, refused: _Refusals) -> list[_ImageRecord]:
    records = []
    with manifest.open(newline="", encoding=MANIFEST_ENCODING) as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in MANIFEST_COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            rows = [
                LeftOut(f"{manifest}:{line}", _row_glitch(row))
                for line, row in enumerate(reader, start=2)
            ]
            refused.files(f"{manifest}: manifest lacks column(s) {', '.join(missing)}", rows)
            return []
        for line, row in enumerate(reader, start=2):
            where = f"{manifest}:{line}"
            glitch_id = (row["id"] or "").strip()
            label = (row["label"] or "").strip() or None
            written = (row["duration"] or "").strip()
            duration = parse_duration(written)
            relative = (row["path"] or "").strip()
            ifo = (row.get("ifo") or "").strip() or None
            glitch = (label, glitch_id) if glitch_id else None
            if not glitch_id or not relative:
                refused.file(where, "empty id or path", glitch)
            elif written and duration is None:  # empty: one view of unknown length
                refused.file(where, f"duration {row['duration']!r} is not one of {DURATIONS} "
                             "(or empty, for a view of unknown length)", glitch)  # fmt: skip
            elif (unsafe := _unsafe_manifest_path(relative, manifest.parent)) is not None:
                refused.file(where, f"path {relative!r} {unsafe}; refused", glitch)
            else:
                path = manifest.parent / relative
                if not path.is_file():
                    refused.file(path, f"no such file (listed in {where})", glitch)
                else:
                    records.append(_ImageRecord(path, glitch_id, label, duration, ifo))
    return records


def _row_glitch(row: Mapping[str | None, object]) -> tuple[str | None, str] | None:
    """(label, id) of a manifest row, read leniently (a row of a manifest refused whole)."""
    glitch_id = str(row.get("id") or "").strip()
    return (str(row.get("label") or "").strip() or None, glitch_id) if glitch_id else None


def _unsafe_manifest_path(relative: str, base: Path) -> str | None:
    """Why a manifest path may not be read (it must stay under the CSV's folder), or None."""
    if PurePath(relative).is_absolute() or _ABSOLUTE.match(relative):
        return "is absolute (manifest paths are relative to the CSV)"
    if ".." in PurePath(relative.replace("\\", "/")).parts:
        return "contains '..' (manifest paths must stay under the CSV's folder)"
    if (base / relative).exists() and _outside(base / relative, base):
        return "is a symlink leading outside the CSV's folder"
    return None


def image_file_problem(path: Path) -> str | None:
    """Why `path` is not an acceptable glitch image, in one line, or None when it is.

    Cheap, no pixels decoded for a whole file: the size on disk, the header (format, declared
    width x height, mode and frames: opened_image_problem) and the end (_cut_problem: a PNG's
    chunks walked to IEND, a JPEG's EOI), which catches non-images, decompression bombs,
    slivers, greyscale or animated images and truncated copies. Damage in between surfaces as
    ml.encoding.DecodeError.
    """
    try:
        size = path.stat().st_size
        if size > MAX_IMAGE_BYTES:  # before opening it
            return f"file too large ({size} bytes; the limit is {MAX_IMAGE_BYTES})"
        with path.open("rb") as handle:
            return image_stream_problem(handle, size)
    except OSError as exc:
        return f"not a readable image ({type(exc).__name__}: {exc})"


def image_stream_problem(
    handle: BinaryIO, size: int, formats: Collection[str] | None = None
) -> str | None:
    """image_file_problem's checks on an open binary file of `size` bytes (a file on disk, an
    upload: webapp.labeling.validators), read from its start; `formats`, when given, the
    image formats accepted (Pillow's names)."""
    if size > MAX_IMAGE_BYTES:
        return f"file too large ({size} bytes; the limit is {MAX_IMAGE_BYTES})"
    try:
        handle.seek(0)
        with Image.open(handle) as image:
            image_format = image.format
            problem = opened_image_problem(image)
        if formats is not None and image_format not in formats:
            return f"a {image_format} image: an Omega scan is a {' or a '.join(formats)}"
        return problem or _cut_problem(handle, size, image_format)
    except Image.DecompressionBombError as exc:
        return f"image too large, possible decompression bomb ({exc})"
    except (OSError, SyntaxError, ValueError, UnidentifiedImageError) as exc:
        return f"not a readable image ({type(exc).__name__}: {exc})"


def _cut_problem(handle: BinaryIO, size: int, image_format: str | None) -> str | None:
    """Why a PNG or JPEG of `size` bytes is cut short, or None. Whatever follows its end
    (some tools and cameras append data after a JPEG's EOI; every decoder shows the picture)
    is no reason to refuse it, so the end is found from the start, not looked for in the tail.
    """
    if image_format == "PNG" and not _png_reaches_iend(handle, size):
        return "truncated PNG file (no end marker)"
    if image_format != "JPEG":
        return None
    handle.seek(max(0, size - 64))
    if b"\xff\xd9" in handle.read():  # EOI: the usual case, decided without decoding
        return None
    # Data after the EOI, or a cut: the JPEG's scan is read to its end only by decoding, and
    # this one file is decoded. Pillow raises on a cut one (unless ImageFile.
    # LOAD_TRUNCATED_IMAGES is set, which nothing here does: it would let cut files through).
    handle.seek(0)
    try:
        with Image.open(handle) as image:
            image.load()
    except (OSError, SyntaxError, ValueError) as exc:
        return f"truncated JPEG file (no end marker; decoding it: {exc})"
    return None


def _png_reaches_iend(handle: BinaryIO, size: int) -> bool:
    """Whether a PNG's chunks, walked from its signature by their headers (length, type; the
    data and CRC skipped), reach a whole IEND chunk within `size` bytes: a file cut short
    never does, even one that kept its last bytes (unless cut on a chunk's boundary), and
    whatever follows IEND is not read."""
    position = 8  # the signature
    while position + 12 <= size:  # a chunk is 12 bytes and its data
        handle.seek(position)
        header = handle.read(8)
        if len(header) < 8:
            return False
        length, kind = struct.unpack(">I4s", header)
        position += 12 + length
        if kind == b"IEND":
            return position <= size
    return False


def opened_image_problem(image: Image.Image) -> str | None:
    """Why an opened image cannot be an Omega scan, from its header alone, or None: a
    decompression bomb (over MAX_IMAGE_PIXELS), too small (under MIN_PLOT_PIXELS a side), no
    colour (a greyscale, 16-bit, float or 1-bit mode cannot hold viridis) or animated (a
    browser plays every frame, the model would read the first). image_file_problem asks it
    of each file it checks, ml.encoding of every image it decodes."""
    width, height = image.size
    if width * height > MAX_IMAGE_PIXELS:
        return (
            f"image too large, possible decompression bomb ({width}x{height} pixels; "
            f"the limit is {MAX_IMAGE_PIXELS})"
        )
    if width < MIN_PLOT_PIXELS or height < MIN_PLOT_PIXELS:
        return (
            f"image too small ({width}x{height} pixels; an Omega scan is at least "
            f"{MIN_PLOT_PIXELS}x{MIN_PLOT_PIXELS})"
        )
    if Image.getmodebase(image.mode) == "L":  # 1, L, LA, I, I;16, F: one channel, no colour
        return (
            f"image without colour (mode {image.mode}): an Omega scan is a viridis colour "
            "plot; export it in RGB"
        )
    # (a JPEG's second picture, MPO, is a thumbnail or a stereo view that browsers never show)
    if getattr(image, "is_animated", False) and image.format != "MPO":
        return (
            f"animated {image.format} image: a browser would play its frames, the model "
            "reads the first only; export one frame"
        )
    return None


def _is_readable_image(record: _ImageRecord, refused: _Refusals) -> bool:
    problem = image_file_problem(record.path)
    if problem is not None:
        refused.file(record.path, problem, record.glitch)
    return problem is None


def _group(records: list[_ImageRecord], refused: _Refusals) -> list[Sample]:
    by_id: dict[str, list[_ImageRecord]] = defaultdict(list)
    for record in records:
        by_id[record.id].append(record)

    samples = []
    for glitch_id, group in by_id.items():
        labels = sorted({r.label or "" for r in group})
        if len(labels) > 1:
            # Not re-keyed by folder: one glitch saved under two labels must stay refused, and
            # nothing tells it from two glitches numbered alike in two class folders.
            refused.files(
                _label_clash(glitch_id, group), (LeftOut(str(r.path), r.glitch) for r in group)
            )
            continue
        ifo = next((r.ifo for r in group if r.ifo), None) or ifo_of(glitch_id)
        undated = [r for r in group if r.duration is None]
        if undated:
            if len(group) > 1:
                for r in group:
                    refused.file(
                        r.path,
                        f"id {glitch_id!r} is named by several files, one of them without a "
                        "duration; skipped",
                        r.glitch,
                    )
                continue
            only = undated[0]
            samples.append(undated_sample(glitch_id, only.label, only.path, ifo=ifo,
                                          source=only.source))  # fmt: skip
            continue
        views: dict[float, Path] = {}
        for record in sorted(group, key=lambda r: str(r.path)):
            assert record.duration is not None  # undated groups were handled above
            if record.duration in views:
                refused.file(
                    record.path,
                    f"second {record.duration} s view of {glitch_id!r} (kept "
                    f"{views[record.duration]})",
                    record.glitch,
                )
            else:
                views[record.duration] = record.path
        samples.append(sample_of(glitch_id, group[0].label, views, ifo=ifo, source=group[0].source))
    return samples


def _label_clash(glitch_id: str, group: Sequence[_ImageRecord]) -> str:
    """One line for the files of one id found under several labels: where they are, why none
    is read, and how to fix it."""
    by_label: dict[str | None, list[Path]] = defaultdict(list)
    for record in group:
        by_label[record.label].append(record.path)
    where = "; ".join(
        f"{label or 'no label'}: {_count(len(paths), 'file')} in "
        f"{os.path.commonpath([str(p.parent) for p in paths])}"
        for label, paths in sorted(by_label.items(), key=lambda item: item[0] or "")
    )
    n = len(by_label)
    return (
        f"id {glitch_id!r} names files under {n} labels ({where}): an id must be unique across "
        f"class folders, so none of its {_count(len(group), 'file')} is read ({n} glitches, or "
        "fewer saved under several labels); give each glitch an id of its own (ids numbered "
        "from 1 in each class folder: put the class or the detector in them, "
        "Blip_001_0.5.png), or keep a glitch in the folder of its one label"
    )
