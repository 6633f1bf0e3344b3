"""API tokens: issued at POST /api/token/, valid for GLITCHLAB_TOKEN_TTL_DAYS, revoked at
logout and when the password changes. The check itself runs in authentication.py (one
statement on every API vote)."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import User
from django.core.cache import cache
from django.utils import timezone
from rest_framework.authtoken.models import Token

from webapp.cache_counts import count_in_window, count_up, window_key

logger = logging.getLogger(__name__)


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


# --- sign-ups per client address -------------------------------------------------------

SIGNUP_WINDOW_S = 3600


def _signup_key(address: str) -> str:
    return window_key(f"signups:{address}", window_s=SIGNUP_WINDOW_S)


def signup_allowed(*, address: str | None) -> bool:
    """Whether one more account may be made from this address this hour
    (GLITCHLAB_SIGNUPS_PER_HOUR, fixed windows on the shared cache). No address, or a cache
    outage, lets it through (logged), as the login limit does."""
    if address is None:
        return True
    try:
        made = cache.get(_signup_key(address), 0)
    except Exception:  # noqa: BLE001 - any cache outage: fail open
        logger.warning("sign-up limit: cache unavailable, not limiting", exc_info=True)
        return True
    return int(made) < settings.GLITCHLAB_SIGNUPS_PER_HOUR


# Sign-up posts an hour from one address, per account it may make: a volunteer's typos
# fit, and a script cannot post the form (each a look-alike scan of every username, when
# the rest is valid) without end. Raising GLITCHLAB_SIGNUPS_PER_HOUR raises it too.
SIGNUP_TRIES_PER_ACCOUNT = 3


def signup_try_allowed(*, address: str | None) -> bool:
    """Counts one sign-up post from this address and says whether it may be read: at most
    SIGNUP_TRIES_PER_ACCOUNT x GLITCHLAB_SIGNUPS_PER_HOUR an hour, made or refused (fixed
    windows on the shared cache; no address, or a cache outage, lets it through, logged)."""
    if address is None:
        return True
    count = count_in_window(
        f"signup-tries:{address}", window_s=SIGNUP_WINDOW_S, limit_name="sign-up tries"
    )
    return count is None or count <= SIGNUP_TRIES_PER_ACCOUNT * settings.GLITCHLAB_SIGNUPS_PER_HOUR


def signup_counted(*, address: str | None) -> None:
    """Count an account made from this address (after it was made)."""
    if address is None:
        return
    try:
        count_up(_signup_key(address), timeout_s=2 * SIGNUP_WINDOW_S)
    except Exception:  # noqa: BLE001 - any cache outage: fail open
        logger.warning("sign-up limit: cache unavailable, not counted", exc_info=True)
