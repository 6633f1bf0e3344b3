"""`generate`: the Gravity Spy layout, both styles for every class, manifest, determinism, cache."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from ml.synth import generate, read_manifest
from ml.synth.render import DURATIONS, PLOT_BOX
from tests.ml.synth.conftest import ALL_CLASSES

DURATION_NAMES = ("0.5", "1.0", "2.0", "4.0")


def test_every_class_renders_all_four_durations_in_both_styles(every_class):
    out, rows = every_class
    sizes = {"full": (800, 600), "crop": (572, 479)}
    seen = set()
    for row in rows:
        image = Image.open(out / row["path"])
        assert image.size == sizes[row["style"]], row["path"]
        assert np.asarray(image).std() > 1.0, f"blank image {row['path']}"
        seen.add((row["label"], row["style"], row["duration"]))
    expected = {(c, s, d) for c in ALL_CLASSES for s in sizes for d in DURATION_NAMES}
    assert seen == expected
    assert len(rows) == len(expected)


def test_file_names_follow_gravity_spy_and_ids_are_unique(every_class):
    out, rows = every_class
    assert list(rows[0])[:4] == ["id", "label", "duration", "path"]
    ids = {row["id"] for row in rows}
    assert len(ids) == len(ALL_CLASSES)
    for row in rows:
        assert re.fullmatch(r"[A-Za-z0-9]{10}", row["id"])
        name = f"{row['ifo']}_{row['id']}_spectrogram_{row['duration']}.png"
        assert row["path"] == f"{row['style']}/{row['label']}/{name}"
        assert row["ifo"] in ("H1", "L1")


def test_crop_is_the_plot_area_of_the_full_image(every_class):
    out, rows = every_class
    row = next(r for r in rows if r["label"] == "Blip" and r["style"] == "full")
    full = np.asarray(Image.open(out / row["path"]))
    crop = np.asarray(Image.open(out / row["path"].replace("full/", "crop/", 1)))
    left, top, right, bottom = PLOT_BOX
    assert np.array_equal(full[top + 2 : bottom - 1, left + 2 : right - 1], crop[2:-1, 2:-1])
    assert (full[5, 5] == 255).all() and (full[300, 40] == 255).all()  # white margins


def _run(out: Path, **kwargs) -> dict[str, bytes]:
    manifest = generate(out, 1, classes=["Blip", "Whistle"], style="crop", **kwargs)
    files = {p.relative_to(out).as_posix(): p.read_bytes() for p in out.rglob("*.png")}
    files["manifest.csv"] = manifest.read_bytes()
    return files


def test_same_seed_same_bytes_whatever_the_worker_count(tmp_path):
    one = _run(tmp_path / "a", seed=5, workers=1)
    two = _run(tmp_path / "b", seed=5, workers=2)
    assert len(one) == 2 * len(DURATIONS) + 1
    assert one == two
    other = _run(tmp_path / "c", seed=6, workers=1)
    assert set(other) != set(one)  # new ids
    assert sorted(other.values()) != sorted(one.values())


def test_second_run_with_same_arguments_is_cached(tmp_path):
    manifest = generate(tmp_path, 1, classes=["Power_Line"], style="crop", seed=1, workers=1)
    stamps = {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*.png")}
    generate(tmp_path, 1, classes=["Power_Line"], style="crop", seed=1, workers=1)
    assert {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*.png")} == stamps
    # other arguments: regenerated, and the previous run's images are gone
    generate(tmp_path, 1, classes=["Power_Line"], style="crop", seed=2, workers=1)
    now = {row["path"] for row in read_manifest(manifest)}
    assert {p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*.png")} == now
    assert not set(stamps) & {tmp_path / p for p in now}


def test_a_run_cached_by_other_simulator_code_is_drawn_again(tmp_path, monkeypatch):
    """A simulator trial run with the default's arguments read the default's cached glitches
    and printed the default's numbers (bench/synth.py --realism, 2026-12-06)."""
    import importlib

    generating = importlib.import_module("ml.synth.generate")  # (the package's `generate` is
    # the function)
    generate(tmp_path, 1, classes=["Power_Line"], style="crop", seed=1, workers=1)
    stamps = {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*.png")}
    monkeypatch.setattr(generating, "source_digest", lambda: "edited")

    generate(tmp_path, 1, classes=["Power_Line"], style="crop", seed=1, workers=1)

    again = {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*.png")}
    assert set(again) == set(stamps) and all(again[p] != stamps[p] for p in stamps)


@pytest.mark.parametrize(
    "kwargs", [{"classes": ["Blop"]}, {"new_classes": ["Blip"]}, {"style": "tiny"}]
)
def test_bad_arguments_are_user_errors(tmp_path, kwargs):
    from ml.errors import UserError

    with pytest.raises(UserError):
        generate(tmp_path, 1, **kwargs)
