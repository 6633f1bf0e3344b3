"""python -m ml train -> evaluate --json -> predict --json -> embed, on a tiny image folder."""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from image_factories import damage_middle, write_glitches, write_simulated_with_one_split

from ml.cli import COMMANDS, main
from ml.commands import duplicates
from ml.errors import UserError

# The smallest training the commands allow, on the CPU in one process.
TINY_TRAINING = (
    "--epochs", "1", "--image-size", "32", "--batch-size", "4", "--device", "cpu", "--workers", "1"
)  # fmt: skip


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture(scope="module")
def folders(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    train = tmp_path_factory.mktemp("train")
    for label in ("Blip", "Whistle"):
        write_glitches(train, label, 6)
    test = tmp_path_factory.mktemp("test")
    for label in ("Blip", "Whistle"):
        write_glitches(test, label, 2, first=100)
    write_glitches(test, "Reverse_Chirp", 1, first=200)  # a class the model never saw
    return train, test


@pytest.fixture(scope="module")
def model(folders: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny model of Blip and Whistle, for the tests that only evaluate."""
    out = tmp_path_factory.mktemp("model") / "m"
    code = main(["train", "--data", str(folders[0]), "--out", str(out), *TINY_TRAINING])
    assert code == 0
    return out


def test_train_evaluate_predict_embed(
    folders: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    train, test = folders
    model = tmp_path / "model"
    common = ("--device", "cpu", "--workers", "1")
    code, out, err = run_cli(
        capsys, "train", "--data", str(train), "--out", str(model), "--epochs", "1",
        "--image-size", "32", "--val-fraction", "0.34", "--batch-size", "4", *common,
    )  # fmt: skip
    assert code == 0, err
    assert (model / "best.pt").is_file() and (model / "metrics.json").is_file()
    assert json.loads(out)["n_val"] == 4

    # The same command again (a careless rerun) must not replace the model it made.
    trained = (model / "best.pt").read_bytes()
    code, _, err = run_cli(
        capsys, "train", "--data", str(train), "--out", str(model), "--epochs", "1", *common
    )
    assert code != 0 and err.startswith("error: ") and "already holds a model" in err
    assert "--resume" in err and (model / "best.pt").read_bytes() == trained

    code, out, err = run_cli(
        capsys, "evaluate", "--model", str(model), "--data", str(test), "--json", *common
    )
    assert code == 0, err
    report = json.loads(out)
    assert report["n"] == 5
    assert {f"top{k}" for k in range(1, 6)} <= report.keys()
    assert report["unknown_labels"] == ["Reverse_Chirp"]
    assert report["per_class"]["Reverse_Chirp"]["recall"] == 0.0
    assert set(report["per_class"]["Blip"]) == {"precision", "recall", "f1", "support"}
    assert np.array(report["confusion"]).sum() == 5
    recalls = [report["per_class"][c]["recall"] for c in ("Blip", "Whistle", "Reverse_Chirp")]
    assert report["macro_recall"] == pytest.approx(np.mean(recalls))
    # said before the scoring, on stderr also with --json: a label the model cannot output
    assert "no class of this model, counted as errors: Reverse_Chirp (1)" in err
    assert report["seen_in_training"] == [] and "not a held-out score" not in err

    # The model's folder lists what it saw; scoring those glitches says so.
    saw = json.loads((model / "glitches.json").read_text())
    assert (len(saw["train"]), len(saw["validation"])) == (8, 4)
    code, out, err = run_cli(
        capsys, "evaluate", "--model", str(model), "--data", str(train), "--json", *common
    )
    assert code == 0, err
    assert json.loads(out)["seen_in_training"] == sorted(saw["train"] + saw["validation"])
    assert "12 of the 12 glitches have the id of a glitch this model was trained" in err
    code, out, err = run_cli(
        capsys, "evaluate", "--model", str(model), "--data", str(test), *common
    )
    assert "macro recall" in out
    # A folder spelled otherwise is read as the model's class it names, and said so.
    shutil.copytree(test / "Whistle", tmp_path / "spelled" / "WHISTLE")
    code, out, err = run_cli(
        capsys, "evaluate", "--model", str(model), "--data", str(tmp_path / "spelled"), "--json",
        *common,
    )  # fmt: skip
    assert "note: class 'WHISTLE' read as 'Whistle'" in err
    assert json.loads(out)["per_class"]["Whistle"]["support"] == 2

    code, out, err = run_cli(
        capsys, "predict", "--model", str(model), "--data", str(test), "--json", *common
    )
    assert code == 0, err
    rows = json.loads(out)["predictions"]
    assert len(rows) == 5
    assert {"id", "predicted", "probabilities"} <= rows[0].keys()
    assert sum(rows[0]["probabilities"].values()) == pytest.approx(1.0, abs=1e-4)

    npz = tmp_path / "emb.npz"
    code, _, err = run_cli(
        capsys, "embed", "--model", str(model), "--data", str(test), "--out", str(npz), *common
    )
    assert code == 0, err
    with np.load(npz) as z:
        assert z["embeddings"].shape == (5, 1280) and z["embeddings"].dtype == np.float32
        assert sorted(z["labels"]) == ["Blip", "Blip", "Reverse_Chirp", "Whistle", "Whistle"]
        assert len(set(z["ids"])) == 5

    # One glitch whose file is damaged past the cheap check (a held-out set's odd file):
    # before, evaluate, predict, embed and audit each stopped at it; now each goes on with
    # the rest, names it, and says what it left out.
    damaged_set = tmp_path / "damaged"
    shutil.copytree(test, damaged_set)
    damage_middle(sorted((damaged_set / "Whistle").glob("*_1.0.png"))[0])  # a view read
    code, out, err = run_cli(
        capsys, "evaluate", "--model", str(model), "--data", str(damaged_set), "--json", *common
    )  # fmt: skip
    assert code == 0, err
    report = json.loads(out)
    assert report["n"] == 4 and len(report["left_out"]) == 1
    assert "warning: glitch" in err and "left out" in err and "cannot decode" in err
    code, out, _ = run_cli(
        capsys, "evaluate", "--model", str(model), "--data", str(damaged_set), *common
    )
    assert "1 glitches left out, unreadable (above): not in these numbers" in out
    code, out, err = run_cli(
        capsys, "predict", "--model", str(model), "--data", str(damaged_set), "--json", *common
    )  # fmt: skip
    assert code == 0, err
    assert len(json.loads(out)["predictions"]) == 4 and len(json.loads(out)["left_out"]) == 1
    code, _, err = run_cli(
        capsys, "embed", "--model", str(model), "--data", str(damaged_set), "--out", str(npz),
        *common,
    )  # fmt: skip
    assert code == 0, err
    with np.load(npz) as z:
        assert z["embeddings"].shape == (4, 1280) and len(z["ids"]) == 4
    code, out, err = run_cli(
        capsys, "audit", "--model", str(model), "--data", str(damaged_set), "--folds", "2",
        "--json", *common,
    )  # fmt: skip
    assert code == 0, err
    assert len(json.loads(out)["suspects"]) == 3 and "left out" in err  # Reverse_Chirp: no class


def test_train_splits_each_data_root_apart(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sim, real = tmp_path / "sim", tmp_path / "real"
    for label in ("Blip", "Whistle"):
        write_glitches(sim, label, 6)
    write_glitches(real, "Blip", 1, first=100)  # a class's only glitch from this root
    code, out, err = run_cli(
        capsys, "train", "--data", str(sim), "--data", str(real), "--out", str(tmp_path / "m"),
        "--epochs", "1", "--image-size", "32", "--val-fraction", "0.5", "--batch-size", "4",
        "--device", "cpu", "--workers", "1",
    )  # fmt: skip
    assert code == 0, err
    # 3 of each class's 6 simulations validate and the lone real Blip trains; split by class
    # alone, 4 of the 7 Blips would validate (n_train 6, n_val 7).
    summary = json.loads(out)
    assert (summary["n_train"], summary["n_val"]) == (7, 6)


@pytest.mark.parametrize(
    "argv",
    [
        ("train", "--data", "/nonexistent/glitches", "--out", "/tmp/x"),
        ("evaluate", "--model", "/nonexistent/model", "--data", "."),
        ("train", "--data", ".", "--out", "/tmp/x", "--backbone", "alexnet"),
    ],
)
def test_user_error_is_one_line_without_traceback(
    argv: tuple[str, ...], capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run_cli(capsys, *argv)
    assert code != 0
    assert err.startswith("error: ") and err.count("\n") == 1
    assert "Traceback" not in err


def test_training_on_an_empty_folder_is_a_user_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run_cli(capsys, "train", "--data", str(tmp_path), "--out", str(tmp_path / "m"))
    assert code != 0 and err.startswith("error: ") and "no glitch images" in err


def test_a_folder_none_of_whose_images_is_read_is_not_said_to_hold_none(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # numbered from 1 in every class: every id under two labels, every file refused
    for label in ("Blip", "Whistle"):
        write_glitches(tmp_path / "data", label, 1)
        for view in (tmp_path / "data" / label).glob("*.png"):
            view.rename(view.with_name(view.name.replace(f"g{label[:2]}", "")))

    code, _, err = run_cli(
        capsys, "train", "--data", str(tmp_path / "data"), "--out", str(tmp_path / "m")
    )

    assert code == 2 and "no glitch images found" not in err
    assert err.splitlines()[-1] == (
        f"error: no glitch of {tmp_path / 'data'} could be read: 8 files not read, 2 glitches "
        "left out entirely (each named above with why)"
    )


def test_train_with_a_pool_self_trains(
    folders: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    train, test = folders
    model = tmp_path / "model"
    code, out, err = run_cli(
        capsys, "train", "--data", str(train), "--pool", str(test), "--self-train", "0.5",
        "--out", str(model), "--val-fraction", "0.34", *TINY_TRAINING,
    )  # fmt: skip

    assert code == 0, err
    assert json.loads(out)["pseudo_labels"] > 0  # the pool's labels were not used
    assert (model / "teacher" / "best.pt").is_file() and (model / "best.pt").is_file()
    assert "Reverse_Chirp" not in err  # a class the model lacks is no problem in a pool


def test_a_self_train_threshold_out_of_range_fails_before_training(
    folders: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    train, test = folders
    code, _, err = run_cli(
        capsys, "train", "--data", str(train), "--pool", str(test), "--self-train", "1.5",
        "--out", str(tmp_path / "m"), "--epochs", "1", "--image-size", "32", "--device", "cpu",
    )  # fmt: skip
    assert code != 0 and err.startswith("error: --self-train 1.5")
    assert not (tmp_path / "m").exists()  # nothing trained, no teacher left behind


def test_train_merges_one_glitch_saved_under_two_ids(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data"
    write_simulated_with_one_split(data, ["Blip", "Whistle"], 3)
    code, out, err = run_cli(
        capsys, "train", "--data", str(data), "--out", str(tmp_path / "m"), *TINY_TRAINING
    )  # fmt: skip
    assert code == 0, err
    summary = json.loads(out)
    assert summary["n_train"] + summary["n_val"] == 6  # 7 ids, 6 glitches
    assert "one glitch saved under several ids, merged as g0a: g0a + g0b" in err

    # Scored, the glitch counts once; predicted, from all its views, under both its ids.
    model = ("--model", str(tmp_path / "m"), "--data", str(data), "--json", "--device", "cpu")
    code, out, err = run_cli(capsys, "evaluate", *model, "--workers", "1")
    assert code == 0, err
    assert json.loads(out)["n"] == 6
    assert "merged as g0a: g0a + g0b" in err
    code, out, err = run_cli(capsys, "predict", *model, "--workers", "1")
    assert code == 0, err
    rows = {row["id"]: row for row in json.loads(out)["predictions"]}
    assert len(rows) == 7
    assert rows["g0a"]["same_glitch_as"] == ["g0b"] and rows["g0b"]["same_glitch_as"] == ["g0a"]
    assert rows["g0a"]["probabilities"] == rows["g0b"]["probabilities"]
    assert rows["g1"]["same_glitch_as"] == []
    # Embedded, it is one row (two would be each other's nearest neighbours and weigh twice
    # in a cluster), its other id named; ml cluster passes that on.
    npz, clusters = tmp_path / "emb.npz", tmp_path / "clusters.json"
    code, _, err = run_cli(capsys, "embed", *model[:4], "--out", str(npz), "--device", "cpu",
                           "--workers", "1")  # fmt: skip
    assert code == 0, err
    assert f"6 embeddings of 1280 dims -> {npz}, 1 id merged into the same glitch's row" in err
    with np.load(npz) as z:
        assert len(z["ids"]) == len(set(z["ids"])) == len(z["embeddings"]) == 6
        assert "g0a" in z["ids"] and "g0b" not in z["ids"]
        assert (list(z["merged_ids"]), list(z["merged_into"])) == (["g0b"], ["g0a"])
    code, _, err = run_cli(capsys, "cluster", "--embeddings", str(npz), "--out", str(clusters),
                           "--n-neighbors", "3", "--min-cluster-size", "1")  # fmt: skip
    assert code == 0, err
    assert json.loads(clusters.read_text())["same_glitch_as"] == {"g0b": "g0a"}


def test_a_path_of_the_wrong_kind_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--out naming a file where a folder is made (or the reverse) was a FileExistsError or
    IsADirectoryError traceback."""
    taken = tmp_path / "a-file"
    taken.write_text("not a folder")
    code, _, err = run_cli(capsys, "synth", "--out", str(taken), "--per-class", "1", "--quiet")
    assert code == 2 and err.startswith("error: ") and err.count("\n") == 1
    assert str(taken) in err and "Traceback" not in err


def test_checkpoints_that_do_not_fit_are_one_line_errors(
    folders: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import torch

    from ml.model import load_model

    train, _ = folders
    model = tmp_path / "model"
    code, _, err = run_cli(
        capsys, "train", "--data", str(train), "--out", str(model), *TINY_TRAINING
    )  # fmt: skip
    assert code == 0, err
    checkpoint = torch.load(model / "best.pt", weights_only=True)
    checkpoint["class_names"].append("Extra_Class")  # the head has one output fewer
    torch.save(checkpoint, model / "best.pt")
    with pytest.raises(UserError, match="weights do not fit its config"):
        load_model(model, device="cpu")
    del checkpoint["config"]["image_size"]
    torch.save(checkpoint, model / "best.pt")
    with pytest.raises(UserError, match="config lacks image_size"):
        load_model(model, device="cpu")

    (model / "last.pt").write_bytes(b"truncated")
    code, _, err = run_cli(capsys, "train", "--data", str(train), "--resume", str(model))
    assert code == 2 and "cannot read last.pt" in err and "Traceback" not in err


@pytest.mark.parametrize(
    ("flag", "value"),
    [("--c", "0"), ("--c", "-1"), ("--pca", "-1"), ("--top", "-2"), ("--folds", "1")],
)
def test_audit_settings_out_of_range_are_refused_before_any_work(
    flag: str, value: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--c 0 and --pca -1 were sklearn tracebacks after every glitch was embedded; --top -2
    silently dropped the last two rows, --folds 1 silently became 2."""
    with pytest.raises(SystemExit) as refused:
        main(["audit", "--data", str(tmp_path), flag, value])
    assert refused.value.code == 2
    assert f"argument {flag}: {value} must be" in capsys.readouterr().err


def test_ctrl_c_that_surfaces_as_another_error_is_still_an_interruption(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Ctrl-C while torch wrote a checkpoint came out as 'RuntimeError: unexpected pos' with
    a traceback; it is an interruption like any other."""
    from ml.commands import train as train_command

    def interrupted_while_saving(args: object) -> int:
        try:
            raise KeyboardInterrupt
        except KeyboardInterrupt:
            raise RuntimeError("unexpected pos 64 vs 0") from None

    monkeypatch.setattr(train_command, "run", interrupted_while_saving)
    code, _, err = run_cli(capsys, "train", "--data", str(tmp_path), "--out", str(tmp_path / "m"))
    assert code == 130 and err == "interrupted\n"


def evaluate_on(
    capsys: pytest.CaptureFixture[str], model: Path, data: Path, *extra: str
) -> tuple[int, str, str]:
    return run_cli(
        capsys, "evaluate", "--model", str(model), "--data", str(data), "--device", "cpu",
        "--workers", "1", *extra,
    )  # fmt: skip


def test_evaluate_says_beside_the_score_how_much_it_did_not_read(
    model: Path, folders: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The loader's problem lines scrolled by on stderr and the score read as if over the whole
    folder: one view of a glitch and a whole glitch not read must be said beside it."""
    data = tmp_path / "data"
    shutil.copytree(folders[1], data)
    (data / "Blip" / "gBl100_1.0.png").write_bytes(b"not an image")  # one view of four
    for view in (data / "Whistle").glob("gWh101_*.png"):
        view.write_bytes(b"not an image")  # a whole glitch

    code, out, err = evaluate_on(capsys, model, data)

    assert code == 0, err
    said = "5 files not read, 1 glitch left out entirely (each named above with why)"
    assert f"{said}: not in these numbers" in out and f"warning: {said}" in err
    code, out, err = evaluate_on(capsys, model, data, "--json")
    assert json.loads(out)["not_read"] == {"files": 5, "glitches": 1, "folders": 0}


def test_evaluate_on_flat_images_and_a_label_table_says_where_labels_come_from(
    model: Path, folders: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "flat"
    data.mkdir()
    for view in sorted((folders[1] / "Blip").glob("*.png")):
        shutil.copy(view, data / view.name)
    (data / "labels.csv").write_text("filename,label\ngBl100_0.5.png,Blip\n")

    code, _, err = evaluate_on(capsys, model, data)

    assert code == 2 and "Traceback" not in err
    [error] = [line for line in err.splitlines() if line.startswith("error: ")]
    assert error.startswith(f"error: no labelled glitches in {data}: labels come from class ")
    assert "DIR/<class>/<id>_<duration>.png" in error and "id,label,duration,path" in error
    assert error.endswith(f"CSV files not read: {data / 'labels.csv'}")


def test_evaluate_counts_labels_the_model_lacks_before_its_report(
    model: Path, folders: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    """A class the model cannot output (Gravity Spy's newer Blip_Low_Frequency) counts as an
    error: said in the report, before the numbers it lowers, not after them."""
    code, out, err = evaluate_on(capsys, model, folders[1])

    assert code == 0, err
    first, second = out.splitlines()[:2]
    assert first == (
        "counted as errors: 1 of the 5 glitches carry a label that is no class of this model: "
        "Reverse_Chirp (1)"
    )
    assert second.startswith("n = 5  top1 ")


def test_evaluate_refuses_a_folder_none_of_whose_labels_is_a_class_of_the_model(
    model: Path, folders: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Every glitch an error by construction: "n = 1 top1 0.0000" read as a score."""
    shutil.copytree(folders[1] / "Reverse_Chirp", tmp_path / "data" / "Reverse_Chirp")

    code, out, err = evaluate_on(capsys, model, tmp_path / "data")

    assert code == 2 and out == ""
    assert err.splitlines()[-1] == (
        "error: none of the 1 labelled glitches has a class of this model (labels: "
        "Reverse_Chirp (1); the model's: Blip, Whistle): nothing to score; check the class "
        "folders' names, or --model"
    )


def test_evaluate_says_it_checked_only_ids_and_names_the_command_that_checks_images(
    model: Path, folders: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    train, test = folders
    code, _, err = evaluate_on(capsys, model, test, "--json")
    assert code == 0, err
    [note] = [line for line in err.splitlines() if "only ids were checked" in line]
    assert "(glitches.json in its folder)" in note
    command = note.split("python -m ml ", 1)[1]
    assert command == f"duplicates --data {test} --against <training data>"

    # the command named is a real one, with these flags
    name, *argv = command.replace("<training data>", str(train)).split()
    assert name in COMMANDS and COMMANDS[name][0] == duplicates.__name__
    parser = argparse.ArgumentParser()
    duplicates.configure(parser)
    assert vars(parser.parse_args(argv)) == {"data": [str(test)], "against": [str(train)]}


def test_audit_with_a_model_trained_on_those_glitches_warns_as_evaluate_does(
    model: Path, folders: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    """ml evaluate warned that a model scored on its own training glitches gives no held-out
    score; ml audit, whose features then vouch for the labels they learnt, said nothing."""
    train, test = folders
    audit = ("audit", "--model", str(model), "--folds", "2", "--json", "--device", "cpu",
             "--workers", "1")  # fmt: skip

    code, out, err = run_cli(capsys, *audit, "--data", str(train))

    assert code == 0, err
    saw = json.loads((model / "glitches.json").read_text())
    assert json.loads(out)["seen_in_training"] == sorted(saw["train"] + saw["validation"])
    [warning] = [line for line in err.splitlines() if "was trained or validated on" in line]
    assert warning.startswith("warning: 12 of the 12 glitches have the id of a glitch this model")
    assert "tend to vouch for them" in warning

    code, out, err = run_cli(capsys, *audit, "--data", str(test))
    assert code == 0, err
    assert json.loads(out)["seen_in_training"] == [] and "vouch" not in err


def test_predict_and_audit_text_say_what_their_columns_are(
    model: Path, folders: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    """Bare tab-separated columns: nothing said which was the confidence, the folder's
    label, what * meant or what the audit's score measured."""
    common = ("--model", str(model), "--data", str(folders[1]), "--device", "cpu",
              "--workers", "1")  # fmt: skip

    code, out, err = run_cli(capsys, "predict", *common)

    assert code == 0, err
    lines = out.splitlines()
    assert lines[1] == "# id\tpredicted\tconfidence\tlabel"
    assert lines[0].startswith("# confidence: the model's probability of the class it predicts")
    rows = [line.split("\t") for line in lines if not line.startswith("#")]
    assert len(rows) == 5 and all(len(row) == 4 for row in rows)

    code, out, err = run_cli(capsys, "audit", *common, "--folds", "2")

    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].startswith("# score: how likely the label is wrong (1 - cleanlab's label")
    assert "*: cleanlab flags the label as an issue" in lines[0]
    assert lines[1] == "# * score\tid\tlabel -> suggested"
    assert len([line for line in lines if not line.startswith("#")]) == 4  # Blip, Whistle


def test_json_outputs_name_the_model_they_came_from(
    model: Path, folders: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    """predict's and audit's JSON said which data they read, never which model: two runs'
    outputs could not be told apart."""
    import hashlib

    import torch

    test = folders[1]
    checkpoint = model / "best.pt"
    expected = {
        "dir": str(model.resolve()),
        "checkpoint": "best.pt",
        "sha256": hashlib.sha256(checkpoint.read_bytes()).hexdigest(),
        "created": torch.load(checkpoint, weights_only=True)["created"],
        "epoch": 1,
        "backbone": "efficientnet_lite0",
        "encoding": "rgb-durations",
        "image_size": 32,
    }
    common = ("--model", str(model), "--data", str(test), "--json", "--device", "cpu",
              "--workers", "1")  # fmt: skip
    for command in (("predict",), ("audit", "--folds", "2"), ("evaluate",)):
        code, out, err = run_cli(capsys, *command, *common)
        assert code == 0, err
        answer = json.loads(out)
        assert answer["model"] == expected and answer["data"] == [str(test)], command


def test_a_file_that_is_no_model_is_named_as_such_without_torchs_unsafe_advice(
    model: Path, folders: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--model MODEL_DIR/metrics.json passed on torch's advice to load the file with
    weights_only=False: unsafe (that runs what a file holds), and wrong (it is no model)."""
    import torch

    foreign = tmp_path / "foreign.pt"
    torch.save({"model": argparse.Namespace(a=1)}, foreign)  # a zip, holding an object
    for given, said in [
        (model / "metrics.json", "is not a model: give a model folder made by python -m ml "
                                 "train (it holds best.pt), or a checkpoint file in one"),
        (foreign, "is not a checkpoint python -m ml train wrote: it holds objects other than "
                  "weights and plain data, which are not loaded"),
    ]:  # fmt: skip
        code, _, err = run_cli(
            capsys, "predict", "--model", str(given), "--data", str(folders[1]), "--device", "cpu"
        )
        assert code == 2 and err.startswith(f"error: {given} {said}")
        assert "weights_only" not in err and err.count("\n") == 1
