"""Writing files whole: atomic_write. No torch here, so light commands (ml cluster,
manage.py export_labels) share it with the checkpoint writer."""

from __future__ import annotations

import contextlib
import functools
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any


@functools.cache
def new_file_mode() -> int:
    """The mode open() would give a new file here (0o666 less the umask). mkstemp makes
    0600 files, which another user (a web process reading a worker's model, a colleague
    reading an export) cannot read where a plain write would have allowed it."""
    with contextlib.suppress(OSError, ValueError):  # Linux: the umask, read without setting it
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return 0o666 & ~int(line.split()[1], 8)
    mask = os.umask(0o022)  # elsewhere: read by setting it, then put it back
    os.umask(mask)
    return 0o666 & ~mask


def atomic_write(path: Path, write: Callable[[IO[Any]], object], *, text: bool = False) -> None:
    """Write a file through a temporary sibling + os.replace: readers never see half a
    file, and a failed or interrupted write leaves the previous file whole. `write` gets a
    binary file, or with text=True a UTF-8 text file that writes newlines as given."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, new_file_mode())
        with (
            os.fdopen(fd, "w", encoding="utf-8", newline="") if text else os.fdopen(fd, "wb")
        ) as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
