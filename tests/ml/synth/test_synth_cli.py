"""`python -m ml synth`: arguments, output and one-line errors."""

from __future__ import annotations

from ml.cli import main
from ml.synth import read_manifest


def test_synth_command_writes_the_layout(tmp_path):
    rc = main(
        [
            "synth",
            "--out",
            str(tmp_path),
            "--per-class",
            "1",
            "--classes",
            "Tomte",
            "--new-classes",
            "Blip_Low_Frequency",
            "--style",
            "crop",
            "--seed",
            "3",
            "--workers",
            "1",
            "--quiet",
        ]
    )
    assert rc == 0
    rows = read_manifest(tmp_path / "manifest.csv")
    assert [r["label"] for r in rows] == ["Tomte"] * 4 + ["Blip_Low_Frequency"] * 4
    assert all((tmp_path / r["path"]).is_file() for r in rows)
    assert (tmp_path / "config.json").is_file()


def test_unknown_class_is_a_one_line_error(tmp_path, capsys):
    rc = main(["synth", "--out", str(tmp_path), "--per-class", "1", "--classes", "Blipp"])
    assert rc == 2
    err = capsys.readouterr().err
    assert err.startswith("error: unknown class 'Blipp'") and err.count("\n") == 1
