"""Delete cannot be undone, and its question was asked by static/js/confirm.js only: with
JavaScript off, one click deleted. Now a Delete without `confirm=1` goes to a page that
asks (a form that posts again with it, and a Cancel link back to the thread), a GET of its
own; the script adds the field when its question is accepted, so JS users see one question."""

import pytest
from django.contrib.auth.models import Group
from page_messages import said
from webapp_factories import SubjectFactory, UserFactory

from webapp.accounts.roles import REVIEWER
from webapp.labeling.models import Subject
from webapp.talk.models import Comment, DeletedComment

pytestmark = pytest.mark.django_db


@pytest.fixture
def reviewer():
    user = UserFactory(username="rev")
    user.groups.add(Group.objects.get_or_create(name=REVIEWER)[0])
    return user


@pytest.fixture
def comment():
    subject = SubjectFactory(status=Subject.Status.CLOSED)
    return Comment.objects.create(
        subject=subject, author=UserFactory(username="troll"), text="buy <b>pills</b>"
    )


def _tables():
    return list(Comment.objects.values()), list(DeletedComment.objects.values())


def test_a_delete_without_confirm_goes_to_a_page_that_asks_and_deletes_nothing(
    client, reviewer, comment
):
    """Post/redirect/get: the question was the answer to the POST, so after the Delete,
    Back met "Confirm Form Resubmission" (net::ERR_CACHE_MISS) and a reload posted again.
    Now the POST goes to a GET page that asks, which changes nothing however often it is
    loaded."""
    client.force_login(reviewer)
    url = f"/talk/comments/{comment.pk}/delete/"
    before = _tables()

    posted = client.post(url, {"subject": comment.subject_id, "talk_page": "2"})

    assert posted.status_code == 302
    asking = posted["Location"]
    assert asking.startswith(f"/talk/comments/{comment.pk}/confirm-delete/?")
    asked = client.get(asking)
    assert client.get(asking).status_code == asked.status_code == 200
    assert _tables() == before
    page = asked.content.decode()
    assert "Delete this comment by <bdi>troll</bdi>?" in page
    assert "buy &lt;b&gt;pills&lt;/b&gt;" in page  # the words it deletes, escaped
    form = page[page.index('<form method="post" action="' + url) :]
    form = form[: form.index("</form>")]
    assert '<input type="hidden" name="confirm" value="1">' in form
    assert f'<input type="hidden" name="subject" value="{comment.subject_id}">' in form
    assert '<input type="hidden" name="talk_page" value="2">' in form
    assert "csrfmiddlewaretoken" in form
    cancel = f'href="/subjects/{comment.subject_id}/?talk_page=2#talk"'
    assert cancel in page and 'data-testid="delete-cancel"' in page

    done = client.post(
        url, {"subject": comment.subject_id, "talk_page": "2", "confirm": "1"}, follow=True
    )
    assert said(done) == [("success", "Comment deleted.")]
    assert not Comment.objects.filter(pk=comment.pk).exists()
    assert DeletedComment.objects.get().comment_id == comment.pk

    # Back to the question once the comment is gone: its thread, nothing asked or recorded
    back = client.get(asking, follow=True)
    assert back.redirect_chain[-1][0] == f"/subjects/{comment.subject_id}/?talk_page=2#talk"
    assert said(back) == [("info", "That comment is already deleted.")]
    assert DeletedComment.objects.count() == 1


def test_the_question_names_the_glitch_with_a_link(client, reviewer, comment):
    client.force_login(reviewer)
    page = client.get(f"/talk/comments/{comment.pk}/confirm-delete/").content.decode()
    link = f'<a href="/subjects/{comment.subject_id}/#comment-{comment.pk}"'
    assert link in page and f"glitch #{comment.subject_id}</a>" in page


def test_the_page_asks_nothing_of_a_comment_already_gone(client, reviewer, comment):
    client.force_login(reviewer)
    url = f"/talk/comments/{comment.pk}/delete/"
    client.post(url, {"subject": comment.subject_id, "confirm": "1"}, follow=True)
    again = client.post(url, {"subject": comment.subject_id}, follow=True)
    assert said(again) == [("success", "Comment deleted.")]
    assert DeletedComment.objects.count() == 1


def test_a_volunteer_is_refused_before_any_question(client, comment):
    client.force_login(UserFactory(username="vol"))
    response = client.post(f"/talk/comments/{comment.pk}/delete/", {"subject": 1})
    assert response.status_code == 403 and b"pills" not in response.content
    asked = client.get(f"/talk/comments/{comment.pk}/confirm-delete/")
    assert asked.status_code == 403 and b"pills" not in asked.content
    assert Comment.objects.filter(pk=comment.pk).exists()


def test_a_visitor_logged_out_is_sent_to_log_in(client, comment):
    url = f"/talk/comments/{comment.pk}/confirm-delete/"
    response = client.get(url)
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert b"pills" not in client.get(url, follow=True).content


def test_the_thread_form_carries_confirm_for_the_script_to_send(client, reviewer, comment):
    """The field is disabled in the page (not sent without JavaScript); confirm.js enables it
    once its question is accepted."""
    client.force_login(reviewer)
    page = client.get(f"/subjects/{comment.subject_id}/").content.decode()
    form = page[page.index('<form method="post" class="inline moderation delete') :]
    form = form[: form.index("</form>")]
    assert '<input type="hidden" name="confirm" value="1" disabled data-confirmed>' in form
