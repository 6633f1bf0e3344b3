"""The one class registry: Gravity Spy's 22 canonical glitch classes, plus any added at run time.

Everything that needs a class list reads it from here: the data reader, the model head,
the simulator and the web app (which seeds its GlitchClass table from CANONICAL_CLASSES).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

NONE_OF_THE_ABOVE = "None_of_the_Above"


@dataclass(frozen=True)
class GlitchClassInfo:
    name: str  # canonical label, also the folder name in every image layout
    description: str  # morphology on a 10-2048 Hz log-frequency Omega scan
    tell_apart: str = ""  # how to tell it from the classes it is most often taken for


# Where the numbers in the texts below come from: "example" is the class's golden field-guide
# image (webapp/labeling/field_guide_examples/<class>/golden-*.jpg, the same files as
# ../shared/data/gravityspy-real), read on its frequency axis (600x450 plots: the 1024 Hz
# tick at y=91, 47 px an octave) and time axis, where the energy is above half the colour
# scale; "DOMAIN" is ../shared/docs/DOMAIN.md's table, kept where no example contradicts it. A class
# with one example has one glitch's numbers: ranges say "about", and lengths are the
# example's, not a rule.


CANONICAL_CLASSES: tuple[GlitchClassInfo, ...] = (
    GlitchClassInfo(
        "1080Lines",
        # example: a row of dots at ~1050-1100 Hz across the whole 1 s window
        "faint narrow horizontal line(s) or dots near 1080 Hz",
        (
            "Only near 1080 Hz, often a row of faint dots: Violin Mode has a harmonic near 1000 "
            "Hz too, but also features near 500 Hz at the same moments; 1400Ripples sit higher, "
            "near 1400-1600 Hz."
        ),
    ),
    GlitchClassInfo(
        "1400Ripples",
        # example: one ~0.05 s blob at ~1450-1600 Hz, nothing below it
        "short ripples/blobs near 1400-1600 Hz, alone or a few in a row",
        (
            "Short blobs near 1400-1600 Hz with nothing near 500 or 1000 Hz: Violin Mode's "
            "harmonics reach 1500 Hz too, but come with features near 500 and 1000 Hz; 1080Lines "
            "sit lower, near 1080 Hz."
        ),
    ),
    GlitchClassInfo(
        "Air_Compressor",
        # example: a ~0.15-0.2 s blob at ~45-54 Hz in its 0.5 s window (not the whole window)
        "short narrow-band feature near 50 Hz (between the 32 and 64 Hz ticks)",
        (
            "Near 50 Hz, below Power Line's 60 Hz: read the frequency axis, not the length (both "
            "are short, a fraction of a second). Low Frequency Lines last much of the window."
        ),
    ),
    GlitchClassInfo(
        "Blip",
        "very short (~10 ms) symmetric teardrop, ~30-500 Hz",
        (
            "One narrow, symmetric teardrop: Tomte is broader and lower, Koi Fish louder with fins "
            "reaching high; several evenly spaced are Repeating Blips."
        ),
    ),
    GlitchClassInfo(
        "Chirp",
        "track rising in frequency (~30 -> 300+ Hz) ending in a hook",
        (
            "One track rising in frequency over time; a Whistle is a V or W at high frequency, "
            "Paired Doves are pairs of mirrored tracks."
        ),
    ),
    GlitchClassInfo(
        "Extremely_Loud",
        # example: saturated from 10 Hz to ~500 Hz for ~1 s of its 2 s window
        "very high energy saturating most of the band (from 10 Hz to hundreds of Hz) for long",
        (
            "Most of the band saturated (bright from 10 Hz to hundreds of Hz) for a long time; a "
            "Koi Fish is a body with fins, short in time."
        ),
    ),
    GlitchClassInfo(
        "Helix",
        # example: beads at ~60-230 Hz within ~0.1 s
        "stack of small loops/blobs climbing in frequency (~60-250 Hz), like a helix",
        (
            "Separate beads stacked up in frequency, one above another; a Koi Fish is one solid "
            "body, a Scratchy is spread out in time."
        ),
    ),
    GlitchClassInfo(
        "Koi_Fish",
        # example: body from ~16 Hz, saturated up to ~300 Hz, tip near ~650 Hz; fins ~40-60 Hz
        "loud blip-like body from ~20 Hz up, with fins, its tip reaching hundreds of Hz",
        (
            "Louder and wider than a Blip, with fins reaching high; not Extremely Loud, which fills"
            " the band for long."
        ),
    ),
    GlitchClassInfo(
        "Light_Modulation",
        # example (1 s): energy below ~40 Hz for ~0.5 s after a narrow spike reaching ~2 kHz;
        # "seconds long" is DOMAIN's, longer than that window
        "repeated bursts at low frequency (below ~40 Hz), with narrow spikes reaching high, "
        "seconds long",
        (
            "Broad stripes repeating over seconds at low frequency; Scattered Light curves as "
            "arches, Repeating Blips are narrow teardrops."
        ),
    ),
    GlitchClassInfo(
        "Low_Frequency_Burst",
        # example: a hump from the bottom edge up to ~25 Hz, ~0.2 s long (DOMAIN said ~0.5-1 s)
        "hump rising from the bottom edge (10 Hz) to ~25-40 Hz, a few tenths of a second",
        (
            "One rounded hump sitting on the bottom edge, below ~40 Hz; Scattered Light repeats as "
            "arches, a Tomte is a pointed hat that reaches higher (~100 Hz)."
        ),
    ),
    GlitchClassInfo(
        "Low_Frequency_Lines",
        "horizontal lines below ~100 Hz across the window",
        (
            "Straight horizontal lines below ~100 Hz lasting much of the window; Scattered Light "
            "curves as arches, Air Compressor is a short feature near 50 Hz."
        ),
    ),
    GlitchClassInfo(
        "No_Glitch",
        "background noise only",
        (
            "Only the speckled background: if anything stands out above it, choose its class (or "
            "None of the Above)."
        ),
    ),
    GlitchClassInfo(
        NONE_OF_THE_ABOVE,
        "anything that fits no class (new or mixed morphologies)",
        (
            "For a glitch that clearly fits no class, not for one between two classes (choose the "
            "closer); for nothing at all, No Glitch."
        ),
    ),
    GlitchClassInfo(
        "Paired_Doves",
        # example: tracks between ~25 and ~70 Hz, rising then falling, ~1.2 s apart (DOMAIN said
        # 50-150 Hz)
        "pairs of mirrored chirp-like tracks at ~25-70 Hz, repeating about every second",
        (
            "Tracks come in mirrored pairs (one rising, the next falling), repeating; one rising "
            "track ending in a hook is a Chirp."
        ),
    ),
    GlitchClassInfo(
        "Power_Line",
        # examples: ~0.2-0.5 s features at ~60-66 Hz, by the 64 Hz tick; harmonics from DOMAIN
        "short narrow-band feature at 60 Hz, by the 64 Hz tick (and 120, 180 Hz)",
        (
            "At 60 Hz (with 120 and 180 Hz): read the frequency axis, not the length; Air "
            "Compressor is just as short but sits lower, near 50 Hz."
        ),
    ),
    GlitchClassInfo(
        "Repeating_Blips",
        # example: two blips 0.5 s apart, each ~35 Hz to ~650 Hz; spacing range from DOMAIN
        "several blips (~35 Hz to hundreds of Hz) at regular spacing (every 0.25-0.5 s)",
        ("Several blips evenly spaced in time; one alone is a Blip."),
    ),
    GlitchClassInfo(
        "Scattered_Light",
        "stacked arches below ~100 Hz, repeating every few seconds",
        (
            "Arches stacked and repeating below ~100 Hz; Low Frequency Lines are straight, Low "
            "Frequency Burst is one hump."
        ),
    ),
    GlitchClassInfo(
        "Scratchy",
        "ribbon of many short wiggles across ~30-300 Hz over 1-2 s",
        (
            "Many short wiggles spread over 1-2 s; a Blip is one short teardrop, Helix beads stack "
            "in frequency, not in time."
        ),
    ),
    GlitchClassInfo(
        "Tomte",
        # example: a ~0.06 s triangle from ~22 Hz up to its tip near ~100 Hz
        "short, low-frequency triangular 'pointed hat' (~20-100 Hz), broader than a blip",
        (
            "Broader and lower than a Blip, a triangle with a pointed top; a Koi Fish has fins "
            "reaching high."
        ),
    ),
    GlitchClassInfo(
        "Violin_Mode",
        # examples: dots at ~450-560 Hz with ~1000 Hz (and ~1500, ~2000 Hz) at the same moments
        "short narrow-band features near 500 Hz (and 1000, 1500 Hz)",
        (
            "Near 500 Hz, with harmonics near 1000 and 1500 Hz at the same moments: a feature "
            "only near 1080 Hz is 1080Lines, one only near 1400-1600 Hz is 1400Ripples."
        ),
    ),
    GlitchClassInfo(
        "Wandering_Line",
        # example: a continuous line wandering between ~1050 and ~1450 Hz over the whole 1 s;
        # "hundreds of Hz to kHz" is DOMAIN's
        "narrow line drifting in frequency over time (hundreds of Hz to kHz; ~1000-1500 Hz in "
        "the example)",
        (
            "A continuous line that drifts in frequency; 1080Lines is a row of dots that stays "
            "near 1080 Hz, Low Frequency Lines and Power Line stay at one low frequency."
        ),
    ),
    GlitchClassInfo(
        "Whistle",
        "V- or W-shaped narrow tracks at high frequency",
        (
            "A V or W that folds back in frequency, high up (hundreds of Hz and above); a Chirp "
            "rises once, ending in a hook."
        ),
    ),
)

# Classes that are NOT among the 22: the simulator renders them so that discovery can be
# tested on morphologies the model has never seen.
NEW_CLASSES: tuple[GlitchClassInfo, ...] = (
    GlitchClassInfo("Reverse_Chirp", "a chirp mirrored in time: falling track after a hook"),
    GlitchClassInfo("Fast_Scattering", "short arches at 20-60 Hz repeating fast (Crown)"),
    # Gravity Spy's name since O3; first named Low_Frequency_Blip here, a spelling still
    # read (ALIASES: it is also what Gravity Spy's volunteers call it, LOWFREQUENCYBLIP)
    GlitchClassInfo("Blip_Low_Frequency", "blip-shaped glitch confined below ~60 Hz"),
)

CANONICAL_NAMES: tuple[str, ...] = tuple(c.name for c in CANONICAL_CLASSES)

# Gravity Spy's other spellings of its classes, by spelling_key: the Zooniverse project's
# names (its field-guide files are golden-KoiFish, golden-NOA, golden-1080Line, ...) where
# they are more than another case or separator of the canonical name.
ALIASES: dict[str, str] = {
    "1080line": "1080Lines",
    "1400ripple": "1400Ripples",
    "crown": "Fast_Scattering",  # what Gravity Spy's volunteers call it (O3)
    "lowfrequencyblip": "Blip_Low_Frequency",  # O3's volunteers; NEW_CLASSES' first spelling
    "lowfreqburst": "Low_Frequency_Burst",
    "lowfreqline": "Low_Frequency_Lines",
    "lowfreqlines": "Low_Frequency_Lines",
    "noa": NONE_OF_THE_ABOVE,
    "nota": NONE_OF_THE_ABOVE,
}  # not "none": a folder or CSV cell "None" is as likely "no label" as None_of_the_Above


def spelling_key(name: str) -> str:
    """A class name without case and separators: "Koi_Fish", "koi fish", "KoiFish" -> "koifish"."""
    return "".join(ch for ch in name.lower() if ch.isalnum())


def spelled_as(label: str, names: Iterable[str]) -> str | None:
    """The class among `names` that `label` names: itself, else the one it names up to case,
    "_", "-" and spaces, or by a Gravity Spy alias (ALIASES); None when it names none of
    them, or more than one."""
    names = list(names)
    if label in names:
        return label
    key = spelling_key(label)
    found = {name for name in names if spelling_key(name) == key}
    if ALIASES.get(key) in names:
        found.add(ALIASES[key])
    return found.pop() if len(found) == 1 else None


class UnknownClassError(ValueError):
    """A label that the registry does not hold."""


class ClassRegistry:
    """An ordered set of class names; the order fixes each class's output index in a model."""

    def __init__(self, names: Iterable[str] = CANONICAL_NAMES) -> None:
        self._names: list[str] = []
        for name in names:
            self.add(name)

    def add(self, name: str) -> int:
        """Add a class (no-op if present) and return its index."""
        if not name or not name.replace("_", "").isalnum():
            raise ValueError(f"invalid class name {name!r}: use letters, digits and '_'")
        if name not in self._names:
            self._names.append(name)
        return self._names.index(name)

    def index(self, name: str) -> int:
        try:
            return self._names.index(name)
        except ValueError:
            raise UnknownClassError(f"unknown class {name!r}") from None

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self._names)

    def match(self, label: str) -> str | None:
        """The registered class that `label` names (ml.classes.spelled_as), or None."""
        return spelled_as(label, self._names)

    def __contains__(self, name: object) -> bool:
        return name in self._names

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)
