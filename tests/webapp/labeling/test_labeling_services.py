"""Votes, idempotency, gold feedback, promotion, undo and consensus through the services."""

import uuid

import pytest
from django.core.exceptions import ValidationError
from webapp_factories import (
    SubjectFactory,
    UserFactory,
    active_prediction,
    glitch_class,
    gold_subject,
    handed_out,
)

from webapp.labeling import selectors, services
from webapp.labeling.models import Classification, Subject, VolunteerProfile

pytestmark = pytest.mark.django_db


def vote(user, subject, name, key=None):
    return services.classification_create(
        volunteer=user, subject_id=subject.pk, class_name=name, idempotency_key=key
    )


def skilled(right: int = 3, answer: str = "Blip"):
    """A volunteer who answered `answer` right on `right` gold subjects."""
    return UserFactory(profile__gold_confusion={answer: {answer: right}})


def test_a_vote_is_stored_with_its_weight_and_counts_as_a_view():
    subject = SubjectFactory()
    result = vote(skilled(3), subject, "Blip")
    assert result.created and result.correct is None and result.gold_label is None
    subject.refresh_from_db()
    assert (subject.views, subject.n_votes, subject.n_none_votes) == (1, 1, 0)
    # 3 right Blip golds and the prior (0.8, worth 2): (3 + 1.6) / 5 on Blip, the prior's
    # 0.2 spread over the 21 other classes, (2 * 0.2/21) / 5 each.
    assert result.classification.weight["Blip"] == pytest.approx(0.92)
    assert result.classification.weight["Whistle"] == pytest.approx(0.4 / 21 / 5)
    assert subject.posterior["Blip"] == pytest.approx(0.92)


def test_a_vote_without_gold_history_in_its_class_is_stored_without_weight():
    subject = SubjectFactory()
    result = vote(skilled(3, answer="Whistle"), subject, "Blip")
    subject.refresh_from_db()
    assert result.classification.weight == {}
    assert (subject.views, subject.n_votes, subject.posterior) == (1, 1, {})


def test_two_agreeing_volunteers_and_the_model_retire_a_subject():
    # One right Blip gold each: (1 + 1.6) / 3 = 0.8667 on Blip; two of them alone: not enough.
    subject = SubjectFactory()
    vote(skilled(1), subject, "Blip")
    vote(skilled(1), subject, "Blip")
    subject.refresh_from_db()
    assert subject.status == Subject.Status.ACTIVE

    other = SubjectFactory()
    active_prediction(other, {"Blip": 0.99, "Whistle": 0.01})
    vote(skilled(1), other, "Blip")
    vote(skilled(1), other, "Blip")
    other.refresh_from_db()
    # (0.8667 + 0.8667 + 0.99) / 3 = 0.9078 > 0.9 with 2 views
    assert other.posterior["Blip"] == pytest.approx((5.2 / 3 + 0.99) / 3)
    assert other.status == Subject.Status.RETIRED
    assert other.retired_label.name == "Blip"
    assert other.retired


def test_none_of_the_above_votes_are_not_views_and_three_send_to_discovery():
    subject = SubjectFactory()
    for _ in range(3):
        vote(UserFactory(), subject, "None_of_the_Above")
    subject.refresh_from_db()
    assert (subject.views, subject.n_none_votes, subject.status) == (0, 3, "discovery")
    # A class in the posterior like any other (the prior's column without gold history).
    assert subject.posterior["None_of_the_Above"] == pytest.approx(0.8)


def test_the_same_idempotency_key_twice_stores_one_vote():
    user, subject, key = UserFactory(), SubjectFactory(), uuid.uuid4()
    first = vote(user, subject, "Blip", key)
    again = vote(user, subject, "Blip", key)
    assert first.created and not again.created
    assert again.classification.pk == first.classification.pk
    subject.refresh_from_db()
    assert subject.n_votes == 1 and Classification.objects.count() == 1


def test_the_profile_counts_votes_but_not_replays_or_refusals():
    user, subject = UserFactory(), SubjectFactory()
    key = uuid.uuid4()
    vote(user, subject, "Blip", key)
    vote(user, subject, "Blip", key)  # a replay
    with pytest.raises(services.AlreadyVotedError):
        vote(user, subject, "Whistle")
    with pytest.raises(ValidationError):
        vote(user, SubjectFactory(), "Koi_Fish")  # locked at level 1
    vote(user, gold_subject("Blip"), "Whistle")
    profile = VolunteerProfile.objects.get(user=user)
    assert profile.n_classified == Classification.objects.filter(volunteer=user).count() == 2


def test_a_second_vote_on_a_subject_is_refused():
    user, subject = UserFactory(), SubjectFactory()
    vote(user, subject, "Blip")
    with pytest.raises(services.AlreadyVotedError):
        vote(user, subject, "Whistle")


