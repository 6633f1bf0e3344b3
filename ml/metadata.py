"""Per-glitch metadata (Gravity Spy's metadata CSV columns), read and checked from a CSV.

Two kinds of file carry it:

* Gravity Spy's metadata CSV (e.g. ``trainingset_v1d1_metadata.csv`` on Zenodo): one row per
  glitch, keyed by ``gravityspy_id`` (or ``id``), with ``event_time, ifo, peak_frequency,
  central_freq, bandwidth, duration, snr, q_value`` and ``channel`` among other columns.
* Our manifests (``ml synth``, ``ml scan``): one row per image, where ``duration`` is the
  view's window; there the glitch's own duration is ``glitch_duration`` and the event time
  ``gps_time`` (MANIFEST_NAMES). The simulator's older names are read too (ALIASES).

Untrusted input: every value is checked (a finite number, not negative, a GPS time in
range, a detector name, a channel name); a bad value is left empty and reported in one
line naming the file, the line, the column and the value, and the rest of the row is kept.
Columns the reader does not know are ignored.
"""

from __future__ import annotations

import csv
import hashlib
import math
import re
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

# Gravity Spy's names, in the order its metadata CSV lists them.
METADATA_COLUMNS: tuple[str, ...] = (
    "event_time",  # GPS seconds of the trigger
    "ifo",  # detector: H1, L1, V1 ...
    "peak_frequency",  # Hz: frequency of the loudest tile
    "central_freq",  # Hz: centre of the trigger's band
    "bandwidth",  # Hz
    "duration",  # s, of the glitch
    "snr",
    "q_value",  # Q of the loudest tile
    "channel",  # e.g. H1:GDS-CALIB_STRAIN
)
# How our manifests name the two columns whose Gravity Spy name means something else there.
MANIFEST_NAMES: dict[str, str] = {"event_time": "gps_time", "duration": "glitch_duration"}
# Every column a value may come from, first found wins (the simulator writes its injected
# central frequency as central_frequency; q_plane is the measured Q of the loudest tile).
ALIASES: dict[str, tuple[str, ...]] = {
    "event_time": ("event_time", "gps_time"),
    "central_freq": ("central_freq", "central_frequency"),
    "duration": ("duration", "glitch_duration"),
    "q_value": ("q_value", "q_plane"),
}
ID_COLUMNS: tuple[str, ...] = ("gravityspy_id", "id")
IFO = re.compile(r"^[GHIKLV][12]$")  # H1, L1, V1, K1, G1 ...
# Gravity Spy's ids: 10 ASCII letters and digits (its id generator's), keyed without the
# detector that a file name puts first (H1_0xA896L9Ao_1.0.png).
GRAVITYSPY_ID = re.compile(r"[A-Za-z0-9]{10}")
CHANNEL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9:_\-.]{0,127}$")
GPS_RANGE = (0.0, 1e10)  # 1980 to 2297: anything else is not a GPS time
# A column with a number for every glitch of a set may still use 0 for "none" (the
# simulator's central frequency and duration of a No_Glitch): read as empty. An SNR of 0
# is a measurement, kept.
ZERO_IS_EMPTY = frozenset({"peak_frequency", "central_freq", "bandwidth", "duration", "q_value"})


@dataclass(frozen=True)
class GlitchMetadata:
    """What is known of one glitch; None (or "") where the file said nothing."""

    event_time: float | None = None
    ifo: str = ""
    peak_frequency: float | None = None
    central_freq: float | None = None
    bandwidth: float | None = None
    duration: float | None = None
    snr: float | None = None
    q_value: float | None = None
    channel: str = ""

    def known(self) -> dict[str, float | str]:
        """The fields that hold a value, by Gravity Spy's column name."""
        return {k: v for k, v in asdict(self).items() if v not in (None, "")}


def hashed_id(key: str) -> str:
    """10 ASCII letters and digits drawn from `key` (sha256), of Gravity Spy's ids' form
    (GRAVITYSPY_ID): how the simulator names its glitches and ml scan a trigger without an
    id, so the same key always gives the same id."""
    alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
    value = int.from_bytes(hashlib.sha256(key.encode()).digest(), "big")
    chars = []
    for _ in range(10):
        value, r = divmod(value, len(alphabet))
        chars.append(alphabet[r])
    return "".join(chars)


