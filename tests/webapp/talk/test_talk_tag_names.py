"""Which #words are tags: every Gravity Spy class name is one (1080Lines and 1400Ripples
start with a digit, and were plain text with no tag page), and no number is one: "#162"
names a glitch (test_talk_links)."""

import pytest
from hypothesis import given
from hypothesis import strategies as st
from webapp_factories import SubjectFactory, UserFactory

from ml.classes import CANONICAL_NAMES
from webapp.labeling.models import Subject
from webapp.talk.models import TAG_MAX_LENGTH
from webapp.talk.selectors import TAG_NAME, tags_in

DIGITS = "0123456789"
TAG_CHARACTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ" + DIGITS + "_"


@given(name=st.sampled_from(CANONICAL_NAMES), before=st.sampled_from(["", " ", "(", "\n"]))
def test_every_class_name_is_a_tag(name, before):
    assert tags_in(f"{before}#{name}, surely") == [name.lower()]
    assert TAG_NAME.match(name.lower())


@given(number=st.text(alphabet=DIGITS, min_size=1, max_size=TAG_MAX_LENGTH + 5))
def test_no_number_is_a_tag(number):
    assert tags_in(f"see #{number} and #{number}.") == []
    assert not TAG_NAME.match(number)


@given(
    word=st.text(alphabet=TAG_CHARACTERS, min_size=2, max_size=TAG_MAX_LENGTH).filter(
        lambda w: any(c.isalpha() for c in w)
    )
)
def test_any_word_of_tag_characters_with_a_letter_is_a_tag(word):
    assert tags_in(f"#{word}") == [word.lower()]
    assert TAG_NAME.match(word.lower())


@pytest.mark.django_db
def test_a_class_name_that_starts_with_a_digit_links_to_its_tag_page(client):
    subject = SubjectFactory(status=Subject.Status.CLOSED)  # its thread open to all
    client.force_login(UserFactory())
    client.post(f"/talk/subjects/{subject.pk}/comments/", {"text": "a #1080Lines row"})
    page = client.get(f"/subjects/{subject.pk}/").content.decode()
    assert '<a class="hashtag" href="/talk/tags/1080lines/">#1080Lines</a>' in page
    tag_page = client.get("/talk/tags/1080lines/")
    assert tag_page.status_code == 200 and tag_page.context["n_subjects"] == 1
