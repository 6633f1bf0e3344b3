"""A JSON body nested 100,000 deep is a 400, not a 500 (Python's parser recursed once per
level and ran out of stack), on every API view, the anonymous token endpoint too; JSON as
deep as the limit still parses. The depth scan does work linear in the body (it was
quadratic: 32 KB of `"\\` took 9 s of CPU), and a body over MAX_JSON_BYTES is not read."""

import json
import random
import re
import re._parser  # the project runs on 3.11 only (pyproject); getwidth() bounds a pattern
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.parsers import JSONParser
from rest_framework.settings import api_settings
from rest_framework.views import APIView
from webapp_factories import SubjectFactory, UserFactory

from webapp import api_parsers
from webapp.api_parsers import (
    MAX_JSON_BYTES,
    MAX_JSON_DEPTH,
    BoundedJSONParser,
    json_nesting_exceeds,
)
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


def test_the_depth_scan_reads_each_character_a_bounded_number_of_times():
    # findall tries a pattern once at each place it has not matched over; a pattern at most
    # a few characters wide reads at most that many there, so the scan is linear in the body.
    # A repeat (the string pattern before: `"(?:[^"\\]|\\.)*"`) read an unclosed string to
    # its end once per quote in it: quadratic.
    patterns = [v for v in vars(api_parsers).values() if isinstance(v, re.Pattern)]
    assert patterns
    for pattern in patterns:
        _, widest = re._parser.parse(pattern.pattern, pattern.flags).getwidth()
        assert widest <= 2, pattern.pattern


@pytest.mark.parametrize(
    "text, deeper",
    [
        ('"\\' * 4_000 + "[]" * 40, False),  # the attack: a string of escaped quotes, never closed
        ('"\\' * 4_000 + "[]" * 40 + "\\", False),  # ... ending in a lone backslash
        ("[" * 33 + '"\\' * 4_000, True),  # brackets before an unclosed string count
        ('"' + "[" * 1000, False),  # json stops at the unclosed string: nothing after it nests
        ('["' + "x" * 300_000 + '"' + ",[]" * 40 + "]", False),  # a long string
        ('["' + "[" * 40 + '"]' + "[" * 33, True),  # a closed string's brackets do not count
        ('["\\\\"' + "[" * 33, True),  # an escaped backslash does not escape the quote
        ('["\\"' + "[" * 33, False),  # an escaped quote does: the string is still open
        ("\\" * 40 + "[" * 33, True),  # escapes outside a string: json refuses them
        ("[" * 32 + "]" + "[" * 32, True),  # one closes, 32 more open: 63
    ],
    ids=[
        "attack",
        "attack-lone-backslash",
        "open-string-after",
        "open-string-before",
        "long-string",
        "closed-string",
        "escaped-backslash",
        "escaped-quote",
        "backslashes-outside",
        "close-one-open-many",
    ],
)
def test_the_depth_scan_reads_strings_as_json_does(text, deeper):
    assert json_nesting_exceeds(text, MAX_JSON_DEPTH) is deeper


def _nested(rng: random.Random, depth: int) -> Any:
    """A value nested at most `depth` deep, its strings full of quotes, brackets, escapes."""
    leaf = rng.choice(["[", "]", "{", "}", '"', "\\", '\\"', '"[{', "\n", "é", 1, None])
    if depth == 0 or rng.random() < 0.1:
        return leaf
    inner = _nested(rng, depth - 1)  # one deep child, the others leaves: a few hundred bytes
    if rng.random() < 0.5:
        return [leaf, inner, leaf][rng.randint(0, 1) : rng.randint(2, 3)]
    return {rng.choice(['k"[', "{", "\\"]): inner, "]": leaf}


def _depth(value: Any) -> int:
    children = value.values() if isinstance(value, dict) else value
    if isinstance(value, (dict, list)):
        return 1 + max(map(_depth, children), default=0)
    return 0


def test_the_depth_scan_agrees_with_the_depth_json_parses():
    rng = random.Random(7)
    for _ in range(300):
        value = _nested(rng, rng.randint(1, 40))
        text, depth = json.dumps(value, ensure_ascii=rng.random() < 0.5), _depth(value)
        assert not json_nesting_exceeds(text, depth)
        assert json_nesting_exceeds(text, depth - 1) is (depth > 0)


def test_the_attack_on_the_vote_endpoint_is_a_400():
    body = '"\\' * 4_000 + "[]" * 40
    response = volunteer_client().post(
        "/api/classifications/", body, content_type="application/json"
    )
    assert response.status_code == 400


def test_a_body_larger_than_the_bound_is_a_413_and_one_as_large_is_read():
    def post(body: str) -> Any:
        return volunteer_client().post(
            "/api/classifications/", body, content_type="application/json"
        )

    as_large = '{"glitch_class": "Blip"}'.ljust(MAX_JSON_BYTES)
    response = post(as_large)
    assert response.status_code == 400
    assert "subject" in response.json()  # parsed: the serializer names what is missing
    response = post(as_large + " ")
    assert response.status_code == 413
    assert response.json() == {"detail": f"JSON body larger than {MAX_JSON_BYTES} bytes"}


def test_deep_json_to_the_anonymous_token_endpoint_is_a_400():
    # DRF's ObtainAuthToken names its own parsers: the stock JSONParser recursed to a 500.
    for body in ("[" * DEEP + "]" * DEEP, '{"username": ' + "[" * DEEP + "}"):
        response = Client(raise_request_exception=False).post(
            "/api/token/", body, content_type="application/json"
        )
        assert response.status_code == 400
        assert response.json() == {
            "detail": f"JSON parse error - nested deeper than {MAX_JSON_DEPTH} levels"
        }


def _api_views(entries: Any = None, prefix: str = "") -> list[tuple[str, type[APIView]]]:
    views = []
    for entry in get_resolver().url_patterns if entries is None else entries:
        if isinstance(entry, URLResolver):
            views += _api_views(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            cls = getattr(entry.callback, "cls", None)  # DRF's as_view() and @api_view set it
            if isinstance(cls, type) and issubclass(cls, APIView):
                views.append((prefix + str(entry.pattern), cls))
    return views


def test_every_api_view_parses_with_the_projects_parsers():
    # The settings are the one place that names them; none of DRF's JSONParser unbounded.
    json_parsers = [p for p in api_settings.DEFAULT_PARSER_CLASSES if issubclass(p, JSONParser)]
    assert json_parsers == [BoundedJSONParser]
    views = _api_views()
    assert any(route == "api/token/" for route, _ in views)
    assert len(views) > 10
    for route, cls in views:
        assert list(cls.parser_classes) == list(api_settings.DEFAULT_PARSER_CLASSES), route
