"""Talk pages: post a comment, moderate one, the tag pages and their two actions."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_safe

from webapp.accounts import kept_posts, login_limit
from webapp.accounts.posting import login_required_post
from webapp.accounts.requests import SignedInRequest
from webapp.discovery import selectors as discovery_selectors
from webapp.discovery.models import ClassProposal
from webapp.labeling import services as labeling_services
from webapp.labeling.models import Subject
from webapp.labeling.selectors import MAX_ID
from webapp.talk import drafts, selectors, services

TAGGED_PER_PAGE = 24
COMMENTS_PER_PAGE = 20  # Talk's front page
# Words to find, not a document: a longer query is cut (each search scans the comments).
SEARCH_MAX_LENGTH = 100
# How far back the front page pages: older comments are read in their glitches' threads
# (or found by a search, whose pages stop here too).
MAX_PAGES = 50
MAX_SHOWN = MAX_PAGES * COMMENTS_PER_PAGE


def _problem(error: ValidationError) -> str:
    return "; ".join(error.messages)


def _page_number(page: str) -> str:
    """`page` (talk_page, a moderator's) when it is a page number, else ""."""
    return page if page.isdecimal() and len(page) < 9 else ""


def _thread_of(subject_id: int, page: str = "") -> str:
    """The glitch's thread; on `page` (talk_page, a moderator's) when it is a number."""
    query = f"?talk_page={page}" if _page_number(page) else ""
    return reverse("labeling:subject_detail", args=[subject_id]) + query + "#talk"


def _thread_page(request: HttpRequest, subject_id: int) -> str:
    return _thread_of(subject_id)


def _draft_kept(request: HttpRequest, subject_id: int) -> None:
    """The session ended while the comment was typed: its text waits in the glitch's box
    for the volunteer back from the login page (login keeps the session's data). Only for a
    glitch that exists, and at most kept_posts.ANONYMOUS_PER_HOUR an hour from one address:
    each is a session row, and anyone may post here."""
    if not (0 < subject_id <= MAX_ID and Subject.objects.filter(pk=subject_id).exists()):
        return
    if kept_posts.anonymous_allowed(login_limit.client_address(request)):
        drafts.keep(request.session, subject_id, request.POST.get("text", ""), anonymous=True)


def _posted_subject(request: HttpRequest) -> int:
    """The glitch whose thread a moderation form was on (its `subject`), or 0."""
    subject = request.POST.get("subject", "")
    return int(subject) if subject.isdecimal() and len(subject) < 19 else 0


def _moderated_page(request: HttpRequest, comment_id: int, action: str) -> str:
    subject_id = _posted_subject(request)
    return _thread_of(subject_id) if subject_id > 0 else reverse("talk:home")


def _tag_page(request: HttpRequest, name: str) -> str:
    return reverse("talk:tag", args=[name])


@require_safe
def home(request: HttpRequest) -> HttpResponse:
    """The tags, and the latest comments (or those with the words searched) a page at a
    time, MAX_PAGES pages back; a page number that is not one is page 1, one past the end
    the last (get_page; past MAX_PAGES, with MAX_SHOWN comments, said on the page)."""
    search = request.GET.get("q", "").strip()[:SEARCH_MAX_LENGTH].strip()
    asked = request.GET.get("page", "")
    if search:
        try:
            services.search_count(
                user=request.user,
                address=login_limit.client_address(request),
                search=search,
                page=int(asked) if asked.isdecimal() and len(asked) < 10 else 1,
                pages=MAX_PAGES,
            )
        except services.RateLimitedError as error:
            limited = {"reason": str(error), "back": reverse("talk:home"), "what": "search"}
            return render(request, "talk/limited.html", limited, status=429)
    # At most MAX_PAGES pages: the count and the deepest OFFSET read MAX_SHOWN comments,
    # not every one (page 9999 of 200,000 comments took 1.2 s logged out).
    found = selectors.comments_latest(viewer=request.user, search=search)[:MAX_SHOWN]
    page = Paginator(found, COMMENTS_PER_PAGE).get_page(asked)
    # The note on the depth is for the cap, reached only with MAX_SHOWN comments: a page
    # past the end of fewer is their last page, quietly (it read "goes back 50 pages, the
    # latest 1000 comments" above one comment).
    capped = page.number == MAX_PAGES and page.paginator.count == MAX_SHOWN
    beyond = capped and asked.isdecimal() and (len(asked) > 9 or int(asked) > MAX_PAGES)
    comments = list(page.object_list)
    names, named = selectors.subject_names({c.subject_id for c in comments}, request.user)
    labeling_services.classifications_answers_seen(volunteer=request.user, subject_ids=named)
    context = {
        "tags": selectors.tags_popular(viewer=request.user),
        "comments": [(comment, names[comment.subject_id]) for comment in comments],
        "page": page,
        "search": search,
        "search_max_length": SEARCH_MAX_LENGTH,
        "beyond": beyond,
        "capped": capped,
        "max_pages": MAX_PAGES,
        "max_shown": MAX_SHOWN,
    }
    return render(request, "talk/home.html", context)


@login_required_post(_thread_page, keep=_draft_kept)
def comment_post(request: HttpRequest, subject_id: int) -> HttpResponse:
    text = request.POST.get("text", "")
    try:
        services.comment_create(author=request.user, subject_id=subject_id, text=text)
    except services.RateLimitedError as error:
        drafts.keep(request.session, subject_id, text)
        context = {"reason": str(error), "back": _thread_of(subject_id)}
        return render(request, "talk/limited.html", context, status=429)
    except ValidationError as error:
        drafts.keep(request.session, subject_id, text)
        messages.error(request, f"Comment not posted: {_problem(error)}")
    else:
        drafts.drop(request.session, subject_id)
    return redirect(_thread_of(subject_id))


@login_required_post(_moderated_page)
def comment_moderate(request: SignedInRequest, comment_id: int, action: str) -> HttpResponse:
    subject_id = _posted_subject(request)
    if action == "delete" and request.POST.get("confirm") != "1":
        # Delete cannot be undone: without JavaScript (confirm.js asks, then sends
        # confirm=1) the question is a page of its own, reached by a redirect (a page that
        # answered this POST met "Confirm Form Resubmission" on Back, and a reload posted
        # again). A comment already gone needs none.
        if not selectors.can_moderate(request.user):
            raise PermissionDenied("reviewers only")
        if selectors.comment_get(comment_id=comment_id) is not None:
            talk_page = _page_number(request.POST.get("talk_page", ""))
            query = f"?{urlencode({'talk_page': talk_page})}" if talk_page else ""
            return redirect(reverse("talk:comment_delete_confirm", args=[comment_id]) + query)
    try:
        comment = services.comment_moderate(
            moderator=request.user, comment_id=comment_id, action=action
        )
    except ValidationError as error:
        messages.error(request, _problem(error))
    else:
        done = {"hide": "hidden", "show": "shown again", "delete": "deleted"}[action]
        messages.success(request, f"Comment {done}.")
        subject_id = comment.subject_id if comment is not None else subject_id
    if subject_id <= 0:
        return redirect(reverse("talk:home"))
    return redirect(_thread_of(subject_id, request.POST.get("talk_page", "")))


@login_required
@require_safe
def comment_delete_confirm(request: SignedInRequest, comment_id: int) -> HttpResponse:
    """Delete's question without JavaScript: the comment, its glitch, a Delete that posts
    with confirm=1 and a Cancel back to the thread. Changes nothing. Back to it once the
    comment is gone leads to the glitch's thread (its deletion record names the glitch)."""
    if not selectors.can_moderate(request.user):
        raise PermissionDenied("reviewers only")
    talk_page = _page_number(request.GET.get("talk_page", ""))
    comment = selectors.comment_get(comment_id=comment_id)
    if comment is None:
        messages.info(request, "That comment is already deleted.")
        subject_id = selectors.deleted_comment_subject_id(comment_id=comment_id)
        if subject_id is None:
            return redirect(reverse("talk:home"))
        return redirect(_thread_of(subject_id, talk_page))
    context = {
        "comment": comment,
        "talk_page": talk_page,
        "back": _thread_of(comment.subject_id, talk_page),
    }
    return render(request, "talk/delete_confirm.html", context)


@require_safe
def tag_detail(request: HttpRequest, name: str) -> HttpResponse:
    tag = selectors.tag_get(name=name)
    if tag is None:
        raise Http404("no such tag")
    subject_ids = selectors.tag_subject_ids(tag=tag, viewer=request.user)
    page = Paginator(subject_ids, TAGGED_PER_PAGE).get_page(request.GET.get("page"))
    shown = list(page.object_list)
    thumbnails = discovery_selectors.thumbnails(shown)
    names, named = selectors.subject_names(shown, request.user)
    labeling_services.classifications_answers_seen(volunteer=request.user, subject_ids=named)
    context = {
        "tag": tag,
        "n_subjects": len(subject_ids),
        "page": page,
        "subjects": [(i, names.get(i, ""), thumbnails.get(i, "")) for i in shown],
        "can_batch": discovery_selectors.can_batch_label(request.user),
        "can_propose": selectors.can_propose_from_tag(request.user) and tag.proposal is None,
        "suggested_name": tag.name.replace("_", " ").title().replace(" ", "_"),
        "name_max_length": ClassProposal._meta.get_field("name").max_length,
        "description_max_length": ClassProposal._meta.get_field("description").max_length,
    }
    return render(request, "talk/tag.html", context)


@login_required_post(_tag_page)
def tag_batch(request: SignedInRequest, name: str) -> HttpResponse:
    try:
        batch = services.tag_batch_create(volunteer=request.user, tag_name=name)
    except ValidationError as error:
        messages.error(request, f"No sheet made: {_problem(error)}")
        return redirect("talk:tag", name=name)
    messages.success(
        request, f"{len(batch.subject_ids)} glitches tagged #{name} to label together."
    )
    return redirect("discovery:sheet")


@login_required_post(_tag_page)
def tag_propose(request: SignedInRequest, name: str) -> HttpResponse:
    try:
        made = services.tag_propose_class(
            volunteer=request.user,
            tag_name=name,
            name=request.POST.get("name", ""),
            description=request.POST.get("description", ""),
        )
    except ValidationError as error:
        messages.error(request, f"Not proposed: {_problem(error)}")
        return redirect("talk:tag", name=name)
    voted = made.batch.n_voted if made.batch is not None else 0
    messages.success(
        request,
        f"{made.proposal.name.replace('_', ' ')} proposed, with your vote on {voted} "
        f"glitch{'es' if voted != 1 else ''} tagged #{name}. A reviewer opens it for votes.",
    )
    return redirect("talk:tag", name=name)
