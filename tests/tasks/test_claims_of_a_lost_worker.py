"""A worker killed whole (SIGKILL to its process group: a host reboot, a container's OOM kill)
reports nothing: no except block runs, and no main process is left to send task_failure.
The claims with no job row of their own stayed held once it came back, and the pages said
work was in progress for 3 to 9 h: a promote's or roll back's scoring or switch ("Switching
to run-2"), the beat's scoring of new subjects (the next beat: "a scoring job is queued",
the dashboard silent), the owed re-route, the map and clusters ("being made", no Map and
cluster again). Now the task names its worker and beats while it works, as a job row does,
and the worker's restart (worker_ready) or the reaper (its heartbeat stale) end the claim
with the reason the pages show: Promote, the next beat and Map and cluster again work at
once, and the message Redis hands out again later does nothing twice."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
from billiard.exceptions import WorkerLostError
from celery import Task
from celery.signals import task_failure
from django.apps import apps
from django.db import connection, connections, transaction
from django.db.models import Model
from django.utils import timezone
from glitch_data import make_subject

import tasks.common
from tasks import celery as celery_module
from tasks import discovery as discovery_tasks
from tasks import predictions
from tasks.training import fail_lost_jobs, reap_lost_runs
from webapp.discovery.models import ClusterRun, EmbeddingSet
from webapp.labeling.models import Subject
from webapp.modeling import services
from webapp.modeling.models import ModelVersion, Prediction, TrainingRun

pytestmark = pytest.mark.django_db

GPU, DEFAULT = "gpu@rebooted", "default@rebooted"  # the killed workers
OTHER = "gpu@other"  # a worker that lives on


class Killed(BaseException):
    """SIGKILL: not an Exception, so no except block of the task takes it for an error."""


def rows() -> dict[type[Model], dict[Any, dict[str, Any]]]:
    """Every row of the modelling and discovery apps, by model and primary key."""
    return {
        model: {row[model._meta.pk.attname]: row for row in model._default_manager.values()}
        for app in ("modeling", "discovery")
        for model in apps.get_app_config(app).get_models()
    }


def put_back(then: dict[type[Model], dict[Any, dict[str, Any]]]) -> None:
    """The rows as they were (`rows()`): those made, deleted or changed since, undone."""
    for model, old in then.items():
        pk = model._meta.pk.attname
        now = {row[pk]: row for row in model._default_manager.values()}
        model._default_manager.exclude(pk__in=list(old)).delete()
        model._default_manager.bulk_create([model(**r) for k, r in old.items() if k not in now])
        for key, row in old.items():
            if key in now and now[key] != row:
                model._default_manager.filter(pk=key).update(**row)


def on_worker(task: Task, object_id: int, *, worker: str) -> Any:
    """The task's body as `worker` runs it (its hostname is what the task records)."""
    task.push_request(hostname=worker)
    try:
        return task.run(object_id)
    finally:
        task.pop_request()


def killed(task: Task, object_id: int, *, at: str, worker: str) -> None:
    """`task` runs on `worker` until it calls `at`, where the worker is killed whole: the
    database keeps what the task had written by then. (Python still runs the task's finally
    blocks as Killed goes up, which a killed process does not: what they write is undone.)"""
    at_the_kill: dict[str, Any] = {}

    def die(*args: object, **kwargs: object) -> None:
        at_the_kill["rows"] = rows()
        raise Killed

    with pytest.MonkeyPatch.context() as m:
        m.setattr(at, die)
        with pytest.raises(Killed):
            on_worker(task, object_id, worker=worker)
    put_back(at_the_kill["rows"])


class NoThread:
    """tasks.common.Heartbeat of the restarted worker: its own beat is not tested here."""

    def __init__(self, beat: Callable[[], object], every_s: float) -> None:
        pass

    def __enter__(self) -> NoThread:
        return self


def heartbeats_stop(settings: Any) -> None:
    """Time passes with the worker dead: every heartbeat written is older than the limit."""
    long_ago = timezone.now() - timedelta(seconds=settings.GLITCHLAB_HEARTBEAT_TIMEOUT_S + 60)
    for app in ("modeling", "discovery"):
        for model in apps.get_app_config(app).get_models():
            if any(field.name == "heartbeat_at" for field in model._meta.fields):
                model._default_manager.update(heartbeat_at=long_ago)


