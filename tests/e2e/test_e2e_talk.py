"""Talk in a browser: a volunteer's comment full of markup stays text (no script runs, no
element comes of it, the policy has nothing to block), its #tag leads to the tag's page,
and a reviewer's hide makes it vanish for the volunteer; a comment posted after the session
ended waits in its box after login; a reviewer's comment carries the badge "reviewer" beside
the name, a volunteer's none."""

import pytest
from django.contrib.auth.models import Group
from django.contrib.sessions.models import Session
from webapp_factories import SubjectFactory, UserFactory

from webapp.accounts.roles import REVIEWER
from webapp.talk.models import Comment

pytestmark = pytest.mark.e2e

PAYLOAD = (
    "Twin arches #twin_arch <img src=x onerror=window.__xss=1> "
    '<script>window.__xss=1</script> "><svg onload=window.__xss=1> #x"onmouseover="window.__xss=1'
)
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


def assert_inert(page) -> None:
    page.wait_for_load_state("networkidle")
    assert page.evaluate("window.__xss") is None, page.url
    assert page.evaluate("window.__cspViolations") == [], page.url
    hostile = "img[src=x], svg[onload], [onerror], [onload], [onmouseover], script:not([src])"
    assert page.locator(f"main {hostile}").count() == 0, page.url


def test_a_hostile_comment_stays_text_its_tag_links_and_a_reviewer_hides_it(page, seeded):
    page.add_init_script(WATCH)
    subject = SubjectFactory()
    UserFactory(username="ann")
    reviewer = UserFactory(username="rev")
    reviewer.groups.add(Group.objects.get_or_create(name=REVIEWER)[0])

    log_in(page, "ann", f"/subjects/{subject.pk}/")
    page.fill("[data-testid=comment-text]", PAYLOAD)
    page.click("[data-testid=comment-post]")
    page.wait_for_selector("[data-testid=comment]")
    assert_inert(page)
    assert page.inner_text("[data-testid=comment] .comment-text") == PAYLOAD
    assert Comment.objects.get().text == PAYLOAD
    assert page.locator("[data-testid=comment-role]").count() == 0  # a volunteer's

    page.click("[data-testid=comment] a.hashtag")
    page.wait_for_url("**/talk/tags/twin_arch/")
    page.click(f"a[href='/subjects/{subject.pk}/']")
    page.wait_for_url(f"**/subjects/{subject.pk}/")

    log_in(page, "rev", f"/subjects/{subject.pk}/")
    page.click("[data-testid=comment-hide]")
    page.wait_for_selector("[data-testid=comment-show]")
    assert_inert(page)
    page.fill("[data-testid=comment-text]", "Hidden: no markup in comments, please.")
    page.click("[data-testid=comment-post]")
    page.wait_for_selector("[data-testid=comment] >> nth=1")
    said = page.locator("[data-testid=comment]").nth(1)
    assert said.locator("header bdi").first.inner_text() == "rev"
    assert said.locator("[data-testid=comment-role]").inner_text() == "reviewer"
    assert said.locator("[data-testid=comment-role]").is_visible()

    # the glitch still collects votes: ann, who has not voted, reads only her own comment
    log_in(page, "ann", f"/subjects/{subject.pk}/")
    assert page.locator("[data-testid=comment]").count() == 0
    assert Comment.objects.get(author__username="ann").status == Comment.Status.HIDDEN


def test_a_comment_posted_after_the_session_ended_waits_in_its_box_after_login(page, seeded):
    """The login page sent the volunteer back to the comment URL with a GET: a bare 405,
    the comment lost."""
    subject = SubjectFactory()
    UserFactory(username="ted")
    log_in(page, "ted", f"/subjects/{subject.pk}/")
    text = "A careful comment about this #blip, typed for five minutes"
    page.fill("[data-testid=comment-text]", text)
    Session.objects.all().delete()  # the session ends; the browser keeps its stale cookie
    page.click("[data-testid=comment-post]")
    page.wait_for_url("**/accounts/login/**")
    page.fill("main input[name=username]", "ted")
    page.fill("main input[name=password]", "pw")
    page.click("main button[type=submit]")
    page.wait_for_url(f"**/subjects/{subject.pk}/#talk")
    assert page.input_value("[data-testid=comment-text]") == text
    assert not Comment.objects.exists()
    page.click("[data-testid=comment-post]")
    page.wait_for_selector("[data-testid=comment]")
    assert Comment.objects.get().text == text
    assert page.input_value("[data-testid=comment-text]") == ""  # the draft did its work
