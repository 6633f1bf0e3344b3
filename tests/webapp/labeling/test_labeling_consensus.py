"""Gravity Spy's consensus, checked on worked examples computed by hand."""

import pytest

from webapp.labeling import consensus

CLASSES = ["Blip", "Whistle", "Koi_Fish"]
RULES = dict(
    threshold=0.9, min_views=2, close_at_votes=50, none_votes_to_discovery=3, class_thresholds={}
)


def fresh_vote(answer):
    # No gold history: the prior. alpha 0.9 on the answer, 0.1 split over the 2 others.
    return consensus.confusion_column({}, answer, CLASSES, prior_alpha=0.9, prior_weight=2)


def test_a_fresh_volunteer_votes_with_the_prior():
    assert fresh_vote("Blip") == pytest.approx({"Blip": 0.9, "Whistle": 0.05, "Koi_Fish": 0.05})


def test_gold_history_outweighs_the_prior():
    # Answered "Blip" on 10 gold subjects: 8 were Blips, 2 were Whistles.
    confusion = {"Blip": {"Blip": 8}, "Whistle": {"Blip": 2, "Whistle": 10}}
    column = consensus.confusion_column(confusion, "Blip", CLASSES, prior_alpha=0.9, prior_weight=2)
    # (8 + 2*0.9) / 12, (2 + 2*0.05) / 12, (0 + 2*0.05) / 12
    assert column == pytest.approx({"Blip": 9.8 / 12, "Whistle": 2.1 / 12, "Koi_Fish": 0.1 / 12})
    assert sum(column.values()) == pytest.approx(1.0)
    assert consensus.alpha(confusion, "Blip") == pytest.approx(0.8)  # 8 of 10 "Blip" answers
    assert consensus.alpha(confusion, "Whistle") == pytest.approx(1.0)
    assert consensus.alpha(confusion, "Koi_Fish") is None


def test_two_fresh_votes_and_the_model_retire_a_blip():
    p_ml = {"Blip": 0.99, "Whistle": 0.01, "Koi_Fish": 0.0}
    scores = consensus.combine([fresh_vote("Blip"), fresh_vote("Blip")], p_ml)
    # (0.9 + 0.9 + 0.99) / 3 = 0.93
    assert scores["Blip"] == pytest.approx(0.93)
    assert scores["Whistle"] == pytest.approx((0.05 + 0.05 + 0.01) / 3)
    decision = consensus.decide(scores, views=2, n_votes=2, n_none_votes=0, **RULES)
    assert decision == consensus.Decision("retired", "Blip")


def test_without_a_model_the_votes_are_averaged_over_n():
    scores = consensus.combine([fresh_vote("Blip"), fresh_vote("Blip")], None)
    assert scores["Blip"] == pytest.approx(0.9)  # (0.9 + 0.9) / 2: not above 0.9
    decision = consensus.decide(scores, views=2, n_votes=2, n_none_votes=0, **RULES)
    assert decision.status == "active"


def test_one_view_never_retires_even_when_confident():
    scores = consensus.combine([fresh_vote("Blip")], {"Blip": 1.0})
    assert scores["Blip"] == pytest.approx(0.95)  # (0.9 + 1.0) / 2
    assert consensus.decide(scores, views=1, n_votes=1, n_none_votes=0, **RULES).status == (
        "active"
    )


def test_disagreement_does_not_retire():
    scores = consensus.combine(
        [fresh_vote("Blip"), fresh_vote("Whistle")], {"Blip": 0.6, "Whistle": 0.4}
    )
    # Blip: (0.9 + 0.05 + 0.6) / 3 = 0.5167
    assert scores["Blip"] == pytest.approx(1.55 / 3)
    assert consensus.decide(scores, views=2, n_votes=2, n_none_votes=0, **RULES).status == (
        "active"
    )


def test_a_per_class_threshold_overrides_the_default():
    scores = {"Blip": 0.93, "Whistle": 0.07}
    rules = {**RULES, "class_thresholds": {"Blip": 0.95}}
    assert consensus.decide(scores, views=3, n_votes=3, n_none_votes=0, **rules).status == "active"
    rules = {**RULES, "class_thresholds": {"Whistle": 0.5}}
    assert consensus.decide(scores, views=3, n_votes=3, n_none_votes=0, **rules).label == "Blip"


def test_three_none_of_the_above_votes_send_to_discovery():
    scores = consensus.combine([fresh_vote("Blip")], None)
    assert consensus.decide(scores, views=1, n_votes=3, n_none_votes=2, **RULES).status == "active"
    assert (
        consensus.decide(scores, views=1, n_votes=4, n_none_votes=3, **RULES).status == "discovery"
    )


def test_a_subject_closes_at_fifty_votes():
    scores = {"Blip": 0.5, "Whistle": 0.5}
    assert consensus.decide(scores, views=49, n_votes=49, n_none_votes=0, **RULES).status == (
        "active"
    )
    assert consensus.decide(scores, views=50, n_votes=50, n_none_votes=0, **RULES).status == (
        "closed"
    )


def test_confident_none_of_the_above_goes_to_discovery_not_retired():
    scores = {"None_of_the_Above": 0.95, "Blip": 0.05}
    decision = consensus.decide(scores, views=2, n_votes=2, n_none_votes=0, **RULES)
    assert decision == consensus.Decision("discovery", None)


def test_promotion_needs_every_class_at_alpha_and_enough_gold():
    confusion = {"Blip": {"Blip": 3}, "Whistle": {"Whistle": 2, "Blip": 1}}
    # alpha(Blip) = 3 / 4 = 0.75, alpha(Whistle) = 2 / 2 = 1.0; Whistle has 3 gold answers.
    ready = consensus.ready_for_promotion
    assert ready(confusion, ["Blip", "Whistle"], min_alpha=0.7, min_gold=3)
    assert not ready(confusion, ["Blip", "Whistle"], min_alpha=0.8, min_gold=3)
    assert not ready(confusion, ["Blip", "Whistle"], min_alpha=0.7, min_gold=4)
    assert not ready(confusion, ["Blip", "Koi_Fish"], min_alpha=0.7, min_gold=1)


def test_confusion_add_and_take_back():
    confusion = consensus.confusion_add({}, "Blip", "Whistle")
    assert confusion == {"Blip": {"Whistle": 1}}
    assert consensus.confusion_add(confusion, "Blip", "Whistle", -1) == {}
