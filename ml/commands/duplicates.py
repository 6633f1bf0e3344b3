"""`python -m ml duplicates`: glitches saved under several ids, found by their noise.

Prints one line per pair of ids whose views show the same glitch (ml.fingerprint: cropped,
re-encoded, or another of its durations), then the glitches `merge_same_glitches` would make
of them. With `--against DIR`, only pairs of a glitch of --data and one of DIR are looked
for: is any glitch of a held-out folder also in the training folders? Exit status 1 when
any is found, or when a view could not be read (it was compared with nothing), so a data
check can fail on it.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ml.commands import add_data_argument, load


def configure(parser: argparse.ArgumentParser) -> None:
    add_data_argument(parser)
    parser.add_argument(
        "--against",
        action="append",
        default=[],
        metavar="DIR",
        help="only pairs of a glitch of --data and one of DIR (e.g. held-out against "
        "training data); repeat for several",
    )


def _seconds(duration: float | None) -> str:
    return "no duration" if duration is None else f"{duration:g} s"


def run(args: argparse.Namespace) -> int:
    from ml.fingerprint import matches, merge_same_glitches

    samples = load(args.data, keep_unknown_labels=True)
    against = load(args.against, keep_unknown_labels=True) if args.against else None
    label = {s.id: s.label or "unlabelled" for s in [*samples, *(against or [])]}
    unread: list[tuple[Path, str]] = []
    found = matches(samples, against=against, skipped=unread)
    for path, why in unread:
        print(f"{path}: not compared, cannot read it: {why}", file=sys.stderr)
    for m in found:
        conflict = "" if label[m.a] == label[m.b] else "  LABELS DIFFER"
        print(
            f"{m.a} ({label[m.a]}, {_seconds(m.a_duration)}) = {m.b} ({label[m.b]}, "
            f"{_seconds(m.b_duration)}): similarity {m.similarity:.3f}{conflict}"
        )
    if against is not None:
        same_ids = sorted({s.id for s in samples} & {s.id for s in against})
        for glitch_id in same_ids:
            print(f"{glitch_id}: the same id in --data and --against")
        print(f"{len(samples)} glitches against {len(against)}; {len(found)} pairs show one "
              f"glitch; {len(same_ids)} ids in both{_unread(unread)}")  # fmt: skip
        return 1 if found or same_ids or unread else 0
    _, merges = merge_same_glitches(samples, found)
    for ids in merges:
        print(f"one glitch: {' + '.join(ids)}")
    print(f"{len(samples)} glitches; {len(found)} pairs show one glitch; {len(merges)} would "
          f"merge{_unread(unread)}")  # fmt: skip
    return 1 if found or unread else 0


def _unread(unread: list[tuple[Path, str]]) -> str:
    return f"; {len(unread)} views not compared (cannot read them)" if unread else ""
