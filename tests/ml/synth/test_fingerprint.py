"""ml.fingerprint tells one glitch saved twice from two glitches (on simulated scans, whose
views of one glitch share their noise as real Omega scans do)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from ml.data import load_samples, sample_of
from ml.fingerprint import matches, merge_same_glitches

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))

from bench.fingerprint import archive_copy, split_check  # noqa: E402  (what the bench measures)

Rows = list[dict[str, str]]


def _views(out: Path, rows: Rows, label: str, style: str = "full") -> dict[float, Path]:
    return {
        float(r["duration"]): out / r["path"]
        for r in rows
        if r["label"] == label and r["style"] == style
    }


def test_different_glitches_do_not_match(every_class: tuple[Path, Rows]) -> None:
    out, rows = every_class
    labels = sorted({r["label"] for r in rows})
    samples = [sample_of(label, label, _views(out, rows, label)) for label in labels]
    assert len(samples) == 25
    assert matches(samples) == []


def test_glitches_of_one_line_class_do_not_match(tmp_path: Path) -> None:
    """Power_Lines are steady lines at the same frequencies: their shape must not pass for
    shared noise (it did at the 4 s / 0.5 s ratio before rows lost their means)."""
    from ml.synth import generate

    generate(tmp_path, 8, classes=["Power_Line"], style="crop", seed=3, workers=1)
    samples = load_samples(tmp_path).samples
    assert len(samples) == 8 and all(len(s.views()) == 4 for s in samples)
    assert matches(samples) == []


def test_a_view_saved_again_by_another_archive_matches(
    every_class: tuple[Path, Rows], tmp_path: Path
) -> None:
    out, rows = every_class
    original = _views(out, rows, "Blip")[1.0]
    copy = archive_copy(original, tmp_path / "copy_1.0.jpg")
    found = matches([sample_of("a", "Blip", {1.0: original}), sample_of("b", "Blip", {1.0: copy})])
    assert len(found) == 1 and found[0].similarity > 0.8


def test_one_glitch_split_over_two_ids_is_merged(every_class: tuple[Path, Rows]) -> None:
    out, rows = every_class
    whistle, blip = _views(out, rows, "Whistle"), _views(out, rows, "Blip")
    samples = [
        sample_of("w-short", "Whistle", {1.0: whistle[1.0]}),
        sample_of("w-long", "Whistle", {2.0: whistle[2.0], 4.0: whistle[4.0]}),
        sample_of("blip", "Blip", blip),
    ]
    merged, merges = merge_same_glitches(samples)
    assert merges == [("w-long", "w-short")]
    by_id = {s.id: s for s in merged}
    assert set(by_id) == {"w-long", "blip"}
    assert by_id["w-long"].views() == {1.0: whistle[1.0], 2.0: whistle[2.0], 4.0: whistle[4.0]}


def test_one_glitch_under_two_labels_is_matched_but_not_merged(
    every_class: tuple[Path, Rows],
) -> None:
    out, rows = every_class
    koi = _views(out, rows, "Koi_Fish")
    samples = [
        sample_of("a", "Koi_Fish", {0.5: koi[0.5]}),
        sample_of("b", "Blip", {1.0: koi[1.0]}),  # the same glitch, labelled otherwise
    ]
    assert len(matches(samples)) == 1
    merged, merges = merge_same_glitches(samples)
    assert merges == [] and len(merged) == 2


def test_a_file_without_a_duration_is_tried_at_every_ratio(
    every_class: tuple[Path, Rows], tmp_path: Path
) -> None:
    out, rows = every_class
    helix = _views(out, rows, "Helix")
    (tmp_path / "Helix").mkdir()
    (tmp_path / "Helix" / "golden-Helix.png").write_bytes(helix[0.5].read_bytes())  # undated
    (tmp_path / "Helix" / "h_2.0.png").write_bytes(helix[2.0].read_bytes())
    samples = load_samples(tmp_path).samples
    assert sorted(len(s.views()) for s in samples) == [0, 1]
    found = matches(samples)
    assert [sorted([m.a_duration or 0, m.b_duration or 0]) for m in found] == [[0, 2.0]]
    assert merge_same_glitches(samples, found)[1] == []  # where would its one view go?


def test_the_duplicates_command_names_one_glitch_saved_twice(
    every_class: tuple[Path, Rows], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from ml.cli import main

    out, rows = every_class
    blip, koi = _views(out, rows, "Blip"), _views(out, rows, "Koi_Fish")
    (tmp_path / "Blip").mkdir()
    (tmp_path / "Blip" / "first_1.0.png").write_bytes(blip[1.0].read_bytes())
    (tmp_path / "Blip" / "other_4.0.png").write_bytes(blip[4.0].read_bytes())  # same glitch
    (tmp_path / "Blip" / "koi_1.0.png").write_bytes(koi[1.0].read_bytes())  # another glitch
    assert main(["duplicates", "--data", str(tmp_path)]) == 1
    printed = capsys.readouterr().out
    assert "one glitch: first + other" in printed
    assert "koi" not in printed.replace(str(tmp_path), "")
    (tmp_path / "Blip" / "other_4.0.png").unlink()
    assert main(["duplicates", "--data", str(tmp_path)]) == 0


def test_the_duplicates_command_says_which_views_it_could_not_compare(
    every_class: tuple[Path, Rows], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A view that does not decode was left out silently: `--against` then passed (exit 0)
    with a held-out glitch never compared."""
    from ml.cli import main

    out, rows = every_class
    held, train = tmp_path / "held" / "Blip", tmp_path / "train" / "Blip"
    held.mkdir(parents=True)
    train.mkdir(parents=True)
    (held / "mine_1.0.png").write_bytes(_views(out, rows, "Blip")[1.0].read_bytes())
    (train / "theirs_1.0.png").write_bytes(_views(out, rows, "Koi_Fish")[1.0].read_bytes())
    argv = ["duplicates", "--data", str(held.parent), "--against", str(train.parent)]
    assert main(argv) == 0
    # Damaged between its header and its end marker: ml.data's cheap check lets it through.
    whole = _views(out, rows, "Koi_Fish")[2.0].read_bytes()
    start = whole.index(b"IDAT") + 40  # the compressed pixels, zeroed; same length
    (train / "broken_2.0.png").write_bytes(whole[:start] + b"\0" * 400 + whole[start + 400 :])
    assert main(argv) == 1
    printed = capsys.readouterr()
    assert f"{train / 'broken_2.0.png'}: not compared, cannot read it" in printed.err
    assert "1 views not compared" in printed.out


