"""LIGO glitch simulator: labelled glitches of the 22 Gravity Spy classes (and new ones) as scans.

`generate(out_dir, per_class, ...)` writes OUT/<label>/<ifo>_<id>_spectrogram_<dur>.png and
OUT/manifest.csv; `write_gwosc_hdf5` writes a stretch of strain with glitches injected at
known times, for `python -m ml scan`.
"""

from ml.synth.generate import generate, read_manifest, simulate, written_by_synth
from ml.synth.gwosc import write_gwosc_hdf5
from ml.synth.waveforms import NEW_CLASS_NAMES, WAVEFORMS

__all__ = [
    "NEW_CLASS_NAMES",
    "WAVEFORMS",
    "generate",
    "read_manifest",
    "simulate",
    "write_gwosc_hdf5",
    "written_by_synth",
]
