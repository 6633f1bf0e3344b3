"""Data migrations of the review log: 0004 records the remaps made before it could."""

import pytest
from migrating import migrate_to, schema_at


@pytest.mark.django_db(transaction=True)
def test_0004_records_gold_seeded_for_a_class_deprecated_before_it_as_remapped():
    """Before 0004 a deprecation moved a volunteer-seeded gold glitch's label with no trace,
    and the export called it an expert's gold. Gold imported as the target class is not
    touched, nor a glitch a reviewer relabelled since."""
    others = [
        ("discovery", "0007_votes_outlive_no_account"),
        ("labeling", "0015_classification_remapped_from"),
    ]  # as they are: their models' state for the rows below
    before = [("review", "0003_auditrun_cancel"), *others]
    with schema_at(before) as old:
        User = old.get_model("auth", "User")
        GlitchClass = old.get_model("labeling", "GlitchClass")
        Subject = old.get_model("labeling", "Subject")
        Proposal = old.get_model("discovery", "ClassProposal")
        Event = old.get_model("discovery", "ProposalEvent")
        Vote = old.get_model("discovery", "ProposalVote")
        LabelChange = old.get_model("review", "LabelChange")
        boss, ann = User.objects.create(username="boss"), User.objects.create(username="ann")
        chirp, _ = GlitchClass.objects.get_or_create(name="Chirp")
        reverse = GlitchClass.objects.create(name="Reverse_Chirp", status="deprecated", order=99)
        proposal = Proposal.objects.create(
            name="Reverse_Chirp", status="deprecated", glitch_class=reverse, remapped_to=chirp
        )
        event = Event.objects.create(proposal=proposal, status="deprecated", actor=boss)
        seeded, imported, relabelled = (
            Subject.objects.create(
                external_id=name, source="m", role="gold", gold_label=chirp, retired_label=chirp,
                status="retired",
            )
            for name in ("seeded", "imported", "relabelled")
        )  # fmt: skip
        # expert gold, open, that a sheet's proposal vote fell on: not seeded by it
        stray = Subject.objects.create(
            external_id="stray", source="m", role="gold", gold_label=chirp
        )
        for subject in (seeded, relabelled, stray):
            Vote.objects.create(proposal=proposal, subject=subject, volunteer=ann)
        LabelChange.objects.create(
            subject=relabelled, field="gold_label", before="Reverse_Chirp", after="Chirp",
            changed_by=boss,
        )  # fmt: skip

        new = migrate_to([*others, ("review", "0004_labelchange_cause")])
        changes = new.get_model("review", "LabelChange").objects.all()
        assert {
            (c.subject.external_id, c.field, c.cause, c.before, c.after, c.changed_by_id)
            for c in changes
        } == {
            ("seeded", "gold_label", "remap", "Reverse_Chirp", "Chirp", boss.pk),
            ("seeded", "retired_label", "remap", "Reverse_Chirp", "Chirp", boss.pk),
            ("relabelled", "gold_label", "review", "Reverse_Chirp", "Chirp", boss.pk),
        }
        assert {c.created_at for c in changes if c.cause == "remap"} == {event.at}

        # and back: the rows it made go (kept, they would read as reviewers' relabels)
        back = migrate_to([*others, ("review", "0003_auditrun_cancel")])
        left = back.get_model("review", "LabelChange").objects.all()
        assert [(c.subject.external_id, c.field) for c in left] == [("relabelled", "gold_label")]
