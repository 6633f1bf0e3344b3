"""`manage.py retrain --if-no-active-model`: a second `make demo` start trains nothing."""

from io import StringIO

import pytest
from django.core.management import call_command

from webapp.modeling.models import ModelVersion, TrainingRun

pytestmark = pytest.mark.django_db


def test_with_an_active_model_nothing_is_queued():
    ModelVersion.objects.create(name="m1", is_active=True)
    out = StringIO()
    call_command("retrain", "--if-no-active-model", stdout=out)
    assert TrainingRun.objects.count() == 0
    assert "m1" in out.getvalue()


def test_without_an_active_model_a_run_is_queued():
    ModelVersion.objects.create(name="old", is_active=False)
    out = StringIO()
    call_command("retrain", "--if-no-active-model", stdout=out)
    assert TrainingRun.objects.filter(status=TrainingRun.Status.QUEUED).count() == 1
    assert "queued training run" in out.getvalue()
