"""My glitches: a volunteer's votes, what became of each glitch, and their statistics."""

import pytest
from django.utils import timezone
from webapp_factories import (
    SubjectFactory,
    UserFactory,
    active_prediction,
    glitch_class,
    gold_subject,
)

from webapp.labeling.models import Classification, Subject, VolunteerProfile

pytestmark = pytest.mark.django_db


def vote(user, subject, name, **kwargs):
    return Classification.objects.create(
        volunteer=user, subject=subject, glitch_class=glitch_class(name), **kwargs
    )


def retire(subject, name):
    subject.status = Subject.Status.RETIRED
    subject.retired_label = glitch_class(name)
    subject.retired_at = timezone.now()
    subject.save()


def rows(response):
    return list(response.context["page"].object_list)


def test_anonymous_visitors_are_sent_to_log_in(client):
    response = client.get("/me/glitches/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_each_vote_shows_the_answer_the_consensus_and_the_models_view_once_retired(client):
    ada = UserFactory(username="ada")
    agreed, disagreed, open_one = SubjectFactory(), SubjectFactory(), SubjectFactory()
    for subject in (agreed, disagreed, open_one):
        active_prediction(subject, {"Blip": 0.8, "Whistle": 0.2})
    vote(ada, agreed, "Blip")
    vote(ada, disagreed, "Whistle")
    vote(ada, open_one, "Koi_Fish")
    retire(agreed, "Blip")
    retire(disagreed, "Blip")
    vote(UserFactory(username="bob"), open_one, "Blip")  # someone else's: not listed

    client.force_login(ada)
    response = client.get("/me/glitches/")
    by_id = {row.subject_id: row for row in rows(response)}
    assert set(by_id) == {agreed.pk, disagreed.pk, open_one.pk}
    assert (by_id[agreed.pk].consensus, by_id[agreed.pk].agrees) == ("Blip", True)
    assert (by_id[disagreed.pk].answer, by_id[disagreed.pk].agrees) == ("Whistle", False)
    assert by_id[agreed.pk].model == "Blip" and by_id[agreed.pk].outcome == "retired"
    # Still collecting votes: neither the consensus nor the model's view yet.
    assert (by_id[open_one.pk].answer, by_id[open_one.pk].outcome) == (
        "Koi Fish",
        "collecting votes",
    )
    assert by_id[open_one.pk].consensus is None and by_id[open_one.pk].model is None
    page = response.content.decode()
    for subject in (agreed, disagreed, open_one):
        assert f'href="/subjects/{subject.pk}/"' in page
    assert 'data-testid="nav-my-glitches"' in page


def test_a_gold_vote_shows_the_feedback_already_given(client):
    ada = UserFactory(username="ada")
    gold = gold_subject("Whistle")
    vote(ada, gold, "Blip", was_gold=True, was_correct=False)
    client.force_login(ada)
    (row,) = rows(client.get("/me/glitches/"))
    assert (row.gold, row.correct, row.right_answer) == (True, False, "Whistle")


def test_statistics_take_gold_accuracy_from_the_skill_the_volunteer_is_promoted_by(client):
    ada = UserFactory(username="ada")
    # The confusion matrix (what promotion reads) says 3 of 4 gold answers were right;
    # no gold vote rows exist, so a count of its own would say something else.
    VolunteerProfile.objects.filter(user=ada).update(
        gold_confusion={"Blip": {"Blip": 3, "Whistle": 1}}, n_classified=7
    )
    a, b, c = SubjectFactory(), SubjectFactory(), SubjectFactory()
    vote(ada, a, "Blip")
    vote(ada, b, "Blip")
    vote(ada, c, "Blip")
    retire(a, "Blip")
    retire(b, "Whistle")
    client.force_login(ada)
    response = client.get("/me/glitches/")
    stats = response.context["stats"]
    assert (stats.n_votes, stats.n_retired, stats.n_agree) == (7, 2, 1)
    assert stats.agreement == 0.5
    assert (stats.n_gold, stats.n_gold_correct, stats.gold_accuracy) == (4, 3, 0.75)
    page = response.content.decode()
    assert "50%" in page and "(1 of 2)" in page and "75%" in page and "(3 of 4)" in page


def test_the_history_is_paginated_newest_first(client, django_assert_max_num_queries):
    ada = UserFactory(username="ada")
    subjects = [SubjectFactory(images=()) for _ in range(30)]
    for subject in subjects:
        vote(ada, subject, "Blip")
    client.force_login(ada)
    # 4 of them: whose answers may be shown; 1: the page's label changes (review log)
    with django_assert_max_num_queries(17):
        first = client.get("/me/glitches/")
    assert [r.subject_id for r in rows(first)] == [s.pk for s in reversed(subjects)][:25]
    second = client.get("/me/glitches/?page=2")
    assert [r.subject_id for r in rows(second)] == [s.pk for s in reversed(subjects[:5])]
    assert 'data-testid="pager"' in second.content.decode()
    assert rows(client.get("/me/glitches/?page=junk")) == rows(first)


def test_the_labelling_page_links_to_my_glitches(client):
    client.force_login(UserFactory())
    assert 'href="/me/glitches/"' in client.get("/label/").content.decode()


def test_vote_times_say_they_are_utc_as_talk_does(client):
    ann = UserFactory(username="ann")
    vote(ann, SubjectFactory(), "Blip")
    client.force_login(ann)
    page = client.get("/me/glitches/").content.decode()
    assert page.count(" UTC</time>") == 1
