"""The labelling page for a careless or keyboard-only volunteer: Enter held on a focused
class button, a session that ends mid-labelling, a page left while a vote waits for the
network, the progress line after a first mistake and the rule to level up on screen, focus
kept through a level-up, a keyboard without Latin letters, a system that asks for less
motion."""

import re
import time

import pytest
from conftest import watched_page
from django.contrib.auth import get_user_model
from labelling_page import VOTABLE, log_in, stored
from playwright.sync_api import expect
from webapp_factories import SubjectFactory, UserFactory, gold_subject

from webapp.labeling.models import Classification

pytestmark = pytest.mark.e2e

APP = "#label-app"


@pytest.fixture
def pool(seeded):
    seeded.GLITCHLAB_GOLD_RATE = 0
    UserFactory(username="vol")
    return [SubjectFactory(priority=10 - i) for i in range(5)]


def test_enter_held_on_a_focused_class_button_votes_once(page, pool):
    """Before: each repeat of a held Enter clicked the focused button again: 8 votes on 8
    glitches nobody looked at in two seconds."""
    log_in(page)
    page.locator("button[data-class=Blip]").focus()
    for _ in range(6):
        page.keyboard.down("Enter")  # the second and later are repeats, as a held key sends
        page.wait_for_timeout(150)
    page.keyboard.up("Enter")
    expect(page.locator(APP)).to_have_attribute("data-subject", str(pool[1].pk))
    page.wait_for_timeout(600)  # long enough for every repeat to have voted, had it
    assert stored(page) == [(pool[0].pk, "Blip")]


def test_a_vote_pressed_after_the_session_ended_is_sent_once_back(page, pool):
    """Before: the key press went to the login page and the vote was lost without a word.
    Now it is kept in the tab, the login page is told why it came, and after logging in
    again the vote is stored, once."""
    log_in(page)
    page.context.clear_cookies()  # the session ends (expired, logged out in another tab)
    page.keyboard.press("b")
    page.wait_for_url("**/accounts/login/**expired=1&kept=1")
    expect(page.locator("[data-testid=session-ended]")).to_contain_text(
        "The vote you pressed is kept"
    )
    assert Classification.objects.count() == 0
    page.fill("#id_username", "vol")
    page.fill("#id_password", "pw")
    page.keyboard.press("Enter")
    page.wait_for_url("**/label/")
    expect(page.locator("[data-testid=feedback]")).to_contain_text("Vote saved: Blip.")
    assert stored(page) == [(pool[0].pk, "Blip")]
    assert page.get_attribute(APP, "data-subject") != str(pool[0].pk)  # not handed out again
    page.reload()  # sent once: nothing kept to send again
    page.wait_for_selector(VOTABLE, state="attached")
    assert stored(page) == [(pool[0].pk, "Blip")]


def test_a_first_wrong_answer_reads_plainly_beside_the_glitch_answered(page, seeded):
    """Before: a wrong "Whistle" on a Blip training glitch read "Whistle: 0% of 0", the
    answer spoke of a glitch no longer on screen, and put "a" before the class ("was a None
    of the Above", "a Air Compressor"). Now the glitch is shown beside it, and the answer
    is named without an article."""
    seeded.GLITCHLAB_GOLD_RATE = 1.0
    gold = gold_subject("Blip")
    SubjectFactory()
    UserFactory(username="vol")
    log_in(page)
    page.keyboard.press("w")
    expect(page.locator("[data-testid=feedback]")).to_contain_text(
        "✗ That training glitch's answer is Blip, not Whistle."
    )
    progress = page.locator("[data-testid=progress]")
    expect(progress).to_contain_text("Whistle: none shown yet (1 answered Whistle, 0 right)")
    expect(progress).to_contain_text("Blip: 0% of 1")
    thumb = page.locator("[data-testid=feedback] img.feedback-thumb")
    assert thumb.get_attribute("src") == gold.images.get(duration=1.0).image.url


