"""A refused comment's text, kept in the session and shown again in that glitch's comment
form until a comment on it is posted: a refusal (too long, too many a minute, a glitch
that vanished) must not lose what the volunteer wrote. One draft per session."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.contrib.sessions.backends.base import SessionBase
from django.urls import reverse

from webapp.cache_counts import count_in_window

KEY = "talk_draft"
# A draft is kept to this many characters: a comment may have 1,000, and a hostile post of
# megabytes must not be written into the session table.
MAX = 5000


# Drafts kept for posts without a session (one that ended while the comment was typed), per
# client address and hour: each is a session row a script could make by the thousand.
ANONYMOUS_PER_HOUR = 10


def anonymous_allowed(address: str | None) -> bool:
    """Whether a draft may be kept for one more post without a session from this address
    this hour (counted here; fixed windows on the shared cache, failing open on an outage,
    as the sign-up limit does)."""
    if address is None:
        return True
    count = count_in_window(f"talk-drafts:{address}", window_s=3600, limit_name="anonymous drafts")
    return count is None or count <= ANONYMOUS_PER_HOUR


def keep(session: SessionBase, subject_id: int, text: str, *, anonymous: bool = False) -> None:
    """`anonymous`: kept for a post without a session (one that ended while the comment was
    typed), which the next login takes over (at_login)."""
    session[KEY] = {"subject": subject_id, "text": text[:MAX], "anonymous": anonymous}


def at_login(session: SessionBase, next_url: str) -> None:
    """A login keeps the session's data, so a draft kept without a session went to whoever
    logged in next on that browser (a shared computer: one volunteer's words in the next
    one's box). It is kept only for the login that goes on to its glitch's thread (the page
    the login was sent from after the post); any other login drops it. Someone who logs in
    on the very page left open for the writer still gets it: the text was written to be
    posted in public."""
    draft = session.get(KEY)
    if not (isinstance(draft, dict) and draft.get("anonymous")):
        return
    thread = reverse("labeling:subject_detail", args=[draft.get("subject")])
    if urlsplit(next_url).path == thread:
        session[KEY] = {**draft, "anonymous": False}
    else:
        del session[KEY]


def of(session: SessionBase, subject_id: int) -> str:
    """The draft for this glitch's form, or ''."""
    draft = session.get(KEY)
    if isinstance(draft, dict) and draft.get("subject") == subject_id:
        return str(draft.get("text", ""))
    return ""


def drop(session: SessionBase, subject_id: int) -> None:
    """Called once a comment on the glitch is posted: its draft has done its work."""
    if of(session, subject_id):
        del session[KEY]
