"""Votes live in the database: with the broker down (Redis restarting) a vote is still
stored, counted and retired; nothing about it waits in a queue."""

from __future__ import annotations

import pytest
from glitch_data import make_subject

from tasks.celery import app
from webapp.labeling import services as labeling
from webapp.labeling.models import Classification, Subject

pytestmark = pytest.mark.django_db


@pytest.fixture
def broker_down():
    old = app.conf.broker_url
    app.conf.broker_url = "redis://127.0.0.1:1/0"  # nothing listens there
    app.close()
    yield
    app.conf.broker_url = old
    app.close()


def test_votes_are_stored_while_the_broker_is_unreachable(
    tiny_settings, broker_down, django_user_model
):
    subject = make_subject("Blip")
    for name in ("ann", "bob"):
        user = django_user_model.objects.create_user(name, password="pw")
        profile = labeling.volunteer_register(user=user)
        profile.gold_confusion = {"Blip": {"Blip": 3}}  # Blip gold history: their votes weigh
        profile.save(update_fields=["gold_confusion"])
        labeling.classification_create(volunteer=user, subject_id=subject.pk, class_name="Blip")
    subject.refresh_from_db()
    assert Classification.objects.filter(subject=subject).count() == 2
    assert subject.views == 2 and subject.posterior["Blip"] > 0.5
    assert subject.status in (Subject.Status.ACTIVE, Subject.Status.RETIRED)
