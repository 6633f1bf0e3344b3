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


def _sine_gaussian_strain(path, rate, *, f0=1600.0, q=20.0, snr=20.0, seed=1):
    """16 s of white noise at 16384 Hz with a sine-Gaussian (f0, Q) at 8 s, saved as .npy at
    `rate`: decimated as GWOSC made its 4 kHz files (scipy.signal.decimate), so that every
    rate holds the same glitch in the same noise."""
    from scipy.signal import decimate

    full = 16384
    t = np.arange(16 * full) / full - 8.0
    tau = q / (np.sqrt(2) * np.pi * f0)
    glitch = np.exp(-((t / tau) ** 2)) * np.sin(2 * np.pi * f0 * t)
    glitch *= snr / np.sqrt(np.sum(glitch**2))  # matched-filter SNR in unit white noise
    series = np.random.default_rng(seed).standard_normal(t.size) + glitch
    if rate < full:
        series = decimate(series, full // rate)
    np.save(path, series)
    return path


def _scan_one(tmp_path, rate, name, capsys, **strain):
    strain_file = _sine_gaussian_strain(tmp_path / f"{name}.npy", rate, **strain)
    times = tmp_path / f"{name}.csv"
    times.write_text("gps,id\n1126259470,sg1600\n")
    out = tmp_path / name
    args = ["scan", "--strain", str(strain_file), "--sample-rate", str(rate), "--gps-start",
            "1126259462", "--ifo", "L1", "--times", str(times), "--out", str(out),
            "--style", "crop", "--quiet"]  # fmt: skip
    assert main(args) == 0
    rows = read_manifest(out / "manifest.csv")
    image = np.asarray(Image.open(out / rows[1]["path"]).convert("RGB"))  # the 1 s window
    return rows[0], image, capsys.readouterr().err


def test_a_1600_hz_glitch_in_4_khz_data_is_measured_and_drawn_where_it_is(tmp_path, capsys):
    """gwpy tiles 4096 Hz data only up to 1291 Hz: a 1600 Hz glitch was reported at 1184 Hz
    (Q 5.7, a third of its SNR), the rows from 1.3 to 2 kHz were copies of the top one, and a
    warning said the data reached 2048 Hz. Now the whitened stretch is upsampled to 8192 Hz
    and 4096 Hz data measure what 16384 Hz data of the same strain measure."""
    from ml.synth.render import row_frequencies

    slow, image, err = _scan_one(tmp_path, 4096, "s4096", capsys)
    fast, _, fast_err = _scan_one(tmp_path, 16384, "s16384", capsys)
    assert abs(float(fast["peak_frequency"]) - 1600) < 0.05 * 1600
    assert abs(float(slow["peak_frequency"]) - 1600) < 0.05 * 1600
    for column in ("peak_frequency", "bandwidth", "q_value", "glitch_duration"):
        assert float(slow[column]) == pytest.approx(float(fast[column]), rel=1e-6), column
    assert float(slow["snr"]) == pytest.approx(float(fast["snr"]), rel=0.05)
    assert float(slow["snr"]) > 15  # injected at 20
    assert slow["sample_rate"] == "4096" and fast["sample_rate"] == "8192"
    assert "scanned up to 2048 Hz" in err and "reach only" not in err
    assert fast_err == ""

    # pixel rows 1.3-1.95 kHz (above the top tile row, 2002 Hz on this Q plane, the edge of
    # the tiling holds that row, as at every rate)
    freqs = row_frequencies(image.shape[0])
    top = image[(freqs > 1300) & (freqs < 1950)]
    copies = sum(np.array_equal(a, b) for a, b in zip(top[:-1], top[1:], strict=True))
    assert len(top) > 30 and copies == 0  # each row its own, none a copy of the one above
    values = energy_of(image)
    assert abs(brightest_frequency(values) - 1600) < 0.05 * 1600


def test_data_below_4_khz_are_blank_above_their_nyquist(tmp_path, capsys):
    """2048 Hz data hold nothing above 1024 Hz: those rows are blank (not the top tile's row
    held up to 2048 Hz), no peak is looked for there, and the warning names 1024 Hz."""
    from ml.synth.render import row_frequencies

    row, image, err = _scan_one(tmp_path, 2048, "s2048", capsys, f0=600.0)
    assert "reach only 1024 Hz" in err
    assert abs(float(row["peak_frequency"]) - 600) < 0.05 * 600
    freqs = row_frequencies(image.shape[0])
    values = energy_of(image)
    assert np.all(values[freqs > 1025] == 0)
    assert values[(freqs < 1000) & (freqs > 500)].mean() > 0.3  # noise below it


def test_a_plain_series_needs_ifo(tmp_path, capsys):
    """A .npy or .txt series does not say its detector: it was scanned as H1 without a word
    (a "Hanford" title, H1_ files, ifo H1 on every subject imported). Refused, naming --ifo;
    a GWOSC file names its own (test_scan_renders_the_injected_glitches)."""
    strain = tmp_path / "s.npy"
    np.save(strain, np.random.default_rng(0).standard_normal(16 * 1024))
    times = tmp_path / "t.csv"
    times.write_text("gps,id\n1126259470,t1\n")
    out = tmp_path / "scans"
    args = ["scan", "--strain", str(strain), "--sample-rate", "1024", "--gps-start",
            "1126259462", "--times", str(times), "--out", str(out), "--quiet"]  # fmt: skip
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "s.npy does not say which detector recorded it: give --ifo" in err
    assert not out.exists()
    for bad in ("../x", "H1_", "X1", "h1"):  # it names the files and the plots
        assert main([*args, "--ifo", bad]) == 2
        assert f"--ifo {bad!r} is not a detector name" in capsys.readouterr().err
    assert main([*args, "--ifo", "V1"]) == 0
    rows = read_manifest(out / "manifest.csv")
    assert {r["ifo"] for r in rows} == {"V1"}
    assert all(r["path"] == f"unlabelled/V1_t1_spectrogram_{r['duration']}.png" for r in rows)


def _id_before_2026_12(source: str, time: str) -> str:
    """The id ml scan gave a trigger without one before the times were kept in full
    (bc9976a's _trigger_id): the time read as a float, hashed to 4 decimals."""
    import hashlib

    alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
    value = int.from_bytes(hashlib.sha256(f"{source}:{float(time):.4f}".encode()).digest(), "big")
    chars = []
    for _ in range(10):
        value, r = divmod(value, len(alphabet))
        chars.append(alphabet[r])
    return "".join(chars)


def test_trigger_times_keep_every_digit_they_are_given(tmp_path, capsys):
    """gps_time was written rounded to 0.1 ms (1126259470.412345678 -> 1126259470.4123): the
    time is kept as given (Omicron and Gravity Spy give ns), and the id is still drawn from it
    to 0.1 ms, the id earlier scans gave, so re-importing a re-scan finds its glitches again
    (a finer time hashed in full gave nearly every real trigger a new id, and the import a
    second copy of each glitch)."""
    from ml.metadata import read_metadata

    strain = tmp_path / "s.npy"
    np.save(strain, np.random.default_rng(0).standard_normal(16 * 1024))
    times = tmp_path / "t.csv"
    times.write_text("gps\n1126259470.412345678\n1126259471.4123\n1.12625947e9\n")
    out = tmp_path / "scans"
    args = ["scan", "--strain", str(strain), "--sample-rate", "1024", "--gps-start",
            "1126259462", "--ifo", "L1", "--times", str(times), "--out", str(out),
            "--style", "crop", "--quiet"]  # fmt: skip
    assert main(args) == 0, capsys.readouterr().err
    rows = read_manifest(out / "manifest.csv")
    times_of = {r["id"]: r["gps_time"] for r in rows}
    given = ["1126259470.412345678", "1126259471.4123", "1126259470"]
    assert times_of == {_id_before_2026_12("s.npy", t): t for t in given}
    assert _id_before_2026_12("s.npy", "1126259470.412345678") == "4RiLPQ0JxO"
    assert len(rows) == 12 and len({r["path"] for r in rows}) == 12
    table = read_metadata(out / "manifest.csv")
    assert table.problems == []
    assert table.get("L1_4RiLPQ0JxO").event_time == 1126259470.412345678

    assert [t.exact for t in read_triggers(times, "s.npy")] == list(times_of.values())
    for bad in ("1e-999999999", "1e999999999", "sNaN", ""):
        times.write_text(f"gps,id\n{bad},abc\n")
        with pytest.raises(UserError, match="bad time"):
            read_triggers(times, "x")


def test_triggers_within_a_tenth_of_a_ms_are_one_glitch_scanned_once(tmp_path, capsys):
    """Two triggers within 0.1 ms draw one id (the time to 0.1 ms): the second is that glitch
    again, scanned once and said so on stderr, not written over the first's images; an id
    the list gives two triggers is refused."""
    strain = tmp_path / "s.npy"
    np.save(strain, np.random.default_rng(0).standard_normal(16 * 1024))
    times = tmp_path / "t.csv"
    times.write_text("gps,label\n1126259470.412345678,Blip\n1126259470.41231,Koi_Fish\n")
    out = tmp_path / "scans"
    args = ["scan", "--strain", str(strain), "--sample-rate", "1024", "--gps-start",
            "1126259462", "--ifo", "L1", "--times", str(times), "--out", str(out),
            "--style", "crop", "--quiet"]  # fmt: skip
    assert main(args) == 0
    err = capsys.readouterr().err
    first = _id_before_2026_12("s.npy", "1126259470.412345678")
    assert first == _id_before_2026_12("s.npy", "1126259470.41231")
    assert (
        f"t.csv: 1126259470.41231 lies within 0.1 ms of 1126259470.412345678: one glitch, "
        f"scanned once as {first}" in err
    )
    rows = read_manifest(out / "manifest.csv")
    assert len(rows) == 4 and len({r["path"] for r in rows}) == 4
    assert {(r["id"], r["label"], r["gps_time"]) for r in rows} == {
        (first, "Blip", "1126259470.412345678")
    }
    assert not (out / "Koi_Fish").exists()

    times.write_text("gps,id\n1126259470,a1\n1126259471,a1\n")
    with pytest.raises(UserError, match="id 'a1' names two triggers"):
        read_triggers(times, "s.npy")
