"""Login limits with django-axes: what GlitchLab adds to it (settings: "Logins").

axes counts failed password tries per (username, client address) and, once a pair reaches
the limit, refuses that pair's logins without checking the password until the cool-off has
passed. It hooks into django.contrib.auth itself (the first authentication backend below and
the user_login_failed signal), so the login page, /admin/login/ and POST /api/token/ are all
covered. Here: who the client is behind a trusted proxy, logins made from code, a cache
outage, and the 429 answers.
"""

from __future__ import annotations

import ipaddress
import logging
from typing import Any

from axes.backends import AxesStandaloneBackend
from axes.handlers.cache import AxesCacheHandler
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.models import User
from django.forms import Form
from django.forms.utils import ErrorDict
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

logger = logging.getLogger(__name__)


def too_many_tries() -> str:
    minutes = max(1, round(settings.AXES_COOLOFF_TIME.total_seconds() / 60))
    return (
        "Too many failed sign-in attempts for this username from your network. "
        f"Wait {minutes} minutes after the last attempt and try again, or sign in from "
        "another network."
    )


def _networks() -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    """The trusted proxies' networks; one written IPv4-mapped (::ffff:10.0.0.2, ::ffff:10.0.0.0/104:
    the form a dual-stack socket reports) as the IPv4 network it maps, as _address reads
    the addresses it is compared with."""
    networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = []
    for text in settings.GLITCHLAB_TRUSTED_PROXIES:
        network = ipaddress.ip_network(text, strict=False)
        mapped = network.network_address.ipv4_mapped if network.version == 6 else None
        if mapped is not None and network.prefixlen >= 96:
            network = ipaddress.ip_network(f"{mapped}/{network.prefixlen - 96}", strict=False)
        networks.append(network)
    return networks


# An IPv6 client counts by its network of this many leading bits: one ordinary allocation (a
# home, a phone, a rented server) is a /64 of 2^64 addresses, so a client counted by address
# would pass every per-address limit by taking a new one for each request.
IPV6_CLIENT_PREFIX = 64


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The address in `text`, or None; an IPv4-mapped IPv6 one (::ffff:a.b.c.d, what a
    dual-stack socket reports for an IPv4 peer) as its IPv4 address."""
    try:
        address = ipaddress.ip_address(text.strip())
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _counted(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str:
    """What the limits count a client by: an IPv4 address itself, an IPv6 one's /64,
    written as the network's first address ("2001:db8::" for 2001:db8::5), not as
    "2001:db8::/64": axes stores it in a GenericIPAddressField, which on PostgreSQL goes
    through ipaddress.ip_address and refuses a network."""
    if isinstance(address, ipaddress.IPv6Address):
        network = ipaddress.IPv6Network((address, IPV6_CLIENT_PREFIX), strict=False)
        return str(network.network_address)
    return str(address)


def client_address(request: HttpRequest) -> str | None:
    """Who the request came from, as every per-client limit counts it: the login limit
    (axes' AXES_CLIENT_IP_CALLABLE), sign-ups, Talk's drafts without a session. An IPv4
    address, or an IPv6 client's /64 (_counted).

    REMOTE_ADDR, unless it is a trusted proxy (GLITCHLAB_TRUSTED_PROXIES): then
    X-Forwarded-For is read from the right, each trusted proxy having appended the address
    it got the request from, and the first address that is not a trusted proxy is the
    client. Entries further left came from the client and could say anything."""
    remote = _address(request.META.get("REMOTE_ADDR", ""))
    if remote is None:
        return None
    networks = _networks()
    if not any(remote in network for network in networks):
        return _counted(remote)
    hops = request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
    for hop in reversed(hops):
        address = _address(hop)
        if address is None:  # garbage where a trusted proxy would have written an address
            break
        if not any(address in network for network in networks):
            return _counted(address)
        remote = address
    return _counted(remote)


class LoginLimitBackend(AxesStandaloneBackend):
    """axes' backend, listed first in AUTHENTICATION_BACKENDS: refuses a locked pair.

    A login without a request (manage.py, a test client's login()) comes from code on the
    server, not from a client: there is no address to count, so it is let through to the
    other backends instead of raising as axes does."""

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> User | None:
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


class FailOpenCacheHandler(AxesCacheHandler):
    """axes' cache handler (Redis in production), failing open: while the cache does not
    answer, tries are neither counted nor refused, so a Redis restart locks nobody out and
    the login page keeps working (logged as a warning)."""

    def get_failures(self, request: HttpRequest, credentials: dict | None = None) -> int:
        try:
            return super().get_failures(request, credentials)
        except Exception:  # noqa: BLE001 - any cache outage
            logger.warning("login limit: cache unavailable, not limiting", exc_info=True)
            return 0

    def user_login_failed(
        self, sender: Any, credentials: dict, request: HttpRequest | None = None, **kwargs: Any
    ) -> None:
        try:
            super().user_login_failed(sender, credentials, request, **kwargs)
        except Exception:  # noqa: BLE001 - any cache outage
            logger.warning("login limit: cache unavailable, try not counted", exc_info=True)

    def user_logged_in(self, sender: Any, request: HttpRequest, user: User, **kwargs: Any) -> None:
        try:
            super().user_logged_in(sender, request, user, **kwargs)
        except Exception:  # noqa: BLE001 - any cache outage
            logger.warning("login limit: cache unavailable, tries not cleared", exc_info=True)


def locked_out(request: HttpRequest) -> bool:
    """True when axes refused this request's login, or this try used up the pair's tries."""
    return bool(getattr(request, "axes_locked_out", False))


def locked_out_page(request: HttpRequest, form: Form | None = None) -> HttpResponse:
    """The login page with the lockout message and HTTP 429; the password is not checked."""
    form = form if form is not None else AuthenticationForm(request)
    form._errors, form.cleaned_data = ErrorDict(), {}  # type: ignore[attr-defined]  # private
    form.add_error(None, too_many_tries())
    return render(request, "accounts/login.html", {"form": form}, status=429)


def lockout_response(
    request: HttpRequest,
    original_response: HttpResponse | None = None,
    credentials: dict | None = None,
) -> HttpResponse:
    """axes' AXES_LOCKOUT_CALLABLE (its middleware calls it for a refused login): our own
    429 when a view already gave one, else JSON for the API and the login page for pages
    (the admin login)."""
    if original_response is not None and original_response.status_code == 429:
        return original_response
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": too_many_tries()}, status=429)
    return locked_out_page(request)
