"""The review pages (reviewer group only): the queue of suspected mislabels, one suspect
with its evidence, verdict forms, the verdicts given (with Undo), the change log as CSV,
and "audit now" for admins."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from webapp.accounts.requests import SignedInRequest
from webapp.accounts.roles import ADMIN, has_role, is_reviewer
from webapp.jobs import JobNotLiveError
from webapp.labeling.metadata import subject_facts
from webapp.labeling.models import class_display_name
from webapp.labeling.templatetags.glitchlab import relative_time
from webapp.review import selectors, services
from webapp.review.admin import label_changes_csv
from webapp.review.models import AuditRun, Verdict

View = Callable[..., HttpResponse]


def reviewer_required(view: View) -> View:
    """Anonymous visitors go to the login page; logged-in non-reviewers get 403."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            # login's next= is followed with a GET: after a form's POST, a 405
            after = request.get_full_path() if request.method == "GET" else reverse("review:queue")
            return redirect_to_login(after)
        if not is_reviewer(request.user):
            return HttpResponse("Only reviewers may review labels.", status=403)
        return view(request, *args, **kwargs)

    return wrapped


@require_GET
@reviewer_required
def queue(request: SignedInRequest) -> HttpResponse:
    """The next suspect, or the queue's state when none is left."""
    suspect = selectors.suspect_next(reviewer=request.user)
    if suspect is not None:
        return redirect("review:suspect", suspect_id=suspect.pk)
    latest = selectors.audit_run_latest()
    return render(
        request,
        "review/empty.html",
        {
            "latest": latest,
            "live": selectors.audit_run_live(),
            "failed": selectors.audit_run_failed_last(),
            "is_admin": has_role(request.user, ADMIN),
            "can_audit": _may_start_audit(request.user, latest),
            "last_verdict": selectors.verdict_last_standing(reviewer=request.user),
            "undo_offer": _undo_offered(request),
        },
    )


def _may_start_audit(user: Any, latest: AuditRun | None) -> bool:
    """Admins start audits at any time; a reviewer may start the first one, so that a fresh
    install's review page is not a dead end ("No audit has finished yet.") until the beat's
    schedule runs. Later audits (GPU time) stay the schedule's and the admins' call."""
    return has_role(user, ADMIN) or latest is None


@require_GET
@reviewer_required
def suspect(request: SignedInRequest, suspect_id: int) -> HttpResponse:
    found = selectors.suspect_get(suspect_id=suspect_id)
    if found is None:
        raise Http404("no such suspect")
    remaining = selectors.suspects_open(reviewer=request.user, run=found.run).count()
    # Admins see here too that a newer audit failed: the queue sends them to a suspect of the
    # last good audit as long as one is open, so the empty page alone would hide it.
    is_admin = has_role(request.user, ADMIN)
    failed = selectors.audit_run_failed_last() if is_admin else None
    return render(
        request,
        "review/suspect.html",
        {
            "failed": failed,
            "live": selectors.audit_run_live() if failed else None,
            "suspect": found,
            "subject": found.subject,
            "facts": subject_facts(subject=found.subject),
            "current_label": selectors.current_label(found.subject),
            "votes": selectors.suspect_votes(suspect=found),
            "neighbours": selectors.suspect_neighbours(suspect=found),
            "classes": selectors.relabel_targets(),
            "remaining": remaining,
            "last_verdict": selectors.verdict_last_standing(reviewer=request.user),
            "undo_offer": _undo_offered(request),
        },
    )


@require_POST
@reviewer_required
def verdict(request: SignedInRequest, suspect_id: int) -> HttpResponse:
    decision = request.POST.get("decision", "")
    try:
        recorded = services.verdict_record(
            suspect_id=suspect_id,
            reviewer=request.user,
            decision=decision,
            label=request.POST.get("label") if decision == Verdict.Decision.RELABEL else None,
            reason=request.POST.get("reason", "")[:2000],
        )
    except services.StaleSuspectError as exc:
        messages.warning(request, f"Skipped: {exc}.")
    except services.AlreadyDecidedError as exc:
        # always the reviewer's own standing verdict (the service's rule): it can be undone
        messages.warning(
            request, _already_decided_said(exc.verdict), extra_tags=_offer_undo(exc.verdict)
        )
    except ValidationError as exc:
        messages.error(request, "; ".join(exc.messages))
        return redirect("review:suspect", suspect_id=suspect_id)
    except services.Suspect.DoesNotExist:
        raise Http404("no such suspect") from None
    else:
        messages.success(request, _verdict_said(recorded), extra_tags=_offer_undo(recorded))
    return redirect("review:queue")


# A message that names a verdict of the reader's may carry its Undo (review/messages.html):
# the verdict's id rides in the message's tags to the page the redirect leads to. Right after
# a wrong verdict the reviewer reads the message at the top; the Undo at the page's foot was
# ~550 px below the fold at 1280x800.
_UNDO_OFFER = "undo-offer-"


def _offer_undo(verdict: Verdict) -> str:
    return f"{_UNDO_OFFER}{verdict.pk}"


