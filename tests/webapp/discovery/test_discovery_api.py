"""The discovery API: similar glitches, the map, batches; who may call what."""

import pytest
from discovery_factories import stored_cluster, volunteer
from rest_framework.test import APIClient

from webapp.labeling.models import Classification

pytestmark = pytest.mark.django_db


def client_of(user=None):
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def test_similar_glitches_are_the_nearest_by_embedding_gold_and_pool_alike():
    # Gold is a neighbour like any other (issue #14: leaving it out told it apart).
    _, subjects, golds, vectors = stored_cluster(n=6, gold=2)
    body = client_of().get(f"/api/discovery/subjects/{subjects[0].pk}/similar/?k=10").json()
    found = [s["subject_id"] for s in body["similar"]]
    assert subjects[0].pk not in found
    assert {g.pk for g in golds} <= set(found)
    assert len(found) == 7
    sims = [s["similarity"] for s in body["similar"]]
    assert sims == sorted(sims, reverse=True)


def test_similar_is_an_empty_list_with_its_reason_without_embeddings_and_404_for_no_glitch():
    """Its page asks on every visit: before, the 404 for a glitch not embedded yet was an
    error in the browser's console (and then the page did the embeddings work itself)."""
    from webapp_factories import SubjectFactory

    subject = SubjectFactory()
    answer = client_of().get(f"/api/discovery/subjects/{subject.pk}/similar/")
    assert answer.status_code == 200
    assert answer.json() == {
        "subject": subject.pk,
        "similar": [],
        "reason": "no embeddings for this glitch yet",
    }
    stored_cluster(n=3)  # embeddings now, but not of this glitch
    assert client_of().get(f"/api/discovery/subjects/{subject.pk}/similar/").json() == answer.json()
    missing = client_of().get(f"/api/discovery/subjects/{subject.pk + 100}/similar/")
    assert missing.status_code == 404 and missing.json() == {"detail": "no such glitch"}


def test_the_map_needs_a_login():
    stored_cluster()
    assert client_of().get("/api/discovery/map/").status_code in (401, 403)
    body = client_of(volunteer("ann", level=1)).get("/api/discovery/map/").json()
    assert body["ready"] is False  # embeddings stored, map not computed yet


def test_batches_are_for_volunteers_from_the_discovery_level(cluster):
    _, subjects = cluster
    ids = [s.pk for s in subjects]
    assert client_of().post("/api/discovery/batches/", {"subject_ids": ids}).status_code in (
        401,
        403,
    )
    low = client_of(volunteer("newbie", level=1))
    assert (
        low.post("/api/discovery/batches/", {"subject_ids": ids}, format="json").status_code == 403
    )
    assert low.get("/api/discovery/batches/next/").status_code == 403


def test_lasso_batch_then_submit_over_the_api(cluster):
    _, subjects = cluster
    vol = volunteer("ann")
    api = client_of(vol)
    ids = [s.pk for s in subjects]
    made = api.post("/api/discovery/batches/", {"subject_ids": ids}, format="json")
    assert made.status_code == 201
    batch = made.json()
    url = f"/api/discovery/batches/{batch['id']}/submit/"
    body = {"selected": ids[:4], "class_name": "None_of_the_Above"}
    first = api.post(url, body, format="json").json()
    second = api.post(url, body, format="json").json()
    assert first["voted"] == 4 and second == first
    assert Classification.objects.filter(volunteer=vol).count() == 4
    other = client_of(volunteer("bob"))
    assert other.post(url, body, format="json").status_code == 400  # not their batch


def test_submit_needs_exactly_one_label(cluster):
    _, subjects = cluster
    api = client_of(volunteer("ann"))
    batch = api.get("/api/discovery/batches/next/").json()
    url = f"/api/discovery/batches/{batch['id']}/submit/"
    both = {"selected": [subjects[0].pk], "class_name": "Blip", "new_name": "Foo_Bar"}
    assert api.post(url, both, format="json").status_code == 400


def test_out_of_range_ids_are_refused_not_server_errors(cluster):
    huge = 2**70
    api = client_of(volunteer("ann"))
    assert client_of().get(f"/api/discovery/subjects/{huge}/similar/").status_code == 404
    made = api.post("/api/discovery/batches/", {"subject_ids": [huge]}, format="json")
    assert made.status_code == 400
    assert "subject_ids" in made.json()
    body = {"selected": [huge], "class_name": "Blip"}
    submit = api.post(f"/api/discovery/batches/{huge}/submit/", body, format="json")
    assert submit.status_code == 400
    body = {"selected": [1], "class_name": "Blip"}
    submit = api.post(f"/api/discovery/batches/{huge}/submit/", body, format="json")
    assert submit.status_code == 400  # no such batch


def test_similar_refuses_a_k_that_is_not_a_number():
    _, subjects, _, _ = stored_cluster(n=6)
    url = f"/api/discovery/subjects/{subjects[0].pk}/similar/"
    refused = client_of().get(url + "?k=many")
    assert refused.status_code == 400
    assert "k" in refused.json()
    assert len(client_of().get(url + "?k=2").json()["similar"]) == 2
