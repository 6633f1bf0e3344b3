"""The JSON API: who may do what, assignments, idempotent votes, undo, the schema."""

import time
import uuid

import pytest
from django.core.files.base import ContentFile
from rest_framework.test import APIClient
from webapp_factories import (
    SubjectFactory,
    UserFactory,
    active_prediction,
    gold_subject,
    handed_out,
)

from webapp.labeling import services
from webapp.labeling.models import Classification

pytestmark = pytest.mark.django_db


def ballot(user, subject, name="Blip", **extra) -> dict:
    """A vote's body with the assignment the queue would have handed out with the subject."""
    assignment = services.assignment_issue(volunteer_id=user.pk, subject_id=subject.pk)
    return {"subject": subject.pk, "assignment": assignment, "glitch_class": name, **extra}


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


def test_the_callers_classes_need_a_caller():
    """Before: ?unlocked=1 from no one signed in answered every class, and a labelling page
    whose session had ended took them for its level-up's new classes."""
    assert APIClient().get("/api/classes/?unlocked=1").status_code in (401, 403)


def test_token_login_then_vote_with_the_token(volunteer):
    client, subject = APIClient(), SubjectFactory()
    response = client.post("/api/token/", {"username": "vol", "password": "pw"})
    assert response.status_code == 200
    client.credentials(HTTP_AUTHORIZATION=f"Token {response.json()['token']}")
    response = client.post("/api/classifications/", ballot(volunteer, subject), format="json")
    assert response.status_code == 201


def test_a_wrong_token_or_an_inactive_account_is_refused(volunteer):
    client, subject = APIClient(), SubjectFactory()
    vote = ballot(volunteer, subject)
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
    response = client.post("/api/classifications/", ballot(volunteer, subject), format="json")
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
    assert detail["role"] is None and detail["answers_visible"] is False


def test_next_is_204_when_the_queue_is_empty(client_for):
    assert client_for.get("/api/subjects/next/").status_code == 204


def test_a_vote_counts_once_however_often_it_is_sent(client_for, volunteer):
    subject = SubjectFactory()
    body = ballot(volunteer, subject, idempotency_key=str(uuid.uuid4()))
    first = client_for.post("/api/classifications/", body, format="json")
    again = client_for.post("/api/classifications/", body, format="json")
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    assert again.json()["created"] is False
    other_key = {**body, "idempotency_key": str(uuid.uuid4())}
    assert client_for.post("/api/classifications/", other_key, format="json").status_code == 409
    assert Classification.objects.filter(volunteer=volunteer).count() == 1


def test_a_vote_with_next_answers_with_the_subject_after_the_excluded_one(client_for, volunteer):
    first, on_screen, after = (SubjectFactory(priority=p) for p in (3, 2, 1))
    vote = ballot(volunteer, first, with_next=True, exclude=[on_screen.pk])
    answer = client_for.post("/api/classifications/", vote, format="json")
    assert answer.status_code == 201
    assert answer.json()["next"]["id"] == after.pk
    assert [image["duration"] for image in answer.json()["next"]["images"]] == [0.5, 1, 2, 4]
    # without with_next: no "next" key; with it and nothing left: null
    plain = client_for.post("/api/classifications/", ballot(volunteer, on_screen), format="json")
    assert "next" not in plain.json()
    # the next subject's own assignment is the one its vote needs
    last = {
        **ballot(volunteer, after, with_next=True),
        "assignment": answer.json()["next"]["assignment"],
    }
    assert client_for.post("/api/classifications/", last, format="json").json()["next"] is None


def test_a_volunteer_posts_only_their_own_votes(client_for, volunteer):
    other = UserFactory(username="someone-else")
    body = ballot(volunteer, SubjectFactory(), volunteer=other.pk)
    assert client_for.post("/api/classifications/", body, format="json").status_code == 201
    assert Classification.objects.get().volunteer == volunteer


def test_locked_and_unknown_classes_and_subjects_are_rejected(client_for, volunteer):
    subject = SubjectFactory()
    for name in ("Koi_Fish", "Not_A_Class"):
        body = ballot(volunteer, subject, name)
        assert client_for.post("/api/classifications/", body, format="json").status_code == 400
    body = ballot(volunteer, SubjectFactory.build(pk=999999))
    assert client_for.post("/api/classifications/", body, format="json").status_code == 404


