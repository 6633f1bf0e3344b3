"""Levels: a class accepted at run time (discovery) is offered at the top level only."""

import pytest

from webapp.labeling import config
from webapp.labeling.keys import key_for
from webapp.labeling.models import GlitchClass

pytestmark = pytest.mark.django_db


def add_class(name: str, status: str) -> GlitchClass:
    taken = set(GlitchClass.objects.values_list("key", flat=True))
    return GlitchClass.objects.create(name=name, key=key_for(name, taken), status=status)


def test_an_accepted_new_class_joins_the_top_level_only():
    add_class("Reverse_Chirp", GlitchClass.Status.ACTIVE)
    top = config.max_level()
    assert "Reverse_Chirp" in config.classes_new_at_level(top)
    assert "Reverse_Chirp" in config.classes_unlocked_at_level(top)
    assert "Reverse_Chirp" not in config.classes_unlocked_at_level(top - 1)
    assert config.level_of_class("Reverse_Chirp") == top


def test_provisional_and_deprecated_classes_are_in_no_level():
    add_class("Maybe_New", GlitchClass.Status.PROVISIONAL)
    add_class("Old_One", GlitchClass.Status.DEPRECATED)
    assert config.level_of_class("Maybe_New") is None
    assert config.level_of_class("Old_One") is None


def test_the_canonical_classes_keep_their_configured_levels():
    assert config.level_of_class("Blip") == 1 and config.level_of_class("Whistle") == 1
    assert config.levels()[:-1] == [list(names) for names in config.settings.GLITCHLAB_LEVELS[:-1]]


def test_a_class_change_reaches_this_process_at_once_and_others_within_the_ttl(settings):
    settings.GLITCHLAB_CLASS_CACHE_S = 3600
    assert "Reverse_Chirp" not in config.active_class_names()
    added = add_class("Reverse_Chirp", GlitchClass.Status.ACTIVE)  # saved here: seen at once
    assert "Reverse_Chirp" in config.active_class_names()
    # Another process's change (a bulk update sends no signal) waits for the TTL ...
    GlitchClass.objects.filter(pk=added.pk).update(retire_threshold=0.8)
    assert "Reverse_Chirp" not in config.class_retire_thresholds()
    settings.GLITCHLAB_CLASS_CACHE_S = 0  # ... which has now passed
    assert config.class_retire_thresholds()["Reverse_Chirp"] == 0.8


def test_a_class_another_process_added_is_found_by_name_and_id_before_the_ttl(settings):
    settings.GLITCHLAB_CLASS_CACHE_S = 3600
    assert config.class_row("Reverse_Chirp") is None  # the table is now cached
    # Another process's insert (bulk_create sends no post_save signal to this one) ...
    (added,) = GlitchClass.objects.bulk_create(
        [GlitchClass(name="Reverse_Chirp", status=GlitchClass.Status.ACTIVE)]
    )
    # ... is found on a miss, which reads the table again instead of waiting for the TTL.
    row = config.class_row("Reverse_Chirp")
    assert row is not None and row.pk == added.pk
    assert config.class_name(added.pk) == "Reverse_Chirp"
    with pytest.raises(GlitchClass.DoesNotExist):
        config.class_name(added.pk + 1000)
