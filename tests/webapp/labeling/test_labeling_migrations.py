"""Data migrations keep what is stored: 0003 counts each volunteer's existing votes."""

import re

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


@pytest.mark.django_db(transaction=True)
def test_0019_corrects_the_shipped_class_texts_and_keeps_an_admins_own():
    """A database seeded before the field guide's texts were corrected still taught that Air
    Compressor lasts the window (seeding never rewrites a row it finds)."""
    from importlib import import_module

    from ml.classes import CANONICAL_CLASSES

    step = import_module("webapp.labeling.migrations.0019_glitchclass_corrected_texts")

    with schema_at([("labeling", "0018_subject_pictures_problem")]) as old:
        GlitchClass = old.get_model("labeling", "GlitchClass")
        for name in ("Air_Compressor", "Power_Line"):
            description, tell_apart = step.OLD_TEXTS[name]
            GlitchClass.objects.update_or_create(
                name=name, defaults={"description": description, "tell_apart": tell_apart}
            )
        GlitchClass.objects.filter(name="Power_Line").update(tell_apart="our own words")

        new = migrate_to([("labeling", "0019_glitchclass_corrected_texts")])
        rows = {
            name: (description, tell_apart)
            for name, description, tell_apart in new.get_model(
                "labeling", "GlitchClass"
            ).objects.values_list("name", "description", "tell_apart")
        }
        text = {info.name: (info.description, info.tell_apart) for info in CANONICAL_CLASSES}
        assert rows["Air_Compressor"] == text["Air_Compressor"]
        assert rows["Power_Line"] == (text["Power_Line"][0], "our own words")


@pytest.mark.django_db(transaction=True)
def test_0019_writes_its_own_frozen_texts_not_the_code_checked_out(monkeypatch):
    """It read ml.classes' texts when it ran: a later edit of the field guide would have
    changed what this step writes (and undoing it would no longer find its own text)."""
    import dataclasses
    from importlib import import_module

    import ml.classes

    step = import_module("webapp.labeling.migrations.0019_glitchclass_corrected_texts")
    shipped = {
        info.name: (info.description, info.tell_apart) for info in ml.classes.CANONICAL_CLASSES
    }
    monkeypatch.setattr(
        ml.classes,
        "CANONICAL_CLASSES",
        [
            dataclasses.replace(info, description="edited later", tell_apart="edited later")
            for info in ml.classes.CANONICAL_CLASSES
        ],  # fmt: skip
    )

    with schema_at([("labeling", "0018_subject_pictures_problem")]) as old:
        old.get_model("labeling", "GlitchClass").objects.update_or_create(
            name="Air_Compressor",
            defaults=dict(
                zip(("description", "tell_apart"), step.OLD_TEXTS["Air_Compressor"], strict=True)
            ),
        )
        new = migrate_to([("labeling", "0019_glitchclass_corrected_texts")])
        row = new.get_model("labeling", "GlitchClass").objects.get(name="Air_Compressor")
        assert (row.description, row.tell_apart) == shipped["Air_Compressor"]


OPAQUE = re.compile(r"^subjects/[0-9a-f]{2}/[0-9a-f]{32}\.png$")
MIGRATION_0009 = "webapp.labeling.migrations.0009_opaque_subject_image_names"
# What stops it, where (the nth call), and whether the images are all there at once after
# (an error settles its round; a kill -9 leaves it to the next run's journal).
FAILURES = {
    "move": ("the disk is full as the 3rd file is renamed into its new folder", 3, True),
    "rename": ("the connection drops as the 2nd round's rows take their names", 2, True),
    "killed-moving": ("kill -9 after the 3rd file moved, its round's rows not renamed", 3, False),
    "killed-renaming": ("kill -9 as the 2nd round's rows take their names", 2, False),
}


def _fail_at_the_nth(failure: str, monkeypatch) -> dict[str, int]:
    """Make the migration fail as FAILURES says; the count of tries. Rounds of 2 rows."""
    import errno
    import importlib
    import os

    from django.db import OperationalError
    from django.db.backends.utils import CursorWrapper

    _, nth, _ = FAILURES[failure]
    calls = {"n": 0}

    def at_nth() -> bool:
        calls["n"] += 1
        return calls["n"] == nth

    migration = importlib.import_module(MIGRATION_0009)
    monkeypatch.setattr(migration, "BATCH", 2)
    if failure.startswith("killed"):
        # a killed process runs no handler: the files stay where the kill left them
        monkeypatch.setattr(migration, "settle", lambda images, pairs: None)
    if failure in ("move", "killed-moving"):
        replace = os.replace

        def _replace(src, dst):
            if "subjects/demo-" not in str(src) or not at_nth():
                return replace(src, dst)
            if failure == "killed-moving":
                replace(src, dst)  # killed just after
            raise OSError(errno.ENOSPC, "No space left on device")

        monkeypatch.setattr(os, "replace", _replace)
    else:
        execute = CursorWrapper.execute

        def _execute(self, sql, params=None):
            if sql.startswith("UPDATE") and migration.JOURNAL in sql and at_nth():
                raise OperationalError("server closed the connection unexpectedly")
            return execute(self, sql, params)

        monkeypatch.setattr(CursorWrapper, "execute", _execute)
    return calls


