"""The simulated physics: design-PSD noise, and manifest parameters that match the images."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from scipy.signal import welch

from ml.synth.generate import SAMPLE_RATE, STRETCH, glitch_seed, render_windows, simulate
from ml.synth.noise import aligo_design_psd, coloured_noise, whiten_design
from ml.synth.render import (
    FMIN,
    FRES,
    PLOT_HEIGHT,
    PLOT_WIDTH,
    TRES,
    QGram,
    row_frequencies,
    spectrogram,
)
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


def _separate_beads(label: str, index: int) -> int:
    """Loud runs (energy > 12) along the glitch's frequency profile (the loudest pixel of
    each row within +-50 ms of the trigger, 40-400 Hz, 0.5 s crop), a run counting only
    when a dark gap (energy < 6) parts it from the one before: 1 for one needle, 3 for
    three beads."""
    sim = simulate(label, glitch_seed(7, label, index))
    images, _ = render_windows(
        sim.whitened, SAMPLE_RATE, epoch=-STRETCH / 2, centre=0.0, title="", styles=["crop"]
    )
    energy = energy_of(images[("crop", 0.5)])
    height, width = energy.shape
    profile = energy[:, width // 2 - width // 10 : width // 2 + width // 10].max(axis=1)
    freqs = row_frequencies(height)
    runs, after_gap = 0, True
    for value in profile[(freqs > 40.0) & (freqs < 400.0)]:
        if value > 12.0 and after_gap:
            runs, after_gap = runs + 1, False
        if value < 6.0:
            after_gap = True
    return runs


def test_a_helix_shows_separate_beads_where_a_blip_is_one_needle():
    # The golden Helix: beads near 64, 110 and 190 Hz with dark gaps. Beads drawn too close
    # rendered as one saturated needle (3 of these 12 draws showed gaps), a real Blip's look.
    helix = [_separate_beads("Helix", i) for i in range(12)]
    assert sum(n >= 2 for n in helix) >= 7, helix
    assert [_separate_beads("Blip", i) for i in range(4)] == [1, 1, 1, 1]


def test_pixels_come_from_gravity_spys_grid_of_2_ms_by_half_a_hertz():
    """Gravity Spy's make_q_scans interpolates each window onto a 2 ms x 0.5 Hz grid (gwpy's
    tres, fres) and the plot fills each pixel from the grid cell its centre falls in: a
    0.5 s window has 250 distinct columns over 572 pixels, and 0.5 Hz rows span several
    pixels at the bottom of the log axis, one pixel or less at the top."""
    rng = np.random.default_rng(0)
    freqs = np.geomspace(FMIN, 2048.0, 60)
    energies = [rng.exponential(1.0, 4096) for _ in freqs]  # 8 s rows, ~2 ms tiles
    qgram = QGram(8.0, freqs, energies, epoch=-4.0, duration=8.0, peak={})

    for duration in (0.5, 1.0, 4.0):
        values = spectrogram(qgram, centre=0.0, duration=duration)
        assert values.shape == (PLOT_HEIGHT, PLOT_WIDTH)
        distinct_columns = 1 + int(np.any(values[:, 1:] != values[:, :-1], axis=0).sum())
        assert distinct_columns == min(PLOT_WIDTH, round(duration / TRES))
    grid_rows = np.unique(np.floor((row_frequencies() - FMIN) / FRES + 1e-9)).size
    distinct_rows = 1 + int(np.any(values[1:] != values[:-1], axis=1).sum())
    assert distinct_rows == grid_rows < PLOT_HEIGHT