def test_gold_feedback_and_promotion_in_the_answer(client_for, volunteer, settings):
    settings.GLITCHLAB_PROMOTION_MIN_GOLD = 1

    def answer(label: str, name: str) -> dict:
        body = ballot(volunteer, handed_out(volunteer, gold_subject(label)), name)
        return client_for.post("/api/classifications/", body, format="json").json()

    data = answer("Blip", "Whistle")
    assert data["gold"] == {"correct": False, "right_answer": "Blip"}
    for _ in range(3):
        data = answer("Blip", "Blip")
    assert data["gold"] == {"correct": True, "right_answer": "Blip"}
    # Blip: 3 of 4 recognised, every Blip answer right; Whistle: no right answer yet.
    assert data["promoted"] is False and data["progress"]["level"] == 1
    answer("Whistle", "Whistle")
    data = answer("Whistle", "Whistle")
    assert data["promoted"] is False  # Whistle answers right 2 of 3 < 0.7
    data = answer("Whistle", "Whistle")
    assert data["promoted"] is True and data["progress"]["level"] == 2  # Whistle 3 of 4
    names = [c["name"] for c in client_for.get("/api/classes/?unlocked=1").json()]
    assert names[:5] == ["Blip", "Whistle", "Koi_Fish", "Power_Line", "Violin_Mode"]


def test_undo_returns_the_subject_to_vote_again(client_for, volunteer):
    subject = SubjectFactory()
    voted = client_for.post("/api/classifications/", ballot(volunteer, subject), format="json")
    undo = {"classification": voted.json()["id"]}
    response = client_for.post("/api/classifications/undo/", undo, format="json")
    assert response.status_code == 200
    assert response.json()["subject"]["id"] == subject.pk
    assert response.json()["progress"]["n_classified"] == 0
    replay = client_for.post("/api/classifications/undo/", undo, format="json")
    assert replay.status_code == 409 and "undone already" in replay.json()["detail"]
    again = {**ballot(volunteer, subject), "assignment": response.json()["subject"]["assignment"]}
    assert client_for.post("/api/classifications/", again, format="json").status_code == 201


def test_subject_detail_has_votes_consensus_and_predictions_once_voted(client_for, volunteer):
    subject = SubjectFactory()
    active_prediction(subject, {"Blip": 0.8, "Whistle": 0.2})
    client_for.post("/api/classifications/", ballot(volunteer, subject), format="json")
    data = client_for.get(f"/api/subjects/{subject.pk}/").json()
    assert data["answers_visible"] is True and data["role"] == "pool"
    assert data["votes"] == {"Blip": 1}
    assert data["predictions"][0]["predicted_label"] == "Blip"
    assert max(data["posterior"], key=data["posterior"].get) == "Blip"
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
    body = {"subject": huge, "assignment": "x", "glitch_class": "Blip"}
    assert client_for.post("/api/classifications/", body, format="json").status_code == 400


