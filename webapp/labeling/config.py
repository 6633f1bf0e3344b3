"""Labelling rules as read from settings: consensus thresholds, levels, gold rate.

Settings hold the numbers (one place); this module gives them names and types so the
services, selectors and pure consensus functions never read settings directly.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from ml.classes import NONE_OF_THE_ABOVE
from webapp.labeling import consensus
from webapp.labeling.models import GlitchClass

ConsensusRules = consensus.ConsensusRules


@dataclass(frozen=True)
class PromotionRules:
    alpha: float  # every class the current level introduced needs ClassSkill.alpha >= this
    min_gold: int  # ... measured on at least this many gold subjects of that class


def consensus_rules() -> ConsensusRules:
    """The consensus numbers from settings; ImproperlyConfigured if they would let trust
    nobody earned retire a subject (checked at start-up too: LabelingConfig.ready)."""
    try:
        return ConsensusRules(
            retire_threshold=settings.GLITCHLAB_RETIRE_THRESHOLD,
            retire_min_views=settings.GLITCHLAB_RETIRE_MIN_VIEWS,
            close_at_votes=settings.GLITCHLAB_CLOSE_AT_VOTES,
            none_votes_to_discovery=settings.GLITCHLAB_NONE_VOTES_TO_DISCOVERY,
            prior_alpha=settings.GLITCHLAB_PRIOR_ALPHA,
            prior_weight=settings.GLITCHLAB_PRIOR_WEIGHT,
            min_gold_to_weigh=settings.GLITCHLAB_MIN_GOLD_TO_WEIGH,
            level_weights=tuple(settings.GLITCHLAB_LEVEL_WEIGHTS),
        )
    except ValueError as error:
        raise ImproperlyConfigured(f"GLITCHLAB consensus settings: {error}") from None


def promotion_rules() -> PromotionRules:
    return PromotionRules(
        alpha=settings.GLITCHLAB_PROMOTION_ALPHA, min_gold=settings.GLITCHLAB_PROMOTION_MIN_GOLD
    )


def new_class_gold_min_volunteers() -> int:
    """Distinct volunteers who must have given a glitch a proposed class before accepting
    the class makes that glitch one of its gold subjects."""
    return max(int(settings.GLITCHLAB_NEW_CLASS_GOLD_MIN_VOLUNTEERS), 1)


def gold_rate() -> float:
    return settings.GLITCHLAB_GOLD_RATE


@dataclass(frozen=True)
class ClassRow:
    pk: int
    name: str
    status: str
    retire_threshold: float | None


_class_table: tuple[float, list[ClassRow]] | None = None  # (when read, rows)


def class_table() -> list[ClassRow]:
    """The class table in registry order, read at most once per GLITCHLAB_CLASS_CACHE_S
    seconds per process: every vote and queue request needs it, and it changes only when an
    admin accepts, rejects or deprecates a class (which clears this process's copy at once;
    other processes see the change within the TTL)."""
    global _class_table
    cached = _class_table
    now = time.monotonic()
    if cached is not None and now - cached[0] < settings.GLITCHLAB_CLASS_CACHE_S:
        return cached[1]
    rows = [
        ClassRow(*values)
        for values in GlitchClass.objects.values_list("pk", "name", "status", "retire_threshold")
    ]
    _class_table = (now, rows)  # one assignment: threads see the old or the new copy
    return rows


def forget_class_table() -> None:
    """Drop this process's copy of the class table: the next read goes to the database."""
    global _class_table
    _class_table = None


def _find(match: Callable[[ClassRow], bool]) -> ClassRow | None:
    row = next((row for row in class_table() if match(row)), None)
    if row is None:  # perhaps added by another process within the TTL: read the table again
        forget_class_table()
        row = next((row for row in class_table() if match(row)), None)
    return row


def class_row(name: str) -> ClassRow | None:
    """The class table's row of this class name, or None if there is no such class."""
    return _find(lambda row: row.name == name)


def class_name(pk: int) -> str:
    """The name of the class with this primary key."""
    row = _find(lambda row: row.pk == pk)
    if row is None:
        raise GlitchClass.DoesNotExist(f"no class with id {pk}")
    return row.name


def active_class_names() -> list[str]:
    return [row.name for row in class_table() if row.status == GlitchClass.Status.ACTIVE]


def class_retire_thresholds() -> dict[str, float]:
    """Per-class retirement thresholds that override GLITCHLAB_RETIRE_THRESHOLD."""
    return {
        row.name: row.retire_threshold for row in class_table() if row.retire_threshold is not None
    }


def levels() -> list[list[str]]:
    """Classes each level adds; level 1 is levels()[0].

    Classes accepted at run time (discovery's new classes: active in the class table but in
    no configured level) join the top level, as Gravity Spy offered new classes to its most
    experienced volunteers first.
    """
    configured = [list(names) for names in settings.GLITCHLAB_LEVELS]
    listed = {name for names in configured for name in names} | {NONE_OF_THE_ABOVE}
    configured[-1].extend(name for name in active_class_names() if name not in listed)
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
