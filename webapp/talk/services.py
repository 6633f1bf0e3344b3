"""Writes of Talk: comments (length-checked, rate-limited, tagged), reviewers' moderation, and
a tag turned into a cluster-sheet batch or a class proposal through discovery's services."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.models import AnonymousUser, User
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from webapp.cache_counts import count_in_window
from webapp.discovery import selectors as discovery_selectors
from webapp.discovery import services as discovery
from webapp.discovery.models import Batch, ClassProposal
from webapp.labeling.models import Subject
from webapp.labeling.selectors import MAX_ID
from webapp.talk import selectors
from webapp.talk.models import COMMENT_MAX_LENGTH, Comment, DeletedComment, Tag
from webapp.typed_text import typed_text

RATE_WINDOW_S = 60
# How long a search's later pages stay free for the one who searched it (paging through it).
SEARCH_PAGED_S = 10 * 60

logger = logging.getLogger(__name__)
# The same text by the same author on the same glitch within this time is one post sent
# twice (a double click, a form resent), not a second comment.
REPEAT_WINDOW = dt.timedelta(minutes=1)


class RateLimitedError(Exception):
    """The author posted GLITCHLAB_TALK_COMMENTS_PER_MINUTE comments in this minute."""


def _require(allowed: bool, message: str) -> None:
    if not allowed:
        raise PermissionDenied(message)


def _count_comment(author: User) -> None:
    """Count a comment against the author's minute (fixed windows, on the shared cache:
    every web worker sees the same count); over the limit, RateLimitedError. A cache
    outage lets the comment through (logged), as the login limit does."""
    name = f"talk-comments:{author.pk}"
    count = count_in_window(name, window_s=RATE_WINDOW_S, limit_name="talk rate limit")
    limit = settings.GLITCHLAB_TALK_COMMENTS_PER_MINUTE
    if count is not None and count > limit:
        raise RateLimitedError(
            f"at most {limit} comments a minute: please wait a moment and post again"
        )


def _search_paged(key: str, *, pages: int) -> bool:
    """One more page of a search already counted for this caller (key set by search_count),
    within the `pages` that a search buys; past them, or on a cache outage, False."""
    try:
        return cache.incr(key) <= pages
    except ValueError:  # not searched lately (or the key expired)
        return False
    except Exception:  # noqa: BLE001 - a cache outage: the count below fails open, logged
        return False


def search_count(
    *, user: User | AnonymousUser, address: str | None, search: str, page: int, pages: int
) -> None:
    """Count a new search of Talk (each scans the comments: no text index) against the
    caller's minute: GLITCHLAB_TALK_SEARCHES_PER_MINUTE per account and
    GLITCHLAB_TALK_SEARCHES_PER_MINUTE_PER_ADDRESS per address (higher: a classroom or an
    office behind one NAT shares it); over either, RateLimitedError. A later `page` of words
    this caller searched in the last SEARCH_PAGED_S is not a new search, for `pages` pages
    (the front page's depth: clicking "older" through one search met the limit); past them,
    and on page 1, it counts (else ?page=2 with new words each time would scan unlimited).
    A cache outage lets it through (logged)."""
    who = f"user:{user.pk}" if user.is_authenticated else f"ip:{address}" if address else ""
    words = hashlib.sha256(search.encode()).hexdigest()[:32]
    paged = f"talk-searched:{who}:{words}"
    if page > 1 and who and _search_paged(paged, pages=pages):
        return
    limits = []
    if address:
        per_address = settings.GLITCHLAB_TALK_SEARCHES_PER_MINUTE_PER_ADDRESS
        limits.append((f"talk-searches:ip:{address}", per_address, " from one address"))
    if user.is_authenticated:
        per_account = settings.GLITCHLAB_TALK_SEARCHES_PER_MINUTE
        limits.append((f"talk-searches:user:{user.pk}", per_account, ""))
    for name, limit, where in limits:
        count = count_in_window(name, window_s=RATE_WINDOW_S, limit_name="talk search limit")
        if count is not None and count > limit:
            raise RateLimitedError(
                f"at most {limit} searches a minute{where}: please wait a moment and search "
                "again (paging through a search's results is not counted)"
            )
    if who:
        try:
            cache.set(paged, 0, timeout=SEARCH_PAGED_S)
        except Exception:  # noqa: BLE001 - a cache outage: its pages count as searches
            logger.warning("talk search limit: cache unavailable", exc_info=True)


def comment_create(*, author: User | AnonymousUser, subject_id: int, text: str) -> Comment:
    """A comment on a glitch, with the #hashtags in it; at most COMMENT_MAX_LENGTH
    characters as typed (a new line is one: webapp.typed_text); counted against the author's
    rate limit once it passes every check. The same text by the same author on the same
    glitch within REPEAT_WINDOW returns the comment already stored (a double click posts
    once)."""
    _require(selectors.can_comment(author), "log in to comment")
    text = typed_text(text)
    if not text:
        raise ValidationError({"text": "write something"})
    if len(text) > COMMENT_MAX_LENGTH:
        raise ValidationError(
            {"text": f"at most {COMMENT_MAX_LENGTH} characters ({len(text)} given)"}
        )
    if not (0 < subject_id <= MAX_ID and Subject.objects.filter(pk=subject_id).exists()):
        raise ValidationError("no such glitch")
    assert isinstance(author, User)  # can_comment: authenticated
    with transaction.atomic():
        # The glitch's row lock orders comments on it, so two copies of one post sent at
        # once (a double click, a resent form) cannot both miss each other here.
        Subject.objects.select_for_update().filter(pk=subject_id).first()
        repeat = Comment.objects.filter(
            subject_id=subject_id,
            author=author,
            text=text,
            created_at__gte=timezone.now() - REPEAT_WINDOW,
        ).first()
        if repeat is not None:
            return repeat  # the same post again: stored and counted once
        _count_comment(author)
        comment = Comment.objects.create(subject_id=subject_id, author=author, text=text)
        names = selectors.tags_in(text)
        if names:
            Tag.objects.bulk_create([Tag(name=n) for n in names], ignore_conflicts=True)
            comment.tags.set(Tag.objects.filter(name__in=names))
    return comment


def comment_delete(*, moderator: User, comment_id: int) -> DeletedComment | None:
    """Delete a comment (it and its tags vanish from every page) and record who deleted it,
    when, and the comment's glitch, author and words (DeletedComment, read-only in the
    admin). Also the admin's Delete (talk.admin), which is for admins only. Gone already (a
    second click, a replayed form, another reviewer first) ends as asked, gone, recording
    nothing more: the row is locked until the deletion commits (SQLite's transactions are
    IMMEDIATE), and the record's comment_id is unique."""
    if not 0 < comment_id <= MAX_ID:
        return None
    with transaction.atomic():
        comment = (
            Comment.objects.select_for_update(of=("self",))
            .select_related("author")
            .filter(pk=comment_id)
            .first()
        )
        if comment is None:
            return None
        record = DeletedComment.objects.create(
            comment_id=comment.pk,
            subject_id=comment.subject_id,
            author=comment.author,
            author_username=comment.author.get_username(),
            text=comment.text,
            written_at=comment.created_at,
            deleted_by=moderator,
            deleted_by_username=moderator.get_username(),
            deleted_at=timezone.now(),
        )
        comment.recorded = True  # talk.models' pre_delete receiver records the others
        comment.delete()
    return record


