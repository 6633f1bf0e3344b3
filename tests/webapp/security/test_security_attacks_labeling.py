"""Issue #14's attacks on labelling, replayed as a cheating volunteer would: each test fails
if its attack works again.

Gold farming (vote on any id, read the answer, undo, answer again for credit), telling gold
from pool (image URLs, fields, the subject page and API), reading the crowd's answer before
voting, moving a retired subject with late votes, and an idempotency key replayed on
another subject.
"""

from __future__ import annotations

import importlib
import re
import uuid
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection
from rest_framework.test import APIClient
from webapp_factories import (
    SubjectFactory,
    UserFactory,
    active_prediction,
    glitch_class,
    gold_subject,
    tiny_png,
)

from webapp.labeling import services
from webapp.labeling.models import Classification, Subject, SubjectImage, VolunteerProfile
from webapp.talk import services as talk_services

pytestmark = pytest.mark.django_db

VOTE = "/api/classifications/"


@pytest.fixture
def cheater():
    return UserFactory(username="cheater")


@pytest.fixture
def api(cheater):
    client = APIClient()
    client.force_login(cheater)  # the API and the pages
    return client


def served(api: APIClient, **params) -> dict:
    """The next subject as the queue hands it out (with its assignment)."""
    answer = api.get("/api/subjects/next/", params)
    assert answer.status_code == 200
    return answer.json()


def vote_on(api: APIClient, subject: dict, name: str, **extra) -> tuple[int, dict]:
    body = {"subject": subject["id"], "assignment": subject["assignment"], "glitch_class": name}
    answer = api.post(VOTE, {**body, **extra}, format="json")
    return answer.status_code, answer.json()


# --- 1. only served subjects take votes ---------------------------------------------------


def test_a_vote_on_a_subject_never_handed_out_is_refused(api, cheater):
    gold = gold_subject("Whistle")
    for body in (
        {"subject": gold.pk, "glitch_class": "Blip"},  # the old attack: any id, no assignment
        {"subject": gold.pk, "glitch_class": "Blip", "assignment": ""},
        {"subject": gold.pk, "glitch_class": "Blip", "assignment": f"{cheater.pk}:{gold.pk}"},
    ):
        answer = api.post(VOTE, body, format="json")
        assert answer.status_code in (400, 409), body
        assert "right_answer" not in str(answer.json()) and "Whistle" not in str(answer.json())
    assert not Classification.objects.exists()
    assert VolunteerProfile.objects.get(user=cheater).gold_confusion == {}


def test_an_assignment_cannot_be_moved_to_another_subject_or_volunteer(api, cheater, settings):
    settings.GLITCHLAB_GOLD_RATE = 0
    pool = SubjectFactory(priority=1)
    gold = gold_subject("Whistle")
    mine = served(api)
    assert mine["id"] == pool.pk
    # my assignment for the pool subject, sent with the gold subject's id
    status, body = vote_on(api, {**mine, "id": gold.pk}, "Whistle")
    assert status == 409 and body["code"] == "not_assigned"
    # a friend's assignment for the gold subject
    friend = services.assignment_issue(volunteer_id=UserFactory().pk, subject_id=gold.pk)
    status, body = vote_on(api, {"id": gold.pk, "assignment": friend}, "Whistle")
    assert status == 409 and body["code"] == "not_assigned"
    assert not Classification.objects.filter(subject=gold).exists()


def test_a_batch_sheet_still_votes_on_the_subjects_it_showed(cheater, settings):
    """The sheet's Batch row is the server's record of what it served: its votes go through
    without a queue assignment, and only on its own subjects."""
    from webapp.discovery import services as discovery
    from webapp.discovery.models import Batch

    shown = [SubjectFactory() for _ in range(3)]
    batch = Batch.objects.create(volunteer=cheater, subject_ids=[s.pk for s in shown])
    label = discovery.BatchLabel(class_name="Blip")
    other = SubjectFactory()
    with pytest.raises(Exception, match="from the batch"):
        discovery.batch_submit(
            volunteer=cheater, batch_id=batch.pk, selected_ids=[other.pk], label=label
        )
    discovery.batch_submit(
        volunteer=cheater, batch_id=batch.pk, selected_ids=[s.pk for s in shown], label=label
    )
    assert Classification.objects.filter(volunteer=cheater).count() == 3
    assert not Classification.objects.filter(subject=other).exists()


