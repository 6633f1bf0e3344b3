"""A retrain whose model passes its gate is promoted automatically, unless a switch an
admin asked for (a promote or a roll back) is still pending: that request wins."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone

from webapp.modeling import services
from webapp.modeling.models import ModelVersion, TrainingRun

pytestmark = pytest.mark.django_db


def finish_a_run_that_passes_its_gate(active: ModelVersion) -> ModelVersion:
    """A run whose model is right on 20 validation glitches where the active one is wrong."""
    run = TrainingRun.objects.create(config={})
    services.training_run_claim(run_id=run.pk, task_id="t", worker="gpu@a")
    outcome = services.TrainOutcome(
        model_dir="/m",
        checkpoint_path="/m/best.pt",
        class_names=["Blip"],
        metrics={"top1": 1.0},
        train_subject_ids=[1],
        val_subject_ids=list(range(20)),
        code_version="",
        library_versions={},
        seconds=1.0,
        images_per_second=1.0,
        baseline_top1=0.0,
        baseline_version_id=active.pk,
        candidate_correct=[True] * 20,
        baseline_correct=[False] * 20,
    )
    version = services.training_run_succeed(run_id=run.pk, task_id="t", outcome=outcome)
    assert version is not None and version.gate == ModelVersion.Gate.PASSED, version
    return version


@pytest.fixture
def bad_model():
    now = timezone.now()
    good = ModelVersion.objects.create(name="good", activated_at=now - timedelta(days=1))
    return ModelVersion.objects.create(name="bad", is_active=True, activated_at=now), good


def test_a_retrain_that_passes_its_gate_does_not_cancel_an_admins_roll_back(
    settings, bad_model, django_capture_on_commit_callbacks
):
    settings.GLITCHLAB_AUTO_PROMOTE = True
    bad, good = bad_model
    with django_capture_on_commit_callbacks():  # its scoring waits behind the retrain
        services.model_version_request_activation(version_id=good.pk)  # Roll back

    new = finish_a_run_that_passes_its_gate(active=bad)

    good.refresh_from_db()
    assert good.activation_pending and not good.activation_error, good.activation_error
    assert not new.activation_pending and not new.is_active
    assert "not promoted automatically: the switch to good" in new.training_run.log


def test_a_retrain_that_passes_its_gate_is_promoted_when_no_switch_is_pending(
    settings, bad_model, django_capture_on_commit_callbacks
):
    settings.GLITCHLAB_AUTO_PROMOTE = True
    bad, _ = bad_model
    with django_capture_on_commit_callbacks() as queued:
        new = finish_a_run_that_passes_its_gate(active=bad)

    assert new.activation_pending and len(queued) == 1  # its scoring


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="SQLite runs one transaction at a time"
)
def test_a_roll_back_committed_while_the_promotion_decides_is_not_superseded(bad_model):
    """The race: the admin's request is made, not yet committed, while the retrain's
    promotion asks. Before, the promotion read "nothing pending" and marked its own version
    pending, which the one-pending-switch constraint refused once the admin's committed:
    an IntegrityError out of the run's success (and with another timing, the roll back
    superseded)."""
    bad, good = bad_model
    new = ModelVersion.objects.create(name="new")
    admin_in_transaction, promotion_asked = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def admin_rolls_back() -> None:
        try:
            with transaction.atomic():
                services.model_version_request_activation(version_id=good.pk)
                admin_in_transaction.set()
                promotion_asked.wait(timeout=1.0)  # it waits on us, or has run ahead
        finally:
            connection.close()

    def promotion() -> None:
        admin_in_transaction.wait(timeout=10)
        try:
            threading.Timer(0.3, promotion_asked.set).start()
            services.model_version_request_activation(
                version_id=new.pk, unless_another_is_pending=True
            )
        except Exception as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=admin_rolls_back), threading.Thread(target=promotion)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    good.refresh_from_db()
    new.refresh_from_db()
    assert good.activation_pending and not good.activation_error, good.activation_error
    assert not new.activation_pending
