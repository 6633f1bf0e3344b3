"""Concurrent votes on one subject lose no update (the subject row lock serialises them), and
votes that arrive while it retires do not move it."""

import threading

import pytest
from django.db import connection, connections, transaction
from webapp_factories import SubjectFactory, UserFactory, active_prediction

from webapp.labeling import services
from webapp.labeling.models import Classification, Subject

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="needs row locks: run with DATABASE_URL=postgres"
    ),
]


def vote_at_once(users, subject, class_name) -> list[Exception]:
    """Every user votes `class_name` on `subject` from their own thread, released together;
    the errors raised."""
    barrier = threading.Barrier(len(users))
    errors = []

    def cast(user):
        try:
            barrier.wait()
            services.classification_create(
                volunteer=user, subject_id=subject.pk, class_name=class_name
            )
        except Exception as error:  # noqa: BLE001 - returned to the caller
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=cast, args=(user,)) for user in users]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


def test_parallel_votes_on_one_subject_are_all_counted(seeded):
    subject = SubjectFactory()
    users = [UserFactory() for _ in range(8)]
    assert vote_at_once(users, subject, "Blip") == []
    subject = Subject.objects.get(pk=subject.pk)
    assert (subject.n_votes, subject.views) == (8, 8)


def test_votes_racing_the_retirement_leave_the_retired_subject_as_it_was(seeded):
    """Votes that queue on the row lock while the subject retires are stored as late votes
    (after_retirement) and change nothing: the counts and the posterior are those of the
    votes before retirement, also when recomputed later."""
    subject = SubjectFactory()
    active_prediction(subject, {"Blip": 0.99, "Whistle": 0.01})
    skilled = {"Blip": {"Blip": 10}, "Whistle": {"Whistle": 10}}
    users = [UserFactory(profile__gold_confusion=skilled) for _ in range(8)]
    assert vote_at_once(users, subject, "Blip") == []
    subject = Subject.objects.get(pk=subject.pk)
    in_time = Classification.objects.filter(subject=subject, after_retirement=False).count()
    assert subject.status == Subject.Status.RETIRED and in_time < len(users)
    assert subject.n_votes == subject.views == in_time
    with transaction.atomic():
        locked = Subject.objects.select_for_update().get(pk=subject.pk)
        services.subject_consensus_recompute(subject=locked)
    again = Subject.objects.get(pk=subject.pk)
    assert (again.posterior, again.n_votes) == (subject.posterior, subject.n_votes)
