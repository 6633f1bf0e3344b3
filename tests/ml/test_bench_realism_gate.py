"""bench/synth.py --realism counts the issue's gate (AUC <= 0.7) and, beside it, the classes
the probe cannot tell apart either way: an AUC of 0.0 or 0.1 passes the gate, but the probe
then tells the simulations from the real glitches as well as at 1.0 or 0.9."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.synth import gate_counts  # noqa: E402


def test_an_auc_far_below_chance_passes_the_gate_but_is_not_near_chance() -> None:
    aucs = {"Helix": 0.0, "Light_Modulation": 0.1, "Chirp": 0.5, "Tomte": 0.3, "Blip": 0.75}

    assert gate_counts(aucs) == (4, 2)  # Helix, Light_Modulation, Chirp, Tomte; Chirp, Tomte


def test_the_edges_count() -> None:
    assert gate_counts({"a": 0.7, "b": 0.3, "c": 0.71, "d": 0.29}) == (3, 2)
