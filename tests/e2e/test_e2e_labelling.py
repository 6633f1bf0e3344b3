"""A volunteer in a real browser: signs up, labels with the keyboard only, learns from gold
feedback, is promoted, and undoes a vote. Also measures key press -> next subject shown."""

import statistics

import pytest
from django.core.files.base import ContentFile
from webapp_factories import SubjectFactory, UserFactory, glitch_class, gold_subject, tiny_png

from webapp.labeling.models import (
    Classification,
    GlitchClass,
    GlitchClassExample,
    Subject,
    VolunteerProfile,
)

pytestmark = pytest.mark.e2e


def shown_subject(page) -> Subject:
    page.wait_for_selector("#label-app[data-state=ready]")
    return Subject.objects.get(pk=int(page.get_attribute("#label-app", "data-subject")))


def press_and_wait_for_next(page, key: str) -> None:
    # A key counts once the glitch has been on screen for label.js's MIN_VIEW_MS.
    page.wait_for_selector("#label-app[data-votable]", state="attached")
    before = page.get_attribute("#label-app", "data-subject")
    page.keyboard.press(key)
    page.wait_for_function(
        "before => { const app = document.getElementById('label-app');"
        " return app.dataset.subject !== before || app.dataset.state === 'empty'; }",
        arg=before,
    )


def wait_until_stored(page) -> None:
    page.wait_for_selector("#label-app[data-pending='0']", state="attached")


def test_new_volunteer_signs_up_labels_five_by_keyboard_and_is_promoted(page, seeded, capsys):
    seeded.GLITCHLAB_PROMOTION_MIN_GOLD = 1
    seeded.GLITCHLAB_GOLD_RATE = 1.0  # each turn gold; the preload behind a gold one is pool
    gold_subject("Blip")
    gold_subject("Whistle")
    for _ in range(5):
        SubjectFactory()

    page.goto("/accounts/signup/")
    # The username field has autofocus; typing before it applies would lose letters.
    page.wait_for_selector("#id_username:focus")
    page.keyboard.type("newbie")
    page.keyboard.press("Tab")
    page.keyboard.type("a-Long-pass-123")
    page.keyboard.press("Tab")
    page.keyboard.type("a-Long-pass-123")
    page.keyboard.press("Enter")
    page.wait_for_url("**/label/")
    assert page.inner_text("[data-testid=logout]") == "Log out newbie"
    assert page.inner_text("[data-testid=level]") == "Level 1"

    api_calls: list[str] = []
    page.on("request", lambda r: api_calls.append(r.method + " " + r.url.split("/api/")[-1]))
    gold_feedback = []
    for _ in range(5):
        subject = shown_subject(page)
        key = subject.gold_label.key if subject.is_gold else "b"
        press_and_wait_for_next(page, key)
        wait_until_stored(page)
        if subject.is_gold:
            gold_feedback.append(page.inner_text("[data-testid=feedback]"))

    assert len(gold_feedback) == 2
    assert all("Right! That training glitch's answer is" in text for text in gold_feedback)
    page.wait_for_selector("[data-testid=promoted]")
    assert page.inner_text("[data-testid=level]") == "Level 2"
    assert page.locator("button[data-class=Koi_Fish] kbd").inner_text() == "K"
    assert VolunteerProfile.objects.get(user__username="newbie").level == 2
    assert Classification.objects.filter(volunteer__username="newbie").count() == 5
    # One request per vote: each vote's answer brings the subject to preload next (the
    # page asks GET next only while it starts).
    votes = [i for i, call in enumerate(api_calls) if call.startswith("POST classifications/")]
    assert len(votes) == 5
    assert not any(call.startswith("GET subjects/next/") for call in api_calls[votes[0] :])

    timings = page.evaluate("window.glitchlabTimings")
    assert len(timings) == 5
    with capsys.disabled():
        median, worst = statistics.median(timings), max(timings)
        print(
            f"\n[e2e] key press -> next subject painted: median {median:.1f} ms,"
            f" max {worst:.1f} ms over {len(timings)} votes"
        )


