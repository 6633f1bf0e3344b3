"""Concurrent volunteers are spread over equally urgent subjects instead of all queueing on
one subject's row lock (and wasting votes on it once it retires)."""

import pytest
from webapp_factories import SubjectFactory, UserFactory

from webapp.labeling import selectors

pytestmark = pytest.mark.django_db


def test_volunteers_get_different_subjects_of_equal_priority(settings):
    settings.GLITCHLAB_GOLD_RATE = 0
    subjects = [SubjectFactory(priority=0.5) for _ in range(4)]
    volunteers = [UserFactory() for _ in range(4)]
    shown = {selectors.subject_next_for_volunteer(volunteer=v).pk for v in volunteers}
    assert shown == {s.pk for s in subjects}


def test_a_more_urgent_subject_still_comes_first_for_everyone(settings):
    settings.GLITCHLAB_GOLD_RATE = 0
    for _ in range(4):
        SubjectFactory(priority=0.5)
    urgent = SubjectFactory(priority=0.9)
    for volunteer in [UserFactory() for _ in range(4)]:
        assert selectors.subject_next_for_volunteer(volunteer=volunteer) == urgent
