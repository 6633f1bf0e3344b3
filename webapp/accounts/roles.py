"""The three roles, as Django groups created by migration: volunteer, reviewer, admin."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser, User

VOLUNTEER = "volunteer"
REVIEWER = "reviewer"
ADMIN = "admin"
ROLES = (VOLUNTEER, REVIEWER, ADMIN)


def has_role(user: User | AnonymousUser, role: str) -> bool:
    if not user.is_authenticated:
        return False
    if getattr(user, "is_superuser", False):
        return True
    return user.groups.filter(name=role).exists()


def is_reviewer(user: User | AnonymousUser) -> bool:
    return has_role(user, REVIEWER) or has_role(user, ADMIN)
