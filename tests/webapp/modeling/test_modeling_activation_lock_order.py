"""A model's activation locks the open glitches in id order (docs/labelling.md, "Lock
order"), as a cluster sheet does, so a sheet submitted meanwhile waits for it or it for the
sheet. Before, it locked them in the order its scan returned them: the queue's index, in
priority order, on a large pool. Here the scan returns them c, a, b; the sheet holds a and
waits for b (a vote on it, paused), the activation holds c and waits for a; the vote ends,
the sheet takes b and wants c: a deadlock, the sheet's votes or the activation rolled back.
The requests are paused where their locks cross (tests/webapp/races.py); PostgreSQL only."""

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


def open_glitches_scanned_c_a_b() -> list[int]:
    """Three open glitches a < b < c that a scan of the pool returns as c, a, b: first in
    the table and in the queue's priority order alike."""
    a, b, c = (SubjectFactory(images=(1.0,), priority=p).pk for p in (0.5, 0.1, 0.9))
    Subject.objects.filter(pk=a).update(priority=0.5)  # rewritten after c: read after it
    Subject.objects.filter(pk=b).update(priority=0.1)
    pool = Subject.objects.filter(status=Subject.Status.ACTIVE, role=Subject.Role.POOL)
    assert [s.pk for s in pool] == [c, a, b]  # the scan the activation locked in
    return [a, b, c]


def test_a_sheet_submitted_during_an_activation_is_stored_and_the_model_switched(
    seeded, monkeypatch
):
    seeded.GLITCHLAB_BATCH_MIN = 3
    a, b, c = open_glitches_scanned_c_a_b()
    ann, carl = UserFactory(username="ann", profile__level=2), UserFactory(username="carl")
    sheet = discovery.batch_from_subjects(volunteer=ann, subject_ids=[a, b, c])
    new = ModelVersion.objects.create(name="new", class_names=["Blip"], activation_pending=True)

    carl_holds_b = threading.Event()
    recompute = labeling.subject_consensus_recompute

    def pause_carls_vote(**kwargs):  # called with the vote's glitch locked
        if kwargs["subject"].pk == b and not carl_holds_b.is_set():
            carl_holds_b.set()
            until_waiting(2)  # the sheet (holding a) and the activation
        return recompute(**kwargs)

    monkeypatch.setattr(labeling, "subject_consensus_recompute", pause_carls_vote)

    def carls_vote():
        labeling.classification_create(volunteer=carl, subject_id=b, class_name="Whistle")

    def anns_sheet():
        assert carl_holds_b.wait(20)
        label = discovery.BatchLabel(class_name="Blip")
        discovery.batch_submit(
            volunteer=ann, batch_id=sheet.pk, selected_ids=[a, b, c], label=label
        )

    def activation():
        assert carl_holds_b.wait(20)
        until_waiting(1)  # the sheet, holding a, waits for b
        services.model_version_activate(version_id=new.pk)

    assert in_threads(carls_vote, anns_sheet, activation) == []
    assert Batch.objects.get(pk=sheet.pk).n_voted == 3
    assert ModelVersion.objects.get(pk=new.pk).is_active
    votes = dict(Subject.objects.filter(pk__in=[a, b, c]).values_list("pk", "n_votes"))
    assert votes == {a: 1, b: 2, c: 1}
