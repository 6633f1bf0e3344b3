"""A label relabelled and relabelled back (reviewer A Blip -> Tomte, reviewer B Tomte ->
Blip) is where it started: the volunteers' pages say nothing of a change (they said
"changed from Blip to Blip by a reviewer"), and the labels export gives the source the votes
gave it, with label_changed_at still the last change (a reader of an earlier export, which
said Tomte, finds the row changed)."""

from __future__ import annotations

import json
from datetime import datetime

import pytest
from django.urls import reverse
from review_factories import finished_audit, retired_subject, reviewer, volunteer, vote

from webapp.review import selectors, services
from webapp.review.models import LabelChange

pytestmark = pytest.mark.django_db


def relabel(subject, given: str, to: str, judge: str) -> None:
    (suspect,) = finished_audit((subject, given, to))
    services.verdict_record(
        suspect_id=suspect.pk, reviewer=reviewer(judge), decision="relabel", label=to
    )


@pytest.fixture
def round_trip():
    vic = volunteer("vic")
    subject = retired_subject("Blip")
    vote(vic, subject, "Blip", weight={"Blip": 1.0})
    relabel(subject, "Blip", "Tomte", "rita")
    relabel(subject, "Tomte", "Blip", "sam")
    subject.refresh_from_db()
    assert subject.retired_label.name == "Blip"
    return vic, subject


def test_a_label_back_where_it_started_has_no_history(round_trip) -> None:
    _, subject = round_trip
    assert selectors.label_histories(subject_ids=[subject.pk]) == {}


def test_the_pages_say_nothing_of_a_change_that_came_back(client, round_trip) -> None:
    vic, subject = round_trip
    page = client.get(f"/subjects/{subject.pk}/").content.decode()
    assert "label-changed" not in page and "changed from" not in page
    client.force_login(vic)
    assert "label-changed" not in client.get("/me/glitches/").content.decode()


def test_the_export_says_crowd_and_when_the_label_last_changed(client, round_trip) -> None:
    _, subject = round_trip
    client.force_login(reviewer("ada"))
    rows = json.loads(b"".join(client.get(reverse("api-labels-json")).streaming_content))
    (row,) = (r for r in rows if r["subject_id"] == subject.pk)
    last = LabelChange.objects.filter(subject=subject).order_by("-id").first()
    assert (row["label"], row["label_source"], row["label_before_review"]) == ("Blip", "crowd", "")
    assert datetime.fromisoformat(row["label_changed_at"]) == last.created_at
