"""Talk: who may post and moderate, escaping of what they write, length and rate limits."""

import datetime as dt
import re

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.utils import timezone
from page_messages import said
from webapp_factories import SubjectFactory, UserFactory

from webapp.accounts.roles import REVIEWER
from webapp.labeling.models import Subject
from webapp.talk.models import Comment, Tag

pytestmark = pytest.mark.django_db


def post(client, subject, text):
    return client.post(f"/talk/subjects/{subject.pk}/comments/", {"text": text})


def page(client, subject):
    return client.get(f"/subjects/{subject.pk}/").content.decode()


@pytest.fixture
def reviewer():
    user = UserFactory(username="rev")
    user.groups.add(Group.objects.get_or_create(name=REVIEWER)[0])
    return user


def test_anonymous_visitors_read_the_thread_but_cannot_post(client):
    # out of the queue: one collecting votes keeps others' comments until one's vote
    # (test_talk_open_threads)
    subject = SubjectFactory(status=Subject.Status.CLOSED)
    Comment.objects.create(subject=subject, author=UserFactory(), text="looks like a #blip")
    response = post(client, subject, "spam")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert Comment.objects.count() == 1
    text = page(client, subject)
    assert "looks like a" in text and 'data-testid="comment-text"' not in text
    assert "to join the discussion" in text


def test_a_volunteer_posts_and_the_comment_shows_on_the_glitchs_page(client):
    subject = SubjectFactory()
    client.force_login(UserFactory(username="ada"))
    response = post(client, subject, "  Wings on both sides: #Koi_Fish? #koi_fish  ")
    assert response.status_code == 302 and response["Location"].endswith(f"/{subject.pk}/#talk")
    comment = Comment.objects.get()
    assert comment.text == "Wings on both sides: #Koi_Fish? #koi_fish"
    assert [t.name for t in comment.tags.all()] == ["koi_fish"]
    text = page(client, subject)
    assert "<b><bdi>ada</bdi></b>" in text
    assert '<a class="hashtag" href="/talk/tags/koi_fish/">#Koi_Fish</a>' in text


def test_hostile_text_is_escaped_and_hashtags_make_only_safe_links(client):
    subject = SubjectFactory()
    client.force_login(UserFactory())
    hostile = (
        '<script>alert(1)</script> "><img src=x onerror=alert(2)> '
        '#tag"onmouseover="alert(3) <a href="javascript:alert(4)">#x</a> &#35;amp'
    )
    post(client, subject, hostile)
    text = page(client, subject)
    assert "<script>alert(1)" not in text and "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "<img src=x" not in text and "&lt;img src=x onerror=alert(2)&gt;" in text
    assert 'href="javascript:' not in text
    # The tag ends where the letters do; the quote after it stays text.
    assert '<a class="hashtag" href="/talk/tags/tag/">#tag</a>&quot;onmouseover=&quot;' in text
    assert "/talk/tags/amp/" not in text  # an entity typed as text is no tag


def test_a_volunteer_cannot_moderate(client):
    subject = SubjectFactory()
    comment = Comment.objects.create(subject=subject, author=UserFactory(), text="rude")
    client.force_login(UserFactory(username="someone"))
    for action in ("hide", "delete"):
        response = client.post(f"/talk/comments/{comment.pk}/{action}/")
        assert response.status_code == 403
    comment.refresh_from_db()
    assert comment.status == Comment.Status.VISIBLE
    assert 'data-testid="comment-hide"' not in page(client, subject)


def test_a_reviewer_hides_shows_and_deletes_and_hidden_comments_are_seen_by_reviewers_only(
    client, reviewer
):
    subject = SubjectFactory()
    author = UserFactory(username="author")
    comment = Comment.objects.create(subject=subject, author=author, text="hidden words #odd")
    comment.tags.create(name="odd")
    client.force_login(reviewer)
    assert 'data-testid="comment-hide"' in page(client, subject)
    response = client.post(f"/talk/comments/{comment.pk}/hide/", {"subject": subject.pk})
    assert response.status_code == 302
    comment.refresh_from_db()
    assert (comment.status, comment.moderated_by) == (Comment.Status.HIDDEN, reviewer)
    shown = page(client, subject)
    assert "hidden words" in shown and "hidden by <bdi>rev</bdi>" in shown

    client.force_login(author)  # not even its author sees it now
    assert "hidden words" not in page(client, subject)
    assert client.get("/talk/tags/odd/").context["n_subjects"] == 0
    client.logout()
    assert "hidden words" not in page(client, subject)
    assert "hidden words" not in client.get("/talk/").content.decode()

    client.force_login(reviewer)
    client.post(f"/talk/comments/{comment.pk}/show/")
    client.force_login(author)
    assert "hidden words" in page(client, subject)
    client.force_login(reviewer)
    client.post(f"/talk/comments/{comment.pk}/delete/", {"confirm": "1"})
    assert not Comment.objects.exists()