def test_what_it_takes_to_level_up_is_on_screen_not_in_a_tooltip(page, pool, seeded):
    """Before: the rule (70% on 3 training glitches of each class) was only in the title
    of text that takes no focus: no keyboard or touch volunteer ever saw it. Now it is a
    line of the progress, its numbers the server's promotion settings."""
    seeded.GLITCHLAB_PROMOTION_ALPHA = 0.8
    seeded.GLITCHLAB_PROMOTION_MIN_GOLD = 4
    log_in(page)
    expect(page.locator("[data-testid=level-rule]")).to_have_text(
        "To reach level 2: 80% or better on at least 4 training glitches of each class below."
    )
    expect(page.locator("[data-testid=level-rule]")).to_be_visible()


def test_a_level_up_keeps_the_focus_on_the_class_button_pressed(page, seeded):
    """Before: the level-up rebuilt the buttons and the focus fell to the page's body (a
    screen reader lost its place). The button is pressed from the keyboard (a mouse's click
    leaves no focus behind: test_a_clicked_class_button_keeps_no_focus...)."""
    seeded.GLITCHLAB_GOLD_RATE = 1.0
    seeded.GLITCHLAB_PROMOTION_MIN_GOLD = 1
    golds = {g.pk: g for g in (gold_subject("Blip"), gold_subject("Whistle"))}
    for _ in range(3):
        SubjectFactory()
    UserFactory(username="vol")
    log_in(page)
    for _ in range(5):
        gold = golds.get(int(page.get_attribute(APP, "data-subject")))
        name = gold.gold_label.name if gold is not None else "Blip"
        page.locator(f"button[data-class={name}]").focus()
        page.keyboard.press("Enter")
        page.wait_for_selector("#label-app[data-pending='0']", state="attached")
        if page.locator("[data-testid=promoted]").count():
            expect(page.locator("[data-testid=promoted]")).to_be_visible()
            assert page.evaluate("document.activeElement.dataset.class || ''") == name
            return
        page.wait_for_selector(VOTABLE, state="attached")
    pytest.fail("no promotion after five votes")


def test_a_kept_vote_stays_in_the_tab_until_the_server_has_answered_it(page, pool):
    """Before: the kept votes left the tab's storage before they were sent, so a tab closed
    while one was on its way lost it. And an entry that is not a vote is passed over."""
    log_in(page)
    page.context.clear_cookies()
    page.keyboard.press("b")
    page.wait_for_url("**/accounts/login/**kept=1")
    page.evaluate(
        """() => {
          const kept = JSON.parse(sessionStorage.getItem("glitchlab.unsent-votes"));
          sessionStorage.setItem("glitchlab.unsent-votes", JSON.stringify([null, ...kept]));
        }"""
    )
    held = []
    page.route("**/api/classifications/", lambda route: held.append(route))
    page.fill("#id_username", "vol")
    page.fill("#id_password", "pw")
    page.keyboard.press("Enter")
    page.wait_for_url("**/label/")
    for _ in range(100):  # the page sends the kept vote first
        if held:
            break
        page.wait_for_timeout(50)
    assert held, "the kept vote was not sent"
    kept = page.evaluate("() => sessionStorage.getItem('glitchlab.unsent-votes')")
    assert kept is not None and '"glitch_class":"Blip"' in kept
    held[0].continue_()
    page.unroute("**/api/classifications/")
    expect(page.locator("[data-testid=feedback]")).to_contain_text("Vote saved: Blip.")
    assert page.evaluate("() => sessionStorage.getItem('glitchlab.unsent-votes')") is None
    assert stored(page) == [(pool[0].pk, "Blip")]


