"""Glitch waveforms: one function per class, each drawing its own random parameters.

Waveforms are written in the WHITENED domain, in units of the noise's standard deviation
per sample (so a waveform `w` has matched-filter SNR ||w||); `ml.synth.generate` colours
them with the aLIGO design ASD to get strain. Shapes follow the morphology table of
docs/DOMAIN.md, calibrated by eye against Gravity Spy's golden field-guide images.

Each function takes a `Context` (random generator, time axis with the trigger at t=0) and
returns a `Glitch`: the waveform plus the parameters that drew it (for the manifest).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ml.classes import CANONICAL_NAMES, NEW_CLASSES, NONE_OF_THE_ABOVE

Array = NDArray[np.float64]


@dataclass
class Context:
    rng: np.random.Generator  # the glitch's own generator: all randomness comes from it
    t: Array  # seconds, trigger at 0; the stretch is periodic (circular FFTs downstream)
    sample_rate: float  # Hz
    offset: float | None = None  # s: the first jitter drawn, the glitch's offset from t=0

    def uniform(self, low: float, high: float) -> float:
        return float(self.rng.uniform(low, high))

    def loguniform(self, low: float, high: float) -> float:
        return float(math.exp(self.rng.uniform(math.log(low), math.log(high))))

    def integer(self, low: int, high: int) -> int:
        """Uniform integer in [low, high] (both included)."""
        return int(self.rng.integers(low, high + 1))


@dataclass
class Glitch:
    waveform: Array  # whitened units, same length as Context.t
    snr: float  # matched-filter SNR of the whole waveform, ||waveform||
    central_frequency: float  # Hz: where the glitch's energy is centred (0: none)
    q: float  # quality factor of its main component (0: not a sine-Gaussian)
    glitch_duration: float  # seconds the feature lasts
    repetitions: int = 1  # how many times the feature repeats
    extra: dict[str, Any] = field(default_factory=dict)  # class-specific parameters


# -- building blocks ---------------------------------------------------------------------


def tau_of(q: float, f0: float) -> float:
    """Gaussian width (s) of a sine-Gaussian with quality factor q at f0 Hz."""
    return q / (math.sqrt(2.0) * math.pi * f0)


def sine_gaussian(ctx: Context, t0: float, f0: float, q: float, phase: float = 0.0) -> Array:
    """exp(-((t-t0)/tau)^2) cos(2 pi f0 (t-t0) + phase), unit peak; computed only near t0."""
    tau = tau_of(q, f0)
    out = np.zeros_like(ctx.t)
    lo, hi = np.searchsorted(ctx.t, (t0 - 5 * tau, t0 + 5 * tau))
    x = ctx.t[lo:hi] - t0
    out[lo:hi] = np.exp(-((x / tau) ** 2)) * np.cos(2 * math.pi * f0 * x + phase)
    return out


def gaussian_pulse(ctx: Context, t0: float, fc: float) -> Array:
    """Derivative of a Gaussian whose spectrum peaks at fc: a broadband, ~1/fc long pulse."""
    sigma = 1.0 / (2 * math.pi * fc)
    out = np.zeros_like(ctx.t)
    lo, hi = np.searchsorted(ctx.t, (t0 - 8 * sigma, t0 + 8 * sigma))
    x = (ctx.t[lo:hi] - t0) / sigma
    out[lo:hi] = -x * np.exp(-(x**2) / 2)
    return out


def track(ctx: Context, frequency: Array, envelope: Array, phase: float = 0.0) -> Array:
    """A narrow-band track: envelope(t) sin(phase(t)), instantaneous frequency `frequency` (Hz)."""
    freq = np.clip(frequency, 0.0, ctx.sample_rate / 2.2)
    ph = phase + 2 * math.pi * np.cumsum(freq) / ctx.sample_rate
    return np.asarray(envelope * np.sin(ph), dtype=np.float64)


def window(ctx: Context, start: float, stop: float, ramp: float) -> Array:
    """1 on [start, stop], cosine ramps of `ramp` s on both sides, 0 elsewhere."""
    t = ctx.t
    up = np.clip((t - (start - ramp)) / ramp, 0.0, 1.0)
    down = np.clip(((stop + ramp) - t) / ramp, 0.0, 1.0)
    return np.asarray(np.sin(np.pi / 2 * np.minimum(up, down)) ** 2, dtype=np.float64)


def with_snr(waveform: Array, snr: float) -> Array:
    """The waveform rescaled so that its matched-filter SNR (its L2 norm) is `snr`."""
    norm = float(np.sqrt(np.sum(waveform**2)))
    return waveform * (snr / norm) if norm > 0 else waveform


def _jitter(ctx: Context, width: float = 0.02) -> float:
    """Small offset of the glitch from the trigger time (Omicron's peak is not exact)."""
    value = ctx.uniform(-width, width)
    if ctx.offset is None:
        ctx.offset = value
    return value


# -- what real detector noise adds around any glitch ------------------------------------


def noise_envelope(ctx: Context) -> Array:
    """Slow changes of the noise level (real noise is not stationary): 1 +- up to 25 %,
    varying over about half a second. Multiplies the unit-variance white noise."""
    depth = ctx.uniform(0.0, 0.25)
    knots = ctx.rng.normal(0.0, 1.0, int(ctx.t[-1] - ctx.t[0]) * 2 + 2)
    smooth = np.interp(ctx.t, np.linspace(ctx.t[0], ctx.t[-1], knots.size), knots)
    return np.asarray(np.clip(1.0 + depth * smooth, 0.5, None), dtype=np.float64)


def background_transients(ctx: Context) -> Array:
    """A few faint, unrelated transients anywhere in the stretch (real scans are rarely
    clean): Poisson(1.5) sine-Gaussians, 20-1000 Hz, SNR 4-7 each."""
    out = np.zeros_like(ctx.t)
    for _ in range(int(ctx.rng.poisson(1.5))):
        t0 = ctx.uniform(float(ctx.t[0]) + 0.5, float(ctx.t[-1]) - 0.5)
        part = sine_gaussian(ctx, t0, ctx.loguniform(20.0, 1000.0), ctx.uniform(3.0, 20.0))
        out += with_snr(part, ctx.uniform(4.0, 7.0))
    return out


# -- the 22 Gravity Spy classes ----------------------------------------------------------


def lines_1080(ctx: Context) -> Glitch:
    f0 = ctx.uniform(1040.0, 1110.0)
    q = ctx.uniform(20.0, 50.0)
    span = ctx.uniform(2.5, 4.5)
    spacing = ctx.uniform(0.02, 0.06)
    times = np.arange(-span / 2, span / 2, spacing) + ctx.rng.uniform(-0.01, 0.01)
    w = np.zeros_like(ctx.t)
    for t0 in times:
        amp = ctx.rng.lognormal(0.0, 0.6)
        w += amp * sine_gaussian(ctx, float(t0), f0 * ctx.uniform(0.99, 1.01), q)
    snr = ctx.uniform(6.0, 10.0) * math.sqrt(len(times))
    return Glitch(with_snr(w, snr), snr, f0, q, span, len(times), {"spacing": spacing})


def ripples_1400(ctx: Context) -> Glitch:
    f0 = ctx.uniform(1330.0, 1470.0)
    q = ctx.uniform(30.0, 90.0)
    n = ctx.integer(1, 3)
    spacing = ctx.uniform(0.03, 0.08)
    t0 = _jitter(ctx)
    w = sum(ctx.uniform(0.6, 1.0) * sine_gaussian(ctx, t0 + k * spacing, f0, q) for k in range(n))
    snr = ctx.uniform(10.0, 25.0) * math.sqrt(n)
    dur = n * spacing + 2 * tau_of(q, f0)
    return Glitch(with_snr(np.asarray(w), snr), snr, f0, q, dur, n, {"spacing": spacing})


def air_compressor(ctx: Context) -> Glitch:
    """A short narrow-band burst near 50 Hz, 0.1-0.2 s long, as the field guide's example
    (golden-AirCompressor: ~0.15 s at 45-54 Hz): told from Power_Line by frequency alone."""
    f0 = ctx.uniform(46.0, 54.0)
    tau = ctx.uniform(0.04, 0.1)
    q = tau * math.sqrt(2) * math.pi * f0
    snr = ctx.uniform(8.0, 16.0)
    w = sine_gaussian(ctx, _jitter(ctx), f0, q)
    return Glitch(with_snr(w, snr), snr, f0, q, 2 * tau, 1)


def _blip_waveform(ctx: Context, t0: float, fc: float) -> Array:
    # a low-Q sine-Gaussian: short, broadband upwards, with a rounded bottom near fc/2
    return sine_gaussian(ctx, t0, fc, 2.0, ctx.uniform(0, 6.28))


def blip(ctx: Context) -> Glitch:
    # real blips are thin needles, saturated only in their lower half (not fat teardrops)
    fc = ctx.loguniform(55.0, 160.0)
    snr = ctx.loguniform(10.0, 35.0)
    w = _blip_waveform(ctx, _jitter(ctx), fc)
    return Glitch(with_snr(w, snr), snr, fc, 0.0, 1.0 / fc)


def _chirp_frequency(
    ctx: Context, f_start: float, f_end: float, duration: float, t_end: float
) -> tuple[Array, Array]:
    """Newtonian chirp f ~ (tc - t)^(-3/8) from f_start to f_end, ending at t_end; and its mask."""
    tau_end = duration / ((f_end / f_start) ** (8.0 / 3.0) - 1.0)
    tc = t_end + tau_end
    tau = np.maximum(tc - ctx.t, tau_end)
    freq = f_end * (tau / tau_end) ** (-3.0 / 8.0)
    mask = (ctx.t >= t_end - duration) & (ctx.t <= t_end)
    return freq, mask.astype(np.float64)


def chirp(ctx: Context) -> Glitch:
    f_start = ctx.uniform(30.0, 45.0)
    f_end = ctx.loguniform(150.0, 400.0)
    duration = ctx.uniform(0.08, 0.25)
    t_end = _jitter(ctx) + 0.02
    freq, mask = _chirp_frequency(ctx, f_start, f_end, duration, t_end)
    amp = (freq / f_end) ** 0.7 * mask
    ramp = np.clip((ctx.t - (t_end - duration)) / 0.03, 0.0, 1.0)
    ringdown = np.where(ctx.t > t_end, np.exp(-(ctx.t - t_end) / 0.006), 0.0)
    w = track(ctx, freq, amp * ramp + ringdown)
    snr = ctx.uniform(15.0, 35.0)
    return Glitch(
        with_snr(w, snr), snr, f_end, 0.0, duration, 1, {"f_start": f_start, "f_end": f_end}
    )


def extremely_loud(ctx: Context) -> Glitch:
    """One smooth saturated dome: every frequency up to f_top at once, lasting longer the
    lower the frequency (span at 10 Hz, a few ms at the top), centred on one instant."""
    span = ctx.uniform(0.4, 1.4)
    f_top = ctx.loguniform(300.0, 1500.0)
    slope = ctx.uniform(0.5, 0.8)
    t0 = _jitter(ctx, 0.05)
    w = np.zeros_like(ctx.t)
    for f in np.geomspace(10.0, f_top, 48):
        tau = max(span / 2 * (10.0 / f) ** slope, 2.0 / f)
        q = tau * math.sqrt(2) * math.pi * f
        w += with_snr(sine_gaussian(ctx, t0, float(f), q, ctx.uniform(0, 6.28)), 1.0)
    snr = ctx.loguniform(300.0, 1200.0)
    extra = {"f_top": f_top, "slope": slope}
    return Glitch(with_snr(w, snr), snr, math.sqrt(10 * f_top), 0.0, span, 1, extra)


def helix(ctx: Context) -> Glitch:
    """A vertical string of 3-4 separate beads from 50-80 Hz up to 180-320 Hz, a factor
    1.6-2.0 apart, Q 8-12 (so each lasts tens of ms at the bottom), loudest at the bottom
    and fainter each step up, zig-zagging 8-15 ms either side of the trigger: the golden
    Helix's beads near 64, 110 and 190 Hz with dark gaps between them. Beads closer in
    frequency or in time than this render as one saturated needle (the Omega scan then
    picks a low-Q plane), which is what a real Blip looks like."""
    f_lo, f_top = ctx.uniform(50.0, 80.0), ctx.uniform(180.0, 320.0)
    ratio = ctx.uniform(1.6, 2.0)
    n = max(3, int(math.log(f_top / f_lo) / math.log(ratio)) + 1)
    q = ctx.uniform(8.0, 12.0)
    fade = ctx.uniform(0.7, 0.95)  # bead SNR ratio per step up
    wobble = ctx.uniform(0.008, 0.015)
    bottom_snr = ctx.uniform(8.0, 14.0)
    t0 = _jitter(ctx)
    w = np.zeros_like(ctx.t)
    for k in range(n):
        f = f_lo * ratio**k * ctx.uniform(0.95, 1.05)
        dt = wobble * (1 if k % 2 else -1) + ctx.rng.normal(0, 0.002)
        bead = sine_gaussian(ctx, t0 + dt, f, q * ctx.uniform(0.85, 1.15), ctx.uniform(0, 6.28))
        w += with_snr(bead, bottom_snr * fade**k)
    snr = float(np.sqrt(np.sum(w**2)))
    f_hi = f_lo * ratio ** (n - 1)
    f_c = math.sqrt(f_lo * f_hi)
    extra = {"wobble": wobble, "f_low": f_lo, "f_high": f_hi, "ratio": ratio}
    return Glitch(w, snr, f_c, q, 2 * tau_of(q, f_lo), n, extra)


def koi_fish(ctx: Context) -> Glitch:
    """A very loud blip: wide saturated body at low frequency, fins either side, thin spike."""
    fc = ctx.uniform(25.0, 55.0)
    t0 = _jitter(ctx)
    body = gaussian_pulse(ctx, t0, fc)
    body /= math.sqrt(np.sum(body**2))
    low = sine_gaussian(ctx, t0, fc * 0.7, 3.0)
    low /= math.sqrt(np.sum(low**2))
    snr = ctx.loguniform(70.0, 400.0)
    w = with_snr(body + ctx.uniform(0.3, 0.8) * low, snr)
    # the fins: loud lobes at 20-60 Hz spreading far either side of the body (in real Koi
    # fish they fill much of the 1 s window)
    n_fins = ctx.integer(2, 6)
    fins = np.zeros_like(ctx.t)
    fin_dt = ctx.uniform(0.04, 0.1)
    for k in range(1, n_fins + 1):
        for side in (-1, 1):
            dt = side * k * fin_dt * ctx.uniform(0.8, 1.2)
            fins += sine_gaussian(ctx, t0 + dt, ctx.uniform(20.0, 60.0), ctx.uniform(3.0, 6.0))
    fin_snr = ctx.uniform(20.0, 50.0) * math.sqrt(n_fins)
    w += with_snr(fins, fin_snr)
    # the thin spike above the body, reaching hundreds of Hz
    w += with_snr(gaussian_pulse(ctx, t0, ctx.uniform(150.0, 350.0)), ctx.uniform(40.0, 120.0))
    extra = {"fin_dt": fin_dt, "fins": n_fins, "fin_snr": fin_snr}
    return Glitch(w, snr, fc, 0.0, 2 * n_fins * fin_dt, 1, extra)


def light_modulation(ctx: Context) -> Glitch:
    """A thin broadband stripe reaching the top of the band, then low-frequency bursts."""
    t0 = _jitter(ctx)
    n = ctx.integer(2, 6)
    spacing = ctx.uniform(0.1, 0.3)
    f_low = ctx.uniform(12.0, 22.0)
    w = with_snr(gaussian_pulse(ctx, t0, ctx.uniform(300.0, 800.0)), ctx.uniform(40.0, 120.0))
    for k in range(n):
        tk = t0 + 0.03 + k * spacing * ctx.uniform(0.9, 1.1)
        if k:
            w += with_snr(gaussian_pulse(ctx, tk, ctx.uniform(60.0, 200.0)), ctx.uniform(6.0, 12.0))
        blob = sine_gaussian(ctx, tk, f_low * ctx.uniform(0.9, 1.2), ctx.uniform(3.0, 5.0))
        w += with_snr(blob, ctx.uniform(12.0, 22.0))
    snr = float(np.sqrt(np.sum(w**2)))
    return Glitch(w, snr, f_low, 4.0, n * spacing, n, {"spacing": spacing})


def low_frequency_burst(ctx: Context) -> Glitch:
    f0 = ctx.uniform(9.0, 15.0)
    q = ctx.uniform(2.5, 4.0)
    snr = ctx.uniform(10.0, 24.0)
    w = sine_gaussian(ctx, _jitter(ctx), f0, q)
    return Glitch(with_snr(w, snr), snr, f0, q, 2 * tau_of(q, f0))


def low_frequency_lines(ctx: Context) -> Glitch:
    n = ctx.integer(1, 3)
    span = ctx.uniform(3.0, 4.5)
    freqs = sorted(ctx.uniform(10.5, 14.0) * k * ctx.uniform(0.95, 1.05) for k in (1, 2, 3)[:n])
    w = np.zeros_like(ctx.t)
    env = window(ctx, -span / 2, span / 2, 0.5)
    for i, f in enumerate(freqs):
        drift = 1 + 0.01 * np.sin(2 * math.pi * ctx.t / ctx.uniform(2, 6))
        w += (0.6**i) * track(ctx, f * drift, env, ctx.uniform(0, 6.28))
    snr = ctx.uniform(30.0, 60.0) * math.sqrt(span)
    return Glitch(with_snr(w, snr), snr, freqs[0], 0.0, span, n, {"frequencies": freqs})


def no_glitch(ctx: Context) -> Glitch:
    return Glitch(np.zeros_like(ctx.t), 0.0, 0.0, 0.0, 0.0, 0)


def none_of_the_above(ctx: Context) -> Glitch:
    """A mix of two unrelated features: what volunteers file as 'none of the above'."""
    # a long horizontal band is one possible part, not the usual one: volunteers file
    # broad, irregular blobs here far more often than lines
    kinds = ["blob", "band", "wander", "cluster", "bump"]
    odds = np.array([0.3, 0.1, 0.15, 0.25, 0.2])
    chosen = list(ctx.rng.choice(kinds, size=2, replace=False, p=odds))
    w = np.zeros_like(ctx.t)
    t0 = _jitter(ctx)
    for kind in chosen:
        if kind == "blob":
            part = sine_gaussian(ctx, t0, ctx.uniform(25, 80), ctx.uniform(2, 4))
            snr = ctx.uniform(25, 60)
        elif kind == "band":
            span = ctx.uniform(1.0, 4.0)
            f_band = ctx.uniform(40, 300)
            part = track(ctx, np.full_like(ctx.t, f_band), window(ctx, -span / 2, span / 2, 0.1))
            snr = ctx.uniform(10, 20) * math.sqrt(span)
        elif kind == "wander":
            span = ctx.uniform(0.3, 1.5)
            walk = np.exp(np.cumsum(ctx.rng.normal(0, 0.002, ctx.t.size)))
            part = track(
                ctx, ctx.uniform(60, 600) * walk, window(ctx, t0 - span / 2, t0 + span / 2, 0.05)
            )
            snr = ctx.uniform(20, 40) * math.sqrt(span)
        elif kind == "cluster":
            part = np.zeros_like(ctx.t)
            for _ in range(ctx.integer(3, 8)):
                part += sine_gaussian(
                    ctx, t0 + ctx.uniform(-0.2, 0.2), ctx.loguniform(30, 800), ctx.uniform(5, 20)
                )
            snr = ctx.uniform(20, 40)
        else:  # a slow bump at mid frequencies
            part = sine_gaussian(ctx, t0, ctx.uniform(80, 250), ctx.uniform(15, 40))
            snr = ctx.uniform(12, 25)
        w += with_snr(part, snr)
    snr = float(np.sqrt(np.sum(w**2)))
    return Glitch(w, snr, 0.0, 0.0, 0.0, 2, {"components": "+".join(chosen)})


def paired_doves(ctx: Context) -> Glitch:
    spacing = ctx.uniform(0.9, 1.4)
    n = ctx.integer(2, 4)
    f_lo, f_hi = ctx.uniform(18.0, 28.0), ctx.uniform(45.0, 75.0)
    dur = ctx.uniform(0.12, 0.25)
    first = -spacing * (n - 1) / 2 + _jitter(ctx, 0.05)
    up_first = bool(ctx.rng.integers(0, 2))
    w = np.zeros_like(ctx.t)
    for k in range(n):
        start = first + k * spacing - dur / 2
        x = np.clip((ctx.t - start) / dur, 0.0, 1.0)
        if (k % 2 == 0) == up_first:
            x = 1.0 - x
        freq = f_lo * (f_hi / f_lo) ** (x**1.5)
        env = window(ctx, start, start + dur, 0.02)
        w += track(ctx, freq, env, ctx.uniform(0, 6.28))
    snr = ctx.uniform(10.0, 18.0) * math.sqrt(n)
    extra = {"spacing": spacing, "f_low": f_lo, "f_high": f_hi}
    return Glitch(with_snr(w, snr), snr, math.sqrt(f_lo * f_hi), 0.0, dur, n, extra)


def power_line(ctx: Context) -> Glitch:
    f0 = 60.0 * ctx.uniform(0.995, 1.005)
    tau = ctx.uniform(0.07, 0.25)
    q = tau * math.sqrt(2) * math.pi * f0
    t0 = _jitter(ctx)
    harmonics = ctx.integer(1, 3)
    w = sum(
        (0.5 ** (h - 1)) * sine_gaussian(ctx, t0, f0 * h, q * h) for h in range(1, harmonics + 1)
    )
    snr = ctx.uniform(10.0, 22.0)
    return Glitch(with_snr(np.asarray(w), snr), snr, f0, q, 2 * tau, 1, {"harmonics": harmonics})


def repeating_blips(ctx: Context) -> Glitch:
    n = ctx.integer(2, 5)
    spacing = ctx.uniform(0.25, 0.5)
    fc = ctx.loguniform(50.0, 150.0)
    first = -(n - 1) * spacing / 2 * ctx.uniform(0.0, 1.0) + _jitter(ctx)
    w = np.zeros_like(ctx.t)
    for k in range(n):
        w += ctx.uniform(0.7, 1.0) * _blip_waveform(ctx, first + k * spacing, fc)
    snr = ctx.uniform(15.0, 40.0) * math.sqrt(n)
    return Glitch(with_snr(w, snr), snr, fc, 0.0, (n - 1) * spacing, n, {"spacing": spacing})


def _arches(
    ctx: Context, f_max: float, half_period: float, harmonics: list[float], t0: float
) -> Array:
    """Scattered-light fringes: f_k(t) = h_k f_max |sin(pi (t - t0) / half_period + pi/2)|."""
    base = np.abs(np.cos(np.pi * (ctx.t - t0) / half_period))
    w = np.zeros_like(ctx.t)
    for i, h in enumerate(harmonics):
        freq = h * f_max * base
        env = np.clip((freq - 8.0) / 6.0, 0.0, 1.0)  # fringes vanish into the seismic wall
        w += (0.8**i) * track(ctx, freq, env, ctx.uniform(0, 6.28))
    return w


def scattered_light(ctx: Context) -> Glitch:
    f_max = ctx.uniform(16.0, 40.0)
    half_period = ctx.uniform(1.5, 4.0)
    n = ctx.integer(1, 3)
    harmonics = [1.0] + [float(k) * ctx.uniform(0.9, 1.1) for k in range(2, n + 1)]
    w = _arches(ctx, f_max, half_period, harmonics, _jitter(ctx, 0.2))
    snr = ctx.uniform(12.0, 22.0) * math.sqrt(8.0 * n)
    extra = {"half_period": half_period, "harmonics": len(harmonics)}
    return Glitch(with_snr(w, snr), snr, f_max, 0.0, half_period, n, extra)


SCRATCHY_Q = (3.0, 6.0)  # quality factor of each of Scratchy's sine-Gaussians


def scratchy(ctx: Context) -> Glitch:
    span = ctx.uniform(1.2, 3.5)
    spacing = ctx.uniform(0.06, 0.14)
    fc = ctx.loguniform(80.0, 220.0)
    times = np.arange(-span / 2, span / 2, spacing) + _jitter(ctx, 0.05)
    w = np.zeros_like(ctx.t)
    for t0 in times:
        f = fc * ctx.uniform(0.8, 1.25)
        w += ctx.rng.lognormal(0, 0.3) * sine_gaussian(ctx, float(t0), f, ctx.uniform(*SCRATCHY_Q))
    snr = ctx.uniform(6.0, 9.0) * math.sqrt(len(times))
    return Glitch(with_snr(w, snr), snr, fc, 4.5, span, len(times), {"spacing": spacing})


def tomte(ctx: Context) -> Glitch:
    f0 = ctx.uniform(35.0, 55.0)
    q = ctx.uniform(1.6, 2.4)
    snr = ctx.loguniform(14.0, 28.0)
    w = sine_gaussian(ctx, _jitter(ctx), f0, q)
    return Glitch(with_snr(w, snr), snr, f0, q, 2 * tau_of(q, f0))


def violin_mode(ctx: Context) -> Glitch:
    f1 = ctx.uniform(490.0, 515.0)
    harmonics = ctx.integer(1, 3)
    n = ctx.integer(1, 5)
    spacing = ctx.uniform(0.1, 0.45)
    q = ctx.uniform(30.0, 80.0)
    first = -(n - 1) * spacing / 2 + _jitter(ctx)
    w = np.zeros_like(ctx.t)
    for k in range(n):
        for h in range(1, harmonics + 1):
            amp = ctx.uniform(0.5, 1.0)
            w += amp * sine_gaussian(ctx, first + k * spacing, f1 * h, q * h)
    snr = ctx.uniform(10.0, 22.0) * math.sqrt(n * harmonics)
    extra = {"harmonics": harmonics, "spacing": spacing}
    return Glitch(with_snr(w, snr), snr, f1, q, 2 * tau_of(q, f1), n, extra)


def wandering_line(ctx: Context) -> Glitch:
    f0 = ctx.uniform(900.0, 1700.0)
    # it wanders by tens of percent: a slow oscillation plus a random walk
    depth = ctx.uniform(0.05, 0.2)
    period = ctx.uniform(1.0, 4.0)
    walk = np.cumsum(ctx.rng.normal(0, 1.0, ctx.t.size))
    walk = (walk - walk.mean()) / (np.abs(walk).max() + 1e-9) * ctx.uniform(0.02, 0.1)
    freq = f0 * (1 + depth * np.sin(2 * math.pi * ctx.t / period + ctx.uniform(0, 6.28)) + walk)
    span = ctx.uniform(3.0, 6.0)
    w = track(ctx, freq, window(ctx, -span / 2, span / 2, 0.3))
    snr = ctx.uniform(10.0, 16.0) * math.sqrt(span * 10)
    extra = {"depth": depth, "period": period}
    return Glitch(with_snr(w, snr), snr, f0, 0.0, span, 1, extra)


# Whistle shapes and how often each is drawn; "steep" sweeps at STEEP_RATE Hz/s
WHISTLE_SHAPES = {"V": 0.5, "W": 0.15, "arch": 0.2, "steep": 0.15}
STEEP_RATE = (3.0e4, 1.5e5)


def whistle(ctx: Context) -> Glitch:
    """RF beat notes |f_rf1 - f_rf2| sweeping through a minimum (V), twice (W), through a
    maximum (an arch near the top of the band), or so fast the track is nearly vertical."""
    shape = str(ctx.rng.choice(list(WHISTLE_SHAPES), p=list(WHISTLE_SHAPES.values())))
    f_min = ctx.loguniform(250.0, 900.0)
    rate = ctx.loguniform(2000.0, 9000.0)  # Hz/s: how fast the beat note sweeps
    if shape == "steep":
        f_min, rate = ctx.loguniform(200.0, 600.0), ctx.loguniform(*STEEP_RATE)
    t0 = _jitter(ctx)
    gap = ctx.uniform(0.1, 0.3)
    vertices = [t0 - gap / 2, t0 + gap / 2] if shape == "W" else [t0]
    # nearest vertex gives the track: |f_rf1 - f_rf2| sweeping linearly through a minimum
    dist = np.min(np.abs(ctx.t[None, :] - np.array(vertices)[:, None]), axis=0)
    freq = np.sqrt(f_min**2 + (rate * dist) ** 2)
    if shape == "arch":
        f_top = ctx.loguniform(900.0, 1900.0)
        freq = np.maximum(f_top - (rate * 0.5 * dist) ** 2 / f_top, 20.0)
        f_min = f_top
    half = ctx.uniform(0.15, 0.45)
    env = window(ctx, vertices[0] - half, vertices[-1] + half, 0.05) * (freq < 3000)
    w = track(ctx, freq, env)
    snr = ctx.uniform(15.0, 35.0) * math.sqrt(2 * half + gap * (len(vertices) - 1)) * 2
    extra = {"f_min": f_min, "sweep_rate": rate, "shape": shape}
    return Glitch(with_snr(w, snr), snr, f_min, 0.0, 2 * half, len(vertices), extra)


# -- classes outside the 22 (for discovery) ----------------------------------------------


def reverse_chirp(ctx: Context) -> Glitch:
    """A chirp mirrored in time: the hook first, then a track falling in frequency."""
    mirrored = Context(ctx.rng, -ctx.t[::-1], ctx.sample_rate)
    g = chirp(mirrored)
    g.waveform = np.ascontiguousarray(g.waveform[::-1])
    return g


def fast_scattering(ctx: Context) -> Glitch:
    f_max = ctx.uniform(28.0, 60.0)
    half_period = ctx.uniform(0.35, 0.8)
    n = ctx.integer(1, 2)
    span = ctx.uniform(2.0, 4.5)
    harmonics = [1.0, 2.0][:n]
    w = _arches(ctx, f_max, half_period, harmonics, _jitter(ctx, 0.05))
    w *= window(ctx, -span / 2, span / 2, 0.2)
    snr = ctx.uniform(14.0, 22.0) * math.sqrt(span / half_period)
    extra = {"half_period": half_period}
    return Glitch(with_snr(w, snr), snr, f_max, 0.0, span, int(span / half_period), extra)


def low_frequency_blip(ctx: Context) -> Glitch:
    f0 = ctx.uniform(18.0, 32.0)
    q = ctx.uniform(4.0, 6.0)
    snr = ctx.uniform(12.0, 25.0)
    w = sine_gaussian(ctx, _jitter(ctx), f0, q)
    return Glitch(with_snr(w, snr), snr, f0, q, 2 * tau_of(q, f0))


WAVEFORMS: dict[str, Callable[[Context], Glitch]] = {
    "1080Lines": lines_1080,
    "1400Ripples": ripples_1400,
    "Air_Compressor": air_compressor,
    "Blip": blip,
    "Chirp": chirp,
    "Extremely_Loud": extremely_loud,
    "Helix": helix,
    "Koi_Fish": koi_fish,
    "Light_Modulation": light_modulation,
    "Low_Frequency_Burst": low_frequency_burst,
    "Low_Frequency_Lines": low_frequency_lines,
    "No_Glitch": no_glitch,
    NONE_OF_THE_ABOVE: none_of_the_above,
    "Paired_Doves": paired_doves,
    "Power_Line": power_line,
    "Repeating_Blips": repeating_blips,
    "Scattered_Light": scattered_light,
    "Scratchy": scratchy,
    "Tomte": tomte,
    "Violin_Mode": violin_mode,
    "Wandering_Line": wandering_line,
    "Whistle": whistle,
    "Reverse_Chirp": reverse_chirp,
    "Fast_Scattering": fast_scattering,
    "Blip_Low_Frequency": low_frequency_blip,
}

NEW_CLASS_NAMES: tuple[str, ...] = tuple(c.name for c in NEW_CLASSES)
assert set(WAVEFORMS) == set(CANONICAL_NAMES) | set(NEW_CLASS_NAMES), "class registry drifted"
