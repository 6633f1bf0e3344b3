"""Images that cannot be an Omega scan: ml.data reports them as problem lines, ml.encoding
(and ml.fingerprint, which reads through it) raises DecodeError naming the file."""

from __future__ import annotations

from pathlib import Path

import matplotlib
import numpy as np
import pytest
from image_factories import (
    PLOT_BOX,
    blob_energy,
    full_plot,
    png_declaring,
    viridis_rgb,
    write_glitch,
    write_image,
)
from PIL import Image

from ml.data import MIN_PLOT_PIXELS, load_samples, undated_sample
from ml.encoding import DecodeError, encode_sample, plot_frame, read_plot_area
from ml.fingerprint import fingerprint

REAL_SET = Path(__file__).resolve().parents[2].parent / "shared/data/gravityspy-real"
needs_real_set = pytest.mark.skipif(not REAL_SET.is_dir(), reason=f"no real set at {REAL_SET}")


def _viridis_image(path: Path, width: int, height: int) -> Path:
    return write_image(path, viridis_rgb(blob_energy(height, width)))


@pytest.mark.parametrize("size", [(1, 1), (3, 3), (800, 1), (1, 600), (15, 600)])
def test_a_tiny_image_is_refused_naming_it(tmp_path: Path, size: tuple[int, int]) -> None:
    path = _viridis_image(tmp_path / "tiny_1.0.png", *size)

    with pytest.raises(DecodeError, match="tiny_1.0.png: image too small"):
        encode_sample(undated_sample("tiny", "Blip", path))
    with pytest.raises(DecodeError, match="tiny_1.0.png: image too small"):
        fingerprint(path)


def test_a_plot_area_under_the_minimum_is_refused_naming_it(tmp_path: Path) -> None:
    canvas = np.full((50, 50, 3), 255, dtype=np.uint8)  # white margins beside a 15x50 plot
    canvas[:, 20:35] = viridis_rgb(blob_energy(50, 15))
    path = write_image(tmp_path / "small_plot.png", canvas)

    with pytest.raises(DecodeError, match=r"small_plot.png: plot area of \d+x\d+ pixels"):
        read_plot_area(path)


@pytest.mark.parametrize("shape", [(1, 800), (600, 1), (2, 2)])
def test_the_frame_of_a_sliver_is_found_without_failing(shape: tuple[int, int]) -> None:
    # coloured, so taken for plot, but off the colour map, so trimmed as a frame line
    rgb = np.zeros((*shape, 3), dtype=np.uint8)
    rgb[..., 0] = 255

    x0, y0, x1, y1 = plot_frame(rgb)

    assert 0 <= x0 <= x1 <= shape[1] and 0 <= y0 <= y1 <= shape[0]


def test_loading_reports_a_tiny_image_and_keeps_the_rest(tmp_path: Path) -> None:
    write_glitch(tmp_path / "Blip", "good_{d}")
    tiny = _viridis_image(tmp_path / "Blip" / "tiny_1.0.png", MIN_PLOT_PIXELS - 1, 40)

    result = load_samples(tmp_path)

    assert [s.id for s in result.samples] == ["good"]
    assert result.problems == [
        f"{tiny}: image too small ({MIN_PLOT_PIXELS - 1}x40 pixels; an Omega scan is at "
        f"least {MIN_PLOT_PIXELS}x{MIN_PLOT_PIXELS})"
    ]


def test_an_image_at_the_minimum_still_encodes(tmp_path: Path) -> None:
    path = _viridis_image(tmp_path / "crop_1.0.png", MIN_PLOT_PIXELS, MIN_PLOT_PIXELS)

    assert encode_sample(undated_sample("crop", "Blip", path), size=32).shape == (3, 32, 32)
    assert not load_samples(tmp_path).problems


@pytest.mark.parametrize(("width", "height"), [(6000, 5000), (100_000, 100_000)])
def test_a_bomb_decoded_without_the_cheap_check_is_a_decode_error(
    tmp_path: Path, width: int, height: int
) -> None:
    # Not every caller loads through ml.data (a subject's stored files, the field guide).
    bomb = png_declaring(tmp_path / "bomb_1.0.png", width, height)

    with pytest.raises(DecodeError, match="bomb_1.0.png: .*decompression bomb"):
        read_plot_area(bomb)


def _real_looking_plot() -> Image.Image:
    return Image.fromarray(full_plot(blob_energy(105, 140)))


@pytest.mark.parametrize("mode", ["1", "L", "LA", "I", "I;16", "F"])
def test_an_image_without_colour_is_refused_naming_it(tmp_path: Path, mode: str) -> None:
    write_glitch(tmp_path / "Blip", "good_{d}")
    grey = tmp_path / "Blip" / "grey_1.0.png"
    # PNG holds every mode but F (and I, deprecated): those go as a TIFF under a .png name
    _real_looking_plot().convert(mode).save(grey, format="TIFF" if mode in ("I", "F") else "PNG")

    result = load_samples(tmp_path)

    assert [s.id for s in result.samples] == ["good"]
    [problem] = result.problems
    assert problem.startswith(f"{grey}: image without colour (mode ")
    with pytest.raises(DecodeError, match="grey_1.0.png: image without colour"):
        encode_sample(undated_sample("grey", "Blip", grey))


