"""The pool a retrain self-trains on: open pool glitches only, newest first, never a label."""

from __future__ import annotations

import pytest

from tests.webapp.webapp_factories import SubjectFactory, glitch_class, gold_subject
from webapp.labeling.models import Subject
from webapp.modeling import selectors

pytestmark = pytest.mark.django_db


def test_only_open_pool_glitches_newest_first_without_labels(settings):
    settings.GLITCHLAB_SELF_TRAIN_POOL = 2
    old, newer, newest = SubjectFactory(), SubjectFactory(), SubjectFactory()
    SubjectFactory(status=Subject.Status.RETIRED, retired_label=glitch_class("Blip"))
    gold_subject("Whistle")
    SubjectFactory(role=Subject.Role.VALIDATION, source_label="Blip")

    pool = selectors.self_training_pool()

    assert sorted(f.subject_id for f in pool) == sorted([newer.pk, newest.pk])
    assert old.pk not in {f.subject_id for f in pool}
    assert all(f.label is None and len(f.paths) == 4 for f in pool)


def test_self_training_is_off_unless_a_pool_size_is_set():
    SubjectFactory()
    assert selectors.self_training_pool() == []  # GLITCHLAB_SELF_TRAIN_POOL defaults to 0
