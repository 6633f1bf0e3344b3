"""The gate compares the new and the active model on the same validation glitches, pair by
pair (McNemar's exact test), and says when there are too few glitches to decide."""

from __future__ import annotations

import numpy as np
import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse
from webapp_factories import UserFactory

from ml.evaluate import evaluate_predictions, mcnemar_exact, right_by_id
from webapp.accounts.roles import ADMIN
from webapp.modeling import gate, services
from webapp.modeling.models import ModelVersion, TrainingRun

pytestmark = pytest.mark.django_db

CLASSES = ["Blip", "Whistle"]


def predictions(truth: list[str], wrong: set[int]) -> np.ndarray:
    """(N, 2) probabilities that are right except on the rows in `wrong`."""
    probs = np.zeros((len(truth), 2))
    for i, label in enumerate(truth):
        right = CLASSES.index(label)
        probs[i, right if i not in wrong else 1 - right] = 0.9
        probs[i, 1 - right if i not in wrong else right] = 0.1
    return probs


def paired(n: int, candidate_wrong: set[int], active_wrong: set[int]):
    """Two models' evaluation reports on the same n glitches -> per-glitch correctness."""
    truth = [CLASSES[i % 2] for i in range(n)]
    ids = [str(1000 + i) for i in range(n)]
    new = evaluate_predictions(predictions(truth, candidate_wrong), truth, CLASSES, ids=ids)
    old = evaluate_predictions(predictions(truth, active_wrong), truth, CLASSES, ids=ids)
    return right_by_id(new, ids), right_by_id(old, ids), new["top1"], old["top1"]


def test_the_exact_test_counts_only_the_glitches_where_the_models_disagree():
    new, old, _, _ = paired(88, candidate_wrong={1, 2, 3, 4, 5, 6, 7, 8}, active_wrong={50})
    c = mcnemar_exact(new, old)
    assert (c.n, c.a_only, c.b_only) == (88, 1, 8)
    assert c.p_value == pytest.approx(2 * 10 / 2**9)  # two-sided binomial, 1 of 9
    assert c.min_discordant == 6 and c.decidable and c.significant  # 0.039 <= 0.05
    assert mcnemar_exact(new, old, alpha=0.01).min_discordant == 8  # 2 / 2**8 <= 0.01
    assert mcnemar_exact(new, new).p_value == 1.0  # no disagreement at all


def verdict(n: int, candidate_wrong: set[int], active_wrong: set[int]) -> gate.Verdict:
    new, old, _, _ = paired(n, candidate_wrong, active_wrong)
    return gate.gate_decide(
        has_active=True, candidate_correct=new, baseline_correct=old, alpha=0.05
    )


def test_a_difference_of_two_glitches_in_88_is_too_few_to_decide():
    # The case: 88 validation glitches, the models differ on 1-2 of them.
    result = verdict(88, candidate_wrong={3, 9}, active_wrong=set())
    assert result.gate == ModelVersion.Gate.UNDECIDED
    assert result.reason.startswith("too few validation glitches to decide")
    assert "at least 6" in result.reason


def test_a_significantly_worse_model_fails_and_a_significantly_better_one_passes():
    worse = verdict(88, candidate_wrong=set(range(8)), active_wrong=set())
    assert worse.gate == ModelVersion.Gate.FAILED and "worse" in worse.reason
    assert worse.comparison.p_value == pytest.approx(2 / 2**8)
    better = verdict(88, candidate_wrong={40}, active_wrong=set(range(10)))
    assert better.gate == ModelVersion.Gate.PASSED and "better" in better.reason


def test_enough_disagreements_without_a_significant_difference_pass():
    result = verdict(88, candidate_wrong={1, 2, 3, 4, 5}, active_wrong={60, 61, 62, 63})
    assert result.gate == ModelVersion.Gate.PASSED
    assert "no significant difference" in result.reason and "p = 1" in result.reason


@pytest.mark.parametrize(
    ("has_active", "candidate", "baseline", "expected", "words"),
    [
        (False, None, None, "passed", "no active model"),  # the first model always goes in
        (True, None, [True], "undecided", "too few validation glitches"),  # no validation set
        (True, [True, False], None, "undecided", "could not be scored"),
    ],
)
def test_nothing_to_compare(has_active, candidate, baseline, expected, words):
    result = gate.gate_decide(
        has_active=has_active, candidate_correct=candidate, baseline_correct=baseline, alpha=0.05
    )
    assert result.gate == expected and words in result.reason


