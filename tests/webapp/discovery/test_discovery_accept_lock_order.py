"""A class's acceptance and a sheet's votes for it at the same time: one waits for the other
(docs/labelling.md, "Lock order"). The acceptance holds the proposal while it makes the
glitches volunteers agreed on gold; a sheet's proposal votes check, as the sheet commits,
that their proposal exists (FOR KEY SHARE), holding the sheet's glitches. Before, the
acceptance held the proposal FOR UPDATE, which that check waits for, and waited for a
glitch the sheet held: a deadlock, the sheet's votes or the acceptance rolled back; and it
locked the agreed glitches in the order its UPDATE's scan met them, where a sheet locks
them in id order. Each request is paused where the locks crossed (tests/webapp/races.py).
PostgreSQL only."""

import threading

import pytest
from discovery_factories import volunteer
from django.db import connection
from races import in_threads, until_waiting
from webapp_factories import SubjectFactory

from webapp.discovery import services
from webapp.discovery.models import Batch, ClassProposal, ProposalVote
from webapp.labeling import services as labeling
from webapp.labeling.models import Subject

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="needs row locks: run with DATABASE_URL=postgres"
    ),
]


def provisional(name: str, reviewer) -> ClassProposal:
    proposal = services.class_proposal_create(
        volunteer=volunteer(f"{name.lower()}-proposer"), name=name, description="d"
    )
    return services.class_proposal_make_provisional(actor=reviewer, proposal_id=proposal.pk)


def sheet_for(proposal: ClassProposal, who: str, subject_ids: list[int]):
    """`who`'s lasso sheet of these glitches, and its submit labelled with the proposal."""
    person = volunteer(who, level=5)
    sheet = services.batch_from_subjects(volunteer=person, subject_ids=subject_ids)
    label = services.BatchLabel(proposal_id=proposal.pk)

    def submit() -> Batch:
        return services.batch_submit(
            volunteer=person, batch_id=sheet.pk, selected_ids=subject_ids, label=label
        )

    return sheet, submit


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


def test_a_sheet_voting_for_a_class_while_it_is_accepted_is_stored_and_seeds_its_gold(
    seeded, monkeypatch, reviewer, admin
):
    """Three volunteers gave glitch g the class: accepting it makes g gold. Ann's sheet
    holds g (her vote, paused); the acceptance, holding the proposal, waits for g; the
    sheet commits, and its proposal vote's key check wants the proposal."""
    proposal = provisional("Arch", reviewer)
    g = SubjectFactory(images=(1.0,)).pk
    for who in ("bob", "cat", "deb"):
        sheet_for(proposal, who, [g])[1]()
    sheet, anns_submit = sheet_for(proposal, "ann", [g])
    ann_holds_g = pause_first_recompute(monkeypatch, waiters=1)  # the acceptance

    def accept():
        assert ann_holds_g.wait(20)
        services.class_proposal_accept(actor=admin, proposal_id=proposal.pk)

    assert in_threads(anns_submit, accept) == []
    assert Batch.objects.get(pk=sheet.pk).n_voted == 1
    assert ProposalVote.objects.filter(subject_id=g).count() == 4
    assert ClassProposal.objects.get(pk=proposal.pk).status == ClassProposal.Status.ACCEPTED
    glitch = Subject.objects.select_related("gold_label").get(pk=g)
    assert (glitch.role, glitch.gold_label.name) == (Subject.Role.GOLD, "Arch")


def test_a_sheet_of_three_agreed_glitches_submitted_during_the_acceptance_is_stored(
    seeded, monkeypatch, reviewer, admin
):
    """Three glitches a < b < c agreed on, which a scan of the table returns c, a, b. Ann's
    sheet holds a and waits for b (carl's vote on it, paused); the acceptance made c gold
    and waits for a; carl's vote ends, the sheet takes b and wants c."""
    proposal = provisional("Arch", reviewer)
    a, b, c = (SubjectFactory(images=(1.0,)).pk for _ in "abc")
    for who in ("bob", "cat", "deb"):
        sheet_for(proposal, who, [a, b, c])[1]()
    for pk in (c, a, b):  # rewritten in this order: read in it
        Subject.objects.filter(pk=pk).update(priority=0.5)
    assert list(Subject.objects.values_list("pk", flat=True)) == [c, a, b]
    sheet, anns_submit = sheet_for(proposal, "ann", [a, b, c])
    carl = volunteer("carl")
    carl_holds_b = pause_first_recompute(monkeypatch, waiters=2)  # the sheet, the acceptance

    def carls_vote():
        labeling.classification_create(volunteer=carl, subject_id=b, class_name="Whistle")

    def anns_sheet():
        assert carl_holds_b.wait(20)
        anns_submit()

    def accept():
        assert carl_holds_b.wait(20)
        until_waiting(1)  # the sheet, holding a, waits for b
        services.class_proposal_accept(actor=admin, proposal_id=proposal.pk)

    assert in_threads(carls_vote, anns_sheet, accept) == []
    assert Batch.objects.get(pk=sheet.pk).n_voted == 3
    gold = Subject.objects.filter(pk__in=[a, b, c]).values_list("gold_label__name", flat=True)
    assert list(gold) == ["Arch"] * 3
