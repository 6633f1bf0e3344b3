"""The simulated physics: design-PSD noise, and manifest parameters that match the images."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from scipy.signal import welch

from ml.synth.noise import aligo_design_psd, coloured_noise, whiten_design
from tests.ml.synth.conftest import brightest_frequency, energy_of


def test_noise_follows_the_aligo_design_psd_and_whitens_back():
    rate = 8192.0
    rng = np.random.default_rng(0)
    strain = coloured_noise(int(16 * rate), rate, rng)
    freqs, psd = welch(strain, fs=rate, nperseg=int(rate))
    for f in (20.0, 100.0, 300.0, 1500.0):
        band = (freqs > 0.9 * f) & (freqs < 1.1 * f)
        ratio = np.mean(psd[band] / aligo_design_psd(freqs[band]))
        assert 0.8 < ratio < 1.25, (f, ratio)
    assert aligo_design_psd(np.array([100.0]))[0] > aligo_design_psd(np.array([200.0]))[0]
    white = whiten_design(strain, rate)
    assert abs(white.std() - 1.0) < 0.05


def _brightest_frequency(path) -> float:
    return brightest_frequency(energy_of(np.asarray(Image.open(path).convert("RGB"))))


@pytest.mark.parametrize(
    ("label", "nominal"),
    [("Power_Line", 60.0), ("Violin_Mode", 500.0), ("1400Ripples", 1400.0), ("Air_Compressor", 50)],
)
def test_image_energy_peaks_at_the_manifest_frequency(every_class, label, nominal):
    out, rows = every_class
    row = next(
        r for r in rows if r["label"] == label and r["style"] == "crop" and r["duration"] == "1.0"
    )
    central = float(row["central_frequency"])
    assert abs(central - nominal) / nominal < 0.15
    seen = _brightest_frequency(out / row["path"])
    # the brightest row is the glitch's band (or, for violin modes, one of its harmonics)
    assert min(abs(seen - k * central) / (k * central) for k in (1, 2, 3)) < 0.12, seen
    assert abs(float(row["peak_frequency"]) - seen) / seen < 0.25


def test_no_glitch_is_noise_only_and_a_blip_saturates(every_class):
    out, rows = every_class

    def loudest(label):
        row = next(
            r
            for r in rows
            if r["label"] == label and r["style"] == "crop" and r["duration"] == "0.5"
        )
        return energy_of(np.asarray(Image.open(out / row["path"]).convert("RGB"))).max()

    assert loudest("No_Glitch") < 20.0
    assert loudest("Blip") >= 25.0