@pytest.fixture(params=["restart", "reaper"])
def gone(request, monkeypatch, settings) -> Callable[[str], str]:
    """gone(worker): the killed worker starts again (tasks.celery's worker_ready clean-up),
    or it never comes back and the reaper finds the heartbeat stale. Returns the reason the
    pages are to give."""

    def restart(worker: str) -> str:
        monkeypatch.setattr(tasks.common, "Heartbeat", NoThread)
        celery_module._fail_runs_this_worker_lost(sender=SimpleNamespace(hostname=worker))
        return f"worker {worker} restarted while the job was in progress (worker lost)"

    def reaper(worker: str) -> str:
        heartbeats_stop(settings)
        reap_lost_runs.apply().get()
        timeout = settings.GLITCHLAB_HEARTBEAT_TIMEOUT_S
        return f"no heartbeat for {timeout:.0f} s: the worker was lost"

    return {"restart": restart, "reaper": reaper}[request.param]


@pytest.fixture
def sent(tiny_settings, monkeypatch, tmp_path) -> dict[str, list[int]]:
    """A model, an embedder and a UMAP that cost nothing, and the broker's queues as lists."""
    tiny_settings.GLITCHLAB_DISCOVERY_DIR = tmp_path / "discovery"
    model = SimpleNamespace(encoding="rgb-durations", image_size=8, class_names=["Blip", "Whistle"])
    rng = np.random.default_rng(0)
    monkeypatch.setattr("ml.model.load_model", lambda *a, **k: model)
    monkeypatch.setattr(
        "ml.model.predict_and_embed",
        lambda m, images, views=None: (
            np.tile([[0.97, 0.03]], (len(images), 1)),
            rng.normal(size=(len(images), 16)).astype(np.float32),
        ),
    )
    monkeypatch.setattr(
        "ml.embed.embed", lambda m, images, **k: rng.normal(size=(len(images), 8)).astype("f4")
    )
    monkeypatch.setattr("ml.cluster.umap_project", lambda unit, **k: np.zeros((len(unit), 2)))
    queues: dict[str, list[int]] = {"score": [], "switch": [], "embed": [], "map": []}
    for name, task in (
        ("score", predictions.score_subjects),
        ("switch", predictions.activate_and_reroute),
        ("embed", discovery_tasks.embed_subjects),
        ("map", discovery_tasks.cluster_subjects),
    ):
        monkeypatch.setattr(task, "delay", queues[name].append)
    return queues


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """Run `job()` and then what its transaction queued, as a worker or a request does."""

    def run(job: Callable[[], Any]) -> Any:
        with django_capture_on_commit_callbacks(execute=True):
            return job()

    return run


def version(name: str, **fields: Any) -> ModelVersion:
    run = TrainingRun.objects.create(status=TrainingRun.Status.SUCCEEDED, folder=name)
    return ModelVersion.objects.create(
        name=name, training_run=run, gate="passed", model_dir=f"/models/{name}",
        class_names=["Blip", "Whistle"], **fields,
    )  # fmt: skip


def dashboard(client) -> tuple[str, dict[str, Any]]:
    return client.get("/modeling/").content.decode(), client.get("/modeling/status.json").json()


def not_switched(client, name: str, serving: str, why: str) -> None:
    """The dashboard's notice once a switch failed, and no more "Switching to"."""
    page, state = dashboard(client)
    assert 'data-testid="pending"' not in page, "still says it is switching"
    notice = f"Not switched to <b>{name}</b>: {serving} still serves. Why: not switched: {why}"
    assert notice in page
    assert state["failed_switch"]["activation_failure"] == f"not switched: {why}"


def test_a_promote_killed_while_scoring_ends_saying_why_and_can_be_asked_again(
    sent, committed, admin_client, gone
) -> None:
    version("run-1", is_active=True, activated_at=timezone.now())
    candidate = version("run-2")
    make_subject("Blip")
    committed(lambda: admin_client.post(f"/modeling/versions/{candidate.pk}/promote/"))
    assert sent["score"] == [candidate.pk]
    killed(predictions.score_subjects, candidate.pk, at="ml.model.predict_and_embed", worker=GPU)
    assert 'data-testid="pending"' in dashboard(admin_client)[0]  # what the pages said for 9 h

    why = gone(GPU)

    not_switched(admin_client, "run-2", "run-1", why)
    # Redis hands the message out again (its visibility timeout): it scores nothing
    again = on_worker(predictions.score_subjects, candidate.pk, worker=OTHER)
    assert again["status"] == "skipped"
    assert not Prediction.objects.filter(model_version=candidate).exists()
    # Promote works at once: a new request, its scoring queued
    committed(lambda: admin_client.post(f"/modeling/versions/{candidate.pk}/promote/"))
    candidate.refresh_from_db()
    assert candidate.activation_pending and sent["score"] == [candidate.pk, candidate.pk]


