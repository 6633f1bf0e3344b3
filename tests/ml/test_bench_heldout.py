"""bench/heldout.py: what would make its number meaningless is refused, with every case
named, before anything trains; what it scores is what `ml train` makes, and what it does
not score is counted beside the scores."""

from __future__ import annotations

import contextlib
import io
import json
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest
import torch
from image_factories import damage_middle, write_glitches, write_simulated_with_one_split

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.heldout import (  # noqa: E402
    ONE_NETWORK,
    PRODUCT,
    SIM_ONLY,
    load_heldout,
    main,
    mean_over_seeds,
    parse_args,
    rule,
)

TINY = ["--size", "32", "--epochs", "1", "--sim-per-class", "1", "--device", "cpu"]


def run(tmp_path: Path, *more: str) -> dict[str, Any]:
    return main(["--heldout", str(tmp_path / "heldout"), "--real", str(tmp_path / "real"),
                 "--cache", str(tmp_path / "cache"), *TINY, *more])  # fmt: skip


def simulated_glitches(root: Path, classes: list[str], per_class: int, seed: int) -> list[str]:
    """ml.synth's glitches (their views share their noise, as real scans do) laid out as
    `root/<label>/<id>_<duration>.png`, without the manifest that would make `ml train` read
    the folder as simulated; their ids."""
    from ml.data import load_samples
    from ml.synth import generate

    made = root.parent / f"{root.name}-made"
    generate(made, per_class, classes=classes, style="crop", seed=seed, workers=1)
    ids = []
    for n, sample in enumerate(load_samples(made).samples):
        ids.append(f"s{seed}n{n}")
        for duration, path in sample.views().items():
            target = root / str(sample.label) / f"{ids[-1]}_{duration}.png"
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(path, target)
    return ids


def test_a_heldout_glitch_that_also_trains_is_refused(tmp_path: Path) -> None:
    write_glitches(tmp_path / "real", "Blip", 2)
    write_glitches(tmp_path / "heldout", "Blip", 1, first=1)  # gBl001: also in real
    with pytest.raises(SystemExit, match="1 held-out glitches are also in"):
        run(tmp_path)
    assert not (tmp_path / "cache" / "models").exists()  # nothing was trained


def test_every_heldout_glitch_that_also_trains_is_named_with_its_counterpart(
    tmp_path: Path,
) -> None:
    ids = simulated_glitches(tmp_path / "real", ["Blip", "Whistle"], 2, seed=5)
    copies = {  # held-out file: the real file it is a copy of
        "Blip/first_0.5.png": f"Blip/{ids[0]}_0.5.png",
        "Blip/second_1.0.png": f"Blip/{ids[1]}_1.0.png",
        "Whistle/third_2.0.png": f"Whistle/{ids[2]}_2.0.png",
    }
    for copy, real_file in copies.items():
        (tmp_path / "heldout" / copy).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(tmp_path / "real" / real_file, tmp_path / "heldout" / copy)

    with pytest.raises(SystemExit) as refused:
        run(tmp_path)

    message = str(refused.value)
    assert message.startswith(f"3 held-out glitches are also in {tmp_path / 'real'}")
    lines = message.splitlines()
    for copy, real_file in copies.items():
        line = next(line for line in lines if str(tmp_path / "heldout" / copy) in line)
        assert str(tmp_path / "real" / real_file) in line
    assert f"python -m ml duplicates --data {tmp_path / 'heldout'} --against" in message
    assert "the run stops here: nothing was trained" in message
    assert not (tmp_path / "cache" / "models").exists()


def test_an_empty_heldout_folder_is_refused(tmp_path: Path) -> None:
    write_glitches(tmp_path / "real", "Blip", 2)
    (tmp_path / "heldout").mkdir()
    with pytest.raises(SystemExit, match="no labelled glitches"):
        run(tmp_path)


def test_a_heldout_glitch_saved_under_another_id_is_refused(tmp_path: Path) -> None:
    write_glitches(tmp_path / "real", "Blip", 2)
    copy = tmp_path / "heldout" / "Blip" / "other_0.5.png"
    copy.parent.mkdir(parents=True)
    copy.write_bytes((tmp_path / "real" / "Blip" / "gBl000_0.5.png").read_bytes())
    with pytest.raises(
        SystemExit, match=r"other \(Blip, .*other_0.5.png\) is byte for byte gBl000"
    ):
        run(tmp_path)


