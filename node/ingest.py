"""The ingest path: wire bytes in, committed events out, one outcome per input.

Theory of operation
-------------------
Ingest has three costs: decoding and checking the envelope and the network
(about 20 us an event, pure Python, holding the GIL), the Ed25519 signature
check (about 60 us, in libsodium, which releases the GIL) and the commit
(SQLite on the store's own thread, mostly outside the GIL). They run as a
pipeline of three stages, each on its own worker thread, joined by channels
of capacity one:

    decode batch k+2  ->  verify batch k+1  ->  commit batch k

so on a machine with two cores or more, the signature checks of one batch
overlap the decoding of the next and the commit of the previous, and the
trio thread stays free for the network. Batches keep their order through
the pipeline, so outcomes come back in input order; at most one batch waits
between two stages, so memory stays bounded whatever the input size.

Events that fail decoding, the network check or their signature never
reach the store. The rules against state run inside the store's
transaction (see protocol/validation.py), so an outcome of ``accepted``
means committed.
"""

from __future__ import annotations

import itertools
import os
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import trio

from protocol.errors import Reason, Rejected
from protocol.event import SignedEvent, parse_event, verify_signature
from protocol.validation import check_network
from storage import IngestResult, IngestStatus

#: Events per store transaction. A commit costs about as much as a few
#: hundred inserts (the pages it writes to the journal, and an fsync), so
#: bulk ingest wants large batches; 1000 keeps a batch under a megabyte.
DEFAULT_BATCH = 1000
#: Signature checks release the GIL, so checking spreads over every core;
#: more threads than that would only add switching.
CHECK_THREADS = max(1, min(4, os.cpu_count() or 1))


@dataclass(slots=True)
class _Batch:
    """One batch on its way through the pipeline.

    ``outcomes`` has a slot per input, filled in as each stage settles it;
    ``events`` are the inputs still in play, with their slots in ``slots``.
    """

    outcomes: list[IngestResult | None]
    events: list[SignedEvent]
    slots: list[int]
    #: Each input as it decoded (None if it did not), for the caller.
    decoded: list[SignedEvent | None]

    def reject(self, slot: int, event_id: bytes | None, exc: Rejected) -> None:
        self.outcomes[slot] = IngestResult(event_id, IngestStatus.REJECTED, exc.reason, exc.detail)


class Committer(Protocol):
    """Where checked events go: an ``EventStore``, or a ``NetworkStore``
    (storage/state.py), which also folds the network's state."""

    async def ingest(self, events: Sequence[SignedEvent], now_ms: int) -> list[IngestResult]: ...


async def ingest_raw(
    store: Committer,
    raws: Iterable[bytes],
    now_ms: int,
    network_id: bytes,
    *,
    batch_size: int = DEFAULT_BATCH,
) -> list[IngestResult]:
    """Ingest wire-format events of the network ``network_id``; one outcome
    per input, in input order."""
    ingested = await ingest_decoded(store, raws, now_ms, network_id, batch_size=batch_size)
    return [result for result, _ in ingested]


#: An input's outcome, and the event it decoded to (None if it did not).
Ingested = tuple[IngestResult, SignedEvent | None]


async def ingest_decoded(
    store: Committer,
    raws: Iterable[bytes],
    now_ms: int,
    network_id: bytes,
    *,
    batch_size: int = DEFAULT_BATCH,
) -> list[Ingested]:
    """``ingest_raw``, with each input's decoded event: a caller that acts
    on what was stored (routes it, notes it) need not decode it again."""
    results: list[Ingested] = []
    to_commit, checked = trio.open_memory_channel[_Batch](1)

    async def check_stage() -> None:
        async with to_commit:
            for chunk in _chunks(raws, batch_size):
                await to_commit.send(await _check(chunk, network_id))

    try:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(check_stage)
            async with checked:
                async for batch in checked:
                    results.extend(await _commit(store, batch, now_ms))
    except BaseExceptionGroup as group:
        # trio wraps even the nursery body's own error in a group; callers
        # (the CLI, the registrar, the API) must meet the store's failure as
        # the StorageError it is, with its clean message, not as a crash.
        if len(group.exceptions) != 1:
            raise
        sole = group.exceptions[0]
        raise sole from sole.__cause__
    return results


#: What checking one input gives: the event if it decoded, the rejection if any.
_Checked = tuple[SignedEvent | None, Rejected | None]