def gravityspy_id_of(glitch_id: str) -> str:
    """Gravity Spy's id of a glitch that ml.data named after its file, `H1_<gravityspy_id>`
    (Gravity Spy's metadata keys a glitch without its detector); other ids as they are."""
    if IFO.match(glitch_id[:2]) and glitch_id[2:3] == "_" and len(glitch_id) > 3:
        return glitch_id[3:]
    return glitch_id


def gravityspy_id_in(glitch_id: str) -> str:
    """Gravity Spy's id of the glitch named `glitch_id` (`H1_<id>`, or the id alone) when
    it has the form of one (GRAVITYSPY_ID), else "": a glitch of a Gravity Spy set may
    still be named otherwise (a Zooniverse upload's `zoo-<uuid>`, a golden example's
    `golden-<Class>`: no Gravity Spy id is known for them)."""
    short = gravityspy_id_of(glitch_id)
    return short if GRAVITYSPY_ID.fullmatch(short) else ""


def first_known(items: list[GlitchMetadata]) -> GlitchMetadata | None:
    """One glitch's metadata from several sources, field by field: the first that knows a
    value gives it. None when there is no source."""
    if not items:
        return None
    values: dict[str, float | str] = {}
    for item in reversed(items):
        values.update(item.known())
    return GlitchMetadata(**values)  # type: ignore[arg-type]


@dataclass
class MetadataTable:
    """Metadata by glitch id, and one line per problem met while reading."""

    by_id: dict[str, GlitchMetadata] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    def get(self, glitch_id: str) -> GlitchMetadata | None:
        """The glitch's metadata; a Gravity Spy file name's id `H1_<gravityspy_id>` finds
        the row of `<gravityspy_id>` (ml.data names Gravity Spy glitches that way)."""
        found = self.by_id.get(glitch_id)
        if found is None and (short := gravityspy_id_of(glitch_id)) != glitch_id:
            found = self.by_id.get(short)
        return found

    def __len__(self) -> int:
        return len(self.by_id)


def read_metadata(path: Path | str) -> MetadataTable:
    """Every glitch's metadata in a Gravity Spy metadata CSV or one of our manifests.

    A manifest is told by its `path` column, or by an id listed on several rows with
    different `duration`s: one row per image, as the real set's listing
    (../shared/data/gravityspy-real/manifest.csv) has, where `duration` is each image's
    window, not the glitch's (Gravity Spy's metadata has one row per glitch). Rows of one
    id are merged, first value first; a later row that disagrees is reported.
    A file with none of the columns gives an empty table and no problem.
    """
    path = Path(path)
    table = MetadataTable()
    if not path.is_file():
        table.problems.append(f"{path}: no such metadata file")
        return table
    try:
        _read_rows(path, table)
    except (UnicodeDecodeError, csv.Error) as error:
        table.problems.append(f"{path}: not a readable CSV ({error})")
    return table


def _read_rows(path: Path, table: MetadataTable) -> None:
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        header = [name.strip() for name in reader.fieldnames or []]
        reader.fieldnames = header
        rows = list(reader)
    id_column = next((c for c in ID_COLUMNS if c in header), None)
    manifest = "path" in header or _lists_images(rows, id_column)
    sources = _sources(header, manifest=manifest)
    if not sources:
        return
    if id_column is None:
        table.problems.append(f"{path}: no {' or '.join(ID_COLUMNS)} column")
        return
    for line, row in enumerate(rows, start=2):
        glitch_id = (row.get(id_column) or "").strip()
        if not glitch_id:
            table.problems.append(f"{path}:{line}: empty {id_column}; row skipped")
            continue
        values = dict(_values(row, sources, f"{path}:{line}", table.problems))
        table.by_id[glitch_id] = _merge(
            table.by_id.get(glitch_id), values, f"{path}:{line}", glitch_id, table.problems
        )


def _lists_images(rows: list[dict[str, str | None]], id_column: str | None) -> bool:
    """True when one id comes on rows of different `duration`s (one row per image)."""
    if id_column is None:
        return False
    seen: dict[str, str] = {}
    for row in rows:
        glitch_id = (row.get(id_column) or "").strip()
        duration = (row.get("duration") or "").strip()
        if glitch_id and duration and seen.setdefault(glitch_id, duration) != duration:
            return True
    return False


