"""Votes survive what goes wrong around them: the answer comes after the commit, a
retried or double-clicked vote counts once, parallel clients lose no update, and a dead
broker (Redis restarting) does not stop anyone from voting."""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from django.db import connection, connections
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient
from webapp_factories import SubjectFactory, UserFactory

from webapp.labeling.models import Classification, Subject
from webapp.labeling.services import assignment_issue

pytestmark = pytest.mark.django_db(transaction=True)
needs_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="parallel writers: run with DATABASE_URL=postgres"
)


def _client(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def _ballot(user_id: int, subject, name: str = "Blip") -> dict:
    """A vote with the assignment the queue hands out with the subject."""
    assignment = assignment_issue(volunteer_id=user_id, subject_id=subject.pk)
    return {"subject": subject.pk, "assignment": assignment, "glitch_class": name}


def _count_from_another_connection(subject_id: int) -> int:
    """What a second process would see: a fresh connection in another thread."""
    seen = []

    def look():
        try:
            seen.append(Classification.objects.filter(subject_id=subject_id).count())
        finally:
            connections.close_all()

    thread = threading.Thread(target=look)
    thread.start()
    thread.join()
    return seen[0]


def test_the_vote_is_committed_when_the_answer_arrives(seeded):
    subject, user = SubjectFactory(), UserFactory()
    response = _client(user).post("/api/classifications/", _ballot(user.pk, subject), format="json")
    assert response.status_code == 201
    assert _count_from_another_connection(subject.pk) == 1


def test_votes_commit_while_the_broker_is_dead(seeded, settings):
    from tasks.celery import app

    old = app.conf.broker_url
    settings.CELERY_BROKER_URL = app.conf.broker_url = "redis://127.0.0.1:1/0"  # nobody there
    app.close()
    try:
        subject = SubjectFactory()
        for _ in range(3):
            # Volunteers with Whistle gold history: their votes weigh, and retire it.
            skilled = UserFactory(profile__gold_confusion={"Whistle": {"Whistle": 3}})
            response = _client(skilled).post(
                "/api/classifications/",
                _ballot(skilled.pk, subject, "Whistle"),
                format="json",
            )
            assert response.status_code == 201
    finally:
        app.conf.broker_url = old
        app.close()
    subject.refresh_from_db()
    assert _count_from_another_connection(subject.pk) == 3
    assert subject.status == Subject.Status.RETIRED
    # Every vote is stored; one cast after the subject retired is kept out of its counts.
    in_time = Classification.objects.filter(subject=subject, after_retirement=False).count()
    assert subject.n_votes == in_time >= 2


def _post(url: str, token: str, body: dict) -> requests.Response:
    return requests.post(url, json=body, headers={"Authorization": f"Token {token}"}, timeout=30)


@needs_postgresql
def test_parallel_http_clients_on_one_subject_lose_no_vote(seeded, live_server):
    subject = SubjectFactory()
    tokens = [Token.objects.create(user=UserFactory()) for _ in range(12)]
    barrier = threading.Barrier(len(tokens))
    url = f"{live_server.url}/api/classifications/"

    def vote(token: Token) -> int:
        barrier.wait()
        return _post(url, token.key, _ballot(token.user_id, subject)).status_code

    with ThreadPoolExecutor(len(tokens)) as pool:
        codes = list(pool.map(vote, tokens))

    assert codes == [201] * len(tokens)
    subject.refresh_from_db()
    assert Classification.objects.filter(subject=subject).count() == len(tokens)
    assert (subject.n_votes, subject.views) == (len(tokens), len(tokens))


@needs_postgresql
def test_a_double_click_sent_in_parallel_counts_once(seeded, live_server):
    subject = SubjectFactory()
    user = UserFactory()
    token = Token.objects.create(user=user).key
    body = {**_ballot(user.pk, subject), "idempotency_key": str(uuid.uuid4())}
    barrier = threading.Barrier(6)
    url = f"{live_server.url}/api/classifications/"

    def vote(_: int) -> requests.Response:
        barrier.wait()
        return _post(url, token, body)

    with ThreadPoolExecutor(6) as pool:
        responses = list(pool.map(vote, range(6)))

    assert sorted(r.status_code for r in responses) == [200] * 5 + [201]
    assert len({r.json()["id"] for r in responses}) == 1
    subject.refresh_from_db()
    assert subject.n_votes == 1 and Classification.objects.count() == 1