def test_a_missing_real_set_is_named(tmp_path: Path) -> None:
    write_glitches(tmp_path / "heldout", "Blip", 1)
    with pytest.raises(SystemExit, match="no labelled real glitches in"):
        main(["--heldout", str(tmp_path / "heldout"), "--real", str(tmp_path / "nowhere"),
              "--cache", str(tmp_path / "cache")])  # fmt: skip


def test_a_gpu_that_is_not_there_is_said_before_any_data_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(SystemExit, match="--device cuda asked for, but this machine has no CUDA"):
        main(["--heldout", str(tmp_path / "heldout"), "--real", str(tmp_path / "nowhere"),
              "--cache", str(tmp_path / "cache"), "--device", "cuda"])  # fmt: skip
    assert not (tmp_path / "cache").exists()


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
        run(tmp_path)
    assert not (tmp_path / "cache" / "models").exists()  # nothing was trained


def test_a_heldout_glitch_saved_under_two_ids_counts_once(tmp_path: Path) -> None:
    """Its short views under one id, its long ones under another (as the real set's
    Zooniverse glitches were): one glitch, scored once, with all four views."""
    write_glitches(tmp_path / "real", "Blip", 1)
    real = load_heldout(tmp_path / "real", [], tmp_path / "nowhere").samples
    write_simulated_with_one_split(tmp_path / "heldout", ["Blip", "Whistle"], 2)
    held = load_heldout(tmp_path / "heldout", real, tmp_path / "real").samples
    assert sorted(s.id for s in held) == ["g0a", "g1", "g2", "g3"]
    assert len(next(s for s in held if s.id == "g0a").views()) == 4


def test_a_view_without_a_duration_is_merged_into_its_glitch(tmp_path: Path) -> None:
    """The 2 s view of a held-out glitch saved again without a duration in its name: one
    glitch, scored once; the extra file is listed as not scored, and why."""
    write_glitches(tmp_path / "real", "Blip", 1)
    ids = simulated_glitches(tmp_path / "heldout", ["Blip", "Whistle"], 1, seed=5)
    blip = tmp_path / "heldout" / "Blip"
    shutil.copy(blip / f"{ids[0]}_2.0.png", blip / "extra.png")

    held = load_heldout(tmp_path / "heldout", [], tmp_path / "real")

    assert sorted(s.id for s in held.samples) == sorted(ids)
    row = next(r for r in held.not_scored if r["file"] == str(blip / "extra.png"))
    assert f"merged into it: {ids[0]} is scored once" in str(row["why"]) and row["glitch"] is None


def test_one_glitch_under_two_classes_is_refused_with_every_pair(tmp_path: Path) -> None:
    """A Blip's 1 s view saved again in the Whistle folder, its 2 s view again without a
    duration: the glitch would be scored three times, twice as Blip and once as Whistle."""
    write_glitches(tmp_path / "real", "Blip", 1)
    ids = simulated_glitches(tmp_path / "heldout", ["Blip", "Whistle"], 1, seed=5)
    blip, whistle = tmp_path / "heldout" / "Blip", tmp_path / "heldout" / "Whistle"
    shutil.copy(blip / f"{ids[0]}_1.0.png", whistle / "dupe_1.0.png")
    shutil.copy(blip / f"{ids[0]}_2.0.png", blip / "extra.png")

    with pytest.raises(SystemExit) as refused:
        run(tmp_path)

    lines = str(refused.value).splitlines()
    pairs = [line for line in lines if "one glitch, labelled" in line]
    assert len(pairs) == 2  # dupe with the Blip, dupe with its undated copy
    assert all(str(whistle / "dupe_1.0.png") in line for line in pairs)
    assert any(str(blip / f"{ids[0]}_1.0.png") in line for line in pairs)
    assert any(str(blip / "extra.png") in line for line in pairs)
    assert all("Blip" in line and "Whistle" in line for line in pairs)
    assert not (tmp_path / "cache" / "models").exists()


