"""Stored XSS: a volunteer puts markup into every free-text field they can fill (a new
class's name and description on a cluster sheet, a reviewer's note on a rejection); an
admin accepts the class. On every page that shows the text it is text: no script ran
(window.__xss stays undefined), no element came of it, and the policy had nothing to block
(a violation would mean markup reached the page and only the CSP stopped it)."""

import sys
from pathlib import Path

import pytest
from webapp_factories import SubjectFactory, UserFactory

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "webapp" / "discovery"))
from discovery_factories import stored_cluster  # noqa: E402

from webapp.discovery import services  # noqa: E402
from webapp.discovery.models import ClassProposal  # noqa: E402
from webapp.labeling.models import GlitchClass  # noqa: E402

pytestmark = pytest.mark.e2e

PAYLOADS = [
    "<img src=x onerror=window.__xss=1>",
    "<script>window.__xss=1</script>",
    '"><svg onload=window.__xss=1>',
]
DESCRIPTION = "Falls like a chirp " + " ".join(PAYLOADS)
NOTE = "duplicate " + " ".join(PAYLOADS)

WATCH = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolations.push(`${e.violatedDirective} ${e.blockedURI}`);
});
"""


def log_in(page, username: str, then: str) -> None:
    page.context.clear_cookies()
    page.goto(f"/accounts/login/?next={then}")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "pw")
    page.click("button[type=submit]")
    page.wait_for_url(f"**{then}")


def assert_inert(page, *texts: str) -> None:
    """The page shows each text as text, and nothing in it ran or became an element."""
    page.wait_for_load_state("networkidle")
    where = page.url
    assert page.evaluate("window.__xss") is None, where
    assert page.evaluate("window.__cspViolations") == [], where
    hostile = "img[src=x], svg[onload], [onerror], [onload], script:not([src]):not([type])"
    assert page.locator(f"main {hostile}").count() == 0, where
    shown = page.evaluate("document.body.textContent")
    for text in texts:
        assert text in shown, (where, text)


def test_markup_in_every_free_text_field_stays_text(page, discovery):
    page.add_init_script(WATCH)
    stored_cluster(n=5)
    SubjectFactory()
    UserFactory(username="ann", profile__level=2)
    UserFactory(username="top", profile__level=5)  # new classes join the top level
    boss = UserFactory(username="boss")
    boss.is_superuser = boss.is_staff = True
    boss.save()

    # A volunteer proposes a class from the cluster sheet: markup as the name is refused...
    log_in(page, "ann", "/discovery/sheet/")
    page.keyboard.press("+")
    page.fill("#new_name", PAYLOADS[0])
    page.fill("#new_description", DESCRIPTION)
    page.evaluate("document.getElementById('new_name').removeAttribute('pattern')")  # the server's
    page.click("[data-testid=sheet-submit]")
    page.wait_for_selector(".messages")
    assert "Not saved" in page.inner_text(".messages")
    assert page.input_value("#new_name") == PAYLOADS[0]  # the sheet as sent: the name as text
    assert_inert(page)
    assert not ClassProposal.objects.exists()
    # ... and as the description it is kept, as text.
    page.keyboard.press("+")
    page.fill("#new_name", "Falling_Chirp")
    page.fill("#new_description", DESCRIPTION)
    page.click("[data-testid=sheet-submit]")
    page.wait_for_selector(".messages")
    assert "5 glitches labelled Falling Chirp" in page.inner_text(".messages")
    assert_inert(page)
    assert ClassProposal.objects.get().description == DESCRIPTION

    # A reviewer's note on a rejection (the form takes a note field).
    other = services.class_proposal_create(
        volunteer=ClassProposal.objects.get().proposed_by, name="Other_Class", description="x"
    )
    log_in(page, "boss", "/discovery/")
    csrf = next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken")
    response = page.request.post(
        f"/discovery/proposals/{other.pk}/reject/",
        form={"note": NOTE},
        headers={"X-CSRFToken": csrf, "Referer": page.url},
    )
    assert response.ok
    assert other.events.last().note == NOTE

    # An admin opens the class for votes and accepts it into the registry.
    card = page.locator("[data-testid=proposal-Falling_Chirp]")
    page.goto("/discovery/")
    card.locator("[data-testid=make-provisional]").click()
    page.wait_for_selector("[data-testid=proposal-Falling_Chirp] [data-testid=accept]")
    page.click("[data-testid=proposal-Falling_Chirp] [data-testid=accept]")
    page.wait_for_selector("[data-testid=proposal-Falling_Chirp] [data-testid=deprecate]")
    assert GlitchClass.objects.get(name="Falling_Chirp").description == DESCRIPTION
    assert_inert(page, DESCRIPTION, NOTE)
    page.goto(
        f"/admin/discovery/classproposal/{ClassProposal.objects.get(name='Falling_Chirp').pk}/change/"
    )
    assert_inert(page)

    # Every volunteer of the top level: the labelling page's field guide drawer (label.js).
    log_in(page, "top", "/label/")
    page.wait_for_selector("#label-app[data-state=ready]")
    assert page.locator("#choices button[data-class=Falling_Chirp]").count() == 1
    page.keyboard.press("?")
    assert_inert(page, DESCRIPTION)
    page.goto("/field-guide/")
    assert_inert(page, DESCRIPTION)
