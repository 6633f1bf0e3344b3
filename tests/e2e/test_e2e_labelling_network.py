"""The labelling page when the network or the server fails: a vote pressed while the next
glitch cannot be loaded waits, is sent once the server answers again, and the page goes
on taking keys; while it waits, the page says so."""

import re

import pytest
from labelling_page import VOTABLE, log_in, stored
from playwright.sync_api import expect
from webapp_factories import SubjectFactory, UserFactory, gold_subject

from webapp.labeling.models import Classification

pytestmark = pytest.mark.e2e

APP = "#label-app"
NEXT = "**/api/subjects/next/**"
OFFLINE = re.compile(r"\boffline\b")  # the feedback's class while the server cannot be reached


@pytest.fixture
def subjects(seeded):
    seeded.GLITCHLAB_GOLD_RATE = 0
    UserFactory(username="vol")
    return [SubjectFactory(priority=10 - i) for i in range(4)]


def first_next_then(network: dict, failure):
    """A route for GET next: the first request (the glitch shown at start) passes, the rest
    fail with `failure` while network["up"] is false."""
    calls = []

    def route(route):
        calls.append(route.request.url)
        if len(calls) == 1 or network["up"]:
            route.continue_()
        else:
            failure(route)

    return route


def test_a_vote_pressed_while_offline_is_sent_once_the_network_is_back(page, subjects):
    first, second, third, _ = subjects
    network = {"up": False}
    page.route(NEXT, first_next_then(network, lambda route: route.abort("internetdisconnected")))
    with page.expect_event("requestfailed", lambda r: "/api/subjects/next/" in r.url):
        log_in(page)  # the glitch after it could not be preloaded: the connection dropped
    page.keyboard.press("b")  # the vote waits for the next glitch
    expect(page.locator(APP)).to_have_attribute("data-state", "loading")
    page.wait_for_timeout(300)
    network["up"] = True
    app = page.locator(APP)
    expect(app).to_have_attribute("data-subject", str(second.pk), timeout=10_000)
    expect(app).to_have_attribute("data-state", "ready")
    assert stored(page) == [(first.pk, "Blip")]
    # The page takes keys again, and votes as before.
    page.wait_for_selector(VOTABLE, state="attached")
    page.keyboard.press("w")
    expect(app).to_have_attribute("data-subject", str(third.pk))
    assert stored(page) == [(first.pk, "Blip"), (second.pk, "Whistle")]


def test_while_the_server_fails_the_page_says_so_and_the_vote_waits(page, subjects):
    first, second, *_ = subjects
    network = {"up": False}
    unavailable = {"status": 503, "json": {"detail": "Service unavailable."}}
    page.route(NEXT, first_next_then(network, lambda route: route.fulfill(**unavailable)))
    log_in(page)
    feedback = page.locator("[data-testid=feedback]")
    expect(feedback).to_have_class(OFFLINE)
    expect(feedback).to_contain_text("The server is busy or failing (HTTP 503)")
    page.keyboard.press("b")
    expect(page.locator(APP)).to_have_attribute("data-state", "loading")
    assert Classification.objects.count() == 0  # not sent yet: it waits for the next glitch
    network["up"] = True
    expect(page.locator(APP)).to_have_attribute("data-subject", str(second.pk), timeout=10_000)
    assert stored(page) == [(first.pk, "Blip")]
    expect(feedback).not_to_have_class(OFFLINE)
    expect(feedback).to_contain_text("Vote saved: Blip.")


def test_an_undo_the_network_drops_leaves_the_page_taking_keys(page, subjects):
    """Before: an undo whose request failed (offline) left the page busy for good: no key
    or undo worked again, even once the network was back."""
    first, second, third, _ = subjects
    log_in(page)
    page.keyboard.press("b")
    app = page.locator(APP)
    expect(app).to_have_attribute("data-subject", str(second.pk))
    assert stored(page) == [(first.pk, "Blip")]
    page.route("**/api/classifications/undo/", lambda route: route.abort("internetdisconnected"))
    page.keyboard.press("Backspace")
    expect(page.locator("#feedback")).to_contain_text("cannot be reached")
    page.unroute("**/api/classifications/undo/")
    page.wait_for_selector(VOTABLE, state="attached")
    page.keyboard.press("w")
    expect(app).to_have_attribute("data-subject", str(third.pk))
    assert stored(page) == [(first.pk, "Blip"), (second.pk, "Whistle")]


