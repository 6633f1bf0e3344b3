"""Code of an older release writes to the schema of this one (a rolling upgrade, where hosts
still on the old image serve votes; a rollback of the code that keeps the migrations): every
NOT NULL column it does not know has a database default, so its INSERTs still succeed
(docs/deploy.md, "Upgrading and rolling back")."""

import uuid

import pytest
from django.apps import apps
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django.db.models.fields import NOT_PROVIDED
from webapp_factories import SubjectFactory, UserFactory, glitch_class

pytestmark = pytest.mark.django_db

# The oldest release an operator may roll back to: d0b7088 (2026-11-26), each app's last
# migration there (docs/deploy.md lists the same targets).
OLDEST_RELEASE = [
    ("accounts", "0001_groups"),
    ("labeling", "0004_subject_queue_order"),
    ("modeling", "0002_training_runs_and_registry"),
    ("review", "0001_initial"),
    ("discovery", "0001_initial"),
]


def old_models():
    return MigrationLoader(connection).project_state(OLDEST_RELEASE).apps


def test_every_not_null_column_older_code_does_not_write_has_a_database_default():
    old = old_models()
    missing = []
    ours = {app_label for app_label, _ in OLDEST_RELEASE}
    for old_model in old.get_models():
        if old_model._meta.app_label in ours:
            model = apps.get_model(old_model._meta.app_label, old_model._meta.model_name)
            old_fields = {f.column: f for f in old_model._meta.concrete_fields}
            for field in model._meta.concrete_fields:
                before = old_fields.get(field.column)
                if field.null or (before is not None and not before.null):
                    continue  # NULL allowed, or older code writes it too
                if field.db_default is NOT_PROVIDED:
                    missing.append(f"{model._meta.db_table}.{field.column}")
    assert missing == []


def test_a_vote_written_by_older_code_is_stored_with_the_new_columns_defaults():
    """The operator's rolling upgrade: 'null value in column "after_retirement"' on every
    vote from a host still on the old image."""
    old = old_models()
    user, subject = UserFactory(), SubjectFactory()
    OldClassification = old.get_model("labeling", "Classification")
    vote = OldClassification.objects.create(
        volunteer=old.get_model("auth", "User").objects.get(pk=user.pk),
        subject=old.get_model("labeling", "Subject").objects.get(pk=subject.pk),
        glitch_class=old.get_model("labeling", "GlitchClass").objects.get(
            pk=glitch_class("Blip").pk
        ),
        idempotency_key=uuid.uuid4(),
    )
    from webapp.labeling.models import Classification

    stored = Classification.objects.get(pk=vote.pk)
    assert (stored.after_retirement, stored.answers_seen) == (False, False)


def test_an_import_and_a_model_registered_by_older_code_are_stored():
    old = old_models()
    subject = old.get_model("labeling", "Subject").objects.create(
        external_id="H1_old_import", source="old-image"
    )
    version = old.get_model("modeling", "ModelVersion").objects.create(name="old-worker-model")
    from webapp.labeling.models import Subject
    from webapp.modeling.models import ModelVersion

    assert Subject.objects.get(pk=subject.pk).channel == ""
    assert ModelVersion.objects.get(pk=version.pk).gate_comparison == {}
