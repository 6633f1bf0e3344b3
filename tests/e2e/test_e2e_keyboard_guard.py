"""A careless or cheating volunteer at the keyboard casts no extra votes: a held key's
repeats, a second press a moment after the next glitch appeared, a double click, a second
key while the next glitch loads: each casts exactly one vote, counted in the database."""

import time

import pytest
from webapp_factories import SubjectFactory, UserFactory

from webapp.labeling.models import Classification

pytestmark = pytest.mark.e2e

VOTABLE = "#label-app[data-votable]"  # set by label.js once a glitch has been seen long enough


@pytest.fixture
def volunteer_at_the_page(page, seeded):
    seeded.GLITCHLAB_GOLD_RATE = 0
    subjects = [SubjectFactory(priority=10 - i) for i in range(4)]
    UserFactory(username="vol")
    log_in(page)
    return subjects


def log_in(page) -> None:
    page.goto("/accounts/login/?next=/label/")
    page.fill("#id_username", "vol")
    page.fill("#id_password", "pw")
    page.keyboard.press("Enter")
    page.wait_for_url("**/label/")
    page.wait_for_selector(VOTABLE, state="attached")


def shown(page) -> int:
    return int(page.get_attribute("#label-app", "data-subject"))


def votes_posted(page) -> list[dict]:
    """The bodies of the votes the page sends from now on, as they are sent."""
    posted: list[dict] = []

    def record(request) -> None:
        if request.method == "POST" and request.url.endswith("/api/classifications/"):
            posted.append(request.post_data_json)

    page.on("request", record)
    return posted


def settle(page) -> list[tuple[int, str]]:
    """Every vote the page has sent, once the server has stored them all."""
    page.wait_for_selector("#label-app[data-pending='0']", state="attached")
    page.wait_for_timeout(300)  # a late extra vote would have been sent by now
    page.wait_for_selector("#label-app[data-pending='0']", state="attached")
    votes = Classification.objects.filter(volunteer__username="vol").order_by("pk")
    return list(votes.values_list("subject_id", "glitch_class__name"))


def test_a_held_key_votes_once(page, volunteer_at_the_page):
    first, second, *_ = volunteer_at_the_page
    page.keyboard.down("b")  # the press
    for _ in range(3):  # the key stays down: the browser repeats it (event.repeat)
        page.wait_for_selector(VOTABLE, state="attached")  # the next glitch could take a key
        page.keyboard.down("b")
    page.keyboard.up("b")
    assert settle(page) == [(first.pk, "Blip")]
    assert shown(page) == second.pk


def test_a_second_press_92_ms_later_is_not_a_vote_on_the_next_glitch(page, volunteer_at_the_page):
    first, second, third, _ = volunteer_at_the_page
    page.keyboard.press("b")
    page.wait_for_timeout(92)
    page.keyboard.press("b")  # the next glitch has been on screen for under 100 ms
    assert settle(page) == [(first.pk, "Blip")]
    assert shown(page) == second.pk
    # Once it has been on screen long enough, the next glitch takes its own vote.
    page.wait_for_selector(VOTABLE, state="attached")
    page.keyboard.press("w")
    assert settle(page) == [(first.pk, "Blip"), (second.pk, "Whistle")]
    assert shown(page) == third.pk


def test_a_double_click_votes_once(page, volunteer_at_the_page):
    first, second, *_ = volunteer_at_the_page
    page.dblclick("#choices button[data-class=Blip]")
    assert settle(page) == [(first.pk, "Blip")]
    assert shown(page) == second.pk


def test_a_glitch_takes_one_vote_while_the_next_one_loads(page, seeded, monkeypatch):
    """Nothing waits behind the glitch on screen (the server is slow to send the next):
    the vote waits for it, the glitch stays on screen, and a second key must not vote."""
    from webapp.labeling import selectors

    seeded.GLITCHLAB_GOLD_RATE = 0
    first, second = SubjectFactory(priority=2), SubjectFactory(priority=1)
    UserFactory(username="vol")
    calls = []
    original = selectors.subject_next_for_volunteer

    def slow_after_the_first(**kwargs):
        calls.append(kwargs)
        if len(calls) > 1:
            time.sleep(1.5)
        return original(**kwargs)

    monkeypatch.setattr(selectors, "subject_next_for_volunteer", slow_after_the_first)
    log_in(page)
    posted = votes_posted(page)
    assert shown(page) == first.pk
    page.keyboard.press("b")
    page.wait_for_selector("#label-app[data-state=loading]", state="attached")
    page.keyboard.press("w")  # the same glitch, still on screen: no second vote
    page.wait_for_selector(f"#label-app[data-subject='{second.pk}']", state="attached")
    assert settle(page) == [(first.pk, "Blip")]
    # The server would refuse a second vote on the glitch (409); the page must not try.
    assert [(v["subject"], v["glitch_class"]) for v in posted] == [(first.pk, "Blip")]
