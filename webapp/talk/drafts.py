"""A refused comment's text, kept in the session and shown again in that glitch's comment
form until a comment on it is posted: a refusal (too long, too many a minute, a glitch
that vanished) must not lose what the volunteer wrote. One draft per session."""

from __future__ import annotations

from django.contrib.sessions.backends.base import SessionBase

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


def keep(session: SessionBase, subject_id: int, text: str) -> None:
    session[KEY] = {"subject": subject_id, "text": text[:MAX]}


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