def test_a_roll_back_killed_while_switching_ends_saying_why_and_can_be_asked_again(
    sent, committed, admin_client, gone
) -> None:
    target = version("run-1", activated_at=timezone.now() - timedelta(days=1))
    version("run-2", is_active=True, activated_at=timezone.now())
    make_subject("Blip")
    committed(lambda: admin_client.post("/modeling/rollback/", {"version": str(target.pk)}))
    committed(lambda: on_worker(predictions.score_subjects, target.pk, worker=GPU))
    assert sent["switch"] == [target.pk]  # scored; the switch is killed as it starts
    killed(
        predictions.activate_and_reroute,
        target.pk,
        at="webapp.modeling.services.model_version_activate",
        worker=DEFAULT,
    )

    why = gone(DEFAULT)

    not_switched(admin_client, "run-1", "run-2", why)
    again = committed(lambda: on_worker(predictions.activate_and_reroute, target.pk, worker=OTHER))
    assert again["status"] == "superseded"
    assert ModelVersion.objects.get(is_active=True).name == "run-2"
    committed(lambda: admin_client.post("/modeling/rollback/", {"version": str(target.pk)}))
    target.refresh_from_db()
    assert target.activation_pending


def test_the_beats_scoring_killed_is_freed_said_and_queued_by_the_next_beat(
    sent, committed, admin_client, gone
) -> None:
    active = version("run-1", is_active=True, activated_at=timezone.now())
    new = make_subject("Blip")  # imported after the activation: no prediction yet
    assert committed(predictions.score_unscored.run)["queued"]
    killed(predictions.score_subjects, active.pk, at="ml.model.predict_and_embed", worker=GPU)

    why = gone(GPU)

    active.refresh_from_db()
    assert active.scoring_queued_at is None
    page, state = dashboard(admin_client)
    assert state["active_model"]["scoring_error"] == f"scoring failed: {why}"
    assert 'data-testid="scoring-error"' in page and why in page
    beat = committed(predictions.score_unscored.run)
    assert beat["queued"] and sent["score"] == [active.pk, active.pk]  # not "a job is queued"
    committed(lambda: on_worker(predictions.score_subjects, active.pk, worker=OTHER))
    assert Prediction.objects.filter(model_version=active, subject=new).exists()
    assert dashboard(admin_client)[1]["active_model"]["scoring_error"] == ""


def test_a_reroute_killed_is_said_and_queued_again_by_the_beat(
    sent, committed, admin_client, gone
) -> None:
    active = version("run-1", is_active=True, activated_at=timezone.now())
    new = make_subject("Blip")
    committed(predictions.score_unscored.run)
    committed(lambda: on_worker(predictions.score_subjects, active.pk, worker=GPU))
    assert sent["switch"] == [active.pk]  # the re-route owed for the new subject
    killed(
        predictions.activate_and_reroute,
        active.pk,
        at="webapp.modeling.services.model_version_activate",
        worker=DEFAULT,
    )

    why = gone(DEFAULT)

    page, state = dashboard(admin_client)
    assert state["active_model"]["reroute_error"] == f"not re-routed: {why}"
    assert 'data-testid="reroute-error"' in page and why in page
    # queued again by the beat an hour after it failed, as any failed re-route
    an_hour_ago = timezone.now() - timedelta(seconds=services.REROUTE_RETRY_AFTER_S + 1)
    ModelVersion.objects.filter(pk=active.pk).update(reroute_queued_at=an_hour_ago)
    committed(predictions.score_unscored.run)
    assert sent["switch"] == [active.pk, active.pk]
    committed(lambda: on_worker(predictions.activate_and_reroute, active.pk, worker=OTHER))
    assert Subject.objects.get(pk=new.pk).priority > 0
    assert dashboard(admin_client)[1]["active_model"]["reroute_error"] == ""


def test_a_clustering_killed_frees_its_claim_and_the_page_offers_it_again(
    sent, committed, admin_client, gone
) -> None:
    active = version("run-1", is_active=True, activated_at=timezone.now())
    for label in ("Blip", "Whistle", "Blip", "Whistle"):
        make_subject(label)
    committed(lambda: on_worker(discovery_tasks.embed_subjects, active.pk, worker=GPU))
    embeddings = EmbeddingSet.objects.get(model_version=active)
    assert sent["map"] == [embeddings.pk]
    mid_umap = "ml.cluster.umap_project"
    killed(discovery_tasks.cluster_subjects, embeddings.pk, at=mid_umap, worker=DEFAULT)

    why = gone(DEFAULT)

    embeddings.refresh_from_db()
    assert embeddings.map_queued_at is None
    assert embeddings.error == f"the job failed: {why}"
    page = admin_client.get("/discovery/").content.decode()
    assert 'data-testid="map-making"' not in page
    assert f'<samp data-testid="map-error">the job failed: {why}</samp>' in page
    assert 'data-testid="map-again"' in page
    # delivered again hours later: the claim it was queued for is gone, so no second map
    again = on_worker(discovery_tasks.cluster_subjects, embeddings.pk, worker=OTHER)
    assert again["status"] == "not queued" and not ClusterRun.objects.exists()
    committed(lambda: admin_client.post(f"/discovery/embeddings/{embeddings.pk}/map/"))
    assert sent["map"] == [embeddings.pk, embeddings.pk]


