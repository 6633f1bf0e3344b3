"""The signed-in user of a view that only a signed-in user reaches (login_required, a role
check, REST framework's IsAuthenticated or a role permission): a User, never the
AnonymousUser. Tells the type checker what the view's guard already made sure of."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.http import HttpRequest
from rest_framework.exceptions import NotAuthenticated
from rest_framework.request import Request


class SignedInRequest(HttpRequest):
    """The request of a Django view behind login_required or a role check (django-stubs'
    pattern: an annotation only; Django builds its ordinary HttpRequest)."""

    user: User


def api_user(request: Request) -> User:
    """The caller of an API view behind IsAuthenticated or a role permission. (REST
    framework's decorators want the view's request typed Request, so it is narrowed here.)"""
    user = request.user
    if not user.is_authenticated:  # the view's permission class already refused it
        raise NotAuthenticated
    return user
