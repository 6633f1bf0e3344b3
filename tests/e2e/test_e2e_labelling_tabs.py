"""The labelling page open in two tabs of one account: each is handed glitches of its own,
votes on them without a refusal, and a reloaded tab gets its own glitch back."""

import pytest
from labelling_page import VOTABLE, log_in, stored
from webapp_factories import SubjectFactory, UserFactory

pytestmark = pytest.mark.e2e

APP = "#label-app"


@pytest.fixture
def pool(seeded):
    seeded.GLITCHLAB_GOLD_RATE = 0
    UserFactory(username="vol")
    return [SubjectFactory(priority=20 - i) for i in range(12)]


def shown(page) -> int:
    page.wait_for_selector(VOTABLE, state="attached")
    return int(page.get_attribute(APP, "data-subject"))


def vote(page, key: str) -> None:
    before = shown(page)
    page.keyboard.press(key)
    page.wait_for_function(
        f"document.querySelector('{APP}').dataset.subject !== '{before}'", polling=50
    )
    page.wait_for_selector(f"{APP}[data-pending='0']", state="attached")


def test_two_tabs_are_handed_glitches_of_their_own_and_a_reload_keeps_its_own(page, pool):
    """Before: the second tab was handed the glitch on the first tab's screen, then the one
    the first had preloaded; whichever tab voted second on each was refused ("already
    labelled in another tab") and lost the key press."""
    log_in(page)
    other = page.context.new_page()
    other.goto("/label/")
    first_tab, second_tab = shown(page), shown(other)
    assert first_tab == pool[0].pk
    assert second_tab not in {pool[0].pk, pool[1].pk}  # neither shown nor preloaded there
    other.reload()  # the same tab asks again: its own glitch, not the next one
    assert shown(other) == second_tab
    for key in "bwn":  # side by side, each tab's votes on its own glitches
        vote(page, key)
        vote(other, key)
    votes = stored(page)
    assert len(votes) == 6 and len({subject for subject, _ in votes}) == 6
    for tab in (page, other):
        assert "another tab" not in tab.inner_text("[data-testid=feedback]")
