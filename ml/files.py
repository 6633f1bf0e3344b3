"""Writing files whole: atomic_write, which says "disk full" and where when that is why it
failed. No torch here, so light commands (ml cluster, manage.py export_labels) share it with
the checkpoint writer."""

from __future__ import annotations

import contextlib
import errno
import functools
import hashlib
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from ml.errors import DiskFullError

# A full disk, or a full quota: errno.EDQUOT is missing where the OS has no quotas.
_NO_SPACE = frozenset({errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)})


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


# atomic_write's temporary sibling of NAME is .NAME.<random>.tmp (atomic_write_leftovers)
_TEMP_PREFIX, _TEMP_SUFFIX = ".", ".tmp"


def atomic_write(path: Path, write: Callable[[IO[Any]], object], *, text: bool = False) -> None:
    """Write a file through a temporary sibling + os.replace: readers never see half a
    file, and a failed or interrupted write leaves the previous file whole. `write` gets a
    binary file, or with text=True a UTF-8 text file that writes newlines as given."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(
        dir=path.parent, prefix=f"{_TEMP_PREFIX}{path.name}.", suffix=_TEMP_SUFFIX
    )
    try:
        os.fchmod(fd, new_file_mode())
        with (
            os.fdopen(fd, "w", encoding="utf-8", newline="") if text else os.fdopen(fd, "wb")
        ) as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        full = out_of_space(exc)  # torch's writer says "unexpected pos", not "disk full"
        written = os.stat(tmp).st_size if full and os.path.exists(tmp) else 0
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        if full:
            raise DiskFullError(
                f"disk full: cannot write {path.name} in {path.parent} ({megabytes(written)} "
                f"written when it failed; {free_space(path.parent)} once that was removed)"
            ) from exc
        raise


def atomic_write_leftovers(folder: Path, name: str = "*", *, below: bool = False) -> list[Path]:
    """The temporary siblings atomic_write left in `folder` (and in its subfolders with
    below=True) for files whose name matches the glob `name`. A write that fails removes
    its own; a process killed mid-write (SIGKILL, the OOM killer, a hard time limit) leaves
    it for good, as large as the write had got. Only for a folder nobody writes to now: a
    live write's temporary file is listed too."""
    pattern = f"{_TEMP_PREFIX}{name}.*{_TEMP_SUFFIX}"
    return sorted(p for p in (folder.rglob if below else folder.glob)(pattern) if p.is_file())


def out_of_space(exc: BaseException) -> bool:
    """Whether `exc`, or an error it was raised from or while handling, is a full disk or
    quota (ENOSPC, EDQUOT). torch.save into a file reports a failed write as RuntimeError
    "[enforce fail at inline_container.cc:...] . unexpected pos ...", with the OSError only
    as its __context__."""
    seen: set[int] = set()
    cause: BaseException | None = exc
    while cause is not None and id(cause) not in seen:
        if isinstance(cause, OSError) and cause.errno in _NO_SPACE:
            return True
        seen.add(id(cause))
        cause = cause.__cause__ or cause.__context__
    return False


def free_space(folder: Path) -> str:
    """'N MB free' on the file system of `folder` (for the user, not a computation)."""
    try:
        return f"{megabytes(shutil.disk_usage(folder).free)} free"
    except OSError:  # the folder is gone: the message it is for must still be raised
        return "free space unknown"


def megabytes(size: int) -> str:
    """'12.3 MB' (10^6 bytes, as df -H and the run log count)."""
    return f"{size / 1e6:,.1f} MB"


@functools.cache
def source_digest(folder: Path, *, recursive: bool = False) -> str:
    """16 hex digits of a sha256 over the Python modules in `folder` (with `recursive`, below it
    too), each by its path relative to `folder` and its bytes: what a cache made by this code
    is keyed on, so that a result made by other code is made again. Read once per process."""
    digest = hashlib.sha256()
    pattern = "**/*.py" if recursive else "*.py"
    for module in sorted(folder.glob(pattern)):
        digest.update(module.relative_to(folder).as_posix().encode() + b"\0" + module.read_bytes())
    return digest.hexdigest()[:16]


def ml_source_digest() -> str:
    """source_digest of the whole ml/ package: a trained model depends on all of it."""
    return source_digest(Path(__file__).parent, recursive=True)
