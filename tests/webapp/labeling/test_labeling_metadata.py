"""Glitch metadata end to end: import (manifest or Gravity Spy CSV), subject page, API, map."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from webapp_factories import SubjectFactory, UserFactory, tiny_png

from webapp.labeling.metadata import map_facts
from webapp.labeling.models import Subject

pytestmark = pytest.mark.django_db

GRAVITY_SPY_CSV = (
    "event_time,ifo,peak_time,duration,peak_frequency,central_freq,bandwidth,channel,"
    "amplitude,snr,q_value,gravityspy_id,label\n"
    "1126259462.4,H1,1126259462,0.25,88.5,1016.9,2001.7,H1:GDS-CALIB_STRAIN,1e-22,12.84,"
    "5.657,aaaaaaaaaa,Blip\n"
    "1127700030.877,L1,1127700030,1.5,42.0,55.0,20.0,L1:GDS-CALIB_STRAIN,1e-22,bad,"
    "11.3,bbbbbbbbbb,Whistle\n"
)


def run(*args):
    out, err = StringIO(), StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.fixture
def glitch_dir(tmp_path):
    """Two Gravity Spy glitches in Gravity Spy's file layout (ids H1_<id>, L1_<id>)."""
    root = tmp_path / "glitches"
    for label, glitch_id in (("Blip", "H1_aaaaaaaaaa"), ("Whistle", "L1_bbbbbbbbbb")):
        (root / label).mkdir(parents=True)
        for duration in ("0.5", "1.0", "2.0", "4.0"):
            name = f"{glitch_id}_spectrogram_{duration}.png"
            (root / label / name).write_bytes(tiny_png())
    return root


def test_import_reads_a_gravity_spy_metadata_csv_by_gravityspy_id(glitch_dir, tmp_path):
    csv = tmp_path / "metadata.csv"
    csv.write_text(GRAVITY_SPY_CSV)
    out, err = run("import_glitches", str(glitch_dir), "--source", "gs", "--metadata", str(csv))
    assert "imported 2 new subjects" in out and "metadata written for 2" in out
    blip = Subject.objects.get(external_id="H1_aaaaaaaaaa")
    assert (blip.gps_time, blip.ifo, blip.channel) == (1126259462.4, "H1", "H1:GDS-CALIB_STRAIN")
    assert (blip.peak_frequency, blip.central_freq, blip.bandwidth) == (88.5, 1016.9, 2001.7)
    assert (blip.duration, blip.snr, blip.q_value) == (0.25, 12.84, 5.657)


def test_a_bad_value_is_named_and_nothing_else_is_lost(glitch_dir, tmp_path):
    csv = tmp_path / "metadata.csv"
    csv.write_text(GRAVITY_SPY_CSV)
    out, err = run("import_glitches", str(glitch_dir), "--source", "gs", "--metadata", str(csv))
    assert f"metadata: {csv}:3: snr 'bad' is not a number; left empty" in err
    assert "1 problems" in out
    whistle = Subject.objects.get(external_id="L1_bbbbbbbbbb")  # imported all the same
    assert whistle.images.count() == 4
    assert whistle.snr is None
    assert (whistle.gps_time, whistle.duration, whistle.q_value) == (1127700030.877, 1.5, 11.3)


def test_a_second_file_adds_to_subjects_imported_before_and_clears_nothing(glitch_dir, tmp_path):
    run("import_glitches", str(glitch_dir), "--source", "gs")
    assert Subject.objects.get(external_id="H1_aaaaaaaaaa").snr is None  # no metadata yet
    first = tmp_path / "first.csv"
    first.write_text("gravityspy_id,snr,channel\naaaaaaaaaa,9.5,H1:GDS-CALIB_STRAIN\n")
    second = tmp_path / "second.csv"
    second.write_text("gravityspy_id,peak_frequency,snr\naaaaaaaaaa,120,\n")
    out, _ = run("import_glitches", str(glitch_dir), "--source", "gs", "--metadata", str(first))
    assert "imported 0 new subjects" in out and "metadata written for 1" in out
    run("import_glitches", str(glitch_dir), "--source", "gs", "--metadata", str(second))
    blip = Subject.objects.get(external_id="H1_aaaaaaaaaa")
    assert (blip.snr, blip.channel, blip.peak_frequency) == (9.5, "H1:GDS-CALIB_STRAIN", 120)


def test_our_manifests_metadata_is_imported_with_the_images(tmp_path):
    root = tmp_path / "sim"
    (root / "Blip").mkdir(parents=True)
    lines = ["id,label,duration,path,ifo,gps_time,snr,central_frequency,bandwidth,"
             "peak_frequency,q,q_plane,glitch_duration"]  # fmt: skip
    for duration in ("0.5", "1.0", "2.0", "4.0"):
        path = f"Blip/L1_g1_spectrogram_{duration}.png"
        (root / path).write_bytes(tiny_png())
        lines.append(f"g1,Blip,{duration},{path},L1,1130000000.25,17.5,140,31,150,9,11.3,0.02")
    (root / "manifest.csv").write_text("\n".join(lines) + "\n")
    out, err = run("import_glitches", str(root), "--source", "sim")
    assert err == "" and "metadata written for 1" in out
    g1 = Subject.objects.get(external_id="g1")
    assert (g1.ifo, g1.gps_time, g1.snr, g1.central_freq) == ("L1", 1130000000.25, 17.5, 140)
    assert (g1.bandwidth, g1.peak_frequency, g1.q_value, g1.duration) == (31, 150, 11.3, 0.02)