def test_a_class_the_models_cannot_output_is_refused(tmp_path: Path) -> None:
    """ml evaluate counts such glitches as errors; here they would have been dropped
    unsaid. Either way the number would not be the one asked for."""
    write_glitches(tmp_path / "real", "Blip", 1)
    simulated_glitches(tmp_path / "heldout", ["Blip", "Whistle"], 1, seed=5)
    simulated_glitches(tmp_path / "made", ["Chirp"], 2, seed=6)
    shutil.move(tmp_path / "made" / "Chirp", tmp_path / "heldout" / "Blip_Low_Frequency")

    with pytest.raises(SystemExit) as refused:
        run(tmp_path)

    message = str(refused.value)
    assert "held-out classes the models cannot output" in message
    assert "Blip_Low_Frequency: 2 held-out glitches" in message
    assert "rename each to the Gravity Spy class" in message
    assert not (tmp_path / "cache" / "models").exists()


def test_help_says_what_dir_must_hold() -> None:
    shown = io.StringIO()
    with contextlib.redirect_stdout(shown), pytest.raises(SystemExit):
        parse_args(["--help"])
    said = (
        "DIR/<class>/<id>_<duration>.png",
        "0.5, 1.0, 2.0 or 4.0",
        "_spectrogram_<duration>.png",
        "manifest.csv",
        "id,label,duration,path",
        "unique across the class folders",
        "python bench/heldout.py --heldout DIR",
    )
    assert [words for words in said if words not in shown.getvalue()] == []


@pytest.fixture(scope="module")
def scored(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], str, Path]:
    """One small run: three real glitches of each of two classes (one of each validates);
    held out, two of each, one with a view that does not decode, then a glitch saved as
    .tif and a file in no class folder."""
    tmp_path = tmp_path_factory.mktemp("scored")
    simulated_glitches(tmp_path / "real", ["Blip", "Whistle"], 3, seed=8)
    ids = simulated_glitches(tmp_path / "heldout", ["Blip", "Whistle"], 2, seed=9)
    held = tmp_path / "heldout"
    damage_middle(held / "Whistle" / f"{ids[3]}_1.0.png")
    shutil.copy(held / "Blip" / f"{ids[0]}_1.0.png", held / "Blip" / "tif_glitch_1.0.tif")
    shutil.copy(held / "Blip" / f"{ids[1]}_1.0.png", held / "loose_1.0.png")
    shown = io.StringIO()
    with contextlib.redirect_stdout(shown):
        result = run(tmp_path, "--epochs", "2")
    return result, shown.getvalue(), tmp_path


def test_what_is_not_scored_is_counted_beside_the_scores(
    scored: tuple[dict[str, Any], str, Path],
) -> None:
    result, shown, tmp_path = scored
    held = tmp_path / "heldout"
    assert shown.rstrip().splitlines()[-1] == "not scored: 6 files, 3 glitches (reasons above)"
    rows = {str(row["file"]): row for row in result["not_scored"]}
    assert set(rows) == {
        *(str(held / "Whistle" / f"s9n3_{d}.png") for d in (0.5, 1.0, 2.0, 4.0)),
        str(held / "Blip" / "tif_glitch_1.0.tif"),
        str(held / "loose_1.0.png"),
    }
    assert "cannot decode" in str(rows[str(held / "Whistle" / "s9n3_0.5.png")]["why"])
    assert "only PNG and JPEG" in str(rows[str(held / "Blip" / "tif_glitch_1.0.tif")]["why"])
    assert "no class folder" in str(rows[str(held / "loose_1.0.png")]["why"])
    assert {row["glitch"] for row in rows.values()} == {"s9n3", "tif_glitch", "loose"}
    assert sorted(result["ids"]) == ["s9n0", "s9n1", "s9n2"]  # scored: the other three


def test_top1_counting_the_glitches_not_scored_as_wrong_is_beside_top1(
    scored: tuple[dict[str, Any], str, Path],
) -> None:
    """Two labelled glitches are not scored (s9n3 does not decode, tif_glitch is a .tif); the
    file in no class folder has no label, so it is no glitch to get wrong."""
    result, shown, _ = scored
    row = result["seeds"]["0"][PRODUCT]
    assert row["n"] == 3 and row["not_scored"] == 2
    assert row["top1_all"] == pytest.approx(row["top1"] * 3 / 5)
    said = (
        f"top-1 with the 2 labelled glitches not scored counted wrong: {row['top1_all']:.3f} of 5"
    )
    assert said in shown