@pytest.mark.parametrize("image_format", ["PNG", "GIF"])
def test_an_animated_image_is_refused_naming_it(tmp_path: Path, image_format: str) -> None:
    write_glitch(tmp_path / "Blip", "good_{d}")
    animated = tmp_path / "Blip" / "moving_1.0.png"
    first, second = _real_looking_plot(), Image.new("RGB", (200, 150), (255, 0, 0))
    first.save(animated, format=image_format, save_all=True, append_images=[second])

    result = load_samples(tmp_path)

    assert [s.id for s in result.samples] == ["good"]
    assert result.problems == [
        f"{animated}: animated {image_format} image: a browser would play its frames, the "
        "model reads the first only; export one frame"
    ]
    with pytest.raises(DecodeError, match="moving_1.0.png: animated"):
        encode_sample(undated_sample("moving", "Blip", animated))


def test_colour_images_of_other_modes_still_load_and_encode(tmp_path: Path) -> None:
    rgb = write_image(tmp_path / "a" / "Blip" / "g_1.0.png", full_plot(blob_energy(105, 140)))
    (tmp_path / "b" / "Blip").mkdir(parents=True)
    Image.open(rgb).convert("RGBA").save(tmp_path / "b" / "Blip" / "g_1.0.png")
    Image.open(rgb).quantize(256).save(tmp_path / "b" / "Blip" / "p_1.0.png")  # palette

    result = load_samples(tmp_path / "b")

    assert not result.problems
    [as_rgb] = load_samples(tmp_path / "a").samples
    rgba, palette = (encode_sample(s, size=32).astype(int) for s in result.samples)
    assert np.array_equal(rgba, encode_sample(as_rgb, size=32))
    assert np.abs(palette - rgba).mean() < 2  # 256 colours: near, not equal


@pytest.mark.parametrize("suffix", [".png", ".jpg"])
def test_an_image_stored_turned_is_read_upright_as_its_exif_says(
    tmp_path: Path, suffix: str
) -> None:
    upright = Image.fromarray(full_plot(blob_energy(105, 140, centre=0.3)))
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: turn 90 degrees clockwise to show (a phone's photo)
    turned = tmp_path / f"turned_1.0{suffix}"
    upright.transpose(Image.Transpose.ROTATE_90).save(turned, exif=exif, quality=95)
    straight = tmp_path / f"straight_1.0{suffix}"
    upright.save(straight, quality=95)

    read, expected = (
        encode_sample(undated_sample(p.stem, "Blip", p), size=32).astype(int)
        for p in (turned, straight)
    )

    if suffix == ".png":  # lossless: the very pixels
        assert np.array_equal(read_plot_area(turned), read_plot_area(straight))
        assert np.array_equal(read, expected)
    else:  # JPEG's blocks fall otherwise on a turned image
        assert np.abs(read - expected).mean() < 2


def _recoloured(energy: np.ndarray, colour_map: str) -> np.ndarray:
    return np.rint(matplotlib.colormaps[colour_map](energy)[..., :3] * 255).astype(np.uint8)


@pytest.mark.parametrize("colour_map", ["jet", "gray", "plasma", "cividis"])
def test_a_plot_in_another_colour_map_is_refused_naming_it(tmp_path: Path, colour_map: str) -> None:
    plot = full_plot(blob_energy(105, 140))
    x0, y0, x1, y1 = PLOT_BOX
    plot[y0:y1, x0:x1] = _recoloured(blob_energy(105, 140), colour_map)
    path = write_image(tmp_path / f"{colour_map}_1.0.png", plot)

    with pytest.raises(DecodeError, match=f"{colour_map}_1.0.png: not a viridis Omega scan"):
        encode_sample(undated_sample(colour_map, "Blip", path))
    with pytest.raises(DecodeError, match="not a viridis Omega scan"):
        fingerprint(path)


def test_a_plain_red_image_is_refused(tmp_path: Path) -> None:
    path = write_image(tmp_path / "red.png", np.full((600, 800, 3), (255, 0, 0), np.uint8))

    with pytest.raises(DecodeError, match=r"red.png: not a viridis Omega scan \(0.0% of"):
        read_plot_area(path)


def test_a_greyscale_plot_in_a_colour_mode_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "grey_palette.png"
    _real_looking_plot().convert("L").convert("P").save(path)  # passes the mode check

    with pytest.raises(DecodeError, match="grey_palette.png: not a viridis Omega scan"):
        read_plot_area(path)


@needs_real_set
def test_the_real_image_least_near_viridis_still_reads() -> None:
    # the real set's lowest share (0.855): a JPEG field-guide plot, mostly smeared yellow
    crop = read_plot_area(REAL_SET / "Extremely_Loud/golden-ExtremelyLoud_2.0.jpg")

    assert crop.shape[0] > 300 and crop.shape[1] > 400
