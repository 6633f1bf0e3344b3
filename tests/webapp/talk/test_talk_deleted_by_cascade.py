"""Every deletion of a comment leaves its record (talk.DeletedComment), the ones that come
with deleting its author's account or its glitch too: in the Django admin, one at a time
or by the list's action, and by code (QuerySet.delete). Before, deleting an account or a
glitch took its comments with it (CASCADE) and recorded nothing."""

import pytest
from webapp_factories import SubjectFactory, UserFactory

from webapp.labeling.models import Subject
from webapp.talk.models import Comment, DeletedComment

pytestmark = pytest.mark.django_db


def comments_by(author, subject, n: int) -> list[Comment]:
    return [
        Comment.objects.create(subject=subject, author=author, text=f"spam {i} #cheap")
        for i in range(n)
    ]


def test_an_admin_deleting_an_account_leaves_a_record_of_each_of_its_comments(admin_client):
    troll = UserFactory(username="troll")
    subject = SubjectFactory(status=Subject.Status.CLOSED)
    made = comments_by(troll, subject, 3)

    response = admin_client.post(f"/admin/auth/user/{troll.pk}/delete/", {"post": "yes"})

    assert response.status_code == 302
    assert not Comment.objects.exists()
    records = DeletedComment.objects.order_by("comment_id")
    assert [r.comment_id for r in records] == [c.pk for c in made]
    for record, comment in zip(records, made, strict=True):
        assert (record.author, record.author_username) == (None, "troll")  # it outlives them
        assert (record.subject_id, record.text) == (subject.pk, comment.text)
        assert record.written_at == comment.created_at
        assert record.how == DeletedComment.How.ACCOUNT


def test_an_admin_deleting_a_glitch_leaves_a_record_of_its_comments(admin_client):
    ann = UserFactory(username="ann")
    subject = SubjectFactory(status=Subject.Status.CLOSED, images=())
    comments_by(ann, subject, 2)

    response = admin_client.post(f"/admin/labeling/subject/{subject.pk}/delete/", {"post": "yes"})

    assert response.status_code == 302 and not Subject.objects.filter(pk=subject.pk).exists()
    records = list(DeletedComment.objects.all())
    assert len(records) == 2
    assert {(r.subject_id, r.author, r.author_username, r.how) for r in records} == {
        (None, ann, "ann", DeletedComment.How.GLITCH)
    }


def test_the_admins_list_action_deleting_accounts_records_each_comment(admin_client):
    a, b = UserFactory(username="a1"), UserFactory(username="b1")
    subject = SubjectFactory(status=Subject.Status.CLOSED)
    comments_by(a, subject, 2)
    comments_by(b, subject, 1)
    kept = comments_by(UserFactory(username="c1"), subject, 1)

    action = {"action": "delete_selected", "_selected_action": [a.pk, b.pk], "post": "yes"}
    assert admin_client.post("/admin/auth/user/", action).status_code == 302

    assert list(Comment.objects.all()) == kept
    records = DeletedComment.objects.all()
    assert sorted(r.author_username for r in records) == ["a1", "a1", "b1"]
    assert {(r.author, r.subject_id) for r in records} == {(None, subject.pk)}


def test_comments_deleted_by_code_are_recorded_too():
    ann = UserFactory(username="ann")
    subject = SubjectFactory(status=Subject.Status.CLOSED)
    comments_by(ann, subject, 2)

    Comment.objects.filter(author=ann).delete()

    records = list(DeletedComment.objects.all())
    assert len(records) == 2
    assert {(r.author, r.subject_id, r.how, r.deleted_by) for r in records} == {
        (ann, subject.pk, DeletedComment.How.OTHER, None)
    }


def deletion_queries(delete) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        delete()
    return len(queries)


@pytest.mark.parametrize("deleted", ["account", "glitch"])
def test_recording_a_deletion_costs_the_same_queries_for_3_comments_as_for_30(deleted):
    """The records are written together, and the authors' names read once: before, each
    comment cost ~4 queries (its author's name, then get_or_create with a savepoint), so an
    account with thousands of comments took thousands of statements to delete."""
    counts = []
    for n in (3, 30):
        subject = SubjectFactory(status=Subject.Status.CLOSED, images=())
        if deleted == "account":
            author = UserFactory()
            comments_by(author, subject, n)
            counts.append(deletion_queries(author.delete))
        else:
            for i in range(n):  # each comment its own author
                comments_by(UserFactory(username=f"a{n}-{i}"), subject, 1)
            counts.append(deletion_queries(Subject.objects.filter(pk=subject.pk).delete))
            names = set(DeletedComment.objects.values_list("author_username", flat=True))
            assert {f"a{n}-{i}" for i in range(n)} <= names
        assert DeletedComment.objects.filter(how=deleted).count() == sum((3, 30)[: len(counts)])
    assert counts[0] == counts[1]