def _run_of(single: float, averaged: float, rare_single: float, rare_averaged: float) -> dict:
    def row(top1: float, rare: float) -> dict[str, Any]:
        return {"top1": top1, "top1_all": top1, "macro_recall": top1, "rare": {"top1": rare}}

    return {ONE_NETWORK: row(single, rare_single), SIM_ONLY: row(0.5, 0.5),
            PRODUCT: row(averaged, rare_averaged)}  # fmt: skip


def test_the_rule_is_applied_to_the_mean_over_the_seeds() -> None:
    """Seed 0 alone says yes; the mean of seeds 0-2 says no, and decides."""
    runs = [_run_of(0.80, 0.82, 0.50, 0.60), _run_of(0.85, 0.80, 0.50, 0.55),
            _run_of(0.84, 0.84, 0.60, 0.50)]  # fmt: skip
    mean = mean_over_seeds(runs, rare=True)
    assert mean[ONE_NETWORK]["top1"] == pytest.approx(0.83)
    assert mean[PRODUCT]["top1"] == pytest.approx(0.82)

    first = rule(mean_over_seeds(runs[:1], rare=True), rare=True, at_product_size=True, seeds=[0])
    said = rule(mean, rare=True, at_product_size=True, seeds=[0, 1, 2])

    assert "yes; " in first and first.endswith("(seed 0 alone; the mean of seeds 0-2 decides "
                                               "(--seeds 0,1,2))")  # fmt: skip
    assert "averaged mean top-1 0.820 >= one network's 0.830: no" in said
    assert said.endswith(
        "(the mean of seeds 0-2, which decides: turn it off (--sim-only-weight 0 by default))"
    )
    kept = rule(mean_over_seeds([_run_of(0.80, 0.82, 0.50, 0.60)] * 3, rare=True),
                rare=True, at_product_size=True, seeds=[0, 1, 2])  # fmt: skip
    assert kept.endswith("(the mean of seeds 0-2, which decides: keep it)")


def test_seeds_are_given_as_a_list_or_one() -> None:
    assert parse_args(["--heldout", "D", "--seeds", "0,1,2"]).seeds == [0, 1, 2]
    assert parse_args(["--heldout", "D", "--seed", "2"]).seeds == [2]
    assert parse_args(["--heldout", "D"]).seeds == [0]
    with pytest.raises(SystemExit), contextlib.redirect_stderr(io.StringIO()):
        parse_args(["--heldout", "D", "--seed", "1", "--seeds", "0,1"])


def test_the_product_row_is_the_model_ml_train_makes(
    scored: tuple[dict[str, Any], str, Path],
) -> None:
    """Its printed `python -m ml train` command, run again, makes the same model: the same
    validation split (a fifth of each class of each --data folder) and the same best epoch."""
    from ml.cli import main as ml_main

    result, shown, tmp_path = scored
    seed = result["seeds"]["0"]
    command = seed["commands"][PRODUCT]
    assert command.startswith("python -m ml train --data") and command in shown
    argv = list(seed["ml_train"][PRODUCT])
    first = Path(argv[argv.index("--out") + 1])
    again = tmp_path / "again"
    argv[argv.index("--out") + 1] = str(again)

    assert ml_main(["train", *argv]) == 0

    split = json.loads((first / "glitches.json").read_text())
    assert split == json.loads((again / "glitches.json").read_text())
    assert {i for i in split["validation"] if i.startswith("s8n")}  # real glitches validate
    best = [json.loads((d / "metrics.json").read_text())["best_epoch"] for d in (first, again)]
    assert best[0] == best[1] == seed["models"][PRODUCT]["best_epoch"]
    weights = [torch.load(d / "best.pt", weights_only=True)["model"] for d in (first, again)]
    for name, tensor in weights[0].items():
        torch.testing.assert_close(tensor, weights[1][name], atol=1e-5, rtol=1e-4)
