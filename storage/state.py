"""The network's state, kept beside the event store it is folded from.

The state (registrars, certificates, groups, roles, merit) is a pure
function of the stored governance events (protocol/state.py), so it is not
written anywhere: it lives in memory, rebuilt from the store when the store
opens, and brought up to date after each commit. A crash can therefore never
leave the state and the events disagreeing, and a node that restarts holds
exactly the state it had, because it holds exactly the events it had.

Rebuilding costs a parse of each governance event (their signatures were
checked when they were stored): a few tens of microseconds each, so a
second for tens of thousands. A community node holds its own subtree's and
its ancestors' events, far fewer.
"""

from __future__ import annotations

import contextlib
import itertools
import os
from collections.abc import AsyncIterator, Sequence

import trio

from protocol.ballots import check_vote, prepare_ring
from protocol.errors import Rejected
from protocol.event import SignedEvent, parse_event
from protocol.genesis import Genesis
from protocol.kinds import GOVERNANCE_KINDS
from protocol.reports import check_report, prepare_report_ring
from protocol.ring import PreparedRing
from protocol.standing import RING_SIGNED_KINDS, check_standing
from protocol.state import Governance, NetworkState
from protocol.validation import KnownEvents, check_against_state
from storage.interface import (
    MAX_LIMIT,
    EventStore,
    IngestResult,
    IngestStatus,
    Key,
    StoredEvent,
)
from storage.sqlite import open_sqlite_store

#: Ring signatures release the GIL: checking votes spreads over the cores.
VERIFY_THREADS = max(1, min(4, os.cpu_count() or 1))
#: Prepared rings kept (a few ballots' worth of counting groups).
RING_CACHE = 64


