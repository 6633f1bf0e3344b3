"""A JSON body nested 100,000 deep is a 400, not a 500 (Python's parser recursed once per
level and ran out of stack); JSON as deep as the limit still parses."""

import pytest
from django.test import Client
from webapp_factories import SubjectFactory, UserFactory

from webapp.api_parsers import MAX_JSON_DEPTH, json_nesting_exceeds
from webapp.labeling.models import Classification
from webapp.labeling.services import assignment_issue

pytestmark = pytest.mark.django_db

DEEP = 100_000


def volunteer_client() -> Client:
    client = Client(raise_request_exception=False)
    client.force_login(UserFactory())
    return client


@pytest.mark.parametrize(
    "body",
    ["[" * DEEP + "]" * DEEP, '{"a":' * DEEP + "1" + "}" * DEEP, "[" * DEEP],
    ids=["arrays", "objects", "unclosed"],
)
def test_a_deeply_nested_body_is_a_400(body):
    response = volunteer_client().post(
        "/api/classifications/", body, content_type="application/json"
    )
    assert response.status_code == 400
    assert f"nested deeper than {MAX_JSON_DEPTH} levels" in response.json()["detail"]


def test_deep_json_on_another_endpoint_is_a_400_too():
    body = '{"selected": ' + "[" * DEEP + "]" * DEEP + "}"
    response = volunteer_client().post(
        "/api/discovery/batches/1/submit/", body, content_type="application/json"
    )
    assert response.status_code == 400


def test_an_ordinary_vote_still_parses():
    subject, user = SubjectFactory(), UserFactory()
    client = Client()
    client.force_login(user)
    body = {
        "subject": subject.pk,
        "assignment": assignment_issue(volunteer_id=user.pk, subject_id=subject.pk),
        "glitch_class": "Blip",
        "exclude": [subject.pk],
    }
    response = client.post("/api/classifications/", body, content_type="application/json")
    assert response.status_code == 201
    assert Classification.objects.filter(subject=subject).count() == 1


def test_the_limit_counts_nesting_not_brackets_in_strings():
    assert not json_nesting_exceeds("[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH, MAX_JSON_DEPTH)
    assert json_nesting_exceeds("[" * (MAX_JSON_DEPTH + 1), MAX_JSON_DEPTH)
    many_side_by_side = "[" + ",".join(["[]"] * 1000) + "]"
    assert not json_nesting_exceeds(many_side_by_side, MAX_JSON_DEPTH)
    in_a_string = '["' + "[" * 1000 + '\\"{{{{"]'
    assert not json_nesting_exceeds(in_a_string, MAX_JSON_DEPTH)
