"""Server-rendered pages: home, the labelling page, the field guide, a read-only subject."""

from __future__ import annotations

from dataclasses import asdict

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from webapp.accounts.roles import is_reviewer
from webapp.labeling import selectors
from webapp.labeling.serializers import GlitchClassSerializer


def home(request: HttpRequest) -> HttpResponse:
    return render(request, "labeling/home.html", {"sample": selectors.subject_sample_public()})


@login_required
def label(request: HttpRequest) -> HttpResponse:
    classes = selectors.glitch_classes_for_volunteer(volunteer=request.user)
    context = {
        "classes": classes,
        "boot": {
            "classes": GlitchClassSerializer(classes, many=True).data,
            "progress": asdict(selectors.volunteer_progress(volunteer=request.user)),
        },
    }
    return render(request, "labeling/label.html", context)


def field_guide(request: HttpRequest) -> HttpResponse:
    return render(request, "labeling/field_guide.html", {"entries": selectors.field_guide()})


def subject_detail(request: HttpRequest, subject_id: int) -> HttpResponse:
    subject = selectors.subject_get(subject_id=subject_id)
    reveal = is_reviewer(request.user)
    if subject is None or (subject.is_gold and not reveal):
        raise Http404("no such glitch")  # gold answers stay hidden from volunteers
    context = {
        "subject": subject,
        "votes": sorted(
            selectors.subject_vote_counts(subject=subject).items(), key=lambda kv: -kv[1]
        ),
        "posterior": sorted(subject.posterior.items(), key=lambda kv: -kv[1])[:5],
        "reveal": reveal,
    }
    return render(request, "labeling/subject_detail.html", context)
