"""An admin is told on /discovery/ when the active model's embeddings, or the current ones'
map and clusters, failed or were never made, and queues them again from there; volunteers
see only that the map is being updated."""

from datetime import timedelta

import numpy as np
import pytest
from discovery_factories import volunteer, with_role
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from kombu.exceptions import OperationalError
from page_messages import said

import tasks.discovery as discovery_tasks
from webapp.accounts.roles import ADMIN, REVIEWER
from webapp.discovery import selectors, services
from webapp.discovery.models import EmbeddingSet
from webapp.modeling.models import ModelVersion

pytestmark = pytest.mark.django_db

LOST = "worker lost: WorkerLostError: signal 9 (SIGKILL) <b>in batch 3</b>"


def ready_set(version: ModelVersion, *, has_map: bool = True, n: int = 4) -> EmbeddingSet:
    claimed = services.embedding_set_claim(version_id=version.pk, worker="gpu@h")
    vectors = np.random.default_rng(0).normal(size=(n, 8)).astype(np.float32)
    services.embedding_set_store(set_id=claimed.pk, ids=list(range(1, n + 1)), embeddings=vectors)
    EmbeddingSet.objects.filter(pk=claimed.pk).update(has_map=has_map)
    return EmbeddingSet.objects.get(pk=claimed.pk)


@pytest.fixture
def run2_failed() -> ModelVersion:
    """run-1's embeddings are ready and mapped; run-2 is active and its embedding job was
    lost with its worker."""
    ready_set(ModelVersion.objects.create(name="run-1"))
    run2 = ModelVersion.objects.create(name="run-2", is_active=True)
    EmbeddingSet.objects.create(model_version=run2, status="failed", error=LOST)
    return run2


@pytest.fixture
def sent(monkeypatch) -> dict[str, list[int]]:
    """What reached the broker, per task (the view's requests are queued on commit)."""
    queued: dict[str, list[int]] = {"embed": [], "map": []}
    monkeypatch.setattr(discovery_tasks.embed_subjects, "delay", queued["embed"].append)
    monkeypatch.setattr(discovery_tasks.cluster_subjects, "delay", queued["map"].append)
    return queued


@pytest.fixture
def refused(monkeypatch) -> None:
    def refuse(*args: object) -> None:
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(discovery_tasks.embed_subjects, "delay", refuse)
    monkeypatch.setattr(discovery_tasks.cluster_subjects, "delay", refuse)


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def page(client: Client) -> str:
    return client.get(reverse("discovery:home")).content.decode()


def test_admins_are_told_the_active_models_embeddings_failed_with_the_error(run2_failed):
    html = page(signed_in(with_role("boss", ADMIN)))
    assert 'data-testid="embedding-problem"' in html
    assert "The embeddings of the active model, run-2, failed." in html
    assert '<samp data-testid="embedding-error">worker lost: WorkerLostError' in html
    assert "&lt;b&gt;in batch 3&lt;/b&gt;" in html and "<b>in batch 3" not in html  # escaped
    assert "the similar glitches are run-1's" in html
    assert 'data-testid="embed-again"' in html


def test_volunteers_and_reviewers_see_only_that_the_map_is_being_updated(run2_failed):
    for user in (volunteer("ann"), with_role("rev", REVIEWER)):
        html = page(signed_in(user))
        assert "The map is being updated." in html
        assert "SIGKILL" not in html and "failed" not in html
        assert 'data-testid="embed-again"' not in html


@pytest.mark.parametrize("status", ["cancelled", None])
def test_cancelled_or_never_made_embeddings_of_the_active_model_are_told(status):
    version = ModelVersion.objects.create(name="run-7", is_active=True)
    if status:
        EmbeddingSet.objects.create(
            model_version=version, status=status, error="cancelled by an admin"
        )
    html = page(signed_in(with_role("boss", ADMIN)))
    told = (
        ["The embeddings of the active model, run-7, were cancelled.", ">cancelled by an admin<"]
        if status
        else ["The active model, run-7, has no embeddings: none were made for it."]
    )
    assert all(line in html for line in told) and 'data-testid="embed-again"' in html


