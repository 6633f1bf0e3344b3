"""A class proposed from a tag while someone comments with that tag on one of its glitches:
one waits for the other (docs/labelling.md, "Lock order"). The proposal holds the tag's row
and then votes on the tag's glitches, locking them; a comment holds its glitch and, as it
commits, its tag's link checks that the tag exists (FOR KEY SHARE). Before, the proposal
held the tag FOR UPDATE, which that check waits for, and waited for the comment's glitch:
a deadlock, the comment or the proposal's votes rolled back. The comment is paused where
the locks crossed (tests/webapp/races.py). PostgreSQL only."""

import threading

import pytest
from django.db import connection
from races import in_threads, until_waiting
from webapp_factories import SubjectFactory, UserFactory

from webapp.discovery.models import ProposalVote
from webapp.labeling import config
from webapp.labeling.models import Subject
from webapp.talk import services
from webapp.talk.models import Comment, Tag

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="needs row locks: run with DATABASE_URL=postgres"
    ),
]


def test_a_comment_with_a_tag_being_proposed_as_a_class_is_stored_and_voted_on(seeded, monkeypatch):
    glitch = SubjectFactory(images=(1.0,), status=Subject.Status.DISCOVERY).pk
    services.comment_create(author=UserFactory(username="cat"), subject_id=glitch, text="#crown")
    eve = UserFactory(username="eve")
    expert = UserFactory(username="expert", profile__level=config.max_level())
    eve_holds_it = threading.Event()
    count = services._count_comment

    def pause_after_the_glitchs_lock(author):
        eve_holds_it.set()
        until_waiting(1)  # the proposal, holding the tag, waits for the glitch
        count(author)

    monkeypatch.setattr(services, "_count_comment", pause_after_the_glitchs_lock)

    def eves_comment():
        services.comment_create(author=eve, subject_id=glitch, text="#crown again")

    def propose():
        assert eve_holds_it.wait(20)
        services.tag_propose_class(
            volunteer=expert, tag_name="crown", name="Crown", description="short arches"
        )

    assert in_threads(eves_comment, propose) == []
    assert Comment.objects.filter(subject_id=glitch, tags__name="crown").count() == 2
    assert Tag.objects.get(name="crown").proposal.name == "Crown"
    assert ProposalVote.objects.filter(subject_id=glitch, volunteer=expert).exists()
