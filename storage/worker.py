"""One SQLite connection driven from trio: the one way storage/ touches SQLite.

sqlite3 blocks, and aiosqlite only speaks asyncio, so this does what
aiosqlite does inside, in trio terms: ONE connection, used only from worker
threads through ``trio.to_thread.run_sync`` with a ``CapacityLimiter(1)``.
Calls therefore run one at a time, in the order they queue, and never on
two threads at once (``check_same_thread=False`` only lets the connection
move between worker threads). Each call runs a whole unit of work (all the
statements of a batch), so a batch costs one thread hop.

A call is not cancellable once it holds the limiter (trio's default,
``abandon_on_cancel=False``): trio waits for the thread, so a transaction is
never left half way and a committed batch's results are never dropped.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Callable
from typing import TypeVar

import trio

from protocol.errors import LocalError
from storage.interface import StorageError

_T = TypeVar("_T")


class ConnectionThread:
    """Owns a configured connection; ``run`` is the only way to use it.

    ``closed_error`` is raised by calls after ``close`` (a LocalError: the
    caller's bug); ``label`` prefixes StorageError messages so an operator
    can tell which database failed.
    """

    def __init__(
        self, connection: sqlite3.Connection, closed_error: LocalError, label: str = ""
    ) -> None:
        self._db: sqlite3.Connection | None = connection
        self._closed_error = closed_error
        self._label = label
        self._closing = False
        self._limiter = trio.CapacityLimiter(1)

    @property
    def is_open(self) -> bool:
        return self._db is not None

    async def run(self, work: Callable[[sqlite3.Connection], _T]) -> _T:
        """Run ``work`` on the connection's thread; sqlite3 errors become StorageError."""
        return await trio.to_thread.run_sync(self._call, work, limiter=self._limiter)

    def _call(self, work: Callable[[sqlite3.Connection], _T]) -> _T:
        db = self._db
        if db is None:
            raise self._closed_error
        try:
            return work(db)
        except sqlite3.Error as exc:
            # SQLite's messages name tables and columns, never bound values.
            raise StorageError(f"{self._label}{type(exc).__name__}: {exc}") from exc

    async def close(self) -> None:
        """Close after the calls queued before this one; idempotent.

        Shielded: a cancelled owner must still close, or the file stays
        locked.
        """
        if self._closing:
            return
        self._closing = True
        with trio.CancelScope(shield=True):
            await trio.to_thread.run_sync(self._close_now, limiter=self._limiter)

    def _close_now(self) -> None:
        db, self._db = self._db, None
        if db is not None:
            db.close()


def in_transaction(db: sqlite3.Connection, work: Callable[[sqlite3.Connection], _T]) -> _T:
    """``work`` inside BEGIN IMMEDIATE .. COMMIT; any failure rolls it all back.

    IMMEDIATE takes the write lock before ``work`` reads anything, so
    nothing changes between what it checks and what it writes.
    """
    db.execute("BEGIN IMMEDIATE")
    try:
        result = work(db)
        db.execute("COMMIT")
    except BaseException:
        if db.in_transaction:
            # If ROLLBACK fails too, the original error says more.
            with contextlib.suppress(sqlite3.Error):
                db.execute("ROLLBACK")
        raise
    return result
