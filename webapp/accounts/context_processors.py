"""Template flags for the navigation bar."""

from __future__ import annotations

from django.http import HttpRequest

from webapp.accounts.roles import ADMIN, has_role, is_reviewer


def roles(request: HttpRequest) -> dict[str, bool]:
    user = request.user
    return {
        "user_is_reviewer": user.is_authenticated and is_reviewer(user),
        "user_is_admin": user.is_authenticated and has_role(user, ADMIN),
    }
