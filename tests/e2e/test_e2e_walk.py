"""A walk through what issue #15 added, in a real browser, as each role: the field guide's
shipped examples and credit, the ? drawer on /label/, a reviewer's review page (first
audit, exports), the API docs, an admin's Models link and one-click field-guide example;
then a level-2 volunteer's own pages: My glitches, a glitch's metadata and Talk thread,
a #tag's page and the map. No page may break the Content-Security-Policy.

Screenshots go to a temporary folder; with GLITCHLAB_WALK_SCREENSHOTS=docs/images they
replace docs/images/walk-*.png (how those were made).
"""

import os
import sys
from io import StringIO
from pathlib import Path

import numpy as np
import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from PIL import Image
from webapp_factories import SubjectFactory, UserFactory, glitch_class, gold_subject

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "webapp" / "discovery"))
from discovery_factories import stored_cluster  # noqa: E402

from webapp.accounts.roles import ADMIN, REVIEWER  # noqa: E402
from webapp.discovery import services  # noqa: E402
from webapp.discovery.models import EmbeddingSet  # noqa: E402
from webapp.labeling.models import GlitchClassExample, Subject  # noqa: E402
from webapp.labeling.services import classification_create  # noqa: E402
from webapp.talk.models import Comment  # noqa: E402

pytestmark = pytest.mark.e2e

WATCH = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  const where = `${e.sourceFile}:${e.lineNumber}`;
  window.__cspViolations.push(`${e.violatedDirective} ${e.blockedURI} ${where}`);
});
"""


@pytest.fixture
def demo(seeded, tmp_path, settings):
    settings.DEBUG = True  # seed_demo is for demo mode only
    call_command("seed_demo", "--password", "pw", stdout=StringIO())
    settings.DEBUG = False
    for _ in range(3):
        SubjectFactory(images=(0.5, 1.0, 2.0, 4.0))
    SubjectFactory(status=Subject.Status.RETIRED, retired_label=glitch_class("Blip"), images=(1.0,))
    boss = UserFactory(username="boss")
    boss.groups.add(Group.objects.get_or_create(name=ADMIN)[0])
    rita = UserFactory(username="rita")
    rita.groups.add(Group.objects.get_or_create(name=REVIEWER)[0])
    return gold_subject("Tomte", source="real-set")


@pytest.fixture
def shots(tmp_path):
    folder = Path(os.environ.get("GLITCHLAB_WALK_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)

    def shot(page, name: str, full_page: bool = False) -> None:
        path = folder / f"walk-{name}.png"
        page.screenshot(path=str(path), full_page=full_page)
        # 256 colours: the committed images stay small (a few hundred KB each otherwise).
        Image.open(path).convert("RGB").quantize(256).save(path, optimize=True)

    return shot


def log_in(page, username: str, then: str) -> None:
    page.context.clear_cookies()
    page.goto(f"/accounts/login/?next={then}")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "pw")
    page.click("button[type=submit]")
    page.wait_for_url(f"**{then}")


# Redoc's bundle puts its maker's logo (https://cdn.redoc.ly/redoc/logo-mini.svg) in the
# side menu; the CSP blocks it, so the page loads nothing from there, but reports it.
REDOC_LOGO = "img-src https://cdn.redoc.ly/redoc/logo-mini.svg"


def settled(page, allowed: tuple[str, ...] = ()) -> None:
    page.wait_for_load_state("networkidle")
    violations = page.evaluate("window.__cspViolations")
    assert [v for v in violations if not v.startswith(allowed)] == [], page.url


def images_loaded(page, selector: str) -> tuple[int, int]:
    """(images shown, images) under the selector."""
    return page.evaluate(
        "(selector) => { const all = [...document.querySelectorAll(selector)];"
        " return [all.filter((i) => i.complete && i.naturalWidth > 0).length, all.length]; }",
        selector,
    )


def until_images_shown(page, selector: str, at_least: int) -> None:
    """Poll from Python: wait_for_function evaluates a string, which the CSP forbids."""
    for _ in range(150):
        shown, total = images_loaded(page, selector)
        if shown >= at_least and shown == total:
            return
        page.wait_for_timeout(100)
    raise AssertionError(f"{selector}: {shown} of {total} images shown, wanted {at_least}")


def test_the_walk(page, demo, shots):
    page.add_init_script(WATCH)

    # A volunteer: the field guide shows real examples of every class, credited.
    log_in(page, "volunteer", "/field-guide/")
    settled(page)
    page.locator("[data-testid=guide-example] img").first.scroll_into_view_if_needed()
    assert page.locator("[data-testid=guide-card]").count() == 22
    assert page.locator("[data-testid=guide-example]").count() == 34
    page.evaluate(
        "document.querySelectorAll('img[loading=lazy]').forEach((i) => i.loading = 'eager')"
    )
    until_images_shown(page, "[data-testid=guide-example] > img", 34)
    assert "CC BY 4.0" in page.inner_text("[data-testid=guide-credit]")
    shots(page, "field-guide")

    # The ? drawer on /label/ shows the examples of the volunteer's classes.
    page.goto("/label/")
    page.wait_for_selector("#label-app[data-state=ready]")
    page.keyboard.press("?")
    page.wait_for_selector("#guide:not([hidden])")
    until_images_shown(page, "#guide-grid img", 6)
    settled(page)
    shots(page, "label-drawer")

    # A reviewer: the first audit can be started, the exports and the API docs are linked.
    log_in(page, "rita", "/review/")
    settled(page)
    assert page.locator("[data-testid=audit-now]").is_visible()
    exported = page.request.get(page.get_attribute("[data-testid=labels-csv]", "href"))
    assert exported.ok and exported.text().startswith(
        "subject_id,external_id,gravityspy_id,ifo,event_time"
    )
    shots(page, "review")

    # The API docs, from this site only.
    page.goto("/api/docs/")
    page.wait_for_selector(".swagger-ui .info .title")
    page.get_by_text("/api/exports/labels.csv", exact=True).first.wait_for()
    settled(page)
    shots(page, "api-docs")
    page.goto("/api/redoc/")
    page.wait_for_selector("text=GlitchLab API")
    settled(page, allowed=(REDOC_LOGO,))
    shots(page, "api-redoc")

    # An admin: Models is in the navigation; a gold glitch joins the field guide in a click.
    log_in(page, "boss", "/field-guide/")
    page.click("[data-testid=nav-modeling]")
    page.wait_for_url("**/modeling/")
    settled(page)
    shots(page, "modeling")
    page.goto(f"/subjects/{demo.pk}/")
    page.click("[data-testid=field-guide-add] button")
    page.wait_for_selector(".messages")
    assert "Added to the Tomte field guide" in page.inner_text(".messages")
    settled(page)
    shots(page, "add-example")
    assert GlitchClassExample.objects.filter(glitch_class__name="Tomte").count() == 5


@pytest.fixture
def mapped(discovery):
    """8 glitches on the map, 3 retired as 3 classes; the first open one has Gravity Spy's
    metadata and ann's (level 2) vote."""
    _, subjects, _, _ = stored_cluster(n=8)
    embedding_set = EmbeddingSet.objects.get()
    services.map_store(set_id=embedding_set.pk, xy=np.random.default_rng(0).normal(size=(8, 2)))
    for subject, name in zip(subjects[5:], ["Blip", "Koi_Fish", "Whistle"], strict=True):
        subject.status = Subject.Status.RETIRED
        subject.retired_label = glitch_class(name)
        subject.save()
    glitch = subjects[0]
    glitch.gps_time, glitch.channel = 1126259462.391, "H1:GDS-CALIB_STRAIN"
    glitch.peak_frequency, glitch.snr, glitch.duration = 83.42, 12.87, 0.25
    glitch.save()
    ann = UserFactory(username="ann", profile__level=2)
    classification_create(volunteer=ann, subject_id=glitch.pk, class_name="Blip")
    return glitch