def test_a_comment_is_at_most_1000_characters(client):
    subject = SubjectFactory()
    client.force_login(UserFactory())
    response = post(client, subject, "x" * 1001)
    assert response.status_code == 302 and not Comment.objects.exists()
    follow = client.get(response["Location"]).content.decode()
    assert "at most 1000 characters (1001 given)" in follow
    post(client, subject, "y" * 1000)
    assert Comment.objects.get().text == "y" * 1000


def test_a_comment_the_textarea_let_through_is_counted_as_typed_not_as_sent(client):
    """The textarea's maxlength counts a new line as one character; the form sends it as CRLF,
    two: 923 characters and 77 new lines filled the box (1,000) and arrived as 1,077."""
    subject = SubjectFactory()
    client.force_login(UserFactory())
    typed = ("x" * 11 + "\n") * 77 + "x" * 76
    assert len(typed) == 1000 and typed.count("\n") == 77
    response = post(client, subject, typed.replace("\n", "\r\n"))
    assert response.status_code == 302
    assert Comment.objects.get().text == typed
    post(client, subject, "old\rMac line ends")  # a lone CR is a new line too
    assert Comment.objects.filter(text="old\nMac line ends").exists()


def test_empty_comments_and_comments_on_missing_glitches_are_refused(client):
    subject = SubjectFactory()
    client.force_login(UserFactory())
    post(client, subject, "   ")
    client.post("/talk/subjects/999999/comments/", {"text": "hello"})
    client.post(f"/talk/subjects/{2**63}/comments/", {"text": "hello"})
    assert not Comment.objects.exists()


def test_more_than_ten_comments_a_minute_are_refused_for_that_account_only(client, settings):
    subject = SubjectFactory()
    chatty = UserFactory(username="chatty")
    client.force_login(chatty)
    for i in range(10):
        assert post(client, subject, f"comment {i}").status_code == 302
    refused = post(client, subject, "one more")
    assert refused.status_code == 429
    assert "at most 10 comments a minute" in refused.content.decode()
    assert Comment.objects.filter(author=chatty).count() == 10
    client.force_login(UserFactory(username="calm"))
    assert post(client, subject, "my first").status_code == 302
    assert Comment.objects.count() == 11


def test_a_comment_posted_twice_at_once_is_stored_and_counted_once(client, settings):
    """A double click (or a resent form) sends one comment twice: one comment, one count
    against the minute's limit; the same words a while later are a new comment."""
    settings.GLITCHLAB_TALK_COMMENTS_PER_MINUTE = 2
    subject = SubjectFactory()
    client.force_login(UserFactory())
    for _ in range(3):
        assert post(client, subject, "looks like a #blip").status_code == 302
    assert Comment.objects.count() == 1 and Tag.objects.count() == 1
    assert post(client, subject, "another remark").status_code == 302  # only the 2nd count
    assert Comment.objects.count() == 2
    settings.GLITCHLAB_TALK_COMMENTS_PER_MINUTE = 100
    Comment.objects.update(created_at=timezone.now() - dt.timedelta(minutes=2))
    assert post(client, subject, "looks like a #blip").status_code == 302
    assert Comment.objects.count() == 3


def test_the_form_on_the_glitchs_page_carries_a_working_csrf_token():
    subject = SubjectFactory()
    client = Client(enforce_csrf_checks=True)
    client.force_login(UserFactory())
    assert post(client, subject, "no token").status_code == 403
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page(client, subject))
    assert token is not None
    response = client.post(
        f"/talk/subjects/{subject.pk}/comments/",
        {"text": "with token", "csrfmiddlewaretoken": token[1]},
    )
    assert response.status_code == 302
    assert Comment.objects.get().text == "with token"


