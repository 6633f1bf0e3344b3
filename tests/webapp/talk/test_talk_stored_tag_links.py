"""A comment's #tags are links as they were stored for it, not as today's tag pattern reads
its text: tags may start with a digit now, and an older comment's "#1080Lines", stored as no
tag, linked to /talk/tags/1080lines/, a page that 404s or lists other comments. The tags come
prefetched: a page of comments costs the same queries however many there are."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from webapp_factories import SubjectFactory, UserFactory

from webapp.labeling.models import Subject
from webapp.talk.models import Comment, Tag

pytestmark = pytest.mark.django_db

OLD_LINK = 'href="/talk/tags/1080lines/"'


def comment(subject, text: str, stored: list[str]) -> Comment:
    made = Comment.objects.create(subject=subject, author=UserFactory(), text=text)
    made.tags.set([Tag.objects.get_or_create(name=name)[0] for name in stored])
    return made


@pytest.mark.parametrize("page", ["glitch", "front"])
def test_only_the_tags_stored_for_a_comment_are_links(client, page):
    subject = SubjectFactory(status=Subject.Status.CLOSED)  # its thread open to all
    comment(subject, "older: looks like #1080Lines", stored=[])
    comment(subject, "newer: #1080Lines again", stored=["1080lines"])
    url = f"/subjects/{subject.pk}/" if page == "glitch" else "/talk/"

    html = client.get(url).content.decode()

    assert ">older: looks like #1080Lines</p>" in html  # the older one's text, no link
    assert f'newer: <a class="hashtag" {OLD_LINK}>#1080Lines</a> again' in html


@pytest.mark.parametrize("url", ["/subjects/{pk}/", "/talk/"])
def test_a_page_of_tagged_comments_costs_the_same_queries_for_2_as_for_12(client, url):
    counts = []
    for n in (2, 12):
        Comment.objects.all().delete()
        subject = SubjectFactory(status=Subject.Status.CLOSED)
        for i in range(n):
            comment(subject, f"#blip_{i} and #koi", stored=[f"blip_{i}", "koi"])
        with CaptureQueriesContext(connection) as queries:
            html = client.get(url.format(pk=subject.pk)).content.decode()
        assert html.count('class="hashtag"') >= 2 * n
        counts.append(len(queries))
    assert counts[0] == counts[1]
