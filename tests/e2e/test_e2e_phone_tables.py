"""The tables of a reviewer's verdicts and of My glitches on a 360 px phone: each row a card
(below 480 px), every cell whole in the window. Before, the verdicts' Undo column was cut off
with no cue to scroll sideways, and "(changed from Whistle by a reviewer)" was squeezed into
a column ~40 px wide."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "webapp" / "review"))

from conftest import watched_page  # noqa: E402
from review_factories import finished_audit, retired_subject, reviewer, vote  # noqa: E402
from review_page import log_in  # noqa: E402

from webapp.review import services  # noqa: E402

pytestmark = pytest.mark.e2e

WIDTH = 360


@pytest.fixture
def phone(browser, live_server):
    options = {"viewport": {"width": WIDTH, "height": 640}, "is_mobile": True, "has_touch": True}
    with watched_page(browser, live_server, **options) as page:
        yield page


def test_verdicts_and_my_glitches_fit_a_360_px_phone(phone, seeded):
    subject = retired_subject("Whistle")
    rita = reviewer("rita")
    vote(rita, subject, "Whistle")  # rita labelled it too: My glitches lists it
    (suspect,) = finished_audit((subject, "Whistle", "Blip"))
    services.verdict_record(suspect_id=suspect.pk, reviewer=rita, decision="relabel", label="Blip")
    log_in(phone, "rita")

    phone.goto("/review/verdicts/")
    undo = phone.get_by_test_id("undo").bounding_box()
    assert undo is not None and undo["x"] >= 0 and undo["x"] + undo["width"] <= WIDTH, undo
    assert phone.evaluate("document.documentElement.scrollWidth") <= WIDTH

    phone.goto("/me/glitches/")
    changed = phone.get_by_test_id("label-changed").bounding_box()
    assert changed is not None and changed["x"] + changed["width"] <= WIDTH, changed
    assert changed["width"] >= 150, changed  # whole lines, not a 40 px column
    assert phone.evaluate("document.documentElement.scrollWidth") <= WIDTH
