"""Every page works under the Content-Security-Policy: Chromium reports no violation (an
inline script, event handler or style attribute, or anything loaded from elsewhere, would
be one) and what the page's scripts draw is there: the map's points, the dashboard's bar,
the review page's probability bars, the labelling page's buttons."""

import sys
from pathlib import Path

import numpy as np
import pytest
from django.contrib.auth.models import Group
from webapp_factories import SubjectFactory, UserFactory

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "webapp" / "discovery"))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "webapp" / "review"))
from discovery_factories import stored_cluster  # noqa: E402
from review_factories import finished_audit, retired_subject  # noqa: E402

from webapp.accounts.roles import ADMIN  # noqa: E402
from webapp.discovery import services  # noqa: E402
from webapp.discovery.models import EmbeddingSet  # noqa: E402
from webapp.modeling.models import TrainingRun  # noqa: E402

pytestmark = pytest.mark.e2e

# Collected from the first script of every page on: securitypolicyviolation events.
WATCH = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  const where = `${e.sourceFile}:${e.lineNumber}`;
  window.__cspViolations.push(`${e.violatedDirective} ${e.blockedURI} ${where}`);
});
"""


@pytest.fixture
def site(seeded, tmp_path):
    seeded.GLITCHLAB_DISCOVERY_DIR = tmp_path / "discovery"
    seeded.GLITCHLAB_BATCH_MIN = 3
    seeded.VAR_DIR = tmp_path
    stored_cluster(n=8)
    services.map_store(
        set_id=EmbeddingSet.objects.get().pk, xy=np.random.default_rng(0).normal(size=(8, 2))
    )
    finished_audit((retired_subject("Blip"), "Blip", "Tomte"))
    TrainingRun.objects.create(status=TrainingRun.Status.RUNNING, progress={"fraction": 0.4})
    boss = UserFactory(username="boss")
    boss.is_staff = boss.is_superuser = True
    boss.save()
    boss.groups.add(Group.objects.get_or_create(name=ADMIN)[0])
    return seeded


def visit(page, path: str, ready: str = "body") -> None:
    response = page.goto(path)
    assert "script-src 'self'" in response.headers["content-security-policy"], path
    page.wait_for_selector(ready, state="attached")
    page.wait_for_load_state("networkidle")
    violations = page.evaluate("window.__cspViolations")
    assert violations == [], "\n".join([path, *violations])


def test_every_page_runs_under_the_policy(page, site):
    page.add_init_script(WATCH)
    subject = SubjectFactory()
    visit(page, "/")
    visit(page, "/accounts/signup/")
    visit(page, "/accounts/login/?next=/label/")
    page.fill("input[name=username]", "boss")
    page.fill("input[name=password]", "pw")
    page.click("button[type=submit]")
    page.wait_for_url("**/label/")

    visit(page, "/label/", "#label-app[data-state=ready]")
    assert page.locator("#choices button[data-class=Blip]").count() == 1
    visit(page, "/field-guide/")
    visit(page, f"/subjects/{subject.pk}/")
    visit(page, "/discovery/")
    visit(page, "/discovery/sheet/", "[data-testid=sheet-grid]")
    visit(page, "/discovery/map/", "#map[data-ready='1']")
    n_points = page.evaluate(
        "document.getElementById('map').data.reduce((n, t) => n + t.x.length, 0)"
    )
    assert n_points == 8
    # Under a policy too strict for Plotly's WebGL the points never reach the screen and
    # Plotly says so in their place.
    assert page.locator("#map .no-webgl").count() == 0
    visit(page, "/modeling/", "[data-testid=progress]")
    assert page.evaluate("document.querySelector('.bar-fill').style.width") == "40%", (
        "the progress bar's width is set by dashboard.js"
    )
    visit(page, "/review/", "[data-testid=top3]")
    widths = page.evaluate(
        "[...document.querySelectorAll('.top3 .bar')].map((b) => b.getBoundingClientRect().width)"
    )
    assert widths and all(w > 0 for w in widths), widths
    visit(page, "/admin/")
    visit(page, "/admin/labeling/glitchclass/1/change/")
    visit(page, "/no-such-page/", "[data-testid=error-404]")
