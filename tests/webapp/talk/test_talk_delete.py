"""A reviewer's Delete asks first, and leaves a record (who, when, the comment's id, glitch,
author and words) shown read-only in the admin. Before: one click, the comment gone, nothing
recorded (Hide and Show record their moderator)."""

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
    subject = SubjectFactory(status=Subject.Status.CLOSED)  # its thread open to all
    made = Comment.objects.create(
        subject=subject, author=UserFactory(username="troll"), text="buy #cheap pills"
    )
    made.tags.create(name="cheap")
    return made


def delete(client, comment):
    """Delete, its question answered (confirm.js sends confirm=1; without it, the server asks:
    test_talk_delete_without_js.py)."""
    return client.post(
        f"/talk/comments/{comment.pk}/delete/",
        {"subject": comment.subject_id, "confirm": "1"},
        follow=True,
    )


def test_a_deletion_records_who_when_and_what_was_deleted(client, reviewer, comment):
    client.force_login(reviewer)
    assert said(delete(client, comment)) == [("success", "Comment deleted.")]
    assert not Comment.objects.exists()
    record = DeletedComment.objects.get()
    assert (record.comment_id, record.subject_id, record.text) == (
        comment.pk,
        comment.subject_id,
        "buy #cheap pills",
    )
    assert (record.author, record.author_username) == (comment.author, "troll")
    assert (record.deleted_by, record.deleted_by_username) == (reviewer, "rev")
    assert record.written_at == comment.created_at and record.deleted_at >= comment.created_at
    page = client.get(f"/subjects/{comment.subject_id}/").content.decode()
    assert "pills" not in page  # gone from every page: its words are in the admin only
    assert client.get("/talk/tags/cheap/").context["n_subjects"] == 0


def test_a_replayed_or_second_delete_records_once(client, reviewer, comment):
    client.force_login(reviewer)
    for _ in range(3):
        assert said(delete(client, comment)) == [("success", "Comment deleted.")]
    assert DeletedComment.objects.count() == 1


def test_a_volunteer_an_anonymous_visitor_and_a_get_delete_nothing(client, reviewer, comment):
    url = f"/talk/comments/{comment.pk}/delete/"
    anonymous = client.post(url, {"subject": comment.subject_id})
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/accounts/login/")
    client.force_login(UserFactory(username="vol"))
    assert client.post(url, {"subject": comment.subject_id}).status_code == 403
    client.force_login(reviewer)
    assert client.get(url).status_code == 302  # a link or a prefetch: back to the thread
    assert Comment.objects.filter(pk=comment.pk).exists()
    assert not DeletedComment.objects.exists()


def test_delete_asks_first_and_hide_does_not(client, reviewer, comment):
    client.force_login(reviewer)
    page = client.get(f"/subjects/{comment.subject_id}/").content.decode()
    assert "js/confirm.js" in page
    delete_form = page[page.index('<form method="post" class="inline moderation delete') :]
    delete_form = delete_form[: delete_form.index("</form>")]
    assert 'data-confirm="Delete this comment by troll?' in delete_form
    assert 'data-testid="comment-delete"' in delete_form
    assert 'data-testid="comment-hide"' not in delete_form
    hide_form = page[page.index('<form method="post" class="inline moderation hide') :]
    assert "data-confirm" not in hide_form[: hide_form.index("</form>")]


def test_the_record_is_read_only_in_the_admin(admin_client, reviewer, comment, client):
    client.force_login(reviewer)
    delete(client, comment)
    record = DeletedComment.objects.get()
    listing = admin_client.get("/admin/talk/deletedcomment/")
    assert listing.status_code == 200 and "troll" in listing.content.decode()
    url = f"/admin/talk/deletedcomment/{record.pk}/change/"
    assert "buy #cheap pills" in admin_client.get(url).content.decode()
    assert admin_client.post(url, {"text": "nothing to see"}).status_code == 403
    gone = f"/admin/talk/deletedcomment/{record.pk}/delete/"
    assert admin_client.post(gone, {"post": "yes"}).status_code == 403
    assert admin_client.get("/admin/talk/deletedcomment/add/").status_code == 403
    record.refresh_from_db()
    assert record.text == "buy #cheap pills"


def test_a_comment_deleted_in_the_admin_is_recorded_too(admin_client, admin_user, comment):
    """The admin's Delete was a second way to delete with no record."""
    url = f"/admin/talk/comment/{comment.pk}/delete/"
    assert admin_client.post(url, {"post": "yes"}).status_code == 302
    other = Comment.objects.create(subject=comment.subject, author=admin_user, text="two")
    action = {"action": "delete_selected", "_selected_action": [other.pk], "post": "yes"}
    assert admin_client.post("/admin/talk/comment/", action).status_code == 302
    assert not Comment.objects.exists()
    records = DeletedComment.objects.order_by("deleted_at", "id")
    assert [(r.comment_id, r.deleted_by) for r in records] == [
        (comment.pk, admin_user),
        (other.pk, admin_user),
    ]
