"""Write simulated strain as a GWOSC-style HDF5 file: design-PSD noise with glitches at known times.

The file reads back offline with `gwpy.timeseries.TimeSeries.read(path, format="hdf5.gwosc")`:
dataset `strain/Strain` (attrs Xstart, Xspacing, Xunits, Yunits, Npoints) and
`meta/Detector`, `meta/GPSstart`, `meta/Duration`, as in GWOSC's bulk-data files.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ml.synth.noise import colour
from ml.synth.waveforms import WAVEFORMS, Context


@dataclass(frozen=True)
class Injection:
    label: str  # class of the injected glitch
    gps_time: float  # GPS time of its trigger
    snr: float
    central_frequency: float  # Hz


def write_gwosc_hdf5(
    path: str | os.PathLike[str],
    injections: list[tuple[str, float]],
    *,
    gps_start: float = 1126259000.0,
    duration: float = 32.0,
    sample_rate: float = 8192.0,
    ifo: str = "H1",
    seed: int = 0,
) -> list[Injection]:
    """Write `duration` s of noise from `gps_start`, with one glitch per (label, gps_time).

    Glitches are drawn with the same waveforms as `generate`; each gets its own generator
    derived from `seed`. Returns what was injected, in the order given.
    """
    import h5py

    n = int(round(duration * sample_rate))
    rng = np.random.default_rng(seed)
    white = rng.standard_normal(n)
    t = gps_start + np.arange(n) / sample_rate
    injected = []
    for k, (label, gps_time) in enumerate(injections):
        if not gps_start + 4 <= gps_time <= gps_start + duration - 4:
            raise ValueError(f"injection at {gps_time} is within 4 s of the file's edges")
        if label not in WAVEFORMS:
            raise ValueError(f"unknown class {label!r}")
        ctx = Context(np.random.default_rng([seed, k]), t - gps_time, sample_rate)
        glitch = WAVEFORMS[label](ctx)
        white += glitch.waveform
        injected.append(Injection(label, float(gps_time), glitch.snr, glitch.central_frequency))
    strain = colour(white, sample_rate)
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    with h5py.File(out, "w") as f:
        ds = f.create_dataset("strain/Strain", data=strain)
        ds.attrs["Xstart"] = gps_start
        ds.attrs["Xspacing"] = 1.0 / sample_rate
        ds.attrs["Xunits"] = "second"
        ds.attrs["Yunits"] = "strain"
        ds.attrs["Npoints"] = n
        f.create_dataset("meta/Detector", data=np.bytes_(ifo))
        f.create_dataset("meta/GPSstart", data=int(gps_start))
        f.create_dataset("meta/Duration", data=int(duration))
        f.create_dataset("meta/Observatory", data=np.bytes_(ifo[0]))
    return injected
