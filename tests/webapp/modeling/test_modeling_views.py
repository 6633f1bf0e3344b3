"""The admin dashboard: admin-only, POST + CSRF buttons, a JSON status for the live bar."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from page_messages import said
from webapp_factories import UserFactory

from webapp.accounts.roles import ADMIN
from webapp.modeling import services
from webapp.modeling.models import ModelVersion, TrainingRun, WorkerBeat

pytestmark = pytest.mark.django_db


def admin_client(csrf_checks: bool = False) -> Client:
    user = UserFactory(username="boss")
    user.groups.add(Group.objects.get_or_create(name=ADMIN)[0])
    client = Client(enforce_csrf_checks=csrf_checks)
    client.force_login(user)
    return client


def test_only_admins_see_the_dashboard(client):
    url = reverse("modeling:dashboard")
    assert client.get(url).status_code == 302  # to the login page
    client.force_login(UserFactory())
    assert client.get(url).status_code == 403
    assert client.post(reverse("modeling:retrain")).status_code == 403
    assert not TrainingRun.objects.exists()
    assert admin_client().get(url).status_code == 200


def test_retrain_now_queues_one_run_and_a_second_click_is_told_why_not(
    django_capture_on_commit_callbacks,
):
    client = admin_client()
    with django_capture_on_commit_callbacks() as sent:
        page = client.post(reverse("modeling:retrain"), follow=True)
    assert len(sent) == 1 and "queued" in page.content.decode()
    page = client.post(reverse("modeling:retrain"), follow=True)
    run = TrainingRun.objects.get()
    assert said(page) == [
        ("info", f"Not started: run {run.pk} is queued. Wait for it to finish or cancel it first.")
    ]


def test_buttons_need_the_csrf_token():
    client = admin_client(csrf_checks=True)
    assert client.post(reverse("modeling:retrain")).status_code == 403
    assert not TrainingRun.objects.exists()


def test_the_status_json_carries_progress_and_the_workers_that_beat():
    TrainingRun.objects.create(
        status=TrainingRun.Status.RUNNING, progress={"phase": "train", "fraction": 0.4}
    )
    services.worker_beat(hostname="gpu@box", queues=["gpu"], takes_gpu_jobs=True)
    services.worker_beat(hostname="default@box", queues=["default"], takes_gpu_jobs=False)
    state = admin_client().get(reverse("modeling:status")).json()
    assert state["live_run"]["progress"]["fraction"] == 0.4
    assert state["workers"] == {"gpu@box": ["gpu"], "default@box": ["default"]}
    assert state["gpu_worker_alive"] is True and state["gpu_workers"] == ["gpu@box"]


def test_a_worker_that_stopped_beating_is_not_shown_alive(settings):
    services.worker_beat(hostname="gpu@gone", queues=["gpu"], takes_gpu_jobs=True)
    long_ago = timezone.now() - timedelta(seconds=3 * settings.GLITCHLAB_HEARTBEAT_EVERY_S + 1)
    WorkerBeat.objects.update(seen_at=long_ago)
    state = admin_client().get(reverse("modeling:status")).json()
    assert state["gpu_worker_alive"] is False and state["workers"] == {}
    assert "none seen" in admin_client().get(reverse("modeling:dashboard")).content.decode()


def test_history_shows_metrics_and_the_difference_to_the_active_model():
    ModelVersion.objects.create(name="old", is_active=True, val_top1=0.90, metrics={"top1": 0.9})
    run = TrainingRun.objects.create(status=TrainingRun.Status.SUCCEEDED)
    ModelVersion.objects.create(
        name="new", training_run=run, val_top1=0.93, metrics={"top1": 0.93, "top5": 1.0}
    )
    state = admin_client().get(reverse("modeling:status")).json()
    assert state["runs"][0]["version"]["delta_top1_vs_active"] == pytest.approx(0.03)
    page = admin_client().get(reverse("modeling:dashboard")).content.decode()
    assert "0.0300" in page and "Promote" in page


def test_promote_and_rollback_ask_for_the_switch(django_capture_on_commit_callbacks):
    old = ModelVersion.objects.create(name="old", is_active=True)
    new = ModelVersion.objects.create(name="new")
    client = admin_client()
    with django_capture_on_commit_callbacks() as sent:
        client.post(reverse("modeling:promote", args=[new.pk]))
    new.refresh_from_db()
    old.refresh_from_db()
    assert new.activation_pending and old.is_active and len(sent) == 1
    page = client.post(reverse("modeling:rollback"), follow=True).content.decode()
    assert "No earlier model" in page


def test_rollback_switches_only_to_the_model_the_page_named(django_capture_on_commit_callbacks):
    """The form named no model, so the server took whatever was the target when the POST
    came: after one rollback that is the model just left, and a second click (or a second
    tab, or a confirm left open) switched straight back to it."""
    old = ModelVersion.objects.create(name="old", activated_at=timezone.now() - timedelta(days=2))
    ModelVersion.objects.create(name="new", is_active=True, activated_at=timezone.now())
    client = admin_client()
    page = client.get(reverse("modeling:dashboard")).content.decode()
    assert f'name="version" value="{old.pk}"' in page
    with django_capture_on_commit_callbacks() as sent:
        stale = client.post(reverse("modeling:rollback"), {"version": old.pk + 1}, follow=True)
        missing = client.post(reverse("modeling:rollback"), follow=True)
    assert sent == [] and "Not rolled back: the model to roll back to is now old" in (
        stale.content.decode()
    )
    assert "Not rolled back" in missing.content.decode()
    with django_capture_on_commit_callbacks() as sent:
        done = client.post(reverse("modeling:rollback"), {"version": old.pk}, follow=True)
    assert len(sent) == 1 and "Rolling back to old" in done.content.decode()


def test_promoting_twice_queues_one_scoring_job(django_capture_on_commit_callbacks):
    """A double click on Promote (or a second admin) must not score the backlog twice."""
    ModelVersion.objects.create(name="old", is_active=True)
    new = ModelVersion.objects.create(name="new")
    client = admin_client()
    with django_capture_on_commit_callbacks() as sent:
        client.post(reverse("modeling:promote", args=[new.pk]))
        page = client.post(reverse("modeling:promote", args=[new.pk]), follow=True)
        services.model_version_request_activation(version_id=new.pk)  # past the view's check
    assert len(sent) == 1
    assert "Already switching to new" in page.content.decode()
    new.refresh_from_db()
    assert new.activation_pending
    # Minutes later the same request is a retry (its scoring job may have died): queued.
    ModelVersion.objects.filter(pk=new.pk).update(
        activation_requested_at=timezone.now() - timedelta(minutes=5)
    )
    with django_capture_on_commit_callbacks() as sent:
        page = client.post(reverse("modeling:promote", args=[new.pk]), follow=True)
    assert len(sent) == 1 and "Switching to new" in page.content.decode()


def test_cancel_from_the_dashboard_and_a_second_click_is_told_it_is_done():
    run = TrainingRun.objects.create(status=TrainingRun.Status.QUEUED)
    client = admin_client()
    first = client.post(reverse("modeling:cancel", args=[run.pk]), follow=True)
    assert said(first) == [("success", f"Run {run.pk} cancelled.")]
    run.refresh_from_db()
    assert run.status == TrainingRun.Status.CANCELLED
    second = client.post(reverse("modeling:cancel", args=[run.pk]), follow=True)
    assert said(second) == [
        ("info", f"Training run {run.pk} had already ended (cancelled): nothing to cancel.")
    ]


def test_retry_a_failed_run_from_the_dashboard_once(django_capture_on_commit_callbacks):
    """A double click queues the run once; the second is told why not."""
    run = TrainingRun.objects.create(status=TrainingRun.Status.FAILED, error="worker lost")
    client = admin_client()
    page = client.get(reverse("modeling:dashboard")).content.decode()
    assert f'data-testid="retry-{run.pk}"' in page
    with django_capture_on_commit_callbacks(execute=False) as sent:
        first = client.post(reverse("modeling:retry", args=[run.pk]), follow=True)
        second = client.post(reverse("modeling:retry", args=[run.pk]), follow=True)
    assert len(sent) == 1
    assert said(first)[0][0] == "success" and f"run {run.pk} queued again" in said(first)[0][1]
    assert said(second) == [("info", f"Training run {run.pk} is already queued: nothing to retry.")]
    run.refresh_from_db()
    assert run.status == TrainingRun.Status.QUEUED
    run.status = TrainingRun.Status.SUCCEEDED
    run.save()
    done = client.post(reverse("modeling:retry", args=[run.pk]), follow=True)
    assert said(done) == [  # refused
        ("error", f"Training run {run.pk} succeeded: only a failed run can be retried.")
    ]
    assert client.post(reverse("modeling:retry", args=[run.pk + 100])).status_code == 404


def test_the_confusion_matrix_picture_is_served(tmp_path):
    (tmp_path / "confusion.png").write_bytes(b"\x89PNG fake")
    version = ModelVersion.objects.create(name="v", model_dir=str(tmp_path))
    response = admin_client().get(reverse("modeling:confusion", args=[version.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "image/png"


def test_the_dashboard_counts_new_labels_as_the_retrain_check_does(settings):
    """Before: it counted labels since the active model while the check counts since the
    newest (a candidate not promoted trained on them): it showed 2 where the check saw 0."""
    from webapp_factories import SubjectFactory, glitch_class

    settings.GLITCHLAB_RETRAIN_MIN_NEW_LABELS = 2
    active = ModelVersion.objects.create(name="active", is_active=True)
    ModelVersion.objects.filter(pk=active.pk).update(created_at=timezone.now() - timedelta(days=3))
    for _ in range(2):
        SubjectFactory(
            status="retired",
            retired_label=glitch_class("Blip"),
            retired_at=timezone.now() - timedelta(days=2),
        )
    candidate = ModelVersion.objects.create(name="not-promoted", gate=ModelVersion.Gate.UNDECIDED)
    ModelVersion.objects.filter(pk=candidate.pk).update(
        created_at=timezone.now() - timedelta(days=1)
    )
    page = admin_client().get(reverse("modeling:dashboard")).content.decode()
    assert "No training running. 0 subjects retired since the newest model" in page
    assert "starts a run at 2" in page
