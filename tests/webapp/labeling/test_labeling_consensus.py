"""Gravity Spy's consensus with the production settings, checked on worked examples
computed by hand (prior alpha 0.8 worth 2 gold answers, retire above 0.9 with 2 views)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from webapp.labeling import config, consensus

NONE = "None_of_the_Above"
CLASSES = ["Blip", "Whistle", "Koi_Fish", NONE]  # the prior spreads 0.2 over 3 others


@pytest.fixture
def rules():
    rules = config.consensus_rules()  # tests/settings.py is webapp/settings.py: production
    assert (rules.prior_alpha, rules.prior_weight, rules.retire_threshold) == (0.8, 2.0, 0.9)
    assert (rules.retire_min_views, rules.min_gold_to_weigh, rules.level_weights) == (2, 1, ())
    return rules


def weight(rules, confusion, answer, level=1):
    return consensus.vote_weight(confusion, answer, CLASSES, rules=rules, level=level)


def skilled(answer, right=3):
    """The gold history of a volunteer who answered `answer` right `right` times."""
    return {answer: {answer: right}}


def judge(rules, votes, p_ml=None):
    return consensus.judge(votes, p_ml, rules=rules, class_thresholds={})


def test_the_production_prior_can_never_retire_a_subject_on_its_own(rules):
    assert rules.prior_alpha <= rules.retire_threshold
    fields = {**rules.__dict__, "prior_alpha": 0.92}  # the old default: above the threshold
    with pytest.raises(ValueError, match="prior alpha"):
        consensus.ConsensusRules(**fields)


def test_settings_that_let_the_prior_retire_are_refused(settings):
    settings.GLITCHLAB_PRIOR_ALPHA = 0.92
    with pytest.raises(ImproperlyConfigured, match="prior alpha"):
        config.consensus_rules()
    settings.GLITCHLAB_PRIOR_ALPHA = 0.8
    settings.GLITCHLAB_LEVEL_WEIGHTS = [1.0, 0.0]
    with pytest.raises(ImproperlyConfigured, match="level weights"):
        config.consensus_rules()


def test_a_process_with_such_settings_refuses_to_start(tmp_path):
    """Web, worker and manage.py processes all run django.setup(): LabelingConfig.ready."""
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=Path(__file__).resolve().parents[3],
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.settings",
            "GLITCHLAB_VAR_DIR": str(tmp_path),
            "GLITCHLAB_PRIOR_ALPHA": "0.92",
        },
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0 and "prior alpha (0.92)" in result.stderr


def test_a_vote_for_a_class_without_gold_history_in_it_has_no_weight(rules):
    assert weight(rules, {}, "Blip") == {}
    # Gold history in Whistle, and a Whistle gold answered "Blip" (a miss) is Blip history.
    assert weight(rules, skilled("Whistle"), "Blip") == {}
    history = {"Whistle": {"Whistle": 3, "Blip": 1}}
    # Answered "Blip" once on gold, and it was a Whistle: (0 + 2*0.8)/3 Blip, (1 + 2*0.2/3)/3.
    assert weight(rules, history, "Blip") == pytest.approx(
        {"Blip": 1.6 / 3, "Whistle": (1 + 0.4 / 3) / 3, "Koi_Fish": 0.4 / 9, NONE: 0.4 / 9}
    )


def test_gold_history_outweighs_the_prior(rules):
    # Answered "Blip" on 10 gold subjects: 8 were Blips, 2 were Whistles.
    confusion = {"Blip": {"Blip": 8}, "Whistle": {"Blip": 2, "Whistle": 10}}
    column = weight(rules, confusion, "Blip")
    # (8 + 2*0.8) / 12, (2 + 2*0.2/3) / 12, (0 + 2*0.2/3) / 12 twice
    assert column == pytest.approx(
        {"Blip": 9.6 / 12, "Whistle": (2 + 0.4 / 3) / 12, "Koi_Fish": 0.4 / 36, NONE: 0.4 / 36}
    )
    assert sum(column.values()) == pytest.approx(1.0)
    assert consensus.alpha(confusion, "Blip") == pytest.approx(0.8)  # 8 of 10 "Blip" answers
    assert consensus.alpha(confusion, "Whistle") == pytest.approx(1.0)
    assert consensus.alpha(confusion, "Koi_Fish") is None


def test_two_new_accounts_that_agree_retire_nothing_even_with_a_confident_model(rules):
    fresh = [("Blip", weight(rules, {}, "Blip")), ("Blip", weight(rules, {}, "Blip"))]
    tally, decision = judge(rules, fresh)
    assert (tally.posterior, tally.views, tally.weighted_views) == ({}, 2, 0)
    assert decision.status == "active"
    tally, decision = judge(rules, fresh, {"Blip": 0.99, "Whistle": 0.01})
    assert tally.posterior == pytest.approx({"Blip": 0.99, "Whistle": 0.01})  # the model's
    assert decision.status == "active"  # no weighted view: the model alone never retires


def test_two_skilled_volunteers_and_the_model_retire_a_blip(rules):
    # 3 right Blip answers each: (3 + 2*0.8) / 5 = 0.92 on Blip.
    votes = [("Blip", weight(rules, skilled("Blip"), "Blip"))] * 2
    assert votes[0][1]["Blip"] == pytest.approx(0.92)
    tally, decision = judge(rules, votes, {"Blip": 0.99, "Whistle": 0.01})
    assert tally.posterior["Blip"] == pytest.approx((0.92 + 0.92 + 0.99) / 3)
    assert decision == consensus.Decision("retired", "Blip")


def test_one_right_gold_answer_each_is_not_enough_without_a_model(rules):
    # (1 + 2*0.8) / 3 = 0.8667 each: two of them average 0.8667, not above 0.9.
    votes = [("Blip", weight(rules, skilled("Blip", right=1), "Blip"))] * 2
    tally, decision = judge(rules, votes)
    assert tally.posterior["Blip"] == pytest.approx(2.6 / 3)
    assert decision.status == "active"


def test_none_of_the_above_votes_dilute_the_other_classes(rules):
    # The case: Blip, NOTA, NOTA, Blip with the model at 0.9 retired as Blip at
    # (0.92 + 0.92 + 0.9) / 3 = 0.913 when NOTA votes were dropped.
    blip = ("Blip", weight(rules, skilled("Blip"), "Blip"))
    nota = ("None_of_the_Above", weight(rules, {}, NONE))  # no NOTA history: the prior
    assert nota[1][NONE] == pytest.approx(0.8)
    p_ml = {"Blip": 0.9, "Whistle": 0.1}
    tally, decision = judge(rules, [blip, nota, nota, blip], p_ml)
    # Blip: (0.92 + 0.2/3 + 0.2/3 + 0.92 + 0.9) / 5 = 0.5747
    assert tally.posterior["Blip"] == pytest.approx((2.74 + 0.4 / 3) / 5)
    assert (tally.views, tally.weighted_views, tally.n_none_votes) == (2, 2, 2)
    assert decision.status == "active"
    assert sum(tally.posterior.values()) == pytest.approx(1.0)


def test_per_level_weights_are_off_by_default_and_count_a_vote_lambda_times(rules):
    assert rules.level_weight(1) == rules.level_weight(5) == 1.0
    weighted = consensus.ConsensusRules(**{**rules.__dict__, "level_weights": (1.0, 2.0)})
    assert (weighted.level_weight(1), weighted.level_weight(2), weighted.level_weight(7)) == (
        1.0,
        2.0,
        2.0,
    )
    blip = (
        "Blip",
        consensus.vote_weight(skilled("Blip"), "Blip", CLASSES, rules=weighted, level=1),
    )
    whistle = (
        "Whistle",
        consensus.vote_weight(skilled("Whistle"), "Whistle", CLASSES, rules=weighted, level=3),
    )
    tally, _ = judge(weighted, [blip, whistle])
    # Each column puts (2 * 0.2/3) / 5 = 0.0267 on each other class.
    # (0.92 + 2 * 0.0267) / 3 on Blip, (0.0267 + 2 * 0.92) / 3 on Whistle
    other = 0.4 / 15
    assert tally.posterior["Blip"] == pytest.approx((0.92 + 2 * other) / 3)
    assert tally.posterior["Whistle"] == pytest.approx((other + 2 * 0.92) / 3)


def test_one_view_never_retires_even_when_confident(rules):
    tally, decision = judge(
        rules, [("Blip", weight(rules, skilled("Blip", 50), "Blip"))], {"Blip": 1.0}
    )
    assert tally.posterior["Blip"] > 0.95
    assert decision.status == "active"


def test_disagreement_does_not_retire(rules):
    votes = [
        ("Blip", weight(rules, skilled("Blip"), "Blip")),
        ("Whistle", weight(rules, skilled("Whistle"), "Whistle")),
    ]
    tally, decision = judge(rules, votes, {"Blip": 0.6, "Whistle": 0.4})
    # Blip: (0.92 + (2 * 0.2/3) / 5 + 0.6) / 3
    assert tally.posterior["Blip"] == pytest.approx((1.52 + 0.4 / 15) / 3)
    assert decision.status == "active"


def test_a_per_class_threshold_overrides_the_default(rules):
    scores = {"Blip": 0.93, "Whistle": 0.07}
    decide = dict(
        threshold=rules.retire_threshold,
        min_views=rules.retire_min_views,
        close_at_votes=rules.close_at_votes,
        none_votes_to_discovery=rules.none_votes_to_discovery,
    )
    assert (
        consensus.decide(
            scores, views=3, n_votes=3, n_none_votes=0, class_thresholds={"Blip": 0.95}, **decide
        ).status
        == "active"
    )
    assert (
        consensus.decide(
            scores, views=3, n_votes=3, n_none_votes=0, class_thresholds={"Whistle": 0.5}, **decide
        ).label
        == "Blip"
    )


def test_three_none_of_the_above_votes_send_to_discovery(rules):
    nota = (NONE, weight(rules, {}, NONE))
    blip = ("Blip", weight(rules, skilled("Blip"), "Blip"))
    assert judge(rules, [blip, nota, nota])[1].status == "active"
    assert judge(rules, [blip, nota, nota, nota])[1].status == "discovery"


def test_a_subject_closes_at_fifty_votes(rules):
    fresh = ("Blip", weight(rules, {}, "Blip"))
    assert judge(rules, [fresh] * 49)[1].status == "active"
    assert judge(rules, [fresh] * 50)[1].status == "closed"


def test_confident_none_of_the_above_goes_to_discovery_not_retired(rules):
    scores = {NONE: 0.95, "Blip": 0.05}  # possible through the model's vote
    decision = consensus.decide(
        scores,
        views=2,
        n_votes=2,
        n_none_votes=0,
        threshold=rules.retire_threshold,
        min_views=rules.retire_min_views,
        close_at_votes=rules.close_at_votes,
        none_votes_to_discovery=rules.none_votes_to_discovery,
    )
    assert decision == consensus.Decision("discovery", None)


# --- skill: the numbers shown and the numbers promotion reads ----------------------------


def skill(confusion, name):
    return consensus.class_skill(confusion, name, min_alpha=0.7, min_gold=3)


def test_a_missed_whistle_lowers_whistle_skill():
    # One Whistle gold answered right, one answered Blip: was "Whistle: 100% of 2".
    confusion = {"Whistle": {"Whistle": 1, "Blip": 1}}
    whistle = skill(confusion, "Whistle")
    assert (whistle.alpha, whistle.gold_answers, whistle.right) == (0.5, 2, 1)
    assert whistle.precision == 1.0 and whistle.recall == 0.5  # Gravity Spy's alpha alone: 1.0
    assert skill(confusion, "Blip").alpha == 0.0  # the one "Blip" answer was wrong


def test_two_missed_blips_lower_blip_skill():
    # Six Blip golds, two of them answered Whistle: was "Blip: 100% of 6".
    confusion = {"Blip": {"Blip": 4, "Whistle": 2}}
    blip = skill(confusion, "Blip")
    assert (blip.alpha, blip.gold_answers) == (pytest.approx(4 / 6), 6)
    assert not blip.ready


def test_a_false_alarm_lowers_the_skill_of_the_answered_class():
    # Three Whistles recognised, and "Whistle" answered on a Blip gold.
    whistle = skill({"Whistle": {"Whistle": 3}, "Blip": {"Whistle": 1}}, "Whistle")
    assert (whistle.recall, whistle.precision, whistle.alpha) == (1.0, 0.75, 0.75)


def test_none_of_the_above_on_every_hard_one_does_not_keep_skill_at_100():
    confusion = {"Whistle": {"Whistle": 3, NONE: 3}}
    whistle = skill(confusion, "Whistle")
    assert whistle.precision == 1.0 and whistle.alpha == 0.5 and not whistle.ready


def test_a_class_never_answered_but_missed_shows_zero_not_nothing():
    whistle = skill({"Whistle": {"Blip": 3}}, "Whistle")
    assert (whistle.alpha, whistle.gold_answers, whistle.precision) == (0.0, 3, None)
    assert skill({}, "Whistle").alpha is None


def test_promotion_needs_every_class_ready_and_reads_class_skill():
    confusion = {"Blip": {"Blip": 3}, "Whistle": {"Whistle": 3, "Blip": 1}}
    # Blip: precision 3/4, recall 1 -> 0.75; Whistle: precision 1, recall 3/4 -> 0.75.
    ready = consensus.ready_for_promotion
    assert skill(confusion, "Blip").alpha == skill(confusion, "Whistle").alpha == 0.75
    assert ready(confusion, ["Blip", "Whistle"], min_alpha=0.7, min_gold=3)
    assert not ready(confusion, ["Blip", "Whistle"], min_alpha=0.8, min_gold=3)
    assert not ready(confusion, ["Blip", "Whistle"], min_alpha=0.7, min_gold=4)
    assert not ready(confusion, ["Blip", "Koi_Fish"], min_alpha=0.7, min_gold=1)
    for min_alpha in (0.7, 0.8):
        shown = [
            consensus.class_skill(confusion, name, min_alpha=min_alpha, min_gold=3).ready
            for name in ("Blip", "Whistle")
        ]
        assert all(shown) == ready(confusion, ["Blip", "Whistle"], min_alpha=min_alpha, min_gold=3)


def test_confusion_add_and_take_back():
    confusion = consensus.confusion_add({}, "Blip", "Whistle")
    assert confusion == {"Blip": {"Whistle": 1}}
    assert consensus.confusion_add(confusion, "Blip", "Whistle", -1) == {}