class NetworkStore:
    """An event store and the state its governance events make.

    Ingest through this object, not the event store below it, so the state
    sees every event that is committed.
    """

    def __init__(self, events: EventStore, governance: Governance) -> None:
        self.events = events
        self.governance = governance
        #: Prepared rings by ballot.ring event id, oldest first.
        self._rings: dict[bytes, PreparedRing] = {}
        #: A running node ingests from gossip, sync and its API at once; a
        #: batch's standing check, commit and fold must not interleave with
        #: another's.
        self._ingesting = trio.Lock()
        #: Ids this object committed and ``catch_up`` has not passed yet: a
        #: commit is either this object's or another process's, and only
        #: the commit itself, under the lock, can tell which.
        self._committed_here: set[bytes] = set()

    @classmethod
    async def load(cls, events: EventStore, genesis: Genesis) -> NetworkStore:
        """Fold every governance event the store holds into a fresh state."""
        governance = Governance(genesis)
        stored: list[SignedEvent] = []
        for kind in sorted(GOVERNANCE_KINDS):
            after: Key | None = None
            while page := await events.query(kind=kind, after=after, limit=MAX_LIMIT):
                stored.extend(parse_event(row.raw) for row in page)
                after = page[-1].key
        governance.add(stored)
        return cls(events, governance)

    @property
    def genesis(self) -> Genesis:
        return self.governance.genesis

    @property
    def state(self) -> NetworkState:
        return self.governance.state

    async def ingest(self, events: Sequence[SignedEvent], now_ms: int) -> list[IngestResult]:
        """Check standing, commit a batch (``EventStore.ingest``), then fold
        what was accepted.

        A governance event without standing (protocol/standing.py) is
        REJECTED and not stored. An accepted governance event that the state
        refuses is reported REFUSED with the state's reason: it is stored, so
        that every node converges on the same events, but it has no effect.
        """
        async with self._ingesting:
            return await self._ingest(list(events), now_ms)

    async def catch_up(self, after_seq: int, limit: int) -> tuple[int, list[StoredEvent]]:
        """What the store committed after ``after_seq`` that this object did
        not (another process did: a command run beside the node), folded,
        in commit order; and the last commit sequence read (``after_seq``
        if there was nothing). Holding the ingest lock, no batch of this
        object's is half done meanwhile, so every commit is known as its
        own or not."""
        async with self._ingesting:
            rows = await self.events.committed_after(after_seq, limit)
            foreign = [row for _, row in rows if row.id not in self._committed_here]
            self._committed_here.difference_update(row.id for _, row in rows)
            self.governance.add(parse_event(row.raw) for row in foreign)
            return (rows[-1][0] if rows else after_seq), foreign

    async def _ingest(self, batch: list[SignedEvent], now_ms: int) -> list[IngestResult]:
        standing = await self._check_standing(batch, now_ms)
        to_store = [event for event in batch if event.id not in standing]
        stored = iter(await self.events.ingest(to_store, now_ms))
        results = [standing.get(event.id) or next(stored) for event in batch]
        accepted = [
            event
            for event, result in zip(batch, results, strict=True)
            if result.status is IngestStatus.ACCEPTED
        ]
        self._committed_here.update(event.id for event in accepted)
        outcomes = self.governance.add(accepted)
        reported: list[IngestResult] = []
        for result in results:
            refusal = outcomes.get(result.id) if result.id is not None else None
            if refusal is None:
                reported.append(result)
            else:
                reported.append(
                    IngestResult(result.id, IngestStatus.REFUSED, refusal.reason, refusal.detail)
                )
        return reported

    async def _check_standing(
        self, batch: list[SignedEvent], now_ms: int
    ) -> dict[bytes, IngestResult]:
        """The governance events of ``batch`` rejected for want of standing.

        Standing comes after the store's own rules in the validation order
        (specs/groups.md), so an event that those rules reject (a missing
        ref, a future timestamp) is left for the store to report, with the
        store's reason. The events' refs are read once per batch.
        """
        governance = [event for event in batch if event.kind in GOVERNANCE_KINDS]
        if not governance:
            return {}
        wanted = {ref for event in governance for ref in event.refs}
        wanted.update(event.id for event in governance)
        held = {
            event_id: parse_event(raw)
            for event_id, raw in (await self.events.get_many(wanted)).items()
        }
        view = KnownEvents({event_id: event.ts for event_id, event in held.items()})
        rejected: dict[bytes, IngestResult] = {}
        ring_signed: list[SignedEvent] = []
        founding = self.genesis.registrars
        for event in batch:
            if event.id in held or event.id in rejected:
                continue  # stored already, or a second copy: the store says so
            try:
                check_against_state(event, view, now_ms)
            except Rejected:
                continue  # the store rejects it (and whatever refs it) itself
            try:
                check_standing(event, held, founding)
            except Rejected as exc:
                rejected[event.id] = _rejected(event, exc)
                continue
            if event.kind in RING_SIGNED_KINDS:
                ring_signed.append(event)
            held[event.id] = event
            view.add(event)
        rejected.update(await self._check_ring_signatures(ring_signed, held))
        return rejected

    async def _check_ring_signatures(
        self, events: list[SignedEvent], held: dict[bytes, SignedEvent]
    ) -> dict[bytes, IngestResult]:
        """Check the ring signatures of votes and reports against the rings
        they name.

        Their standing is their ring signature (protocol/ballots.py,
        protocol/reports.py). It is the one costly check of a ballot (a
        ring of 125 takes ~30 ms), so they are checked in parallel slices,
        one thread per core (libsodium releases the GIL); a ballot's ring
        is prepared once and kept for its other votes (a report's is its
        own: its key images are scoped to its receipt).
        """
        if not events:
            return {}
        checks: list[tuple[SignedEvent, SignedEvent | None, PreparedRing | None]] = []
        rejected: dict[bytes, IngestResult] = {}
        for event in events:
            ring_event = held.get(event.event.body["ring"])
            try:
                prepared = self._prepared_ring(event, ring_event)
            except Rejected as exc:
                rejected[event.id] = _rejected(event, exc)
                continue
            checks.append((event, ring_event, prepared))
        size = -(-len(checks) // VERIFY_THREADS)
        slices = [checks[start : start + size] for start in range(0, len(checks), size)]
        outcomes: list[list[tuple[SignedEvent, Rejected | None]]] = [[] for _ in slices]

        async def verify_slice(index: int) -> None:
            outcomes[index] = await trio.to_thread.run_sync(_verify_ring_signed, slices[index])

        async with trio.open_nursery() as nursery:
            for index in range(len(slices)):
                nursery.start_soon(verify_slice, index)
        for event, problem in itertools.chain.from_iterable(outcomes):
            if problem is not None:
                rejected[event.id] = _rejected(event, problem)
        return rejected

    def _prepared_ring(
        self, event: SignedEvent, ring_event: SignedEvent | None
    ) -> PreparedRing | None:
        """The prepared ring ``event`` (a vote or a report) is signed over;
        None if it names no ring of its kind (its check then says so)."""
        if event.kind == "report":
            if ring_event is None or ring_event.kind != "report.ring":
                return None
            return prepare_report_ring(ring_event, event)
        if ring_event is None or ring_event.kind != "ballot.ring":
            return None
        prepared = self._rings.get(ring_event.id)
        if prepared is None:
            prepared = prepare_ring(ring_event)
            if len(self._rings) >= RING_CACHE:
                self._rings.pop(next(iter(self._rings)))
            self._rings[ring_event.id] = prepared
        return prepared


def _verify_ring_signed(
    checks: list[tuple[SignedEvent, SignedEvent | None, PreparedRing | None]],
) -> list[tuple[SignedEvent, Rejected | None]]:
    """Runs on a worker thread: each vote's or report's ring signature."""
    outcomes: list[tuple[SignedEvent, Rejected | None]] = []
    for event, ring_event, prepared in checks:
        check = check_vote if event.kind == "vote" else check_report
        try:
            check(event, ring_event, prepared)
        except Rejected as exc:
            outcomes.append((event, exc))
        else:
            outcomes.append((event, None))
    return outcomes


def _rejected(event: SignedEvent, exc: Rejected) -> IngestResult:
    return IngestResult(event.id, IngestStatus.REJECTED, exc.reason, exc.detail)


@contextlib.asynccontextmanager
async def open_network_store(
    path: str | os.PathLike[str], genesis: Genesis
) -> AsyncIterator[NetworkStore]:
    """Open the SQLite store at ``path`` and fold its state; close on exit."""
    async with open_sqlite_store(path) as events:
        yield await NetworkStore.load(events, genesis)
