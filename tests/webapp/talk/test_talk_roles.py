"""Talk shows each commenter's role: a reviewer's or an admin's comment carries a badge
beside the name, a volunteer's none, whatever the name (F4 of the attacker's review: a
look-alike of `reviewer` read as the reviewer). The badge comes with the comments' own
statement, not a query per author."""

import re

import pytest
from django.contrib.auth.models import Group, User
from django.db import connection
from django.test.utils import CaptureQueriesContext
from webapp_factories import SubjectFactory, UserFactory

from webapp.accounts.roles import ADMIN, REVIEWER
from webapp.labeling.models import Subject
from webapp.talk.models import Comment

pytestmark = pytest.mark.django_db

LOOK_ALIKE = "r\u0435vi\u0435w\u0435r"  # an account made before sign-up refused it


def with_role(username: str, role: str | None = None) -> User:
    user = UserFactory(username=username)
    if role:
        user.groups.add(Group.objects.get_or_create(name=role)[0])
    return user


def badges(html: str) -> dict[str, str]:
    """author -> the badge beside their name ("" for none), from each comment's header."""
    heads = re.findall(r"<header[^>]*><b><bdi>(.*?)</bdi></b>(.*?)</header>", html)
    found = {}
    for author, rest in heads:
        badge = re.match(r' <span class="badge role-badge" data-testid="comment-role">(\w+)<', rest)
        found[author] = badge.group(1) if badge else ""
    return found


@pytest.fixture
def thread():
    """A glitch out of the queue (its thread open to all), with a comment from each."""
    subject = SubjectFactory(status=Subject.Status.CLOSED)
    authors = [
        with_role("reviewer", REVIEWER),
        with_role("boss", ADMIN),
        User.objects.create_superuser("root", password="pw"),
        with_role("ann"),
        with_role(LOOK_ALIKE),
    ]
    for author in authors:
        Comment.objects.create(subject=subject, author=author, text=f"I am {author.username}")
    return subject


SHOWN = {"reviewer": "reviewer", "boss": "admin", "root": "admin", "ann": "", LOOK_ALIKE: ""}


def test_staff_comments_carry_their_role_and_a_volunteers_none(client, thread):
    assert badges(client.get(f"/subjects/{thread.pk}/").content.decode()) == SHOWN


def test_talks_front_page_shows_the_roles_too(client, thread):
    assert badges(client.get("/talk/").content.decode()) == SHOWN


def test_the_badges_cost_no_query_per_author(client):
    subject = SubjectFactory(status=Subject.Status.CLOSED)

    def statements() -> tuple[int, int]:
        with CaptureQueriesContext(connection) as thread:
            client.get(f"/subjects/{subject.pk}/")
        with CaptureQueriesContext(connection) as front:
            client.get("/talk/")
        return len(thread), len(front)

    Comment.objects.create(subject=subject, author=with_role("rev0", REVIEWER), text="one")
    few = statements()
    for i in range(6):
        author = with_role(f"staff{i}", [REVIEWER, ADMIN, None][i % 3])
        Comment.objects.create(subject=subject, author=author, text="more")
    assert statements() == few