def _work_of_a_vote(client: APIClient, vote: dict) -> list[str]:
    """The statements a vote with its next subject runs, transaction control left out."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        answer = client.post("/api/classifications/", vote, format="json")
    assert answer.status_code == 201 and answer.json()["next"]["assignment"]
    statements = [q["sql"] for q in queries.captured_queries]
    transaction = ("BEGIN", "COMMIT", "SAVEPOINT", "RELEASE")
    work = [s for s in statements if s.split()[0] not in transaction]
    assert not any("labeling_glitchclass" in s for s in work), "classes come from the cache"
    return work


@pytest.fixture
def token_client(volunteer) -> APIClient:
    from rest_framework.authtoken.models import Token

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=volunteer).key}")
    return client


def test_a_vote_with_its_next_subject_costs_a_fixed_number_of_queries(
    volunteer, token_client, settings
):
    """The hot path's statement count, whatever the pool size and the vote history (see
    bench/web_load.py): token, subject and profile locks, the insert, the profile, the
    subject's votes, its prediction and its new consensus, the queue and the images, and
    the gold due recorded when the next subject is a gold one newly handed out."""
    settings.GLITCHLAB_GOLD_RATE = 1.0  # a gold turn
    subjects = [SubjectFactory() for _ in range(4)]
    gold_subject("Blip")  # gold is due: served from the first queue query
    active_prediction(subjects[0], {"Blip": 0.9, "Whistle": 0.1})
    token_client.post("/api/classifications/", ballot(volunteer, subjects[3]))
    work = _work_of_a_vote(token_client, ballot(volunteer, subjects[0], "Whistle", with_next=True))
    assert len(work) <= 11, "\n".join(work)
    assert "gold_due_id" in work[-1]  # the next subject is gold: it is recorded as due


def test_a_vote_while_a_gold_waits_on_screen_costs_one_query_more(
    volunteer, token_client, settings
):
    """The page's usual case one vote in five: the gold handed out waits behind the glitch
    voted on (in `exclude`); one query finds it still due, and no gold query follows."""
    settings.GLITCHLAB_GOLD_RATE = 1.0  # every turn a gold turn: the due one is asked for
    pool = [SubjectFactory() for _ in range(3)]
    golds = {gold_subject("Blip").pk, gold_subject("Whistle").pk}  # one due, one not to reach
    token_client.post("/api/classifications/", ballot(volunteer, pool[2]))
    due = token_client.get("/api/subjects/next/").json()["id"]
    assert due in golds
    vote = ballot(volunteer, pool[0], with_next=True, exclude=[due])
    work = _work_of_a_vote(token_client, vote)
    assert len(work) <= 11, "\n".join(work)
    assert sum("role = 'gold'" in s for s in work) == 1, "\n".join(work)


def test_a_vote_needs_the_assignment_of_that_subject_for_that_volunteer(client_for, volunteer):
    subject, other = SubjectFactory(), SubjectFactory()
    cases = {
        "none": {"subject": subject.pk, "glitch_class": "Blip"},
        "forged": {**ballot(volunteer, subject), "assignment": f"{volunteer.pk}:{subject.pk}:x:y"},
        "another subject's": {
            **ballot(volunteer, subject),
            "assignment": ballot(volunteer, other)["assignment"],
        },
        "another volunteer's": ballot(UserFactory(), subject),
    }
    for case, body in cases.items():
        answer = client_for.post("/api/classifications/", body, format="json")
        assert answer.status_code in (400, 409), case
    answer = client_for.post("/api/classifications/", cases["another volunteer's"], format="json")
    assert (
        answer.json()["code"] == "not_assigned" and "not handed to you" in answer.json()["detail"]
    )
    assert answer.json()["expired"] is False  # not theirs: no "too long ago"
    assert not Classification.objects.exists()


def test_an_assignment_expires(client_for, volunteer, monkeypatch):
    body = ballot(volunteer, SubjectFactory())
    later = time.time() + services.ASSIGNMENT_MAX_AGE_S + 5
    monkeypatch.setattr(time, "time", lambda: later)
    answer = client_for.post("/api/classifications/", body, format="json")
    assert answer.status_code == 409 and answer.json()["code"] == "not_assigned"
    # said apart from "not yours": the page tells its volunteer which (a kept vote sent
    # after a login may be either)
    refusal = answer.json()
    assert refusal["expired"] is True and "more than 30 minutes ago" in refusal["detail"]
    assert not Classification.objects.exists()


def test_a_retry_after_the_assignment_expired_still_gets_the_first_answer(
    client_for, volunteer, monkeypatch
):
    body = ballot(volunteer, SubjectFactory(), idempotency_key=str(uuid.uuid4()))
    first = client_for.post("/api/classifications/", body, format="json")
    later = time.time() + services.ASSIGNMENT_MAX_AGE_S + 5
    monkeypatch.setattr(time, "time", lambda: later)
    again = client_for.post("/api/classifications/", body, format="json")
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"]


def test_next_hands_out_an_assignment_the_vote_accepts(client_for):
    subject = SubjectFactory()
    served = client_for.get("/api/subjects/next/").json()
    assert served["id"] == subject.pk and served["assignment"]
    body = {"subject": subject.pk, "assignment": served["assignment"], "glitch_class": "Blip"}
    assert client_for.post("/api/classifications/", body, format="json").status_code == 201


@pytest.mark.parametrize("body", [{}, {"classification": "last"}, {"classification": 0}])
def test_an_undo_that_names_no_vote_is_refused(client_for, volunteer, body):
    """Undo names the vote it takes back: without one, nothing is taken back."""
    client_for.post("/api/classifications/", ballot(volunteer, SubjectFactory()), format="json")
    response = client_for.post("/api/classifications/undo/", body, format="json")
    assert response.status_code == 400 and "classification" in response.json()
    assert Classification.objects.filter(volunteer=volunteer).count() == 1


def unseen(client, volunteer, subject):
    """The page's word that it could not load `subject`'s pictures (it was handed out)."""
    assignment = services.assignment_issue(volunteer_id=volunteer.pk, subject_id=subject.pk)
    return client.post(
        f"/api/subjects/{subject.pk}/unseen/", {"assignment": assignment}, format="json"
    )


def cut_short(image) -> None:
    with image.storage.open(image.name, "rb") as handle:
        whole = handle.read()
    image.storage.delete(image.name)
    image.storage.save(image.name, ContentFile(whole[: len(whole) // 2]))


@pytest.mark.parametrize(
    ("broken", "why"),
    [(lambda image: image.storage.delete(image.name), "missing"), (cut_short, "truncated")],
)
def test_a_gold_due_whose_picture_is_broken_on_the_server_is_released_and_logged(
    client_for, volunteer, caplog, broken, why
):
    """Before: a glitch whose picture never loaded kept the labelling page waiting for good,
    and the gold due came back first on every turn: the volunteer could never go on. Now
    the page gives up, says so here and passes it over; a gold due the server finds broken
    too is theirs no more (else no other gold would come to them), and the admins read
    which file is broken in the log."""
    gold = gold_subject("Blip")
    handed_out(volunteer, gold)
    image = gold.images.get(duration=1.0).image
    broken(image)
    with caplog.at_level("WARNING", logger="webapp.labeling.services"):
        assert unseen(client_for, volunteer, gold).status_code == 204
    volunteer.volunteer_profile.refresh_from_db()
    assert volunteer.volunteer_profile.gold_due_id is None
    [record] = caplog.records
    assert f"glitch {gold.pk}" in record.getMessage() and image.name in record.getMessage()
    assert why in record.getMessage() and "released" in record.getMessage()
    assert not Classification.objects.exists()


def test_a_gold_due_the_server_holds_whole_stays_due_whatever_the_page_says(
    client_for, volunteer, caplog
):
    """The page's word alone releases nothing: a volunteer who could say "it did not load"
    of any training glitch would pass over gold until one came that they were sure of."""
    gold, pool = gold_subject("Blip"), SubjectFactory()
    handed_out(volunteer, gold)
    with caplog.at_level("WARNING", logger="webapp.labeling.services"):
        assert unseen(client_for, volunteer, gold).status_code == 204
    volunteer.volunteer_profile.refresh_from_db()
    assert volunteer.volunteer_profile.gold_due_id == gold.pk
    assert "holds whole" in caplog.records[0].getMessage()
    # passed over (exclude), it gives pool glitches, and comes back first once not excluded
    assert client_for.get(f"/api/subjects/next/?exclude={gold.pk}").json()["id"] == pool.pk
    assert client_for.get("/api/subjects/next/").json()["id"] == gold.pk


def test_only_a_glitch_handed_to_the_caller_can_be_said_unseen(client_for, volunteer):
    subject = SubjectFactory()
    other = services.assignment_issue(volunteer_id=UserFactory().pk, subject_id=subject.pk)
    path = f"/api/subjects/{subject.pk}/unseen/"
    answer = client_for.post(path, {"assignment": other}, format="json")
    assert answer.status_code == 409 and answer.json()["code"] == "not_assigned"
    assert client_for.post(path, {}, format="json").status_code == 400
    anonymous = APIClient().post(path, {"assignment": other}, format="json")
    assert anonymous.status_code in (401, 403)
    huge = 2**70
    answer = client_for.post(f"/api/subjects/{huge}/unseen/", {"assignment": other}, format="json")
    assert answer.status_code == 409
