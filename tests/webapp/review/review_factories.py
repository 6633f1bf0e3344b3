"""Reviewers, retired subjects with votes, and a finished audit, for the review tests."""

from __future__ import annotations

from django.contrib.auth.models import Group
from webapp_factories import SubjectFactory, UserFactory, glitch_class, gold_subject

from webapp.accounts.roles import REVIEWER, VOLUNTEER
from webapp.labeling.models import Classification, Subject
from webapp.review.models import AuditRun, Suspect


def reviewer(username: str = "rita"):
    user = UserFactory(username=username)
    user.groups.add(Group.objects.get_or_create(name=REVIEWER)[0])
    return user


def volunteer(username: str = "vic", gold_confusion: dict | None = None):
    user = UserFactory(username=username, profile__gold_confusion=gold_confusion or {})
    user.groups.add(Group.objects.get_or_create(name=VOLUNTEER)[0])
    return user


def retired_subject(label: str, **kwargs) -> Subject:
    return SubjectFactory(
        status=Subject.Status.RETIRED, retired_label=glitch_class(label), **kwargs
    )


def vote(user, subject: Subject, answer: str, weight: dict | None = None) -> Classification:
    gold = subject.is_gold
    return Classification.objects.create(
        volunteer=user,
        subject=subject,
        glitch_class=glitch_class(answer),
        weight=weight or {},
        was_gold=gold,
        was_correct=(answer == subject.gold_label.name) if gold else None,
    )


def finished_audit(*rows: tuple[Subject, str, str], score: float = 0.9) -> list[Suspect]:
    """A succeeded audit whose suspects are (subject, given, suggested), in this order."""
    run = AuditRun.objects.create(status=AuditRun.Status.SUCCEEDED, n_subjects=len(rows))
    return [
        Suspect.objects.create(
            run=run,
            subject=subject,
            rank=rank,
            given_label=given,
            suggested_label=suggested,
            score=score - 0.01 * rank,
            is_issue=True,
            self_confidence=1 - score,
            is_gold=subject.is_gold,
            probabilities={suggested: score, given: 1 - score - 0.02, "No_Glitch": 0.02},
        )
        for rank, (subject, given, suggested) in enumerate(rows)
    ]


__all__ = ["gold_subject", "glitch_class"]
