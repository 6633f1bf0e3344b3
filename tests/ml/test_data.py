"""ml.data: every image layout loads, durations group into samples, bad files are reported."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from image_factories import png_declaring, write_glitch

from ml import data
from ml.classes import ClassRegistry
from ml.data import DURATIONS, load_samples, nearest_duration

REAL_SET = Path(__file__).resolve().parents[2].parent / "shared/data/gravityspy-real"


def test_our_layout_groups_the_four_durations_of_a_glitch(tmp_path: Path) -> None:
    write_glitch(tmp_path / "Blip", "H1_0ABC123xyz_{d}")
    write_glitch(tmp_path / "Koi_Fish", "zoo-1a2b-3c_{d}", suffix=".JPG")

    result = load_samples(tmp_path)

    assert result.problems == []
    assert [(s.label, s.id, s.ifo) for s in result.samples] == [
        ("Blip", "H1_0ABC123xyz", "H1"),
        ("Koi_Fish", "zoo-1a2b-3c", None),
    ]
    blip = result.samples[0]
    assert blip.substituted == ()
    assert {d: p.name for d, p in blip.paths.items()} == {
        0.5: "H1_0ABC123xyz_0.5.png",
        1.0: "H1_0ABC123xyz_1.0.png",
        2.0: "H1_0ABC123xyz_2.0.png",
        4.0: "H1_0ABC123xyz_4.0.png",
    }


def test_gravity_spy_zenodo_names_give_ifo_and_id(tmp_path: Path) -> None:
    write_glitch(tmp_path / "Whistle", "L1_zqsv48frMo_spectrogram_{d}")

    [sample] = load_samples(tmp_path).samples

    assert (sample.id, sample.ifo, sample.label) == ("L1_zqsv48frMo", "L1", "Whistle")
    assert set(sample.paths) == set(DURATIONS)


def test_files_directly_in_the_root_are_unlabelled(tmp_path: Path) -> None:
    write_glitch(tmp_path, "V1_queued_{d}", durations=(1.0, 2.0))

    [sample] = load_samples(tmp_path).samples

    assert sample.label is None and sample.id == "V1_queued" and sample.ifo == "V1"


def test_manifest_csv_rows_are_read_relative_to_the_csv(tmp_path: Path) -> None:
    write_glitch(tmp_path / "img", "a{d}")
    write_glitch(tmp_path / "img", "b{d}", durations=(2.0,))
    rows = ["id,label,duration,path,comment,ifo"]
    rows += [f"g1,Chirp,{d},img/a{d}.png,x,L1" for d in DURATIONS]
    rows += ["g2,,2.0,img/b2.0.png,unlabelled,"]
    manifest = tmp_path / "list.csv"
    manifest.write_text("\n".join(rows) + "\n")

    result = load_samples(manifest)

    assert result.problems == []
    assert [(s.id, s.label, s.ifo) for s in result.samples] == [
        ("g2", None, None),
        ("g1", "Chirp", "L1"),
    ]
    assert result.samples[1].paths[0.5] == tmp_path / "img/a0.5.png"


def test_a_manifests_ifo_that_names_no_detector_is_left_empty_and_said(tmp_path: Path) -> None:
    # it became the subject's detector as written ('@A1', a formula in a spreadsheet)
    write_glitch(tmp_path / "img", "a{d}", durations=(1.0,))
    (tmp_path / "list.csv").write_text("id,label,duration,path,ifo\ng1,Blip,1.0,img/a1.0.png,@A1\n")

    result = load_samples(tmp_path / "list.csv")

    assert [(s.id, s.ifo) for s in result.samples] == [("g1", None)]
    assert result.problems == []  # the glitch is read; only its detector is not
    assert result.notes == ["glitch g1: ifo '@A1' is not a detector name: left empty"]


def test_a_folder_with_a_path_manifest_is_read_through_it(tmp_path: Path) -> None:
    write_glitch(tmp_path / "raw", "x_{d}", durations=(1.0,))
    (tmp_path / "manifest.csv").write_text("id,label,duration,path\nG7,Helix,1.0,raw/x_1.0.png\n")

    [sample] = load_samples(tmp_path).samples

    assert (sample.id, sample.label) == ("G7", "Helix")


def test_a_spreadsheets_manifest_is_read_and_one_in_another_encoding_is_named(
    tmp_path: Path,
) -> None:
    """Excel saves "CSV UTF-8" with a byte-order mark: its first column was read as
    '\ufeffid' ("manifest lacks column(s) id"). Latin-1 text was a UnicodeDecodeError
    traceback; now it is one problem line and nothing is loaded from it."""
    write_glitch(tmp_path / "raw", "x_{d}", durations=(1.0,))
    (tmp_path / "manifest.csv").write_text(
        "id,label,duration,path\nG7,Helix,1.0,raw/x_1.0.png\n", encoding="utf-8-sig"
    )
    [sample] = load_samples(tmp_path).samples
    assert (sample.id, sample.label) == ("G7", "Helix")

    (tmp_path / "manifest.csv").write_bytes(
        "id,label,duration,path,comment\nG7,Helix,1.0,raw/x_1.0.png,caf\xe9\n".encode("latin-1")
    )
    result = load_samples(tmp_path)
    assert result.samples == []
    assert len(result.problems) == 1 and "not UTF-8 text" in result.problems[0]


def test_missing_durations_take_the_nearest_view_and_are_flagged(tmp_path: Path) -> None:
    write_glitch(tmp_path / "Blip", "g_{d}", durations=(0.5, 2.0))

    [sample] = load_samples(tmp_path).samples

    assert sample.substituted == (1.0, 4.0)
    # 1.0 s is as close to 0.5 s as to 2.0 s (durations double): the longer view wins.
    assert sample.paths[1.0].name == "g_2.0.png"
    assert sample.paths[4.0].name == "g_2.0.png"
    # its files (ml evaluate's misclassified glitches, a model's metrics.json) are two
    assert [Path(f).name for f in sample.files()] == ["g_0.5.png", "g_2.0.png"]
    assert sample.paths[0.5].name == "g_0.5.png"


def test_nearest_duration_breaks_ties_towards_the_longer_view() -> None:
    assert nearest_duration(2.0, [1.0, 4.0]) == 4.0
    assert nearest_duration(0.5, [1.0, 4.0]) == 1.0
    assert nearest_duration(4.0, [0.5]) == 0.5


def test_unknown_labels_and_corrupt_files_are_reported_and_the_rest_loads(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    write_glitch(tmp_path / "Blip", "good_{d}")
    write_glitch(tmp_path / "Not_A_Class", "stranger_{d}", durations=(1.0,))
    corrupt = tmp_path / "Blip" / "broken_1.0.png"
    corrupt.write_bytes(b"\x89PNG\r\n\x1a\n" + b"garbage" * 10)
    text = tmp_path / "Blip" / "notes_2.0.jpg"
    text.write_text("not an image")
    [whole] = write_glitch(tmp_path_factory.mktemp("src"), "cut_{d}", durations=(4.0,))
    truncated = tmp_path / "Blip" / "cut_4.0.png"
    truncated.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])

    result = load_samples(tmp_path)

    assert [s.id for s in result.samples] == ["good"]
    assert len(result.problems) == 4
    stranger = str(tmp_path / "Not_A_Class" / "stranger_1.0.png")
    assert any(line.startswith(f"{stranger}: unknown class") for line in result.problems)
    assert any(line.startswith(f"{corrupt}: not a readable image") for line in result.problems)
    assert any(line.startswith(f"{text}: not a readable image") for line in result.problems)
    assert any(line.startswith(f"{truncated}: truncated PNG") for line in result.problems)


# --- a file's end: a cut one is refused, a whole one with bytes after its end is taken -----


@pytest.mark.parametrize("suffix", [".png", ".jpg"])
def test_a_whole_image_with_bytes_after_its_end_is_taken(tmp_path: Path, suffix: str) -> None:
    """Some tools and cameras append data after a JPEG's EOI (or a PNG's IEND): every decoder
    shows the picture. The end marker was looked for in the last 64 bytes only, so such a
    file was refused as truncated."""
    [image] = write_glitch(tmp_path / "Blip", "tail_{d}", durations=(1.0,), suffix=suffix)
    image.write_bytes(image.read_bytes() + b"trailer:" * 20)

    result = load_samples(tmp_path)

    assert result.problems == []
    assert [s.id for s in result.samples] == ["tail"]


def test_a_png_cut_in_its_pixels_is_refused_though_it_keeps_its_end(tmp_path: Path) -> None:
    """A PNG cut in its IDAT data that keeps its last 12 bytes (IEND) passed the check and
    failed only when decoded; its chunks, walked from the start, run past its end."""
    [whole] = write_glitch(tmp_path / "src", "whole_{d}", durations=(1.0,))
    image_bytes = whole.read_bytes()
    cut = tmp_path / "data" / "Blip" / "cut_1.0.png"
    cut.parent.mkdir(parents=True)
    cut.write_bytes(image_bytes[: len(image_bytes) // 2] + image_bytes[-12:])

    result = load_samples(tmp_path / "data")

    assert result.samples == []
    assert result.problems == [f"{cut}: truncated PNG file (no end marker)"]


@pytest.mark.parametrize("after", [b"", b"\0" * 100], ids=["cut", "cut-then-zeros"])
def test_a_jpeg_cut_short_is_refused(tmp_path: Path, after: bytes) -> None:
    """Cut, or cut and then padded (a download into a file made at its full size, broken off):
    bytes after a JPEG's end are allowed now, so its decoding decides, not its tail."""
    [whole] = write_glitch(tmp_path / "src", "whole_{d}", durations=(1.0,), suffix=".jpg")
    image_bytes = whole.read_bytes()
    cut = tmp_path / "data" / "Blip" / "cut_1.0.jpg"
    cut.parent.mkdir(parents=True)
    cut.write_bytes(image_bytes[: len(image_bytes) // 2] + after)

    result = load_samples(tmp_path / "data")

    assert result.samples == []
    [problem] = result.problems
    assert problem.startswith(f"{cut}: truncated JPEG file")


def test_unknown_labels_are_kept_on_request_for_evaluation(tmp_path: Path) -> None:
    write_glitch(tmp_path / "Reverse_Chirp", "r_{d}", durations=(2.0,))

    kept = load_samples(tmp_path, keep_unknown_labels=True)
    with_class = load_samples(tmp_path, registry=ClassRegistry(["Blip", "Reverse_Chirp"]))

    assert [s.label for s in kept.samples] == ["Reverse_Chirp"] and kept.problems == []
    assert [s.label for s in with_class.samples] == ["Reverse_Chirp"]


def test_bad_durations_are_reported(tmp_path: Path) -> None:
    write_glitch(tmp_path / "Blip", "odd_{d}", durations=(3.0,))

    result = load_samples(tmp_path)

    assert result.samples == []
    assert [line.split(": ", 1)[1] for line in result.problems] == [
        "duration 3.0 is not one of (0.5, 1.0, 2.0, 4.0)"
    ]


def test_a_file_named_without_a_duration_is_a_single_view_glitch(tmp_path: Path) -> None:
    (path,) = write_glitch(tmp_path / "Blip", "golden-Blip", durations=(1.0,))

    result = load_samples(tmp_path)

    assert result.problems == []
    (sample,) = result.samples
    assert (sample.id, sample.label) == ("golden-Blip", "Blip")
    assert set(sample.paths.values()) == {path} and sample.substituted == DURATIONS
    assert sample.views() == {}  # no view of a known duration: nothing to cut in time from
    assert sample.files() == [str(path)]  # once, not once per duration it stands in for


def test_an_undated_file_sharing_an_id_with_dated_ones_is_refused(tmp_path: Path) -> None:
    write_glitch(tmp_path / "Blip", "g1_{d}", durations=(1.0, 2.0))
    write_glitch(tmp_path / "Blip", "g1", durations=(1.0,))

    result = load_samples(tmp_path)

    assert result.samples == []
    assert len(result.problems) == 3 and all("without a duration" in p for p in result.problems)


def test_each_sample_remembers_the_root_it_came_from(tmp_path: Path) -> None:
    write_glitch(tmp_path / "sim" / "Blip", "s_{d}")
    write_glitch(tmp_path / "real" / "Blip", "r_{d}")

    result = load_samples([tmp_path / "sim", tmp_path / "real"])

    assert {s.id: s.source for s in result.samples} == {
        "s": str(tmp_path / "sim"),
        "r": str(tmp_path / "real"),
    }


def test_the_real_gravity_spy_set_loads_with_its_labels() -> None:
    if not REAL_SET.is_dir():
        pytest.skip(f"real data set not found at {REAL_SET}")

    result = load_samples(REAL_SET)

    assert result.problems == [] and result.left_out == [] and result.notes == []
    assert len(result.samples) == 242  # README: 242 distinct glitches (views merged), 665 images
    counts = Counter(s.label for s in result.samples)
    assert counts["Blip"] == 105 and counts["Whistle"] == 73 and counts["Koi_Fish"] == 19
    assert counts["Power_Line"] == 12 and counts["Violin_Mode"] == 9
    assert counts["Scratchy"] == 8 and len(counts) == 22
    images = {p for s in result.samples for d, p in s.paths.items() if d not in s.substituted}
    assert len(images) == 665
    golden = next(s for s in result.samples if s.id == "golden-1080Line")
    assert golden.label == "1080Lines" and golden.substituted == (0.5, 2.0, 4.0)


# --- untrusted input: bombs, huge files, paths leaving the data set -------------------------


def test_decompression_bombs_are_refused_before_decoding(tmp_path: Path) -> None:
    write_glitch(tmp_path / "Blip", "good_{d}")
    over_our_limit = png_declaring(tmp_path / "Blip" / "bomb_1.0.png", 6000, 5000)
    over_pil_limit = png_declaring(tmp_path / "Blip" / "nuke_1.0.png", 100_000, 100_000)

    result = load_samples(tmp_path)

    assert [s.id for s in result.samples] == ["good"]
    assert sorted(result.problems)[0] == (
        f"{over_our_limit}: image too large, possible decompression bomb "
        f"(6000x5000 pixels; the limit is {data.MAX_IMAGE_PIXELS})"
    )
    assert sorted(result.problems)[1].startswith(
        f"{over_pil_limit}: image too large, possible decompression bomb"
    )
    assert len(result.problems) == 2


def test_huge_files_are_refused_by_size(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    [image] = write_glitch(tmp_path / "Blip", "big_{d}", durations=(1.0,))
    monkeypatch.setattr(data, "MAX_IMAGE_BYTES", image.stat().st_size - 1)

    result = load_samples(tmp_path)

    assert result.samples == []
    assert result.problems == [
        f"{image}: file too large ({image.stat().st_size} bytes; "
        f"the limit is {image.stat().st_size - 1})"
    ]


def test_symlinks_leaving_the_folder_are_refused(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    outside = tmp_path_factory.mktemp("elsewhere")
    [secret] = write_glitch(outside, "secret_{d}", durations=(1.0,))
    write_glitch(tmp_path / "Blip", "good_{d}")
    (tmp_path / "Blip" / "leak_1.0.png").symlink_to(secret)
    (tmp_path / "Whistle").symlink_to(outside, target_is_directory=True)
    write_glitch(tmp_path / "Koi_Fish", "alias_{d}", durations=(2.0,))
    (tmp_path / "Blip" / "alias2_2.0.png").symlink_to(tmp_path / "Koi_Fish/alias_2.0.png")

    result = load_samples(tmp_path)

    # Links inside the data set are fine; a linked folder outside it is never walked.
    assert [s.id for s in result.samples] == ["alias2", "good", "alias"]
    assert result.problems == [
        f"{tmp_path / 'Blip' / 'leak_1.0.png'}: symlink leads outside {tmp_path}; refused",
        f"{tmp_path / 'Whistle'}: a symlinked folder, not read (copy its files in, or load it "
        "as a folder of its own)",
    ]


def test_manifest_paths_must_stay_under_the_csv_folder(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    outside = tmp_path_factory.mktemp("elsewhere")
    [secret] = write_glitch(outside, "secret_{d}", durations=(1.0,))
    write_glitch(tmp_path / "img", "ok_{d}", durations=(1.0,))
    (tmp_path / "img" / "link_1.0.png").symlink_to(secret)
    manifest = tmp_path / "manifest.csv"
    manifest.write_text(
        "id,label,duration,path\n"
        "g1,Blip,1.0,img/ok_1.0.png\n"
        f"g2,Blip,1.0,{secret}\n"
        f"g3,Blip,1.0,../{outside.name}/secret_1.0.png\n"
        "g4,Blip,1.0,img/link_1.0.png\n"
        "g5,Blip,1.0,C:\\data\\x_1.0.png\n"
    )

    result = load_samples(tmp_path)

    assert [s.id for s in result.samples] == ["g1"]
    assert [line.split(": ", 1)[0] for line in result.problems] == [
        f"{manifest}:{n}" for n in (3, 4, 5, 6)
    ]
    reasons = [line.split(": ", 1)[1] for line in result.problems]
    assert "is absolute" in reasons[0] and "is absolute" in reasons[3]
    assert "contains '..'" in reasons[1]
    assert "symlink leading outside" in reasons[2]
    assert all(line.endswith("; refused") for line in result.problems)


def test_a_class_folder_spelled_otherwise_is_read_as_its_class_and_said_once(
    tmp_path: Path,
) -> None:
    """koi_fish/ or KoiFish/ (Zooniverse's spelling): before, every such glitch was skipped
    when training, and counted wrong under a class of its own when evaluating."""
    write_glitch(tmp_path / "koi_fish", "g1_{d}")
    write_glitch(tmp_path / "KoiFish", "g2_{d}")
    write_glitch(tmp_path / "NOA", "g3_{d}")
    write_glitch(tmp_path / "Blipp", "g4_{d}")
    result = load_samples(tmp_path)
    assert {s.id: s.label for s in result.samples} == {
        "g1": "Koi_Fish", "g2": "Koi_Fish", "g3": "None_of_the_Above"
    }  # fmt: skip
    assert sorted(result.notes) == [
        "class 'KoiFish' read as 'Koi_Fish'",
        "class 'NOA' read as 'None_of_the_Above'",
        "class 'koi_fish' read as 'Koi_Fish'",
    ]
    assert len(result.problems) == 4 and all("'Blipp'" in p for p in result.problems)


def test_a_symlinked_class_folder_is_named_not_dropped_unsaid(tmp_path: Path) -> None:
    write_glitch(tmp_path / "elsewhere" / "Whistle", "g1_{d}")
    (tmp_path / "data").mkdir()
    write_glitch(tmp_path / "data" / "Blip", "g2_{d}")
    (tmp_path / "data" / "Whistle").symlink_to(tmp_path / "elsewhere" / "Whistle")
    result = load_samples(tmp_path / "data")
    assert [s.id for s in result.samples] == ["g2"]
    assert result.problems == [
        f"{tmp_path / 'data' / 'Whistle'}: a symlinked folder, not read (copy its files in, "
        "or load it as a folder of its own)"
    ]


def test_images_under_split_folders_are_read_and_a_note_names_the_splits(tmp_path):
    # Kaggle's copy of Gravity Spy: train/, validation/ and test/, a folder per class in each.
    # Read as one data set, its test glitches train (or, in the app, join the pool).
    for split, glitch_id in (("train", "H1_aaaaaaaaaa"), ("test", "H1_bbbbbbbbbb")):
        write_glitch(tmp_path / split / "Blip", glitch_id + "_spectrogram_{d}", (0.5, 1.0))

    result = load_samples(tmp_path)

    assert [s.id for s in result.samples] == ["H1_aaaaaaaaaa", "H1_bbbbbbbbbb"]
    (note,) = [n for n in result.notes if "split folders" in n]
    assert "test/ (2 images)" in note and "train/ (2 images)" in note
    assert not [n for n in load_samples(tmp_path / "test").notes if "split" in n]


# --- what is left out is countable: files, and glitches none of whose files was read --------


def test_what_is_left_out_is_counted_by_file_and_by_glitch(tmp_path: Path) -> None:
    """A caller printed the problem lines and then its score over the rest, with nothing to
    say how much the lines stood for: a line may name several files, and a glitch that lost
    one view of four is still read."""
    write_glitch(tmp_path / "Blip", "whole_{d}")
    [lost_view, *_] = write_glitch(tmp_path / "Blip", "three_views_{d}")
    lost_view.write_bytes(b"not an image")
    for view in write_glitch(tmp_path / "Blip", "lost_{d}", durations=(1.0, 2.0)):
        view.write_bytes(b"not an image")
    write_glitch(tmp_path / "Not_A_Class", "stranger_{d}", durations=(1.0,))

    result = load_samples(tmp_path)

    assert [s.id for s in result.samples] == ["three_views", "whole"]
    assert (result.files_left_out, result.glitches_left_out) == (4, 2)
    assert len(result.left_out) == len(result.problems) == 4
    assert result.left_out_line() == (
        "4 files not read, 2 glitches left out entirely (each named above with why)"
    )
    write_glitch(tmp_path / "Not_A_Class", "stranger_{d}", durations=(2.0,))
    assert load_samples(tmp_path).glitches_left_out == 2  # one glitch, two files
    assert load_samples(tmp_path / "Blip").left_out_line() is not None
    assert load_samples(tmp_path / "Not_A_Class", keep_unknown_labels=True).left_out == []


def test_the_rows_of_a_manifest_refused_whole_are_counted(tmp_path: Path) -> None:
    write_glitch(tmp_path / "img", "a_{d}", durations=(1.0, 2.0))
    manifest = tmp_path / "list.csv"
    manifest.write_text("id,label,path\ng1,Blip,img/a_1.0.png\ng1,Blip,img/a_2.0.png\n")

    result = load_samples(manifest)

    assert result.problems == [f"{manifest}: manifest lacks column(s) duration"]
    assert (result.files_left_out, result.glitches_left_out) == (2, 1)


# --- a duration written otherwise: a problem, not a glitch per view ---------------------------

# (name template, the name it would be read under): each is one glitch's 0.5 s view
MISNAMED_VIEWS = [
    ("g_{d}s", "g_0.5.png"),
    ("g_{d}sec", "g_0.5.png"),
    ("g_{d} s", "g_0.5.png"),
    ("g-{d}", "g_0.5.png"),
    ("g {d}", "g_0.5.png"),
    ("g.{d}", "g_0.5.png"),
    ("g_{p}", "g_0.5.png"),
    ("g_{c}", "g_0.5.png"),
    ("g_{ms}ms", "g_0.5.png"),
    ("g_spectrogram_{d} (1)", "g_spectrogram_0.5.png"),
    ("g_{d} - Copy", "g_0.5.png"),
    ("g_{d} copy 2", "g_0.5.png"),
    ("g_{d}.png", "g_0.5.png"),
    ("g_{d} ", "g_0.5.png"),
]


@pytest.mark.parametrize(("template", "better"), MISNAMED_VIEWS)
def test_a_duration_written_otherwise_is_a_problem_not_a_glitch_per_view(
    tmp_path: Path, template: str, better: str
) -> None:
    """`<id>_0.5s.png`: the name did not match, so each view was read as a glitch of one
    undated view: one glitch's four views were scored as four glitches."""
    names = {
        d: template.format(
            d=d, p=str(d).replace(".", "p"), c=str(d).replace(".", ","), ms=int(d * 1000)
        )  # fmt: skip
        for d in DURATIONS
    }
    for d, name in names.items():
        write_glitch(tmp_path / "Blip", name, durations=(d,))

    result = load_samples(tmp_path)

    assert result.samples == []
    assert len(result.problems) == 4 and result.glitches_left_out == 1
    short = tmp_path / "Blip" / (names[0.5] + ".png")
    [line] = [p for p in result.problems if p.startswith(f"{short}: ")]
    assert "not read" in line and "<id>_<duration>.png" in line and "0.5, 1.0, 2.0, 4.0" in line
    assert "<id>_spectrogram_<duration>.png" in line and f"rename it {better!r}" in line


def test_a_unit_on_a_duration_not_read_is_named_without_a_name_to_use(tmp_path: Path) -> None:
    (path,) = write_glitch(tmp_path / "Blip", "g_0.25s", durations=(1.0,))
    [line] = load_samples(tmp_path).problems
    assert line.startswith(f"{path}: its name ends in '_0.25s'") and "rename it" not in line


@pytest.mark.parametrize(
    "stem",
    [
        "golden-Blip", "golden-Blip-1", "golden-Blip (1)", "golden-1080Lines", "zoosubject-3772789",
        "H1_0a1B2c3D4e", "H1_12345678s", "zoo-155385bb-23c5-4433-89b5-6e19dfc52d5c",
        "L1-1126259462.4", "Screen Shot 2024-05-01 at 10.21.33", "fig-2", "fig 3", "g-0.25",
    ],
)  # fmt: skip
def test_a_name_with_no_duration_at_its_end_is_still_a_one_view_glitch(
    tmp_path: Path, stem: str
) -> None:
    write_glitch(tmp_path / "Blip", stem, durations=(1.0,))

    result = load_samples(tmp_path)

    assert result.problems == []
    assert [(s.id, s.substituted) for s in result.samples] == [(stem, DURATIONS)]


def test_every_real_file_read_without_its_duration_is_a_one_view_glitch() -> None:
    """The pattern that flags a duration written otherwise, tried on every id of the real
    set: none of them, with its duration taken off, ends in something taken for one."""
    if not REAL_SET.is_dir():
        pytest.skip(f"real data set not found at {REAL_SET}")
    names = [p.name for p in REAL_SET.rglob("*") if p.suffix.lower() in data.IMAGE_SUFFIXES]
    assert len(names) == 665
    for name in names:
        match = data._FILE_NAME.match(name)
        assert match is not None, name
        assert data._misnamed_view(match.group("id") + Path(name).suffix) is None, name


# --- one id in several class folders: one line per id, nothing re-keyed --------------------


def test_ids_numbered_alike_in_two_class_folders_are_one_line_per_id(tmp_path: Path) -> None:
    """Blip/001_0.5.png and Whistle/001_0.5.png: a line per file (8 for one id) said "carries
    several labels", and the score went on over what was left without saying a class was
    gone."""
    for label in ("Blip", "Whistle"):
        write_glitch(tmp_path / label, "001_{d}")
    write_glitch(tmp_path / "Blip", "002_{d}", durations=(1.0,))

    result = load_samples(tmp_path)

    assert [(s.label, s.id) for s in result.samples] == [("Blip", "002")]
    [line] = result.problems
    assert line.startswith("id '001' names files under 2 labels (")
    assert f"Blip: 4 files in {tmp_path / 'Blip'}" in line
    assert f"Whistle: 4 files in {tmp_path / 'Whistle'}" in line
    assert "must be unique across class folders" in line and "none of its 8 files" in line
    assert "(2 glitches, or fewer" in line and "an id of its own" in line
    assert (result.files_left_out, result.glitches_left_out) == (8, 2)


def test_one_glitch_saved_under_two_labels_stays_refused(tmp_path: Path) -> None:
    # the same file in two class folders: nothing may pick one label for it, or re-key it
    [view] = write_glitch(tmp_path / "Blip", "H1_0ABC123xyz_{d}", durations=(1.0,))
    (tmp_path / "Whistle").mkdir()
    (tmp_path / "Whistle" / view.name).write_bytes(view.read_bytes())

    result = load_samples(tmp_path)

    assert result.samples == []
    [line] = result.problems
    assert line.startswith("id 'H1_0ABC123xyz' names files under 2 labels")


def test_images_in_other_formats_are_named_per_folder_not_dropped_unsaid(tmp_path: Path) -> None:
    """A held-out folder's Scratchy/*.tif were dropped with no line at all, and the class
    with them."""
    write_glitch(tmp_path / "Blip", "g1_{d}")
    write_glitch(tmp_path / "Scratchy", "g2_{d}", suffix=".tif")
    write_glitch(tmp_path / "Scratchy", "g3_{d}", durations=(1.0,), suffix=".webp")
    write_glitch(tmp_path / "Whistle", "g4_{d}", durations=(2.0,), suffix=".gif")
    (tmp_path / "Blip" / "notes.txt").write_text("not an image: not ours to judge")

    result = load_samples(tmp_path)

    assert [s.id for s in result.samples] == ["g1"]
    assert sorted(result.problems) == [
        f"{tmp_path / 'Scratchy'}: 1 WebP image not read (g3_1.0.webp): only PNG and JPEG "
        "files are read; save them as PNG under the same names",
        f"{tmp_path / 'Scratchy'}: 4 TIFF images not read (g2_0.5.tif, g2_1.0.tif, g2_2.0.tif, "
        "...): only PNG and JPEG files are read; save them as PNG under the same names",
        f"{tmp_path / 'Whistle'}: 1 GIF image not read (g4_2.0.gif): only PNG and JPEG files "
        "are read; save them as PNG under the same names",
    ]
    assert (result.files_left_out, result.glitches_left_out) == (6, 3)


# --- a folder per glitch: <class>/<id>/<id>_<duration>.png ----------------------------------


@pytest.mark.parametrize("keep_unknown_labels", [False, True])
def test_a_folder_per_glitch_takes_the_class_of_the_folder_above(
    tmp_path: Path, keep_unknown_labels: bool
) -> None:
    """Read as any folder, each glitch's folder was a class of its own: `ml evaluate` (which
    keeps unknown labels) printed a normal-looking report whose classes were glitch ids."""
    write_glitch(tmp_path / "heldout" / "Blip" / "H1_0ABC123xyz", "H1_0ABC123xyz_{d}")
    write_glitch(
        tmp_path / "heldout" / "Whistle" / "L1_zqsv48frMo", "L1_zqsv48frMo_spectrogram_{d}"
    )
    write_glitch(tmp_path / "heldout" / "koi fish" / "golden-KoiFish", "golden-KoiFish", (1.0,))

    result = load_samples(tmp_path, keep_unknown_labels=keep_unknown_labels)

    assert result.problems == []
    assert [(s.label, s.id, len(s.views())) for s in result.samples] == [
        ("Blip", "H1_0ABC123xyz", 4),
        ("Koi_Fish", "golden-KoiFish", 0),
        ("Whistle", "L1_zqsv48frMo", 4),
    ]
    assert (
        f"3 glitches in a folder of their own (<class>/<id>/<id>_<duration>.png, e.g. "
        f"{tmp_path / 'heldout' / 'Blip' / 'H1_0ABC123xyz'}): each read with the class of the "
        "folder above"
    ) in result.notes


@pytest.mark.parametrize("keep_unknown_labels", [False, True])
def test_a_folder_in_a_class_folder_not_named_as_its_glitch_is_refused(
    tmp_path: Path, keep_unknown_labels: bool
) -> None:
    # a group of Blips, or a class of its own inside Blip/? Not ours to guess.
    write_glitch(tmp_path / "Blip" / "night2", "H1_0ABC123xyz_{d}")
    write_glitch(tmp_path / "Blip", "H1_1ABC123xyz_{d}", durations=(1.0,))

    result = load_samples(tmp_path, keep_unknown_labels=keep_unknown_labels)

    assert [(s.label, s.id) for s in result.samples] == [("Blip", "H1_1ABC123xyz")]
    [line] = result.problems
    assert line.startswith(
        f"{tmp_path / 'Blip' / 'night2'}: a folder inside class folder 'Blip' that names no "
        "class and is not named as its files' glitch id: its 4 files"
    )
    assert "move them into Blip/" in line and "<class>/<id>/<id>_<duration>.png" in line
    assert (result.files_left_out, result.glitches_left_out) == (4, 1)


def test_a_view_left_out_of_a_folder_per_glitch_leaves_its_glitch_read(tmp_path: Path) -> None:
    """Before: a view refused in Blip/G1/ (another format) counted its glitch as left out
    entirely, under the class "G1", though its other views were read as a Blip."""
    write_glitch(tmp_path / "Blip" / "G1", "G1_{d}", (0.5, 1.0, 2.0))
    (tmp_path / "Blip" / "G1" / "G1_4.0.tiff").write_bytes(b"II*\x00")

    result = load_samples(tmp_path)

    assert [(s.label, s.id) for s in result.samples] == [("Blip", "G1")]
    assert (result.files_left_out, result.glitches_left_out) == (1, 0)


def test_a_new_class_in_its_own_folder_is_still_a_class_not_a_glitch_folder(
    tmp_path: Path,
) -> None:
    write_glitch(tmp_path / "O3" / "Blip_Low_Frequency", "g1_{d}", durations=(1.0,))
    result = load_samples(tmp_path, keep_unknown_labels=True)
    assert [s.label for s in result.samples] == ["Blip_Low_Frequency"] and not result.problems


# --- where labels come from -------------------------------------------------------------


def test_a_label_table_beside_flat_images_is_named_with_where_labels_come_from(
    tmp_path: Path,
) -> None:
    """Flat images and a labels.csv (filename,label) gave "no labelled glitches" and no word
    of the table, nor of how labels are given."""
    write_glitch(tmp_path, "H1_0ABC123xyz_{d}")
    (tmp_path / "labels.csv").write_text("filename,label\nH1_0ABC123xyz_0.5.png,Blip\n")

    result = load_samples(tmp_path)

    assert [(s.id, s.label) for s in result.samples] == [("H1_0ABC123xyz", None)]
    assert result.csv_not_read == [tmp_path / "labels.csv"]
    [note] = result.notes
    assert note.startswith("1 glitch without a label (files directly in a root); labels come")
    message = data.no_labels_message(result, [tmp_path])
    assert message.startswith(f"no labelled glitches in {tmp_path}: labels come from class ")
    for said in ("DIR/<class>/<id>_<duration>.png", "id,label,duration,path", "ml synth"):
        assert said in note and said in message
    assert note.endswith(f"CSV files not read: {tmp_path / 'labels.csv'}")
    assert message.endswith(f"CSV files not read: {tmp_path / 'labels.csv'}")


def test_a_metadata_csv_beside_labelled_images_is_no_note(tmp_path: Path) -> None:
    write_glitch(tmp_path / "Blip", "g1_{d}", durations=(1.0,))
    (tmp_path / "manifest.csv").write_text("id,label,duration,snr\ng1,Blip,1.0,12\n")
    result = load_samples(tmp_path)
    assert [s.id for s in result.samples] == ["g1"] and result.notes == []


def test_a_manifest_row_with_an_empty_duration_is_one_view_of_unknown_length(
    tmp_path: Path,
) -> None:
    """Refused before ("duration '' is not one of ..."), while a file named without a
    duration in a class folder was read: the same glitch, read or not by where it is listed."""
    write_glitch(tmp_path / "img", "a", durations=(1.0,))
    write_glitch(tmp_path / "img", "b", durations=(1.0,))
    (tmp_path / "manifest.csv").write_text(
        "id,label,duration,path\na,1080Lines,,img/a.png\nb,Blip,0.5s,img/b.png\n"
    )

    result = load_samples(tmp_path)

    [sample] = result.samples
    assert (sample.id, sample.label, sample.substituted) == ("a", "1080Lines", DURATIONS)
    assert sample.views() == {}  # as a folder's golden-1080Line.jpg
    [line] = result.problems
    assert line.startswith(f"{tmp_path / 'manifest.csv'}:3: duration '0.5s' is not one of")
