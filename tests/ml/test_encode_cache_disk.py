"""ml.encoding's cache on a disk that fills up, and the half-written arrays of writers that died.

The cache array is written through a memory map: on a full disk a write to it killed the
process with SIGBUS (a Celery "worker lost: signal 7"), left the partial file behind, and every
retry failed with ENOSPC until someone deleted files by hand.
"""

from __future__ import annotations

import errno
import os
import re
import subprocess
import time
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


def _own_partial_name(samples: list[Sample], cache: Path) -> str:
    """The name this process gives its partial file (seen while it is being written)."""
    names: list[str] = []
    encode_samples(
        samples,
        size=SIZE,
        workers=1,
        cache_dir=cache,
        progress=lambda done, total: names.extend(p.name for p in cache.glob("*.partial.npy")),
    )
    for path in cache.iterdir():
        path.unlink()
    return names[0]


def _dead_pid() -> int:
    child = subprocess.Popen(["true"])
    child.wait()
    return child.pid


def test_the_partial_of_a_dead_writer_on_this_host_is_removed_when_an_encode_starts(
    tmp_path: Path,
) -> None:
    """A process killed while decoding (SIGKILL at the hard time limit, the OOM killer) left a
    full-size partial that no retry reused (its name has the pid) and nothing removed."""
    samples = _samples(tmp_path / "data")
    cache = tmp_path / "cache"
    own = _own_partial_name(samples, cache)
    stem, pid, suffix = re.fullmatch(r"(.*\D)(\d+)(\.partial\.npy)", own).groups()  # type: ignore[union-attr]
    assert int(pid) == os.getpid()
    dead = cache / f"other-{stem}{_dead_pid()}{suffix}"
    live = cache / f"other-{stem}{os.getppid()}{suffix}"  # pytest's parent: alive
    for path in (dead, live):
        path.write_bytes(b"\0" * 1000)

    encode_samples(samples[:2], size=SIZE, workers=1, cache_dir=cache)

    assert not dead.exists()
    assert live.exists()


def test_a_partial_older_than_any_run_is_removed_and_a_fresh_one_is_kept(tmp_path: Path) -> None:
    """Another host's writer (a shared cache, docs/deploy.md) cannot be asked by pid: its
    partial is judged by age, as is one named before the host was in the name."""
    samples = _samples(tmp_path / "data")
    cache = tmp_path / "cache"
    cache.mkdir()
    old = time.time() - 13 * 3600
    stale_other_host = cache / "rgb-durations-64-0123.gpu-7_4026531836-1234.partial.npy"
    stale_old_name = cache / "single-2.0-64-4567.1234.partial.npy"
    fresh_other_host = cache / "mosaic-64-89ab.gpu-7_4026531836-1234.partial.npy"
    for path in (stale_other_host, stale_old_name, fresh_other_host):
        path.write_bytes(b"\0" * 1000)
    for path in (stale_other_host, stale_old_name):
        os.utime(path, (old, old))

    encode_samples(samples, size=SIZE, workers=1, cache_dir=cache)

    assert sorted(p.name for p in cache.glob("*.partial.npy")) == [fresh_other_host.name]
