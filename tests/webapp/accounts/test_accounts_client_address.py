"""Who the client is: REMOTE_ADDR, or behind trusted proxies the nearest untrusted hop; an
IPv6 client by its /64, an IPv4-mapped one by its IPv4 address."""

from __future__ import annotations

import pytest
from django.test import RequestFactory

from webapp.accounts.login_limit import client_address


def _address(remote: str, forwarded: str | None = None) -> str | None:
    extra = {"HTTP_X_FORWARDED_FOR": forwarded} if forwarded is not None else {}
    return client_address(RequestFactory().get("/", REMOTE_ADDR=remote, **extra))


@pytest.mark.parametrize(
    ("trusted", "remote", "forwarded", "client"),
    [
        ([], "203.0.113.9", "192.0.2.1", "203.0.113.9"),  # no proxy trusted: header ignored
        (["10.0.0.2"], "203.0.113.9", "192.0.2.1", "203.0.113.9"),  # not from the proxy
        (["10.0.0.2"], "10.0.0.2", "203.0.113.9", "203.0.113.9"),
        (["10.0.0.2"], "10.0.0.2", "192.0.2.1, 203.0.113.9", "203.0.113.9"),  # forged left part
        (["10.0.0.0/8"], "10.0.0.2", "192.0.2.1, 203.0.113.9, 10.1.1.1", "203.0.113.9"),  # chain
        (["10.0.0.2"], "10.0.0.2", " 2001:db8::5 ", "2001:db8::"),  # its /64
        (["10.0.0.2"], "10.0.0.2", "", "10.0.0.2"),  # the proxy itself (a health check)
        (["10.0.0.2"], "10.0.0.2", "not-an-address", "10.0.0.2"),
        (["172.16.0.0/12"], "172.18.0.5", "10.0.0.2, 172.18.0.9", "10.0.0.2"),
    ],
)
def test_client_address(settings, trusted, remote, forwarded, client):
    settings.GLITCHLAB_TRUSTED_PROXIES = trusted
    assert _address(remote, forwarded) == client


@pytest.mark.parametrize(
    ("trusted", "remote", "forwarded", "client"),
    [
        ([], "2001:db8::5", None, "2001:db8::"),
        ([], "2001:db8::ffff:ffff:ffff:ffff", None, "2001:db8::"),  # the same /64
        ([], "2001:db8:0:1::5", None, "2001:db8:0:1::"),  # the next /64: another client
        ([], "203.0.113.9", None, "203.0.113.9"),  # IPv4 as it was: no network
        ([], "203.0.113.10", None, "203.0.113.10"),
        ([], "::ffff:203.0.113.9", None, "203.0.113.9"),  # IPv4 on a dual-stack socket
        (["10.0.0.2"], "::ffff:10.0.0.2", "203.0.113.9", "203.0.113.9"),  # its proxy too
        # a proxy listed in the mapped form (the only one that matched a dual-stack socket's
        # REMOTE_ADDR before mapped addresses were read as IPv4) is still trusted
        (["::ffff:10.0.0.2"], "::ffff:10.0.0.2", "203.0.113.9", "203.0.113.9"),
        (["::ffff:10.0.0.0/104"], "10.1.2.3", "203.0.113.9", "203.0.113.9"),
        (["2001:db8:ff::/64"], "2001:db8:ff::1", "2001:db8:1:2:3:4:5:6", "2001:db8:1:2::"),
        # a proxy is trusted by its own address, not its /64: a neighbour is a client
        (["2001:db8:ff::1"], "2001:db8:ff::1", "2001:db8:ff::9", "2001:db8:ff::"),
        (["2001:db8:ff::1"], "2001:db8:ff::9", "203.0.113.9", "2001:db8:ff::"),
    ],
)
def test_an_ipv6_client_is_counted_by_its_64(settings, trusted, remote, forwarded, client):
    """One ordinary IPv6 allocation (a home, a phone, a rented server) is a /64 of 2^64
    addresses: counted by address, a client passed every per-address limit (logins,
    sign-ups, Talk's drafts) by taking a new address for each request."""
    settings.GLITCHLAB_TRUSTED_PROXIES = trusted
    assert _address(remote, forwarded) == client


def test_no_remote_address_is_no_address(settings):
    settings.GLITCHLAB_TRUSTED_PROXIES = ["10.0.0.2"]
    assert _address("", "203.0.113.9") is None
