"""Discovery in a real browser: a volunteer labels a cluster sheet with the keyboard only
and proposes a new class; an admin opens it for votes and accepts it into the registry;
the map draws every glitch."""

import sys
from pathlib import Path

import numpy as np
import pytest
from map_page import log_in
from webapp_factories import SubjectFactory, UserFactory

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "webapp" / "discovery"))
from discovery_factories import stored_cluster  # noqa: E402

from webapp.discovery import services  # noqa: E402
from webapp.discovery.models import ClassProposal, EmbeddingSet  # noqa: E402
from webapp.labeling.models import Classification, GlitchClass, Subject  # noqa: E402

pytestmark = pytest.mark.e2e


def test_cluster_sheet_by_keyboard_votes_the_kept_glitches(page, discovery):
    _, subjects, _, _ = stored_cluster(n=6)
    UserFactory(username="ann", profile__level=2)
    log_in(page, "ann", "/discovery/sheet/")
    cells = page.locator("[data-testid=sheet-cell]")
    assert cells.count() == 6
    shown = [int(cells.nth(i).get_attribute("data-id")) for i in range(6)]

    page.keyboard.press("ArrowRight")
    page.keyboard.press("Space")  # the second glitch is the odd one out
    assert page.inner_text("[data-testid=sheet-count]") == "5"
    page.keyboard.press(GlitchClass.objects.get(name="Koi_Fish").key)
    page.keyboard.press("Enter")
    page.wait_for_selector(".messages")
    assert "5 glitches labelled Koi Fish" in page.inner_text(".messages")

    votes = Classification.objects.filter(volunteer__username="ann")
    assert sorted(votes.values_list("subject_id", flat=True)) == sorted(shown[:1] + shown[2:])
    assert set(votes.values_list("glitch_class__name", flat=True)) == {"Koi_Fish"}
    assert page.locator("[data-testid=sheet-empty]").is_visible()  # nothing left to do


def test_a_held_space_toggles_once_and_a_held_enter_posts_the_sheet_once(page, discovery):
    """A key held a little long repeats: space flipped the glitch back and forth (kept or
    left out by the number of repeats), and enter posted the batch again and again."""
    _, subjects, _, _ = stored_cluster(n=6)
    UserFactory(username="ann", profile__level=2)
    log_in(page, "ann", "/discovery/sheet/")
    posts: list[str] = []
    page.on("request", lambda r: posts.append(r.url) if r.method == "POST" else None)
    page.keyboard.down(" ")
    for _ in range(3):  # the key stays down: the browser repeats it (event.repeat)
        page.keyboard.down(" ")  # four flips in all: the glitch was kept again
    page.keyboard.up(" ")
    assert page.inner_text("[data-testid=sheet-count]") == "5"
    page.keyboard.press(GlitchClass.objects.get(name="Blip").key)
    page.keyboard.down("Enter")
    for _ in range(4):
        page.keyboard.down("Enter")
    page.keyboard.up("Enter")
    page.wait_for_selector(".messages")
    assert "5 glitches labelled Blip" in page.inner_text(".messages")
    assert len([url for url in posts if "/discovery/sheet/" in url]) == 1
    assert Classification.objects.filter(volunteer__username="ann").count() == 5


def test_a_sheet_post_stopped_with_esc_can_be_sent_again(page, discovery):
    """The guard against a second post stayed up after the user stopped the first (Esc, or
    the browser's Stop): the sheet took no enter and no click until a reload."""
    stored_cluster(n=6)
    UserFactory(username="ann", profile__level=2)
    log_in(page, "ann", "/discovery/sheet/")
    held = []
    page.route("**/discovery/sheet/*/", lambda route: held.append(route))  # no answer yet
    page.keyboard.press(GlitchClass.objects.get(name="Blip").key)
    page.keyboard.press("Enter")
    for _ in range(100):
        if held:
            break
        page.wait_for_timeout(50)
    held[0].abort("aborted")  # the navigation stopped, as Stop or Esc stops it: the page stays
    page.unroute("**/discovery/sheet/*/")
    page.keyboard.press("Escape")
    page.keyboard.press("Enter")
    page.wait_for_selector(".messages")
    assert "6 glitches labelled Blip" in page.inner_text(".messages")
    assert Classification.objects.filter(volunteer__username="ann").count() == 6


