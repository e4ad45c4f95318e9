"""The event store on SQLite, driven from trio.

Theory of operation
-------------------
The connection is driven as storage/worker.py says (one connection, worker
threads, ``CapacityLimiter(1)``, calls that cannot be abandoned half way).
Every public method makes exactly one thread call that runs all its
statements, so a batch of 500 events costs one thread hop. pynacl and
sqlite3 release the GIL: the node can verify the next batch's signatures
while this thread commits the current one.

Durability and atomicity: WAL journal with ``synchronous=FULL``, so COMMIT
returns only once the WAL is on disk and an ACCEPTED event survives power
loss; WAL also lets another process (a backup, the CLI) read while the node
writes. A write is ``BEGIN IMMEDIATE`` .. ``COMMIT``: the write lock is taken
before validation reads the state, so nothing changes between the check and
the write, and any failure rolls the whole batch back before StorageError is
raised.

Ingest does a constant number of statements per batch: one ``IN`` lookup of
every id the batch names (its events and their refs), the pure decision of
``storage.ingest``, then one ``executemany`` per table.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import sqlite3
from collections.abc import AsyncIterator, Callable, Collection, Iterable, Iterator, Sequence
from typing import Any, TypeVar

import trio

from protocol.errors import LocalError
from protocol.event import SignedEvent
from protocol.fingerprint import from_limb_sums, id_limbs
from protocol.key_index import KeyIndex
from protocol.reconcile import Bucket, RangeSource
from storage.ingest import plan_ingest
from storage.interface import (
    CACHED_PEER_TTL_MS,
    DEFAULT_LIMIT,
    MAX_CACHED_PEERS,
    CachedPeer,
    IngestResult,
    IngestStatus,
    Key,
    RangeSummary,
    StorageError,
    StoredEvent,
    check_limit,
)
from storage.schema import LIMB_COLUMNS, migrate
from storage.worker import ConnectionThread, in_transaction

#: How long a statement waits for another process's lock before failing.
BUSY_TIMEOUT_S = 5.0
#: Page cache (KiB). The id index is keyed by random hashes, so every batch
#: touches pages all over it; a cache that holds it for a few hundred
#: thousand events saves a read per insert. SQLite allocates it as used.
CACHE_KIB = 64 * 1024
#: Checkpoint the WAL into the database every this many pages (SQLite's
#: default is 1000). The random id index dirties about a page per event, and
#: a checkpoint writes each page once however often it changed: checkpointing
#: less often halved the commit cost at 100,000 events, for a WAL file of up
#: to 32 MiB.
WAL_AUTOCHECKPOINT_PAGES = 8192
#: Ids per ``IN (...)`` list: below SQLite's historical limit of 999 host
#: parameters, so it works with any build.
_IN_CHUNK = 500

_T = TypeVar("_T")

_EVENT_COLUMNS = "id, ts, kind, grp, author, raw"
_INSERT_EVENT = (
    f"INSERT INTO events (seq, {_EVENT_COLUMNS}, {', '.join(LIMB_COLUMNS)}) "
    f"VALUES ({', '.join('?' * (7 + len(LIMB_COLUMNS)))})"
)
_INSERT_REF = "INSERT INTO refs (event, ref) VALUES (?, ?)"
_RANGE_SUMS = f"SELECT count(*), {', '.join(f'sum({c})' for c in LIMB_COLUMNS)} FROM events"


@contextlib.asynccontextmanager
async def open_sqlite_store(path: str | os.PathLike[str]) -> AsyncIterator[SqliteEventStore]:
    """Open (creating and migrating if needed) the store at ``path``; close on exit."""
    store = await SqliteEventStore.open(path)
    try:
        yield store
    finally:
        await store.close()


class SqliteEventStore:
    """``EventStore`` on one SQLite connection. Open it with ``open_sqlite_store``."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        """Take over ``connection``, already configured and migrated by ``_connect``."""
        self._thread = ConnectionThread(connection, LocalError("the store is closed"))
        self._run = self._thread.run
        #: Every key in memory with running sums, for unscoped reconciliation
        #: (protocol/key_index.py): built at the first, then kept up to date
        #: by this connection's commits; rebuilt if another connection (a
        #: command run beside the node) committed, as ``data_version`` tells.
        #: Touched only on the connection's thread.
        self._index: KeyIndex | None = None
        self._index_version = -1

    @classmethod
    async def open(cls, path: str | os.PathLike[str]) -> SqliteEventStore:
        """Open the store at ``path``; the caller must ``close`` it."""
        connection = await trio.to_thread.run_sync(_connect, os.fspath(path))
        return cls(connection)

    async def close(self) -> None:
        """Close the connection after the calls queued before this one.

        Calls queued after it, or made later, raise LocalError. Shielded: a
        cancelled owner must still close, or the file stays locked.
        """
        await self._thread.close()

    async def ingest(self, events: Sequence[SignedEvent], now_ms: int) -> list[IngestResult]:
        batch = list(events)
        if not batch:
            return []
        return await self._run(lambda db: self._ingest_and_index(db, batch, now_ms))

    def _ingest_and_index(
        self, db: sqlite3.Connection, batch: list[SignedEvent], now_ms: int
    ) -> list[IngestResult]:
        results = _ingest(db, batch, now_ms)
        if self._index is not None:
            self._index.add(
                (event.ts, event.id)
                for event, result in zip(batch, results, strict=True)
                if result.status is IngestStatus.ACCEPTED
            )
        return results

    def _key_index(self, db: sqlite3.Connection) -> KeyIndex:
        (version,) = db.execute("PRAGMA data_version").fetchone()
        if self._index is None or version != self._index_version:
            rows = db.execute("SELECT ts, id FROM events ORDER BY ts, id")
            self._index = KeyIndex(rows, presorted=True)
            self._index_version = version
        return self._index

    async def get(self, event_id: bytes) -> bytes | None:
        def work(db: sqlite3.Connection) -> bytes | None:
            row = db.execute("SELECT raw FROM events WHERE id = ?", (event_id,)).fetchone()
            return None if row is None else row[0]

        return await self._run(work)

    async def get_many(self, event_ids: Iterable[bytes]) -> dict[bytes, bytes]:
        ids = list(set(event_ids))
        sql = "SELECT id, raw FROM events WHERE id IN ({marks})"
        return await self._run(lambda db: dict(_read_in(db, sql, ids)))

    async def has(self, event_ids: Iterable[bytes]) -> set[bytes]:
        ids = list(set(event_ids))
        sql = "SELECT id FROM events WHERE id IN ({marks})"
        return await self._run(lambda db: {row[0] for row in _read_in(db, sql, ids)})

    async def query(
        self,
        *,
        group: bytes | None = None,
        kind: str | None = None,
        author: bytes | None = None,
        since_ts: int | None = None,
        until_ts: int | None = None,
        after: Key | None = None,
        limit: int = DEFAULT_LIMIT,
    ) -> list[StoredEvent]:
        check_limit(limit)
        where: list[str] = []
        params: list[Any] = []
        for column, value in (("grp", group), ("kind", kind), ("author", author)):
            if value is not None:
                where.append(f"{column} = ?")
                params.append(value)
        # One lower bound only, the tighter one, so that the index range
        # starts at the cursor: with both, SQLite may seek by ts alone and
        # walk every earlier page again.
        if after is not None and (since_ts is None or after[0] >= since_ts):
            where.append("(ts, id) > (?, ?)")
            params.extend(after)
        elif since_ts is not None:
            where.append("ts >= ?")
            params.append(since_ts)
        if until_ts is not None:
            where.append("ts < ?")
            params.append(until_ts)
        sql = f"SELECT {_EVENT_COLUMNS} FROM events{_where(where)} ORDER BY ts, id LIMIT ?"
        params.append(limit)
        return await self._run(lambda db: [StoredEvent(*row) for row in db.execute(sql, params)])

    async def count(self) -> int:
        return await self._run(lambda db: db.execute("SELECT count(*) FROM events").fetchone()[0])

    async def count_by_kind(self) -> dict[str, int]:
        sql = "SELECT kind, count(*) FROM events GROUP BY kind"
        return await self._run(lambda db: {kind: n for kind, n in db.execute(sql)})

    async def last_committed(self) -> int:
        sql = "SELECT coalesce(max(seq), 0) FROM events"
        return await self._run(lambda db: int(db.execute(sql).fetchone()[0]))

    async def remember_peers(self, peers: Sequence[CachedPeer], now_ms: int) -> None:
        await self._run(
            lambda db: in_transaction(db, lambda db: _remember_peers(db, peers, now_ms))
        )

    async def cached_peers(self, now_ms: int) -> list[CachedPeer]:
        return await self._run(lambda db: _cached_peers(db, now_ms))

    async def committed_after(self, seq: int, limit: int) -> list[tuple[int, StoredEvent]]:
        check_limit(limit)
        sql = f"SELECT seq, {_EVENT_COLUMNS} FROM events WHERE seq > ? ORDER BY seq LIMIT ?"
        return await self._run(
            lambda db: [(row[0], StoredEvent(*row[1:])) for row in db.execute(sql, (seq, limit))]
        )

    async def range_summary(self, lower: Key, upper: Key | None) -> RangeSummary:

        def work(db: sqlite3.Connection) -> RangeSummary:
            return RangeSummary(*_SqliteRanges(db, None).summary(lower, upper))

        return await self._run(work)

    async def range_keys(self, lower: Key, upper: Key | None, limit: int) -> list[Key]:
        check_limit(limit)
        where, params = _key_range(lower, upper)
        sql = f"SELECT ts, id FROM events{_where(where)} ORDER BY ts, id LIMIT ?"
        params.append(limit)
        return await self._run(lambda db: [(ts, eid) for ts, eid in db.execute(sql, params)])

    async def with_ranges(
        self, work: Callable[[RangeSource], _T], groups: Collection[bytes] | None = None
    ) -> _T:
        if groups is None:
            return await self._run(lambda db: work(self._key_index(db)))
        scope = sorted(set(groups))
        return await self._run(lambda db: work(_SqliteRanges(db, scope)))


class _SqliteRanges:
    """The store as a ``RangeSource``, for one call on the store's thread: a
    reconciliation step reads many ranges for one thread hop. A scope (some
    groups) is read through the index by group and key, which covers the
    sums as the index by key does for the whole store."""

    def __init__(self, db: sqlite3.Connection, groups: list[bytes] | None) -> None:
        self._db = db
        self._groups = groups

    def _range(self, lower: Key, upper: Key | None) -> tuple[str, list[Any]]:
        where, params = _key_range(lower, upper)
        if self._groups is not None:
            where.append(f"grp IN ({', '.join('?' * len(self._groups))})")
            params.extend(self._groups)
        return _where(where), params

    def summary(self, lower: Key, upper: Key | None) -> tuple[int, bytes]:
        where, params = self._range(lower, upper)
        count, *sums = self._db.execute(_RANGE_SUMS + where, params).fetchone()
        return count, from_limb_sums([s or 0 for s in sums], count)

    def keys(self, lower: Key, upper: Key | None) -> list[Key]:
        where, params = self._range(lower, upper)
        sql = f"SELECT ts, id FROM events{where} ORDER BY ts, id"
        return [(ts, eid) for ts, eid in self._db.execute(sql, params)]

    def buckets(self, lower: Key, upper: Key | None, size: int) -> list[Bucket]:
        """The range's keys in one query, cut into runs here, each run's
        sums by SQL. (Measured against numbering rows with a window
        function and against OFFSET probes: both were slower in SQLite.)"""
        keys = self.keys(lower, upper)
        runs: list[Bucket] = []
        for start in range(0, len(keys), size):
            end = start + size
            bound = keys[end] if end < len(keys) else upper
            runs.append(
                (keys[start], keys[min(end, len(keys)) - 1], *self.summary(keys[start], bound))
            )
        return runs


def _connect(path: str) -> sqlite3.Connection:
    """Open, configure and migrate; runs on a worker thread."""
    try:
        db = sqlite3.connect(
            path, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False
        )
    except sqlite3.Error as exc:
        raise StorageError(f"cannot open {path}: {exc}") from exc
    try:
        (mode,) = db.execute("PRAGMA journal_mode = WAL").fetchone()
        if str(mode).lower() != "wal":
            raise StorageError(f"{path}: cannot use the WAL journal (got {mode!r})")
        db.execute("PRAGMA synchronous = FULL")
        db.execute("PRAGMA foreign_keys = ON")
        db.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
        db.execute(f"PRAGMA wal_autocheckpoint = {WAL_AUTOCHECKPOINT_PAGES}")
        migrate(db)
    except sqlite3.Error as exc:
        db.close()
        raise StorageError(f"cannot open {path}: {exc}") from exc
    except BaseException:
        db.close()
        raise
    return db


def _remember_peers(db: sqlite3.Connection, peers: Sequence[CachedPeer], now_ms: int) -> None:
    """Upsert ``peers``, then delete what ``prune_peers`` would not keep."""
    db.executemany(
        "INSERT INTO peers (peer_id, addrs, roles, seen_ms) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (peer_id) DO UPDATE SET "
        "addrs = excluded.addrs, roles = excluded.roles, seen_ms = excluded.seen_ms",
        [(p.peer_id, "\n".join(p.addrs), ",".join(p.roles), p.seen_ms) for p in peers],
    )
    db.execute("DELETE FROM peers WHERE seen_ms < ?", (now_ms - CACHED_PEER_TTL_MS,))
    db.execute(
        "DELETE FROM peers WHERE peer_id NOT IN "
        "(SELECT peer_id FROM peers ORDER BY seen_ms DESC, peer_id LIMIT ?)",
        (MAX_CACHED_PEERS,),
    )


def _cached_peers(db: sqlite3.Connection, now_ms: int) -> list[CachedPeer]:
    rows = db.execute(
        "SELECT peer_id, addrs, roles, seen_ms FROM peers WHERE seen_ms >= ? "
        "ORDER BY seen_ms DESC, peer_id LIMIT ?",
        (now_ms - CACHED_PEER_TTL_MS, MAX_CACHED_PEERS),
    )
    return [
        CachedPeer(
            peer_id,
            tuple(filter(None, addrs.split("\n"))),
            tuple(filter(None, roles.split(","))),
            seen,
        )
        for peer_id, addrs, roles, seen in rows
    ]


def _ingest(db: sqlite3.Connection, events: list[SignedEvent], now_ms: int) -> list[IngestResult]:
    """The whole batch in one transaction; see ``storage.ingest`` for the rule."""
    try:
        return in_transaction(db, lambda db: _ingest_in_transaction(db, events, now_ms))
    except Exception as exc:
        raise StorageError(
            f"ingest of {len(events)} events rolled back: {type(exc).__name__}: {exc}"
        ) from exc


def _ingest_in_transaction(
    db: sqlite3.Connection, events: list[SignedEvent], now_ms: int
) -> list[IngestResult]:
    named = {event.id for event in events}
    for event in events:
        named.update(event.refs)
    stored: dict[bytes, tuple[int, int]] = {  # id -> (seq, ts)
        eid: (seq, ts)
        for eid, seq, ts in _read_in(
            db, "SELECT id, seq, ts FROM events WHERE id IN ({marks})", list(named)
        )
    }

    def committed_ts(event_id: bytes) -> int | None:
        if event_id in named:
            found = stored.get(event_id)
            return None if found is None else found[1]
        # Not prefetched: validation asked about an id the batch does not name.
        row = db.execute("SELECT ts FROM events WHERE id = ?", (event_id,)).fetchone()
        return None if row is None else row[0]

    plan = plan_ingest(events, committed_ts, now_ms)
    # Under BEGIN IMMEDIATE no one else writes: the new seqs are ours.
    (last_seq,) = db.execute("SELECT coalesce(max(seq), 0) FROM events").fetchone()
    seqs = {signed.id: seq for seq, signed in enumerate(plan.accepted, start=last_seq + 1)}
    seqs.update((eid, seq) for eid, (seq, _) in stored.items())
    db.executemany(_INSERT_EVENT, map(_event_row, plan.accepted, itertools.count(last_seq + 1)))
    db.executemany(_INSERT_REF, _ref_rows(plan.accepted, seqs))
    return plan.results


def _event_row(signed: SignedEvent, seq: int) -> tuple[Any, ...]:
    event = signed.event
    return (
        seq,
        signed.id,
        event.ts,
        event.kind,
        event.group,
        event.author,
        signed.raw,
        *id_limbs(signed.id),
    )


def _ref_rows(events: list[SignedEvent], seqs: dict[bytes, int]) -> Iterator[tuple[int, int]]:
    """(event seq, ref seq) rows; every ref is stored or in the batch, or
    validation would have rejected the event (a KeyError here is a bug and
    rolls the batch back)."""
    for signed in events:
        seq = seqs[signed.id]
        for ref in signed.event.refs:
            yield (seq, seqs[ref])


def _read_in(db: sqlite3.Connection, sql: str, ids: list[bytes]) -> Iterator[Any]:
    """Rows of ``sql`` with ``{marks}`` bound to each chunk of ``ids`` in turn."""
    for start in range(0, len(ids), _IN_CHUNK):
        chunk = ids[start : start + _IN_CHUNK]
        yield from db.execute(sql.format(marks=", ".join("?" * len(chunk))), chunk)


def _key_range(lower: Key, upper: Key | None) -> tuple[list[str], list[Any]]:
    where = ["(ts, id) >= (?, ?)"]
    params: list[Any] = [*lower]
    if upper is not None:
        where.append("(ts, id) < (?, ?)")
        params.extend(upper)
    return where, params


def _where(conditions: list[str]) -> str:
    return f" WHERE {' AND '.join(conditions)}" if conditions else ""