def test_a_kept_vote_whose_glitch_was_held_too_long_says_so_plainly(page, pool):
    """A kept vote sent after its glitch's assignment ran out (handed out over 30 minutes
    before the login) is refused: the page said the API's sentence ("ask for your next
    glitch (GET /api/subjects/next/) ..."); it says what happened to the vote instead. A
    kept vote pressed in another account's session (logged in since on the tab) is said as
    not handed to this one, not as too late."""
    log_in(page)
    page.context.clear_cookies()
    page.keyboard.press("b")
    page.wait_for_url("**/accounts/login/**kept=1")
    vote = page.evaluate("() => JSON.parse(sessionStorage.getItem('glitchlab.unsent-votes'))[0]")
    expired = _signed_long_ago(vote["assignment"])
    page.evaluate(
        """(assignment) => {
          const kept = JSON.parse(sessionStorage.getItem("glitchlab.unsent-votes"));
          kept[0].assignment = assignment;
          sessionStorage.setItem("glitchlab.unsent-votes", JSON.stringify(kept));
        }""",
        expired,
    )
    page.fill("#id_username", "vol")
    page.fill("#id_password", "pw")
    page.keyboard.press("Enter")
    page.wait_for_url("**/label/")
    feedback = page.locator("[data-testid=feedback]")
    expect(feedback).to_contain_text("came too long after its glitch was handed to you")
    expect(feedback).not_to_contain_text("/api/")
    assert stored(page) == []


def test_a_kept_vote_of_another_accounts_session_is_not_sent(page, pool):
    """Before: it was sent under the account logged in since on the tab (the server refused
    it, not_assigned). Now the kept votes name their volunteer, and another's stay unsent."""
    UserFactory(username="other")
    log_in(page)
    page.context.clear_cookies()
    page.keyboard.press("b")
    page.wait_for_url("**/accounts/login/**kept=1")
    posted = []
    page.on("request", lambda r: posted.append(r.url) if r.method == "POST" else None)
    page.fill("#id_username", "other")  # someone else logs in on the tab
    page.fill("#id_password", "pw")
    page.keyboard.press("Enter")
    page.wait_for_url("**/label/")
    feedback = page.locator("[data-testid=feedback]")
    expect(feedback).to_contain_text("under another account was not sent")
    page.wait_for_selector(VOTABLE, state="attached")
    assert not [url for url in posted if url.endswith("/api/classifications/")]
    assert page.evaluate("() => sessionStorage.getItem('glitchlab.unsent-votes')") is None
    assert Classification.objects.count() == 0


def test_a_vote_waiting_for_the_network_is_sent_after_the_page_was_left(page, pool):
    """Before: a vote waiting for the network lived in the page only ("A vote you make is
    kept and sent once it answers"): a link followed meanwhile lost it, and its glitch was
    handed out again."""
    log_in(page)
    page.route("**/api/classifications/", lambda route: route.abort("internetdisconnected"))
    page.keyboard.press("b")
    expect(page.locator("[data-testid=feedback]")).to_contain_text("A vote you make is kept")
    kept = page.evaluate("() => sessionStorage.getItem('glitchlab.unsent-votes')")
    assert kept is not None and '"glitch_class":"Blip"' in kept
    page.click("[data-testid=nav-my-glitches]")  # the volunteer gives up waiting
    page.wait_for_url("**/me/glitches/")
    page.unroute("**/api/classifications/")
    page.goto("/label/")
    expect(page.locator("[data-testid=feedback]")).to_contain_text("Vote saved: Blip.")
    page.wait_for_selector(VOTABLE, state="attached")
    assert page.get_attribute(APP, "data-subject") != str(pool[0].pk)  # not handed out again
    assert stored(page) == [(pool[0].pk, "Blip")]
    assert page.evaluate("() => sessionStorage.getItem('glitchlab.unsent-votes')") is None


