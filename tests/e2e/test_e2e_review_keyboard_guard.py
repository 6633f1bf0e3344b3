"""A reviewer at the keyboard gives no verdict on a suspect nobody looked at: a held key's
repeats and a second press a moment after the next suspect appeared each decide nothing,
counted in the database. An agreed glitch is settled for good, so a stray verdict sticks."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "webapp" / "review"))

from review_factories import finished_audit, gold_subject, retired_subject, reviewer  # noqa: E402
from review_page import KEYS_ON, log_in  # noqa: E402

from webapp.review.models import Verdict  # noqa: E402

pytestmark = pytest.mark.e2e


@pytest.fixture
def suspects(page, seeded):
    rows = [(retired_subject("Blip"), "Blip", "Tomte")]
    rows += [(gold_subject("Whistle"), "Whistle", "Blip") for _ in range(5)]
    found = finished_audit(*rows)
    reviewer("rita")
    log_in(page, "rita")
    page.goto(f"/review/suspects/{found[0].pk}/")
    page.wait_for_selector(KEYS_ON, state="attached")
    return found


def verdicts() -> list[tuple[int, str]]:
    return list(Verdict.objects.order_by("pk").values_list("suspect_id", "decision"))


@pytest.mark.parametrize(("key", "decision"), [("a", "agree"), ("r", "relabel")])
def test_a_key_held_for_a_second_and_a_half_decides_one_suspect(page, suspects, key, decision):
    """Before: the key's repeats (every 33 ms) went on into each next suspect's page, so
    holding A agreed with five suspects and holding R relabelled gold glitches to the
    model's suggestion. Now: a held key acts once; its repeats decide nothing."""
    first, second, *_ = suspects
    page.keyboard.down(key)  # the press
    end = time.monotonic() + 1.5
    while time.monotonic() < end:  # the key stays down: the browser repeats it (event.repeat)
        page.wait_for_timeout(33)
        page.keyboard.down(key)
    page.keyboard.up(key)
    page.wait_for_load_state()
    page.wait_for_timeout(500)  # a late extra verdict would have been posted by now
    assert verdicts() == [(first.pk, decision)]
    assert page.url.endswith(f"/review/suspects/{second.pk}/")
    second.subject.refresh_from_db()
    assert second.subject.gold_label.name == "Whistle"


def test_a_second_press_as_the_next_suspect_appears_is_not_a_verdict_on_it(page, suspects):
    """Before: A pressed again the moment the next suspect's page loaded agreed with a
    suspect nobody had seen. Now: as on the labelling page, a suspect takes a verdict key
    only once its pictures have been on screen for 250 ms; after that it takes one."""
    first, second, third, *_ = suspects
    page.keyboard.press("a")
    page.wait_for_url(f"**/review/suspects/{second.pk}/")
    page.keyboard.press("a")  # the next suspect has been on screen for a few ms
    page.wait_for_timeout(500)
    assert verdicts() == [(first.pk, "agree")]
    assert page.url.endswith(f"/review/suspects/{second.pk}/")
    page.wait_for_selector(KEYS_ON, state="attached")
    page.keyboard.press("u")
    page.wait_for_url(f"**/review/suspects/{third.pk}/")
    assert verdicts() == [(first.pk, "agree"), (second.pk, "unsure")]