def test_a_proposed_class_is_opened_and_accepted_by_an_admin(page, discovery):
    stored_cluster(n=5)
    UserFactory(username="ann", profile__level=2)
    boss = UserFactory(username="boss")
    boss.is_superuser = boss.is_staff = True
    boss.save()

    log_in(page, "ann", "/discovery/sheet/")
    page.keyboard.press("+")
    page.keyboard.type("Reverse_Chirp")  # the name field has the focus
    page.keyboard.press("Tab")
    page.keyboard.type("like a chirp, but falling in frequency")
    page.click("[data-testid=sheet-submit]")
    page.wait_for_selector(".messages")
    assert "5 glitches labelled Reverse Chirp" in page.inner_text(".messages")

    page.click("[data-testid=logout]")
    log_in(page, "boss", "/discovery/")
    card = page.locator("[data-testid=proposal-Reverse_Chirp]")
    assert card.locator("[data-testid=proposal-status]").inner_text() == "proposed"
    card.locator("[data-testid=make-provisional]").click()
    page.wait_for_selector("[data-testid=proposal-Reverse_Chirp] [data-testid=accept]")
    page.click("[data-testid=proposal-Reverse_Chirp] [data-testid=accept]")
    page.wait_for_selector("[data-testid=proposal-Reverse_Chirp] [data-testid=deprecate]")
    assert card.locator("[data-testid=proposal-status]").inner_text() == "accepted"
    assert "accepted by boss" in card.inner_text()

    new_class = GlitchClass.objects.get(name="Reverse_Chirp")
    assert new_class.status == "active" and new_class.key
    # one volunteer's batch makes no gold: a new class's gold needs several who agree
    assert Subject.objects.filter(gold_label=new_class).count() == 0
    proposal = ClassProposal.objects.get(name="Reverse_Chirp")
    assert [e.actor.username for e in proposal.events.all()] == ["ann", "boss", "boss"]


def test_the_map_draws_every_glitch_and_recolours(page, discovery):
    _, subjects, _, _ = stored_cluster(n=8)
    embedding_set = EmbeddingSet.objects.get()
    services.map_store(set_id=embedding_set.pk, xy=np.random.default_rng(0).normal(size=(8, 2)))
    UserFactory(username="ann", profile__level=2)
    log_in(page, "ann", "/discovery/map/")
    page.wait_for_selector("#map[data-ready='1']")
    n_points = page.evaluate(
        "document.getElementById('map').data.reduce((n, t) => n + t.x.length, 0)"
    )
    assert n_points == 8
    page.select_option("[data-testid=colour-by]", "cluster")
    assert page.evaluate("document.getElementById('map').data[0].name") == "cluster 0"


def posts_of(page) -> list[str]:
    posts: list[str] = []
    page.on("request", lambda r: posts.append(r.url) if r.method == "POST" else None)
    return posts


def test_enter_on_a_menu_link_follows_it_and_posts_nothing(page, discovery):
    """The sheet took enter wherever the focus was: a volunteer chose Koi Fish, tabbed to
    the menu's Field guide link and pressed enter, and the whole sheet was labelled."""
    stored_cluster(n=6)
    UserFactory(username="ann", profile__level=2)
    log_in(page, "ann", "/discovery/sheet/")
    posts = posts_of(page)
    page.keyboard.press(GlitchClass.objects.get(name="Koi_Fish").key)
    page.focus("nav a[href='/field-guide/']")
    page.keyboard.press("Enter")
    page.wait_for_url("**/field-guide/")
    assert posts == []
    assert not Classification.objects.exists()


