from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps


def keep_the_newest_open_batch(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    """Before the constraint: a volunteer whose two requests raced holds several open
    (unsubmitted) batches; the newest is the sheet their browser shows. The older ones carry
    no vote (votes are written at submit), so deleting them loses nothing."""
    Batch = apps.get_model("discovery", "Batch")
    seen: set[int] = set()
    stale: list[int] = []
    open_batches = Batch.objects.filter(submitted_at__isnull=True).order_by(
        "volunteer_id", "-created_at", "-id"
    )
    for pk, volunteer_id in open_batches.values_list("pk", "volunteer_id"):
        if volunteer_id in seen:
            stale.append(pk)
        seen.add(volunteer_id)
    Batch.objects.filter(pk__in=stale).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("discovery", "0004_embeddingset_cancel"),
    ]

    # Its own migration (its own transaction): on PostgreSQL the deletes leave deferred
    # foreign-key checks pending, and an index cannot be built on the table until they ran.
    operations = [
        migrations.RunPython(keep_the_newest_open_batch, migrations.RunPython.noop),
    ]
