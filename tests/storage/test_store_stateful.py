"""The SQLite store against the memory store, over random operation sequences.

Each step runs in its own ``trio.run``: the memory store lives on between
steps as a plain object, the SQLite store is reopened from its file, so the
comparison also checks that everything survives close and reopen. Events come
from a fixed pool whose refs form a DAG with timestamp inversions, future
timestamps and repeated timestamps, so every ingest outcome occurs.
"""

from __future__ import annotations

import random
import shutil
import tempfile
from collections.abc import Awaitable, Callable
from operator import methodcaller
from pathlib import Path
from typing import TypeVar

import trio
from event_factory import ALICE, BOB, GROUP_A, GROUP_B, NOW_MS, author_of, note, peer_record
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, rule

from protocol.event import SignedEvent
from protocol.fingerprint import fingerprint
from protocol.validation import MAX_CLOCK_SKEW_MS
from storage import EventStore, Key, MemoryEventStore, open_sqlite_store

_T = TypeVar("_T")


def _pool() -> list[SignedEvent]:
    rng = random.Random(1234)
    pool: list[SignedEvent] = []
    for i in range(36):
        key = rng.choice([ALICE, BOB])
        group = rng.choice([GROUP_A, GROUP_B])
        ts = NOW_MS - rng.randrange(20) * 1000  # few distinct values: ties
        if i % 9 == 8:
            ts = NOW_MS + MAX_CLOCK_SKEW_MS + 1000  # future, unless now moves on
        if i % 7 == 6:
            pool.append(peer_record(ts, key=key, group=group))
            continue
        refs = rng.sample([e.id for e in pool], min(len(pool), rng.choice([0, 0, 1, 2])))
        pool.append(note(ts, key=key, group=group, refs=refs, text=f"pool {i}"))
    return pool


POOL = _pool()
IDS = [e.id for e in POOL]
TIMESTAMPS = sorted({e.ts for e in POOL})
MISSING = bytes(32)

# Events are drawn by their index in POOL, so that a failing example prints short.
positions = st.integers(0, len(POOL) - 1)
ids = st.sampled_from([*IDS, MISSING])
timestamps = st.sampled_from([0, *TIMESTAMPS, TIMESTAMPS[-1] + 1])
keys = st.one_of(
    st.sampled_from([(e.ts, e.id) for e in POOL]),
    st.tuples(timestamps, st.sampled_from([b"", b"\xff" * 32])),
)


class SqliteMatchesMemory(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.directory = Path(tempfile.mkdtemp(prefix="ayllu-stateful-"))
        self.path = self.directory / "events.db"
        self.memory = MemoryEventStore()

    def teardown(self) -> None:
        shutil.rmtree(self.directory, ignore_errors=True)

    def both(self, operation: Callable[[EventStore], Awaitable[_T]]) -> _T:
        """Run ``operation`` on both stores; assert they agree; return the result."""

        async def run() -> tuple[_T, _T, int, int]:
            async with open_sqlite_store(self.path) as sqlite_store:
                from_sqlite = await operation(sqlite_store)
                sqlite_count = await sqlite_store.count()
            from_memory = await operation(self.memory)
            return from_sqlite, from_memory, sqlite_count, await self.memory.count()

        from_sqlite, from_memory, sqlite_count, memory_count = trio.run(run)
        assert from_sqlite == from_memory
        assert sqlite_count == memory_count
        return from_memory

    def stored_keys(self) -> list[Key]:
        return self.both(lambda s: s.range_keys((0, b""), None, 10_000))

    @rule(
        picks=st.lists(positions, max_size=10),
        now_ms=st.sampled_from([NOW_MS, NOW_MS + 3_600_000]),
    )
    def ingest(self, picks: list[int], now_ms: int) -> None:
        batch = [POOL[i] for i in picks]
        before = set(self.stored_keys())
        results = self.both(lambda s: s.ingest(batch, now_ms))
        assert [r.id for r in results] == [e.id for e in batch]
        accepted = {
            (e.ts, e.id) for e, r in zip(batch, results, strict=True) if r.status == "accepted"
        }
        assert not accepted & before
        assert set(self.stored_keys()) == before | accepted

    @rule(
        group=st.none() | st.sampled_from([GROUP_A, GROUP_B]),
        kind=st.none() | st.sampled_from(["note", "peer.record"]),
        author=st.none() | st.sampled_from([author_of(ALICE), author_of(BOB)]),
        since_ts=st.none() | timestamps,
        until_ts=st.none() | timestamps,
        after=st.none() | keys,
        limit=st.integers(1, 12),
    )
    def query(
        self,
        group: bytes | None,
        kind: str | None,
        author: bytes | None,
        since_ts: int | None,
        until_ts: int | None,
        after: Key | None,
        limit: int,
    ) -> None:
        found = self.both(
            lambda s: s.query(
                group=group,
                kind=kind,
                author=author,
                since_ts=since_ts,
                until_ts=until_ts,
                after=after,
                limit=limit,
            )
        )
        assert len(found) <= limit
        assert [s.key for s in found] == sorted(s.key for s in found)

    @rule(lower=keys, upper=st.none() | keys, limit=st.integers(1, 40))
    def range_summary(self, lower: Key, upper: Key | None, limit: int) -> None:
        summary = self.both(lambda s: s.range_summary(lower, upper))
        expected = [k for k in self.stored_keys() if lower <= k and (upper is None or k < upper)]
        assert summary.count == len(expected)
        assert summary.fingerprint == fingerprint(eid for _, eid in expected)
        assert self.both(lambda s: s.range_keys(lower, upper, limit)) == expected[:limit]

    @rule(wanted=st.lists(ids, max_size=6))
    def read(self, wanted: list[bytes]) -> None:
        present = self.both(lambda s: s.has(wanted))
        raws = self.both(lambda s: s.get_many(wanted))
        assert set(raws) == present
        for event_id in wanted[:2]:
            assert self.both(methodcaller("get", event_id)) == raws.get(event_id)


SqliteMatchesMemory.TestCase.settings = settings(
    max_examples=30,
    stateful_step_count=20,
    derandomize=True,
    database=None,
    deadline=None,
)
test_sqlite_matches_memory = SqliteMatchesMemory.TestCase
