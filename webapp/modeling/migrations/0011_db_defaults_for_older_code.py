"""Database defaults on the NOT NULL columns added since d0b7088 (2026-11-26), the values the
model's own defaults give: code of an older release (a host still on the old image in a
rolling upgrade, a rollback of the code alone) does not write these columns, and its INSERTs
failed with 'null value in column ...'. Only defaults change (ALTER COLUMN ... SET DEFAULT on
PostgreSQL; SQLite rebuilds the tables). docs/deploy.md, "Upgrading and rolling back"."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("modeling", "0010_modelversion_checkpoint_sha256"),
    ]

    operations = [
        migrations.AlterField(
            model_name="modelversion",
            name="checkpoint_sha256",
            field=models.CharField(blank=True, db_default="", default="", max_length=64),
        ),
        migrations.AlterField(
            model_name="modelversion",
            name="gate_comparison",
            field=models.JSONField(blank=True, db_default={}, default=dict),
        ),
        migrations.AlterField(
            model_name="modelversion",
            name="reroute_error",
            field=models.TextField(blank=True, db_default="", default=""),
        ),
        migrations.AlterField(
            model_name="modelversion",
            name="scoring_error",
            field=models.TextField(blank=True, db_default="", default=""),
        ),
        migrations.AlterField(
            model_name="modelversion",
            name="unscorable_subject_ids",
            field=models.JSONField(blank=True, db_default=[], default=list),
        ),
        migrations.AlterField(
            model_name="trainingrun",
            name="cancel_requested",
            field=models.BooleanField(db_default=False, default=False),
        ),
        migrations.AlterField(
            model_name="trainingrun",
            name="folder",
            field=models.CharField(blank=True, db_default="", default="", max_length=64),
        ),
        migrations.AlterField(
            model_name="trainingrun",
            name="worker",
            field=models.CharField(blank=True, db_default="", default="", max_length=200),
        ),
    ]
