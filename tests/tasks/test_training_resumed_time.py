"""A retried run's log reports the training time of all its epochs and says it resumed.
Before, "done in 1.1 s" was the last attempt's time alone (a run that trained 40 epochs
over four attempts said 12 s), and nothing said the run had resumed."""

from __future__ import annotations

import re

import pytest
from glitch_data import apply_tiny_training, make_dataset

from tasks import training
from webapp.modeling import services
from webapp.modeling.models import TrainingRun

pytestmark = pytest.mark.django_db(transaction=True)


class WorkerLost(Exception):
    """Stands in for the worker's death once epoch 1 is on disk."""


def test_a_retried_run_reports_every_attempts_epochs_and_says_it_resumed(
    tiny_settings, eager_celery, monkeypatch
):
    apply_tiny_training(tiny_settings, head_only=False, epochs=2)
    make_dataset()
    reporter_on_train = training._RunReporter.on_train

    def dies_after_epoch_one(self, p) -> None:
        reporter_on_train(self, p)
        if p.epoch_done and p.epoch == 1:
            raise WorkerLost

    monkeypatch.setattr(training._RunReporter, "on_train", dies_after_epoch_one)
    with pytest.raises(WorkerLost):
        services.training_run_request(trigger=TrainingRun.Trigger.COMMAND)
    run = TrainingRun.objects.get()
    assert run.status == TrainingRun.Status.FAILED, run.log
    monkeypatch.setattr(training._RunReporter, "on_train", reporter_on_train)

    services.training_run_retry(run_id=run.pk)

    run.refresh_from_db()
    assert run.status == TrainingRun.Status.SUCCEEDED, run.error + run.log
    history = run.model_version.metrics["history"]
    assert len(history) == 2
    done = re.search(r"done: 2 epochs trained in ([0-9.]+) s, resumed after epoch 1 ", run.log)
    assert done, run.log
    assert float(done.group(1)) == pytest.approx(sum(row["seconds"] for row in history), abs=0.06)
