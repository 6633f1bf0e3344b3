"""`python -m ml scan` on a GWOSC-style HDF5 file written by the simulator."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from ml.classes import CANONICAL_NAMES
from ml.cli import main
from ml.errors import UserError
from ml.scan import LABEL, read_triggers
from ml.synth import read_manifest, write_gwosc_hdf5
from tests.ml.synth.conftest import brightest_frequency, energy_of

START = 1126259000.0


def test_scan_renders_the_injected_glitches(tmp_path, capsys):
    strain = tmp_path / "H-H1_SIM-1126259000-32.hdf5"
    injected = write_gwosc_hdf5(
        strain, [("Power_Line", START + 10), ("Blip", START + 20)], gps_start=START, seed=4
    )
    from gwpy.timeseries import TimeSeries

    series = TimeSeries.read(str(strain), format="hdf5.gwosc")
    assert series.t0.value == START and series.sample_rate.value == 8192.0

    times = tmp_path / "triggers.csv"
    times.write_text(
        f"gps,label,id\n{START + 10},Power_Line,pl0000001\n{START + 20},,\n{START + 1},,\n"
    )
    out = tmp_path / "scans"
    rc = main(
        ["scan", "--strain", str(strain), "--times", str(times), "--out", str(out), "--quiet"]
    )
    assert rc == 0
    assert "skipped 1 trigger" in capsys.readouterr().err
    rows = read_manifest(out / "manifest.csv")
    assert len(rows) == 8
    assert {r["duration"] for r in rows} == {"0.5", "1.0", "2.0", "4.0"}
    line = [r for r in rows if r["id"] == "pl0000001"]
    assert all(r["path"].startswith("Power_Line/H1_pl0000001_spectrogram_") for r in line)
    blip = [r for r in rows if r["id"] != "pl0000001"]
    assert all(r["path"].startswith("unlabelled/H1_") and r["label"] == "" for r in blip)

    assert injected[0].label == "Power_Line"
    image = np.asarray(Image.open(out / line[1]["path"]).convert("RGB"))
    assert image.shape == (600, 800, 3)
    # inside the spines: plot rows 2..477 of 479
    values = np.pad(energy_of(image[63:539, 103:672]), ((2, 1), (0, 0)))
    seen = brightest_frequency(values)
    assert abs(seen - 60.0) < 8.0
    assert abs(float(line[0]["peak_frequency"]) - 60.0) < 8.0

    # A second scan, or a simulation, into the same folder would replace its manifest (and
    # with it every glitch the loader finds there): refused, the manifest as it was.
    before = (out / "manifest.csv").read_bytes()
    args = ["scan", "--strain", str(strain), "--times", str(times), "--out", str(out), "--quiet"]
    assert main(args) == 2
    assert "already holds a manifest.csv" in capsys.readouterr().err
    assert main(["synth", "--out", str(out), "--per-class", "1", "--quiet"]) == 2
    assert "ml synth did not write" in capsys.readouterr().err
    assert (out / "manifest.csv").read_bytes() == before


def test_a_trigger_label_is_a_class_name_never_a_path(tmp_path):
    """The label names the folder the scans go to: '../x' wrote outside --out."""
    times = tmp_path / "t.csv"
    for label in ("../../escaped", "a/b", "Blip Fish", ".hidden"):
        times.write_text(f"gps,id,label\n64,abc,{label}\n")
        with pytest.raises(UserError, match="must be a class name"):
            read_triggers(times, "x")
    for label in ("Reverse_Chirp", "1080Lines"):  # every canonical class name is a label
        times.write_text(f"gps,id,label\n64,abc,{label}\n")
        assert read_triggers(times, "x")[0].label == label
    for name in CANONICAL_NAMES:
        assert LABEL.fullmatch(name), name


@pytest.mark.parametrize("gps", ["nan", "inf", "-inf", "soon"])
def test_a_trigger_time_that_is_not_a_number_is_named(tmp_path, gps):
    """float() reads 'nan': it was a ValueError traceback deep in the scan."""
    times = tmp_path / "t.csv"
    times.write_text(f"gps,id\n{gps},abc\n")
    with pytest.raises(UserError, match=f"bad time '{gps}'"):
        read_triggers(times, "x")


def test_scan_errors_are_one_line(tmp_path, capsys):
    times = tmp_path / "t.csv"
    times.write_text("when\n1\n")
    rc = main(
        [
            "scan",
            "--strain",
            str(tmp_path / "missing.hdf5"),
            "--times",
            str(times),
            "--out",
            str(tmp_path),
        ]
    )
    assert rc == 2
    assert capsys.readouterr().err.startswith("error: no such strain file")


def test_scan_reads_gwoscs_4_khz_files(tmp_path, capsys):
    """The stretch around a trigger was sized for 8192 Hz: at GWOSC's 4096 Hz (its most
    downloaded rate) every trigger was "too close to the data's edges"."""
    strain = tmp_path / "H-H1_SIM4K-1126259000-32.hdf5"
    write_gwosc_hdf5(strain, [("Blip", START + 16)], gps_start=START, sample_rate=4096.0, seed=4)
    times = tmp_path / "triggers.csv"
    times.write_text(f"gps,label,id\n{START + 16},Blip,b4k000001\n")
    out = tmp_path / "scans"
    args = ["scan", "--strain", str(strain), "--times", str(times), "--out", str(out), "--quiet"]
    assert main(args) == 0, capsys.readouterr().err
    rows = read_manifest(out / "manifest.csv")
    assert len(rows) == 4 and {r["sample_rate"] for r in rows} == {"4096"}
