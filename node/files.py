"""Writing the node's files (keys, secrets, the genesis copy, bundles) durably.

A file reported as written must survive a crash: its data and its directory
entry are fsynced. Its mode is set from the moment it exists (and again
with fchmod, whatever the umask), so a secret is never readable by others,
even for an instant.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
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


def write_atomically(path: Path, chunks: Iterable[bytes], *, mode: int) -> int:
    """Write ``chunks`` to ``path`` so that it holds either all of them or its
    old content: a temporary file beside it, fsynced, renamed over it.
    Returns the bytes written."""
    partial = path.with_name(f".{path.name}.partial")
    written = 0
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        os.fchmod(fd, mode)
        for chunk in chunks:
            view = memoryview(chunk)
            while view:
                view = view[os.write(fd, view) :]
            written += len(chunk)
        os.fsync(fd)
    except BaseException:
        os.close(fd)
        partial.unlink(missing_ok=True)
        raise
    os.close(fd)
    os.replace(partial, path)
    fsync_dir(path.parent)
    return written


def fsync_dir(directory: Path) -> None:
    """Make a new directory entry durable (POSIX: the file's fsync is not enough)."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