# --- 2. gold: the first answer counts; gold looks like pool ----------------------------------


def test_gold_farming_by_undo_and_answering_again_earns_nothing(api, cheater, settings):
    settings.GLITCHLAB_GOLD_RATE = 1.0
    gold = gold_subject("Whistle")
    subject = served(api)
    assert subject["id"] == gold.pk
    status, body = vote_on(api, subject, "Blip")
    assert status == 201
    assert body["gold"] == {"correct": False, "right_answer": "Whistle"}  # feedback stays
    undo = api.post("/api/classifications/undo/", {"classification": body["id"]}, format="json")
    assert undo.status_code == 409 and "training glitch" in undo.json()["detail"]
    for key in (None, str(uuid.uuid4())):  # answer again, now knowing the answer
        extra = {"idempotency_key": key} if key else {}
        status, body = vote_on(api, subject, "Whistle", **extra)
        assert status == 409 and body["code"] == "already_voted"
    profile = VolunteerProfile.objects.get(user=cheater)
    assert profile.gold_confusion == {"Whistle": {"Blip": 1}}
    assert profile.n_classified == 1
    progress = api.get("/api/progress/").json()
    assert (progress["n_gold"], progress["n_gold_correct"]) == (1, 0)


def test_gold_and_pool_are_served_alike(api, cheater, settings):
    pool = SubjectFactory(source="demo-pool", external_id="H1_aaaaaaaaaa")
    gold = gold_subject("Whistle", source="demo-gold", external_id="H1_bbbbbbbbbb")
    settings.GLITCHLAB_GOLD_RATE = 0
    as_pool = served(api)
    settings.GLITCHLAB_GOLD_RATE = 1.0  # (the gold handed out is then served until answered)
    as_gold = served(api)
    assert (as_gold["id"], as_pool["id"]) == (gold.pk, pool.pk)
    assert as_gold.keys() == as_pool.keys()
    opaque = re.compile(r"^/media/subjects/[0-9a-f]{2}/[0-9a-f]{32}\.png$")
    for subject, row in ((as_gold, gold), (as_pool, pool)):
        assert [image.keys() for image in subject["images"]] == [
            image.keys() for image in as_pool["images"]
        ]
        for image in subject["images"]:
            assert opaque.match(image["url"]), image["url"]
            for tell in ("gold", "pool", row.source, row.external_id, str(image["duration"])):
                assert tell not in image["url"]


def test_the_old_image_names_are_renamed_by_the_migration():
    """Images imported before the change had subjects/<source>/<id>_<duration>.png."""
    subject = gold_subject("Blip", images=())
    old = default_storage.save("subjects/demo-gold/H1_x_1.0.png", ContentFile(tiny_png()))
    image = SubjectImage.objects.create(subject=subject, duration=1.0, image=old)
    migration = importlib.import_module(
        "webapp.labeling.migrations.0009_opaque_subject_image_names"
    )
    migration.rename_images(apps, SimpleNamespace(connection=connection))
    image.refresh_from_db()
    assert migration.OPAQUE.match(image.image.name) and "gold" not in image.image.name
    assert default_storage.exists(image.image.name) and not default_storage.exists(old)
    assert image.image.read() == tiny_png()


# --- 3. no answers before voting ---------------------------------------------------------------


def subject_api(client: APIClient, subject: Subject) -> dict:
    answer = client.get(f"/api/subjects/{subject.pk}/")
    assert answer.status_code == 200
    return answer.json()


def crowded(subject: Subject) -> Subject:
    """A subject three other volunteers have voted on, with a model's prediction."""
    active_prediction(subject, {"Whistle": 0.7, "Blip": 0.3})
    for _ in range(3):
        services.classification_create(
            volunteer=UserFactory(), subject_id=subject.pk, class_name="Whistle"
        )
    subject.refresh_from_db()
    return subject


