"""The gate: a new model is promoted only if it is not worse than the active one."""

from __future__ import annotations

import pytest

from webapp.modeling import services
from webapp.modeling.models import ModelVersion, TrainingRun

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("candidate", "baseline", "has_active", "margin", "passes"),
    [
        (0.80, None, False, 0.0, True),  # the first model always goes in
        (0.90, 0.90, True, 0.0, True),  # equal is not worse
        (0.89, 0.90, True, 0.0, False),
        (0.89, 0.90, True, 0.02, True),  # within the configured margin
        (None, 0.90, True, 0.0, False),  # no validation set: a person decides
    ],
)
def test_gate_decisions(candidate, baseline, has_active, margin, passes):
    ok, reason = services.gate_decide(
        candidate_top1=candidate, baseline_top1=baseline, has_active=has_active, margin=margin
    )
    assert ok is passes and reason


def outcome(top1: float, baseline: float | None, baseline_id: int | None):
    return services.TrainOutcome(
        model_dir="/tmp/m",
        checkpoint_path="/tmp/m/best.pt",
        class_names=["Blip", "Whistle"],
        metrics={"top1": top1, "top5": 1.0, "loss": float("nan")},
        train_subject_ids=[1, 2],
        val_subject_ids=[3],
        code_version="abc",
        library_versions={"torch": "x"},
        seconds=1.0,
        images_per_second=10.0,
        baseline_top1=baseline,
        baseline_version_id=baseline_id,
    )


def running_run() -> TrainingRun:
    return TrainingRun.objects.create(status=TrainingRun.Status.RUNNING)


def test_a_worse_model_is_registered_but_not_promoted(django_capture_on_commit_callbacks):
    active = ModelVersion.objects.create(name="old", is_active=True)
    with django_capture_on_commit_callbacks() as callbacks:
        version = services.training_run_succeed(
            run_id=running_run().pk, outcome=outcome(0.5, 0.9, active.pk)
        )
    assert version.gate == ModelVersion.Gate.FAILED and "worse" in version.gate_reason
    assert not version.activation_pending and callbacks == []
    assert version.metrics["loss"] is None  # NaN stored as null
    active.refresh_from_db()
    assert active.is_active


def test_a_model_that_passes_is_queued_for_activation_while_the_old_one_serves(
    django_capture_on_commit_callbacks,
):
    active = ModelVersion.objects.create(name="old", is_active=True)
    with django_capture_on_commit_callbacks() as callbacks:
        version = services.training_run_succeed(
            run_id=running_run().pk, outcome=outcome(0.95, 0.9, active.pk)
        )
    assert version.gate == ModelVersion.Gate.PASSED and version.activation_pending
    assert len(callbacks) == 1  # score_subjects, sent once the transaction commits
    active.refresh_from_db()
    assert active.is_active and not ModelVersion.objects.get(pk=version.pk).is_active


def test_a_run_that_is_no_longer_running_registers_nothing():
    run = TrainingRun.objects.create(status=TrainingRun.Status.FAILED)
    assert services.training_run_succeed(run_id=run.pk, outcome=outcome(0.9, None, None)) is None
    assert not ModelVersion.objects.exists()
