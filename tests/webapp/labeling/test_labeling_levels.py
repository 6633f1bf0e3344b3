"""Levels: a class accepted at run time (discovery) is offered at the top level only; the
skill the page and the API show is the skill promotion reads."""

import pytest
from django.test import Client
from rest_framework.test import APIClient
from webapp_factories import UserFactory, gold_subject, handed_out

from webapp.labeling import config, services
from webapp.labeling.keys import key_for
from webapp.labeling.models import GlitchClass, VolunteerProfile

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


# --- skill: one source for the page, the API and promotion ------------------------------


def gold_vote(user, label: str, answer: str):
    """An answer on a gold glitch the queue handed out (only that one scores)."""
    gold = handed_out(user, gold_subject(label))
    return services.classification_create(volunteer=user, subject_id=gold.pk, class_name=answer)


def shown(user) -> dict[str, dict]:
    """The skills on the labelling page and in the API (which must agree), by class."""
    page = Client()
    page.force_login(user)
    boot = page.get("/label/").context["boot"]["progress"]
    api = APIClient()
    api.force_authenticate(user)
    answer = api.get("/api/progress/").json()
    assert answer["learning"] == boot["learning"]
    return {skill["name"]: skill for skill in answer["learning"]}


def test_one_whistle_right_and_one_missed_shows_50_percent_of_2():
    user = UserFactory()
    gold_vote(user, "Whistle", "Whistle")
    gold_vote(user, "Whistle", "Blip")
    whistle = shown(user)["Whistle"]
    assert (whistle["alpha"], whistle["gold_answers"], whistle["ready"]) == (0.5, 2, False)


def test_two_wrong_blip_answers_lower_blip_below_100_percent():
    user = UserFactory()
    for _ in range(4):
        gold_vote(user, "Blip", "Blip")
    for _ in range(2):
        gold_vote(user, "Blip", "Whistle")
    blip = shown(user)["Blip"]
    assert blip["gold_answers"] == 6 and blip["alpha"] == pytest.approx(4 / 6)


def test_the_level_goes_up_exactly_when_the_page_shows_every_class_ready(settings):
    settings.GLITCHLAB_PROMOTION_MIN_GOLD = 3
    user = UserFactory()
    for _ in range(3):
        gold_vote(user, "Blip", "Blip")
    for _ in range(2):
        assert not gold_vote(user, "Whistle", "Whistle").promoted
    skills = shown(user)
    assert (skills["Blip"]["ready"], skills["Whistle"]["ready"]) == (True, False)
    result = gold_vote(user, "Whistle", "Whistle")
    assert result.promoted and result.profile.level == 2


def test_answering_none_of_the_above_on_hard_whistles_does_not_level_up(settings):
    settings.GLITCHLAB_PROMOTION_MIN_GOLD = 3
    user = UserFactory()
    for _ in range(3):
        gold_vote(user, "Blip", "Blip")
        gold_vote(user, "Whistle", "Whistle")
        gold_vote(user, "Whistle", "None_of_the_Above")
    # Every "Whistle" answer was right (Gravity Spy's alpha 100%), but half the Whistles
    # were missed: 50%, not ready, and the level stays.
    whistle = shown(user)["Whistle"]
    assert (whistle["alpha"], whistle["precision"], whistle["ready"]) == (0.5, 1.0, False)
    assert VolunteerProfile.objects.get(user=user).level == 1
