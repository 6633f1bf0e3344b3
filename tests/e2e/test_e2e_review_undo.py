"""A verdict given by a slip of the key is undone from the next suspect's page with the
keyboard alone, with or without JavaScript: Tab to "Undo it", Enter. The label goes back
and the page is the undone suspect's again, to be answered anew."""

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


@pytest.fixture(params=[True, False], ids=["script", "no-script"])
def page_and_script(request, browser, live_server):
    with watched_page(browser, live_server, java_script_enabled=request.param) as page:
        yield page, request.param


def test_a_slipped_relabel_is_undone_from_the_next_page_by_keyboard(page_and_script, seeded):
    page, script = page_and_script
    slipped, other = retired_subject("Blip"), retired_subject("Blip")
    first, _ = finished_audit((slipped, "Blip", "Tomte"), (other, "Blip", "Whistle"))
    reviewer("rita")
    log_in(page, "rita")
    page.goto(f"/review/suspects/{first.pk}/")
    with page.expect_navigation():
        if script:
            page.wait_for_selector(KEYS_ON, state="attached")
            page.keyboard.press("r")  # the slip
        else:
            page.get_by_test_id("relabel").click()
    slipped.refresh_from_db()
    assert slipped.retired_label.name == "Tomte"
    page.wait_for_load_state()
    assert (
        "Your last verdict: " + slipped.external_id
        in page.get_by_test_id("last-verdict").inner_text()
    )

    undo = page.get_by_test_id("undo-last")
    for _ in range(60):  # Tab through the page until the Undo button has the focus
        page.keyboard.press("Tab")
        if undo.evaluate("button => button === document.activeElement"):
            break
    else:
        pytest.fail("Undo it is never reached with Tab")
    with page.expect_navigation():
        page.keyboard.press("Enter")

    slipped.refresh_from_db()
    assert slipped.retired_label.name == "Blip"
    assert Verdict.objects.get().undone_at is not None
    assert page.url.endswith(f"/review/suspects/{first.pk}/")  # to be answered anew
    assert "is back to Blip" in page.locator(".messages").inner_text()


def test_the_undo_of_a_verdict_just_given_is_in_sight_and_backspace_presses_it(page, seeded):
    """QA at 1280x800: after a wrong R the next page said "Saved: ..." at the top, and "Your
    last verdict ... Undo it" was ~550 px below the fold. Now the Saved message has the Undo,
    in the window, and Backspace (the labelling page's ⌫) presses it: not while typing in the
    reason field, once per press."""
    slipped, other = retired_subject("Blip"), retired_subject("Blip")
    first, _ = finished_audit((slipped, "Blip", "Tomte"), (other, "Blip", "Whistle"))
    reviewer("rita")
    log_in(page, "rita")
    page.goto(f"/review/suspects/{first.pk}/")
    page.wait_for_selector(KEYS_ON, state="attached")
    with page.expect_navigation():
        page.keyboard.press("r")
    page.wait_for_load_state()
    assert "Saved: " + slipped.external_id in page.locator(".messages").inner_text()
    box = page.get_by_test_id("undo-offer").bounding_box()
    assert box is not None and page.evaluate("scrollY") == 0
    assert box["y"] >= 0 and box["y"] + box["height"] <= 800, box

    page.locator("#reason").fill("ab")
    page.locator("#reason").press("Backspace")  # typing: the field's own, no undo
    assert page.locator("#reason").input_value() == "a"
    page.locator("#reason").press("Escape")
    slipped.refresh_from_db()
    assert slipped.retired_label.name == "Tomte"

    with page.expect_navigation():
        page.keyboard.press("Backspace")
    page.wait_for_load_state()
    slipped.refresh_from_db()
    assert slipped.retired_label.name == "Blip"
    assert page.url.endswith(f"/review/suspects/{first.pk}/")
    assert "is back to Blip" in page.locator(".messages").inner_text()
    assert Verdict.objects.get().undone_at is not None
