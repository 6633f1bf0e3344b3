"""Concurrent votes on one subject lose no update (the subject row lock serialises them)."""

import threading

import pytest
from django.db import connection, connections
from webapp_factories import SubjectFactory, UserFactory

from webapp.labeling import services
from webapp.labeling.models import Subject

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="needs row locks: run with DATABASE_URL=postgres"
    ),
]


def test_parallel_votes_on_one_subject_are_all_counted(seeded):
    subject = SubjectFactory()
    users = [UserFactory() for _ in range(8)]
    barrier = threading.Barrier(len(users))
    errors = []

    def cast(user):
        try:
            barrier.wait()
            services.classification_create(volunteer=user, subject_id=subject.pk, class_name="Blip")
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=cast, args=(user,)) for user in users]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    subject = Subject.objects.get(pk=subject.pk)
    assert (subject.n_votes, subject.views) == (8, 8)