def test_a_kept_vote_the_server_had_after_all_is_not_counted_twice(page, pool):
    """The vote reached the server, its answer did not (the connection dropped), and the page
    was left: sent again with its key, it is answered as the first time, once."""
    answers = []

    def stored_but_lost(route):
        if not answers:
            answers.append(route.fetch())  # the server stores the vote...
        route.abort("connectionreset")  # ...and the page never hears of it

    # Routed before the page loads (nothing posts a vote until the key): routed after it, in
    # two full runs under load the vote was answered "Vote saved" as if never intercepted.
    page.route("**/api/classifications/", stored_but_lost)
    log_in(page)
    page.keyboard.press("b")
    expect(page.locator("[data-testid=feedback]")).to_contain_text("A vote you make is kept")
    assert Classification.objects.count() == 1
    page.goto("/me/glitches/")
    page.unroute("**/api/classifications/")
    page.goto("/label/")
    expect(page.locator("[data-testid=feedback]")).to_contain_text("Vote saved: Blip.")
    assert stored(page) == [(pool[0].pk, "Blip")]


def test_a_kept_vote_on_a_glitch_answered_since_is_dropped_quietly(page, pool):
    """The glitch of a kept vote was answered since in another tab (another key): the
    server refuses the kept one (already_voted), and that is no news to the volunteer.
    Before: "The vote you pressed before logging in again was not saved: you already
    classified subject N"."""
    from webapp.labeling import services

    log_in(page)
    page.context.clear_cookies()
    page.keyboard.press("b")
    page.wait_for_url("**/accounts/login/**kept=1")
    volunteer = get_user_model().objects.get(username="vol")
    services.classification_create(volunteer=volunteer, subject_id=pool[0].pk, class_name="Whistle")
    page.fill("#id_username", "vol")
    page.fill("#id_password", "pw")
    page.keyboard.press("Enter")
    page.wait_for_url("**/label/")
    page.wait_for_selector(VOTABLE, state="attached")
    assert page.evaluate("() => sessionStorage.getItem('glitchlab.unsent-votes')") is None
    assert page.inner_text("[data-testid=feedback]") == ""
    assert stored(page) == [(pool[0].pk, "Whistle")]


def _signed_long_ago(assignment: str) -> str:
    """The same assignment ("volunteer:subject"), signed as the server signs it but an hour
    ago: one that has expired, as a real one does after 30 minutes."""
    from django.core import signing

    from webapp.labeling import services

    value = signing.TimestampSigner(salt=services._ASSIGNMENT_SALT).unsign(assignment)
    old = signing.b62_encode(int(time.time()) - 3600)
    return signing.Signer(salt=services._ASSIGNMENT_SALT).sign(f"{value}:{old}")


def test_back_to_the_page_shows_a_glitch_not_voted_on_with_the_progress_as_it_is(page, pool):
    """Before: Back from a glitch's page answered the labelling page and its GET next from
    the browser's cache: the first glitch, voted on already, came back with "0 classified",
    and its vote was refused."""
    first, second, third, *_ = pool
    log_in(page)
    for key in "bw":
        page.wait_for_selector(VOTABLE, state="attached")
        page.keyboard.press(key)
        page.wait_for_selector("#label-app[data-pending='0']", state="attached")
    expect(page.locator(APP)).to_have_attribute("data-subject", str(third.pk))
    page.click("[data-testid=voted-glitch]")
    page.wait_for_url(f"**/subjects/{second.pk}/")
    page.go_back()
    page.wait_for_selector(VOTABLE, state="attached")
    assert page.get_attribute(APP, "data-subject") == str(third.pk)
    expect(page.locator("[data-testid=count]")).to_have_text("2")


def test_a_page_restored_from_the_back_forward_cache_starts_again(page, pool):
    """A page the browser kept whole (its scripts paused) would show the glitch and progress
    it was left with; it reloads instead."""
    log_in(page)
    with page.expect_navigation(timeout=5_000):
        page.evaluate(
            "() => window.dispatchEvent(new PageTransitionEvent('pageshow', {persisted: true}))"
        )
    page.wait_for_selector(VOTABLE, state="attached")


