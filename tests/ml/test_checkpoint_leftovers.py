"""A worker killed while it wrote a checkpoint leaves atomic_write's temporary file
(`.last.pt.<random>.tmp`, as large as the checkpoint got): the run's resume and its end
remove it. Before, it stayed beside best.pt for good."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from test_train import bright_half_images, config
from test_train_resume import WorkerLost, _die_after_epoch

from ml.model import BEST_CHECKPOINT, LAST_CHECKPOINT, SIM_ONLY_DIR, drop_resume_checkpoints
from ml.train import TrainProgress, fit

ROOT = Path(__file__).resolve().parents[2]


def killed_while_writing(path: Path, size: int = 100_000) -> Path:
    """Run atomic_write(path) in a process that SIGKILLs itself half way through the write;
    return the temporary file it left."""
    before = set(path.parent.iterdir())
    script = (
        "import os, signal, sys; from pathlib import Path; from ml.files import atomic_write\n"
        "def write(fh):\n"
        f"    fh.write(b'x' * {size}); fh.flush(); os.kill(os.getpid(), signal.SIGKILL)\n"
        "atomic_write(Path(sys.argv[1]), write)\n"
    )
    done = subprocess.run([sys.executable, "-c", script, str(path)], cwd=ROOT, check=False)
    assert done.returncode == -9
    (left,) = set(path.parent.iterdir()) - before
    assert left.name.startswith(f".{path.name}.") and left.stat().st_size == size
    return left


def test_a_resumed_run_removes_the_checkpoint_write_it_was_killed_in(tmp_path: Path) -> None:
    x, y = bright_half_images(16, seed=0)
    with pytest.raises(WorkerLost):
        fit(x, y, None, None, config(epochs=2), tmp_path, progress=_die_after_epoch(1))
    left = killed_while_writing(tmp_path / LAST_CHECKPOINT)
    (tmp_path / "notes.tmp").write_text("not a checkpoint write: stays")
    events: list[TrainProgress] = []

    result = fit(x, y, None, None, config(epochs=2), tmp_path, progress=events.append, resume=True)

    assert not left.exists() and (tmp_path / "notes.tmp").exists()
    assert [row["epoch"] for row in result.history] == [1.0, 2.0]
    assert any(str(left) in e.note and "cut short" in e.note for e in events)


def test_a_finished_run_drops_them_with_its_last_checkpoints(tmp_path: Path) -> None:
    x, y = bright_half_images(16, seed=0)
    fit(x, y, None, None, config(epochs=1), tmp_path)
    (tmp_path / SIM_ONLY_DIR).mkdir()
    leftovers = [
        killed_while_writing(tmp_path / BEST_CHECKPOINT, size=1000),
        killed_while_writing(tmp_path / SIM_ONLY_DIR / LAST_CHECKPOINT, size=2000),
    ]
    last_size = (tmp_path / LAST_CHECKPOINT).stat().st_size

    freed = drop_resume_checkpoints(tmp_path)

    assert not any(p.exists() for p in leftovers) and not (tmp_path / LAST_CHECKPOINT).exists()
    assert (tmp_path / BEST_CHECKPOINT).is_file() and freed == last_size + 3000
