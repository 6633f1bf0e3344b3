"""Give every stored subject image an opaque name (issue #14).

Names used to be subjects/<source>/<external id>_<duration>.png, so a gold glitch's URL said
"demo-gold". Each image already imported is copied to subjects/<xx>/<random hex>.<ext> and
the old file removed; a row whose file is missing keeps its name (nothing to move). Not
reversible: the old names gave the answers away.

Nothing is lost whatever stops it part-way (a full disk, a dropped connection, the container
killed): the migration is not atomic, each row is renamed in its own transaction, and an old
file is deleted only once its row's new name has committed. Each pair is written to a journal
table before its copy starts, so a run that was stopped is finished by the next one: a copy
whose row took its name has its old file removed, one whose row did not is removed (the row
still names the old file, and is renamed again). A run that completes drops the journal.
(Until 2026-12-07 it ran in one transaction and deleted each old file at once, so a failure
rolled the names back after the files were gone; a database that applied it then is
unaffected by the change.)
"""

import re
import uuid
from pathlib import PurePosixPath

from django.core.files.storage import default_storage
from django.db import migrations, transaction
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

OPAQUE = re.compile(r"^subjects/[0-9a-f]{2}/[0-9a-f]{32}(\.[a-z0-9]+)?$")
JOURNAL = "labeling_0009_renames"  # (old name, new name) of each copy begun, until finished
BATCH = 500


def opaque_name(old: str) -> str:
    """webapp.labeling.models.opaque_image_name as of this migration."""
    token = uuid.uuid4().hex
    return f"subjects/{token[:2]}/{token}{PurePosixPath(old).suffix.lower()}"


def rename_images(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    SubjectImage = apps.get_model("labeling", "SubjectImage")
    connection = schema_editor.connection
    images = SubjectImage.objects.using(connection.alias)

    def journal(sql: str, params: tuple[str, ...] = ()) -> list[tuple[str, str]]:
        with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
            cursor.execute(sql, params)
            return list(cursor.fetchall()) if cursor.description else []

    def named(name: str) -> bool:
        return images.filter(image=name).exists()

    def drop_old(old: str) -> None:
        if not named(old):  # (two rows naming one file: the second still needs it)
            default_storage.delete(old)

    def finished(old: str, new: str) -> None:
        journal(f"DELETE FROM {JOURNAL} WHERE old_name = %s AND new_name = %s", (old, new))

    journal(
        f"CREATE TABLE IF NOT EXISTS {JOURNAL} "
        "(old_name varchar(255) NOT NULL, new_name varchar(255) NOT NULL)"
    )
    # what a stopped run left: the row's commit decides which of the two files stays
    for old, new in journal(f"SELECT old_name, new_name FROM {JOURNAL}"):
        if named(new):
            drop_old(old)
        else:
            default_storage.delete(new)
        finished(old, new)

    rows = images.exclude(image="").order_by("pk").values_list("pk", "image")
    last = 0
    while batch := list(rows.filter(pk__gt=last)[:BATCH]):
        last = batch[-1][0]
        for pk, old in batch:
            if OPAQUE.match(old) or not default_storage.exists(old):
                continue
            new = opaque_name(old)
            journal(f"INSERT INTO {JOURNAL} (old_name, new_name) VALUES (%s, %s)", (old, new))
            try:
                with default_storage.open(old, "rb") as handle:
                    stored = default_storage.save(new, handle)
            except BaseException:
                default_storage.delete(new)  # a partial copy; no row names it yet
                raise
            if stored != new:  # (taken meanwhile: a random name, so never in practice)
                journal(
                    f"INSERT INTO {JOURNAL} (old_name, new_name) VALUES (%s, %s)", (old, stored)
                )
                finished(old, new)
            with transaction.atomic(using=connection.alias):
                renamed = images.filter(pk=pk, image=old).update(image=stored)
            if renamed:
                drop_old(old)  # only now: the row names the copy, committed
            else:  # (the row changed meanwhile: its copy is not needed)
                default_storage.delete(stored)
            finished(old, stored)

    journal(f"DROP TABLE {JOURNAL}")


class Migration(migrations.Migration):
    atomic = False  # each row commits on its own; see the module's docstring

    dependencies = [
        ("labeling", "0008_classification_after_retirement"),
    ]

    operations = [
        migrations.RunPython(rename_images, migrations.RunPython.noop, elidable=True),
    ]
