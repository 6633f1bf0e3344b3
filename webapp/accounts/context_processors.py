"""Template flags for the navigation bar."""

from __future__ import annotations

from django.http import HttpRequest

from webapp.accounts.roles import is_reviewer


def roles(request: HttpRequest) -> dict[str, bool]:
    user = request.user
    return {"user_is_reviewer": user.is_authenticated and is_reviewer(user)}
