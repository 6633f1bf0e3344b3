"""Who the client is: REMOTE_ADDR, or behind trusted proxies the nearest untrusted hop."""

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
        (["10.0.0.2"], "10.0.0.2", " 2001:db8::5 ", "2001:db8::5"),
        (["10.0.0.2"], "10.0.0.2", "", "10.0.0.2"),  # the proxy itself (a health check)
        (["10.0.0.2"], "10.0.0.2", "not-an-address", "10.0.0.2"),
        (["172.16.0.0/12"], "172.18.0.5", "10.0.0.2, 172.18.0.9", "10.0.0.2"),
    ],
)
def test_client_address(settings, trusted, remote, forwarded, client):
    settings.GLITCHLAB_TRUSTED_PROXIES = trusted
    assert _address(remote, forwarded) == client


def test_no_remote_address_is_no_address(settings):
    settings.GLITCHLAB_TRUSTED_PROXIES = ["10.0.0.2"]
    assert _address("", "203.0.113.9") is None
