"""Properties of the consensus over random vote sequences, with the production settings
(hypothesis): what no sequence of votes may do, whoever casts them and in whatever order."""

import math

from django.conf import settings as django_settings
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from ml.classes import CANONICAL_NAMES, NONE_OF_THE_ABOVE
from webapp.labeling import config, consensus

RULES = config.consensus_rules()  # tests/settings.py is webapp/settings.py: production
CLASS_NAMES = list(CANONICAL_NAMES)  # the prior spreads over all 22, as in production
PICKED = ["Blip", "Whistle", "Koi_Fish", NONE_OF_THE_ABOVE]  # what the votes choose from
EXAMPLES = settings(max_examples=60, deadline=None)

answers = st.sampled_from(PICKED)
confusions = st.dictionaries(
    answers, st.dictionaries(answers, st.integers(min_value=1, max_value=6), max_size=3)
)
levels = st.integers(min_value=1, max_value=5)
voters = st.tuples(answers, confusions, levels)  # (answer, gold history, level)
probabilities = st.lists(
    st.floats(min_value=0.0, max_value=1.0), min_size=len(PICKED), max_size=len(PICKED)
).filter(lambda ps: sum(ps) > 0)
predictions = st.none() | probabilities.map(
    lambda ps: {name: p / sum(ps) for name, p in zip(PICKED, ps, strict=True)}
)


def cast(answer, confusion, level, rules=RULES):
    weight = consensus.vote_weight(confusion, answer, CLASS_NAMES, rules=rules, level=level)
    return (answer, weight)


def judge(votes, p_ml, rules=RULES):
    return consensus.judge(votes, p_ml, rules=rules, class_thresholds={})


def test_the_production_settings_are_the_ones_under_test():
    assert RULES.prior_alpha <= RULES.retire_threshold and RULES.min_gold_to_weigh >= 1
    assert RULES.level_weights == ()


@EXAMPLES
@given(st.lists(voters, max_size=30), predictions)
def test_volunteers_without_gold_history_in_their_answer_never_retire_a_subject(people, p_ml):
    # Whatever else they answered on gold, none of them ever answered the class they vote.
    votes = [
        cast(answer, {true: row for true, row in history.items() if answer not in row}, level)
        for answer, history, level in people
    ]
    _, decision = judge(votes, p_ml)
    assert decision.status != consensus.RETIRED


@EXAMPLES
@given(answers, st.lists(levels, min_size=2, max_size=40), predictions)
def test_any_number_of_new_accounts_that_agree_never_retire_a_subject(answer, people, p_ml):
    if p_ml is not None:  # the model agrees too, as much as it can
        p_ml = {answer: 1.0}
    _, decision = judge([cast(answer, {}, level) for level in people], p_ml)
    assert decision.status != consensus.RETIRED


@EXAMPLES
@given(st.lists(voters, max_size=20), predictions, st.randoms(use_true_random=False))
def test_the_order_of_the_votes_changes_nothing(people, p_ml, random):
    votes = [cast(*person) for person in people]
    shuffled = list(votes)
    random.shuffle(shuffled)
    assert judge(votes, p_ml) == judge(shuffled, p_ml)  # exactly: posterior, counts, decision


@EXAMPLES
@given(st.lists(voters, max_size=20), predictions)
def test_the_posterior_is_a_distribution(people, p_ml):
    tally, _ = judge([cast(*person) for person in people], p_ml)
    if (
        tally.weighted_views == 0
        and p_ml is None
        and not any(answer == NONE_OF_THE_ABOVE for answer, _, _ in people)
    ):
        assert tally.posterior == {}
    else:
        assert math.isclose(sum(tally.posterior.values()), 1.0, abs_tol=1e-9)
        assert all(0.0 <= value <= 1.0 + 1e-12 for value in tally.posterior.values())


@EXAMPLES
@given(st.lists(voters, max_size=20), predictions)
def test_a_retired_label_is_the_best_class_above_the_threshold_with_enough_weighted_views(
    people, p_ml
):
    tally, decision = judge([cast(*person) for person in people], p_ml)
    if decision.status == consensus.RETIRED:
        best = max(tally.posterior.values())
        assert tally.posterior[decision.label] == best > RULES.retire_threshold
        assert decision.label != NONE_OF_THE_ABOVE
        assert tally.weighted_views >= RULES.retire_min_views


