"""Seed GlitchClass from the one class registry (ml.classes); re-running adds nothing twice."""

from django.db import migrations


def seed(apps, schema_editor):
    from webapp.labeling.seeding import sync_glitch_classes

    sync_glitch_classes(apps.get_model("labeling", "GlitchClass"))


class Migration(migrations.Migration):
    dependencies = [("labeling", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
