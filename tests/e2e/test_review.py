"""A reviewer works through suspected mislabels in Chromium with the keyboard only; the
relabel reaches the subject and the change log; a volunteer is turned away."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "webapp" / "review"))

from review_factories import (  # noqa: E402
    finished_audit,
    gold_subject,
    retired_subject,
    reviewer,
    volunteer,
    vote,
)
from review_page import KEYS_ON, log_in  # noqa: E402

from webapp.review.models import LabelChange, Verdict  # noqa: E402
from webapp.review.selectors import audit_dir  # noqa: E402

pytestmark = pytest.mark.e2e


def store_features(run, subjects_by_look: dict[str, list]) -> None:
    """The audit's neighbour features: subjects that look alike get the same direction."""
    ids, labels, rows = [], [], []
    for look, subjects in subjects_by_look.items():
        direction = np.eye(4)[["Blip", "Tomte", "Whistle", "Koi_Fish"].index(look)]
        for s in subjects:
            ids.append(s.pk)
            labels.append(s.retired_label.name if s.retired_label else s.gold_label.name)
            rows.append(direction + 0.01 * len(ids))
    out = audit_dir(run) / "features.npz"
    out.parent.mkdir(parents=True, exist_ok=True)
    np.savez(out, subject_ids=np.array(ids), labels=np.array(labels), features=np.array(rows))


def test_reviewer_relabels_by_keyboard_and_the_change_is_logged(page, seeded, settings, tmp_path):
    settings.VAR_DIR = tmp_path
    hat = retired_subject("Blip")  # filed as Blip, looks like a Tomte
    bad_gold = gold_subject("Whistle")
    fine = retired_subject("Blip")
    tomtes = [retired_subject("Tomte") for _ in range(2)]
    blips = [retired_subject("Blip") for _ in range(2)]
    vote(volunteer("ann"), hat, "Tomte", weight={"Tomte": 0.85, "Blip": 0.15})
    first, second, third = finished_audit(
        (hat, "Blip", "Tomte"), (bad_gold, "Whistle", "Blip"), (fine, "Blip", "Koi_Fish")
    )
    store_features(first.run, {"Tomte": [hat, *tomtes], "Blip": [fine, *blips]})
    reviewer("rita")

    log_in(page, "rita")
    page.get_by_test_id("nav-review").click()
    page.wait_for_url(f"**/review/suspects/{first.pk}/")
    assert page.get_by_test_id("given-label").text_content() == "Blip"
    assert page.locator(".durations img").count() == 4
    assert "Tomte" in page.get_by_test_id("top3").text_content()
    assert "ann" in page.get_by_test_id("votes").text_content()
    neighbours = page.get_by_test_id("neighbours")
    assert neighbours.get_by_role("heading").all_text_contents() == [
        "Nearest Blip",
        "Nearest Tomte",
    ]
    assert neighbours.locator("img").count() == 5  # 3 Blips (fine and two more), 2 Tomtes

    page.keyboard.press("/")
    page.keyboard.type("pointed hat, broad base")
    page.keyboard.press("Escape")
    page.wait_for_selector(KEYS_ON, state="attached")  # a verdict key waits for a look
    page.keyboard.press("r")  # relabel to the suggested class
    page.wait_for_url(f"**/review/suspects/{second.pk}/")
    assert page.get_by_test_id("gold-tag").is_visible()
    page.wait_for_selector(KEYS_ON, state="attached")
    page.keyboard.press("u")
    page.wait_for_url(f"**/review/suspects/{third.pk}/")
    assert page.get_by_test_id("given-label").text_content() == "Blip"
    page.wait_for_selector(KEYS_ON, state="attached")
    page.keyboard.press("a")
    page.wait_for_url("**/review/")
    assert page.get_by_test_id("review-empty").is_visible()

    hat.refresh_from_db()
    assert hat.retired_label.name == "Tomte"
    change = LabelChange.objects.get()
    assert (change.before, change.after, change.changed_by.username) == ("Blip", "Tomte", "rita")
    assert change.reason == "pointed hat, broad base"
    assert sorted(Verdict.objects.values_list("decision", flat=True)) == [
        "agree",
        "relabel",
        "unsure",
    ]
    with page.expect_download() as download:
        page.get_by_test_id("changes-csv").click()
    text = Path(download.value.path()).read_text()
    assert f"{hat.external_id},retired_label,Blip,Tomte,rita,relabel" in text


def test_a_volunteer_sees_no_review_link_and_is_refused(page, seeded):
    finished_audit((retired_subject("Blip"), "Blip", "Tomte"))
    volunteer("vic")
    log_in(page, "vic")
    assert page.get_by_test_id("nav-review").count() == 0
    response = page.goto("/review/")
    assert response.status == 403
