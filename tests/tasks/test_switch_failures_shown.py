"""A promote or roll back that fails after the click is shown on the models dashboard (and
in its status JSON), escaped, until a later switch succeeds. Before, the page said
"Rolling back to run-1." and then nothing: the "Switching to" notice just disappeared, and
the reason sat in ModelVersion.activation_error, which no page rendered."""

from __future__ import annotations

from datetime import timedelta
from html import escape
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
from billiard.exceptions import WorkerLostError
from celery.signals import task_failure
from django.utils import timezone
from glitch_data import make_subject

from tasks import predictions
from webapp.modeling import services
from webapp.modeling.models import ModelVersion, TrainingRun

pytestmark = pytest.mark.django_db


def version(name: str, **fields: Any) -> ModelVersion:
    """A version from a training run of its own, so the run history lists it."""
    run = TrainingRun.objects.create(status=TrainingRun.Status.SUCCEEDED, folder=name)
    return ModelVersion.objects.create(
        name=name, training_run=run, gate="passed", class_names=["Blip", "Whistle"], **fields
    )


def dashboard(client) -> tuple[str, dict[str, Any]]:
    return client.get("/modeling/").content.decode(), client.get("/modeling/status.json").json()


def history_row(state: dict[str, Any], name: str) -> dict[str, Any]:
    return next(r["version"] for r in state["runs"] if r["version"]["name"] == name)


@pytest.fixture
def eager(eager_celery, monkeypatch):
    """Tasks run in the request, as in the repro; their errors stay in them (a worker's)."""
    monkeypatch.setattr(eager_celery.conf, "task_eager_propagates", False)
    monkeypatch.setattr("tasks.discovery.embed_subjects.delay", lambda *a: None)
    return eager_celery


def test_a_roll_back_whose_model_folder_was_removed_says_why_until_one_succeeds(
    tiny_settings, eager, monkeypatch, admin_client, tmp_path, django_capture_on_commit_callbacks
) -> None:
    """docs/deploy.md lets admins remove run folders; the roll-back target's was. Its folder
    name holds markup, as a path may: the page must show it as text."""
    make_subject("Blip")
    gone = tmp_path / "<i>run-1</i>&co"
    version("run-1", model_dir=str(gone), activated_at=timezone.now() - timedelta(days=2))
    version("run-2", model_dir=str(tmp_path / "run-2"), is_active=True, activated_at=timezone.now())
    target = ModelVersion.objects.get(name="run-1")

    with django_capture_on_commit_callbacks(execute=True):
        clicked = admin_client.post("/modeling/rollback/", {"version": str(target.pk)}, follow=True)
    assert "Rolling back to run-1." in clicked.content.decode()  # the scoring fails after it
    target.refresh_from_db()
    assert not target.activation_pending and "no model at" in target.activation_error

    page, state = dashboard(admin_client)
    assert "Switching to" not in page
    assert 'data-testid="activation-failure"' in page
    assert escape(target.activation_error) in page  # the reason, as text
    assert "<i>run-1</i>" not in page
    assert state["failed_switch"]["name"] == "run-1"
    assert state["failed_switch"]["activation_failure"] == target.activation_error
    assert history_row(state, "run-1")["activation_failure"] == target.activation_error

    # the folder is back (here: a model that loads): the next roll back works, and says so
    model = SimpleNamespace(encoding="rgb-durations", image_size=8, class_names=["Blip", "Whistle"])
    monkeypatch.setattr("ml.model.load_model", lambda *a, **k: model)
    monkeypatch.setattr(
        "ml.model.predict_and_embed",
        lambda model, images, views=None: (
            np.tile([[0.97, 0.03]], (len(images), 1)),
            np.ones((len(images), 16), dtype=np.float32),
        ),
    )
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post("/modeling/rollback/", {"version": str(target.pk)})
    target.refresh_from_db()
    assert target.is_active
    page, state = dashboard(admin_client)
    assert 'data-testid="activation-failure' not in page and "no model at" not in page
    assert state["failed_switch"] is None
    assert history_row(state, "run-1")["activation_failure"] == ""


def expired(candidate: ModelVersion) -> None:
    ModelVersion.objects.filter(pk=candidate.pk).update(
        activation_requested_at=timezone.now() - timedelta(hours=10)
    )
    assert services.model_version_activations_expire(older_than_s=9 * 3600) == 1


def worker_lost(candidate: ModelVersion) -> None:
    task_failure.send(
        sender=predictions.score_subjects,
        task_id="t",
        args=(candidate.pk,),
        exception=WorkerLostError("Worker exited prematurely: signal 9 (SIGKILL)."),
    )


def broker_refused(candidate: ModelVersion) -> None:
    services.model_version_switch_failed(
        version_id=candidate.pk, reason="the task broker (Redis) did not answer: Error 111"
    )


@pytest.mark.parametrize(
    ("fail", "why"),
    [
        (expired, "its scoring did not finish within 9.0 h"),
        (worker_lost, "not switched: worker lost: WorkerLostError"),
        (broker_refused, "not switched: the task broker (Redis) did not answer"),
    ],
)
def test_a_promote_that_fails_after_the_click_says_why(
    admin_client, django_capture_on_commit_callbacks, monkeypatch, fail, why
) -> None:
    monkeypatch.setattr(predictions.score_subjects, "delay", lambda *a: None)
    active = version("run-1", is_active=True, activated_at=timezone.now())
    candidate = version("run-2")
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(f"/modeling/versions/{candidate.pk}/promote/")
    assert 'data-testid="pending"' in dashboard(admin_client)[0]

    fail(candidate)

    page, state = dashboard(admin_client)
    assert 'data-testid="pending"' not in page
    assert f"Not switched to <b>run-2</b>: {active.name} still serves" in page
    assert why in page and why in state["failed_switch"]["activation_failure"]
    assert why in history_row(state, "run-2")["activation_failure"]
    assert f'data-testid="activation-failure-{candidate.pk}"' in page


def test_a_request_superseded_by_another_admins_is_shown_in_the_history(
    admin_client, django_capture_on_commit_callbacks, monkeypatch
) -> None:
    monkeypatch.setattr(predictions.score_subjects, "delay", lambda *a: None)
    version("run-1", is_active=True, activated_at=timezone.now())
    mine, theirs = version("run-2"), version("run-3")
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(f"/modeling/versions/{mine.pk}/promote/")
        services.model_version_request_activation(version_id=theirs.pk)

    page, state = dashboard(admin_client)
    assert f'data-testid="activation-failure-{mine.pk}"' in page
    assert "superseded by the request for run-3" in page
    assert "Switching to <b>run-3</b>" in page  # the last request, pending: no failure notice
    assert 'data-testid="activation-failure"' not in page and state["failed_switch"] is None
    superseded = history_row(state, "run-2")["activation_failure"]
    assert superseded == "superseded by the request for run-3"

    with django_capture_on_commit_callbacks(execute=True):  # run-3's switch succeeds
        predictions.activate_and_reroute.run(theirs.pk)
    page, state = dashboard(admin_client)
    assert "superseded" not in page and history_row(state, "run-2")["activation_failure"] == ""
