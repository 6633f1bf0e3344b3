"""The volunteer's queue: one selector decides what comes next."""

import pytest
from webapp_factories import SubjectFactory, UserFactory, glitch_class, gold_subject, handed_out

from webapp.labeling import selectors, services
from webapp.labeling.models import Classification, Subject

pytestmark = pytest.mark.django_db


def next_for(user, **kwargs):
    return selectors.subject_next_for_volunteer(volunteer=user, **kwargs)


def test_highest_priority_first_and_never_a_subject_twice(settings):
    settings.GLITCHLAB_GOLD_RATE = 0
    low, high = SubjectFactory(priority=0.1), SubjectFactory(priority=0.9)
    user = UserFactory()
    assert next_for(user) == high
    assert next_for(user, exclude_ids=[high.pk]) == low
    services.classification_create(volunteer=user, subject_id=high.pk, class_name="Blip")
    assert next_for(user) == low


def test_subjects_above_the_volunteers_level_and_closed_ones_are_not_shown(settings):
    settings.GLITCHLAB_GOLD_RATE = 0
    SubjectFactory(level=2, priority=5)
    for status in ("retired", "closed", "discovery"):
        SubjectFactory(status=status, priority=4)
    SubjectFactory(role=Subject.Role.VALIDATION, priority=3)
    fits = SubjectFactory(level=1)
    assert next_for(UserFactory()) == fits
    assert next_for(UserFactory(username="senior", profile__level=2)).level == 2


def test_gold_is_mixed_in_at_the_configured_rate(settings):
    settings.GLITCHLAB_GOLD_RATE = 0.5
    user = UserFactory()
    golds = [gold_subject("Blip"), gold_subject("Whistle"), gold_subject("Blip")]
    pools = [SubjectFactory() for _ in range(3)]
    shown, drawn = [], []
    for n in range(6):
        subject = services.subject_next_hand_out(volunteer=user)  # records the gold due
        assert subject is not None
        shown.append(subject.role)
        drawn.append("gold" if selectors.is_gold_turn(user.pk, n, 0.5) else "pool")
        gold = Subject.objects.get(pk=subject.pk).gold_label
        services.classification_create(
            volunteer=user, subject_id=subject.pk, class_name=gold.name if gold else "Blip"
        )
    assert sorted(shown) == ["gold"] * 3 + ["pool"] * 3  # each served once
    # each turn serves what its draw says while some of both is left to serve
    both_left = next(i for i in range(7) if shown[i:].count("gold") in (0, 6 - i))
    assert both_left > 0 and shown[:both_left] == drawn[:both_left]
    assert next_for(user) is None
    assert len(golds) == len(pools) == 3


def test_gold_turns_come_at_the_rate_and_cannot_be_read_off_the_progress_counts(settings):
    """Before: gold came exactly when the volunteer's share of gold answers fell below the
    rate, which /api/progress shows; an account answered those turns with care and the
    rest anyhow. Now a keyed draw: the rate holds, a turn draws the same when asked again,
    and the old rule foretells it no better than always saying "pool" would."""
    rate, turns = 0.2, 5000
    draws = [selectors.is_gold_turn(7, n, rate) for n in range(turns)]
    assert abs(sum(draws) / turns - rate) < 0.02
    assert draws == [selectors.is_gold_turn(7, n, rate) for n in range(turns)]
    n_gold = foretold = 0
    for n, gold in enumerate(draws):
        foretold += (n_gold < rate * (n + 1)) == gold
        n_gold += gold
    assert foretold / turns < 0.85  # "never gold" alone is right 0.8 of the time
    assert draws != [selectors.is_gold_turn(8, n, rate) for n in range(turns)]
    settings.SECRET_KEY = "another site's secret"
    assert draws != [selectors.is_gold_turn(7, n, rate) for n in range(turns)]
    assert not any(selectors.is_gold_turn(7, n, 0.0) for n in range(1000))
    assert all(selectors.is_gold_turn(7, n, 1.0) for n in range(1000))


def test_gold_of_locked_classes_is_not_shown(settings):
    settings.GLITCHLAB_GOLD_RATE = 1.0
    gold_subject("Koi_Fish")
    pool = SubjectFactory()
    assert next_for(UserFactory()) == pool


def test_progress_reports_level_and_the_skills_being_learned(settings):
    settings.GLITCHLAB_PROMOTION_MIN_GOLD = 2
    user = UserFactory()
    gold = handed_out(user, gold_subject("Blip"))
    services.classification_create(volunteer=user, subject_id=gold.pk, class_name="Blip")
    progress = selectors.volunteer_progress(volunteer=user)
    assert (progress.level, progress.n_classified, progress.n_gold_correct) == (1, 1, 1)
    assert [(s.name, s.gold_answers, s.alpha) for s in progress.learning] == [
        ("Blip", 1, 1.0),
        ("Whistle", 0, None),
    ]


def test_classes_for_a_beginner_are_blip_whistle_and_none_of_the_above():
    names = [c.name for c in selectors.glitch_classes_for_volunteer(volunteer=UserFactory())]
    assert names == ["Blip", "Whistle", "None_of_the_Above"]