@pytest.mark.parametrize("subject", ["abc", "1e3", "-5", "9" * 40])
def test_a_malformed_thread_in_a_moderation_form_is_no_server_error(client, reviewer, subject):
    """The form's `subject` only says which thread to go back to; a bad one was a 500, and
    for a volunteer a 500 before the reviewers-only check (now a 403)."""
    comment = Comment.objects.create(subject=SubjectFactory(), author=UserFactory(), text="hi")
    client.force_login(UserFactory(username="vol"))
    response = client.post(f"/talk/comments/{comment.pk}/hide/", {"subject": subject})
    assert response.status_code == 403
    client.force_login(reviewer)
    response = client.post(f"/talk/comments/{comment.pk}/hide/", {"subject": subject})
    assert response.status_code == 302
    comment.refresh_from_db()
    assert comment.status == Comment.Status.HIDDEN


def test_deleting_a_comment_twice_says_it_is_deleted_both_times(client, reviewer):
    """A double click on Delete: the second found nothing to delete and reported "no such
    comment" as a failure, though the comment was gone as asked."""
    subject = SubjectFactory()
    comment = Comment.objects.create(subject=subject, author=UserFactory(), text="spam")
    client.force_login(reviewer)
    url = f"/talk/comments/{comment.pk}/delete/"
    for _ in range(2):
        answer = client.post(url, {"subject": subject.pk, "confirm": "1"}, follow=True)
        assert said(answer) == [("success", "Comment deleted.")]
    assert not Comment.objects.exists()
    hidden = client.post(f"/talk/comments/{comment.pk}/hide/", {"subject": subject.pk}, follow=True)
    assert said(hidden) == [("error", "no such comment")]  # nothing there to hide


def test_a_long_thread_comes_a_page_at_a_time_newest_first(client):
    """Before: every comment on one page: 3,000 made a 4 MB page that took seconds to render
    for each visitor (a flood from a few accounts within the per-minute limit)."""
    from webapp.talk.templatetags.talk import THREAD_PAGE

    subject = SubjectFactory(status=Subject.Status.CLOSED)  # its thread open to all
    author = UserFactory()
    Comment.objects.bulk_create(
        Comment(subject=subject, author=author, text=f"comment number {i}.")
        for i in range(2 * THREAD_PAGE + 5)
    )
    newest = client.get(f"/subjects/{subject.pk}/").content.decode()
    assert newest.count('data-testid="comment"') == THREAD_PAGE
    assert f"comment number {2 * THREAD_PAGE + 4}." in newest and "comment number 0." not in newest
    assert f"({2 * THREAD_PAGE + 5})" in newest and 'data-testid="talk-earlier"' in newest
    oldest = client.get(f"/subjects/{subject.pk}/?talk_page=3").content.decode()
    assert oldest.count('data-testid="comment"') == 5 and "comment number 0." in oldest
    assert 'data-testid="talk-later"' in oldest
    assert client.get(f"/subjects/{subject.pk}/?talk_page=x").status_code == 200
    middle = client.get(f"/subjects/{subject.pk}/?talk_page=2").content.decode()
    assert "are below" not in middle and "are below" in newest


def test_a_moderator_stays_on_the_page_of_the_comment_they_hid(client, reviewer):
    from webapp.talk.templatetags.talk import THREAD_PAGE

    subject = SubjectFactory()
    Comment.objects.bulk_create(
        Comment(subject=subject, author=UserFactory(), text=f"c{i}") for i in range(THREAD_PAGE + 1)
    )
    first = Comment.objects.order_by("pk").first()
    client.force_login(reviewer)
    assert 'name="talk_page" value="2"' in page_of(client, subject, 2)
    answer = client.post(
        f"/talk/comments/{first.pk}/hide/", {"subject": subject.pk, "talk_page": "2"}
    )
    assert answer.url == f"/subjects/{subject.pk}/?talk_page=2#talk"
    odd = {"subject": subject.pk, "talk_page": "2#x"}
    assert (
        client.post(f"/talk/comments/{first.pk}/show/", odd).url == f"/subjects/{subject.pk}/#talk"
    )


def page_of(client, subject, number):
    return client.get(f"/subjects/{subject.pk}/?talk_page={number}").content.decode()


def form_text(client, subject):
    """What the glitch's comment box holds when the page opens."""
    match = re.search(r'data-testid="comment-text">\n(.*?)</textarea>', page(client, subject), re.S)
    assert match, "no comment box"
    return match.group(1)


