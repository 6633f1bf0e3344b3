"""A model's switch re-routes the glitches it locked, in id order, and no other (docs/
labelling.md, "Lock order"). Before, its re-route updated every glitch open at that later
moment: one reopened after the switch had locked the open ones (an undo that takes a
glitch back from discovery) was locked last, out of id order. Here dan's undo reopens x
once the switch holds y (x < y); ann's sheet of x and y then holds x and waits for y; the
re-route wanted x: a deadlock, the sheet's votes or the switch rolled back. The requests
are paused where their locks cross (tests/webapp/races.py); PostgreSQL only."""

import threading

import pytest
from django.db import connection
from races import in_threads, until_waiting
from webapp_factories import SubjectFactory, UserFactory

from webapp.discovery import services as discovery
from webapp.discovery.models import Batch
from webapp.labeling import services as labeling
from webapp.labeling.models import Subject
from webapp.modeling import services
from webapp.modeling.models import ModelVersion

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="needs row locks: run with DATABASE_URL=postgres"
    ),
]


def in_discovery_by_three(subject_id: int) -> list:
    """Three volunteers' None_of_the_Above votes send the glitch to discovery; the last
    voter's vote, which an undo takes back, is returned with the voters."""
    voters = [UserFactory(username=name) for name in ("carl", "eve", "dan")]
    votes = [
        labeling.classification_create(
            volunteer=v, subject_id=subject_id, class_name="None_of_the_Above"
        )
        for v in voters
    ]
    assert Subject.objects.get(pk=subject_id).status == Subject.Status.DISCOVERY
    return [voters[-1], votes[-1].classification.pk]


def test_a_glitch_reopened_during_a_switch_does_not_deadlock_a_sheet_holding_it(
    seeded, monkeypatch
):
    x, y = (SubjectFactory(images=(1.0,)).pk for _ in "xy")
    dan, dans_vote = in_discovery_by_three(x)
    ann = UserFactory(username="ann", profile__level=2)
    sheet = discovery.batch_from_subjects(volunteer=ann, subject_ids=[x, y])
    new = ModelVersion.objects.create(name="new", class_names=["Blip"], activation_pending=True)

    switch_holds_y = threading.Event()
    reroute = services.queue_reroute

    def pause_before_the_reroute(**kwargs):  # the switch holds the open glitches: y
        switch_holds_y.set()
        until_waiting(1)  # ann's sheet, holding x, waits for y
        return reroute(**kwargs)

    monkeypatch.setattr(services, "queue_reroute", pause_before_the_reroute)

    def switch():
        services.model_version_activate(version_id=new.pk)

    def undo_then_sheet():
        assert switch_holds_y.wait(20)
        labeling.classification_undo_last(volunteer=dan, classification_id=dans_vote)
        assert Subject.objects.get(pk=x).status == Subject.Status.ACTIVE  # open again
        label = discovery.BatchLabel(class_name="Blip")
        discovery.batch_submit(volunteer=ann, batch_id=sheet.pk, selected_ids=[x, y], label=label)

    assert in_threads(switch, undo_then_sheet) == []
    assert Batch.objects.get(pk=sheet.pk).n_voted == 2
    assert ModelVersion.objects.get(pk=new.pk).is_active
    votes = dict(Subject.objects.filter(pk__in=[x, y]).values_list("pk", "n_votes"))
    assert votes == {x: 3, y: 1}
