"""webapp.bound_serializers: one bound serializer per class and thread gives exactly what a
serializer made per request gives (output, validated data, and validation errors)."""

import threading
import uuid

import pytest
from rest_framework.exceptions import ValidationError
from webapp_factories import SubjectFactory, UserFactory

from webapp.bound_serializers import represent, validate
from webapp.labeling import selectors, services
from webapp.labeling.consensus import confusion_add
from webapp.labeling.serializers import (
    ClassificationInSerializer,
    ClassificationWithNextOutSerializer,
    ProgressSerializer,
    SubjectToLabelSerializer,
)

pytestmark = pytest.mark.django_db


def vote_answer(gold: dict | None, with_next: bool) -> dict:
    volunteer = UserFactory()
    profile = volunteer.volunteer_profile
    for true, answered in [("Blip", "Blip"), ("Whistle", "Blip"), ("Blip", "Blip")]:
        profile.gold_confusion = confusion_add(profile.gold_confusion, true, answered)
    profile.save()
    subject = selectors.subject_get(subject_id=SubjectFactory().pk)
    return {
        "id": 7,
        "subject": 3,
        "glitch_class": "Blip",
        "created": True,
        "gold": gold,
        "late": False,
        "promoted": False,
        "progress": selectors.volunteer_progress(volunteer=volunteer),
        "next": services.subject_assign(volunteer=volunteer, subject=subject)
        if with_next
        else None,
    }


@pytest.mark.parametrize(
    "gold, with_next",
    [(None, True), ({"correct": False, "right_answer": "Whistle"}, True), (None, False)],
)
def test_a_vote_answer_is_what_the_serializer_gives(gold, with_next):
    body = vote_answer(gold, with_next)
    bound = represent(ClassificationWithNextOutSerializer, body)
    assert bound == ClassificationWithNextOutSerializer(body).data
    assert represent(ClassificationWithNextOutSerializer, body) == bound  # reused: same again
    if with_next:
        assert [image["duration"] for image in bound["next"]["images"]] == [0.5, 1.0, 2.0, 4.0]
    skills = {skill["name"]: skill for skill in bound["progress"]["learning"]}
    assert skills["Blip"]["right"] == 2 and skills["Blip"]["answered"] == 3


def test_the_progress_and_a_subject_alone():
    body = vote_answer(None, True)
    assert represent(ProgressSerializer, body["progress"]) == (
        ProgressSerializer(body["progress"]).data
    )
    assert represent(SubjectToLabelSerializer, body["next"]) == (
        SubjectToLabelSerializer(body["next"]).data
    )


GOOD = {"subject": 5, "assignment": "a:b", "glitch_class": "Blip", "with_next": True}
BAD = [
    {},
    [],
    "text",
    {**GOOD, "subject": 0},
    {**GOOD, "subject": "x", "glitch_class": "y" * 65},
    {**GOOD, "idempotency_key": "not a uuid", "seconds_taken": -1},
    {**GOOD, "exclude": list(range(1, 102))},
    {**GOOD, "exclude": ["a"]},
    {**GOOD, "assignment": None},
]


def test_valid_input_gives_the_same_validated_data():
    data = {**GOOD, "idempotency_key": str(uuid.uuid4()), "exclude": [1, 2]}
    made = ClassificationInSerializer(data=data)
    assert made.is_valid()
    assert validate(ClassificationInSerializer, data) == made.validated_data
    assert (
        validate(
            ClassificationInSerializer, {"subject": 5, "assignment": "a", "glitch_class": "B"}
        )["with_next"]
        is False
    )  # the default


@pytest.mark.parametrize("data", BAD, ids=range(len(BAD)))
def test_invalid_input_gives_the_same_errors(data):
    made = ClassificationInSerializer(data=data)
    assert not made.is_valid()
    with pytest.raises(ValidationError) as raised:
        validate(ClassificationInSerializer, data)
    assert raised.value.detail == made.errors


def test_threads_at_once_each_get_their_own_answers():
    inputs = [{**GOOD, "subject": n, "exclude": [n]} for n in range(1, 41)]
    results: dict[int, object] = {}
    start = threading.Barrier(8)

    def work(part: list[dict]) -> None:
        start.wait()
        for data in part:
            results[data["subject"]] = validate(ClassificationInSerializer, data)

    threads = [threading.Thread(target=work, args=(inputs[i::8],)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert {n: (v["subject"], v["exclude"]) for n, v in results.items()} == {
        n: (n, [n]) for n in range(1, 41)
    }
