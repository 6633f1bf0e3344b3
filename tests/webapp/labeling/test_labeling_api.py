"""The JSON API: who may do what, idempotent votes, undo, the schema."""

import uuid

import pytest
from rest_framework.test import APIClient
from webapp_factories import SubjectFactory, UserFactory, active_prediction, gold_subject

from webapp.labeling.models import Classification

pytestmark = pytest.mark.django_db


@pytest.fixture
def volunteer():
    return UserFactory(username="vol")


@pytest.fixture
def client_for(volunteer):
    client = APIClient()
    client.force_authenticate(volunteer)
    return client


def test_anonymous_can_read_classes_but_cannot_vote_or_get_a_queue():
    client, subject = APIClient(), SubjectFactory()
    assert client.get("/api/classes/").status_code == 200
    assert client.get(f"/api/subjects/{subject.pk}/").status_code == 200
    assert client.get("/api/subjects/next/").status_code in (401, 403)
    response = client.post("/api/classifications/", {"subject": subject.pk, "glitch_class": "Blip"})
    assert response.status_code in (401, 403)
    assert Classification.objects.count() == 0


def test_token_login_then_vote_with_the_token(volunteer):
    client, subject = APIClient(), SubjectFactory()
    response = client.post("/api/token/", {"username": "vol", "password": "pw"})
    assert response.status_code == 200
    client.credentials(HTTP_AUTHORIZATION=f"Token {response.json()['token']}")
    response = client.post(
        "/api/classifications/", {"subject": subject.pk, "glitch_class": "Blip"}, format="json"
    )
    assert response.status_code == 201


def test_a_wrong_token_or_an_inactive_account_is_refused(volunteer):
    client, subject = APIClient(), SubjectFactory()
    vote = {"subject": subject.pk, "glitch_class": "Blip"}
    key = client.post("/api/token/", {"username": "vol", "password": "pw"}).json()["token"]
    client.credentials(HTTP_AUTHORIZATION=f"Token {key[:-1]}x")
    answer = client.post("/api/classifications/", vote, format="json")
    assert answer.status_code == 403 and answer.json()["detail"] == "Invalid token."
    volunteer.is_active = False
    volunteer.save()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    answer = client.post("/api/classifications/", vote, format="json")
    assert answer.status_code == 403 and "inactive" in answer.json()["detail"]
    assert not Classification.objects.exists()


def test_session_votes_need_the_csrf_token(volunteer):
    client, subject = APIClient(enforce_csrf_checks=True), SubjectFactory()
    client.login(username="vol", password="pw")
    response = client.post(
        "/api/classifications/", {"subject": subject.pk, "glitch_class": "Blip"}, format="json"
    )
    assert response.status_code == 403


def test_next_subject_shows_images_and_not_the_gold_answer(client_for, settings):
    settings.GLITCHLAB_GOLD_RATE = 1.0
    gold = gold_subject("Whistle")
    data = client_for.get("/api/subjects/next/").json()
    assert data["id"] == gold.pk
    assert [image["duration"] for image in data["images"]] == [0.5, 1.0, 2.0, 4.0]
    assert "gold_label" not in data and "role" not in data
    detail = client_for.get(f"/api/subjects/{gold.pk}/").json()
    assert detail["gold_label"] is None and detail["predictions"] == []


def test_next_is_204_when_the_queue_is_empty(client_for):
    assert client_for.get("/api/subjects/next/").status_code == 204


def test_a_vote_counts_once_however_often_it_is_sent(client_for, volunteer):
    subject = SubjectFactory()
    body = {"subject": subject.pk, "glitch_class": "Blip", "idempotency_key": str(uuid.uuid4())}
    first = client_for.post("/api/classifications/", body, format="json")
    again = client_for.post("/api/classifications/", body, format="json")
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    assert again.json()["created"] is False
    other_key = {**body, "idempotency_key": str(uuid.uuid4())}
    assert client_for.post("/api/classifications/", other_key, format="json").status_code == 409
    assert Classification.objects.filter(volunteer=volunteer).count() == 1


def test_a_vote_with_next_answers_with_the_subject_after_the_excluded_one(client_for):
    first, on_screen, after = (SubjectFactory(priority=p) for p in (3, 2, 1))
    body = {"subject": first.pk, "glitch_class": "Blip", "with_next": True}
    vote = {**body, "exclude": [on_screen.pk]}
    answer = client_for.post("/api/classifications/", vote, format="json")
    assert answer.status_code == 201
    assert answer.json()["next"]["id"] == after.pk
    assert [image["duration"] for image in answer.json()["next"]["images"]] == [0.5, 1, 2, 4]
    # without with_next: no "next" key; with it and nothing left: null
    plain = {"subject": on_screen.pk, "glitch_class": "Blip"}
    plain = client_for.post("/api/classifications/", plain, format="json")
    assert "next" not in plain.json()
    last = {"subject": after.pk, "glitch_class": "Blip", "with_next": True}
    assert client_for.post("/api/classifications/", last, format="json").json()["next"] is None


def test_a_volunteer_posts_only_their_own_votes(client_for, volunteer):
    other = UserFactory(username="someone-else")
    body = {"subject": SubjectFactory().pk, "glitch_class": "Blip", "volunteer": other.pk}
    assert client_for.post("/api/classifications/", body, format="json").status_code == 201
    assert Classification.objects.get().volunteer == volunteer


