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


CANONICAL_CLASSES: tuple[GlitchClassInfo, ...] = (
    GlitchClassInfo(
        "1080Lines",
        "faint narrow horizontal line(s) or dots near 1080 Hz",
        (
            "Higher than Violin Mode (~500 Hz and its harmonics) and lower than 1400Ripples; often "
            "a row of faint dots rather than one feature."
        ),
    ),
    GlitchClassInfo(
        "1400Ripples",
        "short ripples/blobs near 1400 Hz, often a few in a row",
        (
            "Short blobs near 1400 Hz, above 1080Lines and Violin Mode; not a line that lasts the "
            "window."
        ),
    ),
    GlitchClassInfo(
        "Air_Compressor",
        "narrow-band line near 50 Hz lasting the whole window",
        (
            "Near 50 Hz, below Power Line's 60 Hz: read the frequency axis; one line, where Low "
            "Frequency Lines has several, and it lasts the window."
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
        "very high energy saturating most of the band for long",
        (
            "The whole band saturated (bright from bottom to top) for a long time; a Koi Fish is a "
            "body with fins, short in time."
        ),
    ),
    GlitchClassInfo(
        "Helix",
        "stack of small loops/blobs climbing in frequency, like a helix",
        (
            "Separate beads stacked up in frequency, one above another; a Koi Fish is one solid "
            "body, a Scratchy is spread out in time."
        ),
    ),
    GlitchClassInfo(
        "Koi_Fish",
        "loud blip-like body at low frequency with fins reaching high",
        (
            "Louder and wider than a Blip, with fins reaching high; not Extremely Loud, which fills"
            " the band for long."
        ),
    ),
    GlitchClassInfo(
        "Light_Modulation",
        "repeated broadband stripes at low frequency, seconds long",
        (
            "Broad stripes repeating over seconds at low frequency; Scattered Light curves as "
            "arches, Repeating Blips are narrow teardrops."
        ),
    ),
    GlitchClassInfo(
        "Low_Frequency_Burst",
        "hump rising from the bottom (10-40 Hz), ~0.5-1 s",
        (
            "One hump rising from the bottom edge, lasting about a second; Scattered Light repeats "
            "as arches, a Tomte is a short pointed hat."
        ),
    ),
    GlitchClassInfo(
        "Low_Frequency_Lines",
        "horizontal lines below ~100 Hz across the window",
        (
            "Straight horizontal lines below ~100 Hz; Scattered Light curves as arches, Air "
            "Compressor is one line near 50 Hz."
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
        "pairs of mirrored chirp-like tracks around 50-150 Hz",
        ("Tracks come in mirrored pairs, repeating; one rising track is a Chirp."),
    ),
    GlitchClassInfo(
        "Power_Line",
        "short narrow-band feature at 60 Hz (and 120, 180 Hz)",
        (
            "At 60 Hz (with 120 and 180 Hz), short; Air Compressor sits near 50 Hz and lasts the "
            "window."
        ),
    ),
    GlitchClassInfo(
        "Repeating_Blips",
        "several blips at regular spacing (every 0.25-0.5 s)",
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
        "short, low-frequency triangular 'pointed hat', broader than a blip",
        (
            "Broader and lower than a Blip, a triangle with a pointed top; a Koi Fish has fins "
            "reaching high."
        ),
    ),
    GlitchClassInfo(
        "Violin_Mode",
        "short narrow-band features near 500 Hz (and 1000, 1500 Hz)",
        (
            "Near 500 Hz (harmonics at 1000, 1500 Hz); 1080Lines is near 1080 Hz, Power Line at 60 "
            "Hz."
        ),
    ),
    GlitchClassInfo(
        "Wandering_Line",
        "narrow line drifting in frequency over time",
        (
            "A line that drifts in frequency; Low Frequency Lines and Power Line stay at one "
            "frequency."
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
