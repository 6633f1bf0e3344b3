"""Every POST form carries a CSRF token, and state changes without one are refused."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.test import Client
from webapp_factories import SubjectFactory, UserFactory

from webapp.labeling.models import Classification

ROOT = Path(__file__).resolve().parents[3]
FORM = re.compile(r"<form\b[^>]*>(.*?)</form>", re.DOTALL | re.IGNORECASE)


def _templates() -> list[Path]:
    return sorted(ROOT.glob("templates/**/*.html")) + sorted(
        ROOT.glob("webapp/*/templates/**/*.html")
    )


def test_every_post_form_in_our_templates_has_the_csrf_token():
    forms = 0
    for template in _templates():
        for match in FORM.finditer(template.read_text()):
            if 'method="post"' in match.group(0).lower():
                forms += 1
                assert "{% csrf_token %}" in match.group(1), f"{template}: form without csrf_token"
    assert forms >= 6  # login, signup, logout, dashboard buttons


@pytest.mark.django_db
def test_login_and_session_votes_without_the_token_are_refused():
    UserFactory(username="ann")
    client = Client(enforce_csrf_checks=True)
    response = client.post("/accounts/login/", {"username": "ann", "password": "pw"})
    assert response.status_code == 403
    client.force_login(UserFactory())
    subject = SubjectFactory()
    response = client.post(
        "/api/classifications/",
        {"subject": subject.pk, "glitch_class": "Blip"},
        content_type="application/json",
    )
    assert response.status_code == 403 and not Classification.objects.exists()
    assert client.post("/accounts/logout/").status_code == 403
