"""The Django admin shows, and does not rewrite, what votes, services and jobs wrote: a
vote, a glitch's label and consensus, a model's prediction, the discovery jobs' rows.
Before, each could be edited or deleted there, and nothing that depends on it moved (the
admin review of 2026-12-07: a verdict, an active model; these are their neighbours)."""

from __future__ import annotations

import pytest
from webapp_factories import SubjectFactory, UserFactory, active_prediction, glitch_class

from webapp.labeling import services
from webapp.labeling.models import Classification, Subject

pytestmark = pytest.mark.django_db


def a_vote() -> Classification:
    subject = SubjectFactory()
    volunteer = UserFactory()
    assignment = services.assignment_issue(volunteer_id=volunteer.pk, subject_id=subject.pk)
    return services.classification_create_assigned(
        volunteer=volunteer, subject_id=subject.pk, assignment=assignment, class_name="Blip"
    ).classification


def test_a_vote_cannot_be_changed_or_deleted_in_the_admin(admin_client):
    """Before: a vote changed to Whistle here left the glitch's posterior and counts on
    Blip; deleted, its counts stayed with no vote behind them."""
    vote = a_vote()
    url = f"/admin/labeling/classification/{vote.pk}/change/"
    assert admin_client.get(url).status_code == 200  # shown
    body = {"glitch_class": glitch_class("Whistle").pk, "subject": vote.subject_id}
    assert admin_client.post(url, body).status_code == 403
    delete = f"/admin/labeling/classification/{vote.pk}/delete/"
    assert admin_client.post(delete, {"post": "yes"}).status_code == 403
    vote.refresh_from_db()
    assert vote.glitch_class.name == "Blip"


def test_a_glitchs_label_and_consensus_are_shown_not_edited_in_the_admin(admin_client):
    """Before: retired_label, gold_label, status, role and the counts were form fields: a
    label moved with no change log, no gold rescoring and no consensus behind it. Its
    metadata and routing stay editable."""
    subject = SubjectFactory(
        status=Subject.Status.RETIRED, retired_label=glitch_class("Blip"), level=1
    )
    url = f"/admin/labeling/subject/{subject.pk}/change/"
    form = admin_client.get(url).context["adminform"].form
    for name in ["retired_label", "gold_label", "status", "role", "posterior", "n_votes"]:
        assert name not in form.fields, name
    assert {"ifo", "gps_time", "level", "priority"} <= set(form.fields)


@pytest.mark.parametrize(
    "model_path",
    [
        "modeling/prediction",
        "discovery/embeddingset",
        "discovery/clusterrun",
        "discovery/batch",
        "discovery/proposalvote",
    ],
)
def test_job_and_vote_rows_have_no_add_in_the_admin(admin_client, model_path):
    assert admin_client.get(f"/admin/{model_path}/add/").status_code == 403


def test_a_models_prediction_is_not_edited_in_the_admin(admin_client):
    """A prediction is the model's vote at the next consensus and re-route."""
    prediction = active_prediction(SubjectFactory(), {"Blip": 0.9, "Whistle": 0.1})
    url = f"/admin/modeling/prediction/{prediction.pk}/change/"
    body = {"predicted_label": "Whistle", "probabilities": '{"Whistle": 1.0}'}
    assert admin_client.post(url, body).status_code == 403
    prediction.refresh_from_db()
    assert prediction.predicted_label == "Blip"
