"""Which model's vote is in a glitch's consensus: recorded when the label is decided, kept
while it stands, and exported beside (not instead of) today's model."""

import csv
import io
import json

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from webapp_factories import SubjectFactory, UserFactory

from webapp.accounts.roles import REVIEWER
from webapp.labeling import services
from webapp.labeling.consensus import combine
from webapp.labeling.models import Subject
from webapp.modeling.models import ModelVersion, Prediction

pytestmark = pytest.mark.django_db


def skilled(name: str):
    return UserFactory(username=name, profile__gold_confusion={"Blip": {"Blip": 30}})


def model(name: str, subject: Subject, probabilities: dict[str, float]) -> ModelVersion:
    version = ModelVersion.objects.create(name=name)
    top = max(probabilities, key=probabilities.__getitem__)
    Prediction.objects.create(
        model_version=version,
        subject=subject,
        probabilities=probabilities,
        predicted_label=top,
        confidence=probabilities[top],
    )
    return version


def activate(version: ModelVersion) -> None:
    ModelVersion.objects.update(is_active=False)
    ModelVersion.objects.filter(pk=version.pk).update(is_active=True)


def export(client) -> dict[int, dict]:
    reviewer = UserFactory(username="rita")
    reviewer.groups.add(Group.objects.get_or_create(name=REVIEWER)[0])
    client.force_login(reviewer)
    response = client.get(reverse("api-labels-json"))
    return {r["subject_id"]: r for r in json.loads(b"".join(response.streaming_content))}


def test_a_retired_glitch_names_the_model_it_was_decided_with_after_another_is_active(client):
    """Before: retired by three volunteers and model-A (Blip 0.99), then model-B active, its
    row's posterior held model-A's share while model_version and ml_label named model-B,
    and nothing named model-A (activation overwrites activated_at: no history either)."""
    subject = SubjectFactory(images=())
    activate(model("model-A", subject, {"Blip": 0.99, "Whistle": 0.01}))
    for name in ("v1", "v2", "v3"):
        services.classification_create(
            volunteer=skilled(name), subject_id=subject.pk, class_name="Blip"
        )
    subject.refresh_from_db()
    decided = subject.posterior
    assert (subject.status, subject.consensus_model) == ("retired", "model-A")

    activate(model("model-B", subject, {"Blip": 0.1, "Whistle": 0.9}))
    # a later recompute of the decided glitch (a class merged into another) keeps its model
    services.subject_consensus_recompute(subject=subject)
    subject.refresh_from_db()
    assert (subject.posterior, subject.consensus_model) == (decided, "model-A")

    row = export(client)[subject.pk]
    assert row["consensus_model_version"] == "model-A"
    assert (row["model_version"], row["ml_label"]) == ("model-B", "Whistle")  # today's


def test_a_reopened_glitch_takes_the_active_models_vote_and_names_it(settings):
    settings.GLITCHLAB_CLOSE_AT_VOTES = 2
    subject = SubjectFactory(images=())
    activate(model("model-A", subject, {"Blip": 0.4, "Whistle": 0.6}))
    first, last = UserFactory(username="u1"), UserFactory(username="u2")
    services.classification_create(volunteer=first, subject_id=subject.pk, class_name="Blip")
    mine = services.classification_create(
        volunteer=last, subject_id=subject.pk, class_name="Whistle"
    )
    subject.refresh_from_db()
    assert (subject.status, subject.consensus_model) == ("closed", "model-A")

    activate(model("model-B", subject, {"Blip": 0.3, "Whistle": 0.7}))
    services.classification_undo_last(volunteer=last, classification_id=mine.classification.pk)
    subject.refresh_from_db()
    assert (subject.status, subject.consensus_model) == ("active", "model-B")
    assert subject.posterior == {"Blip": 0.3, "Whistle": 0.7}  # no weight in the vote left


