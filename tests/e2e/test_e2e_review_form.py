"""The review page's verdict form is a plain HTML form: its buttons decide without
JavaScript, as docs/review.md promises, and Enter in its reason field decides nothing."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "webapp" / "review"))

from conftest import watched_page  # noqa: E402
from review_factories import finished_audit, retired_subject, reviewer  # noqa: E402
from review_page import KEYS_ON, log_in  # noqa: E402

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


@pytest.fixture(params=[True, False], ids=["script", "no-script"])
def page_and_script(request, browser, live_server):
    """A page with JavaScript on, then one with it off; and which it is."""
    with watched_page(browser, live_server, java_script_enabled=request.param) as page:
        yield page, request.param


def test_enter_in_the_reason_field_decides_nothing_and_the_relabel_still_counts(
    page_and_script, seeded
):
    """Before: Enter in the reason field submitted the form through its first submit button,
    Agree: a reviewer who had chosen "Relabel as Tomte" and typed why recorded agree, lost
    the relabel, and was told "Saved: ... stays Blip." Now: Enter submits nothing (it leaves
    the field, so the next key is the verdict), and R or the relabel button then relabels to
    the class chosen, with the reason."""
    page, script = page_and_script
    subject = retired_subject("Blip")
    (suspect,) = finished_audit((subject, "Blip", "Koi_Fish"))
    reviewer("rita")
    log_in(page, "rita")
    page.goto(f"/review/suspects/{suspect.pk}/")
    page.get_by_test_id("relabel-to").select_option("Tomte")
    page.fill("#reason", "pointed hat")
    page.press("#reason", "Enter")
    page.wait_for_timeout(500)  # a submitted form would have been decided by now
    assert list(Verdict.objects.all()) == []
    assert page.url.endswith(f"/review/suspects/{suspect.pk}/")
    with page.expect_navigation():
        if script:
            page.wait_for_selector(KEYS_ON, state="attached")
            page.keyboard.press("r")  # a key, not a letter of the reason: Enter left the field
        else:
            page.get_by_test_id("relabel").click()
    verdict = Verdict.objects.get()
    assert (verdict.decision, verdict.label_after, verdict.reason) == (
        "relabel",
        "Tomte",
        "pointed hat",
    )
