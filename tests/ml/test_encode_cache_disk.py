"""ml.encoding's cache on a disk that fills up.

The cache array is written through a memory map: on a full disk a write to it killed the
process with SIGBUS (a Celery "worker lost: signal 7"), left the partial file behind, and every
retry failed with ENOSPC until someone deleted files by hand.
"""

from __future__ import annotations

import errno
import os
import re
from pathlib import Path

import numpy as np
import pytest
from image_factories import write_glitches

from ml import encoding
from ml.data import Sample, load_samples
from ml.encoding import encode_samples
from ml.errors import DiskFullError

SIZE = 64  # 3 samples x 3 x 64 x 64 = 36,864 bytes: "need 0.0 MB"


def _samples(root: Path) -> list[Sample]:
    write_glitches(root, "Blip", 3)
    return load_samples(root).samples


def _full_disk(fd: int, offset: int, length: int) -> None:
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def test_a_full_disk_says_so_before_decoding_and_leaves_no_partial(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    samples = _samples(tmp_path / "data")
    cache = tmp_path / "cache"
    monkeypatch.setattr(os, "posix_fallocate", _full_disk, raising=False)
    decoded: list[Path] = []
    real_decode = encoding._decode_rgb
    monkeypatch.setattr(encoding, "_decode_rgb", lambda p: decoded.append(p) or real_decode(p))

    with pytest.raises(DiskFullError) as raised:
        encode_samples(samples, size=SIZE, workers=1, cache_dir=cache)

    assert re.fullmatch(
        rf"not enough disk space for the decoded images in {re.escape(str(cache))}: "
        r"need 0\.0 MB, [\d,]+\.\d MB free",
        str(raised.value),
    )
    assert list(cache.iterdir()) == []  # no partial file: the retry finds the space again
    assert decoded == []  # said at once, not after decoding the data set


@pytest.mark.skipif(not hasattr(os, "posix_fallocate"), reason="blocks written, counted late")
def test_the_partials_space_is_taken_before_the_first_sample_is_written(tmp_path: Path) -> None:
    """A sparse partial is what let a full disk end in SIGBUS, not in an error."""
    samples = _samples(tmp_path / "data")
    cache = tmp_path / "cache"
    allocated: list[tuple[int, int]] = []

    def on_progress(done: int, total: int) -> None:
        if done == 1:
            [partial] = cache.glob("*.partial.npy")
            allocated.append((partial.stat().st_blocks * 512, partial.stat().st_size))

    encode_samples(samples, size=SIZE, workers=1, cache_dir=cache, progress=on_progress)

    [(on_disk, size)] = allocated
    assert on_disk >= size - 4096  # every block but the header's page reserved


def test_without_posix_fallocate_the_space_is_written_and_the_array_is_right(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """macOS has no posix_fallocate: zeros are written instead, after the .npy header."""
    samples = _samples(tmp_path / "data")
    expected = encode_samples(samples, size=SIZE, workers=1)
    monkeypatch.delattr(os, "posix_fallocate", raising=False)

    cached = encode_samples(samples, size=SIZE, workers=1, cache_dir=tmp_path / "cache")

    assert np.array_equal(cached, expected)
    assert not list((tmp_path / "cache").glob("*.partial.npy"))
