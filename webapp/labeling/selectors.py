"""Reads of the labelling app: the volunteer's queue, their classes and progress."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Prefetch, Q, QuerySet, prefetch_related_objects

from webapp.labeling import config, consensus
from webapp.labeling.models import (
    Classification,
    GlitchClass,
    GlitchClassExample,
    Subject,
    SubjectImage,
    VolunteerProfile,
)


def _profile_of(volunteer: AbstractBaseUser) -> VolunteerProfile:
    """The volunteer's profile, or an unsaved level-1 one for an account that never voted."""
    profile = VolunteerProfile.objects.filter(user=volunteer).first()
    return profile if profile is not None else VolunteerProfile(user_id=volunteer.pk)


def glitch_classes_for_level(*, level: int) -> list[GlitchClass]:
    """The active classes a volunteer of this level may choose, in level order, with
    None_of_the_Above last."""
    names = config.classes_unlocked_at_level(level)
    classes = GlitchClass.objects.filter(
        name__in=names, status=GlitchClass.Status.ACTIVE
    ).prefetch_related(Prefetch("examples", queryset=GlitchClassExample.objects.order_by("pk")))
    rows = {c.name: c for c in classes}
    return [rows[name] for name in names if name in rows]


def glitch_classes_for_volunteer(*, volunteer: AbstractBaseUser) -> list[GlitchClass]:
    return glitch_classes_for_level(level=_profile_of(volunteer).level)


def _images_in_order() -> Prefetch:
    return Prefetch("images", queryset=SubjectImage.objects.order_by("duration"))


def _with_images(queryset: QuerySet[Subject]) -> QuerySet[Subject]:
    return queryset.prefetch_related(_images_in_order())


def subject_next_for_volunteer(
    *,
    volunteer: AbstractBaseUser,
    exclude_ids: Iterable[int] = (),
    profile: VolunteerProfile | None = None,
) -> Subject | None:
    """The next subject to show: fits the volunteer's level, not yet answered by them,
    still collecting votes; highest priority first, with gold mixed in at GLITCHLAB_GOLD_RATE.

    exclude_ids lets the page ask for the subject after the one on screen (to preload it);
    pass the volunteer's profile when it is in hand (a vote just saved it).
    """
    if profile is None:
        profile = _profile_of(volunteer)
    level = profile.level
    # Deterministic mixing: serve gold while the share of gold among the volunteer's
    # answers (counting this one) is below the configured rate.
    n_gold = consensus.gold_answers(profile.gold_confusion)
    gold_turn = n_gold < config.gold_rate() * (profile.n_classified + 1)
    unlocked = set(config.classes_unlocked_at_level(level))
    gold = Q(
        role=Subject.Role.GOLD,
        gold_label_id__in=[row.pk for row in config.class_table() if row.name in unlocked],
    )
    pool = Q(role=Subject.Role.POOL, level__lte=level)
    not_wanted = Q(pk__in=Classification.objects.filter(volunteer=volunteer).values("subject_id"))
    excluded = [pk for pk in exclude_ids if 0 < pk <= MAX_ID]
    if excluded:
        not_wanted |= Q(pk__in=excluded)
    for role in (gold, pool) if gold_turn else (pool, gold):
        queue = (
            Subject.objects.filter(role, ~not_wanted, status=Subject.Status.ACTIVE)
            .order_by("-priority", "pk")  # the order of the partial index "queue_order"
            .only(*QUEUE_FIELDS)
        )
        chosen = _pick_spread(queue, volunteer)
        if chosen is not None:
            return chosen
    return None


# What the queue reads of a subject: what the page shows (SubjectToLabelSerializer) and
# the priority, not the posterior and the other columns a volunteer never sees.
QUEUE_FIELDS = ("id", "external_id", "ifo", "gps_time", "priority")


# Volunteers who would get the same subject (equal top priority) are spread over up to this
# many of them, by account: otherwise every concurrent volunteer queues on one subject's row
# lock and, once it retires, the rest of their votes on it are wasted.
SPREAD_TIES_OVER = 16


def _pick_spread(queryset: QuerySet[Subject], volunteer: AbstractBaseUser) -> Subject | None:
    candidates = list(queryset[:SPREAD_TIES_OVER])
    if not candidates:
        return None
    ties = [c for c in candidates if c.priority == candidates[0].priority]
    chosen = ties[(volunteer.pk or 0) % len(ties)]
    prefetch_related_objects([chosen], _images_in_order())
    return chosen


MAX_ID = 2**63 - 1  # a larger id from a URL would overflow PostgreSQL's bigint


def subject_get(*, subject_id: int) -> Subject | None:
    if not 0 < subject_id <= MAX_ID:
        return None
    return (
        _with_images(Subject.objects.select_related("gold_label", "retired_label"))
        .filter(pk=subject_id)
        .first()
    )


def subject_vote_counts(*, subject: Subject) -> dict[str, int]:
    counts: dict[str, int] = {}
    for name in subject.classifications.values_list("glitch_class__name", flat=True):
        counts[name] = counts.get(name, 0) + 1
    return counts


def subject_sample_public() -> Subject | None:
    """A subject an anonymous visitor may look at (never gold: that would give answers away)."""
    return Subject.objects.exclude(role=Subject.Role.GOLD).order_by("-views", "pk").first()


@dataclass(frozen=True)
class ClassSkill:
    name: str
    gold_answers: int
    alpha: float | None


@dataclass(frozen=True)
class VolunteerProgress:
    level: int
    max_level: int
    n_classified: int
    n_gold: int
    n_gold_correct: int
    # The classes the current level introduced, which decide the next promotion.
    learning: list[ClassSkill]
    min_alpha: float
    min_gold: int


def volunteer_progress(
    *, volunteer: AbstractBaseUser, profile: VolunteerProfile | None = None
) -> VolunteerProgress:
    """From the profile alone (pass it when in hand): the gold counts are the confusion
    matrix's total and diagonal, the vote count is kept on the profile."""
    if profile is None:
        profile = _profile_of(volunteer)
    level = profile.level
    confusion = profile.gold_confusion
    rules = config.promotion_rules()
    learning = [
        ClassSkill(
            name=name,
            gold_answers=consensus.gold_answers_of_class(confusion, name),
            alpha=consensus.alpha(confusion, name),
        )
        for name in (config.classes_new_at_level(level) if level < config.max_level() else [])
    ]
    return VolunteerProgress(
        level=level,
        max_level=config.max_level(),
        n_classified=profile.n_classified,
        n_gold=consensus.gold_answers(confusion),
        n_gold_correct=consensus.gold_answers_correct(confusion),
        learning=learning,
        min_alpha=rules.alpha,
        min_gold=rules.min_gold,
    )


def field_guide() -> list[tuple[GlitchClass, int | None]]:
    """Every active class with its examples and the level that unlocks it."""
    classes = GlitchClass.objects.exclude(status=GlitchClass.Status.DEPRECATED).prefetch_related(
        Prefetch("examples", queryset=GlitchClassExample.objects.order_by("pk"))
    )
    return [(c, config.level_of_class(c.name)) for c in classes]
