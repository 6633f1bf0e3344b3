"""Real backgrounds for the simulator: quiet stretches of real images under simulated glitches."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ml.cli import main
from ml.errors import UserError
from ml.synth import generate, read_manifest
from ml.synth.backgrounds import (
    LOUD,
    bank_from_folder,
    energy_of_image,
    patch_of_file,
)
from ml.synth.render import DURATIONS, PLOT_HEIGHT, PLOT_WIDTH, VMAX, colourise, save_png

QUIET_MAX = 2.0  # the tiny "real" images' background never exceeds this energy
GLITCH = 20.0


def fake_real_image(rng: np.random.Generator, *, glitch_columns: slice | None) -> np.ndarray:
    """A tiny bare plot area (48 x 64, RGB) of a 'real' glitch: quiet noise in 0.2..2 and,
    in `glitch_columns`, a loud glitch reaching well beyond the middle fifth."""
    energy = rng.uniform(0.2, QUIET_MAX, size=(48, 64)).astype(np.float32)
    if glitch_columns is not None:
        energy[5:40, glitch_columns] = GLITCH
    return colourise(energy)


def write_real_folder(root: Path, n: int = 2, seed: int = 0) -> Path:
    """`n` glitches with all four views, Zenodo-like names, glitch over columns 18..46."""
    rng = np.random.default_rng(seed)
    for i in range(n):
        for duration in DURATIONS:
            image = fake_real_image(rng, glitch_columns=slice(18, 46))
            save_png(image, root / "Blip" / f"H1_glitch{i}_{duration:.1f}.png")
    return root


@pytest.fixture
def real_folder(tmp_path: Path) -> Path:
    return write_real_folder(tmp_path / "real")


def test_inverse_colour_map_round_trips_the_renderers_colours():
    energy = np.random.default_rng(1).uniform(0, VMAX, size=(40, 50)).astype(np.float32)
    back = energy_of_image(colourise(energy))
    step = VMAX / 255
    # colourise floors to one of 256 steps and the inverse gives that step back; 4 of the 256
    # colours, rounded to 8 bits, lie nearer their neighbour's float colour: one step more
    assert np.all(np.abs(back - energy) < 2 * step)
    assert np.mean((back <= energy + 1e-4) & (energy - back < step + 1e-4)) > 0.95


def test_a_patch_holds_only_the_quiet_background(real_folder):
    bank = bank_from_folder(real_folder)
    assert bank.problems == []
    assert bank.donors() == ["H1_glitch0", "H1_glitch1"]
    for duration in DURATIONS:
        patches = bank.patches[duration]
        assert len(patches) == 2
        for patch in patches:
            columns = sum(run.shape[1] for run in patch.runs)
            assert all(run.shape[0] == PLOT_HEIGHT for run in patch.runs)
            # the glitch covers 28 of 64 columns (250 of 572 px); most of the rest is kept
            assert 200 <= columns <= PLOT_WIDTH - 250
            energies = np.concatenate(patch.runs, axis=1) * (VMAX / 255)
            assert energies.max() <= QUIET_MAX + 0.2


def test_drawn_windows_are_full_size_and_quiet(real_folder):
    bank = bank_from_folder(real_folder)
    rng = np.random.default_rng(0)
    for duration in DURATIONS:
        donor, window = bank.draw(duration, rng)
        assert donor in {"H1_glitch0", "H1_glitch1"}
        assert window.shape == (PLOT_HEIGHT, PLOT_WIDTH)
        assert window.max() <= QUIET_MAX + 0.2
        assert window.mean() > 0.5  # background, not an empty strip


def test_the_background_is_drawn_on_the_q_plane_of_the_noise_it_replaces(tmp_path):
    """High-Q noise is streaked along time, low-Q noise along frequency: a patch of the same
    kind is drawn (among the MATCH_MIN = 3 of 6 patches nearest in texture)."""
    rng = np.random.default_rng(0)

    def streaked(along_time: bool) -> np.ndarray:
        if along_time:  # constant over 8 columns: long horizontal streaks
            return np.repeat(rng.uniform(0.2, QUIET_MAX, size=(48, 8)), 8, axis=1)
        return np.repeat(rng.uniform(0.2, QUIET_MAX, size=(8, 64)), 6, axis=0)

    for i in range(6):
        image = colourise(streaked(along_time=i % 2 == 0).astype(np.float32))
        save_png(image, tmp_path / "Blip" / f"H1_g{i}_1.0.png")
    for duration in (0.5, 2.0, 4.0):  # the bank needs every duration
        save_png(image, tmp_path / "Blip" / f"H1_g5_{duration}.png")
    bank = bank_from_folder(tmp_path)
    for along_time, expected in (
        (True, {"H1_g0", "H1_g2", "H1_g4"}),
        (False, {"H1_g1", "H1_g3", "H1_g5"}),
    ):
        like = streaked(along_time).astype(np.float32)
        assert {bank.draw(1.0, rng, like=like)[0] for _ in range(30)} == expected


def test_an_image_that_is_all_glitch_gives_no_patch(tmp_path):
    path = tmp_path / "loud.png"
    save_png(fake_real_image(np.random.default_rng(0), glitch_columns=slice(0, 64)), path)
    assert patch_of_file(path, "loud") is None


def test_same_seed_same_images_and_the_background_shows(real_folder, tmp_path):
    bank = bank_from_folder(real_folder)
    kwargs = {"classes": ["No_Glitch"], "style": "crop", "seed": 4, "workers": 1}
    first = generate(tmp_path / "a", 1, real_backgrounds=bank, real_background_fraction=1, **kwargs)
    generate(tmp_path / "b", 1, real_backgrounds=bank, real_background_fraction=1, **kwargs)
    plain = generate(tmp_path / "c", 1, **kwargs)
    rows, plain_rows = read_manifest(first), read_manifest(plain)
    assert {r["background"] for r in rows} <= {"H1_glitch0", "H1_glitch1"}
    for row, plain_row in zip(rows, plain_rows, strict=True):
        image = (tmp_path / "a" / row["path"]).read_bytes()
        assert image == (tmp_path / "b" / row["path"]).read_bytes()
        assert image != (tmp_path / "c" / plain_row["path"]).read_bytes()
    # No_Glitch on a real background is that background: the simulated noise (exponential,
    # mean 1: 5% of pixels above 3) is gone; only the faint unrelated transients stay on top
    from PIL import Image

    energy = energy_of_image(np.asarray(Image.open(tmp_path / "a" / rows[3]["path"])))
    assert (energy > 3.0).mean() < 0.01
    plain_energy = energy_of_image(np.asarray(Image.open(tmp_path / "c" / plain_rows[3]["path"])))
    assert (plain_energy > 3.0).mean() > 0.03


def test_the_fraction_decides_how_many_glitches_get_a_real_background(real_folder, tmp_path):
    bank = bank_from_folder(real_folder)
    kwargs = {"classes": ["Blip"], "style": "crop", "seed": 2, "workers": 1}

    def used(fraction: float, out: str) -> list[bool]:
        manifest = generate(
            tmp_path / out, 6, real_backgrounds=bank, real_background_fraction=fraction, **kwargs
        )
        rows = [r for r in read_manifest(manifest) if r["duration"] == "1.0"]
        return [bool(r["background"]) for r in rows]

    assert used(1.0, "all") == [True] * 6
    assert used(0.0, "none") == [False] * 6
    half = used(0.5, "half")
    assert 0 < sum(half) < 6
    # fraction 0 draws exactly what a run without backgrounds draws
    plain = generate(tmp_path / "plain", 6, **kwargs)
    for row in read_manifest(plain):
        assert (tmp_path / "plain" / row["path"]).read_bytes() == (
            tmp_path / "none" / row["path"]
        ).read_bytes()


def test_a_fraction_outside_0_1_is_refused(real_folder, tmp_path):
    with pytest.raises(UserError, match="between 0 and 1"):
        generate(tmp_path, 1, classes=["Blip"], real_backgrounds=real_folder,
                 real_background_fraction=1.5)  # fmt: skip


def test_unreadable_images_are_skipped_and_named(real_folder):
    garbage = real_folder / "Blip" / "H1_garbage_1.0.png"
    garbage.write_bytes(b"not an image at all")
    # a real PNG header and end, damaged pixels in between: only decoding finds it
    good = (real_folder / "Blip" / "H1_glitch0_2.0.png").read_bytes()
    damaged = real_folder / "Blip" / "H1_damaged_2.0.png"
    middle = len(good) // 2
    damaged.write_bytes(good[:middle] + bytes(64) + good[middle + 64 :])
    bank = bank_from_folder(real_folder)
    assert len(bank.problems) == 2
    assert str(garbage) in bank.problems[0] or str(garbage) in bank.problems[1]
    assert any(str(damaged) in p for p in bank.problems)
    assert str(damaged) not in bank.files
    assert len(bank.patches[1.0]) == 2  # the good images still load


def test_a_folder_without_usable_backgrounds_is_a_clear_error(tmp_path):
    folder = tmp_path / "real"
    (folder / "Blip").mkdir(parents=True)
    (folder / "Blip" / "H1_bad_1.0.png").write_bytes(b"broken")
    with pytest.raises(UserError, match="real backgrounds: none of 0 images"):
        bank_from_folder(folder)
    with pytest.raises(UserError, match="no such folder"):
        bank_from_folder(tmp_path / "missing")


def test_synth_command_takes_real_backgrounds(real_folder, tmp_path, capsys):
    (real_folder / "Blip" / "H1_garbage_1.0.png").write_bytes(b"not an image")
    out = tmp_path / "out"
    rc = main(
        ["synth", "--out", str(out), "--per-class", "1", "--classes", "Tomte", "--style", "crop",
         "--workers", "1", "--quiet", "--real-backgrounds", str(real_folder),
         "--real-background-fraction", "1"]
    )  # fmt: skip
    assert rc == 0
    err = capsys.readouterr().err
    assert "warning: skipped" in err and "H1_garbage_1.0.png" in err
    assert all(r["background"] for r in read_manifest(out / "manifest.csv"))


def test_loud_threshold_is_above_quiet_noise():
    # the fake backgrounds above rely on it: quiet pixels (<= 2) never count as loud
    assert LOUD > QUIET_MAX