@pytest.mark.parametrize("who", ["anonymous", "volunteer"])
def test_role_votes_posterior_and_predictions_stay_hidden_before_voting(who, cheater):
    client = APIClient()
    if who == "volunteer":
        client.force_login(cheater)
    gold = crowded(gold_subject("Whistle", source="demo-gold"))
    pool = crowded(SubjectFactory(source="demo-pool"))
    seen = {}
    for name, subject in (("gold", gold), ("pool", pool)):
        data = subject_api(client, subject)
        assert data["answers_visible"] is False
        for field in ("role", "source", "gold_label", "posterior", "views", "n_votes"):
            assert data[field] is None, (name, field)
        assert (data["votes"], data["predictions"]) == ({}, [])
        values = str(list(data.values()))
        assert "Whistle" not in values and "gold" not in values, values
        seen[name] = {k: v for k, v in data.items() if k not in ("id", "external_id", "images")}
        page = client.get(f"/subjects/{subject.pk}/")
        assert page.status_code == 200  # a gold subject's page was a 404: an oracle
        text = page.content.decode()
        assert "Whistle" not in text and "gold" not in text.lower()
        assert 'data-testid="answers-hidden"' in text
    assert seen["gold"] == seen["pool"]


def test_answers_show_once_the_volunteer_voted_on_the_subject(api, cheater):
    pool = crowded(SubjectFactory())
    status, _ = vote_on(api, served(api), "Blip")
    assert status == 201
    data = subject_api(api, pool)
    assert data["answers_visible"] is True and data["role"] == "pool"
    assert data["votes"] == {"Whistle": 3, "Blip": 1}
    assert data["predictions"][0]["predicted_label"] == "Whistle"
    assert 'data-testid="answers-hidden"' not in api.get(f"/subjects/{pool.pk}/").content.decode()


@pytest.mark.parametrize("look", ["api", "page", "my glitches", "talk", "tag"])
def test_vote_look_at_the_crowd_undo_and_copy_it_is_refused(api, cheater, look):
    """Voting shows the glitch's votes and the model's guess; undo and vote again with the
    crowd's answer would add a copied vote as an independent one. Once seen, a vote stays;
    without a look, undo works as before. My glitches and Talk's front and tag pages name a
    voted glitch by its external id, a key into public tables with its label: before, they
    left the vote undoable."""
    pool = crowded(SubjectFactory())
    talk_services.comment_create(author=UserFactory(), subject_id=pool.pk, text="#odd one")
    status, body = vote_on(api, served(api), "Blip")
    assert status == 201
    if look == "api":
        assert subject_api(api, pool)["votes"] == {"Whistle": 3, "Blip": 1}
    elif look == "page":
        assert "Whistle" in api.get(f"/subjects/{pool.pk}/").content.decode()
    else:
        url = {"my glitches": "/me/glitches/", "talk": "/talk/", "tag": "/talk/tags/odd/"}
        assert pool.external_id in api.get(url[look]).content.decode()
    undo = api.post("/api/classifications/undo/", {"classification": body["id"]}, format="json")
    assert undo.status_code == 409 and "seen this glitch's votes" in undo.json()["detail"]
    assert Classification.objects.get(pk=body["id"]).glitch_class.name == "Blip"

    other = SubjectFactory()
    status, body = vote_on(api, served(api), "Blip")
    assert status == 201 and body["subject"] == other.pk
    undo = api.post("/api/classifications/undo/", {"classification": body["id"]}, format="json")
    assert undo.status_code == 200  # not looked at: undone


def test_answers_show_to_anyone_once_the_subject_retired():
    subject = crowded(SubjectFactory())
    Subject.objects.filter(pk=subject.pk).update(
        status=Subject.Status.RETIRED, retired_label=glitch_class("Whistle")
    )
    data = subject_api(APIClient(), subject)
    assert data["answers_visible"] is True and data["retired_label"] == "Whistle"
    assert data["votes"] == {"Whistle": 3}


# --- 4. late votes, idempotency keys -------------------------------------------------------------


