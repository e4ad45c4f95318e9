"""Faults at the SQLite boundary, for tests: the k-th write fails.

The store and the vault reach SQLite only through ``sqlite3.connect`` and
the connection's ``execute`` and ``executemany`` (storage/worker.py). So a
fault is injected below all of their code and above SQLite: while
``faulty_sqlite(plan)`` is active, every connection opened gets
``FaultyConnection`` as its class (``sqlite3.connect``'s documented
``factory`` hook), which counts the statements that write and, when the
plan says so, raises a ``sqlite3`` error instead of running one. No
production code changes for it, and nothing is faked above the boundary:
the store's own transaction and rollback code meet the fault.

What counts as a write: INSERT, UPDATE, DELETE, REPLACE, CREATE, DROP,
ALTER, BEGIN (it takes the write lock: SQLITE_BUSY is how it fails), COMMIT,
and the pragmas that change the file (journal_mode, application_id,
user_version). Each row of an ``executemany`` is one write, as SQLite runs
one statement per row; a fault at row j runs the rows before it first, so
the transaction holds part of the batch when the error comes. ROLLBACK is
never failed: in WAL mode it writes nothing to the database file, and the
code under test relies on it as SQLite's own tests do.

Two kinds of plan, as SQLite's own fault tests: the k-th write fails once
(a transient error), or every write from the k-th on fails (a disk that
went read-only or full).
"""

from __future__ import annotations

import contextlib
import random
import re
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any
from unittest import mock

_WRITE = re.compile(
    r"\s*(INSERT|UPDATE|DELETE|REPLACE|CREATE|DROP|ALTER|BEGIN|COMMIT|END\b|"
    r"PRAGMA\s+(journal_mode|application_id|user_version)\s*=)",
    re.IGNORECASE,
)
#: The checker's own ``connect``, kept before any ``faulty_sqlite`` patches it.
_REAL_CONNECT = sqlite3.connect
#: The errors a failing disk gives, as sqlite3 raises them.
_ERRORS: tuple[tuple[type[sqlite3.Error], str], ...] = (
    (sqlite3.OperationalError, "disk I/O error"),
    (sqlite3.OperationalError, "database or disk is full"),
    (sqlite3.OperationalError, "database is locked"),
    (sqlite3.DatabaseError, "database disk image is malformed"),
)


def is_write(sql: str) -> bool:
    return _WRITE.match(sql) is not None


@dataclass
class FaultPlan:
    """Which write fails. Counting starts when the plan is armed; a plan
    that is not armed lets everything through and counts nothing."""

    rng: random.Random = field(default_factory=random.Random)
    #: The write (1-based, since ``arm``) that fails; None: none does.
    at: int | None = None
    #: True: every write from ``at`` on fails, not only that one.
    persistent: bool = False
    armed: bool = False
    #: Writes seen since ``arm``, and faults raised.
    writes: int = 0
    faults: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def arm(self, at: int | None = None, *, persistent: bool = False) -> None:
        with self._lock:
            self.at, self.persistent, self.armed = at, persistent, True
            self.writes = self.faults = 0

    def disarm(self) -> None:
        with self._lock:
            self.armed = False

    def take(self, count: int) -> int | None:
        """Count ``count`` writes; the index among them of the first that
        fails, or None."""
        with self._lock:
            if not self.armed:
                return None
            first = self.writes + 1
            self.writes += count
            if self.at is None:
                return None
            if self.persistent and first > self.at:
                failing = 0
            elif first <= self.at <= self.writes:
                failing = self.at - first
            else:
                return None
            self.faults += 1
            return failing

    def error(self) -> sqlite3.Error:
        kind, message = self.rng.choice(_ERRORS)
        return kind(f"{message} (injected)")


class FaultyConnection(sqlite3.Connection):
    """A connection whose writes go through its ``plan`` first."""

    plan: FaultPlan | None = None

    def execute(self, sql: str, parameters: Any = (), /) -> sqlite3.Cursor:
        plan = self.plan
        if plan is not None and is_write(sql) and plan.take(1) is not None:
            raise plan.error()
        return super().execute(sql, parameters)

    def executemany(self, sql: str, parameters: Iterable[Any], /) -> sqlite3.Cursor:
        plan = self.plan
        if plan is None or not is_write(sql):
            return super().executemany(sql, parameters)
        rows = list(parameters)
        failing = plan.take(len(rows))
        if failing is None:
            return super().executemany(sql, rows)
        if failing:
            super().executemany(sql, rows[:failing])
        raise plan.error()


@contextlib.contextmanager
def faulty_sqlite(plan: FaultPlan) -> Iterator[None]:
    """Every connection opened meanwhile (by any thread) obeys ``plan``."""
    real = sqlite3.connect

    def connect(*args: Any, **kwargs: Any) -> sqlite3.Connection:
        connection = real(*args, factory=FaultyConnection, **kwargs)
        assert isinstance(connection, FaultyConnection)
        connection.plan = plan
        return connection

    with mock.patch.object(sqlite3, "connect", connect):
        yield


def plain_connect(path: str) -> sqlite3.Connection:
    """A connection of the checker's own, never faulty (even while
    ``faulty_sqlite`` is active), in autocommit mode."""
    return _REAL_CONNECT(path, isolation_level=None)


def check_database(path: str) -> list[str]:
    """What ``PRAGMA integrity_check`` and ``PRAGMA foreign_key_check``
    find wrong with the database at ``path`` (empty: nothing)."""
    db = plain_connect(path)
    try:
        db.execute("PRAGMA foreign_keys = ON")
        problems = [row[0] for row in db.execute("PRAGMA integrity_check")]
        if problems == ["ok"]:
            problems = []
        problems += [f"foreign key: {row}" for row in db.execute("PRAGMA foreign_key_check")]
    finally:
        db.close()
    return problems
