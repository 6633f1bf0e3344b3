"""Fixtures shared by the ml/ tests of the simulated-only model (test_sim_only_*)."""

from __future__ import annotations

from pathlib import Path

import pytest
from image_factories import write_glitches

from ml.synth import generate


@pytest.fixture(scope="module")
def sim_and_real(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(an `ml synth` folder, a folder of real-like glitches): Blip and Whistle, 3 each."""
    sim = tmp_path_factory.mktemp("sim")
    generate(sim, 3, classes=["Blip", "Whistle"], style="crop", seed=5, workers=1)
    real = tmp_path_factory.mktemp("real")
    for label in ("Blip", "Whistle"):
        write_glitches(real, label, 3)
    return sim, real
