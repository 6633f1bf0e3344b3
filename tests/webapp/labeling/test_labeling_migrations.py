"""Data migrations keep what is stored: 0003 counts each volunteer's existing votes."""

import pytest
from migrating import migrate_to, schema_at

BEFORE = [("labeling", "0002_seed_glitch_classes")]
AFTER = [("labeling", "0003_volunteerprofile_n_classified")]


@pytest.mark.django_db(transaction=True)
def test_0003_counts_the_votes_each_volunteer_had_already_given():
    with schema_at(BEFORE) as old:
        User = old.get_model("auth", "User")
        Profile = old.get_model("labeling", "VolunteerProfile")
        Subject = old.get_model("labeling", "Subject")
        Vote = old.get_model("labeling", "Classification")
        # get_or_create: an earlier transactional test may have flushed the seeded classes
        blip, _ = old.get_model("labeling", "GlitchClass").objects.get_or_create(name="Blip")
        busy, idle = User.objects.create(username="busy"), User.objects.create(username="idle")
        for user in (busy, idle):
            Profile.objects.create(user=user)
        for i in range(3):
            subject = Subject.objects.create(external_id=f"m{i}", source="migration")
            Vote.objects.create(volunteer=busy, subject=subject, glitch_class=blip)

        new = migrate_to(AFTER).get_model("labeling", "VolunteerProfile")
        counts = dict(new.objects.values_list("user__username", "n_classified"))
        assert counts == {"busy": 3, "idle": 0}


@pytest.mark.django_db(transaction=True)
def test_0011_retires_the_gold_glitches_already_in_the_field_guide():
    with schema_at([("labeling", "0010_classification_answers_seen")]) as old:
        Subject = old.get_model("labeling", "Subject")
        Example = old.get_model("labeling", "GlitchClassExample")
        whistle, _ = old.get_model("labeling", "GlitchClass").objects.get_or_create(name="Whistle")
        shown, kept = (
            Subject.objects.create(external_id=name, source="m", role="gold", gold_label=whistle)
            for name in ("shown", "kept")
        )
        pool = Subject.objects.create(external_id="pool", source="m")
        for subject in (shown, pool):  # a pool glitch is never an example; stays as it is
            Example.objects.create(
                glitch_class=whistle,
                glitch_id=f"subject-{subject.pk}",
                source_name=f"s{subject.pk}",
            )
        Example.objects.create(glitch_class=whistle, glitch_id="H1_x", source_name="shipped")

        new = migrate_to([("labeling", "0011_retire_gold_shown_in_the_field_guide")])
        rows = new.get_model("labeling", "Subject").objects.order_by("pk")
        assert [(s.external_id, s.status, s.retired_label_id) for s in rows] == [
            ("shown", "retired", whistle.pk), ("kept", "active", None), ("pool", "active", None)
        ]  # fmt: skip


@pytest.mark.django_db(transaction=True)
def test_0014_says_a_posterior_counted_before_it_holds_a_model_not_recorded():
    """Which model's vote an older posterior holds is not known (activation overwrote
    activated_at): "unknown" in the export, never "" (no model's), which it may not be.
    The migration writes no row (a backfill rewrote every counted subject under the
    table's lock): the export tells the two kinds of old row apart by their posterior."""
    from webapp.labeling.exports import consensus_model_version

    with schema_at([("labeling", "0013_votes_outlive_no_account")]) as old:
        Subject = old.get_model("labeling", "Subject")
        Subject.objects.create(external_id="counted", source="m", posterior={"Blip": 0.95})
        Subject.objects.create(external_id="never", source="m")

        new = migrate_to([("labeling", "0014_subject_consensus_model")])
        rows = new.get_model("labeling", "Subject").objects.order_by("pk")
        assert [(s.external_id, s.consensus_model) for s in rows] == [
            ("counted", None), ("never", None)
        ]  # fmt: skip
        assert [consensus_model_version(s) for s in rows] == ["unknown", ""]


@pytest.mark.django_db(transaction=True)
def test_0017_gives_the_canonical_classes_their_tell_apart_line_and_a_new_class_none():
    from ml.classes import CANONICAL_CLASSES

    with schema_at([("labeling", "0016_images_validated_in_forms")]) as old:
        GlitchClass = old.get_model("labeling", "GlitchClass")
        for name in ("Blip", "Whistle"):
            GlitchClass.objects.get_or_create(name=name)
        GlitchClass.objects.get_or_create(name="Crown")  # an accepted class of one's own

        new = migrate_to([("labeling", "0017_glitchclass_tell_apart")])
        rows = dict(
            new.get_model("labeling", "GlitchClass").objects.values_list("name", "tell_apart")
        )
        text = {info.name: info.tell_apart for info in CANONICAL_CLASSES}
        assert rows["Blip"] == text["Blip"] and rows["Whistle"] == text["Whistle"]
        assert rows["Crown"] == ""
