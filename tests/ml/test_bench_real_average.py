"""bench/real_average.py joins bench/real.py's pieces by glitch id, and refuses pieces that
cannot be joined."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.real_average import main  # noqa: E402

NAMES = ["Blip", "Koi_Fish", "Whistle"]
SETTINGS = {"part": "tune", "config": {"image_size": 224}, "sim": {"seed": 2026}, "names": NAMES}


def piece(path: Path, ids: list[str], key: str, rows: list[list[float]], **more: Any) -> Path:
    path.write_text(json.dumps({**SETTINGS, "ids": ids, "probabilities": {key: rows}, **more}))
    return path


def test_each_glitch_is_averaged_with_its_own_simulated_only_row(tmp_path: Path) -> None:
    # The simulated-only model scored the tune part in another order than the folds did.
    sim = piece(tmp_path / "sim.json", ["k1", "b1", "b2"], "sim_only",
                [[0.0, 1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])  # fmt: skip
    # Blip's fold sends both Blips to Whistle; Koi_Fish's fold gets its glitch right.
    blip = piece(tmp_path / "f1.json", ["b1", "b2"], "cv", [[0.2, 0.0, 0.8], [0.4, 0.0, 0.6]],
                 truth=["Blip", "Blip"])  # fmt: skip
    koi = piece(tmp_path / "f2.json", ["k1"], "cv", [[0.1, 0.9, 0.0]], truth=["Koi_Fish"])

    result = main([str(sim), str(blip), str(koi)])

    assert result["n"] == 3
    assert result["cv"]["recall"] == {"Blip": 0.0, "Koi_Fish": 1.0}
    # sim-only: b1 right (Blip), b2 wrong (Whistle), k1 right
    assert result["sim_only"]["recall"] == {"Blip": 0.5, "Koi_Fish": 1.0}
    # averaged: b1 (0.6, 0, 0.4) -> Blip; b2 (0.2, 0, 0.8) -> Whistle; k1 -> Koi_Fish
    assert result["cv_with_sim_only"]["recall"] == {"Blip": 0.5, "Koi_Fish": 1.0}
    assert result["average_minus_folds_macro_recall"] == pytest.approx(0.25)


def test_a_config_field_added_later_at_its_default_is_the_same_recipe(tmp_path: Path) -> None:
    sim = piece(tmp_path / "sim.json", ["b1"], "sim_only", [[1.0, 0.0, 0.0]],
                config={"image_size": 224})  # fmt: skip
    fold = piece(tmp_path / "f1.json", ["b1"], "cv", [[1.0, 0.0, 0.0]], truth=["Blip"],
                 config={"image_size": 224, "sim_only_weight": 0.0})  # fmt: skip
    assert main([str(sim), str(fold)])["n"] == 1
    fold = piece(tmp_path / "f2.json", ["b1"], "cv", [[1.0, 0.0, 0.0]], truth=["Blip"],
                 config={"image_size": 224, "sim_only_weight": 0.5})  # fmt: skip
    with pytest.raises(SystemExit, match="other settings: config"):
        main([str(sim), str(fold)])


def test_pieces_run_with_other_settings_are_refused(tmp_path: Path) -> None:
    sim = piece(tmp_path / "sim.json", ["b1"], "sim_only", [[1.0, 0.0, 0.0]])
    fold = piece(tmp_path / "f1.json", ["b1"], "cv", [[1.0, 0.0, 0.0]], truth=["Blip"],
                 config={"image_size": 128})  # fmt: skip
    with pytest.raises(SystemExit, match="other settings: config"):
        main([str(sim), str(fold)])


def test_a_glitch_scored_by_two_folds_is_refused(tmp_path: Path) -> None:
    sim = piece(tmp_path / "sim.json", ["b1"], "sim_only", [[1.0, 0.0, 0.0]])
    one = piece(tmp_path / "f1.json", ["b1"], "cv", [[1.0, 0.0, 0.0]], truth=["Blip"])
    with pytest.raises(SystemExit, match="scored by two fold files: b1"):
        main([str(sim), str(one), str(one)])


def test_a_glitch_the_simulated_only_model_did_not_score_is_refused(tmp_path: Path) -> None:
    sim = piece(tmp_path / "sim.json", ["b1"], "sim_only", [[1.0, 0.0, 0.0]])
    fold = piece(tmp_path / "f1.json", ["w9"], "cv", [[0.0, 0.0, 1.0]], truth=["Whistle"])
    with pytest.raises(SystemExit, match="did not score: w9"):
        main([str(sim), str(fold)])


def test_the_files_in_the_wrong_order_are_refused(tmp_path: Path) -> None:
    sim = piece(tmp_path / "sim.json", ["b1"], "sim_only", [[1.0, 0.0, 0.0]])
    fold = piece(tmp_path / "f1.json", ["b1"], "cv", [[1.0, 0.0, 0.0]], truth=["Blip"])
    with pytest.raises(SystemExit, match="holds no fold model"):
        main([str(fold), str(sim)])


def test_each_weight_scores_its_own_blend(tmp_path: Path) -> None:
    # One Blip: the fold model says Whistle at 0.7, the simulated-only model Blip at 0.9.
    # Blip wins once (1 - w) x 0.3 + w x 0.9 > (1 - w) x 0.7 + w x 0.1, i.e. w > 1/3.
    sim = piece(tmp_path / "sim.json", ["b1"], "sim_only", [[0.9, 0.0, 0.1]])
    fold = piece(tmp_path / "f1.json", ["b1"], "cv", [[0.3, 0.0, 0.7]], truth=["Blip"])

    result = main([str(sim), str(fold), "--weights", "0,0.25,0.4,1"])

    assert [(row["weight"], row["top1"]) for row in result["by_weight"]] == [
        (0.0, 0.0), (0.25, 0.0), (0.4, 1.0), (1.0, 1.0),
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("weights", "said"),
    [("0,1.5", "a weight is in [0, 1], not 1.5"), ("-0.1", "not -0.1"),
     ("half", "not comma-separated numbers: 'half'")],
)  # fmt: skip
def test_a_weight_outside_zero_to_one_is_refused(
    tmp_path: Path, weights: str, said: str, capsys: pytest.CaptureFixture[str]
) -> None:
    sim = piece(tmp_path / "sim.json", ["b1"], "sim_only", [[1.0, 0.0, 0.0]])
    fold = piece(tmp_path / "f1.json", ["b1"], "cv", [[1.0, 0.0, 0.0]], truth=["Blip"])
    with pytest.raises(SystemExit):
        main([str(sim), str(fold), "--weights", weights])
    assert said in capsys.readouterr().err