@pytest.mark.parametrize("failure", FAILURES)
@pytest.mark.django_db(transaction=True)
def test_0009_stopped_part_way_loses_no_image_and_a_rerun_finishes(
    failure, fast_django_settings, monkeypatch
):
    """It used to delete each old file at once inside one transaction: a failure rolled the
    new names back after the old files were gone (2026-12-07 operator review, finding 1).
    Since 2026-12 it renames in place and commits per round: a kill -9 mid-round is put
    right by the next run (the operator's kill after 5 s)."""
    from pathlib import Path

    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage
    from django.db import OperationalError, connection
    from webapp_factories import tiny_png

    media = Path(fast_django_settings.MEDIA_ROOT)
    before = [("labeling", "0008_classification_after_retirement")]
    after = [("labeling", "0009_opaque_subject_image_names")]
    with schema_at(before) as old:
        Subject = old.get_model("labeling", "Subject")
        Image = old.get_model("labeling", "SubjectImage")
        content = {}
        for i in range(5):
            subject = Subject.objects.create(external_id=f"H1_g{i}", source="demo-gold")
            name = default_storage.save(
                f"subjects/demo-gold/H1_g{i}_1.0.png", ContentFile(tiny_png((40 * i, 9, 9)))
            )
            Image.objects.create(subject=subject, duration=1.0, image=name)
            content[subject.pk] = tiny_png((40 * i, 9, 9))
        # a second row naming the first file, in a later round (a substituted duration)
        first = Image.objects.order_by("pk").first()
        Image.objects.create(subject_id=first.subject_id, duration=2.0, image=first.image)

        def stored() -> dict[int, bytes]:
            """Each subject's image as its row names it (raises if the file is gone)."""
            return {
                row.subject_id: (media / row.image.name).read_bytes() for row in Image.objects.all()
            }

        _, nth, whole_at_once = FAILURES[failure]
        calls = _fail_at_the_nth(failure, monkeypatch)
        with pytest.raises((OSError, OperationalError)):
            migrate_to(after)
        monkeypatch.undo()
        assert calls["n"] == nth  # it failed where it was meant to
        if whole_at_once:
            assert stored() == content  # every subject's image is still there, whole

        migrate_to(after)  # the rerun finishes the job
        names = set(Image.objects.values_list("image", flat=True))
        assert all(OPAQUE.match(name) for name in names), names
        assert stored() == content
        on_disk = {str(p.relative_to(media)) for p in media.rglob("*") if p.is_file()}
        assert on_disk == names  # no old file, no copy that no row names
        assert "labeling_0009_renames" not in connection.introspection.table_names()


@pytest.mark.django_db(transaction=True)
def test_0009_removes_the_old_file_its_older_form_left_when_killed_before_deleting_it(
    fast_django_settings,
):
    """Until 2026-12, 0009 copied each file, committed its row, then deleted the old file,
    with the same journal. Killed between the two, the row names the copy, and the next run
    (the present form) left subjects/demo-gold/... on disk, served under /media/: the very
    name 0009 removes. A file a row still names stays."""
    from pathlib import Path

    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage
    from django.db import connection

    media = Path(fast_django_settings.MEDIA_ROOT)
    with schema_at([("labeling", "0008_classification_after_retirement")]) as old:
        Subject = old.get_model("labeling", "Subject")
        Image = old.get_model("labeling", "SubjectImage")
        journal = []
        for i, also_named in enumerate((False, True)):
            subject = Subject.objects.create(external_id=f"H1_g{i}", source="demo-gold")
            old_name = f"subjects/demo-gold/H1_g{i}_1.0.png"
            default_storage.save(old_name, ContentFile(b"x"))
            copy = default_storage.save(f"subjects/ab/{i:032x}.png", ContentFile(b"x"))
            Image.objects.create(subject=subject, duration=1.0, image=copy)
            if also_named:  # a second row (a later duration) still names the old file
                Image.objects.create(subject=subject, duration=2.0, image=old_name)
            journal.append((old_name, copy))
        with connection.cursor() as cursor:
            cursor.execute(
                "CREATE TABLE labeling_0009_renames "
                "(old_name varchar(255) NOT NULL, new_name varchar(255) NOT NULL)"
            )
            cursor.executemany("INSERT INTO labeling_0009_renames VALUES (%s, %s)", journal)

        migrate_to([("labeling", "0009_opaque_subject_image_names")])

        names = set(Image.objects.values_list("image", flat=True))
        assert all(OPAQUE.match(name) for name in names), names
        on_disk = {str(p.relative_to(media)) for p in media.rglob("*") if p.is_file()}
        assert on_disk == names  # the left-behind gold name gone; the shared one renamed
