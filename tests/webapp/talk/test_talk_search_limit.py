"""Talk's search limit counts new searches, not the pages of one: clicking "older" through
one search's results met a 429 on its 20th page within a minute. And one address (a
classroom, an office behind one NAT) may search more than one account: the class shared
GLITCHLAB_TALK_SEARCHES_PER_MINUTE searches a minute."""

import pytest
from django.test import Client
from webapp_factories import SubjectFactory, UserFactory

from webapp.labeling.models import Subject
from webapp.talk import views
from webapp.talk.models import Comment

pytestmark = pytest.mark.django_db


@pytest.fixture
def many(settings):
    """Five pages of comments, every one found by "remark"."""
    settings.GLITCHLAB_TALK_SEARCHES_PER_MINUTE = 3
    settings.GLITCHLAB_TALK_SEARCHES_PER_MINUTE_PER_ADDRESS = 7
    subject = SubjectFactory(status=Subject.Status.CLOSED)
    author = UserFactory()
    Comment.objects.bulk_create(
        Comment(subject=subject, author=author, text=f"remark number {i}.")
        for i in range(5 * views.COMMENTS_PER_PAGE)
    )


def _signed_in(address: str) -> Client:
    client = Client(REMOTE_ADDR=address)
    client.force_login(UserFactory())
    return client


def test_paging_through_a_search_is_not_searching_again(many):
    reader = _signed_in("203.0.113.7")
    assert reader.get("/talk/", {"q": "remark"}).status_code == 200
    for _ in range(4):  # every page, and back and forth: more pages than the limit
        for page in range(2, 6):
            shown = reader.get("/talk/", {"q": "remark", "page": page})
            assert shown.status_code == 200 and f"page {page} of 5" in shown.content.decode()
    assert reader.get("/talk/", {"q": "other"}).status_code == 200
    assert reader.get("/talk/", {"q": "third"}).status_code == 200
    assert reader.get("/talk/", {"q": "fourth"}).status_code == 429  # the 4th new search


def test_a_later_page_of_words_never_searched_counts_as_a_search(many):
    """Else ?page=2 with new words each time would search without limit."""
    scout = _signed_in("203.0.113.7")
    for words in ("a", "b", "c"):
        assert scout.get("/talk/", {"q": words, "page": 2}).status_code == 200
    assert scout.get("/talk/", {"q": "d", "page": 2}).status_code == 429


def test_a_searchs_pages_are_free_only_as_far_as_the_front_page_goes(many, monkeypatch):
    monkeypatch.setattr(views, "MAX_PAGES", 2)
    reader = _signed_in("203.0.113.7")
    codes = [reader.get("/talk/", {"q": "remark", "page": 2}).status_code for _ in range(10)]
    # the first counted, then MAX_PAGES free pages, and so on: 3 searches a minute
    assert codes == [200] * 9 + [429]


def test_one_address_is_shared_by_more_searches_than_one_account(many):
    """A classroom behind one NAT: each account its own 3, the address 7 in all."""
    codes = []
    for _ in range(3):
        pupil = _signed_in("198.51.100.1")
        codes += [pupil.get("/talk/", {"q": f"w{i}"}).status_code for i in range(3)]
    assert codes == [200] * 7 + [429] * 2
    refused = _signed_in("198.51.100.1").get("/talk/", {"q": "x"})
    assert b"at most 7 searches a minute from one address" in refused.content
    assert _signed_in("198.51.100.2").get("/talk/", {"q": "x"}).status_code == 200
    visitor = Client(REMOTE_ADDR="198.51.100.3")  # logged out: the address's limit only
    assert [visitor.get("/talk/", {"q": f"v{i}"}).status_code for i in range(8)] == [200] * 7 + [
        429
    ]
