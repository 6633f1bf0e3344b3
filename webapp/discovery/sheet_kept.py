"""A cluster sheet posted by a volunteer whose session had ended: its ticks, label and new
class's words, kept for the sheet after the login (webapp.accounts.kept_posts, as Talk's
drafts): only a login that goes on to the sheet, by the volunteer whose batch it is, takes
it over; any other login on that browser drops it."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.sessions.backends.base import SessionBase
from django.http import QueryDict
from django.urls import reverse

from webapp.accounts import kept_posts
from webapp.discovery.models import Batch, ClassProposal
from webapp.labeling.selectors import MAX_ID

KEY = "discovery_sheet_kept"


def keep(session: SessionBase, batch_id: int, post: QueryDict, *, address: str | None) -> None:
    """What was sent, bounded, for a batch that waits, within the hourly count of posts kept
    without a session from `address` (each is a session row, and anyone may post here)."""
    if not 0 < batch_id <= MAX_ID:
        return
    owner = (
        Batch.objects.filter(pk=batch_id, submitted_at=None)
        .values_list("volunteer_id", flat=True)
        .first()
    )
    if owner is None or not kept_posts.anonymous_allowed(address):
        return
    name_max = ClassProposal._meta.get_field("name").max_length or 0
    typed_max = 2 * (ClassProposal._meta.get_field("description").max_length or 0)  # CRLFs
    sent = {
        "batch": batch_id,
        "selected": post.getlist("selected")[: settings.GLITCHLAB_BATCH_MAX],
        "choice": post.get("choice", "")[:80],
        "new_name": post.get("new_name", "")[:name_max],
        "new_description": post.get("new_description", "")[:typed_max],
    }
    kept_posts.keep(session, KEY, sent, page=reverse("discovery:sheet"), user_id=owner)


def take(session: SessionBase, batch: Batch | None) -> dict[str, Any] | None:
    """The sheet as sent, once, if it was for `batch` (the one open now); dropped either way."""
    sent = session.pop(KEY, None)
    if isinstance(sent, dict) and batch is not None and sent.get("batch") == batch.pk:
        return sent
    return None
