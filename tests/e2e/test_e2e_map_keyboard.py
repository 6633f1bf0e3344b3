"""The map from the keyboard alone: its list under the plot opens a glitch and ticks a group
of glitches for the same "label the selected together" as the lasso."""

import re

import pytest
from map_page import log_in, twelve_glitches_on_the_map

pytestmark = pytest.mark.e2e


@pytest.fixture
def map_of_twelve(discovery):
    return twelve_glitches_on_the_map()


def press_until(page, key: str, focused: str) -> None:
    """Press key (Tab, Shift+Tab) until the focused element matches the JS test focused
    (on `e`), as someone would who has only a keyboard."""
    for _ in range(80):
        page.keyboard.press(key)
        if page.evaluate(f"(() => {{ const e = document.activeElement; return {focused}; }})()"):
            return
    raise AssertionError(f"{key} never reached {focused}")


def test_a_glitch_on_the_map_opens_from_the_keyboard(page, map_of_twelve):
    """Before: the plot had no point to focus, and no key opened a glitch: the only way was
    a mouse click on a dot. Now the list's first group (Air Compressor) opens with Enter,
    and its glitch's link with Enter again."""
    air_compressor = map_of_twelve[1]
    log_in(page, "ann", "/discovery/map/")
    page.wait_for_selector("#map[data-ready='1']")
    press_until(page, "Tab", "e.tagName === 'SUMMARY' && !!e.closest('#map-list')")
    assert page.evaluate("document.activeElement.textContent").startswith("Air Compressor")
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == f"Glitch #{air_compressor.pk}"
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(rf"/subjects/{air_compressor.pk}/$"))


def test_glitches_ticked_from_the_keyboard_are_labelled_together(page, map_of_twelve):
    """Before: a lasso by keys selected nothing, and "Label the 0 selected together" stayed
    disabled. Now the unlabelled group's box ticks its 5 glitches still open to ann (not
    the 2 she answered) and the button opens them as one sheet."""
    log_in(page, "ann", "/discovery/map/")
    page.wait_for_selector("#map[data-ready='1']")
    press_until(page, "Tab", "e.tagName === 'SUMMARY' && e.textContent.startsWith('unlabelled')")
    assert page.evaluate("document.activeElement.textContent") == (
        "unlabelled: 7 glitches, 5 open to you"
    )
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    page.keyboard.press("Space")
    assert page.inner_text("#lasso-n") == "5"
    assert page.locator("#map-list input[data-id]:checked").count() == 5
    press_until(page, "Shift+Tab", "e.dataset.testid === 'lasso-batch'")
    page.keyboard.press("Enter")
    page.wait_for_url("**/discovery/sheet/")
    assert page.locator("[data-testid=sheet-cell]").count() == 5