def test_the_walk_of_a_volunteer(page, mapped, shots):
    glitch = mapped
    page.add_init_script(WATCH)

    # My glitches: the vote, linked to its glitch.
    log_in(page, "ann", "/me/glitches/")
    settled(page)
    rows = page.locator("[data-testid=history-row]")
    assert rows.count() == 1
    assert "Blip" in rows.first.inner_text()
    assert page.inner_text("[data-testid=stats] > div").split() == ["1", "vote"]
    shots(page, "my-glitches")
    rows.first.locator(f"a[href='/subjects/{glitch.pk}/']").click()
    page.wait_for_url(f"**/subjects/{glitch.pk}/")

    # The glitch's page: its metadata, and a Talk comment whose #tag links to the tag page.
    facts = dict(
        zip(
            page.locator("[data-testid=facts] dt").all_inner_texts(),
            page.locator("[data-testid=facts] dd").all_inner_texts(),
            strict=True,
        )
    )
    assert facts["Peak frequency"] == "83.42 Hz"
    assert facts["SNR"] == "12.9"
    assert facts["Channel"] == "H1:GDS-CALIB_STRAIN"
    assert facts["Date"] == "2015-09-14 09:50:45 UTC"  # GW150914's GPS time
    page.fill("[data-testid=comment-text]", "Two arches, like a #twin_arch")
    page.click("[data-testid=comment-post]")
    page.wait_for_selector("[data-testid=comment]")
    assert Comment.objects.get().author.username == "ann"
    until_images_shown(page, ".durations img", 1)
    settled(page)
    shots(page, "subject-talk", full_page=True)  # the facts at the top, Talk at the bottom
    page.click("[data-testid=comment] a.hashtag")
    page.wait_for_url("**/talk/tags/twin_arch/")
    assert "1 glitch tagged" in page.inner_text("main")
    tagged = page.locator(f"[data-testid=tagged] a[href='/subjects/{glitch.pk}/']")
    assert tagged.inner_text() == glitch.external_id
    settled(page)
    shots(page, "tag")

    # The map at level 2: a legend of the classes and nothing that shares the chart.
    page.goto("/discovery/map/")
    page.wait_for_selector("#map[data-ready='1']")
    settled(page)
    legend = page.locator(".legend").text_content()
    assert all(name in legend for name in ("Blip", "Koi Fish", "Whistle", "unlabelled")), legend
    page.hover("#map")
    assert page.locator(".modebar").is_visible()
    assert (
        page.locator(
            ".modebar-btn[data-title*='Cloud'], .modebar-btn[data-title*='Chart Studio'],"
            " .modebar-btn[data-title*='Share']"
        ).count()
        == 0
    )
    assert page.locator("#map >> text=/share/i").count() == 0
    shots(page, "map")