def outcome(active_id: int | None, n: int, candidate_wrong: set[int], active_wrong: set[int]):
    new, old, top1, old_top1 = paired(n, candidate_wrong, active_wrong)
    return services.TrainOutcome(
        model_dir="/tmp/m",
        checkpoint_path="/tmp/m/best.pt",
        class_names=CLASSES,
        metrics={"top1": top1, "top5": 1.0, "loss": float("nan")},
        train_subject_ids=[1, 2],
        val_subject_ids=list(range(1000, 1000 + n)),
        code_version="abc",
        library_versions={"torch": "x"},
        seconds=1.0,
        images_per_second=10.0,
        baseline_top1=old_top1 if active_id else None,
        baseline_version_id=active_id,
        candidate_correct=new,
        baseline_correct=old if active_id else None,
    )


def running_run() -> TrainingRun:
    return TrainingRun.objects.create(status=TrainingRun.Status.RUNNING)


def test_a_worse_model_is_registered_but_not_promoted(django_capture_on_commit_callbacks):
    active = ModelVersion.objects.create(name="old", is_active=True)
    with django_capture_on_commit_callbacks() as callbacks:
        version = services.training_run_succeed(
            run_id=running_run().pk, outcome=outcome(active.pk, 40, set(range(10)), set())
        )
    assert version.gate == ModelVersion.Gate.FAILED and "worse" in version.gate_reason
    assert version.gate_comparison["b_only"] == 10 and version.gate_comparison["n"] == 40
    assert not version.activation_pending and callbacks == []
    assert version.metrics["loss"] is None  # NaN stored as null
    active.refresh_from_db()
    assert active.is_active


def test_an_undecided_model_waits_for_an_admin(django_capture_on_commit_callbacks):
    active = ModelVersion.objects.create(name="old", is_active=True)
    with django_capture_on_commit_callbacks() as callbacks:
        version = services.training_run_succeed(
            run_id=running_run().pk, outcome=outcome(active.pk, 88, {5}, {7, 8})
        )
    assert version.gate == ModelVersion.Gate.UNDECIDED and callbacks == []
    assert not version.activation_pending


def test_a_model_that_passes_is_queued_for_activation_while_the_old_one_serves(
    django_capture_on_commit_callbacks,
):
    active = ModelVersion.objects.create(name="old", is_active=True)
    with django_capture_on_commit_callbacks() as callbacks:
        version = services.training_run_succeed(
            run_id=running_run().pk, outcome=outcome(active.pk, 40, set(), set(range(8)))
        )
    assert version.gate == ModelVersion.Gate.PASSED and version.activation_pending
    assert len(callbacks) == 1  # score_subjects, sent once the transaction commits
    active.refresh_from_db()
    assert active.is_active and not ModelVersion.objects.get(pk=version.pk).is_active


def test_a_run_that_is_no_longer_running_registers_nothing():
    run = TrainingRun.objects.create(status=TrainingRun.Status.FAILED)
    finished = services.training_run_succeed(run_id=run.pk, outcome=outcome(None, 4, set(), set()))
    assert finished is None and not ModelVersion.objects.exists()


def test_promote_and_roll_back_ask_with_the_verdict_and_its_reason():
    old = ModelVersion.objects.create(
        name="old", is_active=False, activated_at="2026-01-01T00:00:00Z", gate="passed",
        gate_reason="no active model yet",
    )  # fmt: skip
    ModelVersion.objects.create(name="current", is_active=True)
    run = TrainingRun.objects.create(status=TrainingRun.Status.SUCCEEDED)
    undecided = verdict(88, {3, 9}, set())
    ModelVersion.objects.create(
        name="run-9", training_run=run, gate=undecided.gate, gate_reason=undecided.reason
    )
    user = UserFactory(username="boss")
    user.groups.add(Group.objects.get_or_create(name=ADMIN)[0])
    client = Client()
    client.force_login(user)
    page = client.get(reverse("modeling:dashboard")).content.decode()
    assert "Promote run-9? Gate: undecided (too few validation glitches to decide" in page
    assert f"Roll back to {old.name}? Gate: passed (no active model yet)" in page
