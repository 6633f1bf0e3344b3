import pytest

from ml.classes import (
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
