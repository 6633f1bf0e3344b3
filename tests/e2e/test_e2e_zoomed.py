"""A desktop zoomed in (a 1280x800 window at 200% is 640x400 CSS px at two device px each):
the labelling page keeps the spectrograms about as large as at 100%, on one screen, and
tells a mouse and keyboard about the keys, a touch screen about taps."""

import pytest
from conftest import watched_page
from labelling_page import log_in
from webapp_factories import SubjectFactory, UserFactory

pytestmark = pytest.mark.e2e

# The picture drawn in its box (object-fit: contain), in device pixels: what the eye gets.
DRAWN = """(selector) => {
  const image = document.querySelector(selector);
  const box = image.getBoundingClientRect();
  const scale = Math.min(box.width / image.naturalWidth, box.height / image.naturalHeight);
  return {width: image.naturalWidth * scale * devicePixelRatio,
          top: box.top, bottom: box.bottom};
}"""
FIRST = "#durations .duration[data-slot='1'] img"
ENLARGED = "#durations .duration[data-slot='2'] img"


def views(browser, live_server, **options) -> tuple[dict, dict, int]:
    """The first of the four views, view 2 enlarged by its key, and the page's height."""
    with watched_page(browser, live_server, **options) as page:
        log_in(page)
        four = page.evaluate(DRAWN, FIRST)
        height = page.evaluate("document.documentElement.scrollHeight")
        page.keyboard.press("2")
        page.wait_for_selector("#durations[data-single='2']")
        return four, page.evaluate(DRAWN, ENLARGED), height


@pytest.mark.parametrize("level", [1, 5])
def test_at_200_percent_the_spectrograms_stay_about_as_large_as_at_100_percent(
    browser, live_server, seeded, level
):
    """Before: at 200% the narrow layout put the images over the buttons, 78 CSS px tall:
    each view was 207 device px wide against 458 at 100% (level 1), and one enlarged with
    its key 427 against 924. Now the images sit beside the buttons, as tall as the window."""
    seeded.GLITCHLAB_GOLD_RATE = 0
    UserFactory(username="vol", profile__level=level)
    SubjectFactory(priority=20)
    at_100, enlarged_100, _ = views(browser, live_server, viewport={"width": 1280, "height": 800})
    zoomed = {"viewport": {"width": 640, "height": 400}, "device_scale_factor": 2}
    at_200, enlarged_200, height = views(browser, live_server, **zoomed)
    assert at_200["width"] >= 0.75 * at_100["width"], (at_200, at_100)
    assert enlarged_200["width"] >= 0.75 * enlarged_100["width"], (enlarged_200, enlarged_100)
    assert height == 400  # nothing to scroll: the images fill the window, not more
    assert enlarged_200["bottom"] <= 400


HINTS = """() => Object.fromEntries(['.hint', '.prompt .muted', '.hint-touch'].map((selector) =>
  [selector, getComputedStyle(document.querySelector(selector)).display !== 'none']))"""


def test_a_zoomed_desktop_is_told_its_keys_and_a_phone_to_tap(browser, live_server, seeded):
    """Before: the hints went by width: at 640 px (a desktop at 200%) "press its key" and
    "Keys 1-4 ... Esc" were hidden and "Tap an image to enlarge it" shown to a keyboard
    user. Now a screen that can hover gets the keys, a touch screen the tap."""
    seeded.GLITCHLAB_GOLD_RATE = 0
    UserFactory(username="vol", profile__level=1)
    SubjectFactory(priority=20)
    zoomed = {"viewport": {"width": 640, "height": 400}, "device_scale_factor": 2}
    with watched_page(browser, live_server, **zoomed) as page:
        log_in(page)
        keys = page.evaluate(HINTS)
    phone = {"viewport": {"width": 375, "height": 667}, "is_mobile": True, "has_touch": True}
    with watched_page(browser, live_server, **phone) as page:
        log_in(page)
        taps = page.evaluate(HINTS)
    assert keys == {".hint": True, ".prompt .muted": True, ".hint-touch": False}
    assert taps == {".hint": False, ".prompt .muted": False, ".hint-touch": True}


# Where each class button of the page is, with the images' box and how far anything has
# been scrolled: every button must be on screen as the page opens, none over the images.
BUTTONS = """() => {
  const box = (element) => {
    const r = element.getBoundingClientRect();
    return {left: r.left, top: r.top, right: r.right, bottom: r.bottom};
  };
  const panel = document.querySelector('.panel');
  return {
    images: box(document.getElementById('durations')),
    buttons: [...document.querySelectorAll('#choices .choice')].map((button) => ({
      name: button.dataset.class, ...box(button), key: box(button.querySelector('kbd')),
      clipped: button.scrollWidth > button.clientWidth || button.scrollHeight > button.clientHeight,
    })),
    scrolled: panel.scrollTop + window.scrollY,
    width: innerWidth, height: innerHeight,
  };
}"""


def _overlap(a: dict, b: dict) -> bool:
    return (
        a["left"] < b["right"]
        and b["left"] < a["right"]
        and a["top"] < b["bottom"]
        and b["top"] < a["bottom"]
    )


@pytest.mark.parametrize(
    "window",
    [
        {"width": 640, "height": 360},  # 1280x720 at 200%
        {"width": 640, "height": 400},  # 1280x800 at 200%
        {"width": 731, "height": 411},  # 1280x720 at 175%
        {"width": 853, "height": 480},  # 1280x720 at 150%
        {"width": 1024, "height": 576},  # 1280x720 at 125%
        {"width": 1280, "height": 720},
    ],
    ids=lambda w: f"{w['width']}x{w['height']}",
)
def test_zoomed_every_level_5_button_is_in_sight_beside_the_images(
    browser, live_server, seeded, window
):
    """Before: at level 5 (22 buttons) a 1280x720 desktop zoomed to 200% showed the buttons
    two to a row and scrolled the rest within their column: the last four rows (Paired Doves
    to None of the Above) were below the window, each vote on them a scroll away from the
    glitch; at 150% and 125% the question, progress and answer came first and pushed the
    last rows down too. Now every button, its key on it and its name whole, is in the window
    as the page opens, beside the images and not over them (three to a row from level 4)."""
    seeded.GLITCHLAB_GOLD_RATE = 0
    UserFactory(username="vol", profile__level=5)
    SubjectFactory(priority=20)
    with watched_page(browser, live_server, viewport=window, device_scale_factor=2) as page:
        log_in(page)
        seen = page.evaluate(BUTTONS)
    assert len(seen["buttons"]) == 22
    assert seen["scrolled"] == 0
    for button in seen["buttons"]:
        where = f"{button['name']}: {button}"
        assert button["left"] >= 0 and button["right"] <= seen["width"], where
        assert button["top"] >= 48 and button["bottom"] <= seen["height"], where
        assert not _overlap(button, seen["images"]), where
        assert button["key"]["right"] - button["key"]["left"] >= 12, where  # the key shown
        assert not button["clipped"], where
