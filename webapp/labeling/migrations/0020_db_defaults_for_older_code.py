"""Database defaults on the NOT NULL columns added since d0b7088 (2026-11-26), the values the
model's own defaults give: code of an older release (a host still on the old image in a
rolling upgrade, a rollback of the code alone) does not write these columns, and its INSERTs
failed with 'null value in column ...'. Only defaults change (ALTER COLUMN ... SET DEFAULT on
PostgreSQL; SQLite rebuilds the tables). docs/deploy.md, "Upgrading and rolling back"."""

import django.core.validators
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("labeling", "0019_glitchclass_corrected_texts"),
    ]

    operations = [
        migrations.AlterField(
            model_name="classification",
            name="after_retirement",
            field=models.BooleanField(db_default=False, default=False),
        ),
        migrations.AlterField(
            model_name="classification",
            name="answers_seen",
            field=models.BooleanField(db_default=False, default=False),
        ),
        migrations.AlterField(
            model_name="glitchclass",
            name="tell_apart",
            field=models.TextField(
                blank=True,
                db_default="",
                default="",
                help_text="how to tell it from the classes it is often taken for (field guide)",
                max_length=1000,
                validators=[django.core.validators.MaxLengthValidator(1000)],
            ),
        ),
        migrations.AlterField(
            model_name="glitchclassexample",
            name="glitch_id",
            field=models.CharField(blank=True, db_default="", default="", max_length=128),
        ),
        migrations.AlterField(
            model_name="glitchclassexample",
            name="primary",
            field=models.BooleanField(db_default=True, default=True),
        ),
        migrations.AlterField(
            model_name="glitchclassexample",
            name="simulated",
            field=models.BooleanField(
                db_default=False, default=False, help_text="made by the simulator, not LIGO"
            ),
        ),
        migrations.AlterField(
            model_name="subject",
            name="channel",
            field=models.CharField(
                blank=True,
                db_default="",
                default="",
                help_text="e.g. H1:GDS-CALIB_STRAIN",
                max_length=128,
            ),
        ),
        migrations.AlterField(
            model_name="subject",
            name="pictures_problem",
            field=models.TextField(blank=True, db_default="", default=""),
        ),
    ]