def test_a_vote_on_a_glitch_answered_in_another_tab_says_so_and_the_next_is_asked_for(page, pool):
    """Two tabs handed the same glitches: tabs get glitches of their own now
    (tests/e2e/test_e2e_labelling_tabs.py), but meet when the first tab's holds are lost (the
    cache restarted; or they lapsed, the tab left a few minutes). Before: each vote in the
    slower tab was refused with the server's sentence ("you already classified subject N"),
    and the tab went on to the next glitch the other tab had answered too. Now it says so
    plainly and asks the server again which glitch to show."""
    from django.core.cache import cache

    first, second, *_ = pool
    log_in(page)
    cache.clear()  # the first tab's holds lost: the other tab is handed its glitches
    other = page.context.new_page()
    errors = []
    other.on("pageerror", lambda error: errors.append(str(error)))
    other.goto("/label/")
    other.wait_for_selector(VOTABLE, state="attached")
    assert other.get_attribute(APP, "data-subject") == str(first.pk)
    for key in "bw":  # the first tab answers the glitch the other shows, and the one after
        page.wait_for_selector(VOTABLE, state="attached")
        page.keyboard.press(key)
        page.wait_for_selector("#label-app[data-pending='0']", state="attached")
    other.keyboard.press("n")
    feedback = other.locator("[data-testid=feedback]")
    expect(feedback).to_have_text(
        "You already labelled this glitch in another tab (that vote stands). Here is the next one."
    )
    app = other.locator(APP)
    expect(app).not_to_have_attribute("data-subject", re.compile(f"^({first.pk}|{second.pk})$"))
    shown = int(app.get_attribute("data-subject"))
    other.wait_for_selector(VOTABLE, state="attached")
    other.keyboard.press("n")  # a glitch not answered yet: the vote counts
    expect(app).not_to_have_attribute("data-subject", str(shown))
    none = "None_of_the_Above"
    assert stored(other) == [(first.pk, "Blip"), (second.pk, "Whistle"), (shown, none)]
    assert errors == []


def test_the_last_glitch_answered_in_another_tab_promises_no_next_and_counts_that_vote(
    page, seeded
):
    """QA, one glitch left: tab B said in red "You already labelled this glitch in another tab
    (that vote stands); here is the next one." above "No more glitches for you right now",
    and still "0 classified" where tab A said 1."""
    from django.core.cache import cache

    seeded.GLITCHLAB_GOLD_RATE = 0
    UserFactory(username="vol")
    last = SubjectFactory()
    log_in(page)
    cache.clear()  # the first tab's hold lost: the other tab is handed the same glitch
    other = page.context.new_page()
    other.goto("/label/")
    other.wait_for_selector(VOTABLE, state="attached")
    assert other.get_attribute(APP, "data-subject") == str(last.pk)
    page.wait_for_selector(VOTABLE, state="attached")
    page.keyboard.press("b")
    page.wait_for_selector("#label-app[data-pending='0']", state="attached")
    expect(page.locator("[data-testid=count]")).to_have_text("1")
    other.keyboard.press("w")
    feedback = other.locator("[data-testid=feedback]")
    expect(feedback).to_have_text(
        "You already labelled this glitch in another tab (that vote stands)."
    )
    assert "wrong" not in (feedback.get_attribute("class") or "")
    expect(other.locator("#empty")).to_be_visible()
    expect(other.locator("[data-testid=count]")).to_have_text("1")
    assert stored(other) == [(last.pk, "Blip")]


