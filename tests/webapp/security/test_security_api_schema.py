"""The OpenAPI schema the fuzz test reads: every API view is described in it, none is
ignored. A view drf-spectacular cannot describe still gets a path, but with no request
body and one bare 200, so the fuzzer sends it nothing worth sending."""

from __future__ import annotations

import pytest
import yaml
from django.core.management import call_command
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

# (method, path): the status codes each operation must document.
DESCRIBED = {
    ("get", "/api/discovery/subjects/{subject_id}/similar/"): {"200", "400", "404"},
    ("get", "/api/discovery/map/"): {"200"},
    ("post", "/api/discovery/batches/"): {"201", "400", "403"},
    ("get", "/api/discovery/batches/next/"): {"200", "204", "403"},
    ("post", "/api/discovery/batches/{batch_id}/submit/"): {"200", "400", "403"},
    ("get", "/review/api/suspects/next/"): {"200", "204", "403"},
    ("post", "/review/api/suspects/{suspect_id}/verdict/"): {"201", "400", "403", "404", "409"},
}


def test_the_schema_builds_without_errors_or_warnings(tmp_path):
    # Raises (and prints which view) on any "unable to guess serializer" or other warning.
    call_command(
        "spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yml")
    )


@pytest.mark.parametrize(("method", "path"), sorted(DESCRIBED))
def test_discovery_and_review_operations_are_described(method, path):
    schema = yaml.safe_load(APIClient().get("/api/schema/").content)
    operation = schema["paths"][path][method]
    assert DESCRIBED[method, path] <= set(operation["responses"])
    success = min(code for code in operation["responses"] if code.startswith("2"))
    assert "schema" in operation["responses"][success]["content"]["application/json"]
    if method == "post":
        assert "application/json" in operation["requestBody"]["content"]
