"""A run that dies or is cancelled continues from last.pt: weights, optimiser, lr schedule,
random stream and history, losing at most the epoch it was in."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from test_train import bright_half_images, config

from ml.cli import main
from ml.commands.train import refuse_to_overwrite
from ml.errors import UserError
from ml.model import BEST_CHECKPOINT, LAST_CHECKPOINT, SIM_ONLY_DIR
from ml.train import GLITCH_IDS_FILE, TrainProgress, fit


class WorkerLost(Exception):
    """Stands in for a SIGKILL right after an epoch's checkpoints were written."""


def _die_after_epoch(epoch: int):
    def progress(event: TrainProgress) -> None:
        if event.epoch_done and event.epoch == epoch:
            raise WorkerLost

    return progress


def _optimiser_steps(model_dir: Path) -> int:
    state = torch.load(model_dir / LAST_CHECKPOINT, weights_only=True)["train_state"]
    return int(max(float(s["step"]) for s in state["optimizer"]["state"].values()))


def test_a_run_lost_after_epoch_one_resumes_at_epoch_two(tmp_path: Path) -> None:
    x, y = bright_half_images(32, seed=0)
    vx, vy = bright_half_images(16, seed=1)
    with pytest.raises(WorkerLost):
        fit(x, y, vx, vy, config(epochs=3), tmp_path, progress=_die_after_epoch(1))
    first_epoch = torch.load(tmp_path / LAST_CHECKPOINT, weights_only=True)["metrics"]
    events: list[TrainProgress] = []

    result = fit(x, y, vx, vy, config(epochs=3), tmp_path, progress=events.append, resume=True)

    assert {e.epoch for e in events} == {2, 3}  # epoch 1 is not trained again
    assert [row["epoch"] for row in result.history] == [1.0, 2.0, 3.0]
    assert result.history[0] == pytest.approx(first_epoch)
    assert _optimiser_steps(tmp_path) == 3 * (32 // 8)  # Adam's moments carried on
    assert 1 <= result.best_epoch <= 3 and result.metrics["n"] == 16


def test_resuming_a_finished_run_trains_nothing(tmp_path: Path) -> None:
    x, y = bright_half_images(16, seed=0)
    done = fit(x, y, None, None, config(epochs=1), tmp_path)
    events: list[TrainProgress] = []

    again = fit(x, y, None, None, config(epochs=1), tmp_path, progress=events.append, resume=True)

    assert events == [] and again.best_epoch == 1
    losses = [row["train_loss"] for row in done.history]
    assert [row["train_loss"] for row in again.history] == losses  # (val_top1 is nan: no val)
    # its speed is that of the epochs it had trained (a run retried after a failure at the
    # gate reported 0 img/s)
    assert (
        again.images_per_second == pytest.approx(done.images_per_second)
        and done.images_per_second > 0
    )


def test_a_run_cannot_resume_from_a_model_trained_otherwise(tmp_path: Path) -> None:
    x, y = bright_half_images(16, seed=0)
    fit(x, y, None, None, config(epochs=1), tmp_path)

    with pytest.raises(UserError, match="other lr; start a new run"):
        fit(x, y, None, None, config(epochs=1, lr=1e-5), tmp_path, resume=True)


def test_a_checkpoint_from_before_a_setting_existed_says_so(tmp_path: Path) -> None:
    x, y = bright_half_images(16, seed=0)
    fit(x, y, None, None, config(epochs=1), tmp_path)
    checkpoint = torch.load(tmp_path / LAST_CHECKPOINT, weights_only=True)
    del checkpoint["config"]["view_dropout"]  # as an older version wrote it
    torch.save(checkpoint, tmp_path / LAST_CHECKPOINT)

    with pytest.raises(UserError, match="older GlitchLab, without view_dropout"):
        fit(x, y, None, None, config(epochs=1), tmp_path, resume=True)


def test_a_run_saved_before_sim_only_weight_existed_resumes(tmp_path: Path) -> None:
    """A retrain retried after an upgrade (the task always resumes): the field changes no
    weight of this network, and its absence means the old behaviour (no second model)."""
    x, y = bright_half_images(16, seed=0)
    fit(x, y, None, None, config(epochs=2), tmp_path)
    checkpoint = torch.load(tmp_path / LAST_CHECKPOINT, weights_only=True)
    del checkpoint["config"]["sim_only_weight"]  # as the version before it wrote it
    checkpoint["train_state"]["history"] = checkpoint["train_state"]["history"][:1]
    torch.save(checkpoint, tmp_path / LAST_CHECKPOINT)

    again = fit(x, y, None, None, config(epochs=2), tmp_path, resume=True)
    assert not again.cancelled and len(again.history) == 2


def test_cli_resume_of_a_run_saved_before_sim_only_weight_existed_stays_one_network(
    tmp_path: Path,
) -> None:
    """Its config lacks the field: the default (None, left to the data) would average in a
    second model on simulated and real glitches, a model the run never had."""
    from ml.commands.train import resumed_config

    x, y = bright_half_images(16, seed=0)
    fit(x, y, None, None, config(epochs=2), tmp_path)
    checkpoint = torch.load(tmp_path / LAST_CHECKPOINT, weights_only=True)
    assert checkpoint["config"]["sim_only_weight"] == 0.0  # fit trains one network
    del checkpoint["config"]["sim_only_weight"]
    torch.save(checkpoint, tmp_path / LAST_CHECKPOINT)

    assert resumed_config(tmp_path, "cpu").sim_only_weight == 0.0


def test_cli_resume_needs_a_run_to_continue(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    code = main(["train", "--data", str(tmp_path), "--resume", str(tmp_path / "none")])

    assert code != 0 and "nothing to resume" in capsys.readouterr().err


@pytest.mark.parametrize("head_only", [False, True])
def test_cli_resume_of_a_finished_run_says_so_before_reading_any_data(
    head_only: bool, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    """It decoded every glitch (minutes on real data) to train nothing (a head-only run: to
    fit it all again)."""
    x, y = bright_half_images(16, seed=0)
    run = tmp_path / "run"
    fit(x, y, None, None, config(epochs=1, head_only=head_only), run)  # last.pt, metrics.json
    (run / GLITCH_IDS_FILE).write_text('{"train": [], "validation": []}')  # ml train's last
    data = tmp_path / "data"  # not there: reading it would be an error of its own

    code = main(["train", "--data", str(data), "--resume", str(run)])

    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1
    assert err.startswith(f"error: --resume {run}: this run is finished (epoch 1 of 1 trained, ")
    assert "nothing to resume" in err and f"--model {run} " in err and "--out ANOTHER_DIR" in err

    # one stopped before writing what follows its last epoch has that left to do
    (run / "metrics.json").unlink()
    code = main(["train", "--data", str(data), "--resume", str(run)])
    assert code == 2 and f"--data {data}: no such file or folder" in capsys.readouterr().err


def test_cli_resume_of_a_run_lost_while_its_sim_only_model_trained_says_how_to_go_on(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    # sim_only_weight's companion trains first, into DIR/sim-only; DIR has no last.pt yet
    (tmp_path / SIM_ONLY_DIR).mkdir()
    (tmp_path / SIM_ONLY_DIR / LAST_CHECKPOINT).write_bytes(b"an epoch of the companion")

    code = main(["train", "--data", str(tmp_path), "--resume", str(tmp_path)])

    err = capsys.readouterr().err
    assert code != 0 and "simulated-only model" in err and f"--out {tmp_path}" in err
    refuse_to_overwrite(tmp_path)  # and that command is not refused


def test_a_run_that_died_between_its_two_checkpoint_writes_registers_its_best_epoch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Disk full (or SIGKILL) after one of an improving epoch's two checkpoints was written:
    best.pt was written first, so it held epoch 2 while last.pt's history and best epoch
    ended at epoch 1; the retry trained epoch 2 again, and when that did not beat epoch 1
    it registered the orphaned epoch-2 weights as epoch 1's. Now last.pt comes first and the
    resume writes best.pt from it: the registered weights are the best epoch's, and the
    epoch is not trained again."""
    import errno

    import ml.train

    scripted = iter([0.5, 0.9, 0.4, 0.3])  # validation top-1 of each epoch trained, in turn

    def validate(*args: object, **kwargs: object) -> tuple[dict[str, float], None]:
        return {"val_loss": 1.0, "val_top1": next(scripted)}, None

    monkeypatch.setattr(ml.train, "_validate", validate)
    real_save = ml.train.save_checkpoint
    writes: list[Path] = []

    def disk_full_at_the_fourth_write(checkpoint: dict, path: Path) -> None:
        writes.append(path)  # epoch 1: two writes; epoch 2 (improved): two more
        if len(writes) == 4:
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        real_save(checkpoint, path)

    monkeypatch.setattr(ml.train, "save_checkpoint", disk_full_at_the_fourth_write)
    x, y = bright_half_images(16, seed=0)
    vx, vy = bright_half_images(8, seed=1)
    with pytest.raises(OSError, match="No space left"):
        fit(x, y, vx, vy, config(epochs=3), tmp_path)
    monkeypatch.setattr(ml.train, "save_checkpoint", real_save)
    events: list[TrainProgress] = []

    result = fit(x, y, vx, vy, config(epochs=3), tmp_path, progress=events.append, resume=True)

    registered = torch.load(tmp_path / BEST_CHECKPOINT, weights_only=True)
    assert registered["epoch"] == result.best_epoch == 2
    assert [row["val_top1"] for row in result.history] == [0.5, 0.9, 0.4]
    assert {e.epoch for e in events} == {3}


@pytest.mark.parametrize(
    "damage",
    [lambda b: b[: len(b) // 2], lambda b: b"", lambda b: b"not a checkpoint"],
    ids=["cut short", "empty", "garbage"],
)
def test_a_last_checkpoint_that_does_not_load_is_moved_aside_and_the_run_starts_over(
    tmp_path: Path, damage
) -> None:
    """A last.pt cut short by a disk error made every Retry fail on its unpickling, for good."""
    x, y = bright_half_images(16, seed=0)
    fit(x, y, None, None, config(epochs=1), tmp_path)
    last = tmp_path / LAST_CHECKPOINT
    broken = damage(last.read_bytes())
    last.write_bytes(broken)
    events: list[TrainProgress] = []

    result = fit(x, y, None, None, config(epochs=1), tmp_path, progress=events.append, resume=True)

    notes = [e.note for e in events if e.note]
    assert len(notes) == 1 and "did not load" in notes[0] and "last.pt.corrupt" in notes[0]
    assert (tmp_path / "last.pt.corrupt").read_bytes() == broken  # kept, for a look
    assert {e.epoch for e in events if e.epoch_done} == {1}  # trained again
    assert result.best_epoch == 1 and len(result.history) == 1
    assert torch.load(last, weights_only=True)["epoch"] == 1


class _NotAllowed:
    """A type torch's weights_only loading refuses."""


def test_a_whole_last_checkpoint_that_torch_refuses_to_load_fails_the_run_saying_why(
    tmp_path: Path,
) -> None:
    """Not damage (another torch or GlitchLab wrote a type weights_only refuses): moving it
    aside would start the run over at every retry and hide why; the file stays."""
    x, y = bright_half_images(16, seed=0)
    fit(x, y, None, None, config(epochs=1), tmp_path)
    last = tmp_path / LAST_CHECKPOINT
    torch.save({**torch.load(last, weights_only=True), "extra": _NotAllowed()}, last)

    with pytest.raises(UserError, match="cannot resume from"):
        fit(x, y, None, None, config(epochs=1), tmp_path, resume=True)
    assert last.is_file() and not (tmp_path / "last.pt.corrupt").exists()