def test_a_refused_comment_keeps_its_text_in_that_glitchs_box_until_one_is_posted(client, settings):
    """Refused for its length or for the minute's limit, the words come back in the box
    (escaped), on that glitch only, and go once a comment there is posted."""
    settings.GLITCHLAB_TALK_COMMENTS_PER_MINUTE = 1
    subject, other = SubjectFactory(), SubjectFactory()
    client.force_login(UserFactory())
    long = "<b>wings</b> & " + "x" * 1000
    post(client, subject, long)
    assert form_text(client, subject) == "&lt;b&gt;wings&lt;/b&gt; &amp; " + "x" * 1000
    assert form_text(client, other) == ""
    post(client, subject, "short")
    assert form_text(client, subject) == ""
    assert post(client, subject, "a second one this minute").status_code == 429
    assert form_text(client, subject) == "a second one this minute"
    assert Comment.objects.count() == 1


def test_a_hostile_refused_post_keeps_a_bounded_draft(client):
    subject = SubjectFactory()
    client.force_login(UserFactory())
    post(client, subject, "y" * 100_000)
    assert form_text(client, subject) == "y" * 5000
    assert not Comment.objects.exists()


def test_a_comment_posted_after_the_session_ended_waits_in_the_box_after_login(client):
    """The session ended while a comment was typed: the post went to the login page, whose
    next= was the comment URL, a GET there a bare 405, and the text was lost."""
    subject = SubjectFactory()
    UserFactory(username="ted")
    thread = f"/subjects/{subject.pk}/#talk"
    response = post(client, subject, "Wings on both sides, #koi_fish?")
    assert response.status_code == 302
    login = response["Location"]
    assert login == "/accounts/login/?next=" + thread.replace("#", "%23")
    back = client.post(login, {"username": "ted", "password": "pw", "next": thread})
    assert back["Location"] == thread  # login keeps the session's data: the draft with it
    assert form_text(client, subject) == "Wings on both sides, #koi_fish?"
    assert not Comment.objects.exists()
    # a GET on the comment URL (a reload, an older next=) goes to the thread, not a 405
    assert client.get(f"/talk/subjects/{subject.pk}/comments/")["Location"] == thread


def test_a_draft_kept_without_a_session_is_not_the_next_logins_elsewhere(client):
    """Before: login keeps the session's data, so a comment typed by one volunteer whose
    session ended waited in the box of whoever logged in next on that browser (a shared
    computer), whatever page they logged in from. Now only the login that goes on to the
    glitch's thread takes it over."""
    subject = SubjectFactory()
    UserFactory(username="bob")
    post(client, subject, "alice: a private thought")
    for next_url in ("", "/label/"):
        client.post("/accounts/login/", {"username": "bob", "password": "pw", "next": next_url})
        assert form_text(client, subject) == ""
        client.post("/accounts/logout/")
        post(client, subject, "alice: a private thought")
    thread = f"/subjects/{subject.pk}/#talk"
    client.post("/accounts/login/", {"username": "bob", "password": "pw", "next": thread})
    assert form_text(client, subject) == "alice: a private thought"  # the writer's way back


def test_posts_without_a_session_keep_few_drafts(settings):
    """Each draft kept for a post without a session is a session row, and anyone may post:
    before, 50 posts by a script that dropped its cookie each time made 50 rows (and on
    glitches that do not exist). Now only for a glitch that exists, at most
    kept_posts.ANONYMOUS_PER_HOUR an hour from one address."""
    from django.contrib.sessions.models import Session

    from webapp.accounts import kept_posts

    subject = SubjectFactory()
    for i in range(3):
        Client().post(f"/talk/subjects/{10**9 + i}/comments/", {"text": "spam"})
    assert Session.objects.count() == 0
    for _ in range(kept_posts.ANONYMOUS_PER_HOUR + 5):
        Client().post(f"/talk/subjects/{subject.pk}/comments/", {"text": "spam" * 100})
    assert Session.objects.count() == kept_posts.ANONYMOUS_PER_HOUR


def test_posts_without_a_session_from_new_ipv6_addresses_of_one_64_keep_few_drafts():
    """Counted by address, 25 posts from 25 addresses of one /64 (one ordinary IPv6
    allocation: 2^64 addresses) kept 25 session rows. Another /64 is another client."""
    from django.contrib.sessions.models import Session

    from webapp.accounts import kept_posts

    subject = SubjectFactory()
    for i in range(25):
        Client(REMOTE_ADDR=f"2001:db8::{i:x}").post(
            f"/talk/subjects/{subject.pk}/comments/", {"text": "spam"}
        )
    assert Session.objects.count() == kept_posts.ANONYMOUS_PER_HOUR
    Client(REMOTE_ADDR="2001:db8:0:1::1").post(
        f"/talk/subjects/{subject.pk}/comments/", {"text": "a draft"}
    )
    assert Session.objects.count() == kept_posts.ANONYMOUS_PER_HOUR + 1
