"""Login rate limit on Django's cache: failed password tries are counted per username and
client address, and per address alone, in fixed windows; over the limit a try is refused
without checking the password, so guessing costs the attacker time, not us CPU.

It hooks into django.contrib.auth itself (a first authentication backend that refuses,
and the user_login_failed signal that counts), so every login path is covered: the login
page, /admin/login/ and the API token endpoint; the first and last answer HTTP 429.

A cache outage fails open (logged): volunteers are never locked out because Redis restarts.
"""

from __future__ import annotations

import hashlib
import logging
import time

from django.conf import settings
from django.contrib.auth.signals import user_login_failed
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.dispatch import receiver
from django.http import HttpRequest

logger = logging.getLogger(__name__)

# One address may try several usernames (a shared lab NAT), but not endlessly.
PER_ADDRESS_FACTOR = 5


def _client_address(request: HttpRequest) -> str:
    # REMOTE_ADDR only: X-Forwarded-For is client-controlled unless a trusted proxy rewrites it.
    return request.META.get("REMOTE_ADDR", "") or "unknown"


def _keys(request: HttpRequest, username: str) -> list[tuple[str, int]]:
    window = int(time.time()) // settings.GLITCHLAB_LOGIN_WINDOW_S
    address = _client_address(request)
    user_digest = hashlib.sha256(f"{address}|{username.strip().lower()}".encode()).hexdigest()
    limit = settings.GLITCHLAB_LOGIN_MAX_FAILURES
    return [
        (f"login-fail:u:{window}:{user_digest[:32]}", limit),
        (f"login-fail:a:{window}:{address}", limit * PER_ADDRESS_FACTOR),
    ]


def login_blocked(request: HttpRequest, username: str) -> bool:
    """True when this address (and username) used up its failed tries in this window."""
    try:
        counts = cache.get_many([key for key, _ in _keys(request, username)])
    except Exception:  # noqa: BLE001 - any cache outage: fail open
        logger.warning("login rate limit: cache unavailable, not limiting", exc_info=True)
        return False
    return any(counts.get(key, 0) >= limit for key, limit in _keys(request, username))


def login_failed(request: HttpRequest, username: str) -> None:
    """Count one failed try against the address and the username."""
    for key, _ in _keys(request, username):
        try:
            if not cache.add(key, 1, timeout=settings.GLITCHLAB_LOGIN_WINDOW_S):
                cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.add(key, 1, timeout=settings.GLITCHLAB_LOGIN_WINDOW_S)
        except Exception:  # noqa: BLE001 - fail open, see login_blocked
            logger.warning("login rate limit: cache unavailable", exc_info=True)
            return


TOO_MANY_TRIES = "Too many failed sign-in attempts. Please wait a few minutes and try again."


class LoginRateLimitBackend:
    """Listed first in AUTHENTICATION_BACKENDS: refuses (PermissionDenied stops Django from
    asking the other backends) while the caller is over the limit; otherwise passes.

    Deliberately no get_user(): sessions and force_login() then name ModelBackend."""

    def authenticate(self, request, username=None, **credentials):
        if request is not None and login_blocked(request, str(username or "")):
            raise PermissionDenied(TOO_MANY_TRIES)
        return None


@receiver(user_login_failed, dispatch_uid="glitchlab-login-rate-limit")
def _count_failed_login(sender, credentials, request=None, **kwargs) -> None:
    if request is not None:
        login_failed(request, str(credentials.get("username") or ""))