def test_embed_again_queues_one_job_however_often_it_is_pressed(
    run2_failed, sent, django_capture_on_commit_callbacks
):
    admin = signed_in(with_role("boss", ADMIN))
    url = reverse("discovery:embed_again", args=[run2_failed.pk])
    with django_capture_on_commit_callbacks(execute=True):
        first = admin.post(url, follow=True)
    row = EmbeddingSet.objects.get(model_version=run2_failed)
    assert row.status == "pending" and row.error == ""
    assert said(first) == [
        (
            "success",
            f"Embedding job {row.pk} (run-2) queued on the gpu queue; its map and clusters follow.",
        )
    ]
    with django_capture_on_commit_callbacks(execute=True):
        second = admin.post(url, follow=True)
    assert sent["embed"] == [run2_failed.pk]
    assert said(second) == [
        ("info", f"Embedding job {row.pk} (run-2) is already pending: nothing queued again.")
    ]
    assert 'data-testid="embedding-problem"' not in page(admin)

    # Should the one message be delivered twice, the second delivery finds it claimed.
    assert services.embedding_set_claim(version_id=run2_failed.pk, worker="gpu@a") is not None
    assert services.embedding_set_claim(version_id=run2_failed.pk, worker="gpu@b") is None


def test_embed_again_waits_for_another_models_embedding_job(run2_failed, sent):
    busy = EmbeddingSet.objects.create(
        model_version=ModelVersion.objects.create(name="run-0"), status="running"
    )
    answer = signed_in(with_role("boss", ADMIN)).post(
        reverse("discovery:embed_again", args=[run2_failed.pk]), follow=True
    )
    assert said(answer) == [
        (
            "error",
            f"Not queued: embedding job {busy.pk} (run-0) is running, and the GPU worker "
            "embeds one model at a time. Embed again once it has ended (or cancel it).",
        )
    ]
    assert sent["embed"] == []
    assert EmbeddingSet.objects.get(model_version=run2_failed).status == "failed"


def test_embed_again_is_only_for_the_active_model(run2_failed, sent):
    run1 = ModelVersion.objects.get(name="run-1")
    admin = signed_in(with_role("boss", ADMIN))
    answer = admin.post(reverse("discovery:embed_again", args=[run1.pk]), follow=True)
    assert said(answer)[0][0] == "error" and "run-1 is not the active model" in said(answer)[0][1]
    for guessed in (987654, 2**63 + 5):
        assert admin.post(reverse("discovery:embed_again", args=[guessed])).status_code == 404
    assert sent["embed"] == []


# transaction=True: queued on commit, as in production, while the request runs.
@pytest.mark.django_db(transaction=True)
def test_a_broker_that_refuses_embed_again_is_said_to_the_admin(run2_failed, refused):
    answer = signed_in(with_role("boss", ADMIN)).post(
        reverse("discovery:embed_again", args=[run2_failed.pk]), follow=True
    )
    assert answer.status_code == 200
    (kind, text), *_ = said(answer)
    assert kind == "error"
    assert text.startswith("The embeddings of run-2 could not be queued: the task broker (Redis)")
    row = EmbeddingSet.objects.get(model_version=run2_failed)
    assert row.status == "failed" and "did not answer" in row.error  # the next click may queue


def test_ready_embeddings_without_a_map_are_told_and_mapped_again_once(
    sent, django_capture_on_commit_callbacks
):
    """The state a refused clustering left before it was recorded: ready, no map, no error."""
    older = ready_set(ModelVersion.objects.create(name="run-1"))
    services.cluster_run_store(
        set_id=older.pk, subject_ids=[1, 2, 3], labels=[0, 0, -1], embeddings=np.eye(3), params={}
    )
    current = ready_set(ModelVersion.objects.create(name="run-2", is_active=True), has_map=False)
    admin = signed_in(with_role("boss", ADMIN))
    html = page(admin)
    # the sheets' clusters are still run-1's, and the status line says so
    assert "from run-2 · 1 clusters of 3 candidates (1 unclustered), from run-1." in html
    assert "The map and clusters of run-2 were not made, and no job is making them." in html
    assert 'data-testid="map-again"' in html
    assert "The map is being updated." in page(signed_in(volunteer("ann")))

    url = reverse("discovery:map_again", args=[current.pk])
    with django_capture_on_commit_callbacks(execute=True):
        first = admin.post(url, follow=True)
    with django_capture_on_commit_callbacks(execute=True):
        second = admin.post(url, follow=True)
    assert sent["map"] == [current.pk]
    assert said(first) == [("success", "The map and clusters of run-2 queued.")]
    assert said(second) == [
        ("info", "The map and clusters of run-2 are already being made: nothing queued again.")
    ]
    html = page(admin)
    assert "The map and clusters of run-2 are being made" in html
    assert 'data-testid="map-again"' not in html


