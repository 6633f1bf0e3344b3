"""Server-rendered pages: home, the labelling page, the field guide, a read-only subject."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from webapp.accounts.posting import login_required_post
from webapp.accounts.requests import SignedInRequest
from webapp.accounts.roles import ADMIN, has_role
from webapp.bound_serializers import represent
from webapp.labeling import history, selectors, services
from webapp.labeling.metadata import subject_facts
from webapp.labeling.models import class_display_name
from webapp.labeling.serializers import GlitchClassSerializer, ProgressSerializer


def home(request: HttpRequest) -> HttpResponse:
    return render(request, "labeling/home.html", {"sample": selectors.subject_sample_public()})


@login_required
def label(request: SignedInRequest) -> HttpResponse:
    classes = selectors.glitch_classes_for_volunteer(volunteer=request.user)
    progress = selectors.volunteer_progress(volunteer=request.user)
    context = {
        "classes": classes,
        "boot": {
            "classes": GlitchClassSerializer(classes, many=True).data,
            "progress": represent(ProgressSerializer, progress),
            # how long a subject's assignment lasts: the page asks again for one that waited
            "assignment_max_age_s": services.ASSIGNMENT_MAX_AGE_S,
            # whose votes the tab keeps: another account's are not sent (label.js, resendKept)
            "volunteer": request.user.pk,
        },
    }
    return render(request, "labeling/label.html", context)


def field_guide(request: HttpRequest) -> HttpResponse:
    return render(request, "labeling/field_guide.html", {"entries": selectors.field_guide()})


def subject_detail(request: HttpRequest, subject_id: int) -> HttpResponse:
    """A glitch; its role, votes and consensus once the visitor has voted on it or it has
    retired (a gold glitch's page looks like any other until then: a 404 told them apart)."""
    subject = selectors.subject_get(subject_id=subject_id)
    if subject is None:
        raise Http404("no such glitch")
    visible = selectors.subject_answers_visible(subject=subject, viewer=request.user)
    if visible:
        services.classifications_answers_seen(volunteer=request.user, subject_ids=[subject.pk])
    context = {
        "subject": subject,
        # the glitch's id, time and metadata join public tables that hold its label
        "facts": subject_facts(subject=subject) if visible else [],
        "reveal": visible,
        "votes": sorted(
            selectors.subject_vote_counts(subject=subject).items(), key=lambda kv: -kv[1]
        )
        if visible
        else [],
        "posterior": sorted(subject.posterior.items(), key=lambda kv: -kv[1])[:5]
        if visible
        else [],
        "label_change": selectors.subject_label_change(subject=subject) if visible else None,
        "weighted_votes": selectors.subject_weighted_votes(subject=subject) if visible else 0,
    }
    return render(request, "labeling/subject_detail.html", context)


@login_required
def my_glitches(request: SignedInRequest) -> HttpResponse:
    """The volunteer's votes, what became of each glitch, and their statistics."""
    page = history.volunteer_history(volunteer=request.user, page=request.GET.get("page"))
    # a row that names its glitch by its id (a key into public tables with the label) and,
    # once it left the queue, the model's guess: those votes can no longer be undone
    services.classifications_answers_seen(
        volunteer=request.user,
        subject_ids=[row.subject_id for row in page.object_list if row.answers_shown],
    )
    context = {"page": page, "stats": history.volunteer_history_stats(volunteer=request.user)}
    return render(request, "labeling/my_glitches.html", context)


def _subject_page(request: HttpRequest, subject_id: int) -> str:
    return reverse("labeling:subject_detail", args=[subject_id])


@login_required_post(_subject_page)
def subject_field_guide_add(request: HttpRequest, subject_id: int) -> HttpResponse:
    """An admin's one click: a gold subject's views join its class's field guide."""
    if not has_role(request.user, ADMIN):
        raise PermissionDenied("Only admins may add field-guide examples.")
    subject = selectors.subject_get(subject_id=subject_id)
    if subject is None:
        raise Http404("no such glitch")
    try:
        added = services.glitch_class_example_from_subject(subject=subject)
    except ValidationError as error:
        messages.error(request, "; ".join(error.messages))
    else:
        assert subject.gold_label is not None  # the service took a gold subject only
        where = f"the {class_display_name(subject.gold_label.name)} field guide"
        messages.success(
            request,
            (f"Added to {where} ({added} images)." if added else f"Already in {where}.")
            + " It no longer serves as gold: the guide shows its answer.",
        )
    return redirect("labeling:subject_detail", subject_id=subject_id)