def test_locked_and_unknown_classes_and_subjects_are_rejected(client_for):
    subject = SubjectFactory()
    for name in ("Koi_Fish", "Not_A_Class"):
        body = {"subject": subject.pk, "glitch_class": name}
        assert client_for.post("/api/classifications/", body, format="json").status_code == 400
    body = {"subject": 999999, "glitch_class": "Blip"}
    assert client_for.post("/api/classifications/", body, format="json").status_code == 404


def test_gold_feedback_and_promotion_in_the_answer(client_for, settings):
    settings.GLITCHLAB_PROMOTION_MIN_GOLD = 1
    body = {"subject": gold_subject("Blip").pk, "glitch_class": "Whistle"}
    data = client_for.post("/api/classifications/", body, format="json").json()
    assert data["gold"] == {"correct": False, "right_answer": "Blip"}
    for label in ("Blip", "Whistle"):
        body = {"subject": gold_subject(label).pk, "glitch_class": label}
        data = client_for.post("/api/classifications/", body, format="json").json()
    assert data["gold"]["correct"] is True
    # alpha(Blip) = 1/1 (the one "Blip" answer was right); alpha(Whistle) = 1/2.
    assert data["promoted"] is False and data["progress"]["level"] == 1
    body = {"subject": gold_subject("Whistle").pk, "glitch_class": "Whistle"}
    data = client_for.post("/api/classifications/", body, format="json").json()
    assert data["promoted"] is False  # alpha(Whistle) = 2/3 < 0.7
    body = {"subject": gold_subject("Whistle").pk, "glitch_class": "Whistle"}
    data = client_for.post("/api/classifications/", body, format="json").json()
    assert data["promoted"] is True and data["progress"]["level"] == 2  # Whistle 3/4
    names = [c["name"] for c in client_for.get("/api/classes/?unlocked=1").json()]
    assert names[:5] == ["Blip", "Whistle", "Koi_Fish", "Power_Line", "Violin_Mode"]


def test_undo_returns_the_subject_to_vote_again(client_for):
    subject = SubjectFactory()
    client_for.post(
        "/api/classifications/", {"subject": subject.pk, "glitch_class": "Blip"}, format="json"
    )
    response = client_for.post("/api/classifications/undo/")
    assert response.status_code == 200
    assert response.json()["subject"]["id"] == subject.pk
    assert response.json()["progress"]["n_classified"] == 0
    assert client_for.post("/api/classifications/undo/").status_code == 409


def test_subject_detail_has_votes_consensus_and_predictions(client_for):
    subject = SubjectFactory()
    active_prediction(subject, {"Blip": 0.8, "Whistle": 0.2})
    client_for.post(
        "/api/classifications/", {"subject": subject.pk, "glitch_class": "Blip"}, format="json"
    )
    data = APIClient().get(f"/api/subjects/{subject.pk}/").json()
    assert data["votes"] == {"Blip": 1}
    assert data["predictions"][0]["predicted_label"] == "Blip"
    assert data["posterior"]["Blip"] > 0.8
    assert len(data["images"]) == 4


def test_the_openapi_schema_is_served():
    response = APIClient().get("/api/schema/")
    assert response.status_code == 200
    assert b"/api/classifications/" in response.content


def test_out_of_range_ids_are_not_found_not_server_errors(client_for):
    huge = 2**70
    assert client_for.get(f"/api/subjects/{huge}/").status_code == 404
    assert client_for.get(f"/subjects/{huge}/").status_code == 404
    assert client_for.get(f"/api/subjects/next/?exclude={huge},-1").status_code == 204
    body = {"subject": huge, "glitch_class": "Blip"}
    assert client_for.post("/api/classifications/", body, format="json").status_code == 400


def test_a_vote_with_its_next_subject_costs_a_fixed_number_of_queries(volunteer):
    """The hot path's statement count, whatever the pool size and the vote history (see
    bench/web_load.py): token, subject and profile locks, the insert, the profile, the
    subject's votes, its prediction and its new consensus, the queue and the images."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from rest_framework.authtoken.models import Token

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=volunteer).key}")
    subjects = [SubjectFactory() for _ in range(4)]
    gold_subject("Blip")  # gold is due: served from the first queue query
    active_prediction(subjects[0], {"Blip": 0.9, "Whistle": 0.1})
    client.post("/api/classifications/", {"subject": subjects[3].pk, "glitch_class": "Blip"})
    vote = {"subject": subjects[0].pk, "glitch_class": "Whistle", "with_next": True}
    with CaptureQueriesContext(connection) as queries:
        answer = client.post("/api/classifications/", vote, format="json")
    assert answer.status_code == 201 and answer.json()["next"] is not None
    statements = [q["sql"] for q in queries.captured_queries]
    transaction = ("BEGIN", "COMMIT", "SAVEPOINT", "RELEASE")
    work = [s for s in statements if s.split()[0] not in transaction]
    assert len(work) <= 10, "\n".join(statements)
    assert not any("labeling_glitchclass" in s for s in work), "classes come from the cache"
