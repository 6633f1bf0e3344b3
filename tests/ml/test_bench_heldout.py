"""bench/heldout.py refuses what would make its number meaningless, before training anything."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from image_factories import write_glitches, write_simulated_with_one_split

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.heldout import load_heldout, main  # noqa: E402


def test_a_heldout_glitch_that_also_trains_is_refused(tmp_path: Path) -> None:
    write_glitches(tmp_path / "real", "Blip", 2)
    write_glitches(tmp_path / "heldout", "Blip", 1, first=1)  # gBl001: also in real
    with pytest.raises(SystemExit, match="1 held-out glitches are also in"):
        main(["--heldout", str(tmp_path / "heldout"), "--real", str(tmp_path / "real"),
              "--cache", str(tmp_path / "cache")])  # fmt: skip
    assert not (tmp_path / "cache" / "models").exists()  # nothing was trained


def test_an_empty_heldout_folder_is_refused(tmp_path: Path) -> None:
    write_glitches(tmp_path / "real", "Blip", 2)
    (tmp_path / "heldout").mkdir()
    with pytest.raises(SystemExit, match="no labelled glitches"):
        main(["--heldout", str(tmp_path / "heldout"), "--real", str(tmp_path / "real"),
              "--cache", str(tmp_path / "cache")])  # fmt: skip


def test_a_heldout_glitch_saved_under_another_id_is_refused(tmp_path: Path) -> None:
    write_glitches(tmp_path / "real", "Blip", 2)
    copy = tmp_path / "heldout" / "Blip" / "other_0.5.png"
    copy.parent.mkdir(parents=True)
    copy.write_bytes((tmp_path / "real" / "Blip" / "gBl000_0.5.png").read_bytes())
    with pytest.raises(SystemExit, match="e.g. other"):
        main(["--heldout", str(tmp_path / "heldout"), "--real", str(tmp_path / "real"),
              "--cache", str(tmp_path / "cache")])  # fmt: skip


def test_a_missing_real_set_is_named(tmp_path: Path) -> None:
    write_glitches(tmp_path / "heldout", "Blip", 1)
    with pytest.raises(SystemExit, match="no labelled real glitches in"):
        main(["--heldout", str(tmp_path / "heldout"), "--real", str(tmp_path / "nowhere"),
              "--cache", str(tmp_path / "cache")])  # fmt: skip


def test_a_heldout_view_of_a_real_glitch_saved_otherwise_is_refused(tmp_path: Path) -> None:
    """The 2 s view of a real glitch, cropped to its plot area, shrunk and re-encoded as JPEG
    under another id: not byte-identical, the same glitch all the same (ml.fingerprint)."""
    from bench.fingerprint import archive_copy
    from ml.synth import generate, read_manifest

    rows = read_manifest(generate(tmp_path / "real", 1, classes=["Blip", "Whistle"], seed=5))
    blip = next(r for r in rows if r["label"] == "Blip" and r["duration"] == "2.0")
    (tmp_path / "heldout" / "Blip").mkdir(parents=True)
    archive_copy(tmp_path / "real" / blip["path"], tmp_path / "heldout" / "Blip" / "c123_2.0.jpg")
    with pytest.raises(SystemExit, match="1 held-out glitches are also in"):
        main(["--heldout", str(tmp_path / "heldout"), "--real", str(tmp_path / "real"),
              "--cache", str(tmp_path / "cache"), "--size", "32", "--epochs", "1",
              "--sim-per-class", "1"])  # fmt: skip
    assert not (tmp_path / "cache" / "models").exists()  # nothing was trained


def test_a_heldout_glitch_saved_under_two_ids_counts_once(tmp_path: Path) -> None:
    """Its short views under one id, its long ones under another (as the real set's
    Zooniverse glitches were): one glitch, scored once, with all four views."""
    write_glitches(tmp_path / "real", "Blip", 1)
    real = load_heldout(tmp_path / "real", [], tmp_path / "nowhere")
    write_simulated_with_one_split(tmp_path / "heldout", ["Blip", "Whistle"], 2)
    held = load_heldout(tmp_path / "heldout", real, tmp_path / "real")
    assert sorted(s.id for s in held) == ["g0a", "g1", "g2", "g3"]
    assert len(next(s for s in held if s.id == "g0a").views()) == 4
