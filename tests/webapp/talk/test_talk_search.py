"""Talk's front page: the latest comments a page at a time, and a search of the comments the
viewer may read (hidden ones for reviewers only; others' on a glitch still collecting votes
only once the viewer may see its answers). Before: the latest 20, no way to older ones."""

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from webapp_factories import SubjectFactory, UserFactory

from webapp.accounts.roles import REVIEWER
from webapp.labeling.models import Subject
from webapp.talk.models import Comment
from webapp.talk.views import COMMENTS_PER_PAGE, SEARCH_MAX_LENGTH

pytestmark = pytest.mark.django_db


def front(client, **query):
    response = client.get("/talk/", query)
    assert response.status_code == 200
    return response.content.decode()


def comments_shown(page):
    return page.count('data-testid="front-comment"')


@pytest.fixture
def open_to_all():
    return SubjectFactory(status=Subject.Status.CLOSED)  # out of the queue: open to all


def test_the_latest_comments_come_a_page_at_a_time(client, open_to_all):
    author = UserFactory()
    n = 2 * COMMENTS_PER_PAGE + 5
    Comment.objects.bulk_create(
        Comment(subject=open_to_all, author=author, text=f"remark number {i}.") for i in range(n)
    )
    newest = front(client)
    assert comments_shown(newest) == COMMENTS_PER_PAGE
    assert f"remark number {n - 1}." in newest and "remark number 0." not in newest
    assert 'href="?page=2"' in newest
    oldest = front(client, page=3)
    assert comments_shown(oldest) == 5 and "remark number 0." in oldest
    # Django's get_page: not a number is page 1, past the end (or before it) the last page
    for bad in ("x", "", "1.5", "9" * 40):
        assert front(client, page=bad).count("remark number") in (COMMENTS_PER_PAGE, 5), bad
    assert f"remark number {n - 1}." in front(client, page="x")
    assert "remark number 0." in front(client, page="999")
    assert "remark number 0." in front(client, page="-1")


def test_a_search_finds_comments_by_their_words_in_any_case(client, open_to_all):
    author = UserFactory()
    for text in ("A #Blip at 300 Hz", "scattered light arches", "100% sure: blip_like", "none"):
        Comment.objects.create(subject=open_to_all, author=author, text=text)
    found = front(client, q="  BLIP ")
    assert comments_shown(found) == 2 and "scattered light" not in found
    assert 'value="BLIP"' in found  # the box keeps what was searched
    assert comments_shown(front(client, q="100%")) == 1  # % and _ are letters, not wildcards
    assert comments_shown(front(client, q="s_r")) == 0  # not "sur"
    assert "No comment you may read has" in front(client, q="whistle")


def test_the_search_stays_on_the_next_page(client, open_to_all):
    author = UserFactory()
    Comment.objects.bulk_create(
        Comment(subject=open_to_all, author=author, text=f"koi fish {i}")
        for i in range(COMMENTS_PER_PAGE + 1)
    )
    Comment.objects.create(subject=open_to_all, author=author, text="not a fish")
    first = front(client, q="koi")
    assert 'href="?q=koi&amp;page=2"' in first
    assert comments_shown(front(client, q="koi", page=2)) == 1


def test_a_hidden_comments_text_is_not_found_but_by_reviewers(open_to_all):
    Comment.objects.create(
        subject=open_to_all,
        author=UserFactory(username="rude"),
        text="insulting remark",
        status=Comment.Status.HIDDEN,
    )
    volunteer = Client()
    volunteer.force_login(UserFactory())
    for client in (volunteer, Client()):
        found = front(client, q="insulting")
        assert comments_shown(found) == 0 and "insulting remark" not in found
    reviewer = UserFactory()
    reviewer.groups.add(Group.objects.get_or_create(name=REVIEWER)[0])
    moderator = Client()
    moderator.force_login(reviewer)
    assert "insulting remark" in front(moderator, q="insulting")


def test_others_comments_under_an_open_glitch_are_not_found_before_ones_vote():
    """A search is one more way to read a thread: the same rule (selectors._readable)."""
    open_glitch = SubjectFactory()  # still collecting votes
    Comment.objects.create(subject=open_glitch, author=UserFactory(), text="surely a whistle")
    scout = Client()
    scout.force_login(UserFactory())
    found = front(scout, q="whistle")
    assert comments_shown(found) == 0 and "surely a whistle" not in found


def test_a_long_query_is_cut_to_the_longest_searched(client, open_to_all):
    Comment.objects.create(subject=open_to_all, author=UserFactory(), text="a" * 300)
    page = front(client, q="a" * 5000)
    assert comments_shown(page) == 1
    assert (
        f'value="{"a" * SEARCH_MAX_LENGTH}"' in page
        and "a" * (SEARCH_MAX_LENGTH + 1) + '"' not in page
    )
    assert f'maxlength="{SEARCH_MAX_LENGTH}"' in page
