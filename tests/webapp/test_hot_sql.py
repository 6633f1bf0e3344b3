"""webapp.hot_sql: the vote path's SQL gives the same model values as the ORM, on SQLite and
on PostgreSQL (JSON, booleans, UUIDs, aware datetimes, foreign keys)."""

import uuid

import pytest
from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.utils import timezone
from webapp_factories import SubjectFactory, UserFactory, glitch_class

from webapp.hot_sql import insert, row_locked, save_columns, select_one, value_from_db
from webapp.labeling.models import Classification, Subject

pytestmark = pytest.mark.django_db


def field_values(instance) -> dict:
    return {f.attname: getattr(instance, f.attname) for f in instance._meta.concrete_fields}


def test_select_one_gives_what_the_orm_gives():
    subject = SubjectFactory(posterior={"Blip": 0.75, "Whistle": 0.25}, gps_time=1.5)
    Subject.objects.filter(pk=subject.pk).update(
        status=Subject.Status.RETIRED,
        retired_label=glitch_class("Blip"),
        retired_at=timezone.now(),
    )
    user = UserFactory(username="someone")
    with transaction.atomic():
        locked = row_locked(Subject, "id = %s", [subject.pk])
    assert field_values(locked) == field_values(Subject.objects.get(pk=subject.pk))
    assert timezone.is_aware(locked.retired_at) and isinstance(locked.posterior, dict)
    by_join = select_one(User, "FROM auth_user WHERE auth_user.username = %s", ["someone"])
    assert field_values(by_join) == field_values(User.objects.get(pk=user.pk))
    assert by_join.is_active is True and by_join._state.adding is False
    assert select_one(User, "FROM auth_user WHERE auth_user.username = %s", ["nobody"]) is None


def test_save_columns_writes_only_the_named_columns():
    subject = SubjectFactory(n_votes=1, views=1)
    subject.n_votes, subject.views, subject.posterior = 5, 9, {"Blip": 1.0}
    subject.retired_at = timezone.now()
    save_columns(subject, ["n_votes", "posterior", "retired_at"])
    stored = Subject.objects.get(pk=subject.pk)
    assert (stored.n_votes, stored.views, stored.posterior) == (5, 1, {"Blip": 1.0})
    assert stored.retired_at == subject.retired_at


def test_value_from_db_decodes_a_json_column():
    vote = Classification.objects.create(
        volunteer=UserFactory(),
        subject=SubjectFactory(),
        glitch_class=glitch_class("Blip"),
        idempotency_key=uuid.uuid4(),
        weight={"Blip": 0.9},
    )
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT weight FROM labeling_classification WHERE id = %s", [vote.pk])
        (raw,) = cursor.fetchone()
    assert value_from_db(Classification, "weight", raw) == {"Blip": 0.9}


def test_insert_stores_what_save_stores():
    volunteer, subject, key = UserFactory(), SubjectFactory(), uuid.uuid4()

    def vote(**extra) -> Classification:
        return Classification(
            volunteer=volunteer,
            subject=subject,
            glitch_class=glitch_class("Whistle"),
            idempotency_key=key,
            weight={"Whistle": 0.8, "Blip": 0.2},
            was_gold=True,
            was_correct=False,
            **extra,
        )

    written = vote(seconds_taken=2.5)
    before = timezone.now()
    insert(written)
    assert written.pk is not None and written._state.adding is False
    assert written.created_at >= before  # auto_now_add, as save() sets it
    stored = Classification.objects.get(pk=written.pk)
    assert field_values(stored) == field_values(written)
    # The ORM's own save() of the same values gives the same row (but its primary key).
    Classification.objects.filter(pk=written.pk).delete()
    saved = vote(seconds_taken=2.5)
    saved.save()
    by_orm = field_values(Classification.objects.get(pk=saved.pk))
    assert {**field_values(stored), "id": None, "created_at": None} == {
        **by_orm,
        "id": None,
        "created_at": None,
    }


def test_insert_raises_the_integrity_error_save_would():
    first = Classification(
        volunteer=UserFactory(), subject=SubjectFactory(), glitch_class=glitch_class("Blip")
    )
    insert(first)
    again = Classification(
        volunteer=first.volunteer, subject=first.subject, glitch_class=glitch_class("Blip")
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        insert(again)
    assert Classification.objects.filter(subject=first.subject).count() == 1
