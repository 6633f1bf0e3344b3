"""A cluster sheet's submit takes its locks in the order every other write takes them
(docs/labelling.md, "Lock order"), so it waits for them or they wait for it, and nothing
deadlocks: another volunteer's sheet of the same glitches in another order, a vote or an
undo from the volunteer's other tab on a glitch of the sheet, and their vote on another
glitch. Each request is paused at the point where, before, its locks crossed the other's
(tests/webapp/races.py), so every run meets the same interleaving: on the code before,
each test ended with a deadlock (one request a 500, its votes rolled back)."""

import threading

import pytest
from discovery_factories import volunteer
from django.db import connection
from races import in_threads, until_reached_or_waiting
from webapp_factories import SubjectFactory

from webapp.discovery import services
from webapp.discovery.models import Batch
from webapp.labeling import services as labeling
from webapp.labeling.models import Subject

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="needs row locks: run with DATABASE_URL=postgres"
    ),
]

vote = labeling.classification_create  # the vote as a tab sends it, never paused


def glitches(n: int) -> list[int]:
    return [SubjectFactory(images=(1.0,)).pk for _ in range(n)]


def pause_after_first_vote(monkeypatch, pauses: dict[int, tuple[threading.Event, threading.Event]]):
    """Each volunteer of `pauses` (id -> (reached, other)) stops after the first vote of
    their sheet: sets `reached`, and goes on once `other` is set or a request waits for a
    lock."""

    def create(**kwargs):
        result = vote(**kwargs)
        pause = pauses.pop(kwargs["volunteer"].pk, None)
        if pause is not None:
            reached, other = pause
            reached.set()
            until_reached_or_waiting(other)
        return result

    monkeypatch.setattr(labeling, "classification_create", create)


def submit(who, batch: Batch, class_name: str = "Blip"):
    def request() -> Batch:
        label = services.BatchLabel(class_name=class_name)
        return services.batch_submit(
            volunteer=who, batch_id=batch.pk, selected_ids=batch.subject_ids, label=label
        )

    return request


def test_two_volunteers_sheets_of_the_same_glitches_in_opposite_orders_are_both_stored(
    seeded, monkeypatch
):
    """The review's run: 40 glitches lassoed by two volunteers, one in ascending and one in
    descending order, submitted at once; the sheet that lost the deadlock lost its votes."""
    ids = glitches(6)
    ann, bob = volunteer("ann"), volunteer("bob")
    up = services.batch_from_subjects(volunteer=ann, subject_ids=ids)
    down = services.batch_from_subjects(volunteer=bob, subject_ids=ids[::-1])
    assert down.subject_ids == ids[::-1]  # the lasso keeps the order sent
    ann_voted, bob_voted = threading.Event(), threading.Event()
    pause_after_first_vote(
        monkeypatch, {ann.pk: (ann_voted, bob_voted), bob.pk: (bob_voted, ann_voted)}
    )

    assert in_threads(submit(ann, up), submit(bob, down, "Whistle")) == []
    assert [Batch.objects.get(pk=b.pk).n_voted for b in (up, down)] == [6, 6]
    assert set(Subject.objects.filter(pk__in=ids).values_list("n_votes", flat=True)) == {2}


def test_a_vote_from_another_tab_on_a_glitch_of_the_sheet_waits_for_the_submit(seeded, monkeypatch):
    """The sheet held its first glitch and the volunteer's profile and wanted the last
    glitch; the vote held that glitch and wanted the profile (the review: the vote a 500
    after 1.06 s, 4 runs of 4)."""
    ids = glitches(5)
    ann = volunteer("ann")
    sheet = services.batch_from_subjects(volunteer=ann, subject_ids=ids)
    sheet_voted = threading.Event()
    pause_after_first_vote(monkeypatch, {ann.pk: (sheet_voted, threading.Event())})

    def other_tab():
        assert sheet_voted.wait(20)
        vote(volunteer=ann, subject_id=ids[-1], class_name="Whistle")

    errors = in_threads(submit(ann, sheet), other_tab)
    assert [type(error) for error in errors] == [labeling.AlreadyVotedError]  # the sheet's
    assert Batch.objects.get(pk=sheet.pk).n_voted == 5


def test_an_undo_from_another_tab_on_a_glitch_of_the_sheet_waits_for_the_submit(
    seeded, monkeypatch
):
    """The undo locks its glitch, then the profile, as a vote does: the same cycle. It
    runs after the sheet, whose votes are then the volunteer's latest: refused (it took
    the vote back before it checked "your last vote" under the locks)."""
    ids = glitches(5)
    ann = volunteer("ann")
    sheet = services.batch_from_subjects(volunteer=ann, subject_ids=ids)
    last = vote(volunteer=ann, subject_id=ids[-1], class_name="Whistle")  # in the other tab
    sheet_voted = threading.Event()
    pause_after_first_vote(monkeypatch, {ann.pk: (sheet_voted, threading.Event())})

    def other_tab():
        assert sheet_voted.wait(20)
        labeling.classification_undo_last(volunteer=ann, classification_id=last.classification.pk)

    errors = in_threads(submit(ann, sheet), other_tab)
    assert [str(error) for error in errors] == ["only your last vote can be undone"]
    stored = Batch.objects.get(pk=sheet.pk)
    assert (stored.n_voted, stored.n_skipped) == (4, 1)  # the vote was there when it ran
    assert Subject.objects.get(pk=ids[-1]).n_votes == 1  # and stays


def test_a_vote_from_another_tab_on_another_glitch_does_not_block_the_submit(seeded, monkeypatch):
    """The sheet's wait for the volunteer's other requests (their user row) was a FOR
    UPDATE, which also blocks the key check of a vote's insert (its volunteer_id, checked
    when it commits): the vote held the profile and waited for the user row; the sheet held
    the user row and wanted the profile."""
    ids = glitches(4)
    ann = volunteer("ann")
    sheet = services.batch_from_subjects(volunteer=ann, subject_ids=ids[:3])
    sheet_opened, tab_done = threading.Event(), threading.Event()
    proposal_for = services._proposal_for

    def paused(*args, **kwargs):  # after the user row's lock, before any vote
        result = proposal_for(*args, **kwargs)
        sheet_opened.set()
        until_reached_or_waiting(tab_done)
        return result

    monkeypatch.setattr(services, "_proposal_for", paused)

    def other_tab():
        try:
            assert sheet_opened.wait(20)
            vote(volunteer=ann, subject_id=ids[3], class_name="Whistle")
        finally:
            tab_done.set()

    assert in_threads(submit(ann, sheet), other_tab) == []
    assert Batch.objects.get(pk=sheet.pk).n_voted == 3
    assert Subject.objects.get(pk=ids[3]).n_votes == 1
