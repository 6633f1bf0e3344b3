"""Give every stored subject image an opaque name (issue #14).

Names used to be subjects/<source>/<external id>_<duration>.png, so a gold glitch's URL said
"demo-gold". Each image already imported is copied to subjects/<xx>/<random hex>.<ext> and
the old file removed; a row whose file is missing keeps its name (nothing to move). Not
reversible: the old names gave the answers away.
"""

import re
import uuid
from pathlib import PurePosixPath

from django.core.files.storage import default_storage
from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

OPAQUE = re.compile(r"^subjects/[0-9a-f]{2}/[0-9a-f]{32}(\.[a-z0-9]+)?$")


def opaque_name(old: str) -> str:
    """webapp.labeling.models.opaque_image_name as of this migration."""
    token = uuid.uuid4().hex
    return f"subjects/{token[:2]}/{token}{PurePosixPath(old).suffix.lower()}"


def rename_images(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    SubjectImage = apps.get_model("labeling", "SubjectImage")
    for image in SubjectImage.objects.exclude(image="").iterator(chunk_size=500):
        old = image.image.name
        if OPAQUE.match(old) or not default_storage.exists(old):
            continue
        with default_storage.open(old, "rb") as handle:
            new = default_storage.save(opaque_name(old), handle)
        SubjectImage.objects.filter(pk=image.pk).update(image=new)
        default_storage.delete(old)


class Migration(migrations.Migration):
    dependencies = [
        ("labeling", "0008_classification_after_retirement"),
    ]

    operations = [
        migrations.RunPython(rename_images, migrations.RunPython.noop, elidable=True),
    ]
