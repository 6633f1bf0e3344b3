"""API tokens: issued at POST /api/token/, valid for GLITCHLAB_TOKEN_TTL_DAYS, revoked at
logout. The check itself runs in authentication.py (one statement on every API vote)."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import User
from django.utils import timezone
from rest_framework.authtoken.models import Token


def token_lifetime() -> timedelta:
    return timedelta(days=settings.GLITCHLAB_TOKEN_TTL_DAYS)


def token_valid_since() -> datetime:
    """Tokens created before this moment have expired."""
    return timezone.now() - token_lifetime()


def token_issue(*, user: User) -> Token:
    """The user's token (one per user, as DRF keeps them); an expired one is replaced by a
    new key, so asking again after expiry is how a client renews."""
    token = Token.objects.filter(user=user).first()
    if token is not None and token.created < token_valid_since():
        token.delete()
        token = None
    return token if token is not None else Token.objects.create(user=user)


def token_revoke(*, user: User) -> int:
    """Delete the user's token (logout); returns how many were deleted."""
    deleted, _ = Token.objects.filter(user=user).delete()
    return deleted
