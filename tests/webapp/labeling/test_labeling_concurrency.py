"""Concurrent votes on one subject lose no update (the subject row lock serialises them), and
votes that arrive while it retires do not move it."""

import functools
import threading

import pytest
from django.db import connection, connections, transaction
from races import in_threads
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

    def cast(user):
        barrier.wait()
        services.classification_create(volunteer=user, subject_id=subject.pk, class_name=class_name)

    return in_threads(*(functools.partial(cast, user) for user in users))


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


def test_two_admins_adding_one_gold_glitch_to_the_field_guide_add_it_once(seeded, settings):
    """Both clicks checked "already there" before either had committed: the second copied
    the images again and failed on the unique constraint (a 500, orphan files)."""
    from webapp_factories import gold_subject

    from webapp.labeling.models import GlitchClassExample

    subject = gold_subject("Whistle")
    barrier = threading.Barrier(2)
    added, errors = [], []

    def add():
        try:
            barrier.wait()
            added.append(services.glitch_class_example_from_subject(subject=subject))
        except Exception as error:  # noqa: BLE001 - returned to the test
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=add) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == [] and sorted(added) == [0, 4]
    assert GlitchClassExample.objects.filter(glitch_class__name="Whistle").count() == 4
    stored = list((settings.MEDIA_ROOT / "field_guide").rglob("Whistle_*"))
    assert len(stored) == 4  # no copy of the loser's images left behind