@pytest.mark.parametrize("in_list_max", [1000, 1])  # 1: the map's way, no IN list of ids
def test_the_rule_for_many_subjects_is_the_rule_for_one(in_list_max, monkeypatch):
    """subject_ids_answers_visible (the map, similar lists) and subject_answers_visible (the
    subject page, its API) must agree for every viewer and subject: a guess hidden on the
    page and shown on the map is an answer given away. On gold only a scored vote (the
    volunteer's gold due answered) shows the answers; a lasso's unscored vote does not."""
    from django.contrib.auth.models import AnonymousUser, Group

    from webapp.accounts.roles import REVIEWER

    voter, other, rev = UserFactory(), UserFactory(), UserFactory()
    rev.groups.add(Group.objects.get_or_create(name=REVIEWER)[0])
    monkeypatch.setattr(selectors, "IN_LIST_MAX", in_list_max)
    SubjectFactory(status=Subject.Status.RETIRED, retired_label=glitch_class("Blip"))  # not asked
    voted, open_pool, gold = SubjectFactory(), SubjectFactory(), gold_subject("Blip")
    retired = SubjectFactory(status=Subject.Status.RETIRED, retired_label=glitch_class("Blip"))
    gold_answered, gold_lassoed = gold_subject("Whistle"), gold_subject("Whistle")
    for subject in (voted, SubjectFactory(), gold_answered, gold_lassoed):  # 2nd: not asked
        Classification.objects.create(
            volunteer=voter,
            subject=subject,
            glitch_class=glitch_class("Blip"),
            was_gold=subject == gold_answered,
        )
    subjects = [voted, open_pool, gold, retired, gold_answered, gold_lassoed]
    ids = [s.pk for s in subjects]
    for viewer in (voter, other, rev, AnonymousUser()):
        one_by_one = {
            s.pk for s in subjects if selectors.subject_answers_visible(subject=s, viewer=viewer)
        }
        assert selectors.subject_ids_answers_visible(subject_ids=ids, viewer=viewer) == one_by_one
    assert selectors.subject_ids_answers_visible(subject_ids=ids, viewer=voter) == {
        voted.pk,
        retired.pk,
        gold_answered.pk,
    }


def test_two_requests_at_once_record_one_gold_due(settings):
    """A request that read the profile before another handed out a gold (two tabs) does
    not record a second gold: it asks again and is served as the first request left it."""
    settings.GLITCHLAB_GOLD_RATE = 1.0
    user = UserFactory()
    golds = [gold_subject("Blip"), gold_subject("Whistle")]
    pool = SubjectFactory()
    stale = services.volunteer_profile_get_or_create(user=user)  # read before the other tab
    first = services.subject_next_hand_out(volunteer=user)
    assert first in golds
    again = services.subject_next_hand_out(volunteer=user, exclude_ids=[first.pk], profile=stale)
    assert again == pool  # not the other gold
    assert services.volunteer_profile_get_or_create(user=user).gold_due == first


def test_a_gold_due_that_left_the_gold_queue_is_replaced(settings):
    settings.GLITCHLAB_GOLD_RATE = 1.0
    user = UserFactory()
    first, second = gold_subject("Blip"), gold_subject("Whistle")
    served = services.subject_next_hand_out(volunteer=user)
    Subject.objects.filter(pk=served.pk).update(status=Subject.Status.RETIRED)
    other = second if served == first else first
    assert services.subject_next_hand_out(volunteer=user) == other


def test_each_account_meets_the_gold_in_an_order_of_its_own(settings):
    """Before: gold was handed out in queue order, spread over the first 16 by account, so
    every account met the same gold in the same order and one scout account's answers
    served all that came after it. Now each account's order is its own, over the first
    selectors.GOLD_WINDOW (256) open gold."""
    settings.GLITCHLAB_GOLD_RATE = 1.0
    golds = [gold_subject("Blip", images=()) for _ in range(100)]
    rank = {g.pk: i for i, g in enumerate(golds)}
    firsts = [rank[next_for(UserFactory()).pk] for _ in range(6)]
    assert max(firsts) >= 16  # the spread by account stayed within the first 16
    assert len(set(firsts)) >= 5
    one = UserFactory()
    served = []
    for _ in range(8):
        subject = services.subject_next_hand_out(volunteer=one)
        served.append(rank[subject.pk])
        services.classification_create(volunteer=one, subject_id=subject.pk, class_name="Blip")
    assert served != sorted(served)  # not queue order


def test_a_gold_passed_over_comes_back_on_any_turn(settings):
    """Before: the gold due came back on gold turns only and a pool glitch at the head of
    the queue on pool turns, so passing a glitch over once (`exclude`), voting on the next
    and asking again told gold (back one time in five) from pool (four in five)."""
    settings.GLITCHLAB_GOLD_RATE = 1.0
    user = UserFactory()
    gold = gold_subject("Blip")
    pools = [SubjectFactory(priority=0.9), SubjectFactory(priority=0.5)]
    assert services.subject_next_hand_out(volunteer=user) == gold  # now their gold due
    settings.GLITCHLAB_GOLD_RATE = 0.0  # every turn from here on is a pool turn
    passed_over = services.subject_next_hand_out(volunteer=user, exclude_ids=[gold.pk])
    assert passed_over == pools[0]
    services.classification_create(volunteer=user, subject_id=passed_over.pk, class_name="Blip")
    assert services.subject_next_hand_out(volunteer=user) == gold


def test_the_gold_order_is_each_accounts_own_whatever_the_priorities(settings):
    """Before: the account's order applied only among the gold sharing the top priority, so
    a gold an admin gave a higher priority (or a pool glitch made gold, keeping its own) was
    every account's first gold, and one scout's answer served them all."""
    settings.GLITCHLAB_GOLD_RATE = 1.0
    for i in range(30):
        gold_subject("Blip", priority=0.01 * i, images=())
    firsts = {services.subject_next_hand_out(volunteer=UserFactory()).pk for _ in range(8)}
    assert len(firsts) >= 5
