"""The labelling page's site menu on a phone and at 200% zoom: one "Menu" button in the
48 px top bar opens the links as a drop-down, every one of them (Log out too) in the window
and reached from the keyboard; on a desktop the links are in the bar as before."""

import pytest
from conftest import watched_page
from labelling_page import VOTABLE, log_in, stored
from playwright.sync_api import expect
from webapp_factories import SubjectFactory, UserFactory

pytestmark = pytest.mark.e2e

TOGGLE = "#menu-toggle"
NAV = "#site-nav"
LOGOUT = "[data-testid=logout]"
PHONE = {"viewport": {"width": 360, "height": 640}}
ZOOMED = {"viewport": {"width": 640, "height": 360}, "device_scale_factor": 2}

# The element's box, the window, and whether a click at its middle lands on it.
REACHABLE = """(selector) => {
  const element = document.querySelector(selector);
  const r = element.getBoundingClientRect();
  const hit = document.elementFromPoint((r.left + r.right) / 2, (r.top + r.bottom) / 2);
  return {left: r.left, top: r.top, right: r.right, bottom: r.bottom,
          width: innerWidth, height: innerHeight, onTop: element.contains(hit)};
}"""


@pytest.fixture
def pool(seeded):
    seeded.GLITCHLAB_GOLD_RATE = 0
    UserFactory(username="vol", profile__level=1)
    return [SubjectFactory(priority=10 - i) for i in range(3)]


def tab_to(page, selector: str, most: int = 12) -> None:
    """Tab from where the focus is until it reaches selector (as a keyboard user would)."""
    for _ in range(most):
        if page.evaluate("(s) => document.activeElement?.matches(s) ?? false", selector):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"Tab never reached {selector}")


def assert_in_the_window(page, selector: str) -> None:
    box = page.evaluate(REACHABLE, selector)
    assert box["left"] >= 0 and box["right"] <= box["width"], box
    assert box["top"] >= 0 and box["bottom"] <= box["height"], box
    assert box["onTop"], box  # nothing drawn over it: a click there reaches it


@pytest.mark.parametrize("window", [PHONE, ZOOMED], ids=["360x640", "640x360@2x"])
def test_the_menu_opens_the_links_and_log_out_is_reached_by_keyboard(
    browser, live_server, pool, window
):
    """Before: the bar was one line that scrolled sideways with no cue: at 360x640 it showed
    "Label Field guide Talk My glitc", at 640x360@2x it ended "Log out exp"; Discovery,
    Password and Log out were out of the window."""
    with watched_page(browser, live_server, **window) as page:
        log_in(page)
        page.evaluate("document.activeElement?.blur()")
        tab_to(page, TOGGLE)
        expect(page.locator(NAV)).to_be_hidden()
        page.keyboard.press("Enter")
        expect(page.locator(TOGGLE)).to_have_attribute("aria-expanded", "true")
        expect(page.locator(NAV)).to_be_visible()
        tab_to(page, LOGOUT)
        assert_in_the_window(page, LOGOUT)
        bar = page.evaluate("document.querySelector('.topbar').getBoundingClientRect().height")
        assert bar == 48  # the images' and buttons' heights count on it
        page.keyboard.press("Enter")
        page.wait_for_url(lambda url: "/label/" not in url)
        expect(page.locator("a[href='/accounts/login/']").first).to_be_attached()


def test_escape_closes_the_menu_and_a_class_key_only_closes_it(browser, live_server, pool):
    """While the menu is open (it covers the images on a phone), the page's keys do not act:
    a class key closes the menu and votes nothing, the next press votes; Escape closes it
    and gives the focus back to the Menu button."""
    with watched_page(browser, live_server, **PHONE) as page:
        log_in(page)
        key = page.evaluate("document.querySelector('#choices .choice').dataset.key")
        name = page.evaluate("document.querySelector('#choices .choice').dataset.class")
        page.locator(TOGGLE).focus()
        page.keyboard.press("Enter")
        page.keyboard.press("Tab")  # into the menu: Label
        page.keyboard.press("Escape")
        expect(page.locator(NAV)).to_be_hidden()
        expect(page.locator(TOGGLE)).to_be_focused()
        expect(page.locator(TOGGLE)).to_have_attribute("aria-expanded", "false")

        page.keyboard.press("Enter")
        page.keyboard.press("Tab")
        page.keyboard.press("Backspace")  # Undo's key: nothing to undo, and nothing said
        expect(page.locator(NAV)).to_be_hidden()
        expect(page.locator(TOGGLE)).to_be_focused()
        page.keyboard.press("Enter")
        page.keyboard.press(key)
        expect(page.locator(NAV)).to_be_hidden()
        assert stored(page) == []
        page.keyboard.press(key)
        page.wait_for_selector(f"{VOTABLE}[data-subject='{pool[1].pk}']", state="attached")
        assert stored(page) == [(pool[0].pk, name)]


def test_a_click_outside_closes_the_menu_and_votes_nothing(browser, live_server, pool):
    with watched_page(browser, live_server, **PHONE) as page:
        log_in(page)
        page.locator(TOGGLE).click()
        expect(page.locator(NAV)).to_be_visible()
        page.locator("#choices .choice").first.click()
        expect(page.locator(NAV)).to_be_hidden()
        expect(page.locator(TOGGLE)).to_have_attribute("aria-expanded", "false")
        assert stored(page) == []


def test_on_a_desktop_there_is_no_menu_button_and_the_links_are_in_the_bar(page, pool):
    log_in(page)
    expect(page.locator(TOGGLE)).to_be_hidden()
    expect(page.locator(NAV)).to_be_visible()
    assert_in_the_window(page, LOGOUT)
    logout = page.evaluate(REACHABLE, LOGOUT)
    assert logout["bottom"] <= 48  # in the bar, one line
    page.evaluate("document.activeElement?.blur()")
    tab_to(page, LOGOUT)
    page.keyboard.press("Enter")
    page.wait_for_url(lambda url: "/label/" not in url)
