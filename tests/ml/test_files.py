"""ml.files.atomic_write: whole files or none, with the mode a plain write would give."""

from __future__ import annotations

import errno
import os
import stat

import pytest

from ml.errors import DiskFullError
from ml.files import atomic_write, new_file_mode


def _mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_new_file_gets_the_mode_of_a_plain_write(tmp_path):
    """mkstemp makes 0600 files: a model or export written by one user was unreadable to
    the group and others that the umask lets read a plain write."""
    plain = tmp_path / "plain.txt"
    plain.write_text("x")
    written = tmp_path / "written.txt"
    atomic_write(written, lambda fh: fh.write("x"), text=True)
    assert _mode(written) == _mode(plain) == new_file_mode()


def test_the_mode_follows_the_umask(tmp_path):
    new_file_mode.cache_clear()
    old = os.umask(0o027)
    try:
        atomic_write(tmp_path / "a.bin", lambda fh: fh.write(b"x"))
        assert _mode(tmp_path / "a.bin") == 0o640
    finally:
        os.umask(old)
        new_file_mode.cache_clear()


def test_text_is_utf8_and_newlines_are_written_as_given(tmp_path):
    path = tmp_path / "out.csv"
    atomic_write(path, lambda fh: fh.write("Blip,é\r\nWhistle\n"), text=True)
    assert path.read_bytes() == "Blip,é\r\nWhistle\n".encode()


def test_a_failed_write_leaves_the_previous_file_and_no_partial(tmp_path):
    path = tmp_path / "model.pt"
    path.write_bytes(b"old")

    def broken(fh):
        fh.write(b"half")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        atomic_write(path, broken)
    assert path.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["model.pt"]


class _FullDisk:
    """A file on a disk with `room` bytes left: the write past it fails as the OS would."""

    def __init__(self, fh, room: int) -> None:
        self.fh, self.room = fh, room

    def write(self, data) -> int:
        if len(data) > self.room:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        self.room -= len(data)
        return self.fh.write(data)

    def flush(self) -> None:
        self.fh.flush()


def test_a_checkpoint_that_fills_the_disk_says_disk_full_and_where(tmp_path):
    """torch's zip writer turns the OSError into "RuntimeError: [enforce fail at
    inline_container.cc:672] . unexpected pos ...": the run's error never said "disk"."""
    import torch

    folder = tmp_path / "models" / "run-3"
    checkpoint = {"model": {"weight": torch.zeros(100_000)}}

    with pytest.raises(DiskFullError) as raised:
        atomic_write(folder / "best.pt", lambda fh: torch.save(checkpoint, _FullDisk(fh, 4096)))

    assert str(raised.value).startswith(f"disk full: cannot write best.pt in {folder} (")
    assert "MB written when it failed" in str(raised.value)
    assert str(raised.value).endswith(" MB free once that was removed)")
    assert list(folder.iterdir()) == []  # the temporary file is gone
