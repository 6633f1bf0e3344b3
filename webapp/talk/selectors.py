"""Reads of Talk: a glitch's thread, the #hashtags in a comment, a tag's glitches, who may do
what."""

from __future__ import annotations

import re
from collections.abc import Iterable

from django.contrib.auth.models import AnonymousUser, User
from django.db.models import Count, Exists, OuterRef, Q, QuerySet

from webapp.accounts.roles import is_reviewer, role_shown
from webapp.labeling import config
from webapp.labeling.metadata import shown_name
from webapp.labeling.models import Classification, Subject, VolunteerProfile
from webapp.labeling.selectors import MAX_ID, among, subject_ids_answers_visible
from webapp.talk.models import TAG_MAX_LENGTH, Comment, DeletedComment, Tag

# A #hashtag: letters, digits or _, 2-40 in all, at least one a letter, not inside a word,
# a URL fragment (/#x), an HTML entity (&#39;) or a ## run. A leading digit is allowed:
# two of Gravity Spy's classes are 1080Lines and 1400Ripples. The letter is required: "#162"
# names glitch 162 (templatetags.talk.GLITCH_NUMBER). Matched on the raw text; the page
# escapes around it (templatetags.talk.comment_html). Every quantifier is bounded and a
# match starts only at a "#", so a long hostile comment costs time linear in its length.
_LETTER_AHEAD = rf"(?=[0-9_]{{0,{TAG_MAX_LENGTH - 1}}}[A-Za-z])"
HASHTAG = re.compile(
    rf"(?<![\w#&/])#{_LETTER_AHEAD}(?P<tag>[A-Za-z0-9_]{{2,{TAG_MAX_LENGTH}}})(?!\w)"
)
TAG_NAME = re.compile(rf"^(?=[0-9_]*[a-z])[a-z0-9_]{{2,{TAG_MAX_LENGTH}}}$")
MAX_TAGS_PER_COMMENT = 10


def tags_in(text: str) -> list[str]:
    """The tags of a comment, lower case, first use first, at most MAX_TAGS_PER_COMMENT."""
    names = dict.fromkeys(match.group("tag").lower() for match in HASHTAG.finditer(text))
    return list(names)[:MAX_TAGS_PER_COMMENT]


# --- who may do what -------------------------------------------------------------------


def can_comment(user: User | AnonymousUser) -> bool:
    return bool(user.is_authenticated)


def can_moderate(user: User | AnonymousUser) -> bool:
    """Reviewers (and admins) hide and delete comments."""
    return is_reviewer(user)


def can_propose_from_tag(user: User | AnonymousUser) -> bool:
    """Turning a tag into a class proposal: volunteers at the top level, and reviewers."""
    if not user.is_authenticated:
        return False
    if is_reviewer(user):
        return True
    level = VolunteerProfile.objects.filter(user=user).values_list("level", flat=True).first()
    return (level or 1) >= config.max_level()


# --- threads and tags ------------------------------------------------------------------


def _visible_to(viewer: User | AnonymousUser) -> Q:
    return Q() if can_moderate(viewer) else Q(status=Comment.Status.VISIBLE)


def threads_kept_from(subject_ids: Iterable[int], viewer: User | AnonymousUser) -> set[int]:
    """The glitches among these still collecting votes (ACTIVE) whose answers the viewer may
    not see (labeling's subject_ids_answers_visible: reviewers always; a volunteer once they
    voted on it, on gold only by their scored gold vote, not a lasso's): on them the viewer
    reads only their own comments (_own), and the glitch is in no tag listing or count, nor
    on Talk's front page, for them by others' comments.

    Gold and pool alike: an open gold glitch and an open pool glitch must look the same to
    one who has not voted. When only gold was kept, an account commented on every glitch
    the queue handed it and read Talk logged out: the glitches whose comments were missing
    were gold. Others' words before one's own vote are also the crowd's answer: the
    consensus counts each vote as independent evidence. A glitch that left the queue
    (retired, closed, sent to discovery) is open to all: gold leaves ACTIVE only when an
    admin retires it (labeling.services.subject_consensus_recompute: no vote retires gold),
    so its open thread says nothing of gold, and discovery's discussions stay public.
    _readable is this rule in SQL; tests hold the two equal."""
    ids = set(subject_ids)
    active = among(Subject.objects.filter(status=Subject.Status.ACTIVE), "pk", ids)
    collecting = set(active.values_list("pk", flat=True)) & ids
    if not collecting:
        return set()
    return collecting - subject_ids_answers_visible(subject_ids=collecting, viewer=viewer)


def _own(viewer: User | AnonymousUser, to: str = "") -> Q:
    """The viewer's own comments (reached by the lookup prefix `to`): always theirs to see,
    on an open glitch too (if their comment vanished on one glitch and not on another,
    posting one would tell the two apart)."""
    return Q(**{f"{to}author_id": viewer.pk}) if viewer.is_authenticated else Q(pk__in=[])


def _readable(viewer: User | AnonymousUser, to: str = "") -> Q:
    """threads_kept_from's rule in SQL, with _own: the comments (reached by the lookup
    prefix `to`: "" from Comment, "comments__" from Tag) on a glitch not collecting votes,
    or whose answers the viewer may see (labeling's subject_ids_answers_visible, in SQL: on
    gold a scored vote only), or written by the viewer: Talk's front page (its tag counts,
    its latest comments). Change it with threads_kept_from and labeling's rule."""
    if is_reviewer(viewer):
        return Q()
    readable = ~Q(**{f"{to}subject__status": Subject.Status.ACTIVE})
    if viewer.is_authenticated:
        voted = Classification.objects.filter(
            Q(was_gold=True) | ~Q(subject__role=Subject.Role.GOLD),
            volunteer_id=viewer.pk,
            subject_id=OuterRef(f"{to}subject_id"),
        )
        readable |= Q(Exists(voted)) | _own(viewer, to)
    return readable