async def _check(chunk: list[bytes], network_id: bytes) -> _Batch:
    """Decode and verify a chunk in parallel slices, one thread each."""
    size = -(-len(chunk) // CHECK_THREADS)
    slices = [chunk[start : start + size] for start in range(0, len(chunk), size)]
    checked: list[list[_Checked]] = [[] for _ in slices]

    async def check_slice(index: int) -> None:
        checked[index] = await trio.to_thread.run_sync(_check_slice, slices[index], network_id)

    async with trio.open_nursery() as nursery:
        for index in range(len(slices)):
            nursery.start_soon(check_slice, index)
    batch = _Batch(outcomes=[None] * len(chunk), events=[], slots=[], decoded=[])
    for slot, (event, problem) in enumerate(itertools.chain.from_iterable(checked)):
        batch.decoded.append(event)
        if problem is not None:
            batch.reject(slot, None if event is None else event.id, problem)
        elif event is not None:
            batch.events.append(event)
            batch.slots.append(slot)
    return batch


def _check_slice(raws: list[bytes], network_id: bytes) -> list[_Checked]:
    """Decode, check the network, then verify each input in turn: the GIL is
    held only while one event decodes (~20 us), then released for its
    signature check, so the threads checking the other slices are never
    kept waiting long. The network is a byte comparison, so an event of
    another network costs no signature check."""
    checked: list[_Checked] = []
    for raw in raws:
        event: SignedEvent | None = None
        try:
            event = parse_event(raw)
            check_network(event, network_id)
            verify_signature(event)
        except Rejected as exc:
            checked.append((event, exc))
        else:
            checked.append((event, None))
    return checked


async def _commit(store: Committer, batch: _Batch, now_ms: int) -> list[Ingested]:
    outcomes = batch.outcomes
    if batch.events:
        stored = await store.ingest(batch.events, now_ms)
        for slot, result in zip(batch.slots, stored, strict=True):
            outcomes[slot] = result
    return [
        (outcome, event)
        for outcome, event in zip(outcomes, batch.decoded, strict=True)
        if outcome is not None
    ]


def _chunks(raws: Iterable[bytes], size: int) -> Iterable[list[bytes]]:
    iterator = iter(raws)
    while chunk := list(itertools.islice(iterator, size)):
        yield chunk


@dataclass
class Settled:
    """What ``ingest_settling`` did with a set of events."""

    #: Events by final outcome (accepted, duplicate, refused, rejected, held).
    counts: dict[str, int] = field(default_factory=dict)
    #: Rejected events (not stored) by reason code, and refused ones
    #: (stored without effect).
    rejected: dict[str, int] = field(default_factory=dict)
    refused: dict[str, int] = field(default_factory=dict)
    #: The events stored, in the order they were.
    stored: list[SignedEvent] = field(default_factory=list)
    #: The events still held for refs that no one gave.
    held: list[bytes] = field(default_factory=list)


async def ingest_settling(
    store: Committer, raws: Sequence[bytes], now_ms: int, net: bytes
) -> Settled:
    """Ingest events that may depend on one another in any order: what is
    held for a missing ref is fed again once something new was stored, until
    nothing changes."""
    pending = list(raws)
    counts: dict[str, int] = defaultdict(int)
    reasons: dict[IngestStatus, dict[str, int]] = {
        IngestStatus.REJECTED: defaultdict(int),
        IngestStatus.REFUSED: defaultdict(int),
    }
    stored: list[SignedEvent] = []
    while pending:
        results = await ingest_decoded(store, pending, now_ms, net)
        held: list[bytes] = []
        progress = False
        for raw, (result, event) in zip(pending, results, strict=True):
            if result.status is IngestStatus.REJECTED and result.reason is Reason.MISSING_REFS:
                held.append(raw)
                continue
            counts[result.status.value] += 1
            if result.reason is not None:
                reasons[result.status][result.reason.value] += 1
            if result.status in (IngestStatus.ACCEPTED, IngestStatus.REFUSED):
                assert event is not None  # only what decoded is stored
                stored.append(event)
                progress = True
        if not progress:
            if held:
                counts["held"] += len(held)
            break
        pending = held
    else:
        held = []
    return Settled(
        dict(counts),
        dict(reasons[IngestStatus.REJECTED]),
        dict(reasons[IngestStatus.REFUSED]),
        stored,
        held,
    )