def _sources(header: list[str], *, manifest: bool) -> dict[str, str]:
    """{our field: the CSV column it is read from} for the columns present."""
    found = {}
    for name in METADATA_COLUMNS:
        candidates = ALIASES.get(name, (name,))
        if manifest and name == "duration":
            candidates = ("glitch_duration",)  # a manifest's `duration` is the view's window
        column = next((c for c in candidates if c in header), None)
        if column is not None:
            found[name] = column
    return found


def _values(
    row: dict[str, str | None], sources: dict[str, str], where: str, problems: list[str]
) -> Iterator[tuple[str, float | str]]:
    for name, column in sources.items():
        text = (row.get(column) or "").strip()
        if not text:
            continue
        try:
            value = parse_value(name, text)
        except ValueError as error:
            problems.append(f"{where}: {column} {text[:40]!r} {error}; left empty")
            continue
        if value is not None:
            yield name, value


def parse_value(name: str, text: str) -> float | str | None:
    """One checked value of field `name` (a METADATA_COLUMNS name) from its CSV text;
    ValueError says what is wrong with it."""
    if name == "ifo":
        if not IFO.match(text):
            raise ValueError("is not a detector name (H1, L1, V1 ...)")
        return text
    if name == "channel":
        if not CHANNEL.match(text):
            raise ValueError("is not a channel name (letters, digits, ':_-.'; at most 128)")
        return text
    try:
        value = float(text)
    except ValueError:
        raise ValueError("is not a number") from None
    if not math.isfinite(value):
        raise ValueError("is not a finite number")
    if name == "event_time" and not GPS_RANGE[0] < value < GPS_RANGE[1]:
        raise ValueError("is not a GPS time in seconds")
    if value < 0:
        raise ValueError("is negative")
    if value == 0 and name in ZERO_IS_EMPTY:
        return None
    return value


def _merge(
    previous: GlitchMetadata | None,
    values: dict[str, float | str],
    where: str,
    glitch_id: str,
    problems: list[str],
) -> GlitchMetadata:
    if previous is None:
        return GlitchMetadata(**values)  # type: ignore[arg-type]
    known = previous.known()
    for name, value in values.items():
        if name in known and known[name] != value:
            problems.append(
                f"{where}: {glitch_id} has {name} {value!r} here and {known[name]!r} "
                "before; kept the first"
            )
    new = {k: v for k, v in values.items() if k not in known}
    return replace(previous, **new) if new else previous  # type: ignore[arg-type]


# --- GPS time --------------------------------------------------------------------------

GPS_EPOCH = datetime(1980, 1, 6, tzinfo=UTC)
# UTC days that began after a leap second, since the GPS epoch (IERS Bulletin C; none
# announced after 2017 as of 2026). GPS time runs on without them.
LEAP_SECOND_DAYS = (
    (1981, 7, 1), (1982, 7, 1), (1983, 7, 1), (1985, 7, 1), (1988, 1, 1), (1990, 1, 1),
    (1991, 1, 1), (1992, 7, 1), (1993, 7, 1), (1994, 7, 1), (1996, 1, 1), (1997, 7, 1),
    (1999, 1, 1), (2006, 1, 1), (2009, 1, 1), (2012, 7, 1), (2015, 7, 1), (2017, 1, 1),
)  # fmt: skip


def gps_to_utc(gps: float) -> datetime:
    """The UTC date and time of a GPS time (seconds since 1980-01-06 00:00 UTC, no leap
    seconds), e.g. 1126259462.4 (GW150914) -> 2015-09-14 09:50:45.4 UTC."""
    leaps = 0
    for k, day in enumerate(LEAP_SECOND_DAYS, start=1):
        # The GPS time at which UTC reached this day, k leap seconds having been inserted.
        at = (datetime(*day, tzinfo=UTC) - GPS_EPOCH).total_seconds() + k
        if gps >= at:
            leaps = k
    return GPS_EPOCH + timedelta(seconds=gps - leaps)


# --- what a Q scan says of its loudest tile ----------------------------------------------


def tile_bandwidth(frequency: float, q: float) -> float:
    """Hz: the bandwidth of a Q-transform tile at `frequency` Hz and quality `q`, as gwpy's
    QTile.bandwidth (2 sqrt(pi) f / Q)."""
    return 2.0 * math.sqrt(math.pi) * frequency / q