def test_a_map_job_queued_longer_ago_than_it_may_take_is_taken_as_lost(
    sent, django_capture_on_commit_callbacks
):
    current = ready_set(ModelVersion.objects.create(name="run-2", is_active=True), has_map=False)
    long_ago = timezone.now() - timedelta(seconds=selectors.map_wait_s() + 60)
    EmbeddingSet.objects.filter(pk=current.pk).update(map_queued_at=long_ago)
    admin = signed_in(with_role("boss", ADMIN))
    assert 'data-testid="map-again"' in page(admin)
    with django_capture_on_commit_callbacks(execute=True):
        admin.post(reverse("discovery:map_again", args=[current.pk]))
    assert sent["map"] == [current.pk]


# transaction=True: queued on commit, as in production, while the request runs.
@pytest.mark.django_db(transaction=True)
def test_a_broker_that_refuses_the_map_is_said_and_stays_on_the_page(refused):
    current = ready_set(ModelVersion.objects.create(name="run-2", is_active=True), has_map=False)
    admin = signed_in(with_role("boss", ADMIN))
    answer = admin.post(reverse("discovery:map_again", args=[current.pk]), follow=True)
    assert answer.status_code == 200
    (kind, text), *_ = said(answer)
    assert kind == "error"
    assert text.startswith(  # the reason said once (it read "could not be queued" twice)
        "The map and clusters of run-2 were not made: the task broker (Redis) did not answer"
    )
    current.refresh_from_db()
    assert current.map_queued_at is None and "did not answer" in current.error
    assert '<samp data-testid="map-error">the task broker (Redis) did not answer' in page(admin)


@pytest.mark.django_db(transaction=True)  # queued at once, as outside a transaction
def test_a_map_made_before_the_page_looks_again_is_not_said_to_have_failed(monkeypatch):
    """Before: a job that ended (well) before the view read the row again (an eager broker, a
    fast worker) freed its claim, and the view took the freed claim for a refusal: "The map
    and clusters of run-2 were not made: " with no reason."""
    current = ready_set(ModelVersion.objects.create(name="run-2", is_active=True), has_map=False)
    monkeypatch.setattr(  # the job runs and ends well at once
        discovery_tasks.cluster_subjects,
        "delay",
        lambda set_id: services.embedding_set_map_ended(set_id=set_id),
    )
    admin = signed_in(with_role("boss", ADMIN))
    answer = admin.post(reverse("discovery:map_again", args=[current.pk]), follow=True)
    assert said(answer) == [("success", "The map and clusters of run-2 queued.")]


def test_only_ready_embeddings_are_mapped_again(run2_failed, sent):
    failed = EmbeddingSet.objects.get(model_version=run2_failed)
    admin = signed_in(with_role("boss", ADMIN))
    answer = admin.post(reverse("discovery:map_again", args=[failed.pk]), follow=True)
    assert said(answer) == [
        (
            "error",
            "Not queued: the embeddings of run-2 are failed; their map and clusters are made "
            "once they are ready.",
        )
    ]
    for guessed in (987654, 2**63 + 5):
        assert admin.post(reverse("discovery:map_again", args=[guessed])).status_code == 404
    assert sent["map"] == []


@pytest.mark.parametrize("who", ["anonymous", "volunteer", "reviewer"])
def test_only_admins_may_queue_either_job(
    run2_failed, sent, who, django_capture_on_commit_callbacks
):
    current = EmbeddingSet.objects.get(model_version__name="run-1")
    EmbeddingSet.objects.filter(pk=current.pk).update(has_map=False)
    users = {"volunteer": lambda: volunteer("ann"), "reviewer": lambda: with_role("r", REVIEWER)}
    client = signed_in(users[who]()) if who in users else Client()
    for url in (
        reverse("discovery:embed_again", args=[run2_failed.pk]),
        reverse("discovery:map_again", args=[current.pk]),
    ):
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            answer = client.post(url)
        assert callbacks == []
        if who == "anonymous":
            assert answer.status_code == 302 and "login" in answer["Location"]
        else:
            assert answer.status_code == 403
    assert sent == {"embed": [], "map": []}
    assert EmbeddingSet.objects.get(model_version=run2_failed).status == "failed"
    current.refresh_from_db()
    assert current.map_queued_at is None
