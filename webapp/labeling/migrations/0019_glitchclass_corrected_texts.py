# ruff: noqa: E501
"""The field guide's corrected class texts (ml.classes, 2026-12; old and new frozen here): a
canonical class's description and "telling it apart" line move to the new text where the
row still holds the text shipped before, so an admin's own wording stays. Before, Air_Compressor was "a line
lasting the whole window" and Power_Line the short one, which the guide's own Air_Compressor
example (a ~0.15 s blob at ~50 Hz) contradicts; seeding never rewrites a row it finds, so
without this step a database made before the fix would go on teaching the old cue."""

from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

# What ml.classes said before (description, tell_apart), for the classes whose text changed:
# frozen here, as only a migration needs it; each verbatim on one line, so a search finds it.
OLD_TEXTS: dict[str, tuple[str, str]] = {
    "1080Lines": (
        "faint narrow horizontal line(s) or dots near 1080 Hz",
        "Higher than Violin Mode (~500 Hz and its harmonics) and lower than 1400Ripples; often a row of faint dots rather than one feature.",
    ),
    "1400Ripples": (
        "short ripples/blobs near 1400 Hz, often a few in a row",
        "Short blobs near 1400 Hz, above 1080Lines and Violin Mode; not a line that lasts the window.",
    ),
    "Air_Compressor": (
        "narrow-band line near 50 Hz lasting the whole window",
        "Near 50 Hz, below Power Line's 60 Hz: read the frequency axis; one line, where Low Frequency Lines has several, and it lasts the window.",
    ),
    "Extremely_Loud": (
        "very high energy saturating most of the band for long",
        "The whole band saturated (bright from bottom to top) for a long time; a Koi Fish is a body with fins, short in time.",
    ),
    "Helix": (
        "stack of small loops/blobs climbing in frequency, like a helix",
        "Separate beads stacked up in frequency, one above another; a Koi Fish is one solid body, a Scratchy is spread out in time.",
    ),
    "Koi_Fish": (
        "loud blip-like body at low frequency with fins reaching high",
        "Louder and wider than a Blip, with fins reaching high; not Extremely Loud, which fills the band for long.",
    ),
    "Light_Modulation": (
        "repeated broadband stripes at low frequency, seconds long",
        "Broad stripes repeating over seconds at low frequency; Scattered Light curves as arches, Repeating Blips are narrow teardrops.",
    ),
    "Low_Frequency_Burst": (
        "hump rising from the bottom (10-40 Hz), ~0.5-1 s",
        "One hump rising from the bottom edge, lasting about a second; Scattered Light repeats as arches, a Tomte is a short pointed hat.",
    ),
    "Low_Frequency_Lines": (
        "horizontal lines below ~100 Hz across the window",
        "Straight horizontal lines below ~100 Hz; Scattered Light curves as arches, Air Compressor is one line near 50 Hz.",
    ),
    "Paired_Doves": (
        "pairs of mirrored chirp-like tracks around 50-150 Hz",
        "Tracks come in mirrored pairs, repeating; one rising track is a Chirp.",
    ),
    "Power_Line": (
        "short narrow-band feature at 60 Hz (and 120, 180 Hz)",
        "At 60 Hz (with 120 and 180 Hz), short; Air Compressor sits near 50 Hz and lasts the window.",
    ),
    "Repeating_Blips": (
        "several blips at regular spacing (every 0.25-0.5 s)",
        "Several blips evenly spaced in time; one alone is a Blip.",
    ),
    "Tomte": (
        "short, low-frequency triangular 'pointed hat', broader than a blip",
        "Broader and lower than a Blip, a triangle with a pointed top; a Koi Fish has fins reaching high.",
    ),
    "Violin_Mode": (
        "short narrow-band features near 500 Hz (and 1000, 1500 Hz)",
        "Near 500 Hz (harmonics at 1000, 1500 Hz); 1080Lines is near 1080 Hz, Power Line at 60 Hz.",
    ),
    "Wandering_Line": (
        "narrow line drifting in frequency over time",
        "A line that drifts in frequency; Low Frequency Lines and Power Line stay at one frequency.",
    ),
}

