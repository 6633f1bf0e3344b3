"""Glitches named in a comment are links: "#162" and this site's own /subjects/162/ URL go to
glitch 162's page. No other URL is a link (a comment is no place for a link to another
site: a look-alike login page is one click away), nor a Gravity Spy id (its glitch's
number beside it is a key into public tables with its label). Whatever surrounds them
stays escaped."""

import pytest
from django.utils.html import escape
from webapp_factories import SubjectFactory, UserFactory

from webapp.labeling.models import Subject
from webapp.talk.models import Comment
from webapp.talk.selectors import tags_in
from webapp.talk.templatetags.talk import text_html

pytestmark = pytest.mark.django_db

HOST = "testserver"  # Django's test client's


def html(text):
    return str(text_html(text, HOST, set(tags_in(text))))  # the tags a new comment stores


def glitch_link(n, shown):
    return f'<a class="glitch-link" href="/subjects/{n}/">{shown}</a>'


def test_a_glitchs_number_and_this_sites_url_of_it_are_links_to_its_page(client):
    subject = SubjectFactory(status=Subject.Status.CLOSED)  # its thread open to all
    text = f"Like #{subject.pk}, see http://{HOST}/subjects/{subject.pk}/ #blip"
    Comment.objects.create(subject=subject, author=UserFactory(), text=text)
    for url in (f"/subjects/{subject.pk}/", "/talk/"):
        page = client.get(url).content.decode()
        assert f"Like {glitch_link(subject.pk, f'#{subject.pk}')}, see " in page
        assert glitch_link(subject.pk, f"http://{HOST}/subjects/{subject.pk}/") in page


def test_what_links_a_glitch_and_what_stays_text():
    assert html("#162.") == glitch_link(162, "#162") + "."
    assert html("(#7)") == "(" + glitch_link(7, "#7") + ")"
    assert html(f"HTTPS://{HOST.upper()}/subjects/9") == glitch_link(
        9, f"HTTPS://{HOST.upper()}/subjects/9"
    )
    plain = [
        "#0 #007 &#162; a#162 ##162 /#162 #1_2",  # no number of a glitch
        "#" + "9" * 19,  # past the largest id
        "H1_0PgqDFdHPl and H1_0PgqDFdHPl_spectrogram_1.0.png",  # a Gravity Spy id
        "http://other.example/subjects/162/ https://example.org/ www.example.org",
        f"http://{HOST}.evil.example/subjects/1/ http://{HOST}@evil.example/subjects/1/",
        f"http://evil.example/?next=http://{HOST}/subjects/1/ x/http://{HOST}/subjects/1/",
        f"http://{HOST}/subjects/1/similar/ http://{HOST}/subjects/1.json "
        f"http://{HOST}/subjects/1/#talk http://{HOST}/talk/ http://{HOST}:81/subjects/1/",
    ]
    for text in plain:
        assert html(text) == text.replace("&", "&amp;"), text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "<script>#162</script>",
            f"&lt;script&gt;{glitch_link(162, '#162')}&lt;/script&gt;",
        ),
        (
            '#162"onmouseover="alert(1)',
            f"{glitch_link(162, '#162')}&quot;onmouseover=&quot;alert(1)",
        ),
        (
            f'http://{HOST}/subjects/5/"onmouseover=alert(1)',
            f"{glitch_link(5, f'http://{HOST}/subjects/5/')}&quot;onmouseover=alert(1)",
        ),
        (
            f"javascript:http://{HOST}/subjects/5/ javascript:#5",
            f"javascript:http://{HOST}/subjects/5/ javascript:{glitch_link(5, '#5')}",
        ),
        (
            f'<a href="http://{HOST}/subjects/5/">#5</a>',
            f"&lt;a href=&quot;{glitch_link(5, f'http://{HOST}/subjects/5/')}&quot;&gt;"
            f"{glitch_link(5, '#5')}&lt;/a&gt;",
        ),
        (
            "<img src=x onerror=alert(1)>#1080Lines",
            '&lt;img src=x onerror=alert(1)&gt;<a class="hashtag" '
            'href="/talk/tags/1080lines/">#1080Lines</a>',
        ),
    ],
)
def test_hostile_text_around_a_glitch_link_stays_text(text, expected):
    assert html(text) == expected


def test_a_host_that_is_not_ours_makes_no_link_and_a_hostile_host_is_only_text():
    """The host is the request's (Django checked it against ALLOWED_HOSTS); a link's href is
    always built from the number, never copied from the comment."""
    assert html("http://a.b/subjects/3/") == "http://a.b/subjects/3/"
    assert str(text_html("http://a.b/subjects/3/", "a.b", set())) == glitch_link(
        3, "http://a.b/subjects/3/"
    )
    assert str(text_html("http://x/subjects/3/", "", set())) == "http://x/subjects/3/"


def test_a_20000_character_hostile_comment_renders_every_character_escaped():
    """Runs of what the patterns start on and never finish (digits and _ after a "#", a
    URL of ours cut short): each pattern's time is linear by construction (every
    quantifier bounded, each match starting at a "#" or an "http"); bench/talk_links.py
    times this string and ones ten and a hundred times longer. Here: nothing links, and
    every character comes out escaped."""
    unit = (
        "#"
        + "1" * 45
        + "#"
        + "_" * 41
        + "a#"
        + "a" * 41
        + f"/http://{HOST}/subjects/"
        + "9" * 25
        + "<"
    )
    text = (unit * (20_000 // len(unit) + 1))[:20_000]
    assert html(text) == escape(text)
