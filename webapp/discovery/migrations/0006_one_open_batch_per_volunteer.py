from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("discovery", "0005_keep_the_newest_open_batch"),
    ]

    operations = [
        migrations.AddConstraint(
            model_name="batch",
            constraint=models.UniqueConstraint(
                condition=models.Q(("submitted_at__isnull", True)),
                fields=("volunteer",),
                name="one_open_batch_per_volunteer",
            ),
        ),
    ]
