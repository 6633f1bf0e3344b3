"""The three roles, as Django groups created by migration: volunteer, reviewer, admin."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser, User
from django.db.models import Case, CharField, Exists, OuterRef, Q, Value, When

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


def role_shown(user_field: str) -> Case:
    """SQL, to annotate rows that name a user by the foreign key `user_field` (a comment's
    "author"): the role a page shows beside the name, "admin" (the group, or a superuser:
    has_role), "reviewer", or "" for a volunteer. Part of the rows' own statement, so a
    page of comments asks nothing more per author."""

    def member_of(role: str) -> Exists:
        groups = User.groups.through.objects.filter(
            user_id=OuterRef(f"{user_field}_id"), group__name=role
        )
        return Exists(groups)

    return Case(
        When(Q(**{f"{user_field}__is_superuser": True}) | Q(member_of(ADMIN)), then=Value(ADMIN)),
        When(member_of(REVIEWER), then=Value(REVIEWER)),
        default=Value(""),
        output_field=CharField(),
    )
