"""One small simulated data set shared by the synth tests: 1 glitch per class, both styles."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ml.classes import CANONICAL_NAMES
from ml.synth import NEW_CLASS_NAMES, generate, read_manifest
from ml.synth.render import VMAX, _viridis_lut

ALL_CLASSES = (*CANONICAL_NAMES, *NEW_CLASS_NAMES)


@pytest.fixture(scope="session")
def every_class(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[dict[str, str]]]:
    """OUT folder and manifest rows of one glitch of each of the 25 classes, full + crop."""
    out = tmp_path_factory.mktemp("every_class")
    manifest = generate(out, 1, new_classes=NEW_CLASS_NAMES, style="full,crop", seed=11, workers=1)
    return out, read_manifest(manifest)


def energy_of(rgb: np.ndarray) -> np.ndarray:
    """Normalised energy (float, H x W) of a crop image, by inverting the viridis colouring."""
    lut = _viridis_lut().astype(np.int64)
    codes = (lut[:, 0] << 16) | (lut[:, 1] << 8) | lut[:, 2]
    order = np.argsort(codes)
    pix = rgb.astype(np.int64)
    pcodes = (pix[..., 0] << 16) | (pix[..., 1] << 8) | pix[..., 2]
    pos = np.clip(np.searchsorted(codes[order], pcodes), 0, len(codes) - 1)
    assert np.all(codes[order][pos] == pcodes), "pixel colours outside the viridis map"
    return order[pos] * (VMAX / 255.0)


def brightest_frequency(values: np.ndarray) -> float:
    """Frequency (Hz) of the row holding the loudest pixels of a plot-area energy array.

    Rows are ranked by their loudest pixel (a short glitch wins over a noisy row), ties
    (saturated rows) by their total energy.
    """
    from ml.synth.render import frequency_of_row

    score = values.max(axis=1) + 1e-4 * values.sum(axis=1)
    return frequency_of_row(int(np.argmax(score)), values.shape[0])