@EXAMPLES
@given(st.lists(voters, max_size=20), predictions, voters)
def test_a_vote_moves_its_class_towards_the_voters_own_weight(people, p_ml, voter):
    """W is a weighted mean: a vote for c puts c's posterior between where it was and the
    voter's own W_i[c]; so it never lowers it when the voter trusts c more than the crowd."""
    votes = [cast(*person) for person in people]
    answer, weight = cast(*voter)
    assume(weight)
    before = judge(votes, p_ml)[0].posterior
    after = judge([*votes, (answer, weight)], p_ml)[0].posterior
    own = weight[answer] / sum(weight.values())
    if not before:
        assert math.isclose(after[answer], own)
        return
    old = before.get(answer, 0.0)
    assert min(old, own) - 1e-12 <= after[answer] <= max(old, own) + 1e-12


@EXAMPLES
@given(
    st.lists(voters, max_size=20),
    predictions,
    confusions,
    st.integers(min_value=1, max_value=12),
    st.integers(min_value=1, max_value=12),
    levels,
    st.permutations(PICKED),
)
def test_answering_c_instead_of_d_never_lowers_c_for_a_volunteer_right_half_the_time(
    people, p_ml, noise, right_c, right_d, level, order
):
    """For a volunteer whose answers c and d (smoothed) are right at least half the time."""
    c, d = order[:2]
    history = consensus.confusion_add(noise, c, c, right_c)
    history = consensus.confusion_add(history, d, d, right_d)
    vote_c, vote_d = cast(c, history, level), cast(d, history, level)
    assume(vote_c[1][c] >= 0.5 * sum(vote_c[1].values()))
    assume(vote_d[1][d] >= 0.5 * sum(vote_d[1].values()))
    votes = [cast(*person) for person in people]
    with_c = judge([*votes, vote_c], p_ml)[0].posterior
    with_d = judge([*votes, vote_d], p_ml)[0].posterior
    assert with_c[c] >= with_d.get(c, 0.0) - 1e-12


@EXAMPLES
@given(st.lists(voters, max_size=20), predictions, levels)
def test_a_none_of_the_above_vote_without_history_never_retires_a_subject(people, p_ml, level):
    votes = [cast(*person) for person in people]
    _, decision = judge(votes, p_ml)
    assume(decision.status != consensus.RETIRED)
    nota = cast(NONE_OF_THE_ABOVE, {}, level)
    assert nota[1]  # it weighs (with the prior): it dilutes the real classes
    _, after = judge([*votes, nota], p_ml)
    assert after.status != consensus.RETIRED


@EXAMPLES
@given(st.lists(voters, max_size=20), predictions, st.sampled_from(PICKED[:-1]))
def test_a_vote_without_weight_moves_nothing(people, p_ml, answer):
    votes = [cast(*person) for person in people]
    before, _ = judge(votes, p_ml)
    after, _ = judge([*votes, (answer, {})], p_ml)
    assert after.posterior == before.posterior
    assert after.weighted_views == before.weighted_views
    assert (after.n_votes, after.views) == (before.n_votes + 1, before.views + 1)


@EXAMPLES
@given(confusions, answers)
def test_per_level_weights_are_neutral_by_default(history, answer):
    weights = [cast(answer, history, level)[1] for level in range(1, 6)]
    assert all(weight == weights[0] for weight in weights)


@EXAMPLES
@given(confusions, answers, answers)
def test_a_mistake_involving_a_class_never_raises_its_skill(history, c, other):
    assume(c != other)
    rules = config.promotion_rules()

    def skill(confusion):
        return consensus.class_skill(confusion, c, min_alpha=rules.alpha, min_gold=rules.min_gold)

    before = skill(history)
    missed = skill(consensus.confusion_add(history, c, other))  # a c glitch answered other
    false_alarm = skill(consensus.confusion_add(history, other, c))  # answered c on other
    right = skill(consensus.confusion_add(history, c, c))
    for after in (missed, false_alarm):
        assert after.alpha is not None
        assert before.alpha is None or after.alpha <= before.alpha
        assert not after.ready or before.ready
    assert right.alpha is not None and (before.alpha is None or right.alpha >= before.alpha)
    assert before.alpha is None or before.alpha <= min(
        x for x in (before.precision, before.recall) if x is not None
    )


@EXAMPLES
@given(confusions)
def test_promotion_reads_the_skill_the_page_shows(history):
    rules = config.promotion_rules()
    for names in django_settings.GLITCHLAB_LEVELS:  # (config.levels() adds run-time classes)
        shown = [
            consensus.class_skill(history, n, min_alpha=rules.alpha, min_gold=rules.min_gold)
            for n in names
        ]
        ready = consensus.ready_for_promotion(
            history, names, min_alpha=rules.alpha, min_gold=rules.min_gold
        )
        assert ready == all(skill.ready for skill in shown)
