"""The review page's verdict form is a plain HTML form: its buttons decide without
JavaScript, as docs/review.md promises."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "webapp" / "review"))

from conftest import watched_page  # noqa: E402
from review_factories import finished_audit, retired_subject, reviewer  # noqa: E402
from review_page import log_in  # noqa: E402

from webapp.review.models import Verdict  # noqa: E402

pytestmark = pytest.mark.e2e


@pytest.fixture
def no_script_page(browser, live_server):
    with watched_page(browser, live_server, java_script_enabled=False) as page:
        yield page


@pytest.mark.parametrize("button", ["agree", "relabel", "unsure"])
def test_each_verdict_button_decides_without_javascript(no_script_page, seeded, button):
    """Before: the decision was a hidden field only review.js filled, so without JavaScript
    every button came back "unknown decision ''" and nothing was decided. Now: each button
    sends its own decision."""
    page = no_script_page
    subject = retired_subject("Blip")
    (suspect,) = finished_audit((subject, "Blip", "Tomte"))
    reviewer("rita")
    log_in(page, "rita")
    page.goto(f"/review/suspects/{suspect.pk}/")
    with page.expect_navigation():
        page.get_by_test_id(button).click()
    assert list(Verdict.objects.values_list("decision", flat=True)) == [button]
    assert page.url.endswith("/review/")  # on to the queue
    subject.refresh_from_db()
    assert subject.retired_label.name == ("Tomte" if button == "relabel" else "Blip")
