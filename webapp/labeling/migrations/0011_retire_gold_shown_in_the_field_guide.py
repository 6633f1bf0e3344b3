"""Gold glitches an admin had added to the field guide retire with their gold label.

The guide shows their images, byte for byte, under their class, so their answer is public;
since this change "Add to the field guide" retires them (labeling.services
.glitch_class_example_from_subject). This does the same for those added before: they leave
the gold queue; their gold label still trains the model and scored answers stay scored.
"""

from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps
from django.utils import timezone

PREFIX = "subject-"  # GlitchClassExample.glitch_id of an example taken from a subject


def retire_gold_in_the_guide(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    Example = apps.get_model("labeling", "GlitchClassExample")
    Subject = apps.get_model("labeling", "Subject")
    ids = {
        int(glitch_id[len(PREFIX) :])
        for glitch_id in Example.objects.filter(glitch_id__startswith=PREFIX).values_list(
            "glitch_id", flat=True
        )
        if glitch_id[len(PREFIX) :].isdigit()
    }
    shown = Subject.objects.filter(
        pk__in=ids, role="gold", status="active", gold_label__isnull=False
    )
    for subject in shown:
        subject.status = "retired"
        subject.retired_label_id = subject.gold_label_id
        subject.retired_at = timezone.now()
        subject.save(update_fields=["status", "retired_label", "retired_at"])


class Migration(migrations.Migration):
    dependencies = [
        ("labeling", "0010_classification_answers_seen"),
    ]

    operations = [
        migrations.RunPython(retire_gold_in_the_guide, migrations.RunPython.noop),
    ]
