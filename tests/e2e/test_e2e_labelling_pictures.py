"""The labelling page when a glitch's pictures fail or are slow: the glitch is shown without
them (never under the last glitch's pictures), the page says why, asks again for the ones
that failed, and takes a key only once all of them are on screen. The vote pressed on the
glitch before is sent meanwhile."""

import pytest
from labelling_page import VOTABLE, log_in, stored
from playwright.sync_api import expect
from webapp_factories import SubjectFactory, UserFactory

pytestmark = pytest.mark.e2e

APP = "#label-app"


@pytest.fixture
def subjects(seeded):
    seeded.GLITCHLAB_GOLD_RATE = 0
    UserFactory(username="vol")
    return [SubjectFactory(priority=10 - i) for i in range(3)]


def pictures_of(subject) -> list[str]:
    return [image.image.name.rsplit("/", 1)[-1] for image in subject.images.all()]


def until(page, condition) -> None:
    for _ in range(200):
        if condition():
            return
        page.wait_for_timeout(25)
    pytest.fail("the page never asked")


def test_a_glitch_whose_pictures_failed_takes_no_key_until_they_came(page, subjects):
    """Before: the preload's failure was passed over, and the next glitch's id was shown over
    the last glitch's pictures (a changed src keeps the old picture until the new one
    comes); a key 250 ms later voted on a picture nobody saw."""
    first, second, _ = subjects
    names = pictures_of(second)
    asked: dict[str, int] = {}
    held = []

    def flaky(route):
        name = next((n for n in names if n in route.request.url), None)
        if name is None:
            return route.continue_()
        asked[name] = asked.get(name, 0) + 1
        if asked[name] == 1:
            route.abort("connectionreset")  # the preload fails
        else:
            held.append(route)  # and the second try is slow

    page.route("**/*.png", flaky)
    log_in(page)
    until(page, lambda: len(asked) == len(names))  # the preload has been tried
    view = page.locator(".duration[data-slot='2']")
    first_picture = view.screenshot()
    page.keyboard.press("b")
    app = page.locator(APP)
    expect(app).to_have_attribute("data-subject", str(second.pk))
    until(page, lambda: len(held) == len(names))  # asked again
    same = view.screenshot() == first_picture
    assert not same, "the glitch is shown under the picture of the glitch before"
    pictures = page.locator("[data-testid=pictures]")
    expect(pictures).to_contain_text(f"Glitch #{second.pk}")
    page.keyboard.press("w")
    expect(pictures).to_contain_text("Not counted")
    assert page.locator(VOTABLE).count() == 0
    for route in held:
        route.continue_()
    page.wait_for_selector(VOTABLE, state="attached")
    expect(pictures).to_be_hidden()
    page.keyboard.press("w")
    expect(app).not_to_have_attribute("data-subject", str(second.pk))
    assert stored(page) == [(first.pk, "Blip"), (second.pk, "Whistle")]


def test_while_a_glitchs_pictures_hang_the_vote_before_is_sent_and_the_page_says_why(
    page, subjects
):
    """Before: a key pressed while the next glitch's pictures hung left the page dimmed,
    saying nothing, and the vote was not sent until they came."""
    first, second, _ = subjects
    names = pictures_of(second)
    held = []

    def hang(route):
        if any(n in route.request.url for n in names):
            held.append(route)  # answered once the test lets it go
        else:
            route.continue_()

    page.route("**/*.png", hang)
    log_in(page)
    page.keyboard.press("b")
    app = page.locator(APP)
    expect(app).to_have_attribute("data-subject", str(second.pk))
    assert stored(page) == [(first.pk, "Blip")]
    pictures = page.locator("[data-testid=pictures]")
    expect(pictures).to_contain_text("its pictures are still loading")
    page.keyboard.press("w")
    expect(pictures).to_contain_text("Not counted")
    for route in held:
        route.continue_()
    page.wait_for_selector(VOTABLE, state="attached")
    page.keyboard.press("w")
    expect(app).not_to_have_attribute("data-subject", str(second.pk))
    assert stored(page) == [(first.pk, "Blip"), (second.pk, "Whistle")]
