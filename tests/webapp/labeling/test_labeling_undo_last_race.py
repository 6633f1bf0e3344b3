"""Only the volunteer's last vote can be undone, also when the undo waits for a cluster
sheet of theirs from another tab: the undo checks "your last vote" again once it holds
their profile, which every vote of theirs holds until it commits. Before, it checked
before any lock: an undo sent while the sheet was being submitted found the tab's vote
last, waited for the profile, and took it back behind the sheet's newer votes (the sheet
is paused after its first vote, tests/webapp/races.py). PostgreSQL only."""

import threading

import pytest
from django.db import connection
from races import in_threads, until_reached_or_waiting
from webapp_factories import SubjectFactory, UserFactory

from webapp.discovery import services as discovery
from webapp.labeling import services
from webapp.labeling.models import Classification

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="needs row locks: run with DATABASE_URL=postgres"
    ),
]


def test_an_undo_that_waited_for_a_sheet_does_not_take_back_a_vote_no_longer_last(
    seeded, monkeypatch
):
    ids = [SubjectFactory(images=(1.0,)).pk for _ in range(4)]
    ann = UserFactory(username="ann", profile__level=2)
    sheet = discovery.batch_from_subjects(volunteer=ann, subject_ids=ids[:3])
    tab_vote = services.classification_create(volunteer=ann, subject_id=ids[3], class_name="Blip")
    sheet_voted = threading.Event()
    vote = services.classification_create

    def pause_after_first_vote(**kwargs):  # the sheet holds its glitches and the profile
        result = vote(**kwargs)
        if not sheet_voted.is_set():
            sheet_voted.set()
            until_reached_or_waiting(threading.Event())  # until the undo waits
        return result

    monkeypatch.setattr(services, "classification_create", pause_after_first_vote)

    def submit():
        label = discovery.BatchLabel(class_name="Whistle")
        discovery.batch_submit(volunteer=ann, batch_id=sheet.pk, selected_ids=ids[:3], label=label)

    def undo_in_the_other_tab():
        assert sheet_voted.wait(20)
        services.classification_undo_last(
            volunteer=ann, classification_id=tab_vote.classification.pk
        )

    errors = in_threads(submit, undo_in_the_other_tab)
    assert [str(e) for e in errors] == ["only your last vote can be undone"]
    assert Classification.objects.filter(volunteer=ann).count() == 4  # the tab's vote stays
