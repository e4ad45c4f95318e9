"""MemoryEventStore: the event store in a dict, for the tests of layers above.

It keeps the same contract as ``SqliteEventStore`` and passes the same
conformance tests; the SQLite store is checked against it by a stateful
hypothesis test. It is written for obviousness, not speed: events by id in a
dict, keys in a sorted list (``bisect``), fingerprints straight from
``protocol.fingerprint.fingerprint``. Every method checkpoints, as a real
store's thread hop does, so callers cannot come to rely on it not yielding.
"""

from __future__ import annotations

import bisect
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Sequence
from typing import TypeVar

import trio

from protocol.errors import LocalError
from protocol.event import SignedEvent
from protocol.fingerprint import fingerprint
from protocol.reconcile import RangeSource, SortedKeys
from storage.ingest import plan_ingest
from storage.interface import (
    DEFAULT_LIMIT,
    CachedPeer,
    IngestResult,
    Key,
    RangeSummary,
    StorageError,
    StoredEvent,
    check_limit,
    prune_peers,
)

_T = TypeVar("_T")


class MemoryEventStore:
    """``EventStore`` in memory; nothing survives the object."""

    def __init__(self) -> None:
        self._events: dict[bytes, StoredEvent] = {}
        self._keys: list[Key] = []  # sorted (ts, id) of every stored event
        self._peers: dict[str, CachedPeer] = {}
        self._closed = False

    async def close(self) -> None:
        self._closed = True

    async def ingest(self, events: Sequence[SignedEvent], now_ms: int) -> list[IngestResult]:
        await self._enter()
        try:
            plan = plan_ingest(events, self._event_ts, now_ms)
        except Exception as exc:  # as SqliteEventStore does: nothing was written
            raise StorageError(f"ingest of {len(events)} events failed: {exc}") from exc
        for signed in plan.accepted:
            event = signed.event
            self._events[signed.id] = StoredEvent(
                signed.id, event.ts, event.kind, event.group, event.author, signed.raw
            )
            bisect.insort(self._keys, (event.ts, signed.id))
        return plan.results

    async def get(self, event_id: bytes) -> bytes | None:
        await self._enter()
        stored = self._events.get(event_id)
        return None if stored is None else stored.raw

    async def get_many(self, event_ids: Iterable[bytes]) -> dict[bytes, bytes]:
        await self._enter()
        return {eid: self._events[eid].raw for eid in event_ids if eid in self._events}

    async def has(self, event_ids: Iterable[bytes]) -> set[bytes]:
        await self._enter()
        return {eid for eid in event_ids if eid in self._events}

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
        await self._enter()
        start = 0
        if since_ts is not None:
            start = bisect.bisect_left(self._keys, (since_ts, b""))
        if after is not None:
            start = max(start, bisect.bisect_right(self._keys, after))
        found: list[StoredEvent] = []
        for ts, eid in self._keys[start:]:
            if len(found) == limit or (until_ts is not None and ts >= until_ts):
                break
            stored = self._events[eid]
            if (
                (group is None or stored.group == group)
                and (kind is None or stored.kind == kind)
                and (author is None or stored.author == author)
            ):
                found.append(stored)
        return found

    async def count(self) -> int:
        await self._enter()
        return len(self._keys)

    async def count_by_kind(self) -> dict[str, int]:
        await self._enter()
        return dict(Counter(stored.kind for stored in self._events.values()))

    async def last_committed(self) -> int:
        await self._enter()
        return len(self._events)

    async def committed_after(self, seq: int, limit: int) -> list[tuple[int, StoredEvent]]:
        check_limit(limit)
        await self._enter()
        # Insertion order is commit order; numbers start at 1.
        stored = list(self._events.values())[max(seq, 0) : max(seq, 0) + limit]
        return list(enumerate(stored, start=max(seq, 0) + 1))

    async def range_summary(self, lower: Key, upper: Key | None) -> RangeSummary:
        await self._enter()
        keys = self._range(lower, upper)
        return RangeSummary(len(keys), fingerprint(eid for _, eid in keys))

    async def range_keys(self, lower: Key, upper: Key | None, limit: int) -> list[Key]:
        check_limit(limit)
        await self._enter()
        return self._range(lower, upper)[:limit]

    async def with_ranges(
        self, work: Callable[[RangeSource], _T], groups: Collection[bytes] | None = None
    ) -> _T:
        await self._enter()
        if groups is None:
            return work(SortedKeys(self._keys))
        wanted = set(groups)
        return work(SortedKeys([k for k in self._keys if self._events[k[1]].group in wanted]))

    async def remember_peers(self, peers: Sequence[CachedPeer], now_ms: int) -> None:
        await self._enter()
        self._peers.update((peer.peer_id, peer) for peer in peers)
        self._peers = {peer.peer_id: peer for peer in prune_peers(self._peers.values(), now_ms)}

    async def cached_peers(self, now_ms: int) -> list[CachedPeer]:
        await self._enter()
        return prune_peers(self._peers.values(), now_ms)

    def _range(self, lower: Key, upper: Key | None) -> list[Key]:
        start = bisect.bisect_left(self._keys, lower)
        end = len(self._keys) if upper is None else bisect.bisect_left(self._keys, upper)
        return self._keys[start:end]

    def _event_ts(self, event_id: bytes) -> int | None:
        stored = self._events.get(event_id)
        return None if stored is None else stored.ts

    async def _enter(self) -> None:
        """Refuse calls made after ``close``; a call made before it completes."""
        if self._closed:
            raise LocalError("the store is closed")
        await trio.lowlevel.checkpoint()
