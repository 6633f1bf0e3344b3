import pytest

from ml.classes import (
    CANONICAL_CLASSES,
    CANONICAL_NAMES,
    NEW_CLASSES,
    NONE_OF_THE_ABOVE,
    ClassRegistry,
    UnknownClassError,
)


def test_registry_holds_the_22_gravity_spy_classes_in_order() -> None:
    registry = ClassRegistry()
    assert len(registry) == 22
    assert registry.names[0] == "1080Lines" and registry.names[-1] == "Whistle"
    assert NONE_OF_THE_ABOVE in registry


def test_new_classes_are_not_canonical_and_can_be_added_at_run_time() -> None:
    registry = ClassRegistry()
    for info in NEW_CLASSES:
        assert info.name not in CANONICAL_NAMES
    index = registry.add("Reverse_Chirp")
    assert index == 22 and registry.index("Reverse_Chirp") == 22
    assert registry.add("Reverse_Chirp") == 22  # adding twice keeps one entry


def test_unknown_and_invalid_names_raise_clear_errors() -> None:
    registry = ClassRegistry()
    with pytest.raises(UnknownClassError, match="Not_A_Class"):
        registry.index("Not_A_Class")
    with pytest.raises(ValueError, match="invalid class name"):
        registry.add("../etc")


# The Zooniverse project's class names, as its field-guide files spell them (golden-<name>
# in ../shared/data/gravityspy-real), each with the canonical class it names.
ZOONIVERSE = {
    "1080Line": "1080Lines", "1400Ripple": "1400Ripples", "AirCompressor": "Air_Compressor",
    "Blip": "Blip", "Chirp": "Chirp", "ExtremelyLoud": "Extremely_Loud", "Helix": "Helix",
    "KoiFish": "Koi_Fish", "LightModulation": "Light_Modulation",
    "LowFreqBurst": "Low_Frequency_Burst", "LowFreqLine": "Low_Frequency_Lines",
    "NoGlitch": "No_Glitch", "NOA": "None_of_the_Above", "PairedDoves": "Paired_Doves",
    "PowerLine": "Power_Line", "RepeatingBlips": "Repeating_Blips",
    "ScatteredLight": "Scattered_Light", "Scratchy": "Scratchy", "Tomte": "Tomte",
    "ViolinMode": "Violin_Mode", "WanderingLine": "Wandering_Line", "Whistle": "Whistle",
}  # fmt: skip


def test_other_spellings_of_a_class_name_the_class() -> None:
    from ml.classes import spelled_as

    for spelling, name in ZOONIVERSE.items():
        assert spelled_as(spelling, CANONICAL_NAMES) == name, spelling
    for spelling in ("koi_fish", "Koi Fish", "KOI-FISH", "nota", "None_of_the_above"):
        assert spelled_as(spelling, CANONICAL_NAMES) in ("Koi_Fish", "None_of_the_Above")
    assert spelled_as("None", CANONICAL_NAMES) is None  # str(None) in a CSV: no label
    assert spelled_as("Blipp", CANONICAL_NAMES) is None
    assert spelled_as("Reverse_Chirp", CANONICAL_NAMES) is None  # not a class here
    assert spelled_as("reverse chirp", [*CANONICAL_NAMES, "Reverse_Chirp"]) == "Reverse_Chirp"
    assert spelled_as("a_b", ["A_b", "Ab"]) is None  # names two classes: neither


def test_the_simulators_low_frequency_blip_has_gravity_spys_name_and_its_old_one_still_reads(
    tmp_path,
) -> None:
    """The simulator called it Low_Frequency_Blip; Gravity Spy (O3) calls it
    Blip_Low_Frequency, its volunteers LOWFREQUENCYBLIP: a folder of Gravity Spy's was
    an unknown class, and folders written before the rename must still read."""
    from image_factories import write_glitch

    from ml.classes import spelled_as
    from ml.data import load_samples
    from ml.synth.generate import glitch_id, glitch_seed

    assert "Blip_Low_Frequency" in [c.name for c in NEW_CLASSES]
    names = [*CANONICAL_NAMES, "Blip_Low_Frequency"]
    for spelling in ("Low_Frequency_Blip", "LOWFREQUENCYBLIP", "blip low frequency"):
        assert spelled_as(spelling, names) == "Blip_Low_Frequency", spelling
    write_glitch(tmp_path / "Low_Frequency_Blip", "g1_{d}", durations=(1.0,))
    result = load_samples(tmp_path, registry=ClassRegistry(names))
    assert [s.label for s in result.samples] == ["Blip_Low_Frequency"]
    assert result.notes == ["class 'Low_Frequency_Blip' read as 'Blip_Low_Frequency'"]
    # drawn as before the rename: the same glitches, under the same ids
    assert glitch_seed(6, "Blip_Low_Frequency", 3) == glitch_seed(6, "Low_Frequency_Blip", 3)
    assert glitch_id(6, "Blip_Low_Frequency", 3) == glitch_id(6, "Low_Frequency_Blip", 3)


def test_gravity_spys_volunteer_name_crown_is_fast_scattering() -> None:
    from ml.classes import spelled_as

    names = [*CANONICAL_NAMES, "Fast_Scattering"]
    assert spelled_as("CROWN", names) == spelled_as("Crown", names) == "Fast_Scattering"
    assert spelled_as("Crown", CANONICAL_NAMES) is None  # only where the class is known


def test_air_compressor_and_power_line_are_told_apart_by_frequency_not_length() -> None:
    """The field guide's examples of both are short (Air Compressor's a ~0.15 s blob at ~50
    Hz): a text that has one of them last the window teaches a cue its own example breaks."""
    info = {c.name: c for c in CANONICAL_CLASSES}
    for name, hz in (("Air_Compressor", "50 hz"), ("Power_Line", "60 hz")):
        text = f"{info[name].description} {info[name].tell_apart}".lower()
        assert hz in text
        assert "not the length" in text, text
        assert "lasts the" not in text and "lasting the" not in text, text
