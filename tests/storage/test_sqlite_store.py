"""What only the SQLite store promises: durability, atomicity, schema versions.

Faults are injected the way SQLite's own tests do it, at the k-th write for
k = 1, 2, ... until the operation completes: a trigger, created through a
second connection, aborts the k-th insert of the batch. After each failure
the batch must have left nothing behind and the database must pass
``PRAGMA integrity_check``.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
import trio
import trio.testing
from event_factory import BOB, NOW_MS, note

from protocol.errors import LocalError
from protocol.event import SignedEvent
from protocol.fingerprint import fingerprint
from protocol.reconcile import RangeSource
from storage import (
    IngestResult,
    IngestStatus,
    SqliteEventStore,
    StorageError,
    open_sqlite_store,
)
from storage import sqlite as sqlite_module
from storage.schema import MIGRATIONS, Migration, migrate, schema_version

ACCEPTED = IngestStatus.ACCEPTED


@contextlib.contextmanager
def connect(path: Path) -> Iterator[sqlite3.Connection]:
    """A second connection to the store's file, as another process would open."""
    db = sqlite3.connect(path, isolation_level=None)
    try:
        yield db
    finally:
        db.close()


def integrity(path: Path) -> list[str]:
    with connect(path) as db:
        return [row[0] for row in db.execute("PRAGMA integrity_check")]


def table_counts(path: Path) -> tuple[int, int]:
    with connect(path) as db:
        events = db.execute("SELECT count(*) FROM events").fetchone()[0]
        refs = db.execute("SELECT count(*) FROM refs").fetchone()[0]
    return events, refs


def chain(count: int, start_ts: int, text: str = "chain") -> list[SignedEvent]:
    """``count`` events, each referencing the previous one."""
    events = [note(start_ts, text=f"{text} 0")]
    for i in range(1, count):
        events.append(note(start_ts + i, text=f"{text} {i}", refs=[events[-1].id]))
    return events


# -- durability ---------------------------------------------------------------


async def test_data_persists_across_close_and_reopen(tmp_path: Path) -> None:
    path = tmp_path / "events.db"
    first = chain(5, NOW_MS - 10_000)
    async with open_sqlite_store(path) as store:
        assert {r.status for r in await store.ingest(first, NOW_MS)} == {ACCEPTED}
        summary = await store.range_summary((0, b""), None)
    async with open_sqlite_store(path) as store:
        assert await store.count() == 5
        assert await store.get_many(e.id for e in first) == {e.id: e.raw for e in first}
        assert await store.range_summary((0, b""), None) == summary
        assert [s.id for s in await store.query()] == [e.id for e in first]
        # Refs reach events committed by an earlier session; duplicates are known.
        later = note(NOW_MS - 1000, key=BOB, refs=[first[-1].id, first[0].id])
        results = await store.ingest([first[2], later], NOW_MS)
        assert [r.status for r in results] == [IngestStatus.DUPLICATE, ACCEPTED]
    assert table_counts(path) == (6, 4 + 2)
    assert integrity(path) == ["ok"]


async def test_connection_settings(tmp_path: Path) -> None:
    path = tmp_path / "events.db"
    async with open_sqlite_store(path) as store:
        # The settings are per connection: look at the store's own, on its thread.
        def settings(db: sqlite3.Connection) -> tuple[object, ...]:
            pragmas = ("journal_mode", "synchronous", "foreign_keys", "busy_timeout")
            values = [db.execute(f"PRAGMA {name}").fetchone()[0] for name in pragmas]
            return (*values, db.isolation_level)

        mode, synchronous, foreign_keys, busy_timeout, isolation = await store._run(settings)
        assert (mode, synchronous, foreign_keys, isolation) == ("wal", 2, 1, None)  # 2: FULL
        assert isinstance(busy_timeout, int) and busy_timeout > 0
    with connect(path) as db:  # WAL mode is a property of the file
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


async def test_range_scans_use_the_covering_index(tmp_path: Path) -> None:
    async with open_sqlite_store(tmp_path / "events.db") as store:
        sql = sqlite_module._RANGE_SUMS + " WHERE (ts, id) >= (?, ?) AND (ts, id) < (?, ?)"
        rows = await store._run(
            lambda db: db.execute("EXPLAIN QUERY PLAN " + sql, [0, b""] * 2).fetchall()
        )
        plan = " ".join(row[-1] for row in rows)
        assert "COVERING INDEX events_by_key" in plan


async def test_close_is_idempotent_and_releases_the_file(tmp_path: Path) -> None:
    path = tmp_path / "events.db"
    store = await SqliteEventStore.open(path)
    await store.ingest([note(NOW_MS)], NOW_MS)
    await store.close()
    await store.close()
    assert not (tmp_path / "events.db-wal").exists()  # last connection checkpointed
    assert table_counts(path) == (1, 0)