def test_only_glitches_that_lack_a_duration_are_fingerprinted_and_merged(
    every_class: tuple[Path, Rows], monkeypatch: pytest.MonkeyPatch
) -> None:
    import ml.fingerprint

    out, rows = every_class
    blip, koi, whistle = (_views(out, rows, c) for c in ("Blip", "Koi_Fish", "Whistle"))
    samples = [
        sample_of("blip", "Blip", blip),  # whole: all four durations
        sample_of("koi-short", "Koi_Fish", {0.5: koi[0.5], 1.0: koi[1.0]}),
        sample_of("koi-long", "Koi_Fish", {4.0: koi[4.0]}),
        sample_of("w", "Whistle", {2.0: whistle[2.0]}),
        sample_of("w-as-blip", "Blip", {1.0: whistle[1.0]}),  # one glitch, two labels
    ]
    seen: list[Path] = []
    real_fingerprint = ml.fingerprint.fingerprint
    monkeypatch.setattr(
        ml.fingerprint, "fingerprint", lambda p: seen.append(p) or real_fingerprint(p)
    )
    split = ml.fingerprint.merge_split_glitches(samples)
    assert not set(seen) & set(blip.values())
    assert [s.id for s in split.samples] == ["blip", "koi-long", "w", "w-as-blip"]
    assert split.samples[1].views() == {0.5: koi[0.5], 1.0: koi[1.0], 4.0: koi[4.0]}
    assert split.merged == [("koi-long", "koi-short")]
    labels = {s.id: s.label for s in samples}
    assert split.report(labels) == [
        "one glitch saved under several ids, merged as koi-long: koi-long + koi-short",
        "w and w-as-blip show the same glitch (labelled Whistle and Blip): kept apart",
    ]