def test_a_vote_is_undone_and_cast_again(page, seeded):
    seeded.GLITCHLAB_GOLD_RATE = 0
    first, _second = SubjectFactory(priority=2), SubjectFactory(priority=1)
    UserFactory(username="vol")
    page.goto("/accounts/login/")
    page.fill("#id_username", "vol")
    page.fill("#id_password", "pw")
    page.keyboard.press("Enter")
    page.wait_for_url("**/label/")

    assert shown_subject(page) == first
    page.keyboard.press("3")  # one duration large
    assert page.locator(".duration[data-slot='1']").is_hidden()
    assert page.locator(".duration[data-slot='3']").is_visible()
    page.keyboard.press("Escape")
    assert page.locator(".duration[data-slot='1']").is_visible()

    press_and_wait_for_next(page, "b")
    wait_until_stored(page)
    assert Classification.objects.filter(volunteer__username="vol").count() == 1
    # the feedback links to the glitch just voted on, to see what becomes of it
    link = page.locator("[data-testid=voted-glitch]")
    assert link.get_attribute("href") == f"/subjects/{first.pk}/"
    press_and_wait_for_next(page, "Backspace")
    assert shown_subject(page) == first
    assert page.locator(".feedback.undone").is_visible()
    assert Classification.objects.filter(volunteer__username="vol").count() == 0

    press_and_wait_for_next(page, "w")
    wait_until_stored(page)
    vote = Classification.objects.get(volunteer__username="vol")
    assert (vote.subject, vote.glitch_class.name) == (first, "Whistle")


def open_the_drawer_as_a_new_volunteer(page) -> None:
    """Log in as a new volunteer, who lands on /label/, and open the ? drawer."""
    UserFactory(username="vol")
    page.goto("/accounts/login/")
    page.fill("#id_username", "vol")
    page.fill("#id_password", "pw")
    page.keyboard.press("Enter")
    page.wait_for_url("**/label/")
    page.wait_for_selector("#label-app[data-state=ready]")
    page.keyboard.press("?")
    page.wait_for_selector("#guide:not([hidden])")


def test_the_drawer_marks_simulated_examples(page, seeded):
    seeded.GLITCHLAB_GOLD_RATE = 0
    SubjectFactory()
    blip = glitch_class("Blip")
    for name, simulated in (("real", False), ("sim", True)):
        example = GlitchClassExample(glitch_class=blip, source_name=name, simulated=simulated)
        example.image.save(f"{name}.png", ContentFile(tiny_png()), save=True)
    open_the_drawer_as_a_new_volunteer(page)
    grid = page.locator("#guide-grid")
    assert grid.locator(".guide-example img").count() == 2  # Blip's two, no other examples
    caption = grid.locator("[data-testid=simulated]")
    assert caption.count() == 1 and caption.is_visible() and caption.inner_text() == "simulated"
    assert grid.locator(".guide-example.simulated img").count() == 1


def test_the_drawer_says_how_to_tell_a_class_apart_as_text(page, seeded):
    seeded.GLITCHLAB_GOLD_RATE = 0
    SubjectFactory()
    GlitchClass.objects.filter(name="Blip").update(tell_apart="<b>Tomte</b> is broader")
    open_the_drawer_as_a_new_volunteer(page)
    line = page.locator("#guide-grid .tell-apart")
    assert line.count() >= 1
    texts = line.all_inner_texts()
    assert "Telling it apart: <b>Tomte</b> is broader" in texts  # the admin's text, as text
    assert page.locator("#guide-grid .tell-apart b").count() == 0


def test_a_glitch_preloaded_longer_ago_than_its_assignment_lasts_is_fetched_again(
    page, seeded, monkeypatch
):
    """A tab left open: the glitch on screen and the one preloaded behind it were both handed
    out longer ago than an assignment lasts. The page reads that time from the server (here
    4 s, not 30 minutes) and asks for the preloaded one again before it shows it, so only
    the vote on the glitch that sat on screen is refused."""
    from webapp.labeling import services

    monkeypatch.setattr(services, "ASSIGNMENT_MAX_AGE_S", 4)
    seeded.GLITCHLAB_GOLD_RATE = 0
    first, second, _third = (SubjectFactory(priority=3 - i) for i in range(3))
    UserFactory(username="vol")
    page.goto("/accounts/login/")
    page.fill("#id_username", "vol")
    page.fill("#id_password", "pw")
    page.keyboard.press("Enter")
    page.wait_for_url("**/label/")
    assert shown_subject(page) == first
    page.wait_for_timeout(4_500)  # both assignments have run out
    press_and_wait_for_next(page, "b")
    wait_until_stored(page)
    assert "on screen too long" in page.inner_text("[data-testid=feedback]")
    assert shown_subject(page) == second  # asked for again: it comes with a new assignment
    press_and_wait_for_next(page, "w")
    wait_until_stored(page)
    votes = Classification.objects.filter(volunteer__username="vol")
    assert list(votes.values_list("subject_id", "glitch_class__name")) == [(second.pk, "Whistle")]
    assert page.inner_text("[data-testid=feedback]").startswith("Vote saved: Whistle.")
