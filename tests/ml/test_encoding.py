"""ml.encoding: plot-frame crop, viridis inversion, the three encodings and the decode cache."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from image_factories import PLOT_BOX, blob_energy, full_plot, viridis_rgb, write_glitch, write_image

from ml import encoding
from ml.data import DURATIONS, Sample, load_samples
from ml.encoding import (
    DecodeError,
    encode_sample,
    encode_samples,
    read_plot_area,
    viridis_mask,
    viridis_to_energy,
)
from ml.errors import UserError

REAL_SET = Path(__file__).resolve().parents[2].parent / "shared/data/gravityspy-real"
REAL_PNG = REAL_SET / "Blip/H1_0PgqDFdHPl_1.0.png"  # 800x600, official Gravity Spy rendering
REAL_JPEG = REAL_SET / "Koi_Fish/golden-KoiFish_0.5.jpg"  # 600x450 field-guide JPEG
# JPEG smears thin yellow tracks into off-colour-map blends that once split the plot in two:
THIN_VERTICAL_TRACK = REAL_SET / "Blip/zoo-16350d11-0f4a-4e70-8d1d-69b034002d25_4.0.jpg"
THIN_HORIZONTAL_LINE = REAL_SET / "Power_Line/zoo-155385bb-23c5-4433-89b5-6e19dfc52d5c_0.5.jpg"
needs_real_set = pytest.mark.skipif(
    not REAL_SET.is_dir(), reason=f"real data set not found at {REAL_SET}"
)


@needs_real_set
@pytest.mark.parametrize(
    ("path", "expected_height", "expected_width"),
    [
        (REAL_PNG, 479, 573),
        (REAL_JPEG, 358, 429),
        (THIN_VERTICAL_TRACK, 479, 573),
        (THIN_HORIZONTAL_LINE, 358, 429),
    ],
)
def test_real_plots_are_cropped_to_the_plot_area(
    path: Path, expected_height: int, expected_width: int
) -> None:
    crop = read_plot_area(path)

    assert crop.dtype == np.uint8 and crop.shape[2] == 3
    assert abs(crop.shape[0] - expected_height) <= 3 and abs(crop.shape[1] - expected_width) <= 3
    assert viridis_mask(crop).mean() > 0.95  # no white margin, axis labels or colour bar


@needs_real_set
def test_a_bare_crop_passes_through_unchanged(tmp_path: Path) -> None:
    crop = read_plot_area(REAL_PNG)
    bare = write_image(tmp_path / "kaggle_style.png", crop)

    assert np.array_equal(read_plot_area(bare), crop)


def test_the_frame_is_found_from_the_pixels_of_any_rendering(tmp_path: Path) -> None:
    energy = blob_energy(105, 140)
    path = write_image(tmp_path / "small.png", full_plot(energy))  # not an 800x600 layout
    x0, y0, x1, y1 = PLOT_BOX

    crop = read_plot_area(path)

    assert crop.shape == (y1 - y0, x1 - x0, 3)


def test_viridis_round_trip_recovers_the_energy() -> None:
    energy = np.random.default_rng(0).integers(0, 256, (60, 70)) / 255.0

    recovered = viridis_to_energy(viridis_rgb(energy))

    assert recovered.dtype == np.float32 and recovered.shape == energy.shape
    assert np.abs(recovered - energy).max() <= 1.01 / 255  # uint8 colours: at most one step
    assert np.abs(recovered - energy).mean() < 0.05 / 255


def test_energy_is_not_luminance() -> None:
    # viridis' yellow (top) is brighter than its green (middle), but blue-purple at the
    # bottom is darker than both: only a colour-map inversion orders all three correctly.
    rgb = viridis_rgb(np.array([[0.0, 0.5, 1.0]]))

    assert viridis_to_energy(rgb)[0].tolist() == pytest.approx([0.0, 0.5, 1.0], abs=1 / 255)


def _glitch(tmp_path: Path) -> Sample:
    write_glitch(tmp_path / "Blip", "H1_g_{d}")
    [sample] = load_samples(tmp_path).samples
    return sample


@pytest.mark.parametrize("name", encoding.ENCODINGS)
def test_every_encoding_gives_uint8_chw_of_the_requested_size(tmp_path: Path, name: str) -> None:
    array = encode_sample(_glitch(tmp_path), name, size=33)

    assert array.shape == (3, 33, 33) and array.dtype == np.uint8
    assert array.max() > 200 and array.min() < 90  # a bright blob on a dark background


def test_rgb_durations_puts_the_1_2_and_4_second_energy_in_r_g_b(tmp_path: Path) -> None:
    sample = _glitch(tmp_path)

    red, green, blue = encode_sample(sample, "rgb-durations", size=40).astype(int)

    # write_glitch moves the blob right with each duration: the channels peak in order.
    peaks = [int(channel.max(0).argmax()) for channel in (red, green, blue)]
    assert peaks[0] < peaks[1] < peaks[2]
    assert red.min() < 10  # energy, not colour: background maps to ~0


def test_mosaic_tiles_the_four_durations(tmp_path: Path) -> None:
    sample = _glitch(tmp_path)

    mosaic = encode_sample(sample, "mosaic", size=40)
    single = encode_sample(sample, "single-2.0", size=20)

    assert np.abs(mosaic[:, 20:, :20].astype(int) - single.astype(int)).mean() < 2
    assert not np.array_equal(mosaic[:, :20, :20], mosaic[:, :20, 20:])


def test_unknown_encoding_is_a_user_error(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="unknown encoding 'grey'"):
        encode_sample(_glitch(tmp_path), "grey")


def test_cache_hit_returns_the_same_array_without_decoding(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_glitch(tmp_path / "data/Blip", "a_{d}")
    write_glitch(tmp_path / "data/Blip", "b_{d}", durations=(1.0, 2.0))  # 0.5, 4.0 substituted
    samples = load_samples(tmp_path / "data").samples
    decoded: list[Path] = []
    real_decode = encoding._decode_rgb
    monkeypatch.setattr(encoding, "_decode_rgb", lambda p: decoded.append(p) or real_decode(p))
    seen: list[tuple[int, int]] = []
    cache = tmp_path / "cache"

    first = encode_samples(samples, "mosaic", size=24, workers=1, cache_dir=cache)
    decoded_first = list(decoded)
    second = encode_samples(
        samples, "mosaic", size=24, workers=1, cache_dir=cache, progress=lambda *a: seen.append(a)
    )

    assert first.shape == (2, 3, 24, 24) and first.dtype == np.uint8
    # the mosaic shows 8 tiles from 6 distinct files: each file is decoded exactly once
    assert sorted(decoded_first) == sorted({p for s in samples for p in s.paths.values()})
    assert len(decoded) == 6  # the second call decoded nothing
    assert np.array_equal(first, second) and isinstance(second, np.memmap)
    assert seen[-1] == (2, 2)
    assert not list(cache.glob("*.partial.npy"))


def test_pruning_keeps_the_arrays_used_since_and_removes_the_rest(tmp_path: Path) -> None:
    """A retrain removes the arrays of earlier runs (each set of labels writes a full-size
    copy): an array it read but did not write (its validation set, unchanged) counts as
    used, or every run decoded it again."""
    import os
    import time

    write_glitch(tmp_path / "data/Blip", "a_{d}")
    samples = load_samples(tmp_path / "data").samples
    cache = tmp_path / "cache"
    encode_samples(samples, size=16, workers=1, cache_dir=cache)
    encode_samples(samples, "mosaic", size=16, workers=1, cache_dir=cache)
    for path in cache.glob("*.npy"):
        os.utime(path, (1_600_000_000, 1_600_000_000))  # written by an earlier run
    started = time.time() - 1

    encode_samples(samples, size=16, workers=1, cache_dir=cache)  # read by this run
    removed, size = encoding.prune_cache(cache, before=started)

    assert removed == 1 and size > 0
    assert [p.name.split("-")[0] for p in cache.glob("*.npy")] == ["rgb"]


def test_a_changed_file_misses_the_cache(tmp_path: Path) -> None:
    [path] = write_glitch(tmp_path / "Blip", "a_{d}", durations=(2.0,))
    samples = load_samples(tmp_path).samples
    first = np.array(encode_samples(samples, size=16, workers=1, cache_dir=tmp_path / "c"))

    write_image(path, full_plot(blob_energy(105, 140, centre=0.9)))
    second = encode_samples(samples, size=16, workers=1, cache_dir=tmp_path / "c")

    assert not np.array_equal(first, second)


def test_a_file_that_cannot_be_decoded_raises_naming_it(tmp_path: Path) -> None:
    broken = tmp_path / "broken_2.0.png"
    broken.write_bytes(b"\x89PNG\r\n\x1a\nnot really")
    sample = Sample("broken", None, dict.fromkeys(DURATIONS, broken))

    with pytest.raises(DecodeError, match="broken_2.0.png"):
        encode_samples([sample], size=16, workers=1, cache_dir=tmp_path / "cache")
    assert not list((tmp_path / "cache").glob("*.npy"))  # nothing half-written is left


def test_worker_processes_give_the_same_result_as_one(tmp_path: Path) -> None:
    write_glitch(tmp_path / "Blip", "a_{d}", durations=(1.0, 4.0))
    write_glitch(tmp_path / "Tomte", "b_{d}", durations=(2.0,))
    samples = load_samples(tmp_path).samples

    in_process = encode_samples(samples, "mosaic", size=16, workers=1)
    in_pool = encode_samples(samples, "mosaic", size=16, workers=2)

    assert np.array_equal(in_process, in_pool)


# --- a missing view is cut in time from a longer one -----------------------------------------


def _stripe_plot(width: float) -> np.ndarray:
    """A full plot whose energy is one vertical stripe `width` (fraction) wide, centred."""
    x = np.linspace(0, 1, 140)[None, :].repeat(105, 0)
    return full_plot((np.abs(x - 0.5) < width / 2).astype(float) * 0.9)


def _stripe_width(channel: np.ndarray) -> int:
    return int((channel.mean(0) > 100).sum())


def test_a_missing_shorter_view_is_the_middle_of_the_longer_one(tmp_path: Path) -> None:
    path = write_image(tmp_path / "Blip" / "g_4.0.png", _stripe_plot(0.1))
    [sample] = load_samples(tmp_path).samples

    red, green, blue = encode_sample(sample, "rgb-durations", size=64)

    # The 1 s window is the middle quarter of the 4 s one, the 2 s window its middle half:
    # the same stripe fills 4x and 2x as many columns (an R=G=B copy would not differ).
    assert _stripe_width(red) == pytest.approx(4 * _stripe_width(blue), rel=0.2)
    assert _stripe_width(green) == pytest.approx(2 * _stripe_width(blue), rel=0.2)
    plot = read_plot_area(path)
    keep = round(plot.shape[1] / 4)
    start = (plot.shape[1] - keep) // 2
    quarter = plot[:, start : start + keep]
    expected = encoding._resize_energy(viridis_to_energy(quarter), 64)
    assert np.abs(red.astype(int) - expected.astype(int)).max() <= 1


def test_with_only_a_shorter_view_the_nearest_stands_in_whole(tmp_path: Path) -> None:
    write_image(tmp_path / "Blip" / "g_0.5.png", _stripe_plot(0.1))
    [sample] = load_samples(tmp_path).samples

    red, green, blue = encode_sample(sample, "rgb-durations", size=64)

    assert np.array_equal(red, green) and np.array_equal(green, blue)


def test_the_cache_key_changes_when_a_view_becomes_a_cut(tmp_path: Path) -> None:
    write_image(tmp_path / "a" / "Blip" / "g_4.0.png", _stripe_plot(0.1))
    [only_long] = load_samples(tmp_path / "a").samples
    write_image(tmp_path / "a" / "Blip" / "g_1.0.png", _stripe_plot(0.4))
    [both] = load_samples(tmp_path / "a").samples

    assert encoding.files_read(only_long, "rgb-durations") == (tmp_path / "a/Blip/g_4.0.png",)
    assert encoding.cache_key([only_long], "rgb-durations", 32) != encoding.cache_key(
        [both], "rgb-durations", 32
    )
