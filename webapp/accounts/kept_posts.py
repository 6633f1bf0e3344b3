"""What a form posted without a session keeps for after the login (login_required_post's
`keep`): a Talk comment's text (webapp.talk.drafts), a cluster sheet's ticks and words
(webapp.discovery.sheet_kept). Django's login keeps the session's data, so whatever was kept
went to whoever logged in next on that browser (a shared computer: one volunteer's words in
the next one's page). Kept here, it goes only to the login that goes on to its page (the one
the login page was sent to after the post), and, where the post names whose it is (a sheet's
batch), only to that account; any other login drops it (at_login, on user_logged_in).

Each post kept is a session row that anyone may make: at most ANONYMOUS_PER_HOUR an hour
from one client address, all kinds together (anonymous_allowed)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from django.contrib.sessions.backends.base import SessionBase

from webapp.cache_counts import count_in_window

# The session key of the posts kept without a session: {their session key: {"page": the
# path whose login takes them, "user": the account they are for, or None for anyone}}.
INDEX = "kept_over_login"

# Posts kept without a session, per client address and hour: each is a session row a script
# could make by the thousand.
ANONYMOUS_PER_HOUR = 10


def anonymous_allowed(address: str | None) -> bool:
    """Whether one more post without a session may be kept from this address this hour
    (counted here; fixed windows on the shared cache, failing open on an outage, as the
    sign-up limit does)."""
    if address is None:
        return True
    count = count_in_window(f"talk-drafts:{address}", window_s=3600, limit_name="anonymous drafts")
    return count is None or count <= ANONYMOUS_PER_HOUR


def keep(
    session: SessionBase, key: str, value: Any, *, page: str, user_id: int | None = None
) -> None:
    """`value` under session[key] for the login that goes on to `page` (a path; a query or
    fragment is ignored) and, given `user_id`, is that account's."""
    session[key] = value
    session[INDEX] = {
        **_index(session),
        key: {"page": urlsplit(page).path, "user": user_id},
    }


def claimed(session: SessionBase, key: str) -> None:
    """session[key] is now a signed-in account's own (a refused comment's draft): no login
    hands it on or drops it."""
    index = _index(session)
    if key in index:
        del index[key]
        session[INDEX] = index


def at_login(session: SessionBase, *, user_id: int, next_url: str) -> None:
    """A login: each post kept without a session stays (now the account's) if the login
    goes on to its page and the account is the one it is for; any other is dropped."""
    index = _index(session)
    if not index:
        return
    path = urlsplit(next_url).path
    for key, kept in index.items():
        if not (kept.get("page") == path and kept.get("user") in (None, user_id)):
            session.pop(key, None)
    del session[INDEX]


def _index(session: SessionBase) -> dict[str, dict[str, Any]]:
    index = session.get(INDEX)
    if not isinstance(index, dict):
        return {}
    return {k: v for k, v in index.items() if isinstance(v, dict)}
