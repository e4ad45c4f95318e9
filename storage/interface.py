"""The narrow interface between the node and its memory.

Everything above ``storage/`` talks to an ``EventStore`` and never to SQL.
Two implementations keep the same contract and pass the same conformance
tests (tests/storage): ``SqliteEventStore``, the real one, and
``MemoryEventStore``, a pure-Python fake for tests of the layers above.

Keys
----
Events are ordered by the key ``(ts, id)``: timestamp first, then the id's
bytes. The key order is what set reconciliation splits into ranges, what
``query`` pages through, and what ``range_summary`` fingerprints. A range
``[lower, upper)`` is inclusive below and exclusive above; ``(ts, b"")`` is
below every key with timestamp ``ts``, since every id is 32 bytes.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar

from protocol.errors import AylluError, LocalError, Reason
from protocol.event import SignedEvent
from protocol.reconcile import RangeSource

_T = TypeVar("_T")

#: An event's position in the store's order: (timestamp in ms, id).
Key = tuple[int, bytes]

#: The most rows one read returns, so a single call cannot pin the store's
#: only thread (and the caller's memory) for long.
MAX_LIMIT = 10_000
DEFAULT_LIMIT = 1_000
#: The peer cache keeps at most this many peers, each until unseen this long.
MAX_CACHED_PEERS = 256
CACHED_PEER_TTL_MS = 30 * 24 * 3600 * 1000


class StorageError(AylluError):
    """The store failed: a damaged database, a disk error, a schema newer than
    this code. Not the caller's fault and not the peer's; a write that raised
    it left nothing behind."""


class IngestStatus(enum.StrEnum):
    """What ``ingest`` did with one event."""

    #: Validated against the state and committed.
    ACCEPTED = "accepted"
    #: Already stored (before this batch, or earlier in it): nothing to do.
    DUPLICATE = "duplicate"
    #: Broke a rule against the state; ``reason`` says which. Not stored.
    REJECTED = "rejected"
    #: Stored, but the network state's rules gave it no effect (a sixth
    #: member, a certificate from a non-registrar, ...); ``reason`` says
    #: which. Kept so that every node converges on the same events
    #: (protocol/state.py).
    REFUSED = "refused"


@dataclass(frozen=True, slots=True)
class IngestResult:
    """The outcome for one event; ``reason`` is set iff REJECTED or REFUSED.

    ``id`` is None only for input that never decoded into an event (the
    ingest path reports those too); a store always knows the id.
    """

    id: bytes | None
    status: IngestStatus
    reason: Reason | None = None
    detail: str = ""


@dataclass(frozen=True, slots=True)
class StoredEvent:
    """An event as the store holds it: the indexed metadata and the exact wire
    bytes, so that serving it to a peer never re-encodes or re-parses."""

    id: bytes
    ts: int
    kind: str
    group: bytes
    author: bytes
    raw: bytes

    @property
    def key(self) -> Key:
        return (self.ts, self.id)


@dataclass(frozen=True, slots=True)
class CachedPeer:
    """A peer the node had a link with: the addresses it was reached at, the
    roles it had, and when. The cache is the node's own, never synced: with
    it a restarted node finds its peers again with no bootstrap at all."""

    peer_id: str
    addrs: tuple[str, ...]
    roles: tuple[str, ...]
    seen_ms: int


def prune_peers(peers: Iterable[CachedPeer], now_ms: int) -> list[CachedPeer]:
    """The cache's rule, for both stores: the ``MAX_CACHED_PEERS`` seen last
    (newest first, then by peer id), each seen within ``CACHED_PEER_TTL_MS``."""
    fresh = [peer for peer in peers if peer.seen_ms >= now_ms - CACHED_PEER_TTL_MS]
    fresh.sort(key=lambda peer: (-peer.seen_ms, peer.peer_id))
    return fresh[:MAX_CACHED_PEERS]


@dataclass(frozen=True, slots=True)
class RangeSummary:
    """How many events a key range holds and their ``protocol.fingerprint``."""

    count: int
    fingerprint: bytes


def check_limit(limit: int) -> None:
    """Refuse a row limit outside 1..MAX_LIMIT: a caller's bug, not a peer's."""
    if type(limit) is not int or not 1 <= limit <= MAX_LIMIT:
        raise LocalError(f"limit must be an integer in 1..{MAX_LIMIT}, not {limit!r}")


class EventStore(Protocol):
    """A content-addressed set of signed events, ordered by (ts, id).

    Every method is one round trip to the store; callers batch. Events given
    to ``ingest`` have passed ``parse_event``, ``check_network`` and
    ``verify_signature``: the store checks the rules against state
    (``check_against_state``) inside the transaction that commits, so nothing
    can change between check and write.
    """

    async def ingest(self, events: Sequence[SignedEvent], now_ms: int) -> list[IngestResult]:
        """Validate and commit a batch atomically; one result per event, in order.

        A batch behaves as if its events were ingested one at a time, in
        order, except that it commits (or fails) as a whole: an event may
        reference one accepted earlier in the same batch, and the second copy
        of an id already stored or accepted is a DUPLICATE. Results are
        returned only after the commit, so ACCEPTED always means durable.
        Raises StorageError, with nothing of the batch written, on failure.
        """
        ...

    async def get(self, event_id: bytes) -> bytes | None:
        """The wire bytes of a stored event, or None."""
        ...

    async def get_many(self, event_ids: Iterable[bytes]) -> dict[bytes, bytes]:
        """Wire bytes of the stored events among ``event_ids``, by id."""
        ...

    async def has(self, event_ids: Iterable[bytes]) -> set[bytes]:
        """Which of ``event_ids`` are stored."""
        ...

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
        """Events matching every given filter, ascending by (ts, id).

        ``since_ts`` is inclusive and ``until_ts`` exclusive. ``after`` is a
        keyset cursor: pass the key of the last event of a page to get the
        next page. LocalError if ``limit`` is not in 1..MAX_LIMIT.
        """
        ...

    async def count(self) -> int:
        """How many events are stored."""
        ...

    async def committed_after(self, seq: int, limit: int) -> list[tuple[int, StoredEvent]]:
        """Up to ``limit`` events in the order this store committed them,
        each with its local sequence number, after number ``seq`` (0: from
        the first). How a running node notices what another process (a
        command run beside it) committed; numbers mean nothing elsewhere."""
        ...

    async def count_by_kind(self) -> dict[str, int]:
        """How many events of each kind are stored (kinds with none left out)."""
        ...

    async def last_committed(self) -> int:
        """The sequence number of the last event committed (0: none)."""
        ...

    async def range_summary(self, lower: Key, upper: Key | None) -> RangeSummary:
        """Count and fingerprint of the ids with lower <= (ts, id) < upper
        (``upper`` None: to the end)."""
        ...

    async def range_keys(self, lower: Key, upper: Key | None, limit: int) -> list[Key]:
        """The first ``limit`` keys of the range [lower, upper), ascending."""
        ...

    async def with_ranges(
        self, work: Callable[[RangeSource], _T], groups: Collection[bytes] | None = None
    ) -> _T:
        """Run ``work`` with the store as a ``protocol.reconcile.RangeSource``,
        in one call (on the store's thread): a reconciliation step reads many
        ranges, and must see one state of the store while it does. With
        ``groups``, the source holds only the events of those groups (a
        session's scope, specs/sync.md section 6)."""
        ...

    async def remember_peers(self, peers: Sequence[CachedPeer], now_ms: int) -> None:
        """Add ``peers`` to the peer cache (replacing what it held of them),
        then keep only what ``prune_peers`` keeps."""
        ...

    async def cached_peers(self, now_ms: int) -> list[CachedPeer]:
        """The peer cache as ``prune_peers`` keeps it, the newest first."""
        ...

    async def close(self) -> None:
        """Release the store; idempotent. Any later call raises LocalError."""
        ...
