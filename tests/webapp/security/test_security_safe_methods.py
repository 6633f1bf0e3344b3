"""GET changes nothing: a link, an <img src> on another site, a prefetching browser or a
crawler must not vote, cancel, promote or moderate.

The test walks the whole URL configuration (a route added later is checked too), with real
ids for every kind of row, as each role, and compares every table before and after each
GET. The few GETs that hand out work (GET_HANDS_OUT) may write, but only once: a second
GET changes nothing more. Each walk is made twice: with the embeddings' file on disk, and
with it missing (a pruned folder, a shared mount that missed one lookup), which a page only
skips.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.test import Client
from test_security_roles import _concrete, _routes, _user
from webapp_factories import SubjectFactory, gold_subject

from webapp.accounts.roles import ADMIN, REVIEWER, VOLUNTEER
from webapp.discovery import services as discovery
from webapp.discovery.models import ClassProposal, EmbeddingSet
from webapp.modeling.models import ModelVersion, TrainingRun
from webapp.review.models import AuditRun, Suspect
from webapp.talk import services as talk

pytestmark = pytest.mark.django_db

# GETs that may write: each hands its caller the next piece of work and keeps it open, so
# that a reload shows the same one. Adding a route here is a security decision.
GET_HANDS_OUT = {
    "discovery/sheet/": "opens the volunteer's batch: the next cluster, kept until submitted",
    "api/discovery/batches/next/": "the same batch, for the API",
    "api/subjects/next/": "the next glitch; a gold one is the volunteer's gold until answered",
}
# Files that the rows above do not have (a model's confusion.png, a media path "x"): 404.
FILES = ["modeling/versions/<int:version_id>/confusion.png", "media/<path:path>"]
# Bookkeeping that is not the data a request could change on a user's behalf.
NOT_COMPARED = {"sessions.session", "axes.accessattempt", "axes.accesslog", "axes.accessfailurelog"}


def _snapshot() -> dict[str, list[dict[str, Any]]]:
    """Every row of every table (users without last_login, which a login sets)."""
    tables = {}
    for model in apps.get_models():
        if model._meta.label_lower in NOT_COMPARED:
            continue
        rows = list(model.objects.order_by("pk").values())
        if model is get_user_model():
            rows = [{k: v for k, v in row.items() if k != "last_login"} for row in rows]
        tables[model._meta.label_lower] = rows
    return tables


def _changed(before: dict, after: dict) -> list[str]:
    return sorted(name for name in before if before[name] != after[name])


@pytest.fixture
def ids(settings, tmp_path) -> dict[str, int]:
    """A row of every kind a route takes an id of, each in a state a POST could change."""
    settings.GLITCHLAB_DISCOVERY_DIR = tmp_path / "discovery"
    settings.GLITCHLAB_DISCOVERY_MIN_LEVEL = 1
    settings.GLITCHLAB_BATCH_MIN = 2
    subjects = [SubjectFactory(images=(1.0,)) for _ in range(4)]
    gold_subject("Blip")
    version = ModelVersion.objects.create(name="v-safe", is_active=True)
    other = ModelVersion.objects.create(name="v-other")
    embedding_set = discovery.embedding_set_claim(version_id=version.pk)
    vectors = np.random.default_rng(0).normal(size=(4, 8)).astype(np.float32)
    discovery.embedding_set_store(
        set_id=embedding_set.pk, ids=[s.pk for s in subjects], embeddings=vectors
    )
    discovery.cluster_run_store(
        set_id=embedding_set.pk,
        subject_ids=[s.pk for s in subjects],
        labels=[0] * 4,
        embeddings=vectors,
        params={},
    )
    pending = EmbeddingSet.objects.create(model_version=other)  # a job to cancel
    author = _user(VOLUNTEER)
    comment = talk.comment_create(
        author=author, subject_id=subjects[0].pk, text="#oddone seen twice"
    )
    proposal = ClassProposal.objects.create(name="Odd_One", proposed_by=author)
    audit = AuditRun.objects.create()
    suspect = Suspect.objects.create(
        run=audit,
        subject=subjects[1],
        rank=0,
        given_label="Blip",
        suggested_label="Whistle",
        score=0.9,
        self_confidence=0.1,
    )
    batch = discovery.batch_from_cluster(volunteer=author)
    assert batch is not None
    return {
        "subject_id": subjects[0].pk,
        "version_id": version.pk,
        "run_id": TrainingRun.objects.create().pk,
        "set_id": pending.pk,
        "comment_id": comment.pk,
        "proposal_id": proposal.pk,
        "suspect_id": suspect.pk,
        "batch_id": batch.pk,
        "audit_id": audit.pk,
        "name": "oddone",
    }


def _ids_for(route: str, ids: dict) -> dict:
    """The ids of this route's own rows (a run id names an audit under review/audit/), and
    an action its view knows (a POST would act on it)."""
    action = "accept" if route.startswith("discovery/proposals/") else "hide"
    run_id = ids["audit_id"] if route.startswith("review/audit/") else ids["run_id"]
    return ids | {"action": action, "run_id": run_id}


def _get(client: Client, url: str) -> int:
    """GET url and read a streamed body to its end (as a browser would: an unread export
    keeps its slot, and the next export would be refused for that, not for its GET)."""
    response = client.get(url)
    if response.streaming:
        b"".join(response.streaming_content)
    return response.status_code


@pytest.mark.parametrize("npz", ["on disk", "missing"])
@pytest.mark.parametrize("role", [None, VOLUNTEER, REVIEWER, ADMIN])
def test_no_get_changes_the_database(ids, role, npz):
    """npz missing: before, the first GET that looked for the embeddings (a subject page's
    similar glitches, anonymous too) marked them failed, for good until an admin's Embed
    again made them anew on the GPU."""
    if npz == "missing":
        Path(EmbeddingSet.objects.get(status=EmbeddingSet.Status.READY).path).unlink()
    client = Client()
    if role:
        client.force_login(_user(role))
    status: dict[str, int] = {}
    handed_out = []
    for route in _routes():
        url = _concrete(route, _ids_for(route, ids))
        if url is None or route.startswith("admin/"):
            continue
        before = _snapshot()
        status[route] = _get(client, url)
        if route in GET_HANDS_OUT:
            once = _snapshot()
            handed_out += _changed(before, once)
            _get(client, url)
            assert _changed(once, _snapshot()) == [], f"{role} GET {url} twice"
        else:
            assert _changed(before, _snapshot()) == [], f"{role} GET {url}"
    assert 500 not in status.values() and 429 not in status.values(), status
    # a batch was handed out: the write GET_HANDS_OUT allows (none without the file: no
    # current embeddings, so no clusters)
    if role == VOLUNTEER and npz == "on disk":
        assert "discovery.batch" in handed_out
    if role == ADMIN:  # every id was real: nothing the admin may see was missing
        missing = [route for route, code in status.items() if code == 404]
        assert missing == [*FILES], status
        assert status["api/exports/labels.csv"] == status["api/exports/labels.json"] == 200
        assert status["api/exports/votes.csv"] == 200
    assert len(status) > 40 and "talk/comments/<int:comment_id>/<str:action>/" in status
    # Delete's question without JavaScript is a GET page (post/redirect/get): it only asks
    assert "talk/comments/<int:comment_id>/confirm-delete/" in status
    if role == ADMIN:
        assert status["talk/comments/<int:comment_id>/confirm-delete/"] == 200
