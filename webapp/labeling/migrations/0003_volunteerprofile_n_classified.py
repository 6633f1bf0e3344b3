"""VolunteerProfile.n_classified: the count of a volunteer's votes, kept with each vote."""

from django.db import migrations, models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps
from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import Coalesce


def count_votes(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    VolunteerProfile = apps.get_model("labeling", "VolunteerProfile")
    Classification = apps.get_model("labeling", "Classification")
    votes = (
        Classification.objects.filter(volunteer_id=OuterRef("user_id"))
        .order_by()
        .values("volunteer_id")
        .annotate(n=Count("pk"))
        .values("n")
    )
    VolunteerProfile.objects.update(n_classified=Coalesce(Subquery(votes), 0))


class Migration(migrations.Migration):
    dependencies = [
        ("labeling", "0002_seed_glitch_classes"),
    ]

    operations = [
        migrations.AddField(
            model_name="volunteerprofile",
            name="n_classified",
            field=models.PositiveIntegerField(default=0),
        ),
        migrations.RunPython(count_votes, migrations.RunPython.noop),
    ]
