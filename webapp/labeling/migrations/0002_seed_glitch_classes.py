"""Seed GlitchClass from the one class registry (ml.classes); re-running adds nothing twice."""

from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps


def seed(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    from webapp.labeling.seeding import sync_glitch_classes

    sync_glitch_classes(apps.get_model("labeling", "GlitchClass"))


class Migration(migrations.Migration):
    dependencies = [("labeling", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