def test_an_undo_pressed_while_the_vote_is_on_its_way_takes_that_vote_back_once(page, subjects):
    """Before: Backspace pressed while the vote was still being sent (a slow link: a wrong
    key corrected at once) did nothing and said nothing, and the wrong vote counted. Now the
    page says it waits for the vote, takes it back once it is stored, and a second press
    meanwhile takes back nothing more (the vote before stays)."""
    first, second, third, _ = subjects
    log_in(page)
    page.keyboard.press("b")
    app = page.locator(APP)
    expect(app).to_have_attribute("data-subject", str(second.pk))
    assert stored(page) == [(first.pk, "Blip")]
    held = []
    page.route("**/api/classifications/", lambda route: held.append(route))  # not undo/
    page.wait_for_selector(VOTABLE, state="attached")
    page.keyboard.press("w")
    expect(app).to_have_attribute("data-subject", str(third.pk))
    page.keyboard.press("Backspace")
    page.keyboard.press("Backspace")
    feedback = page.locator("#feedback")
    expect(feedback).to_contain_text(f"Your vote on glitch #{second.pk} is still being sent")
    [vote] = held
    vote.continue_()
    expect(app).to_have_attribute("data-subject", str(second.pk))
    expect(feedback).to_contain_text("Your last vote was undone")
    assert stored(page) == [(first.pk, "Blip")]


def test_a_proxy_that_says_too_many_requests_is_asked_again_and_the_vote_is_sent(page, subjects):
    """A 429 (a proxy's rate limit) is asked again, the vote too, and said as such."""
    first, second, *_ = subjects
    network = {"up": False}
    busy = {"status": 429, "json": {"detail": "Slow down."}}
    page.route(NEXT, first_next_then(network, lambda route: route.fulfill(**busy)))
    votes = {"refused": 0}

    def votes_once_refused(route):
        if votes["refused"] == 0:
            votes["refused"] += 1
            route.fulfill(**busy)
        else:
            route.continue_()

    page.route("**/api/classifications/", votes_once_refused)
    log_in(page)
    feedback = page.locator("[data-testid=feedback]")
    expect(feedback).to_contain_text("busy or failing (HTTP 429)")
    page.keyboard.press("b")
    network["up"] = True
    expect(page.locator(APP)).to_have_attribute("data-subject", str(second.pk), timeout=10_000)
    assert stored(page) == [(first.pk, "Blip")]
    assert votes["refused"] == 1
    expect(feedback).to_contain_text("Vote saved: Blip.")


def test_a_refusal_to_hand_out_the_next_glitch_is_said_and_the_page_takes_keys(page, subjects):
    """Before: a 400 from GET next was asked again for ever and called "cannot be reached";
    the vote pressed meanwhile waited for good. Now the server's reason is said, the glitch
    on screen takes a key again, and once the server hands out glitches the vote goes."""
    first, second, *_ = subjects
    network = {"up": False}
    refused = {"status": 400, "json": {"exclude": ["at most 100 ids"], "detail": "bad exclude"}}
    page.route(NEXT, first_next_then(network, lambda route: route.fulfill(**refused)))
    log_in(page)
    page.keyboard.press("b")
    feedback = page.locator("[data-testid=feedback]")
    expect(feedback).to_contain_text("could not be loaded (bad exclude): vote again")
    app = page.locator(APP)
    expect(app).to_have_attribute("data-state", "ready")
    assert Classification.objects.count() == 0
    network["up"] = True
    page.wait_for_selector(VOTABLE, state="attached")
    page.keyboard.press("b")
    expect(app).to_have_attribute("data-subject", str(second.pk), timeout=10_000)
    assert stored(page) == [(first.pk, "Blip")]


def test_a_level_ups_classes_that_cannot_be_had_leave_the_keys_working(page, seeded):
    """Before: the new class list's refusal (429 from a proxy) became the class list, every
    key press threw (state.classes.find is not a function) and voted nothing, and the page
    said nothing. Now the classes so far keep working, the page says why the new ones are
    missing, and asks again until they come."""
    seeded.GLITCHLAB_GOLD_RATE = 1.0
    seeded.GLITCHLAB_PROMOTION_MIN_GOLD = 1
    golds = {g.pk: g for g in (gold_subject("Blip"), gold_subject("Whistle"))}
    for i in range(6):
        SubjectFactory(priority=10 - i)
    UserFactory(username="vol")
    network = {"up": False}
    busy = {"status": 429, "json": {"detail": "Slow down."}}
    page.route(
        "**/api/classes/?unlocked=1",
        lambda route: route.continue_() if network["up"] else route.fulfill(**busy),
    )
    log_in(page)
    app = page.locator(APP)
    level = page.locator("[data-testid=level]")
    for _ in range(5):
        if level.inner_text() == "Level 2":
            break
        gold = golds.get(int(page.get_attribute(APP, "data-subject")))
        page.wait_for_selector(VOTABLE, state="attached")
        page.keyboard.press(gold.gold_label.key if gold is not None else "b")
        page.wait_for_selector("#label-app[data-pending='0']", state="attached")
    expect(level).to_have_text("Level 2")
    levelup = page.locator("#levelup")
    expect(levelup).to_contain_text("could not be loaded yet (HTTP 429): trying again")
    n = Classification.objects.count()
    shown = page.get_attribute(APP, "data-subject")
    page.wait_for_selector(VOTABLE, state="attached")
    page.keyboard.press("w")  # the keys of the classes so far still vote
    expect(app).not_to_have_attribute("data-subject", shown)
    page.wait_for_selector("#label-app[data-pending='0']", state="attached")
    assert Classification.objects.count() == n + 1
    assert page.locator("button[data-class=Koi_Fish]").count() == 0
    network["up"] = True
    expect(levelup).to_contain_text("New classes: Koi Fish", timeout=10_000)
    expect(page.locator("button[data-class=Koi_Fish]")).to_be_visible()


