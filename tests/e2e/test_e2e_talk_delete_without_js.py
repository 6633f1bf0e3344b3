"""A reviewer's Delete with JavaScript off: the question is a page of its own, reached by a
redirect (post/redirect/get), so Back and reload after the Delete post nothing again; its
Delete looks like the button that deletes, beside a Cancel of the same size, and it names
the glitch."""

from __future__ import annotations

import pytest
from conftest import watched_page
from django.contrib.auth.models import Group
from webapp_factories import SubjectFactory, UserFactory

from webapp.accounts.roles import REVIEWER
from webapp.labeling.models import Subject
from webapp.talk.models import Comment, DeletedComment

pytestmark = pytest.mark.e2e


@pytest.fixture
def no_script_page(browser, live_server):
    with watched_page(
        browser, live_server, java_script_enabled=False, viewport={"width": 1280, "height": 800}
    ) as page:
        yield page


def test_delete_asks_on_a_page_that_back_and_reload_only_show(no_script_page, seeded):
    page = no_script_page
    subject = SubjectFactory(status=Subject.Status.CLOSED)
    comment = Comment.objects.create(
        subject=subject, author=UserFactory(username="troll"), text="buy pills"
    )
    reviewer = UserFactory(username="rev")
    reviewer.groups.add(Group.objects.get_or_create(name=REVIEWER)[0])
    page.goto(f"/accounts/login/?next=/subjects/{subject.pk}/")
    page.fill("input[name=username]", "rev")
    page.fill("input[name=password]", "pw")
    page.click("button[type=submit]")
    page.wait_for_url(f"**/subjects/{subject.pk}/")

    with page.expect_navigation():
        page.click("[data-testid=comment-delete]")
    page.wait_for_url(f"**/talk/comments/{comment.pk}/confirm-delete/**")
    glitch = page.get_by_test_id("delete-glitch")
    assert glitch.inner_text() == f"glitch #{subject.pk}"
    delete, cancel = page.get_by_test_id("delete-confirm"), page.get_by_test_id("delete-cancel")
    # Before: a small grey native button beside a large styled Cancel
    # (.danger was styled on the models' dashboard only).
    delete_box, cancel_box = delete.bounding_box(), cancel.bounding_box()
    assert delete_box and cancel_box
    assert abs(delete_box["height"] - cancel_box["height"]) <= 2
    assert delete.evaluate("b => getComputedStyle(b).borderTopColor") == "rgb(229, 100, 90)"
    assert delete.evaluate("b => getComputedStyle(b).cursor") == "pointer"
    page.reload()  # a GET: asks again, posts nothing
    assert Comment.objects.filter(pk=comment.pk).exists()

    with page.expect_navigation():
        delete.click()
    page.wait_for_url(f"**/subjects/{subject.pk}/**")
    assert DeletedComment.objects.get().comment_id == comment.pk

    # Back: before, net::ERR_CACHE_MISS ("Confirm Form Resubmission"); now the question's
    # GET page, which finds the comment gone and goes back to the thread.
    page.go_back()
    page.wait_for_url(f"**/subjects/{subject.pk}/**")
    assert "That comment is already deleted." in page.content()
    assert "buy pills" not in page.content()
    assert DeletedComment.objects.count() == 1
