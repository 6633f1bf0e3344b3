"""Database defaults on the NOT NULL columns added since d0b7088 (2026-11-26), the values the
model's own defaults give: code of an older release (a host still on the old image in a
rolling upgrade, a rollback of the code alone) does not write these columns, and its INSERTs
failed with 'null value in column ...'. Only defaults change (ALTER COLUMN ... SET DEFAULT on
PostgreSQL; SQLite rebuilds the tables). docs/deploy.md, "Upgrading and rolling back"."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("review", "0006_verdict_undo"),
    ]

    operations = [
        migrations.AlterField(
            model_name="auditrun",
            name="cancel_requested",
            field=models.BooleanField(db_default=False, default=False),
        ),
        migrations.AlterField(
            model_name="auditrun",
            name="worker",
            field=models.CharField(blank=True, db_default="", default="", max_length=200),
        ),
        migrations.AlterField(
            model_name="labelchange",
            name="cause",
            field=models.CharField(
                choices=[("review", "Review"), ("remap", "Remap"), ("undo", "Undo")],
                db_default="review",
                default="review",
                max_length=16,
            ),
        ),
        migrations.AlterField(
            model_name="verdict",
            name="undo_reason",
            field=models.TextField(blank=True, db_default="", default=""),
        ),
    ]
