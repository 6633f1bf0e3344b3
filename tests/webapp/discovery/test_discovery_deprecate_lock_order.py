"""A class's deprecation locks every glitch holding one of its labels at once, in id order,
before it moves a label (docs/labelling.md, "Lock order"), and holds the class row so
that a vote for the class can still commit: a sheet or a vote at the same time waits for
it, or it for them. Before, it updated the glitches' gold and retired labels in the order
its scan returned them, and held the class row FOR UPDATE, which a vote's key check (its
glitch_class_id, checked as it commits) waits for. Each request is paused where the locks
crossed (tests/webapp/races.py): on the code before, each test ended with a deadlock (one
request rolled back, a 500). PostgreSQL only."""

import threading

import pytest
from discovery_factories import accepted_class, volunteer
from django.db import connection
from races import in_threads, until_waiting
from webapp_factories import SubjectFactory

from webapp.discovery import services
from webapp.discovery.models import Batch, ClassProposal
from webapp.labeling import services as labeling
from webapp.labeling.models import Classification, GlitchClass, Subject

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="needs row locks: run with DATABASE_URL=postgres"
    ),
]


def pause_first_recompute(monkeypatch, *, waiters: int) -> threading.Event:
    """The first consensus recompute (a vote's, its glitch locked) sets the event returned
    and goes on once `waiters` other requests wait for a lock."""
    reached = threading.Event()
    recompute = labeling.subject_consensus_recompute

    def paused(**kwargs):
        if not reached.is_set():
            reached.set()
            until_waiting(waiters)
        return recompute(**kwargs)

    monkeypatch.setattr(labeling, "subject_consensus_recompute", paused)
    return reached


def deprecate(proposal: ClassProposal, admin, *, after: threading.Event, waiting: int = 0):
    def request():
        assert after.wait(20)
        until_waiting(waiting)
        services.class_proposal_deprecate(actor=admin, proposal_id=proposal.pk, remap_to="Whistle")

    return request


def test_a_sheet_of_the_classs_gold_submitted_during_its_deprecation_is_stored(
    seeded, monkeypatch, reviewer, admin
):
    """Three gold glitches a < b < c of the class, which the scan of its gold returns c, a,
    b. The sheet holds a and waits for b (a vote on it, paused); the deprecation moved c's
    gold label and waits for a; the vote ends, the sheet takes b and wants c."""
    proposal = accepted_class("Arch", reviewer=reviewer, admin=admin)
    arch = GlitchClass.objects.get(name="Arch")
    a, b, c = (SubjectFactory(images=(1.0,), role="gold", gold_label=arch).pk for _ in "abc")
    Subject.objects.filter(pk=a).update(priority=0.5)  # rewritten after c: read after it
    Subject.objects.filter(pk=b).update(priority=0.1)
    assert [s.pk for s in Subject.objects.filter(gold_label=arch)] == [c, a, b]
    ann, carl = volunteer("ann", level=5), volunteer("carl")
    sheet = services.batch_from_subjects(volunteer=ann, subject_ids=[a, b, c])
    carl_holds_b = pause_first_recompute(monkeypatch, waiters=2)  # the sheet, the deprecation

    def carls_vote():
        labeling.classification_create(volunteer=carl, subject_id=b, class_name="Whistle")

    def anns_sheet():
        assert carl_holds_b.wait(20)
        label = services.BatchLabel(class_name="Blip")
        services.batch_submit(volunteer=ann, batch_id=sheet.pk, selected_ids=[a, b, c], label=label)

    deprecation = deprecate(proposal, admin, after=carl_holds_b, waiting=1)  # the sheet waits
    assert in_threads(carls_vote, anns_sheet, deprecation) == []
    assert Batch.objects.get(pk=sheet.pk).n_voted == 3
    gold = Subject.objects.filter(pk__in=[a, b, c]).values_list("gold_label__name", flat=True)
    assert list(gold) == ["Whistle"] * 3
    assert GlitchClass.objects.get(name="Arch").status == GlitchClass.Status.DEPRECATED


def test_a_vote_for_the_class_during_its_deprecation_is_stored_and_moved(
    seeded, monkeypatch, reviewer, admin
):
    """The vote holds its glitch, which has another vote for the class; the deprecation
    waits for the glitch; the vote commits, and its key check wanted the class row, which
    the deprecation held FOR UPDATE. Now FOR NO KEY UPDATE: the vote commits, and the
    deprecation, which then has the glitch, moves both votes."""
    proposal = accepted_class("Arch", reviewer=reviewer, admin=admin, votes=1)
    glitch = Classification.objects.get(glitch_class__name="Arch").subject_id
    dan = volunteer("dan", level=5)
    dan_holds_it = pause_first_recompute(monkeypatch, waiters=1)  # the deprecation

    def dans_vote():
        labeling.classification_create(volunteer=dan, subject_id=glitch, class_name="Arch")

    assert in_threads(dans_vote, deprecate(proposal, admin, after=dan_holds_it)) == []
    votes = Classification.objects.filter(subject_id=glitch)
    moved = set(votes.values_list("glitch_class__name", "remapped_from__name"))
    assert (votes.count(), moved) == (2, {("Whistle", "Arch")})
    assert "Arch" not in Subject.objects.get(pk=glitch).posterior