def test_a_vote_refused_by_another_constraint_is_not_called_a_second_vote(monkeypatch):
    """A NOT NULL column the code does not fill (older code on a newer schema) read as
    'you already classified subject ...' (operator's upgrade report, 2026-12)."""
    from django.db import IntegrityError

    def refused(instance):
        raise IntegrityError('null value in column "after_retirement" violates not-null')

    monkeypatch.setattr(services, "insert", refused)
    with pytest.raises(IntegrityError, match="after_retirement"):
        vote(UserFactory(), SubjectFactory(), "Blip")


def test_a_locked_class_is_refused():
    with pytest.raises(ValidationError):
        vote(UserFactory(), SubjectFactory(), "Koi_Fish")  # level 2 class


def test_gold_gives_the_right_answer_and_fills_the_confusion_matrix():
    user = UserFactory()
    result = vote(user, handed_out(user, gold_subject("Whistle")), "Blip")
    assert result.correct is False and result.gold_label == "Whistle"
    assert VolunteerProfile.objects.get(user=user).gold_confusion == {"Whistle": {"Blip": 1}}
    assert Classification.objects.get().weight == {}


def test_a_vote_on_gold_the_queue_did_not_hand_out_is_an_ordinary_unscored_vote(settings):
    """Only the volunteer's gold due scores (a cluster or lasso sheet votes on gold it
    picked): any other gold vote gets no credit, no feedback, no weight, and is undone as a
    pool vote is. Before, it was scored and promoted like a queue answer."""
    settings.GLITCHLAB_PROMOTION_MIN_GOLD = 1
    user = UserFactory(profile__gold_confusion={"Whistle": {"Whistle": 1}})
    gold = gold_subject("Blip")
    result = vote(user, gold, "Blip")
    assert (result.gold_label, result.correct, result.promoted) == (None, None, False)
    assert (result.classification.was_gold, result.classification.weight) == (False, {})
    profile = VolunteerProfile.objects.get(user=user)
    assert (profile.level, profile.gold_confusion, profile.n_classified) == (
        1,
        {"Whistle": {"Whistle": 1}},
        1,
    )
    gold.refresh_from_db()
    assert (gold.status, gold.n_votes) == ("active", 1)
    undone = result.classification.pk
    assert services.classification_undo_last(volunteer=user, classification_id=undone) == gold


def test_promotion_after_mastering_blip_and_whistle_and_never_demoted(settings):
    settings.GLITCHLAB_PROMOTION_MIN_GOLD = 1
    user = UserFactory()
    assert not vote(user, handed_out(user, gold_subject("Blip")), "Blip").promoted
    result = vote(user, handed_out(user, gold_subject("Whistle")), "Whistle")
    assert result.promoted and result.profile.level == 2
    # A wrong answer later never takes the level away.
    vote(user, handed_out(user, gold_subject("Blip")), "Whistle")
    assert VolunteerProfile.objects.get(user=user).level == 2
    # ...and level 2 unlocks Koi_Fish.
    assert vote(user, SubjectFactory(), "Koi_Fish").created


def test_promotion_waits_for_the_minimum_number_of_gold_answers(settings):
    settings.GLITCHLAB_PROMOTION_MIN_GOLD = 2
    user = UserFactory()
    vote(user, handed_out(user, gold_subject("Blip")), "Blip")
    assert not vote(user, handed_out(user, gold_subject("Whistle")), "Whistle").promoted
    vote(user, handed_out(user, gold_subject("Blip")), "Blip")
    assert vote(user, handed_out(user, gold_subject("Whistle")), "Whistle").promoted


def test_undo_takes_back_the_last_vote_but_never_a_gold_answer():
    user = UserFactory()
    gold, pool = gold_subject("Blip"), SubjectFactory()
    gold_vote = vote(user, handed_out(user, gold), "Whistle").classification
    pool_vote = vote(user, pool, "Blip").classification
    assert VolunteerProfile.objects.get(user=user).n_classified == 2
    with pytest.raises(services.UndoNotAllowedError, match="only your last vote"):
        services.classification_undo_last(volunteer=user, classification_id=gold_vote.pk)
    assert services.classification_undo_last(volunteer=user, classification_id=pool_vote.pk) == pool
    # The gold answer is now the last one: it stays, wrong as it was.
    with pytest.raises(services.UndoNotAllowedError, match="training glitch"):
        services.classification_undo_last(volunteer=user, classification_id=gold_vote.pk)
    profile = VolunteerProfile.objects.get(user=user)
    assert (profile.gold_confusion, profile.n_classified) == ({"Blip": {"Whistle": 1}}, 1)
    Classification.objects.filter(subject=gold).delete()  # to reach "nothing to undo"
    pool.refresh_from_db()
    assert (pool.views, pool.posterior, Classification.objects.count()) == (0, {}, 0)
    with pytest.raises(services.UndoNotAllowedError):
        services.classification_undo_last(volunteer=user, classification_id=gold_vote.pk)


