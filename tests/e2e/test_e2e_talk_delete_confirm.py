"""A reviewer's Delete under a comment asks first: dismissed, nothing is deleted or recorded;
accepted, the comment goes and its record stays, with no second question from the server
(Hide asks nothing: it can be undone)."""

import pytest
from django.contrib.auth.models import Group
from webapp_factories import SubjectFactory, UserFactory

from webapp.accounts.roles import REVIEWER
from webapp.labeling.models import Subject
from webapp.talk.models import Comment, DeletedComment

pytestmark = pytest.mark.e2e


def test_delete_asks_and_a_dismissed_question_deletes_nothing(page, seeded):
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

    questions: list[str] = []

    def dismiss(dialog) -> None:
        questions.append(dialog.message)
        dialog.dismiss()

    page.once("dialog", dismiss)
    page.click("[data-testid=comment-delete]")
    page.wait_for_timeout(500)
    assert questions and questions[0].startswith("Delete this comment by troll?")
    assert Comment.objects.filter(pk=comment.pk).exists()
    assert not DeletedComment.objects.exists()

    def accept(dialog) -> None:
        questions.append(dialog.message)
        dialog.accept()

    page.once("dialog", accept)
    with page.expect_navigation():
        page.click("[data-testid=comment-delete]")
    # One question: the script sends confirm=1, so the server's page asking again (for a
    # browser without JavaScript) is not shown.
    assert len(questions) == 2
    page.wait_for_url(f"**/subjects/{subject.pk}/**")
    assert page.locator("[data-testid=delete-confirm]").count() == 0
    assert not Comment.objects.filter(pk=comment.pk).exists()
    assert DeletedComment.objects.get().comment_id == comment.pk
    assert "buy pills" not in page.content()
