"""The review API: reviewers fetch the next suspect and post verdicts; volunteers cannot."""

from __future__ import annotations

import pytest
from django.urls import reverse
from rest_framework.test import APIClient
from review_factories import finished_audit, retired_subject, reviewer, volunteer

pytestmark = pytest.mark.django_db


def api_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_a_reviewer_relabels_through_the_api() -> None:
    subject = retired_subject("Blip")
    (suspect,) = finished_audit((subject, "Blip", "Tomte"))
    client = api_for(reviewer())
    got = client.get(reverse("review:api_suspect_next")).json()
    assert (got["id"], got["given_label"], got["suggested_label"]) == (suspect.pk, "Blip", "Tomte")
    assert len(got["images"]) == 4
    posted = client.post(
        reverse("review:api_verdict", args=[suspect.pk]),
        {"decision": "relabel", "label": "Tomte"},
        format="json",
    )
    assert posted.status_code == 201
    assert posted.json()["label_after"] == "Tomte"
    subject.refresh_from_db()
    assert subject.retired_label.name == "Tomte"
    assert client.get(reverse("review:api_suspect_next")).status_code == 204
    again = api_for(reviewer("sam")).post(
        reverse("review:api_verdict", args=[suspect.pk]), {"decision": "agree"}, format="json"
    )
    assert again.status_code == 409  # the label moved since the audit


def test_volunteers_and_bad_input_are_refused() -> None:
    (suspect,) = finished_audit((retired_subject("Blip"), "Blip", "Tomte"))
    as_volunteer = api_for(volunteer())
    assert as_volunteer.get(reverse("review:api_suspect_next")).status_code == 403
    url = reverse("review:api_verdict", args=[suspect.pk])
    assert as_volunteer.post(url, {"decision": "agree"}, format="json").status_code == 403
    as_reviewer = api_for(reviewer())
    assert as_reviewer.post(url, {"decision": "maybe"}, format="json").status_code == 400
    bad = as_reviewer.post(url, {"decision": "relabel", "label": "Nope"}, format="json")
    assert bad.status_code == 400
    assert bad.json() == {"label": ["unknown class 'Nope'"]}  # the service's error, by field
    missing = reverse("review:api_verdict", args=[suspect.pk + 99])
    assert as_reviewer.post(missing, {"decision": "agree"}, format="json").status_code == 404


def test_an_out_of_range_suspect_is_not_found_not_a_server_error() -> None:
    url = reverse("review:api_verdict", args=[2**70])
    assert api_for(reviewer()).post(url, {"decision": "agree"}, format="json").status_code == 404


def test_a_different_verdict_through_the_api_is_refused_naming_the_first() -> None:
    """Before: a second, different verdict got 201 with the first verdict's body, as if it
    had been recorded. Now: 409, and the verdict that stands."""
    (suspect,) = finished_audit((retired_subject("Blip"), "Blip", "Tomte"))
    client = api_for(reviewer())
    url = reverse("review:api_verdict", args=[suspect.pk])
    first = client.post(url, {"decision": "agree"}, format="json")
    again = client.post(url, {"decision": "relabel", "label": "Tomte"}, format="json")
    assert again.status_code == 409
    assert again.json()["verdict"] == first.json()
    same = client.post(url, {"decision": "agree"}, format="json")
    assert (same.status_code, same.json()) == (201, first.json())  # a resent one is the first
