"""bench/discovery.py's real row with --heldout refuses what would make it meaningless,
before it trains anything."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.discovery import main  # noqa: E402


def run(tmp_path: Path) -> None:
    main(["--rows", "real", "--real-left-out", "Blip", "--real", str(tmp_path / "real"),
          "--heldout", str(tmp_path / "heldout"), "--cache", str(tmp_path / "cache")])  # fmt: skip


def real_set(root: Path) -> list[Path]:
    """Five simulated Blips and two Whistles as a real set (distinct noise, so no two are
    taken for one glitch); the views of its first Blip."""
    from ml.data import load_samples
    from ml.synth import generate

    generate(root, 5, classes=["Blip"], style="crop", seed=5, workers=1)
    generate(root / "more", 2, classes=["Whistle"], style="crop", seed=6, workers=1)
    blip = next(s for s in load_samples(root).samples if s.label == "Blip")
    return [Path(f) for f in blip.files()]


def test_a_heldout_glitch_that_also_trains_is_refused(tmp_path: Path) -> None:
    views = real_set(tmp_path / "real")
    (tmp_path / "heldout" / "Blip").mkdir(parents=True)
    copy = tmp_path / "heldout" / "Blip" / "h1_1.0.png"  # one view, under another id
    copy.write_bytes(views[0].read_bytes())
    with pytest.raises(SystemExit, match="1 held-out glitches are also in .*e.g. h1"):
        run(tmp_path)
    assert not list((tmp_path / "cache").glob("real-model-*"))  # nothing was trained


def test_an_unlabelled_heldout_folder_is_refused(tmp_path: Path) -> None:
    real_set(tmp_path / "real")
    (tmp_path / "heldout").mkdir()
    with pytest.raises(SystemExit, match="no labelled glitches in"):
        run(tmp_path)
    assert not list((tmp_path / "cache").glob("real-model-*"))