async def test_cancelled_caller_still_gets_its_batch_committed(tmp_path: Path) -> None:
    # Once the batch is on the store's thread, cancelling the caller does not
    # abandon it: trio waits for the thread, and the commit happens.
    path = tmp_path / "events.db"
    events = chain(200, NOW_MS - 10_000)
    results: list[IngestResult] = []

    async def ingest() -> None:
        results.extend(await store.ingest(events, NOW_MS))

    async with open_sqlite_store(path) as store:
        with trio.CancelScope() as scope:
            async with trio.open_nursery() as nursery:
                nursery.start_soon(ingest)
                await trio.testing.wait_all_tasks_blocked()  # it is on the thread
                scope.cancel()
        assert [r.status for r in results] == [ACCEPTED] * len(events)
        assert await store.count() == len(events)
    assert table_counts(path) == (200, 199)


# -- atomicity ----------------------------------------------------------------


def _fail_at(path: Path, table: str, k: int) -> None:
    """Make the (k+1)-th insert into ``table`` from now on abort."""
    with connect(path) as db:
        (base,) = db.execute(f"SELECT count(*) FROM {table}").fetchone()
        db.execute(f"""CREATE TRIGGER injected_fault BEFORE INSERT ON {table}
            WHEN (SELECT count(*) FROM {table}) >= {base + k}
            BEGIN SELECT RAISE(ABORT, 'injected fault'); END""")


def _heal(path: Path) -> None:
    with connect(path) as db:
        db.execute("DROP TRIGGER IF EXISTS injected_fault")


@pytest.mark.parametrize("table", ["events", "refs"])
async def test_a_fault_at_any_write_leaves_nothing_of_the_batch(tmp_path: Path, table: str) -> None:
    path = tmp_path / "events.db"
    earlier = chain(3, NOW_MS - 20_000, "earlier")
    batch = [note(NOW_MS - 5000, refs=[earlier[-1].id]), *chain(6, NOW_MS - 4000)]
    inserts = len(batch) if table == "events" else 1 + 5  # one ref per event but one
    async with open_sqlite_store(path) as store:
        await store.ingest(earlier, NOW_MS)
        before = table_counts(path)
        summary = await store.range_summary((0, b""), None)
        for k in range(inserts):
            _fail_at(path, table, k)
            with pytest.raises(StorageError, match="injected fault") as failure:
                await store.ingest(batch, NOW_MS)
            assert isinstance(failure.value.__cause__, sqlite3.Error)
            _heal(path)
            assert table_counts(path) == before, k
            assert await store.has(e.id for e in batch) == set(), k
            assert await store.range_summary((0, b""), None) == summary
            assert integrity(path) == ["ok"]
        # Past the last write the batch goes through, whole.
        _fail_at(path, table, inserts)
        results = await store.ingest(batch, NOW_MS)
        _heal(path)
        assert [r.status for r in results] == [ACCEPTED] * len(batch)
    assert table_counts(path) == (before[0] + 7, before[1] + 6)
    assert integrity(path) == ["ok"]


async def test_a_python_error_mid_batch_rolls_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "events.db"
    batch = chain(8, NOW_MS - 10_000)
    real_row = sqlite_module._event_row
    rows_made = 0

    def failing_row(*args):  # type: ignore[no-untyped-def]
        nonlocal rows_made
        rows_made += 1
        if rows_made == 5:  # four rows are already in the transaction
            raise RuntimeError("disk on fire")
        return real_row(*args)

    async with open_sqlite_store(path) as store:
        monkeypatch.setattr(sqlite_module, "_event_row", failing_row)
        with pytest.raises(StorageError, match="disk on fire") as failure:
            await store.ingest(batch, NOW_MS)
        assert isinstance(failure.value.__cause__, RuntimeError)
        assert rows_made == 5
        assert await store.count() == 0
        monkeypatch.undo()
        # The connection is not left inside the failed transaction.
        results = await store.ingest(batch, NOW_MS)
        assert [r.status for r in results] == [ACCEPTED] * 8
    assert table_counts(path) == (8, 7)
    assert integrity(path) == ["ok"]


async def test_a_locked_database_fails_the_batch_cleanly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "events.db"
    monkeypatch.setattr(sqlite_module, "BUSY_TIMEOUT_S", 0.05)
    async with open_sqlite_store(path) as store:
        with connect(path) as other:
            other.execute("BEGIN IMMEDIATE")  # another writer holds the lock
            with pytest.raises(StorageError, match="locked"):
                await store.ingest([note(NOW_MS)], NOW_MS)
            other.execute("ROLLBACK")
        assert [r.status for r in await store.ingest([note(NOW_MS)], NOW_MS)] == [ACCEPTED]


# -- schema -------------------------------------------------------------------


