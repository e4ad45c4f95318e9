"""The ingest path: wire bytes in, committed events out, one outcome per input.

Theory of operation
-------------------
The signature check is the one cost ingest cannot avoid (about 60 us an
event here, against about 20 us to decode and check the envelope); the store
commits in batches on its own worker thread. Both pynacl and sqlite3 release
the GIL, so the two overlap: while the store commits batch k on its thread,
another worker thread decodes and verifies batch k+1, and the trio thread
stays free for the network. A channel of capacity one between the two keeps
at most one verified batch waiting, so memory stays bounded whatever the
input size.

Events that fail decoding or their signature never reach the store. The
rules against state run inside the store's transaction (see
protocol/validation.py), so an outcome of ``accepted`` means committed.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import trio

from protocol.errors import Reason, Rejected
from protocol.event import SignedEvent, parse_event, verify_signature
from storage import EventStore, IngestStatus

DEFAULT_BATCH = 500


@dataclass(frozen=True, slots=True)
class Outcome:
    """What became of one input. ``id`` is None when the bytes never decoded
    into an event (a bad signature still has an id: the id of what it claims)."""

    status: IngestStatus
    id: bytes | None
    reason: Reason | None = None
    detail: str = ""


@dataclass(slots=True)
class _Batch:
    outcomes: list[Outcome | None]
    events: list[SignedEvent]
    #: Index in ``outcomes`` of each entry of ``events``.
    slots: list[int]


async def ingest_raw(
    store: EventStore, raws: Iterable[bytes], now_ms: int, *, batch_size: int = DEFAULT_BATCH
) -> list[Outcome]:
    """Ingest wire-format events; one outcome per input, in input order."""
    results: list[Outcome] = []
    send, receive = trio.open_memory_channel[_Batch](1)

    async def verify_batches() -> None:
        async with send:
            for chunk in _chunks(raws, batch_size):
                await send.send(await trio.to_thread.run_sync(_verify, chunk))

    async with trio.open_nursery() as nursery:
        nursery.start_soon(verify_batches)
        async with receive:
            async for batch in receive:
                results.extend(await _commit(store, batch, now_ms))
    return results


def _verify(chunk: Sequence[bytes]) -> _Batch:
    batch = _Batch(outcomes=[None] * len(chunk), events=[], slots=[])
    for index, raw in enumerate(chunk):
        event: SignedEvent | None = None
        try:
            event = parse_event(raw)
            verify_signature(event)
        except Rejected as exc:
            eid = None if event is None else event.id
            batch.outcomes[index] = Outcome(IngestStatus.REJECTED, eid, exc.reason, exc.detail)
            continue
        batch.events.append(event)
        batch.slots.append(index)
    return batch


async def _commit(store: EventStore, batch: _Batch, now_ms: int) -> list[Outcome]:
    outcomes = batch.outcomes
    if batch.events:
        stored = await store.ingest(batch.events, now_ms)
        for index, event, result in zip(batch.slots, batch.events, stored, strict=True):
            outcomes[index] = Outcome(result.status, event.id, result.reason, result.detail)
    return [outcome for outcome in outcomes if outcome is not None]


def _chunks(raws: Iterable[bytes], size: int) -> Iterable[list[bytes]]:
    iterator = iter(raws)
    while chunk := list(itertools.islice(iterator, size)):
        yield chunk
