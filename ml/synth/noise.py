"""Detector noise for the simulator: aLIGO design PSD (analytic fit), coloured noise, whitening.

Everything here works on plain float64 arrays sampled at `sample_rate` Hz; no network, no
PSD files: the design curve is the standard analytic fit to the aLIGO zero-detuned
high-power sensitivity (Ajith 2011, Phys. Rev. D 84, 084037, eq. 4.7).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

F_LOW = 9.0  # Hz: below this the fit is meaningless; the curve is held flat (seismic wall)
F0 = 215.0  # Hz: the fit's reference frequency
S0 = 1.0e-49  # 1/Hz: the fit's scale


def aligo_design_psd(frequencies: NDArray[np.float64]) -> NDArray[np.float64]:
    """One-sided aLIGO design PSD (strain^2/Hz) at `frequencies` (Hz), float64, same shape.

    S(f) = S0 [x^-4.14 - 5 x^-2 + 111 (1 - x^2 + x^4/2) / (1 + x^2/2)], x = f / 215 Hz,
    evaluated at max(f, F_LOW) so the curve is finite and flat below the seismic wall.
    """
    x = np.maximum(np.asarray(frequencies, dtype=np.float64), F_LOW) / F0
    return S0 * (x**-4.14 - 5.0 * x**-2 + 111.0 * (1 - x**2 + x**4 / 2) / (1 + x**2 / 2))


def aligo_design_asd(frequencies: NDArray[np.float64]) -> NDArray[np.float64]:
    """Amplitude spectral density (strain/sqrt(Hz)), the square root of `aligo_design_psd`."""
    return np.sqrt(aligo_design_psd(frequencies))


def colour(white: NDArray[np.float64], sample_rate: float) -> NDArray[np.float64]:
    """Strain whose PSD is the design PSD, from unit-variance white noise (float64, same shape).

    Circular (FFT-based): the stretch is periodic, so `whiten` inverts it exactly.
    """
    n = white.size
    freqs = np.fft.rfftfreq(n, 1.0 / sample_rate).astype(np.float64)
    # unit-variance white noise has one-sided PSD 2/fs; scale it to S(f)
    spectrum = np.fft.rfft(white) * aligo_design_asd(freqs) * np.sqrt(sample_rate / 2.0)
    spectrum[0] = 0.0
    return np.fft.irfft(spectrum, n)


def whiten_design(strain: NDArray[np.float64], sample_rate: float) -> NDArray[np.float64]:
    """Whiten strain with the known design ASD: the inverse of `colour` (unit-variance noise)."""
    n = strain.size
    freqs = np.fft.rfftfreq(n, 1.0 / sample_rate).astype(np.float64)
    spectrum = np.fft.rfft(strain) / (aligo_design_asd(freqs) * np.sqrt(sample_rate / 2.0))
    spectrum[0] = 0.0
    return np.fft.irfft(spectrum, n)


def coloured_noise(n: int, sample_rate: float, rng: np.random.Generator) -> NDArray[np.float64]:
    """`n` samples of Gaussian strain noise coloured by the aLIGO design PSD (float64)."""
    return colour(rng.standard_normal(n), sample_rate)
