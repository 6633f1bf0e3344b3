"""API tokens: issued at POST /api/token/, valid for GLITCHLAB_TOKEN_TTL_DAYS, revoked at
logout and when the password changes. The check itself runs in authentication.py (one
statement on every API vote)."""

from __future__ import annotations

from collections.abc import Iterable
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
    Token.objects.filter(user=user, created__lt=token_valid_since()).delete()
    # get_or_create: when two requests of one user both found no token, the second one's
    # insert fails on the one-per-user constraint and it takes the first one's token.
    token, _ = Token.objects.get_or_create(user=user)
    return token


def token_revoke(*, user: User) -> int:
    """Delete the user's token (logout); returns how many were deleted."""
    deleted, _ = Token.objects.filter(user=user).delete()
    return deleted


def password_changes_on_save(*, user: User, update_fields: Iterable[str] | None) -> bool:
    """Whether saving `user` now stores another password hash than its row holds (set_password
    and save, the admin's password form, the password change page). Django's own rehash of
    an unchanged password at a login (check_password with an older hasher: the password alone
    saved, its raw value already forgotten) is not a change. A save of other fields, or of a
    new user, reads nothing."""
    if user.pk is None:
        return False
    if update_fields is not None:
        if "password" not in update_fields:
            return False
        if set(update_fields) == {"password"} and getattr(user, "_password", None) is None:
            return False  # AbstractBaseUser.check_password's hash upgrade
    stored = type(user).objects.filter(pk=user.pk).values_list("password", flat=True).first()
    return stored is not None and stored != user.password