def test_space_on_a_label_chooses_it_and_enter_on_log_out_logs_out(page, discovery):
    stored_cluster(n=6)
    UserFactory(username="ann", profile__level=2)
    log_in(page, "ann", "/discovery/sheet/")
    first_choice = page.locator("input[name=choice]").first
    first_choice.focus()
    page.keyboard.press("Space")
    assert first_choice.is_checked()
    assert page.inner_text("[data-testid=sheet-count]") == "6"  # no glitch toggled
    page.focus("[data-testid=logout]")
    page.keyboard.press("Enter")
    page.wait_for_selector("a[href^='/accounts/login/']")
    assert "ann" not in page.inner_text("nav")
    assert not Classification.objects.exists()


def test_tab_reaches_the_glitches_and_space_toggles_the_focused_one(page, discovery):
    """The glitches' boxes had tabindex=-1: Tab never reached them, so neither a keyboard
    user who tabs nor a screen reader could tick one."""
    stored_cluster(n=6)
    UserFactory(username="ann", profile__level=2)
    log_in(page, "ann", "/discovery/sheet/")
    cells = page.locator("[data-testid=sheet-cell]")
    shown = [cells.nth(i).get_attribute("data-id") for i in range(6)]
    focused = "(() => { const a = document.activeElement; return a.name + ' ' + a.value })()"
    for _ in range(30):
        page.keyboard.press("Tab")
        if page.evaluate(focused).startswith("selected "):
            break
    assert page.evaluate(focused) == f"selected {shown[0]}"  # one tab stop: the first glitch
    outline = "getComputedStyle(document.activeElement.closest('.sheet-cell')).outlineStyle"
    assert page.evaluate(outline) == "solid"  # the focus shows
    assert page.evaluate("document.activeElement.getAttribute('aria-label')") == (
        f"glitch {shown[0]}"
    )

    page.keyboard.press("Space")
    assert page.inner_text("[data-testid=sheet-count]") == "5"
    page.keyboard.press("ArrowRight")  # the focus moves with the ring
    assert page.evaluate(focused) == f"selected {shown[1]}"
    page.keyboard.press("Space")
    assert page.inner_text("[data-testid=sheet-count]") == "4"
    page.keyboard.press("Tab")  # the glitch's own link, then on to the label
    assert page.evaluate("document.activeElement.className") == "sheet-open"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.name") == "choice"
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Shift+Tab")  # back to the glitch the ring is on
    assert page.evaluate(focused) == f"selected {shown[1]}"

    page.keyboard.press(GlitchClass.objects.get(name="Blip").key)
    page.keyboard.press("Enter")
    page.wait_for_selector(".messages")
    assert "4 glitches labelled Blip" in page.inner_text(".messages")
    voted = Classification.objects.values_list("subject_id", flat=True)
    assert sorted(voted) == sorted(int(i) for i in shown[2:])


def test_a_refused_sheet_comes_back_as_sent_and_goes_through_once_put_right(page, discovery):
    """A refused submit reloaded a fresh sheet: the odd ones out ticked again, the new
    class's name and description gone, so the next enter labelled the odd ones too."""
    stored_cluster(n=6)
    UserFactory(username="ann", profile__level=2)
    log_in(page, "ann", "/discovery/sheet/")
    cells = page.locator("[data-testid=sheet-cell]")
    shown = [int(cells.nth(i).get_attribute("data-id")) for i in range(6)]
    boxes = page.locator("[data-testid=sheet-cell] input")
    boxes.nth(1).uncheck()
    boxes.nth(3).uncheck()
    page.check("[data-testid=choice-new]")
    page.fill("#new_name", "Koi fish")  # the browser's rule lets it by; the server's does not
    page.fill("#new_description", "Two arches, a long careful description I typed.")
    page.click("[data-testid=sheet-submit]")
    page.wait_for_selector("[data-testid=error-new_name]")
    assert "Koi_Fish spelled another way" in page.inner_text("[data-testid=error-new_name]")
    assert page.inner_text("[data-testid=sheet-count]") == "4"
    assert [boxes.nth(i).is_checked() for i in range(6)] == [True, False, True, False, True, True]
    assert page.is_visible("#new_name")
    assert page.input_value("#new_description") == "Two arches, a long careful description I typed."
    assert page.evaluate("document.activeElement.id") == "new_name"  # where to put it right
    assert not Classification.objects.exists()

    page.fill("#new_name", "Double_Arch")
    page.keyboard.press("Enter")
    page.wait_for_selector("[data-testid=sheet-empty]")
    assert "4 glitches labelled Double Arch" in page.inner_text(".messages")
    voted = Classification.objects.values_list("subject_id", flat=True)
    assert sorted(voted) == sorted(shown[:1] + shown[2:3] + shown[4:])