def test_no_models_vote_is_said_apart_from_one_not_recorded(client):
    without = SubjectFactory(images=())
    for name in ("v1", "v2", "v3"):
        services.classification_create(
            volunteer=skilled(name), subject_id=without.pk, class_name="Blip"
        )
    without.refresh_from_db()
    decided = without.posterior
    assert (without.status, without.consensus_model) == ("retired", "")
    # a model activated later does not vote on it either
    activate(model("model-B", without, {"Whistle": 1.0}))
    services.subject_consensus_recompute(subject=without)
    without.refresh_from_db()
    assert (without.posterior, without.consensus_model) == (decided, "")
    before = SubjectFactory(images=(), consensus_model=None, posterior={"Blip": 0.95})

    rows = export(client)

    assert rows[without.pk]["consensus_model_version"] == ""
    assert rows[before.pk]["consensus_model_version"] == "unknown"


def test_the_deciding_models_probabilities_are_exported_and_rebuild_the_posterior(client):
    """A scientist could not reproduce a label: its posterior mixed in the probabilities of
    the model named in consensus_model_version, but only today's model's were exported
    (ml_probabilities). consensus_ml_probabilities has the deciding model's, so the votes
    export's weights and they give the posterior back (consensus.combine)."""
    subject = SubjectFactory(images=())
    activate(model("model-A", subject, {"Blip": 0.7, "Whistle": 0.3}))
    for name in ("v1", "v2", "v3"):
        services.classification_create(
            volunteer=skilled(name), subject_id=subject.pk, class_name="Blip"
        )
    activate(model("model-B", subject, {"Blip": 0.1, "Whistle": 0.9}))

    row = export(client)[subject.pk]

    assert (row["consensus_model_version"], row["status"]) == ("model-A", "retired")
    assert row["consensus_ml_probabilities"] == {"Blip": 0.7, "Whistle": 0.3}
    assert row["ml_probabilities"] == {"Blip": 0.1, "Whistle": 0.9}  # today's, as before
    votes = csv.DictReader(
        io.StringIO(b"".join(client.get(reverse("api-votes-csv")).streaming_content).decode())
    )
    weights = [json.loads(v["weight"]) for v in votes if v["subject_id"] == str(subject.pk)]
    rebuilt = combine(weights, row["consensus_ml_probabilities"])
    assert rebuilt == pytest.approx(row["posterior"])


def test_the_deciding_models_probabilities_are_empty_when_not_known(client):
    """No model's vote, a model not recorded, or a deciding version an admin deleted (its
    predictions go with it): an empty cell (null), never another model's numbers."""
    gone = SubjectFactory(images=())
    deleted = model("model-old", gone, {"Blip": 0.8, "Whistle": 0.2})
    for name in ("v1", "v2", "v3"):
        services.classification_create(
            volunteer=skilled(name), subject_id=gone.pk, class_name="Blip"
        )
    Subject.objects.filter(pk=gone.pk).update(consensus_model="model-old")
    activate(model("model-B", gone, {"Blip": 0.1, "Whistle": 0.9}))
    deleted.delete()
    unknown = SubjectFactory(images=(), consensus_model=None, posterior={"Blip": 0.95})
    model("model-B-too", unknown, {"Blip": 1.0})
    none = SubjectFactory(images=(), consensus_model="", posterior={"Blip": 0.95})

    rows = export(client)

    assert rows[gone.pk]["consensus_model_version"] == "model-old"
    assert rows[gone.pk]["ml_probabilities"] == {"Blip": 0.1, "Whistle": 0.9}
    for subject in (gone, unknown, none):
        assert rows[subject.pk]["consensus_ml_probabilities"] is None
    text = b"".join(client.get(reverse("api-labels-csv")).streaming_content).decode()
    by_id = {r["subject_id"]: r for r in csv.DictReader(io.StringIO(text))}
    assert by_id[str(gone.pk)]["consensus_ml_probabilities"] == ""
