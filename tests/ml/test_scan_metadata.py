"""Glitch metadata: `ml scan` and the simulator write it, ml.metadata reads it back checked."""

from __future__ import annotations

from dataclasses import fields
from datetime import UTC, datetime

import pytest

from ml.cli import main
from ml.metadata import (
    METADATA_COLUMNS,
    GlitchMetadata,
    gps_to_utc,
    read_metadata,
    tile_bandwidth,
)
from ml.synth import generate, write_gwosc_hdf5
from ml.synth.render import QRANGE

START = 1126259000.0
GRAVITY_SPY_HEADER = (
    "event_time,ifo,peak_time,peak_time_ns,start_time,start_time_ns,duration,peak_frequency,"
    "central_freq,bandwidth,channel,amplitude,snr,q_value,gravityspy_id,label,url1\n"
)


def test_the_fields_are_gravity_spys_columns():
    assert tuple(f.name for f in fields(GlitchMetadata)) == METADATA_COLUMNS


def test_scan_writes_every_metadata_column(tmp_path):
    strain = tmp_path / "H-H1_SIM-1126259000-32.hdf5"
    write_gwosc_hdf5(strain, [("Blip", START + 16)], gps_start=START, seed=5)
    times = tmp_path / "triggers.csv"
    times.write_text(f"gps,label,id\n{START + 16},Blip,bl0000001\n")
    out = tmp_path / "scans"
    assert main(["scan", "--strain", str(strain), "--times", str(times), "--out", str(out),
                 "--quiet"]) == 0  # fmt: skip

    table = read_metadata(out / "manifest.csv")
    assert table.problems == []
    meta = table.get("bl0000001")
    assert meta is not None
    assert meta.event_time == pytest.approx(START + 16)
    assert meta.ifo == "H1"
    assert 30 < meta.peak_frequency < 500  # a blip
    assert meta.central_freq == meta.peak_frequency  # one tile: its frequency
    assert QRANGE[0] <= meta.q_value <= QRANGE[1]
    assert meta.bandwidth == pytest.approx(
        tile_bandwidth(meta.peak_frequency, meta.q_value), rel=1e-3
    )
    assert 0 < meta.duration < 1
    assert meta.snr > 5  # an injected glitch, well above the noise


def test_the_simulators_manifest_carries_plausible_metadata(tmp_path):
    manifest = generate(tmp_path, 1, classes=["Blip", "Scattered_Light"], seed=3, workers=1)
    table = read_metadata(manifest)
    assert table.problems == []
    assert len(table) == 2
    for meta in table.by_id.values():
        assert meta.ifo in ("H1", "L1")
        assert 1126051217 <= meta.event_time <= 1137254417  # O1
        assert meta.snr > 0 and meta.peak_frequency > 0 and meta.bandwidth > 0
        assert meta.q_value >= QRANGE[0] and meta.duration > 0


def test_a_gravity_spy_metadata_csv_is_read_by_its_id(tmp_path):
    csv = tmp_path / "trainingset_v1d1_metadata.csv"
    csv.write_text(
        GRAVITY_SPY_HEADER
        + "1127700030.877,L1,1127700030,876953125,1127700030,751952886,0.25,88.5,"
        "1016.9,2001.7,L1:GDS-CALIB_STRAIN,1.2e-22,12.84,5.657,zm4WcPbNt1,Blip,https://x\n"
    )
    table = read_metadata(csv)
    assert table.problems == []
    meta = table.get("L1_zm4WcPbNt1")  # how ml.data names a Gravity Spy file's glitch
    assert meta == GlitchMetadata(
        event_time=1127700030.877,
        ifo="L1",
        peak_frequency=88.5,
        central_freq=1016.9,
        bandwidth=2001.7,
        duration=0.25,
        snr=12.84,
        q_value=5.657,
        channel="L1:GDS-CALIB_STRAIN",
    )
    assert table.get("zm4WcPbNt1") == meta