MODERATION = {"hide": Comment.Status.HIDDEN, "show": Comment.Status.VISIBLE}


def comment_moderate(*, moderator: User, comment_id: int, action: str) -> Comment | None:
    """A reviewer hides a comment (it and its tags vanish for everyone but reviewers),
    shows it again, or deletes it (gone, recorded: comment_delete; returns None)."""
    _require(selectors.can_moderate(moderator), "reviewers only")
    if action == "delete":
        comment_delete(moderator=moderator, comment_id=comment_id)
        return None
    comment = Comment.objects.filter(pk=comment_id).first() if 0 < comment_id <= MAX_ID else None
    if comment is None:
        raise ValidationError("no such comment")
    if action not in MODERATION:
        raise ValidationError(f"unknown action {action!r}")
    comment.status = MODERATION[action]
    comment.moderated_by = moderator
    comment.moderated_at = timezone.now()
    comment.save(update_fields=["status", "moderated_by", "moderated_at"])
    return comment


# --- a tag's glitches, labelled together -------------------------------------------------


def _tag(name: str) -> Tag:
    tag = selectors.tag_get(name=name)
    if tag is None:
        raise ValidationError("no such tag")
    return tag


def tag_batch_create(*, volunteer: User, tag_name: str) -> Batch:
    """A cluster-sheet batch of the tag's glitches the volunteer may still vote on (as a
    lasso on the map makes one: discovery.services.batch_from_subjects, its rules)."""
    tag = _tag(tag_name)
    subject_ids = selectors.tag_subject_ids(tag=tag, viewer=volunteer)
    return discovery.batch_from_subjects(volunteer=volunteer, subject_ids=subject_ids)


@dataclass(frozen=True)
class TagProposal:
    proposal: ClassProposal
    batch: Batch | None  # the proposer's votes for it, on the tag's open glitches


def tag_propose_class(
    *, volunteer: User, tag_name: str, name: str, description: str
) -> TagProposal:
    """Propose a new class from a tag in one step: discovery's proposal (its name and
    description rules) and the proposer's vote for it on each of the tag's glitches they
    have not answered yet, as the cluster sheet's "new class" choice does. For volunteers at
    the top level and reviewers; a tag is proposed once."""
    _require(selectors.can_propose_from_tag(volunteer), "for top-level volunteers and reviewers")
    with transaction.atomic():
        # FOR NO KEY UPDATE: a second proposal of the tag waits, but not a comment that
        # tags a glitch with it (its link checks, as it commits, that the tag exists). With
        # FOR UPDATE such a comment, holding its glitch, waited for this, which waited for
        # the glitch in batch_submit: a deadlock (docs/labelling.md, "Lock order").
        tag = Tag.objects.select_for_update(no_key=True).filter(pk=_tag(tag_name).pk).get()
        if tag.proposal_id is not None:
            raise ValidationError(f"#{tag.name} was proposed as a class already")
        subject_ids = selectors.tag_subject_ids(tag=tag, viewer=volunteer)
        open_ids = discovery_selectors.subjects_open_for(
            volunteer=volunteer, subject_ids=subject_ids
        )
        batch: Batch | None = None
        if open_ids:
            batch = discovery.batch_from_subjects(volunteer=volunteer, subject_ids=open_ids)
            batch = discovery.batch_submit(
                volunteer=volunteer,
                batch_id=batch.pk,
                selected_ids=batch.subject_ids,
                label=discovery.BatchLabel(new_name=name, new_description=description),
            )
            assert batch.proposal is not None
            proposal = batch.proposal
        else:
            proposal = discovery.class_proposal_create(
                volunteer=volunteer, name=name, description=description
            )
        tag.proposal = proposal
        tag.save(update_fields=["proposal"])
    return TagProposal(proposal=proposal, batch=batch)
