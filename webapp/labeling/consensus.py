"""Gravity Spy's weighted crowd + ML consensus and promotion rule, as pure functions (no ORM).

A volunteer's skill is their confusion matrix on gold subjects,
    confusion[true class][answered class] = count.
Normalising each *column* (an answer) over the true classes gives
    P(true class | the volunteer answered this),
and that column (smoothed by a prior) is the vote's weight vector W_i. The diagonal of the
column-normalised matrix is Gravity Spy's alpha for a class (how often that answer is right).

A subject's score over classes is the mass-weighted mean of its votes and the model:
    W = (sum_i lambda_i W_i + p_ML) / (sum_i lambda_i + 1)
with lambda_i the optional weight of the voter's level (1 by default), and without the
model's terms when no model has predicted the subject (a missing model vote must not pull
every class down and make retirement impossible). Each W_i sums to 1, so W does too.

As in Gravity Spy, a vote for a class the volunteer has never answered on a gold subject
carries no weight (W_i is empty): it is recorded and counted towards closing, but it moves
no score and is not a view for retirement. So accounts without gold history cannot retire
anything, however many agree. None_of_the_Above is a class like any other: its votes carry
the volunteer's None_of_the_Above column (the prior without gold history: see vote_weight)
and dilute the other classes; they are not views, and enough of them send the subject to
the discovery queue.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ml.classes import NONE_OF_THE_ABOVE

Confusion = Mapping[str, Mapping[str, float]]  # {true class: {answered class: count}}
Scores = dict[str, float]  # {class name: score}
Vote = tuple[str, Mapping[str, float]]  # (answered class, stored weight W_i; {} = none)

ACTIVE, RETIRED, CLOSED, DISCOVERY = "active", "retired", "closed", "discovery"


@dataclass(frozen=True)
class ConsensusRules:
    """The consensus numbers (webapp.labeling.config builds them from settings).

    Construction refuses a combination that would let trust nobody earned retire a subject.
    """

    retire_threshold: float  # retire when max W exceeds this (per-class overrides win)
    retire_min_views: int  # ... and at least this many weighted non-None_of_the_Above votes
    close_at_votes: int  # stop collecting votes at this many (all answers)
    none_votes_to_discovery: int  # this many None_of_the_Above votes -> discovery queue
    prior_alpha: float  # assumed accuracy of a volunteer's answer with little gold history
    prior_weight: float  # how many gold answers that assumption is worth
    min_gold_to_weigh: int = 1  # a vote weighs only once its class was answered on this
    #                             many gold subjects by the voter (0: the prior alone weighs)
    level_weights: tuple[float, ...] = ()  # lambda of a level-L voter is [L-1] (last for
    #                                        higher levels); () = 1 for every level

    def __post_init__(self) -> None:
        if not 0.0 < self.retire_threshold < 1.0:
            raise ValueError(
                f"the retirement threshold must be in (0, 1), not {self.retire_threshold}"
            )
        # W is a mean of columns that are each at most prior_alpha on a class for a voter
        # with no gold data: above the threshold, voters nobody has measured could retire.
        if not 0.0 < self.prior_alpha <= self.retire_threshold:
            raise ValueError(
                f"the prior alpha ({self.prior_alpha}) must be in (0, retirement threshold "
                f"{self.retire_threshold}]: a higher prior lets volunteers without gold "
                "history retire subjects on their own"
            )
        if self.prior_weight < 0 or self.min_gold_to_weigh < 0 or self.retire_min_views < 1:
            raise ValueError(
                "prior weight and minimum gold to weigh must be >= 0, minimum views >= 1"
            )
        if any(not (weight > 0 and math.isfinite(weight)) for weight in self.level_weights):
            raise ValueError(f"level weights must be positive numbers: {self.level_weights}")

    def level_weight(self, level: int) -> float:
        """lambda of a vote cast at this level (1 unless per-level weights are set)."""
        if not self.level_weights:
            return 1.0
        return self.level_weights[min(max(level, 1), len(self.level_weights)) - 1]


def prior_column(answer: str, class_names: Sequence[str], prior_alpha: float) -> Scores:
    """What we assume about a volunteer with no gold history: right with prob. prior_alpha,
    otherwise wrong in an unknown way (the rest spread evenly over the other classes)."""
    others = [name for name in class_names if name != answer]
    column = {name: (1.0 - prior_alpha) / len(others) for name in others} if others else {}
    column[answer] = prior_alpha if others else 1.0
    return column


def confusion_column(
    confusion: Confusion,
    answer: str,
    class_names: Sequence[str],
    *,
    prior_alpha: float,
    prior_weight: float,
) -> Scores:
    """W_i: P(true class | answer) from the gold confusion matrix, smoothed by the prior.

    The prior counts as prior_weight gold answers, so a volunteer with no gold history
    gets the prior itself and one with hundreds of gold answers gets (almost) their data.
    """
    prior = prior_column(answer, class_names, prior_alpha)
    counts = {true: float(row.get(answer, 0.0)) for true, row in confusion.items()}
    total = sum(counts.values())
    names = dict.fromkeys([*prior, *counts])
    denominator = total + prior_weight
    if denominator <= 0:
        return prior
    return {
        name: (counts.get(name, 0.0) + prior_weight * prior.get(name, 0.0)) / denominator
        for name in names
    }


def answered_as(confusion: Confusion, name: str) -> int:
    """How many gold subjects the volunteer answered with `name` (the column's total)."""
    return int(sum(float(row.get(name, 0.0)) for row in confusion.values()))


def vote_weight(
    confusion: Confusion,
    answer: str,
    class_names: Sequence[str],
    *,
    rules: ConsensusRules,
    level: int,
    none_label: str = NONE_OF_THE_ABOVE,
) -> Scores:
    """lambda_i W_i of a vote for `answer` by a volunteer of this level and gold history.

    {} (no weight) while they have answered `answer` on fewer than rules.min_gold_to_weigh
    gold subjects: Gravity Spy skips a vote for a class without gold history. Except for
    None_of_the_Above, which then weighs with the prior: such a vote can only take score
    away from the real classes (a subject whose best class is None_of_the_Above goes to
    discovery, it never retires), so it needs no earned trust to dilute them.
    """
    if answer != none_label and answered_as(confusion, answer) < rules.min_gold_to_weigh:
        return {}
    column = confusion_column(
        confusion,
        answer,
        class_names,
        prior_alpha=rules.prior_alpha,
        prior_weight=rules.prior_weight,
    )
    scale = rules.level_weight(level)
    return {name: scale * value for name, value in column.items()}


def alpha(confusion: Confusion, name: str) -> float | None:
    """Gravity Spy's alpha: the diagonal of the column-normalised confusion matrix (of the
    volunteer's gold answers `name`, the share that were right); None if never answered."""
    column_total = answered_as(confusion, name)
    if column_total <= 0:
        return None
    return float(confusion.get(name, {}).get(name, 0.0)) / column_total


def gold_answers_of_class(confusion: Confusion, name: str) -> int:
    """How many gold subjects whose true class is `name` the volunteer has answered."""
    return int(sum(confusion.get(name, {}).values()))


def gold_answers(confusion: Confusion) -> int:
    """How many gold subjects the volunteer has answered (every cell of the matrix)."""
    return int(sum(sum(row.values()) for row in confusion.values()))


def gold_answers_correct(confusion: Confusion) -> int:
    """How many of them they answered right (the diagonal)."""
    return int(sum(float(row.get(true, 0.0)) for true, row in confusion.items()))


@dataclass(frozen=True)
class ClassSkill:
    """A volunteer's skill in one class: the one set of numbers the labelling page, the API
    and promotion all read (webapp.labeling.selectors.volunteer_progress, ready_for_promotion).

    `alpha` is the lower of two shares, so that every mistake involving the class lowers it:
    Gravity Spy's alpha (of the answers `name`, the right ones; a false alarm lowers it) and
    the recall (of the gold subjects of `name`, the ones recognised; a miss lowers it, also
    one answered None_of_the_Above). Gravity Spy's alpha alone stays at 100% after a missed
    Whistle, and could be kept high by answering None_of_the_Above whenever unsure.
    """

    name: str
    gold_answers: int  # gold subjects of this class answered (the "of N" shown)
    right: int  # ... answered right
    answered: int  # gold subjects answered with this class, right or wrong
    precision: float | None  # right / answered: Gravity Spy's alpha; None if answered == 0
    recall: float | None  # right / gold_answers; None if gold_answers == 0
    alpha: float | None  # min(precision, recall) of those defined: shown, and compared with
    #                      the promotion bar; None before any gold answer involving the class
    ready: bool  # alpha >= the bar on at least the minimum number of gold subjects


def class_skill(confusion: Confusion, name: str, *, min_alpha: float, min_gold: int) -> ClassSkill:
    seen = gold_answers_of_class(confusion, name)
    right = int(float(confusion.get(name, {}).get(name, 0.0)))
    answered = answered_as(confusion, name)
    precision = right / answered if answered > 0 else None
    recall = right / seen if seen > 0 else None
    defined = [share for share in (precision, recall) if share is not None]
    value = min(defined) if defined else None
    ready = value is not None and seen >= max(min_gold, 1) and value >= min_alpha
    return ClassSkill(name, seen, right, answered, precision, recall, value, ready)


def confusion_add(
    confusion: Confusion, true: str, answered: str, delta: int = 1
) -> dict[str, dict[str, float]]:
    """A copy of the matrix with one gold answer added (delta=1) or taken back (delta=-1)."""
    result = {t: dict(row) for t, row in confusion.items()}
    row = result.setdefault(true, {})
    row[answered] = max(0.0, row.get(answered, 0.0) + delta)
    if row[answered] == 0:
        del row[answered]
    if not row:
        del result[true]
    return result


def combine(weights: Sequence[Mapping[str, float]], p_ml: Mapping[str, float] | None) -> Scores:
    """W = (sum lambda_i W_i + p_ML) / (sum lambda_i + 1): each vector counts with its mass
    (its sum: lambda_i for a vote, 1 for the model), an empty one (no weight) not at all.

    Sums are exact (math.fsum), so the order of the votes cannot change W, not even in the
    last bit that could tip a score over the threshold.
    """
    terms: dict[str, list[float]] = {}  # each class's terms, classes in order of appearance
    for vector in [*weights, p_ml or {}]:
        for name, value in vector.items():
            terms.setdefault(name, []).append(float(value))
    mass = math.fsum(value for values in terms.values() for value in values)
    if mass <= 0:
        return {}
    return {name: math.fsum(values) / mass for name, values in terms.items()}


@dataclass(frozen=True)
class Tally:
    """What a subject's votes and the model's prediction add up to."""

    posterior: Scores  # W
    n_votes: int  # every vote (closing counts these)
    n_none_votes: int  # None_of_the_Above votes (discovery counts these)
    views: int  # votes for a class other than None_of_the_Above (shown)
    weighted_views: int  # ... of them, those that carry weight (retirement counts these)


def tally(
    votes: Sequence[Vote], p_ml: Mapping[str, float] | None, *, none_label: str = NONE_OF_THE_ABOVE
) -> Tally:
    n_none = sum(1 for name, _ in votes if name == none_label)
    weighted = sum(1 for name, weight in votes if name != none_label and weight)
    return Tally(
        posterior=combine([weight for _, weight in votes], p_ml),
        n_votes=len(votes),
        n_none_votes=n_none,
        views=len(votes) - n_none,
        weighted_views=weighted,
    )


@dataclass(frozen=True)
class Decision:
    status: str  # active, retired, closed or discovery
    label: str | None  # the retired label, only when status is retired


def decide(
    scores: Mapping[str, float],
    *,
    views: int,
    n_votes: int,
    n_none_votes: int,
    threshold: float,
    class_thresholds: Mapping[str, float] | None = None,
    min_views: int,
    close_at_votes: int,
    none_votes_to_discovery: int,
    none_label: str = NONE_OF_THE_ABOVE,
) -> Decision:
    """Retire when the best class's W exceeds its threshold with enough views; else send to
    discovery after enough None_of_the_Above votes; else close after enough votes.

    A subject confidently None_of_the_Above (possible through the model's vote) goes to
    discovery rather than being retired: it is exactly what discovery is for."""
    if scores and views >= min_views:
        best = max(scores, key=lambda name: (scores[name], name))
        limit = (class_thresholds or {}).get(best, threshold)
        if scores[best] > limit:
            return Decision(DISCOVERY, None) if best == none_label else Decision(RETIRED, best)
    if n_none_votes >= none_votes_to_discovery:
        return Decision(DISCOVERY, None)
    if n_votes >= close_at_votes:
        return Decision(CLOSED, None)
    return Decision(ACTIVE, None)


def judge(
    votes: Sequence[Vote],
    p_ml: Mapping[str, float] | None,
    *,
    rules: ConsensusRules,
    class_thresholds: Mapping[str, float] | None = None,
) -> tuple[Tally, Decision]:
    """A subject's tally and the decision it leads to: what the vote service stores."""
    counted = tally(votes, p_ml)
    decision = decide(
        counted.posterior,
        views=counted.weighted_views,
        n_votes=counted.n_votes,
        n_none_votes=counted.n_none_votes,
        threshold=rules.retire_threshold,
        class_thresholds=class_thresholds,
        min_views=rules.retire_min_views,
        close_at_votes=rules.close_at_votes,
        none_votes_to_discovery=rules.none_votes_to_discovery,
    )
    return counted, decision


def ready_for_promotion(
    confusion: Confusion, classes_to_master: Sequence[str], *, min_alpha: float, min_gold: int
) -> bool:
    """Every class is ready (ClassSkill.ready: alpha >= min_alpha on >= min_gold gold
    subjects of that class)."""
    if not classes_to_master:
        return False
    return all(
        class_skill(confusion, name, min_alpha=min_alpha, min_gold=min_gold).ready
        for name in classes_to_master
    )