def comments_for_subject(
    *, subject: Subject, viewer: User | AnonymousUser
) -> tuple[QuerySet[Comment], bool]:
    """The glitch's thread, oldest first (not yet read: the page shows one page of it), and
    whether others' comments are kept from the viewer (the page says so); hidden comments
    for moderators only; while it collects votes, only the viewer's own until they may see
    its answers (threads_kept_from), on gold and pool alike. Each comment's `author_role`
    (accounts.roles.role_shown) is the badge beside its author's name: staff are told by
    their role, not by a name anyone could copy. Its tags come prefetched: one query for a
    page of comments, not one a comment (each stored tag is a link)."""
    comments = Comment.objects.filter(_visible_to(viewer), subject=subject)
    kept = bool(threads_kept_from([subject.pk], viewer))
    if kept:
        comments = comments.filter(_own(viewer))
    ordered = (
        comments.select_related("author", "moderated_by")
        .prefetch_related("tags")  # its links (templatetags.talk.comment_html)
        .annotate(author_role=role_shown("author"))
        .order_by("created_at", "id")
    )
    return ordered, kept


def comments_latest(*, viewer: User | AnonymousUser, search: str = "") -> QuerySet[Comment]:
    """The comments the viewer may read (_readable; hidden ones for moderators only), newest
    first, those containing `search` (any case) if it is given; not yet read: the front page
    shows a page of them. Chosen in the statement: most comments are under glitches still
    collecting votes, kept from most viewers, so the latest few read and then filtered left
    the front page empty. A search is one more way to read a thread: the same rule. With
    `author_role` and the tags prefetched, as comments_for_subject."""
    comments = Comment.objects.filter(_visible_to(viewer), _readable(viewer))
    if search:
        # icontains: LIKE on SQLite (ASCII case only), UPPER(...) LIKE on PostgreSQL; a scan
        # of the comments, which their per-account rate limit keeps in the hundreds of
        # thousands. Django escapes % and _ in it.
        comments = comments.filter(text__icontains=search)
    return (
        comments.select_related("author", "subject")
        .prefetch_related("tags")  # its links (templatetags.talk.comment_html)
        .annotate(author_role=role_shown("author"))
        .order_by("-created_at", "-id")
    )


def comment_get(*, comment_id: int) -> Comment | None:
    """One comment with its author, for a moderator (hidden or not); None if there is none."""
    if not 0 < comment_id <= MAX_ID:
        return None
    return Comment.objects.select_related("author").filter(pk=comment_id).first()


def deleted_comment_subject_id(*, comment_id: int) -> int | None:
    """The glitch a deleted comment was on, from its deletion record; None if not known."""
    if not 0 < comment_id <= MAX_ID:
        return None
    found = DeletedComment.objects.filter(comment_id=comment_id).values_list("subject_id")
    return next((subject_id for (subject_id,) in found), None)


def tag_get(*, name: str) -> Tag | None:
    if not TAG_NAME.match(name):
        return None
    return Tag.objects.select_related("proposal").filter(name=name).first()


def tag_subject_ids(*, tag: Tag, viewer: User | AnonymousUser) -> list[int]:
    """The glitches a tag is on (through the comments the viewer may see), most recently
    tagged first; an open glitch whose answers the viewer may not see only by their own
    comment (threads_kept_from)."""
    comments = Comment.objects.filter(_visible_to(viewer), tags=tag).order_by("-created_at", "-id")
    tagged = list(dict.fromkeys(comments.values_list("subject_id", flat=True)))
    kept = threads_kept_from(tagged, viewer)  # a tag is an answer, before one's vote
    if kept:  # but the viewer's own tag there is theirs to see (_own)
        kept -= set(comments.filter(_own(viewer)).values_list("subject_id", flat=True))
    return [subject_id for subject_id in tagged if subject_id not in kept]


def subject_names(
    subject_ids: Iterable[int], viewer: User | AnonymousUser
) -> tuple[dict[int, str], set[int]]:
    """subject id -> the name the pages show: its external id once the viewer may see its
    answers (labeling.metadata.IDENTIFYING_FIELDS: an id is a key into a public table with
    the label), else "#<number>", as the labelling page names it; and the ids named by
    their external id, whose answers the page then shows (the view marks the viewer's votes
    on them seen: labeling.services.classifications_answers_seen)."""
    ids = set(subject_ids)
    visible = subject_ids_answers_visible(subject_ids=ids, viewer=viewer)
    external = dict(among(Subject.objects.all(), "pk", visible).values_list("pk", "external_id"))
    return {pk: shown_name(pk, external.get(pk)) for pk in ids}, visible


def tags_popular(*, viewer: User | AnonymousUser, limit: int = 40) -> list[tuple[str, int]]:
    """(tag, number of glitches it is on, by visible comments), most used first: the
    glitches its page lists for the viewer (tag_subject_ids' rule, in one query: _readable).
    An open glitch whose answers the viewer may not see counts only by their own comment:
    "#blip 1" beside a tag page without the glitch would tell that glitch apart."""
    counted = Q(comments__status=Comment.Status.VISIBLE) & _readable(viewer, "comments__")
    rows = (
        Tag.objects.annotate(n=Count("comments__subject", distinct=True, filter=counted))
        .filter(n__gt=0)
        .order_by("-n", "name")
        .values_list("name", "n")[:limit]
    )
    return list(rows)