def test_the_bench_merges_every_split_simulation_back(every_class: tuple[Path, Rows]) -> None:
    out, rows = every_class
    labels = ("Blip", "Power_Line", "Scattered_Light", "Whistle")
    samples = [sample_of(label, label, _views(out, rows, label, "crop")) for label in labels]
    assert split_check(samples).startswith("split into two ids each: 4 of 4 simulated glitches "
                                           "merged back, 0 wrong merges")  # fmt: skip


def test_against_compares_the_two_sets_only(every_class: tuple[Path, Rows]) -> None:
    out, rows = every_class
    koi = _views(out, rows, "Koi_Fish")
    mine = [
        sample_of("a", "Koi_Fish", {1.0: koi[1.0]}),
        sample_of("b", "Koi_Fish", {2.0: koi[2.0]}),
    ]
    theirs = [sample_of("c", "Koi_Fish", {4.0: koi[4.0]})]
    assert {(m.a, m.b) for m in matches(mine + theirs)} == {("b", "a"), ("c", "a"), ("c", "b")}
    assert {(m.a, m.b) for m in matches(mine, against=theirs)} == {("c", "a"), ("c", "b")}


def test_too_many_views_are_not_compared_and_said_so(
    every_class: tuple[Path, Rows], monkeypatch: pytest.MonkeyPatch
) -> None:
    import ml.fingerprint

    out, rows = every_class
    koi = _views(out, rows, "Koi_Fish")
    samples = [
        sample_of("a", "Koi_Fish", {1.0: koi[1.0]}),
        sample_of("b", "Koi_Fish", {2.0: koi[2.0]}),
    ]
    monkeypatch.setattr(ml.fingerprint, "AUTO_MAX_VIEWS", 1)
    split = ml.fingerprint.merge_split_glitches(samples)
    assert split.samples == samples and split.merged == [] and split.not_compared == 2
    assert "glitches that lack a duration hold 2 views, more than 1" in split.report({})[0]


def test_the_duplicates_command_checks_a_held_out_folder_against_training_data(
    every_class: tuple[Path, Rows], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from ml.cli import main

    out, rows = every_class
    blip, koi, helix = (_views(out, rows, c) for c in ("Blip", "Koi_Fish", "Helix"))
    train, held = tmp_path / "train" / "Blip", tmp_path / "held" / "Blip"
    train.mkdir(parents=True)
    held.mkdir(parents=True)
    (train / "t1_4.0.png").write_bytes(blip[4.0].read_bytes())
    (train / "t2_4.0.png").write_bytes(koi[4.0].read_bytes())
    (held / "h1_1.0.png").write_bytes(koi[1.0].read_bytes())  # in training as t2
    (held / "h2_1.0.png").write_bytes(helix[1.0].read_bytes())
    argv = ["duplicates", "--data", str(held.parent), "--against", str(train.parent)]
    assert main(argv) == 1
    printed = capsys.readouterr().out
    assert "t2 (Blip, 4 s) = h1 (Blip, 1 s)" in printed and "1 pairs show one glitch" in printed
    assert "h2" not in printed.replace(str(tmp_path), "")
    (train / "h2_2.0.png").write_bytes(blip[2.0].read_bytes())  # another glitch, same id
    (train / "t2_4.0.png").unlink()
    assert main(argv) == 1
    assert "h2: the same id in --data and --against" in capsys.readouterr().out
    (train / "h2_2.0.png").unlink()
    assert main(argv) == 0
