"""ml.encoding.encode_decodable: a glitch whose file does not decode is left out, named, and
the others encode as they would alone, cached or not."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from image_factories import damage_middle, write_glitches

from ml import encoding
from ml.data import image_file_problem, load_samples
from ml.encoding import DecodeError, encode_decodable, encode_samples, prune_cache


def _samples_with_one_damaged(root: Path) -> tuple[list, Path]:
    """Six Blips, the third's 2 s view damaged past the cheap check."""
    write_glitches(root, "Blip", 6)
    samples = load_samples(root).samples
    damaged = damage_middle(samples[2].paths[2.0])
    assert image_file_problem(damaged) is None  # ml.data lets it through
    return samples, damaged


@pytest.mark.parametrize("workers", [1, 2])
def test_a_glitch_that_does_not_decode_is_left_out_and_named(tmp_path: Path, workers: int) -> None:
    samples, damaged = _samples_with_one_damaged(tmp_path / "data")
    warned: list[str] = []

    decoded = encode_decodable(samples, size=16, workers=workers, warn=warned.append)

    good = [s for i, s in enumerate(samples) if i != 2]
    assert decoded.samples == good and decoded.kept == [0, 1, 3, 4, 5]
    assert np.array_equal(decoded.images, encode_samples(good, size=16, workers=1))
    assert warned == decoded.dropped and len(warned) == 1
    assert warned[0].startswith(f"glitch {samples[2].id} left out: {damaged}: cannot decode")
    with pytest.raises(DecodeError, match=str(damaged)):  # the strict one still refuses
        encode_samples(samples, size=16, workers=1)


def test_its_holes_are_cached_with_the_array(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    samples, damaged = _samples_with_one_damaged(tmp_path / "data")
    cache = tmp_path / "cache"
    first = encode_decodable(samples, size=16, workers=1, cache_dir=cache, warn=lambda _: None)

    def no_decoding(*_: object) -> None:
        raise AssertionError("decoded again")

    monkeypatch.setattr(encoding, "_encode_all", no_decoding)
    warned: list[str] = []
    again = encode_decodable(samples, size=16, workers=1, cache_dir=cache, warn=warned.append)

    assert again.kept == first.kept and np.array_equal(again.images, first.images)
    assert warned == first.dropped
    with pytest.raises(DecodeError, match=str(damaged)):
        encode_samples(samples, size=16, workers=1, cache_dir=cache)
    assert prune_cache(cache, before=float("inf"))[0] == 1
    assert not list(cache.iterdir())  # the array and the list of its holes


def test_a_file_gone_since_loading_leaves_its_glitch_out(tmp_path: Path) -> None:
    write_glitches(tmp_path / "data", "Whistle", 3)
    samples = load_samples(tmp_path / "data").samples
    samples[0].paths[1.0].unlink()  # a media mount lost it

    decoded = encode_decodable(samples, size=16, workers=1, cache_dir=tmp_path / "c",
                               warn=lambda _: None)  # fmt: skip

    assert decoded.kept == [1, 2]
    assert str(samples[0].paths[1.0]) in decoded.dropped[0]


def test_nothing_decodable_gives_an_empty_array(tmp_path: Path) -> None:
    samples, _ = _samples_with_one_damaged(tmp_path / "data")

    decoded = encode_decodable(samples[2:3], size=16, workers=1, warn=lambda _: None)

    assert decoded.images.shape == (0, 3, 16, 16) and decoded.samples == []
    assert len(decoded.dropped) == 1