def test_bad_values_are_named_and_the_rest_of_the_row_is_kept(tmp_path):
    csv = tmp_path / "meta.csv"
    csv.write_text(
        "gravityspy_id,event_time,ifo,snr,peak_frequency,bandwidth,duration,channel\n"
        "good1,1127700030.5,H1,8.0,120,40,0.1,H1:GDS-CALIB_STRAIN\n"
        "bad1,yesterday,X9,-3,nan,1e999,0.2,<script>\n"
        ",1127700031,H1,8,1,1,1,\n"
    )
    table = read_metadata(csv)
    assert table.get("good1") == GlitchMetadata(
        event_time=1127700030.5, ifo="H1", snr=8.0, peak_frequency=120, bandwidth=40,
        duration=0.1, channel="H1:GDS-CALIB_STRAIN",
    )  # fmt: skip
    assert table.get("bad1") == GlitchMetadata(duration=0.2)
    text = "\n".join(table.problems)
    assert f"{csv}:3: event_time 'yesterday' is not a number" in text
    assert f"{csv}:3: ifo 'X9' is not a detector name" in text
    assert f"{csv}:3: snr '-3' is negative" in text
    assert f"{csv}:3: peak_frequency 'nan' is not a finite number" in text
    assert f"{csv}:3: bandwidth '1e999' is not a finite number" in text
    assert f"{csv}:3: channel '<script>' is not a channel name" in text
    assert f"{csv}:4: empty gravityspy_id; row skipped" in text
    assert len(table.problems) == 7


def test_in_a_manifest_duration_is_the_window_not_the_glitch(tmp_path):
    manifest = tmp_path / "manifest.csv"
    manifest.write_text(
        "id,label,duration,path,gps_time,glitch_duration,snr\n"
        "g1,Blip,0.5,Blip/g1_0.5.png,1126259462.4,0.05,9\n"
        "g1,Blip,4.0,Blip/g1_4.0.png,1126259462.4,0.05,10\n"
    )
    table = read_metadata(manifest)
    meta = table.get("g1")
    assert meta == GlitchMetadata(event_time=1126259462.4, duration=0.05, snr=9.0)
    assert table.problems == [f"{manifest}:3: g1 has snr 10.0 here and 9.0 before; kept the first"]


def test_a_listing_of_images_without_paths_reads_duration_as_the_window(tmp_path):
    # the real set's manifest.csv: one row per image, no path column
    listing = tmp_path / "manifest.csv"
    listing.write_text(
        "id,label,duration,sha256\nzoo-a,Blip,0.5,x\nzoo-a,Blip,4.0,y\nzoo-b,Blip,1.0,z\n"
    )
    table = read_metadata(listing)
    assert len(table) == 0 and table.problems == []
    # one row per glitch (Gravity Spy's metadata): duration is the glitch's
    per_glitch = tmp_path / "metadata.csv"
    per_glitch.write_text("gravityspy_id,duration,snr\nzoo-a,0.25,8\nzoo-b,0.5,9\n")
    assert read_metadata(per_glitch).get("zoo-a") == GlitchMetadata(duration=0.25, snr=8.0)


def test_a_file_without_metadata_columns_is_no_problem(tmp_path):
    manifest = tmp_path / "manifest.csv"
    manifest.write_text("id,label,duration,path\ng1,Blip,0.5,Blip/g1_0.5.png\n")
    table = read_metadata(manifest)
    assert len(table) == 0 and table.problems == []


def test_gps_time_to_utc_counts_leap_seconds():
    assert gps_to_utc(1126259462.4) == datetime(2015, 9, 14, 9, 50, 45, 400000, tzinfo=UTC)
    assert gps_to_utc(1187008882.43) == datetime(2017, 8, 17, 12, 41, 4, 430000, tzinfo=UTC)
    assert gps_to_utc(0) == datetime(1980, 1, 6, tzinfo=UTC)


def test_zero_means_none_for_a_frequency_or_a_duration_but_an_snr_of_zero_is_kept(tmp_path):
    manifest = tmp_path / "manifest.csv"
    manifest.write_text(
        "id,label,duration,path,central_frequency,glitch_duration,snr\n"
        "quiet,No_Glitch,1.0,No_Glitch/quiet_1.0.png,0,0,0\n"
    )
    assert read_metadata(manifest).get("quiet") == GlitchMetadata(snr=0.0)
