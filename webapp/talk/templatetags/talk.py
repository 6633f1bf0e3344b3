"""{% talk_thread subject %}: a glitch's comments and the form (on the subject page, which
stays Talk-free); |hashtags: a comment's text, escaped, with its #tags linked."""

from __future__ import annotations

from typing import Any

from django import template
from django.core.paginator import Paginator
from django.urls import reverse
from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe

from webapp.talk import drafts, selectors
from webapp.talk.models import COMMENT_MAX_LENGTH

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


@register.filter
def hashtags(text: str) -> SafeString:
    """The text with every character escaped and each stored #tag (selectors.tags_in) a
    link to its page. Built only from escape() and format_html(), so nothing the author
    typed can become markup: the one place Talk marks a string safe."""
    linked = set(selectors.tags_in(text))
    parts: list[str] = []
    last = 0
    for match in selectors.HASHTAG.finditer(text):
        name = match.group(1).lower()
        if name not in linked:
            continue
        parts.append(escape(text[last : match.start()]))
        url = reverse("talk:tag", args=[name])
        parts.append(format_html('<a class="hashtag" href="{}">#{}</a>', url, match.group(1)))
        last = match.end()
    parts.append(escape(text[last:]))
    return mark_safe("".join(parts))  # noqa: S308 - every part escaped above
