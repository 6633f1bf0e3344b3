"""A refused comment's text, kept in the session and shown again in that glitch's comment
form until a comment on it is posted: a refusal (too long, too many a minute, a glitch
that vanished) must not lose what the volunteer wrote. One draft per session."""

from __future__ import annotations

from django.contrib.sessions.backends.base import SessionBase
from django.urls import reverse

from webapp.accounts import kept_posts

KEY = "talk_draft"
# A draft is kept to this many characters: a comment may have 1,000, and a hostile post of
# megabytes must not be written into the session table.
MAX = 5000


def keep(session: SessionBase, subject_id: int, text: str, *, anonymous: bool = False) -> None:
    """`anonymous`: kept for a post without a session (one that ended while the comment was
    typed), for the login that goes on to its glitch's thread only (kept_posts.at_login:
    on a shared computer, any other login drops it). Someone who logs in on the very login
    page left open for the writer still gets it: the text was written to be posted in
    public."""
    draft = {"subject": subject_id, "text": text[:MAX]}
    if anonymous:
        thread = reverse("labeling:subject_detail", args=[subject_id])
        kept_posts.keep(session, KEY, draft, page=thread)
    else:
        session[KEY] = draft
        kept_posts.claimed(session, KEY)


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