def promoting(page, after=None) -> None:
    """Every vote's answer says its volunteer went up a level (to 2, then 3, ...); `after`
    is called with the route once the server has answered it."""
    levels = iter(range(2, 100))

    def route(route):
        response = route.fetch()
        body = response.json()
        body.update(promoted=True, progress={**body["progress"], "level": next(levels)})
        if after:
            after(route)
        route.fulfill(response=response, json=body)

    page.route("**/api/classifications/", route)


def test_a_level_up_after_the_session_ended_goes_to_the_login(page, subjects):
    """Before: the new class list was refused (403: no one signed in any more) and asked for
    again every 8 s for good, the page saying "could not be loaded yet (HTTP 403): trying
    again"; as for the list, the API answered every class to no one signed in."""
    promoting(page, after=lambda route: page.context.clear_cookies())  # the session ends
    log_in(page)
    page.keyboard.press("b")
    page.wait_for_url("**/accounts/login/?next=/label/&expired=1")
    assert Classification.objects.count() == 1


def test_level_ups_one_after_another_ask_for_their_classes_in_one_loop(page, subjects):
    """Before: each level-up started a loop of its own asking for the class list until it
    came, and an older loop's answer could come last, saying the older level. Now a second
    level-up while the list is asked for raises the level the one loop announces, and a list
    asked for before it is asked for again."""
    promoting(page)
    held = []
    page.route("**/api/classes/?unlocked=1", lambda route: held.append(route))
    log_in(page)
    page.keyboard.press("b")
    page.wait_for_selector(f"{APP}:not([data-votable])", state="attached")
    page.wait_for_selector(VOTABLE, state="attached")
    page.keyboard.press("w")
    for _ in range(200):
        if Classification.objects.count() == 2:
            break
        page.wait_for_timeout(25)
    page.wait_for_timeout(500)  # time for a second loop to ask, had one started
    assert len(held) == 1
    held[0].continue_()  # the list as it was before the second level-up: asked again
    for _ in range(200):
        if len(held) == 2:
            break
        page.wait_for_timeout(25)
    held[1].continue_()
    levelup = page.locator("#levelup")
    expect(levelup).to_contain_text("Level 3! New classes")
    page.wait_for_timeout(1000)
    assert len(held) == 2
    assert stored(page) == [(subjects[0].pk, "Blip"), (subjects[1].pk, "Whistle")]


def test_an_undo_waiting_on_a_training_glitchs_answer_leaves_the_answer_said(page, seeded):
    """Before: Backspace while a training glitch's answer was on its way asked the server to
    undo it once stored; the server never undoes one ("its first answer counts"), and that
    refusal replaced the right answer, on screen for one round trip. Now the page asks for
    nothing and the answer stays said."""
    seeded.GLITCHLAB_GOLD_RATE = 1.0
    gold = gold_subject("Whistle", priority=10)
    SubjectFactory(priority=1)
    UserFactory(username="vol")
    undos = []
    page.on("request", lambda r: undos.append(r.url) if "undo" in r.url else None)
    held = []
    page.route("**/api/classifications/", lambda route: held.append(route))  # not undo/
    log_in(page)
    expect(page.locator(APP)).to_have_attribute("data-subject", str(gold.pk))
    page.wait_for_selector(VOTABLE, state="attached")
    page.keyboard.press("b")
    page.keyboard.press("Backspace")
    feedback = page.locator("#feedback")
    expect(feedback).to_contain_text(f"Your vote on glitch #{gold.pk} is still being sent")
    until_held = 0
    while not held and until_held < 200:
        page.wait_for_timeout(25)
        until_held += 1
    [vote] = held
    vote.continue_()
    expect(feedback).to_contain_text("That training glitch's answer is Whistle, not Blip")
    page.wait_for_timeout(500)  # an undo would have been asked by now
    expect(feedback).to_contain_text("That training glitch's answer is Whistle, not Blip")
    assert undos == []
    assert Classification.objects.get(subject=gold).glitch_class.name == "Blip"
