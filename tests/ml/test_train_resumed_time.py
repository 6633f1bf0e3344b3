"""A resumed run reports the training time of all its epochs, those of the attempts before
the resume included. Before, it reported its last attempt's wall time: a run that trained
40 epochs over four attempts said "done in 12 s"."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_train import bright_half_images, config
from test_train_resume import WorkerLost, _die_after_epoch

from ml.train import fit


def test_a_resumed_run_reports_the_sum_of_every_attempts_epochs(tmp_path: Path) -> None:
    x, y = bright_half_images(16, seed=0)
    with pytest.raises(WorkerLost):
        fit(x, y, None, None, config(epochs=2), tmp_path, progress=_die_after_epoch(1))

    result = fit(x, y, None, None, config(epochs=2), tmp_path, resume=True)

    first, second = (row["seconds"] for row in result.history)
    assert first > 0 and second > 0
    assert result.train_seconds == pytest.approx(first + second)
    assert result.resumed_after == 1


def test_a_run_from_the_start_was_not_resumed(tmp_path: Path) -> None:
    x, y = bright_half_images(16, seed=0)
    result = fit(x, y, None, None, config(epochs=1), tmp_path, resume=True)
    assert result.resumed_after == 0
    assert result.train_seconds == pytest.approx(result.history[0]["seconds"])