def test_a_clicked_class_button_keeps_no_focus_for_space_or_enter_to_vote_again(page, pool):
    """Before: the button clicked kept the focus, drawn by nothing (not :focus-visible):
    Space, pressed to scroll, voted that class on the next glitch."""
    first, second, *_ = pool
    log_in(page)
    page.click("button[data-class=Whistle]")
    expect(page.locator(APP)).to_have_attribute("data-subject", str(second.pk))
    page.wait_for_selector(VOTABLE, state="attached")
    page.keyboard.press(" ")
    page.keyboard.press("Enter")
    page.wait_for_timeout(300)  # long enough for a vote to have been sent, had it
    assert page.get_attribute(APP, "data-subject") == str(second.pk)
    assert stored(page) == [(first.pk, "Whistle")]


def test_a_class_button_focused_from_the_keyboard_wears_a_ring(page, pool):
    """Space or Enter votes the focused button, so its focus must show: before, only its
    1 px border changed colour (outline: none)."""
    log_in(page)
    page.locator("button[data-class=Whistle]").focus()
    page.keyboard.press("Shift+Tab")  # focus moved by a key: :focus-visible
    ring = page.evaluate(
        """() => { const style = getComputedStyle(document.activeElement);
        return [document.activeElement.dataset.class, style.outlineStyle, style.outlineWidth]; }"""
    )
    assert ring == ["Blip", "solid", "2px"]


def test_a_class_key_on_a_russian_layout_votes_by_where_the_key_sits(page, pool):
    """Before: on a layout without Latin letters the B key gives "и", which matched no key
    of the page: the class keys did nothing and nothing was said. Now a key outside ASCII is
    read by its place on the keyboard (code KeyB: Blip's key)."""
    log_in(page)
    cdp = page.context.new_cdp_session(page)
    for kind in ("keyDown", "keyUp"):  # as Chromium gets it from the system, layout ru
        text = "и" if kind == "keyDown" else ""
        key = {"type": kind, "key": "и", "code": "KeyB", "text": text, "windowsVirtualKeyCode": 66}
        cdp.send("Input.dispatchKeyEvent", key)
    expect(page.locator(APP)).to_have_attribute("data-subject", str(pool[1].pk))
    assert stored(page) == [(pool[0].pk, "Blip")]


@pytest.mark.parametrize(("layout", "char"), [("AZERTY", "&"), ("Czech", "+")])
def test_the_first_digit_key_enlarges_a_view_on_a_french_or_czech_layout(page, pool, layout, char):
    """Before: the digit row's unshifted characters there are ASCII punctuation (AZERTY's
    "&", Czech's "+" at Digit1), taken as they were: key 1 enlarged nothing. Now the digit
    row is read by where it sits when what it gives is none of the page's keys."""
    log_in(page)
    page.wait_for_selector(VOTABLE, state="attached")
    cdp = page.context.new_cdp_session(page)
    for kind in ("keyDown", "keyUp"):  # as Chromium gets it from the system
        text = char if kind == "keyDown" else ""
        key = {"type": kind, "key": char, "code": "Digit1", "text": text}
        cdp.send("Input.dispatchKeyEvent", key)
    page.wait_for_selector("#durations[data-single='1']", state="attached")
    assert stored(page) == []


def test_the_field_guide_opens_without_a_smooth_scroll_when_less_motion_is_asked(
    browser, live_server, pool
):
    """Before: the drawer ("?") was scrolled into view smoothly, over many frames, though
    the system asked for less motion (prefers-reduced-motion). Now it comes in one step."""
    options = {"viewport": {"width": 1280, "height": 800}, "reduced_motion": "reduce"}
    with watched_page(browser, live_server, **options) as page:
        log_in(page)
        page.evaluate(
            """() => {
                window.scrolled = [];
                const frame = () => {
                    window.scrolled.push(scrollY);
                    requestAnimationFrame(frame);
                };
                frame();
            }"""
        )
        page.keyboard.press("?")
        expect(page.locator("#guide")).to_be_visible()
        page.wait_for_timeout(1000)  # a smooth scroll is over by then
        positions = sorted(set(page.evaluate("window.scrolled")))
        assert len(positions) == 2 and positions[0] == 0, positions  # from the top, in one step