def test_one_scoring_at_a_time_and_its_holder_goes_with_it_however_it_ends(
    sent, committed, admin_client, monkeypatch, settings
) -> None:
    """A scoring that still beats is left alone by another worker's restart and by the
    reaper, and a second delivery meanwhile does nothing. Its child killed under a live
    main process (task_failure) ends the request, and takes its holder with it: a request
    made since is not ended by the reaper when that holder's heartbeat goes stale."""
    version("run-1", is_active=True, activated_at=timezone.now())
    candidate = version("run-2")
    make_subject("Blip")
    committed(lambda: admin_client.post(f"/modeling/versions/{candidate.pk}/promote/"))
    killed(predictions.score_subjects, candidate.pk, at="ml.model.predict_and_embed", worker=GPU)
    # GPU's main process lives on, its child is still scoring (the kill is not yet seen)

    assert on_worker(predictions.score_subjects, candidate.pk, worker=OTHER)["status"] == "skipped"
    monkeypatch.setattr(tasks.common, "Heartbeat", NoThread)
    celery_module._fail_runs_this_worker_lost(sender=SimpleNamespace(hostname=OTHER))
    reap_lost_runs.apply().get()
    candidate.refresh_from_db()
    assert candidate.activation_pending  # still GPU's, and it beats

    task_failure.send(
        sender=predictions.score_subjects,
        task_id="t",
        args=(candidate.pk,),
        exception=WorkerLostError("Worker exited prematurely: signal 9 (SIGKILL)."),
    )
    lost = "worker lost: WorkerLostError: Worker exited prematurely: signal 9 (SIGKILL)."
    not_switched(admin_client, "run-2", "run-1", lost)
    committed(lambda: admin_client.post(f"/modeling/versions/{candidate.pk}/promote/"))
    heartbeats_stop(settings)
    reap_lost_runs.apply().get()
    candidate.refresh_from_db()
    assert candidate.activation_pending and candidate.activation_error == ""
    committed(lambda: on_worker(predictions.score_subjects, candidate.pk, worker=OTHER))
    committed(lambda: on_worker(predictions.activate_and_reroute, candidate.pk, worker=OTHER))
    assert ModelVersion.objects.get(is_active=True) == candidate


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="needs row locks: run with DATABASE_URL=postgres"
)
def test_a_restarted_worker_does_not_wait_for_the_row_its_dead_switch_still_locks(seeded):
    """Killed while its switch waited for a lock (a vote's), the worker left a transaction
    that PostgreSQL ends only once that wait is over: it holds the version's row. The
    restarted worker waited for it in its start-up, taking no job, with the claim's holder
    already gone. Now the claim is left as it is, and the reaper ends it once the lock is."""
    candidate = ModelVersion.objects.create(name="run-2", activation_pending=True)
    services.claim_hold(kind="switch", object_id=candidate.pk, worker=DEFAULT)
    restarted = threading.Event()

    def restart() -> None:
        try:
            fail_lost_jobs(worker=DEFAULT)
            restarted.set()
        finally:
            connections.close_all()

    worker = threading.Thread(target=restart)
    with transaction.atomic():  # the dead switch's transaction, which holds the version's row
        ModelVersion.objects.select_for_update().get(pk=candidate.pk)
        worker.start()
        started_up = restarted.wait(5)
    worker.join(30)
    assert started_up, "the restarted worker waited for the dead switch's lock"
    candidate.refresh_from_db()
    assert candidate.activation_pending  # left for the reaper, holder and all

    heartbeats_stop(seeded)
    assert reap_lost_runs.apply().get()["switches_failed"] == 1
    candidate.refresh_from_db()
    assert not candidate.activation_pending
    assert candidate.activation_error == (
        f"not switched: no heartbeat for {seeded.GLITCHLAB_HEARTBEAT_TIMEOUT_S:.0f} s: "
        "the worker was lost"
    )
