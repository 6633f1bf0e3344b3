"""{% talk_thread subject %}: a glitch's comments and the form (on the subject page, which
stays Talk-free); |comment_html: a comment's text, escaped, with its stored #tags and the
glitches it names linked."""

from __future__ import annotations

import functools
import re
from typing import Any

from django import template
from django.core.paginator import Paginator
from django.urls import reverse
from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe

from webapp.talk import drafts, selectors
from webapp.talk.models import COMMENT_MAX_LENGTH, Comment

register = template.Library()


# A thread shows this many comments a page, the newest first (?talk_page=2 for the ones
# before): a glitch with thousands of comments made a page of megabytes for every visitor.
THREAD_PAGE = 50


@register.inclusion_tag("talk/thread.html", takes_context=True)
def talk_thread(context: template.Context, subject: Any) -> dict[str, Any]:
    request = context["request"]
    # Others' comments wait for the viewer's vote here (kept): the page says so, not "No
    # comments yet" (the same words on gold and pool, as the answers' note above it).
    thread, kept = selectors.comments_for_subject(subject=subject, viewer=request.user)
    # Paged from the newest (page 1), each page read oldest first.
    pages = Paginator(thread.reverse(), THREAD_PAGE)
    page = pages.get_page(request.GET.get("talk_page"))
    return {
        "subject": subject,
        "comments": list(reversed(page.object_list)),
        "page": page,
        "n_comments": pages.count,
        "kept": kept,
        "can_comment": selectors.can_comment(request.user),
        "can_moderate": selectors.can_moderate(request.user),
        "comment_max_length": COMMENT_MAX_LENGTH,
        "draft": drafts.of(request.session, subject.pk),
        "csrf_token": context.get("csrf_token"),
        "request": request,
    }


# "#162": glitch 162, as Talk names a glitch whose answers the viewer may not see yet
# (selectors.subject_names). No leading zero, at most 18 digits (below labeling's MAX_ID);
# not inside a word, a URL fragment, an HTML entity (&#162;) or a ## run, as a tag. Every
# number in range is a link, with no query: a glitch's page is public, a link to one that
# does not exist is a harmless 404, and checking would cost a query per comment list.
GLITCH_NUMBER = r"(?<![\w#&/])#(?P<number>[1-9][0-9]{0,17})(?!\w)"


@functools.lru_cache(maxsize=16)
def _links(host: str) -> re.Pattern[str]:
    """What becomes a link in a comment read on `host`: a #tag, a glitch's number, and this
    site's URL of a glitch's page (http or https, this host, /subjects/<n>/, standing on its
    own: not inside another URL, not followed by more of a path). No other URL: a comment
    is no place for a link to another site (a look-alike login page is one click away). Nor
    a Gravity Spy id: linking it would put its glitch's number beside a key into public
    tables with its label, which Talk keeps until the vote. Every quantifier is bounded and
    each match starts at a "#" or an "http", so time is linear in the text's length
    (bench/talk_links.py)."""
    patterns = [selectors.HASHTAG.pattern, GLITCH_NUMBER]
    if host:
        patterns.append(
            rf"(?<![^\s(\[<\"'])(?i:https?://{re.escape(host)})/subjects/"
            r"(?P<url_number>[1-9][0-9]{0,17})/?(?![\w/?#=&%~+@-]|\.\w)"
        )
    return re.compile("|".join(f"(?:{pattern})" for pattern in patterns))


def _link(match: re.Match[str], tags: set[str]) -> SafeString | None:
    tag = match.group("tag")
    if tag is not None:
        if tag.lower() not in tags:
            return None
        url = reverse("talk:tag", args=[tag.lower()])
        return format_html('<a class="hashtag" href="{}">{}</a>', url, match.group(0))
    number = match.group("number") or match.group("url_number")
    url = reverse("labeling:subject_detail", args=[int(number)])
    return format_html('<a class="glitch-link" href="{}">{}</a>', url, match.group(0))


@register.filter
def comment_html(comment: Comment, host: str = "") -> SafeString:
    """The comment's text as text_html makes it, its stored tags the links: not whatever
    the tag pattern finds in the text today. The pattern has changed (tags may start with a
    digit now): an older comment's "#1080Lines" was stored as no tag, and a link to its page
    would list other comments, or 404. Reads comment.tags.all(): prefetch it for a list of comments
    (selectors.comments_for_subject, comments_latest)."""
    return text_html(comment.text, host, {tag.name for tag in comment.tags.all()})


def text_html(text: str, host: str, tags: set[str]) -> SafeString:
    """The text with every character escaped; each #tag among `tags` (lower case: a
    comment's stored ones) a link to its page, and each glitch named by its number or by
    this site's URL (on `host`, the request's) a link to the glitch's page (_links). Every
    href is built here from the tag or the number, never copied from the text, and
    everything is built only from escape() and format_html(), so nothing the author typed
    can become markup: the one place Talk marks a string safe."""
    parts: list[str] = []
    last = 0
    for match in _links(host).finditer(text):
        link = _link(match, tags)
        if link is None:
            continue
        parts.append(escape(text[last : match.start()]))
        parts.append(link)
        last = match.end()
    parts.append(escape(text[last:]))
    return mark_safe("".join(parts))  # noqa: S308 - every part escaped above