def test_a_lowercase_class_name_is_caught_before_the_post_and_blocks_no_other_label(
    page, discovery
):
    stored_cluster(n=6)
    UserFactory(username="ann", profile__level=2)
    log_in(page, "ann", "/discovery/sheet/")
    posts = posts_of(page)
    page.keyboard.press("+")
    page.keyboard.type("double arch")
    page.keyboard.press("Tab")
    page.keyboard.type("two arches")
    page.click("[data-testid=sheet-submit]")
    assert page.evaluate("document.getElementById('new_name').validity.patternMismatch")
    assert posts == []
    # another label chosen instead: the hidden name, still wrong, does not block the post
    page.locator("[data-testid=sheet-grid] input").first.focus()
    page.keyboard.press(GlitchClass.objects.get(name="Blip").key)
    page.keyboard.press("Enter")
    page.wait_for_selector(".messages")
    assert "6 glitches labelled Blip" in page.inner_text(".messages")


def test_untick_all_and_tick_all_are_buttons_the_keyboard_reaches(page, discovery):
    """Keeping 1 glitch of 50 took 49 toggles."""
    stored_cluster(n=6)
    UserFactory(username="ann", profile__level=2)
    log_in(page, "ann", "/discovery/sheet/")
    cells = page.locator("[data-testid=sheet-cell]")
    shown = [int(cells.nth(i).get_attribute("data-id")) for i in range(6)]
    page.focus("[data-testid=untick-all]")
    page.keyboard.press("Enter")  # the button's: not the sheet's submit
    assert page.inner_text("[data-testid=sheet-count]") == "0"
    page.keyboard.press("Space")
    assert page.inner_text("[data-testid=sheet-count]") == "0"  # Space on it: untick all again
    page.focus("[data-testid=tick-all]")
    page.keyboard.press("Space")
    assert page.inner_text("[data-testid=sheet-count]") == "6"
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")  # Untick all, the next button
    assert page.inner_text("[data-testid=sheet-count]") == "0"
    page.locator("[data-testid=sheet-grid] input").nth(2).focus()
    page.keyboard.press("Space")
    page.keyboard.press(GlitchClass.objects.get(name="Blip").key)
    page.keyboard.press("Enter")
    page.wait_for_selector(".messages")
    assert "1 glitch labelled Blip" in page.inner_text(".messages")
    assert list(Classification.objects.values_list("subject_id", flat=True)) == [shown[2]]


def test_a_glitch_page_logs_no_console_error_with_or_without_embeddings(page, discovery):
    """Without embeddings the API's 404 for the page's similar glitches was an error in the
    console on every glitch page. Now a glitch not embedded is answered with an empty list,
    and the page, which does no embeddings work itself, shows no similar glitches."""
    console_errors: list[str] = []
    page.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)
    answers: list[int] = []
    page.on("response", lambda r: answers.append(r.status) if "/similar/" in r.url else None)
    alone = SubjectFactory()
    page.goto(f"/subjects/{alone.pk}/")
    page.wait_for_load_state("networkidle")
    assert console_errors == [] and answers == [200]
    assert page.locator("#similar").is_hidden()

    _, subjects, _, _ = stored_cluster(n=6)
    page.goto(f"/subjects/{alone.pk}/")  # embeddings now, but not of this glitch
    page.wait_for_load_state("networkidle")
    assert console_errors == [] and answers == [200, 200]
    assert page.locator("#similar").is_hidden()
    page.goto(f"/subjects/{subjects[0].pk}/")
    page.wait_for_selector("[data-testid=similar] figure")
    assert console_errors == [] and answers == [200, 200, 200]
