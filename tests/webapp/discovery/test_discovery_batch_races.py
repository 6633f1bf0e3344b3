"""One open sheet per volunteer, also when two requests open one at once (a lasso pressed
twice, the sheet opened in two tabs): the second waits for the first and reuses or replaces
its batch. The races run on PostgreSQL (tests/webapp/races.py); the constraint and its
migration on both databases."""

import pytest
from discovery_factories import stored_cluster, volunteer
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from migrating import migrate_to, schema_at
from races import second_while_first_open

from webapp.discovery import services
from webapp.discovery.models import Batch

pytestmark = pytest.mark.django_db(transaction=True)
on_postgres = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="needs row locks: run with DATABASE_URL=postgres"
)


@on_postgres
def test_a_lasso_sent_twice_at_once_leaves_one_open_batch():
    _, subjects, _, _ = stored_cluster(n=4)
    vol = volunteer("ann")
    ids = [s.pk for s in subjects]

    def lasso():
        return services.batch_from_subjects(volunteer=vol, subject_ids=ids)

    _, second = second_while_first_open(lasso, lasso)
    open_batches = Batch.objects.filter(volunteer=vol, submitted_at__isnull=True)
    assert list(open_batches) == [second]  # the later lasso replaced the first one's sheet


@on_postgres
def test_the_sheet_opened_in_two_tabs_at_once_is_one_batch():
    stored_cluster(n=4)
    vol = volunteer("ann")

    def sheet():
        return services.batch_from_cluster(volunteer=vol)

    first, second = second_while_first_open(sheet, sheet)
    assert first == second
    assert Batch.objects.filter(volunteer=vol).count() == 1


def test_the_database_refuses_a_second_open_batch_and_allows_submitted_ones(seeded):
    _, subjects, _, _ = stored_cluster(n=4)
    vol = volunteer("ann")
    batch = services.batch_from_cluster(volunteer=vol)
    with pytest.raises(IntegrityError), transaction.atomic():
        Batch.objects.create(volunteer=vol, subject_ids=batch.subject_ids)
    label = services.BatchLabel(class_name="Blip")
    services.batch_submit(
        volunteer=vol, batch_id=batch.pk, selected_ids=batch.subject_ids, label=label
    )
    Batch.objects.create(volunteer=vol, subject_ids=[subjects[0].pk])  # a new open one
    assert Batch.objects.filter(volunteer=vol).count() == 2


BEFORE = [("discovery", "0004_embeddingset_cancel")]
AFTER = [("discovery", "0006_one_open_batch_per_volunteer")]


def test_the_migration_keeps_each_volunteers_newest_open_batch_and_every_submitted_one():
    with schema_at(BEFORE) as old:
        User = old.get_model("auth", "User")
        OldBatch = old.get_model("discovery", "Batch")
        ann, bob = User.objects.create(username="ann"), User.objects.create(username="bob")
        stale = OldBatch.objects.create(volunteer=ann, subject_ids=[1])
        newest = OldBatch.objects.create(volunteer=ann, subject_ids=[2])
        done = OldBatch.objects.create(volunteer=ann, subject_ids=[3], submitted_at=timezone.now())
        only = OldBatch.objects.create(volunteer=bob, subject_ids=[4])

        migrate_to(AFTER)
        kept = set(Batch.objects.values_list("pk", flat=True))
        assert kept == {newest.pk, done.pk, only.pk} and stale.pk not in kept


@on_postgres
def test_a_lasso_while_the_sheet_is_being_submitted_leaves_the_submitted_batch(seeded):
    """The lasso deleted the open batch it had read, by id, once the submit's row lock was
    released: the batch just submitted vanished under its votes."""
    _, subjects, _, _ = stored_cluster(n=4)
    vol = volunteer("ann")
    sheet = services.batch_from_cluster(volunteer=vol)

    def submit():
        label = services.BatchLabel(class_name="Blip")
        return services.batch_submit(
            volunteer=vol, batch_id=sheet.pk, selected_ids=sheet.subject_ids[:2], label=label
        )

    def lasso():
        return services.batch_from_subjects(volunteer=vol, subject_ids=sheet.subject_ids[2:])

    submitted, new = second_while_first_open(submit, lasso)
    assert Batch.objects.get(pk=submitted.pk).submitted_at is not None
    assert list(Batch.objects.filter(volunteer=vol, submitted_at__isnull=True)) == [new]