def test_late_votes_do_not_move_a_retired_subject(api, cheater):
    subject = crowded(SubjectFactory())
    assignment = services.assignment_issue(volunteer_id=cheater.pk, subject_id=subject.pk)
    Subject.objects.filter(pk=subject.pk).update(
        status=Subject.Status.RETIRED, retired_label=glitch_class("Whistle")
    )
    subject.refresh_from_db()
    before = (subject.posterior, subject.n_votes, subject.views, subject.retired_label_id)
    status, body = vote_on(api, {"id": subject.pk, "assignment": assignment}, "Blip")
    assert status == 201 and body["late"] is True  # the caller is told
    subject.refresh_from_db()
    assert subject.status == Subject.Status.RETIRED
    assert (subject.posterior, subject.n_votes, subject.views, subject.retired_label_id) == before


def test_an_idempotency_key_reused_for_another_subject_is_refused(api, cheater, settings):
    settings.GLITCHLAB_GOLD_RATE = 0
    first, second = SubjectFactory(priority=2), SubjectFactory(priority=1)
    key = str(uuid.uuid4())
    status, body = vote_on(api, served(api), "Blip", idempotency_key=key)
    assert status == 201 and body["subject"] == first.pk
    status, body = vote_on(api, served(api), "Whistle", idempotency_key=key)
    assert status in (400, 409) and body["code"] == "key_reused"
    assert "fresh key" in body["detail"] and body.get("id") is None  # not the old vote
    assert not Classification.objects.filter(subject=second).exists()
    # the same key for the same subject is still a harmless retry
    status, body = vote_on(
        api,
        {
            "id": first.pk,
            "assignment": services.assignment_issue(volunteer_id=cheater.pk, subject_id=first.pk),
        },
        "Blip",
        idempotency_key=key,
    )
    assert status == 200 and body["created"] is False


def test_a_huge_exclude_list_is_a_400_and_a_short_one_still_works(api):
    """Before: GET /api/subjects/next/ took any number of ids to skip, each a parameter of
    the queue's statement (the vote's `exclude` was capped at 100): 70,000 of them, a 420 KB
    address, went into the database (PostgreSQL takes 65,535 parameters: a 500)."""
    subject = SubjectFactory()
    huge = ",".join(str(i) for i in range(1, 70_001))
    answer = api.get(f"/api/subjects/next/?exclude={huge}")
    assert answer.status_code == 400
    assert answer.json()["exclude"] == "at most 100 ids"
    others = ",".join(str(subject.pk + i) for i in range(1, 101))
    assert api.get(f"/api/subjects/next/?exclude={others}").json()["id"] == subject.pk


def test_a_gold_glitch_whose_answer_went_public_scores_no_one(api, cheater):
    """Served as gold, then added to the field guide (it retires with its answer, public on
    its page and in the guide) while the volunteer still held its assignment: before, the
    right answer read there still counted as a gold answer, toward promotion."""
    gold = gold_subject("Whistle")
    mine = served(api)
    assert mine["id"] == gold.pk
    services.glitch_class_example_from_subject(subject=gold)
    status, body = vote_on(api, mine, "Whistle")
    assert status == 201 and body["late"] is True
    vote = Classification.objects.get(subject=gold)
    assert (vote.was_gold, vote.after_retirement) == (False, True)
    assert VolunteerProfile.objects.get(user=cheater).gold_confusion == {}


def test_passing_over_a_gold_glitch_serves_no_other_gold_until_it_is_answered(
    api, cheater, settings
):
    """Before: `exclude` passed over a gold glitch for the next one (up to 100), so an
    account could answer only the gold it was sure of, and climb on a perfect score. The
    gold handed out now comes back, and no other gold is served, until it is answered."""
    settings.GLITCHLAB_GOLD_RATE = 1.0  # every turn is a gold turn
    first, second = gold_subject("Blip"), gold_subject("Whistle")
    pool = SubjectFactory()
    mine = served(api)
    assert mine["id"] in (first.pk, second.pk)
    other = second.pk if mine["id"] == first.pk else first.pk
    assert served(api, exclude=str(mine["id"]))["id"] == pool.pk  # was: the other gold
    both = f"{mine['id']},{pool.pk}"
    assert api.get("/api/subjects/next/", {"exclude": both}).status_code == 204
    assert served(api)["id"] == mine["id"]  # the same gold again, not a fresh draw
    status, body = vote_on(api, mine, "Blip", with_next=True, exclude=[pool.pk])
    assert status == 201 and body["next"]["id"] == other  # answered: the next gold comes
