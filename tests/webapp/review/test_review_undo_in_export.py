"""An undone relabel moves the label back: the labels export says when (label_changed_at is
the undo's time), so a reader of an export made in between (which said Tomte) finds the row
changed, as after a round trip; what it says of the label is what it said before the relabel.
The volunteers' pages say nothing of a change that was taken back."""

from __future__ import annotations

import json
from datetime import datetime

import pytest
from django.urls import reverse
from review_factories import finished_audit, retired_subject, reviewer, volunteer, vote

from webapp.review import services
from webapp.review.models import LabelChange, Verdict

pytestmark = pytest.mark.django_db


def relabel(subject, given: str, to: str, judge: str) -> Verdict:
    (suspect,) = finished_audit((subject, given, to))
    return services.verdict_record(
        suspect_id=suspect.pk, reviewer=reviewer(judge), decision="relabel", label=to
    )


def export_row(client, subject) -> dict:
    client.force_login(reviewer("ada"))
    rows = json.loads(b"".join(client.get(reverse("api-labels-json")).streaming_content))
    (row,) = (r for r in rows if r["subject_id"] == subject.pk)
    return row


def provenance(row: dict) -> tuple:
    changed_at = row["label_changed_at"]
    return (
        row["label"],
        row["label_source"],
        row["label_before_review"],
        datetime.fromisoformat(changed_at) if changed_at else None,
    )


def test_an_undone_relabel_is_exported_as_changed_back_at_the_undos_time(client) -> None:
    vic = volunteer("vic")
    subject = retired_subject("Blip")
    vote(vic, subject, "Blip", weight={"Blip": 1.0})
    verdict = relabel(subject, "Blip", "Tomte", "rita")
    between = provenance(export_row(client, subject))
    assert between[:3] == ("Tomte", "reviewer", "Blip")

    services.verdict_undo(verdict_id=verdict.pk, user=verdict.reviewer)
    undo = LabelChange.objects.get(cause=LabelChange.Cause.UNDO)
    assert provenance(export_row(client, subject)) == ("Blip", "crowd", "", undo.created_at)
    assert undo.created_at > between[3]

    client.logout()
    page = client.get(f"/subjects/{subject.pk}/").content.decode()
    assert "label-changed" not in page
    client.force_login(vic)
    assert "label-changed" not in client.get("/me/glitches/").content.decode()


def test_undoing_the_later_of_two_relabels_exports_the_first_with_the_undos_time(
    client,
) -> None:
    subject = retired_subject("Blip")
    relabel(subject, "Blip", "Tomte", "rita")
    later = relabel(subject, "Tomte", "Koi_Fish", "sam")
    services.verdict_undo(verdict_id=later.pk, user=later.reviewer)
    undo = LabelChange.objects.get(cause=LabelChange.Cause.UNDO)

    assert provenance(export_row(client, subject)) == (
        "Tomte",
        "reviewer",
        "Blip",
        undo.created_at,
    )
    client.logout()
    page = client.get(f"/subjects/{subject.pk}/").content.decode()
    assert "changed from <b>Blip</b> to <b>Tomte</b> by a reviewer" in page