# What ml.classes says since (ml/classes.py at 18ac070, which added this step), frozen too:
# the step's result must not depend on the code checked out when it runs.
NEW_TEXTS: dict[str, tuple[str, str]] = {
    "1080Lines": (
        "faint narrow horizontal line(s) or dots near 1080 Hz",
        "Only near 1080 Hz, often a row of faint dots: Violin Mode has a harmonic near 1000 Hz too, but also features near 500 Hz at the same moments; 1400Ripples sit higher, near 1400-1600 Hz.",
    ),
    "1400Ripples": (
        "short ripples/blobs near 1400-1600 Hz, alone or a few in a row",
        "Short blobs near 1400-1600 Hz with nothing near 500 or 1000 Hz: Violin Mode's harmonics reach 1500 Hz too, but come with features near 500 and 1000 Hz; 1080Lines sit lower, near 1080 Hz.",
    ),
    "Air_Compressor": (
        "short narrow-band feature near 50 Hz (between the 32 and 64 Hz ticks)",
        "Near 50 Hz, below Power Line's 60 Hz: read the frequency axis, not the length (both are short, a fraction of a second). Low Frequency Lines last much of the window.",
    ),
    "Extremely_Loud": (
        "very high energy saturating most of the band (from 10 Hz to hundreds of Hz) for long",
        "Most of the band saturated (bright from 10 Hz to hundreds of Hz) for a long time; a Koi Fish is a body with fins, short in time.",
    ),
    "Helix": (
        "stack of small loops/blobs climbing in frequency (~60-250 Hz), like a helix",
        "Separate beads stacked up in frequency, one above another; a Koi Fish is one solid body, a Scratchy is spread out in time.",
    ),
    "Koi_Fish": (
        "loud blip-like body from ~20 Hz up, with fins, its tip reaching hundreds of Hz",
        "Louder and wider than a Blip, with fins reaching high; not Extremely Loud, which fills the band for long.",
    ),
    "Light_Modulation": (
        "repeated bursts at low frequency (below ~40 Hz), with narrow spikes reaching high, seconds long",
        "Broad stripes repeating over seconds at low frequency; Scattered Light curves as arches, Repeating Blips are narrow teardrops.",
    ),
    "Low_Frequency_Burst": (
        "hump rising from the bottom edge (10 Hz) to ~25-40 Hz, a few tenths of a second",
        "One rounded hump sitting on the bottom edge, below ~40 Hz; Scattered Light repeats as arches, a Tomte is a pointed hat that reaches higher (~100 Hz).",
    ),
    "Low_Frequency_Lines": (
        "horizontal lines below ~100 Hz across the window",
        "Straight horizontal lines below ~100 Hz lasting much of the window; Scattered Light curves as arches, Air Compressor is a short feature near 50 Hz.",
    ),
    "Paired_Doves": (
        "pairs of mirrored chirp-like tracks at ~25-70 Hz, repeating about every second",
        "Tracks come in mirrored pairs (one rising, the next falling), repeating; one rising track ending in a hook is a Chirp.",
    ),
    "Power_Line": (
        "short narrow-band feature at 60 Hz, by the 64 Hz tick (and 120, 180 Hz)",
        "At 60 Hz (with 120 and 180 Hz): read the frequency axis, not the length; Air Compressor is just as short but sits lower, near 50 Hz.",
    ),
    "Repeating_Blips": (
        "several blips (~35 Hz to hundreds of Hz) at regular spacing (every 0.25-0.5 s)",
        "Several blips evenly spaced in time; one alone is a Blip.",
    ),
    "Tomte": (
        "short, low-frequency triangular 'pointed hat' (~20-100 Hz), broader than a blip",
        "Broader and lower than a Blip, a triangle with a pointed top; a Koi Fish has fins reaching high.",
    ),
    "Violin_Mode": (
        "short narrow-band features near 500 Hz (and 1000, 1500 Hz)",
        "Near 500 Hz, with harmonics near 1000 and 1500 Hz at the same moments: a feature only near 1080 Hz is 1080Lines, one only near 1400-1600 Hz is 1400Ripples.",
    ),
    "Wandering_Line": (
        "narrow line drifting in frequency over time (hundreds of Hz to kHz; ~1000-1500 Hz in the example)",
        "A continuous line that drifts in frequency; 1080Lines is a row of dots that stays near 1080 Hz, Low Frequency Lines and Power Line stay at one low frequency.",
    ),
}


def _move(
    apps: StateApps, texts_now: dict[str, tuple[str, str]], texts_then: dict[str, tuple[str, str]]
) -> None:
    glitch_class = apps.get_model("labeling", "GlitchClass")
    for name, (description, tell_apart) in texts_now.items():
        old_description, old_tell_apart = texts_then[name]
        glitch_class.objects.filter(name=name, description=old_description).update(
            description=description
        )
        glitch_class.objects.filter(name=name, tell_apart=old_tell_apart).update(
            tell_apart=tell_apart
        )


def correct_texts(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    _move(apps, NEW_TEXTS, OLD_TEXTS)


def restore_texts(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    _move(apps, OLD_TEXTS, NEW_TEXTS)


class Migration(migrations.Migration):
    dependencies = [
        ("labeling", "0018_subject_pictures_problem"),
    ]

    operations = [
        migrations.RunPython(correct_texts, restore_texts),
    ]
