"""On a phone (375x667, touch): the labelling page shows the glitch and every class button
without scrolling, up to level 5; a username of 150 characters (sign-up's limit) does not
give Talk, a glitch's page or the labelling page a sideways scroll."""

import pytest
from conftest import watched_page
from labelling_page import VOTABLE, log_in, stored
from webapp_factories import SubjectFactory, UserFactory, glitch_class

from webapp.labeling.models import Subject
from webapp.talk.services import comment_create

pytestmark = pytest.mark.e2e

WIDTH, HEIGHT = 375, 667


@pytest.fixture
def phone(browser, live_server):
    options = {"viewport": {"width": WIDTH, "height": HEIGHT}, "is_mobile": True, "has_touch": True}
    with watched_page(browser, live_server, **options) as page:
        yield page


def boxes(page, selector: str) -> list[dict]:
    return page.evaluate(
        """(selector) => [...document.querySelectorAll(selector)].map((e) => {
             const r = e.getBoundingClientRect();
             return {name: e.textContent.trim(), top: r.top, bottom: r.bottom,
                     left: r.left, right: r.right, height: r.height};
           })""",
        selector,
    )


def assert_on_the_first_screen(page) -> None:
    assert page.evaluate("window.scrollY") == 0
    buttons = boxes(page, "#choices .choice")
    off = [b["name"] for b in buttons if b["top"] < 0 or b["bottom"] > HEIGHT or b["right"] > WIDTH]
    assert off == [], f"class buttons below the fold or off the side: {off}"
    images = [i for i in boxes(page, "#durations .duration") if i["height"]]  # shown
    assert len(images) in (1, 4)
    off = [i for i in images if i["top"] < 0 or i["bottom"] > HEIGHT or i["height"] < 100]
    assert off == [], f"views off the screen or under 100 px: {off}"


@pytest.mark.parametrize("level", [1, 3, 5])
def test_the_glitch_and_every_class_button_fit_a_phone_screen(phone, seeded, level):
    """Before: at level 5 the page was 1,497 px tall, 11 rows of buttons under the images;
    every vote meant scrolling down to the buttons and back up to the next glitch."""
    seeded.GLITCHLAB_GOLD_RATE = 0
    UserFactory(username="vol", profile__level=level)
    first, _ = SubjectFactory(priority=20), SubjectFactory(priority=19)
    log_in(phone)
    assert len(boxes(phone, "#choices .choice")) == {1: 3, 3: 10, 5: 22}[level]
    assert_on_the_first_screen(phone)

    phone.locator("#choices .choice").first.tap()
    phone.wait_for_function(f"document.getElementById('label-app').dataset.subject != {first.pk}")
    phone.wait_for_selector(VOTABLE, state="attached")
    assert stored(phone)[0][0] == first.pk
    assert_on_the_first_screen(phone)  # the next glitch, with nothing to scroll back

    phone.locator("#durations .duration").nth(3).tap()  # one view enlarged: in the same room
    phone.wait_for_selector("#durations[data-single='4']")
    enlarged = boxes(phone, "#durations .duration[data-slot='4']")[0]
    whole = boxes(phone, "#durations")[0]
    assert (enlarged["top"], enlarged["bottom"]) == (whole["top"], whole["bottom"])
    assert_on_the_first_screen(phone)


def test_a_150_character_username_gives_no_sideways_scroll(phone, seeded):
    """Before: /talk/ and the glitch's page were 1,407 px wide at 375, /label/ 1,335: the name
    in a comment's header and in the top bar's "Log out" never broke."""
    seeded.GLITCHLAB_GOLD_RATE = 0
    name = "a" * 150
    author = UserFactory(username=name)
    retired = SubjectFactory(status=Subject.Status.RETIRED, retired_label=glitch_class("Blip"))
    SubjectFactory(priority=20)
    comment_create(author=author, subject_id=retired.pk, text="#twin_arch like the others")
    phone.goto("/accounts/login/")
    phone.fill("#id_username", name)
    phone.fill("#id_password", "pw")
    phone.keyboard.press("Enter")
    phone.wait_for_url("**/label/")
    for path in ("/talk/", f"/subjects/{retired.pk}/", "/label/", "/talk/tags/twin_arch/"):
        phone.goto(path)
        width = phone.evaluate("document.documentElement.scrollWidth")
        assert width <= WIDTH, f"{path} is {width} px wide"
    phone.goto("/talk/")
    assert name in phone.inner_text(".comment header")  # all of it, broken over lines


# A name's text (every line of it) outside its button: cut off there (overflow: hidden).
CUT_OFF = """() => [...document.querySelectorAll('#choices .choice')].filter((button) => {
  const text = document.createRange();
  text.selectNodeContents(button);
  const box = button.getBoundingClientRect();
  return [...text.getClientRects()].some((line) => line.right > box.right + 0.5
    || line.bottom > box.bottom + 0.5 || line.left < box.left - 0.5 || line.top < box.top - 0.5);
}).map((button) => button.textContent.trim())"""


def test_every_class_name_is_whole_on_a_320_px_phone(browser, live_server, seeded):
    """Before: at 320 px, three buttons to a row at level 5 cut "Air Compressor", "Light
    Modulation" and "1400Ripples" short (a name beside its key had 68 px). Now a name flows
    round its key, its later lines the button's whole width, and three lines fit."""
    seeded.GLITCHLAB_GOLD_RATE = 0
    UserFactory(username="vol", profile__level=5)
    SubjectFactory(priority=20)
    options = {"viewport": {"width": 320, "height": 568}, "is_mobile": True, "has_touch": True}
    with watched_page(browser, live_server, **options) as page:
        log_in(page)
        assert len(boxes(page, "#choices .choice")) == 22
        assert page.evaluate(CUT_OFF) == []