def _undo_offered(request: SignedInRequest) -> Verdict | None:
    """The verdict a message on this page offers to undo: the reader's own, still standing."""
    for message in messages.get_messages(request):  # read again by the page: kept till then
        for tag in message.extra_tags.split():
            if tag.startswith(_UNDO_OFFER) and tag.removeprefix(_UNDO_OFFER).isdigit():
                pk = int(tag.removeprefix(_UNDO_OFFER))
                return Verdict.objects.filter(
                    pk=pk, reviewer=request.user, undone_at__isnull=True
                ).first()
    return None


def _verdict_said(verdict: Verdict) -> str:
    """The confirmation after a verdict: what was decided on which glitch."""
    return f"Saved: {verdict.subject.external_id} {_decided(verdict)}."


def _already_decided_said(verdict: Verdict) -> str:
    """A different verdict posted on a suspect the reviewer decided before (another tab, or
    Back then another button): nothing was saved; the verdict that stands is named, and the
    page offers to undo it. (It said "...decided by <yourself> ... A verdict once given is
    not changed." beside an Undo of that very verdict.)"""
    glitch = verdict.subject.external_id
    return (
        f"Not saved: you already decided {glitch} (in another tab or before): "
        f"{verdict.summary}, {relative_time(verdict.created_at)}. "
        "Undo it first to change it."
    )


def _decided(verdict: Verdict) -> str:
    before = class_display_name(verdict.label_before)
    if verdict.decision == Verdict.Decision.RELABEL:
        return f"relabelled {before} to {class_display_name(verdict.label_after)}"
    if verdict.decision == Verdict.Decision.AGREE:
        return f"stays {before}"
    return f"marked unsure; its label stays {before}"


@require_GET
@reviewer_required
def verdicts(request: SignedInRequest) -> HttpResponse:
    """The newest verdicts with an Undo each: the reviewer's own; an admin may list
    everyone's (?all=1)."""
    is_admin = has_role(request.user, ADMIN)
    everyone = is_admin and request.GET.get("all") == "1"
    return render(
        request,
        "review/verdicts.html",
        {
            "verdicts": selectors.verdicts_recent(reviewer=None if everyone else request.user),
            "everyone": everyone,
            "is_admin": is_admin,
        },
    )


@require_POST
@reviewer_required
def verdict_undo(request: SignedInRequest, verdict_id: int) -> HttpResponse:
    """Undo a verdict; a reviewer's own goes back to its suspect, to be answered again."""
    try:
        undone = services.verdict_undo(
            verdict_id=verdict_id,
            user=request.user,
            reason=request.POST.get("reason", "")[:2000],
        )
    except Verdict.DoesNotExist:
        raise Http404("no such verdict") from None
    except PermissionDenied as exc:
        return HttpResponse(f"{exc}.", status=403)
    except services.UndoRefusedError as exc:
        messages.error(request, f"Not undone: {exc}.")
        return redirect("review:verdicts")
    messages.success(request, _undone_said(undone))
    if undone.reviewer_id == request.user.pk:
        return redirect("review:suspect", suspect_id=undone.suspect_id)
    return redirect(reverse("review:verdicts") + "?all=1")


def _undone_said(verdict: Verdict) -> str:
    """What an undo did (or, sent again, had done): whose verdict, by whom, the label now.
    The verdict is named as the list of verdicts names it (`Verdict.summary`), not by its
    stored decision ("the agree on X is taken back")."""
    when = relative_time(verdict.undone_at) if verdict.undone_at else ""
    glitch = verdict.subject.external_id
    before = class_display_name(verdict.label_before)
    now = (
        f"{glitch} is back to {before}"
        if verdict.decision == Verdict.Decision.RELABEL
        else f"Its label stays {before}"
    )
    return (
        f"Undone by {verdict.undone_by} {when}: “{verdict.summary}” on {glitch}. {now}. "
        f"Verdict {verdict.pk} by {verdict.reviewer} is kept, marked undone."
    )


@require_GET
@reviewer_required
def changes_csv(request: HttpRequest) -> HttpResponse:
    return label_changes_csv(selectors.label_changes(), "label-changes.csv")


@require_POST
@reviewer_required
def audit_now(request: SignedInRequest) -> HttpResponse:
    if not _may_start_audit(request.user, selectors.audit_run_latest()):
        return HttpResponse("Only admins may start another audit.", status=403)
    try:
        run = services.audit_run_request(trigger=AuditRun.Trigger.ADMIN, requested_by=request.user)
        if run.status == AuditRun.Status.FAILED:
            messages.error(request, f"Audit {run.pk} could not start: {run.error}")
        else:
            messages.info(request, f"Audit {run.pk} queued.")
    except services.AuditAlreadyLiveError as exc:
        messages.warning(request, str(exc))
    return redirect("review:queue")


@require_POST
@reviewer_required
def audit_cancel(request: HttpRequest, run_id: int) -> HttpResponse:
    """A queued audit ends at once; a running one stops before its next batch."""
    if not has_role(request.user, ADMIN):
        return HttpResponse("Only admins may cancel an audit.", status=403)
    try:
        run = services.audit_run_cancel(run_id=run_id)
    except AuditRun.DoesNotExist:
        raise Http404("no such audit") from None
    except JobNotLiveError as exc:
        messages.info(request, str(exc))
    else:
        done = run.status == AuditRun.Status.CANCELLED
        messages.success(
            request, f"Audit {run_id} " + ("cancelled." if done else "will stop at its next batch.")
        )
    return redirect("review:queue")
