"""`python -m ml duplicates`: glitches saved under several ids, found by their noise.

Prints one line per pair of ids whose views show the same glitch (ml.fingerprint: cropped,
re-encoded, or another of its durations), then the glitches `merge_same_glitches` would make
of them. Exit status 1 when any is found, so a data check can fail on it.
"""

from __future__ import annotations

import argparse

from ml.commands import add_data_argument, load


def configure(parser: argparse.ArgumentParser) -> None:
    add_data_argument(parser)


def _seconds(duration: float | None) -> str:
    return "no duration" if duration is None else f"{duration:g} s"


def run(args: argparse.Namespace) -> int:
    from ml.fingerprint import matches, merge_same_glitches

    samples = load(args.data, keep_unknown_labels=True)
    label = {s.id: s.label or "unlabelled" for s in samples}
    found = matches(samples)
    for m in found:
        conflict = "" if label[m.a] == label[m.b] else "  LABELS DIFFER"
        print(
            f"{m.a} ({label[m.a]}, {_seconds(m.a_duration)}) = {m.b} ({label[m.b]}, "
            f"{_seconds(m.b_duration)}): similarity {m.similarity:.3f}{conflict}"
        )
    _, merges = merge_same_glitches(samples, found)
    for ids in merges:
        print(f"one glitch: {' + '.join(ids)}")
    print(f"{len(samples)} glitches; {len(found)} pairs show one glitch; {len(merges)} would merge")
    return 1 if found else 0
