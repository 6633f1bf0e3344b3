"""bench/real.py prints each big class's recall in each archive of the real set (the
volunteer's Zooniverse JPEGs `zoo-`, Gravity Spy's PNGs `H1_`/`L1_`, the golden examples):
some classes come from one archive only, so a class's recall can be an archive's."""

from __future__ import annotations

import contextlib
import io
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import numpy as np  # noqa: E402, I001

from bench.real import print_summary, recall_by_archive, summarise  # noqa: E402
from ml.data import sample_of  # noqa: E402
from ml.evaluate import evaluate_predictions  # noqa: E402

IDS = {"zoo-a": "Blip", "zoo-b": "Blip", "H1_c": "Blip", "L1_d": "Scratchy", "L1_e": "Scratchy",
       "golden-Helix": "Helix"}  # fmt: skip
SAMPLES = [sample_of(i, label, {1.0: Path(f"{i}.png")}) for i, label in IDS.items()]


def test_each_big_class_is_counted_per_archive() -> None:
    assert recall_by_archive(SAMPLES, {"zoo-b", "L1_e"}) == {
        "Blip": {"gravityspy": [1, 1], "zoo": [1, 2]},
        "Scratchy": {"gravityspy": [1, 2]},
    }  # Helix has one glitch: no class of its own to tangle


def test_the_summary_prints_them() -> None:
    names = ["Blip", "Helix", "Scratchy"]
    predicted = ["Blip", "Scratchy", "Blip", "Scratchy", "Scratchy", "Helix"]  # zoo-b wrong
    probs = np.array([[float(p == n) for n in names] for p in predicted])
    truth = [str(s.label) for s in SAMPLES]
    report = evaluate_predictions(probs, truth, names, ids=list(IDS))
    shown = io.StringIO()
    with contextlib.redirect_stdout(shown):
        print_summary("t", summarise(report, SAMPLES, {"Helix"}, by_archive=True))

    assert "  Blip                   gravityspy 1.00 of 1, zoo 0.50 of 2" in shown.getvalue()
    assert "  Scratchy               gravityspy 1.00 of 2" in shown.getvalue()
