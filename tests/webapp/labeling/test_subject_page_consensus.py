"""The glitch page's consensus says what it is made of: weighted votes and the model's
prediction, and when no vote carries weight yet, that its scores are the model's alone."""

import pytest
from webapp_factories import SubjectFactory, UserFactory, glitch_class

from webapp.labeling.models import Classification

pytestmark = pytest.mark.django_db


def page_after_one_vote(client, weight):
    """The page of a glitch whose posterior the model made, as its one voter sees it."""
    subject = SubjectFactory(posterior={"1080Lines": 0.668, "Blip": 0.332}, consensus_model="m1")
    ann = UserFactory(username="ann")
    Classification.objects.create(
        volunteer=ann, subject=subject, glitch_class=glitch_class("Blip"), weight=weight
    )
    client.force_login(ann)
    return client.get(f"/subjects/{subject.pk}/").content.decode()


def test_a_consensus_without_a_weighted_vote_says_it_is_the_models_alone(client):
    page = page_after_one_vote(client, weight={})
    assert 'Consensus <span class="muted">(weighted votes + model)</span>' in page
    assert 'data-testid="model-only"' in page and "the model's prediction alone" in page


def test_a_consensus_with_weighted_votes_says_how_many(client):
    page = page_after_one_vote(client, weight={"Blip": 0.8, "1080Lines": 0.2})
    assert 'data-testid="model-only"' not in page
    assert "From 1 weighted vote and the model's prediction, counted as one vote" in page