def test_a_metadata_csv_wins_over_the_manifest_field_by_field(tmp_path):
    root = tmp_path / "sim"
    (root / "Blip").mkdir(parents=True)
    lines = ["id,label,duration,path,snr,peak_frequency"]
    for duration in ("0.5", "1.0", "2.0", "4.0"):
        path = f"Blip/g1_{duration}.png"
        (root / path).write_bytes(tiny_png())
        lines.append(f"g1,Blip,{duration},{path},17.5,150")
    (root / "manifest.csv").write_text("\n".join(lines) + "\n")
    csv = tmp_path / "meta.csv"
    csv.write_text("gravityspy_id,snr,bandwidth\ng1,20.25,31\n")
    run("import_glitches", str(root), "--source", "sim", "--metadata", str(csv))
    g1 = Subject.objects.get(external_id="g1")
    assert (g1.snr, g1.bandwidth, g1.peak_frequency) == (20.25, 31, 150)


def test_a_metadata_file_that_yields_nothing_stops_before_anything_is_written(glitch_dir, tmp_path):
    wrong = tmp_path / "labels.csv"
    wrong.write_text("gravityspy_id,label\naaaaaaaaaa,Blip\n")
    with pytest.raises(CommandError, match="none of the metadata columns"):
        run("import_glitches", str(glitch_dir), "--metadata", str(wrong))
    no_ids = tmp_path / "no_ids.csv"
    no_ids.write_text("name,snr\naaaaaaaaaa,3\n")
    with pytest.raises(CommandError, match="no gravityspy_id or id column"):
        run("import_glitches", str(glitch_dir), "--metadata", str(no_ids))
    with pytest.raises(CommandError, match="no such file"):
        run("import_glitches", str(glitch_dir), "--metadata", str(tmp_path / "missing.csv"))
    assert Subject.objects.count() == 0


def test_the_subject_page_and_api_show_the_metadata(client):
    subject = SubjectFactory(
        gps_time=1126259462.4,
        channel="H1:GDS-CALIB_STRAIN",
        peak_frequency=88.54,
        snr=12.84,
        q_value=5.657,
        duration=0.25,
        status=Subject.Status.RETIRED,  # its answers are public (or: the visitor voted)
    )
    page = client.get(f"/subjects/{subject.pk}/").content.decode()
    for text in ("H1:GDS-CALIB_STRAIN", "<dd>1126259462.4</dd>", "2015-09-14 09:50:45 UTC",
                 "88.54 Hz", "12.8", "5.66", "0.25 s"):  # fmt: skip
        assert text in page, text
    assert "Bandwidth" not in page  # unknown facts are left out, not shown empty
    client.force_login(UserFactory())
    data = client.get(f"/api/subjects/{subject.pk}/").json()
    assert (data["snr"], data["channel"], data["bandwidth"]) == (12.84, "H1:GDS-CALIB_STRAIN", None)


def test_the_subject_page_shows_the_gps_time_as_stored(client):
    """Shown to 3 decimals, a trigger time of 1165294364.1875 read as 1165294364.188, a
    time no table (Gravity Spy's event_time, Omicron's) holds."""
    shown = {1165294364.1875: "<dd>1165294364.1875</dd>", 1126259462.0: "<dd>1126259462</dd>"}
    for stored, text in shown.items():
        subject = SubjectFactory(gps_time=stored, status=Subject.Status.RETIRED)
        assert text in client.get(f"/subjects/{subject.pk}/").content.decode(), text


def test_the_map_hover_gets_numbers_and_detector_names_only():
    plain = SubjectFactory(ifo="L1", snr=7.26, peak_frequency=151.7)
    odd = SubjectFactory(ifo="<b>x</b>")
    facts = map_facts([plain.pk, odd.pk, 10**9])
    assert facts == {
        "ifo": ["L1", "", ""],
        "snr": [7.3, None, None],
        "peak_frequency": [152, None, None],
    }


def test_nothing_that_joins_a_public_table_shows_before_a_vote(client):
    """Gravity Spy publishes its training set's labels beside each glitch's id, event time,
    SNR and frequencies, and a simulation's id is a hash of its class: shown before a
    vote, any of them looked up a gold glitch's answer (a read-only review got 12 of 12)."""
    from webapp_factories import gold_subject

    from webapp.labeling import services

    gold = gold_subject("Blip", images=(1.0,))
    Subject.objects.filter(pk=gold.pk).update(
        external_id="H1_9zstHUFcAl", gps_time=1126259462.4, snr=12.84, peak_frequency=88.54
    )
    ann = UserFactory(username="ann")
    client.force_login(ann)

    page = client.get(f"/subjects/{gold.pk}/").content.decode()
    detail = client.get(f"/api/subjects/{gold.pk}/").json()
    served = client.get("/api/subjects/next/").json()

    for text in ("9zstHUFcAl", "1126259462", "88.54", "12.8"):
        assert text not in page, text
    assert {detail[k] for k in ("external_id", "gps_time", "snr", "peak_frequency")} == {None}
    assert served["id"] == gold.pk and not {"external_id", "gps_time", "snr"} & set(served)
    # her gold due (handed out just above) answered: a scored vote shows the answers
    services.classification_create(volunteer=ann, subject_id=gold.pk, class_name="Blip")
    assert "9zstHUFcAl" in client.get(f"/subjects/{gold.pk}/").content.decode()
    assert client.get(f"/api/subjects/{gold.pk}/").json()["snr"] == 12.84