async def test_schema_version_is_recorded(tmp_path: Path) -> None:
    path = tmp_path / "events.db"
    async with open_sqlite_store(path):
        pass
    with connect(path) as db:
        rows = db.execute("SELECT version, description FROM schema_version ORDER BY version")
        assert [(v, d) for v, d in rows] == [(m.version, m.description) for m in MIGRATIONS]
        assert schema_version(db) == len(MIGRATIONS)
    async with open_sqlite_store(path):  # reopening applies nothing twice
        pass
    with connect(path) as db:
        assert db.execute("SELECT count(*) FROM schema_version").fetchone()[0] == len(MIGRATIONS)


async def test_a_newer_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "events.db"
    async with open_sqlite_store(path) as store:
        await store.ingest([note(NOW_MS)], NOW_MS)
    newer = len(MIGRATIONS) + 1
    with connect(path) as db:
        db.execute(
            "INSERT INTO schema_version (version, description) VALUES (?, 'from the future')",
            (newer,),
        )
    with pytest.raises(StorageError, match=f"schema version {newer}, newer"):
        async with open_sqlite_store(path):
            pass
    with connect(path) as db:  # refused, and left as it was
        assert schema_version(db) == newer
        assert db.execute("SELECT count(*) FROM events").fetchone()[0] == 1


async def test_not_a_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "events.db"
    path.write_bytes(b"this is not an SQLite database, just some bytes " * 100)
    with pytest.raises(StorageError, match="not a database"):
        async with open_sqlite_store(path):
            pass


async def test_an_empty_database_gets_every_migration(tmp_path: Path) -> None:
    path = tmp_path / "events.db"
    with connect(path) as db:
        db.execute("CREATE TABLE unrelated (x)")  # a database at version 0
    async with open_sqlite_store(path) as store:
        await store.ingest([note(NOW_MS)], NOW_MS)
        assert await store.count() == 1
    with connect(path) as db:
        assert schema_version(db) == len(MIGRATIONS)


FIRST = Migration(1, "a table", ("CREATE TABLE t (a INTEGER)", "INSERT INTO t VALUES (1)"))
SECOND = Migration(2, "a column", ("ALTER TABLE t ADD COLUMN b TEXT DEFAULT 'x'",))
BROKEN = Migration(2, "half a change", ("CREATE TABLE u (a)", "THIS IS NOT SQL"))


def test_migrations_apply_on_an_older_database(tmp_path: Path) -> None:
    with connect(tmp_path / "m.db") as db:
        assert migrate(db, [FIRST]) == 1
        db.execute("INSERT INTO t (a) VALUES (2)")
        assert migrate(db, [FIRST, SECOND]) == 2
        # The first migration did not run again; the second kept the data.
        assert db.execute("SELECT a, b FROM t ORDER BY a").fetchall() == [(1, "x"), (2, "x")]
        assert migrate(db, [FIRST, SECOND]) == 2
        assert db.execute("SELECT version FROM schema_version").fetchall() == [(1,), (2,)]


def test_a_failed_migration_is_rolled_back_alone(tmp_path: Path) -> None:
    with connect(tmp_path / "m.db") as db:
        with pytest.raises(StorageError, match="migration 2"):
            migrate(db, [FIRST, BROKEN])
        assert not db.in_transaction
        assert schema_version(db) == 1
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master")}
        assert "t" in tables and "u" not in tables
        assert migrate(db, [FIRST, SECOND]) == 2  # a fixed release resumes


def test_migrations_must_be_numbered_in_order(tmp_path: Path) -> None:
    with connect(tmp_path / "m.db") as db, pytest.raises(LocalError):
        migrate(db, [SECOND])


async def test_range_fingerprints_follow_commits_of_this_and_other_connections(
    tmp_path: Path,
) -> None:
    """The in-memory key index of unscoped reconciliation sees this store's
    own commits and, rebuilt, those of another process (a command run
    beside the node)."""
    path = tmp_path / "events.sqlite3"
    everything = (0, b"")

    def whole(source: RangeSource) -> tuple[int, bytes]:
        return source.summary(everything, None)

    async with open_sqlite_store(path) as node, open_sqlite_store(path) as beside:
        first = [note(NOW_MS - i, text=f"n{i}") for i in range(5)]
        await node.ingest(first, NOW_MS)
        assert await node.with_ranges(whole) == (5, fingerprint(e.id for e in first))
        mine = note(NOW_MS - 10, text="mine")
        await node.ingest([mine], NOW_MS)
        assert (await node.with_ranges(whole))[0] == 6
        theirs = note(NOW_MS - 20, text="theirs")
        await beside.ingest([theirs], NOW_MS)
        everyone = [*first, mine, theirs]
        assert await node.with_ranges(whole) == (7, fingerprint(e.id for e in everyone))
