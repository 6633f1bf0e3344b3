"""The benchmarks' trained models are cached on the code and the recipe, not on the arguments
alone: discovery's real-row model trained by older code or another recipe was reused whenever
its metrics.json existed, and bench/real.py's runs sharing a cache wrote one fold{k} folder."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import bench.real  # noqa: E402
from bench.discovery import cache_name, parse_args, real_model  # noqa: E402
from bench.real import run_models_dir  # noqa: E402
from ml.data import sample_of  # noqa: E402
from ml.train import TrainConfig  # noqa: E402

REAL = [sample_of(f"zoo-{i}", "Blip", {1.0: Path("x.png")}) for i in range(3)]


def args_of(tmp_path: Path, *more: str):  # type: ignore[no-untyped-def]
    return parse_args(["--rows", "real", "--cache", str(tmp_path), *more])


def test_the_real_row_reuses_a_model_of_the_same_code_and_recipe(tmp_path: Path) -> None:
    args = args_of(tmp_path)
    name = cache_name(args, ("Whistle",), REAL)
    made = tmp_path / f"real-model-{name}"
    made.mkdir()
    (made / "metrics.json").write_text("{}")

    assert cache_name(args_of(tmp_path), ("Whistle",), REAL) == name
    assert real_model(args, name, REAL) == made  # nothing trained: it would need simulations


def test_another_recipe_or_training_set_misses_the_cache(tmp_path: Path) -> None:
    name = cache_name(args_of(tmp_path), ("Whistle",), REAL)

    assert cache_name(args_of(tmp_path, "--epochs", "5"), ("Whistle",), REAL) != name
    assert cache_name(args_of(tmp_path, "--sim-per-class", "7"), ("Whistle",), REAL) != name
    assert cache_name(args_of(tmp_path), ("Whistle",), REAL[:2]) != name


def test_other_ml_code_misses_the_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    name = cache_name(args_of(tmp_path), ("Whistle",), REAL)
    monkeypatch.setattr(bench.real, "ml_source_digest", lambda: "edited")

    assert cache_name(args_of(tmp_path), ("Whistle",), REAL) != name


def test_each_real_run_trains_into_a_folder_of_its_own(tmp_path: Path) -> None:
    first = run_models_dir(tmp_path, TrainConfig(), part="tune")
    second = run_models_dir(tmp_path, TrainConfig(), part="tune")
    other = run_models_dir(tmp_path, TrainConfig(epochs=1), part="tune")

    assert first != second and first.parent == second.parent == tmp_path / "models"
    assert first.name.split("-")[0] == second.name.split("-")[0] != other.name.split("-")[0]
