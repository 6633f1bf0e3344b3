"""The current embeddings' .npz gone from disk (VAR_DIR/discovery pruned, the database
restored without the volume, a mount lost or slow to answer): the pages go on without them
and write nothing ("embeddings file missing: PATH" logged once), the map and the discovery
page tell admins and offer Embed again, which marks them failed and makes them anew, as
the clustering marks them failed."""

import logging
from pathlib import Path

import numpy as np
import pytest
from discovery_factories import stored_cluster, volunteer, with_role
from django.test import Client
from django.urls import reverse
from page_messages import said

import tasks.discovery as discovery_tasks
from webapp.accounts.roles import ADMIN
from webapp.discovery import services
from webapp.discovery.models import EmbeddingSet

pytestmark = pytest.mark.django_db


@pytest.fixture
def gone():
    """The active model's ready, mapped embeddings, their file removed; and the subjects."""
    _, subjects, _, _ = stored_cluster(n=6)
    embedding_set = EmbeddingSet.objects.get()
    services.map_store(set_id=embedding_set.pk, xy=np.zeros((embedding_set.n_subjects, 2)))
    Path(embedding_set.path).unlink()
    return embedding_set, subjects


def signed_in(user) -> Client:
    client = Client(raise_request_exception=False)
    client.force_login(user)
    return client


def test_the_pages_go_on_without_a_missing_embeddings_file(gone, caplog):
    embedding_set, subjects = gone
    ann = signed_in(volunteer("ann", level=1))

    with caplog.at_level(logging.ERROR, logger="webapp.discovery.selectors"):
        page = ann.get(reverse("labeling:subject_detail", args=[subjects[0].pk]))
        similar = ann.get(f"/api/discovery/subjects/{subjects[0].pk}/similar/")
        points = ann.get("/api/discovery/map/")
        again = ann.get(f"/api/discovery/subjects/{subjects[1].pk}/similar/")

    assert page.status_code == 200
    # before: 500 on both; now no similar glitches (the page shows none) and no map
    assert (similar.status_code, again.status_code) == (200, 200)
    assert similar.json()["similar"] == again.json()["similar"] == []
    assert points.status_code == 200 and points.json()["ready"] is False
    embedding_set.refresh_from_db()
    # a read writes nothing: before, the subject page's GET marked them failed for good
    assert (embedding_set.status, embedding_set.error) == ("ready", "")
    logged = [r.getMessage() for r in caplog.records]
    assert len(logged) == 1 and f"embeddings file missing: {embedding_set.path}" in logged[0]


def test_a_file_back_after_a_brief_miss_is_used_again():
    """A shared mount that missed one lookup: before, that one page view failed the active
    model's embeddings until an admin's Embed again made them anew on the GPU."""
    _, subjects, _, _ = stored_cluster(n=6)
    embedding_set = EmbeddingSet.objects.get()
    path = Path(embedding_set.path)
    url = f"/api/discovery/subjects/{subjects[0].pk}/similar/"
    path.rename(path.with_suffix(".away"))
    missed = Client().get(url)
    path.with_suffix(".away").rename(path)
    back = Client().get(url)

    assert missed.status_code == 200 and missed.json()["similar"] == []
    assert back.status_code == 200 and len(back.json()["similar"]) == 5
    embedding_set.refresh_from_db()
    assert (embedding_set.status, embedding_set.error) == ("ready", "")


@pytest.mark.parametrize("page", ["discovery:home", "discovery:map"])
def test_the_pages_tell_admins_the_file_is_missing_and_how_to_make_it_again(gone, page):
    embedding_set, _ = gone
    html = signed_in(with_role("boss", ADMIN)).get(reverse(page)).content.decode()
    assert 'data-testid="embedding-problem"' in html
    assert f"embeddings file missing: {embedding_set.path}" in html
    assert 'data-testid="embed-again"' in html
    embedding_set.refresh_from_db()
    assert embedding_set.status == "ready"  # told at read time, not written
    for_volunteers = signed_in(volunteer("ann")).get(reverse(page)).content.decode()
    assert embedding_set.path not in for_volunteers and "embed-again" not in for_volunteers
    if page == "discovery:map":
        assert "The map is being updated." in for_volunteers


def test_embed_again_makes_embeddings_whose_file_is_missing(
    gone, monkeypatch, django_capture_on_commit_callbacks
):
    embedding_set, _ = gone
    sent: list[int] = []
    monkeypatch.setattr(discovery_tasks.embed_subjects, "delay", sent.append)
    admin = signed_in(with_role("boss", ADMIN))
    url = reverse("discovery:embed_again", args=[embedding_set.model_version_id])

    # The page that showed the button wrote nothing: the click finds the file missing and
    # fails the embeddings, so they are queued again.
    assert 'data-testid="embed-again"' in admin.get(reverse("discovery:home")).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        answer = admin.post(url, follow=True)

    # before: "The embeddings of test-model are ready: nothing to embed again."
    assert said(answer) == [
        (
            "success",
            f"Embedding job {embedding_set.pk} (test-model) queued on the gpu queue; its map "
            "and clusters follow.",
        )
    ]
    assert sent == [embedding_set.model_version_id]
    embedding_set.refresh_from_db()
    assert (embedding_set.status, embedding_set.error) == ("pending", "")


def test_the_clustering_of_embeddings_whose_file_is_missing_fails_them(gone):
    embedding_set, _ = gone
    assert services.embedding_set_map_queue(set_id=embedding_set.pk)  # its claim: the task's to do
    result = discovery_tasks.cluster_subjects.apply(args=[embedding_set.pk]).get()
    assert result["status"] == "embeddings file missing"
    embedding_set.refresh_from_db()
    assert embedding_set.status == "failed" and "file missing" in embedding_set.error
