"""Redis down: a retrain or an audit fails at once with the reason, frees its slot for the next
request, and the admin dashboard never waits on the broker."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse
from webapp_factories import UserFactory

from tasks.celery import app
from webapp.accounts.roles import ADMIN
from webapp.modeling.models import TrainingRun
from webapp.review.models import AuditRun

# transaction=True: the job is enqueued on commit, as in production, while the request runs.
pytestmark = pytest.mark.django_db(transaction=True)

CLOSED_PORT = "redis://127.0.0.1:1/0"  # nothing listens: every connection is refused
GENEROUS_S = 5.0  # the bound measured is ~0.1 s; Celery's defaults took 19 s


def _reset_connections() -> None:
    app.close()
    app.amqp._producer_pool = None
    app._backend_cache = None
    vars(app._local).pop("backend", None)


@pytest.fixture
def broker_down() -> Iterator[None]:
    old = (app.conf.broker_url, app.conf.result_backend, app.conf.task_always_eager)
    app.conf.broker_url = app.conf.result_backend = CLOSED_PORT
    app.conf.task_always_eager = False
    _reset_connections()
    yield
    app.conf.broker_url, app.conf.result_backend, app.conf.task_always_eager = old
    _reset_connections()


def admin_client() -> Client:
    user = UserFactory(username="boss")
    user.groups.add(Group.objects.get_or_create(name=ADMIN)[0])
    client = Client()
    client.force_login(user)
    return client


def timed_post(client: Client, url: str) -> tuple[str, float]:
    start = time.monotonic()
    page = client.post(url, follow=True)
    elapsed = time.monotonic() - start
    assert page.status_code == 200
    return page.content.decode(), elapsed


def test_retrain_with_redis_down_fails_at_once_and_the_next_click_is_not_refused(broker_down):
    client = admin_client()
    page, elapsed = timed_post(client, reverse("modeling:retrain"))
    assert elapsed < GENEROUS_S
    assert "could not start: the task broker (Redis) did not answer" in page
    assert not TrainingRun.objects.filter(status__in=TrainingRun.LIVE_STATUSES).exists()
    assert "did not answer" in TrainingRun.objects.get().error

    page, _ = timed_post(client, reverse("modeling:retrain"))
    assert "Not started" not in page and "did not answer" in page
    assert TrainingRun.objects.filter(status=TrainingRun.Status.FAILED).count() == 2


def test_audit_with_redis_down_fails_at_once_and_the_next_click_is_not_refused(broker_down):
    client = admin_client()
    page, elapsed = timed_post(client, reverse("review:audit_now"))
    assert elapsed < GENEROUS_S
    assert "could not start: the task broker (Redis) did not answer" in page
    assert not AuditRun.objects.filter(status__in=AuditRun.LIVE_STATUSES).exists()

    page, _ = timed_post(client, reverse("review:audit_now"))
    assert "already queued" not in page and "did not answer" in page
    assert AuditRun.objects.filter(status=AuditRun.Status.FAILED).count() == 2


def test_the_dashboard_renders_without_asking_the_broker(broker_down, monkeypatch):
    def no_broker(*args: object, **kwargs: object) -> None:
        raise AssertionError("the dashboard asked the broker")

    monkeypatch.setattr(app, "connection_for_read", no_broker)
    monkeypatch.setattr(app, "connection_for_write", no_broker)
    monkeypatch.setattr(app.control, "inspect", no_broker)
    client = admin_client()
    start = time.monotonic()
    page = client.get(reverse("modeling:dashboard"))
    state = client.get(reverse("modeling:status")).json()
    assert time.monotonic() - start < GENEROUS_S
    assert page.status_code == 200 and "Retrain now" in page.content.decode()
    assert state["gpu_worker_alive"] is False and state["live_run"] is None
