"""Each class's "how to tell it apart" line for the field guide: the column, then the
canonical classes' text from ml.classes where a row has none (an admin's own text stays)."""

import django.core.validators
from django.db import migrations, models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps


def fill_tell_apart(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    from ml.classes import CANONICAL_CLASSES

    glitch_class = apps.get_model("labeling", "GlitchClass")
    for info in CANONICAL_CLASSES:
        glitch_class.objects.filter(name=info.name, tell_apart="").update(
            tell_apart=info.tell_apart
        )


class Migration(migrations.Migration):
    dependencies = [
        ("labeling", "0016_images_validated_in_forms"),
    ]

    operations = [
        migrations.AddField(
            model_name="glitchclass",
            name="tell_apart",
            field=models.TextField(
                blank=True,
                help_text="how to tell it from the classes it is often taken for (field guide)",
                max_length=1000,
                validators=[django.core.validators.MaxLengthValidator(1000)],
            ),
        ),
        migrations.RunPython(fill_tell_apart, migrations.RunPython.noop),
    ]
