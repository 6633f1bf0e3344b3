"""bench/discovery.py's real row with --heldout refuses what would make it meaningless,
before it trains anything."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from image_factories import damage_middle

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.discovery import features, main, parse_args, real_pools  # noqa: E402


def run(tmp_path: Path) -> None:
    main(["--rows", "real", "--real-left-out", "Blip", "--real", str(tmp_path / "real"),
          "--heldout", str(tmp_path / "heldout"), "--cache", str(tmp_path / "cache")])  # fmt: skip


def real_set(root: Path) -> list[Path]:
    """Five simulated Blips and two Whistles as a real set (distinct noise, so no two are
    taken for one glitch); the views of its first Blip."""
    from ml.data import load_samples
    from ml.synth import generate

    generate(root, 5, classes=["Blip"], style="crop", seed=5, workers=1)
    generate(root / "more", 2, classes=["Whistle"], style="crop", seed=6, workers=1)
    blip = next(s for s in load_samples(root).samples if s.label == "Blip")
    return [Path(f) for f in blip.files()]


def test_a_heldout_glitch_that_also_trains_is_refused(tmp_path: Path) -> None:
    views = real_set(tmp_path / "real")
    (tmp_path / "heldout" / "Blip").mkdir(parents=True)
    copy = tmp_path / "heldout" / "Blip" / "h1_1.0.png"  # one view, under another id
    copy.write_bytes(views[0].read_bytes())
    with pytest.raises(
        SystemExit, match=r"(?s)1 held-out glitches are also in .*\n  h1 \(Blip, .*h1_1.0.png\) is "
    ):
        run(tmp_path)
    assert not list((tmp_path / "cache").glob("real-model-*"))  # nothing was trained


def test_an_unlabelled_heldout_folder_is_refused(tmp_path: Path) -> None:
    real_set(tmp_path / "real")
    (tmp_path / "heldout").mkdir()
    with pytest.raises(SystemExit, match="no labelled glitches in"):
        run(tmp_path)
    assert not list((tmp_path / "cache").glob("real-model-*"))


def test_an_unreadable_heldout_glitch_is_left_out_and_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """One held-out view that does not decode costs its glitch, named, not the row (it
    stopped the whole run with a traceback, after its model had trained)."""
    from ml.data import load_samples
    from ml.synth import generate

    real_set(tmp_path / "real")
    generate(tmp_path / "made", 2, classes=["Whistle"], style="crop", seed=7, workers=1)
    for n, sample in enumerate(load_samples(tmp_path / "made").samples):
        for duration, path in sample.views().items():
            target = tmp_path / "heldout" / "Whistle" / f"w{n}_{duration}.png"
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(path.read_bytes())
    damaged = damage_middle(tmp_path / "heldout" / "Whistle" / "w1_2.0.png")
    args = parse_args(["--rows", "real", "--real-left-out", "Blip", "--real",
                       str(tmp_path / "real"), "--heldout", str(tmp_path / "heldout"),
                       "--cache", str(tmp_path / "cache"), "--size", "32", "--epochs", "1",
                       "--sim-per-class", "1"])  # fmt: skip

    pools = real_pools(args)

    labels, vectors, _ = pools["held-out"]
    assert labels.tolist() == ["Whistle"] and len(vectors) == 1  # w0 alone
    shown = capsys.readouterr().out
    assert f"not scored: glitch w1 left out: {damaged}: cannot decode" in shown
    assert "held-out: 1 glitches to cluster; not scored: 4 files, 1 glitches" in shown


def test_its_model_can_run_small_or_on_a_gpu_and_says_at_once_when_there_is_none(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(SystemExit, match="no CUDA GPU"):
        main(["--rows", "real", "--real", str(tmp_path / "nowhere"), "--device", "cuda",
              "--size", "64", "--epochs", "1", "--sim-per-class", "2"])  # fmt: skip


def test_help_says_what_the_heldout_dir_must_hold(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        parse_args(["--help"])
    shown = capsys.readouterr().out
    said = ("DIR/<class>/<id>_<duration>.png", "manifest.csv", "id,label,duration,path",
            "--sim-per-class", "--device")  # fmt: skip
    assert [words for words in said if words not in shown] == []


def test_a_pool_cached_before_the_rename_reads_under_the_new_class_name(tmp_path: Path) -> None:
    """Blip_Low_Frequency was Low_Frequency_Blip: a cached pool's features kept the old
    label, and the bench would have found none of that class."""
    import numpy as np

    args = parse_args(["--features", "imagenet", "--cache", str(tmp_path)])
    pool = tmp_path / "pool-30-6"
    cached = tmp_path / f"features-{pool.name}-{args.encoding}.npz"
    old = ["Low_Frequency_Blip", "Blip", "None_of_the_Above", "Reverse_Chirp"]
    np.savez(cached, labels=np.array(old), embeddings=np.zeros((4, 3), dtype=np.float32))

    labels, vectors = features(pool, args)

    assert list(labels) == ["Blip_Low_Frequency", "Blip", "None_of_the_Above", "Reverse_Chirp"]
    assert vectors.shape == (4, 3)
