"""Labelling rules as read from settings: consensus thresholds, levels, gold rate.

Settings hold the numbers (one place); this module gives them names and types so the
services, selectors and pure consensus functions never read settings directly.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings

from ml.classes import NONE_OF_THE_ABOVE
from webapp.labeling.models import GlitchClass


@dataclass(frozen=True)
class ConsensusRules:
    retire_threshold: float  # retire when max W exceeds this (per-class overrides win)
    retire_min_views: int  # ... and at least this many non-None_of_the_Above votes exist
    close_at_votes: int  # stop collecting votes at this many (all answers)
    none_votes_to_discovery: int  # this many None_of_the_Above votes -> discovery queue
    prior_alpha: float  # assumed accuracy of a volunteer without gold history
    prior_weight: float  # how many gold answers that assumption is worth


@dataclass(frozen=True)
class PromotionRules:
    alpha: float  # every class the current level introduced needs alpha >= this
    min_gold: int  # ... measured on at least this many gold subjects of that class


def consensus_rules() -> ConsensusRules:
    return ConsensusRules(
        retire_threshold=settings.GLITCHLAB_RETIRE_THRESHOLD,
        retire_min_views=settings.GLITCHLAB_RETIRE_MIN_VIEWS,
        close_at_votes=settings.GLITCHLAB_CLOSE_AT_VOTES,
        none_votes_to_discovery=settings.GLITCHLAB_NONE_VOTES_TO_DISCOVERY,
        prior_alpha=settings.GLITCHLAB_PRIOR_ALPHA,
        prior_weight=settings.GLITCHLAB_PRIOR_WEIGHT,
    )


def promotion_rules() -> PromotionRules:
    return PromotionRules(
        alpha=settings.GLITCHLAB_PROMOTION_ALPHA, min_gold=settings.GLITCHLAB_PROMOTION_MIN_GOLD
    )


def gold_rate() -> float:
    return settings.GLITCHLAB_GOLD_RATE


def levels() -> list[list[str]]:
    """Classes each level adds; level 1 is levels()[0].

    Classes accepted at run time (discovery's new classes: active in the class table but in
    no configured level) join the top level, as Gravity Spy offered new classes to its most
    experienced volunteers first.
    """
    configured = [list(names) for names in settings.GLITCHLAB_LEVELS]
    listed = {name for names in configured for name in names} | {NONE_OF_THE_ABOVE}
    accepted = (
        GlitchClass.objects.filter(status=GlitchClass.Status.ACTIVE)
        .exclude(name__in=listed)
        .values_list("name", flat=True)
    )
    configured[-1].extend(accepted)
    return configured


def max_level() -> int:
    return len(levels())


def classes_new_at_level(level: int) -> list[str]:
    all_levels = levels()
    return list(all_levels[level - 1]) if 1 <= level <= len(all_levels) else []


def classes_unlocked_at_level(level: int) -> list[str]:
    """Class names a volunteer of this level may choose, None_of_the_Above included."""
    names: list[str] = []
    for added in levels()[: max(level, 1)]:
        names.extend(added)
    return [*names, NONE_OF_THE_ABOVE]


def level_of_class(name: str) -> int | None:
    for index, added in enumerate(levels(), start=1):
        if name in added:
            return index
    return None
