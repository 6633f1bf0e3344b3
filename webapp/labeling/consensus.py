"""Gravity Spy's weighted crowd + ML consensus and promotion rule, as pure functions (no ORM).

A volunteer's skill is their confusion matrix on gold subjects,
    confusion[true class][answered class] = count.
Normalising each *column* (an answer) over the true classes gives
    P(true class | the volunteer answered this),
and that column is the vote's weight vector W_i. The diagonal of the column-normalised
matrix is the volunteer's alpha for a class (how often that answer is right).

A subject's score over classes is
    W = (sum_i W_i + p_ML) / (n + 1)        with an active model's prediction p_ML
    W = (sum_i W_i) / n                     when no model has predicted this subject
n counts the votes that name a class. Without a prediction we divide by n (not n + 1):
a missing model vote must not pull every class down and make retirement impossible.
None_of_the_Above votes add no W_i and are not views; enough of them send the subject to
the discovery queue instead.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ml.classes import NONE_OF_THE_ABOVE

Confusion = Mapping[str, Mapping[str, float]]  # {true class: {answered class: count}}
Scores = dict[str, float]  # {class name: score}

ACTIVE, RETIRED, CLOSED, DISCOVERY = "active", "retired", "closed", "discovery"


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


def alpha(confusion: Confusion, name: str) -> float | None:
    """Diagonal of the column-normalised confusion matrix; None if never answered `name`."""
    column_total = sum(float(row.get(name, 0.0)) for row in confusion.values())
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
    """W = (sum W_i + p_ML) / (n + 1), or sum W_i / n without a model prediction."""
    votes = list(weights) + ([p_ml] if p_ml is not None else [])
    if not votes:
        return {}
    total: Scores = {}
    for vector in votes:
        for name, value in vector.items():
            total[name] = total.get(name, 0.0) + float(value)
    return {name: value / len(votes) for name, value in total.items()}


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


def ready_for_promotion(
    confusion: Confusion, classes_to_master: Sequence[str], *, min_alpha: float, min_gold: int
) -> bool:
    """Every class has at least min_gold gold answers and alpha >= min_alpha."""
    if not classes_to_master:
        return False
    for name in classes_to_master:
        if gold_answers_of_class(confusion, name) < min_gold:
            return False
        value = alpha(confusion, name)
        if value is None or value < min_alpha:
            return False
    return True
