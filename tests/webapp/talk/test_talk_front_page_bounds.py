"""Talk's front page is bounded for anyone, logged out too: it pages back MAX_PAGES pages
(its count and its deepest OFFSET read at most MAX_SHOWN comments, and a page past them
says so), and searches (each scans the comments) are rate-limited per address and per
account. Before: /talk/?page=9999 counted and skipped every comment (1.2 s with 200,000),
and ?q= could be sent without limit."""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from webapp_factories import SubjectFactory, UserFactory

from webapp.labeling.models import Subject
from webapp.talk import views
from webapp.talk.models import Comment

pytestmark = pytest.mark.django_db


@pytest.fixture
def many(monkeypatch):
    """3 pages back; 2 comments more than they hold."""
    monkeypatch.setattr(views, "MAX_PAGES", 3, raising=False)
    monkeypatch.setattr(views, "MAX_SHOWN", 3 * views.COMMENTS_PER_PAGE, raising=False)
    subject = SubjectFactory(status=Subject.Status.CLOSED)
    author = UserFactory()
    n = 3 * views.COMMENTS_PER_PAGE + 2
    Comment.objects.bulk_create(
        Comment(subject=subject, author=author, text=f"remark number {i}.") for i in range(n)
    )
    return n


def test_the_front_page_goes_back_max_pages_and_says_so_beyond(client, many):
    with CaptureQueriesContext(connection) as statements:
        page = client.get("/talk/", {"page": "9999"}).content.decode()
    assert "page 3 of 3" in page and 'data-testid="talk-older"' not in page
    assert page.count('data-testid="front-comment"') == views.COMMENTS_PER_PAGE
    assert "remark number 2." in page and "remark number 1." not in page  # the oldest two
    assert 'data-testid="talk-depth"' in page and "goes back 3 pages" in page
    counts = [q["sql"] for q in statements.captured_queries if "COUNT(" in q["sql"]]
    comment_counts = [sql for sql in counts if "talk_comment" in sql and "talk_tag" not in sql]
    assert comment_counts and all("LIMIT" in sql for sql in comment_counts)  # no full count
    first = client.get("/talk/").content.decode()
    assert 'data-testid="talk-depth"' not in first and "remark number 61." in first


def test_a_search_past_the_limit_is_refused_per_address_and_per_account(settings, many):
    settings.GLITCHLAB_TALK_SEARCHES_PER_MINUTE = 3
    settings.GLITCHLAB_TALK_SEARCHES_PER_MINUTE_PER_ADDRESS = 3
    visitor = Client(REMOTE_ADDR="203.0.113.7")
    for _ in range(3):
        assert visitor.get("/talk/", {"q": "remark"}).status_code == 200
    refused = visitor.get("/talk/", {"q": "remark"})
    assert refused.status_code == 429 and b"at most 3 searches a minute" in refused.content
    assert visitor.get("/talk/", {"page": "2"}).status_code == 200  # paging is not a search
    assert Client(REMOTE_ADDR="203.0.113.8").get("/talk/", {"q": "x"}).status_code == 200

    scout = UserFactory()
    for i in range(3):  # one account from three addresses: counted as one
        roaming = Client(REMOTE_ADDR=f"198.51.100.{i}")
        roaming.force_login(scout)
        assert roaming.get("/talk/", {"q": "remark"}).status_code == 200
    roaming = Client(REMOTE_ADDR="198.51.100.9")
    roaming.force_login(scout)
    assert roaming.get("/talk/", {"q": "remark"}).status_code == 429


@pytest.mark.parametrize("query", [{}, {"q": "lonely"}])
def test_a_page_past_the_end_of_few_comments_is_the_last_page_quietly(client, query):
    """Before: /talk/?page=51 with one comment read "goes back 50 pages, the latest 1000
    comments: this is the last of them". The note is for the cap, reached only by
    MAX_SHOWN comments."""
    subject = SubjectFactory(status=Subject.Status.CLOSED)
    Comment.objects.create(subject=subject, author=UserFactory(), text="a lonely remark")
    for asked in (str(views.MAX_PAGES + 1), "9999", "2"):
        page = client.get("/talk/", {**query, "page": asked}).content.decode()
        assert "a lonely remark" in page
        assert 'data-testid="talk-depth"' not in page and "goes back" not in page
