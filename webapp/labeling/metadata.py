"""A glitch's metadata (Gravity Spy's columns, parsed by ml.metadata): written onto its
Subject at import, and read for the subject page and the map."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ml.metadata import IFO, GlitchMetadata, gps_to_utc
from webapp.labeling.models import Subject
from webapp.labeling.services import subject_images_kept_if_committed, subject_import

# Gravity Spy's column -> the Subject field that holds it (event_time was already gps_time).
SUBJECT_FIELD: dict[str, str] = {
    "event_time": "gps_time",
    "ifo": "ifo",
    "peak_frequency": "peak_frequency",
    "central_freq": "central_freq",
    "bandwidth": "bandwidth",
    "duration": "duration",
    "snr": "snr",
    "q_value": "q_value",
    "channel": "channel",
}
# The Subject fields only metadata fills (every import gives gps_time and ifo).
METADATA_ONLY_FIELDS = [name for name in SUBJECT_FIELD.values() if name not in ("gps_time", "ifo")]
# What joins a public table that holds the label (Gravity Spy's training set: its id, event
# time, SNR, frequencies...; a simulation's id is a hash of its class): shown with the
# answers only (labeling.selectors.subject_answers_visible), never before a vote.
IDENTIFYING_FIELDS = ("external_id", "gps_time", *METADATA_ONLY_FIELDS)


def shown_name(subject_id: int, external_id: str | None) -> str:
    """The name a page gives a glitch: its external id where the viewer may see its
    answers (pass None where not), else "#<number>", as the labelling page names it."""
    return external_id or f"#{subject_id}"


def subject_metadata_set(*, subject: Subject, metadata: GlitchMetadata) -> list[str]:
    """Write the values the metadata holds onto the subject; a value it lacks never clears
    one the subject has (a second file adds to the first). Returns the fields changed."""
    changed = []
    for column, value in metadata.known().items():
        name = SUBJECT_FIELD[column]
        if getattr(subject, name) != value:
            setattr(subject, name, value)
            changed.append(name)
    if changed:
        subject.save(update_fields=changed)
    return changed


def subject_import_with_metadata(
    *, metadata: GlitchMetadata | None, **subject: Any
) -> tuple[Subject, bool, list[str]]:
    """labeling.services.subject_import (same arguments) and its metadata, in one
    transaction; an existing subject gets the metadata too. Returns (subject, created,
    fields changed)."""
    with subject_images_kept_if_committed():  # its failure removes the images copied
        row, created = subject_import(**subject)
        changed = subject_metadata_set(subject=row, metadata=metadata) if metadata else []
    return row, created, changed


# --- reads -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Fact:
    label: str
    value: str
    title: str = ""  # what it means, for the page's tooltip


def _number(value: float | None, unit: str = "", digits: int = 4) -> str:
    if value is None:
        return ""
    return f"{value:.{digits}g}{f' {unit}' if unit else ''}"


def _gps(value: float | None) -> str:
    """A GPS time as stored, to the microsecond: 3 decimals rounded a trigger time such as
    1165294364.1875 to one no table holds; a float's last bits (1e-7 s) are not shown."""
    if value is None:
        return ""
    return f"{value:.6f}".rstrip("0").rstrip(".")


def subject_facts(*, subject: Subject) -> list[Fact]:
    """What the subject page shows of the glitch, in Gravity Spy's order; only facts known."""
    date = ""
    if subject.gps_time is not None:
        date = gps_to_utc(subject.gps_time).strftime("%Y-%m-%d %H:%M:%S UTC")
    facts = [
        Fact("Detector", subject.ifo),
        Fact("Channel", subject.channel),
        Fact("GPS time", _gps(subject.gps_time)),
        Fact("Date", date, "UTC, from the GPS time (leap seconds counted)"),
        Fact("Peak frequency", _number(subject.peak_frequency, "Hz"), "of the loudest tile"),
        Fact("Central frequency", _number(subject.central_freq, "Hz")),
        Fact("Bandwidth", _number(subject.bandwidth, "Hz")),
        Fact("Duration", _number(subject.duration, "s"), "of the glitch"),
        Fact("SNR", _number(subject.snr, digits=3), "signal-to-noise ratio"),
        Fact("Q", _number(subject.q_value, digits=3), "quality factor of the loudest tile"),
    ]
    return [fact for fact in facts if fact.value]


def map_facts(ids: list[int]) -> dict[str, list[Any]]:
    """Columns the map's hover shows beside the class, for the subjects `ids` (in order):
    detector, SNR and peak frequency (rounded): a detector name or numbers only, so nothing
    of them can be markup in Plotly's hover text. One query over the table, not an IN list
    of every id (a map holds up to every subject)."""
    rows = {
        pk: (ifo, snr, peak)
        for pk, ifo, snr, peak in Subject.objects.values_list("pk", "ifo", "snr", "peak_frequency")
    }
    empty = ("", None, None)
    found = [rows.get(i, empty) for i in ids]
    return {
        "ifo": [ifo if IFO.match(ifo) else "" for ifo, _, _ in found],
        "snr": [round(snr, 1) if snr is not None else None for _, snr, _ in found],
        "peak_frequency": [round(peak) if peak is not None else None for _, _, peak in found],
    }


def metadata_path_of(root: Path) -> Path | None:
    """The CSV that may carry metadata for an import root: the root itself when it is a
    CSV, else its manifest.csv when there is one."""
    if root.is_file() and root.suffix.lower() == ".csv":
        return root
    manifest = root / "manifest.csv"
    return manifest if manifest.is_file() else None
