"""Writing the node's small files (keys, secrets, the genesis copy) durably.

A file reported as written must survive a crash: its data and its directory
entry are fsynced. Its mode is set from the moment it exists (and again
with fchmod, whatever the umask), so a secret is never readable by others,
even for an instant.
"""

from __future__ import annotations

import os
from pathlib import Path


def write_durably(path: Path, data: bytes, *, mode: int, replace: bool) -> None:
    """Write ``data`` to ``path`` with ``mode``, then fsync it and its directory.

    Unless ``replace``, the file must not exist: FileExistsError, nothing
    written (an identity or a secret is never overwritten by accident).
    """
    flags = os.O_WRONLY | os.O_CREAT | (os.O_TRUNC if replace else os.O_EXCL)
    fd = os.open(path, flags, mode)
    try:
        os.fchmod(fd, mode)
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        os.fsync(fd)
    finally:
        os.close(fd)
    fsync_dir(path.parent)


def fsync_dir(directory: Path) -> None:
    """Make a new directory entry durable (POSIX: the file's fsync is not enough)."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
