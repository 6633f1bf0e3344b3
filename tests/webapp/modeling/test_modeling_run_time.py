"""The run history's time of a run with a model is its epochs' training time, a Retry's
earlier attempts included. Before, it was started_at..finished_at: the last attempt alone
(a run that trained 40 epochs over four attempts showed 12 s)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from webapp_factories import UserFactory

from webapp.accounts.roles import ADMIN
from webapp.modeling.models import ModelVersion, TrainingRun

pytestmark = pytest.mark.django_db


def test_a_retried_runs_time_counts_the_epochs_of_every_attempt():
    boss = UserFactory(username="boss")
    boss.groups.add(Group.objects.get_or_create(name=ADMIN)[0])
    client = Client()
    client.force_login(boss)
    last_attempt = timezone.now()
    run = TrainingRun.objects.create(
        status=TrainingRun.Status.SUCCEEDED,
        started_at=last_attempt - timedelta(seconds=12),
        finished_at=last_attempt,
    )
    epochs = [{"epoch": e, "seconds": 30.0} for e in (1, 2, 3, 4)]  # three before the retry
    ModelVersion.objects.create(name="v", training_run=run, metrics={"history": epochs})

    page = client.get(reverse("modeling:dashboard")).content.decode()

    cell = re.search(rf'<td data-testid="time-{run.pk}"[^>]*>([^<]*)</td>', page)
    assert cell and cell.group(1) == "2 min 0 s"
    assert "its last attempt ran 12 s" in cell.group(0)
    state = client.get(reverse("modeling:status")).json()
    assert state["runs"][0]["version"]["train_s"] == 120.0