def test_an_undo_sent_twice_takes_back_one_vote_only():
    """A retried or replayed undo names a vote that is gone: refused, and the vote before
    it stays (an undo of "the last vote" took back two)."""
    user, first, second = UserFactory(), SubjectFactory(), SubjectFactory()
    kept = vote(user, first, "Blip").classification
    undone = vote(user, second, "Whistle").classification
    services.classification_undo_last(volunteer=user, classification_id=undone.pk)
    with pytest.raises(services.UndoNotAllowedError, match="undone already"):
        services.classification_undo_last(volunteer=user, classification_id=undone.pk)
    assert list(Classification.objects.filter(volunteer=user)) == [kept]
    assert VolunteerProfile.objects.get(user=user).n_classified == 1


def test_nobody_undoes_another_volunteers_vote():
    owner, intruder = UserFactory(), UserFactory()
    theirs = vote(owner, SubjectFactory(), "Blip").classification
    vote(intruder, SubjectFactory(), "Blip")
    with pytest.raises(services.UndoNotAllowedError, match="not yours"):
        services.classification_undo_last(volunteer=intruder, classification_id=theirs.pk)
    assert Classification.objects.filter(pk=theirs.pk).exists()


def test_undo_reopens_a_subject_sent_to_discovery():
    subject, users = SubjectFactory(), [UserFactory() for _ in range(3)]
    for user in users:
        last = vote(user, subject, "None_of_the_Above").classification
    services.classification_undo_last(volunteer=users[-1], classification_id=last.pk)
    subject.refresh_from_db()
    assert (subject.status, subject.n_none_votes) == ("active", 2)


def test_no_undo_once_the_subject_has_retired():
    subject, first = SubjectFactory(), UserFactory()
    mine = vote(first, subject, "Blip").classification
    Subject.objects.filter(pk=subject.pk).update(
        status=Subject.Status.RETIRED, retired_label=glitch_class("Blip")
    )
    with pytest.raises(services.UndoNotAllowedError, match="retired"):
        services.classification_undo_last(volunteer=first, classification_id=mine.pk)


def test_a_late_vote_on_a_retired_subject_is_recorded_but_changes_nothing():
    subject = SubjectFactory()
    vote(UserFactory(), subject, "Blip")
    Subject.objects.filter(pk=subject.pk).update(
        status=Subject.Status.RETIRED, retired_label=glitch_class("Blip")
    )
    subject.refresh_from_db()
    before = (subject.posterior, subject.views, subject.n_votes, subject.retired_at)
    results = [vote(UserFactory(), subject, "Whistle") for _ in range(2)]
    assert all(r.created and r.late for r in results)
    subject.refresh_from_db()
    assert (subject.status, subject.retired_label.name) == ("retired", "Blip")
    assert (subject.posterior, subject.views, subject.n_votes, subject.retired_at) == before
    assert Classification.objects.filter(subject=subject, after_retirement=True).count() == 2
    # ... and a later recompute (a new model, a merged class) leaves them out too.
    services.subject_consensus_recompute(subject=subject)
    subject.refresh_from_db()
    assert (subject.posterior, subject.views, subject.n_votes) == before[:3]
    # The glitch's page counts what the consensus and the export count: not the late votes.
    assert (
        selectors.subject_vote_counts(subject=subject) == {"Blip": 1} == {"Blip": subject.n_votes}
    )


def test_an_idempotency_key_belongs_to_one_subject():
    user, first, second, key = UserFactory(), SubjectFactory(), SubjectFactory(), uuid.uuid4()
    vote(user, first, "Blip", key)
    with pytest.raises(services.IdempotencyKeyReusedError, match=f"glitch {first.pk}"):
        vote(user, second, "Whistle", key)
    second.refresh_from_db()
    assert second.n_votes == 0 and Classification.objects.count() == 1


def test_a_subject_closes_at_the_configured_number_of_votes(settings):
    settings.GLITCHLAB_CLOSE_AT_VOTES = 3
    subject = SubjectFactory()
    for name in ("Blip", "Whistle", "None_of_the_Above"):
        vote(UserFactory(), subject, name)
    subject.refresh_from_db()
    assert subject.status == "closed"


def test_recompute_after_a_new_model_uses_its_prediction():
    subject = SubjectFactory()
    vote(skilled(1), subject, "Blip")
    vote(skilled(1), subject, "Blip")
    subject.refresh_from_db()
    assert subject.status == "active"  # 0.8667 alone is not enough
    active_prediction(subject, {"Blip": 0.97, "Whistle": 0.03})
    services.subject_consensus_recompute(subject=subject)
    subject.refresh_from_db()
    # (0.8667 + 0.8667 + 0.97) / 3 = 0.9011
    assert subject.posterior["Blip"] == pytest.approx((5.2 / 3 + 0.97) / 3)
    assert (subject.status, subject.retired_label.name) == ("retired", "Blip")
