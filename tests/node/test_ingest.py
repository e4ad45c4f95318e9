"""The ingest pipeline: wire bytes to committed events, one outcome per input."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import pytest
from event_factory import BOB, NET, NOW_MS, note

from node.ingest import ingest_raw
from protocol.errors import Reason
from protocol.event import SignedEvent
from storage import (
    EventStore,
    IngestResult,
    IngestStatus,
    MemoryEventStore,
    StorageError,
    open_sqlite_store,
)


@pytest.fixture(params=["memory", "sqlite"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[EventStore]:
    if request.param == "memory":
        yield MemoryEventStore()
    else:
        async with open_sqlite_store(tmp_path / "events.sqlite3") as sqlite_store:
            yield sqlite_store


async def test_outcomes_in_input_order_across_batches(store: EventStore) -> None:
    first = note(NOW_MS - 10)
    reply = note(NOW_MS - 5, refs=[first.id], text="reply")
    orphan = note(NOW_MS - 4, refs=[b"\x09" * 32], text="orphan")
    forged = bytearray(note(NOW_MS - 3, text="forged").raw)
    forged[-1] ^= 1
    inputs = [first.raw, b"\x00garbage", reply.raw, first.raw, bytes(forged), orphan.raw]
    outcomes = await ingest_raw(store, inputs, NOW_MS, NET, batch_size=2)

    assert [o.status for o in outcomes] == [
        IngestStatus.ACCEPTED,
        IngestStatus.REJECTED,
        IngestStatus.ACCEPTED,
        IngestStatus.DUPLICATE,
        IngestStatus.REJECTED,
        IngestStatus.REJECTED,
    ]
    assert [o.reason for o in outcomes] == [
        None,
        Reason.TRAILING_BYTES,
        None,
        None,
        Reason.BAD_SIGNATURE,
        Reason.MISSING_REFS,
    ]
    assert outcomes[0].id == first.id and outcomes[1].id is None
    assert await store.has([first.id, reply.id, orphan.id]) == {first.id, reply.id}
    assert await store.count() == 2


async def test_a_reference_in_a_later_batch_waits_for_nothing(store: EventStore) -> None:
    events = [note(NOW_MS - 100, key=BOB, text="0")]
    for index in range(1, 30):
        events.append(note(NOW_MS - 100 + index, refs=[events[-1].id], text=str(index)))
    outcomes = await ingest_raw(store, [e.raw for e in events], NOW_MS, NET, batch_size=7)
    assert all(o.status is IngestStatus.ACCEPTED for o in outcomes)
    assert await store.count() == 30


async def test_empty_input(store: EventStore) -> None:
    assert await ingest_raw(store, [], NOW_MS, NET) == []


async def test_events_of_another_network_are_refused_before_their_signature(
    store: EventStore,
) -> None:
    other_net = bytes(32)
    stranger = note(NOW_MS - 10, net=other_net)
    forged = bytearray(note(NOW_MS - 9, net=other_net, text="forged").raw)
    forged[-1] ^= 1
    outcomes = await ingest_raw(store, [stranger.raw, bytes(forged)], NOW_MS, NET)
    assert [(o.status, o.reason) for o in outcomes] == [
        (IngestStatus.REJECTED, Reason.WRONG_NETWORK),
        (IngestStatus.REJECTED, Reason.WRONG_NETWORK),
    ]
    assert outcomes[0].id == stranger.id
    assert await store.count() == 0
    # The same event is welcome on its own network.
    assert (await ingest_raw(store, [stranger.raw], NOW_MS, other_net))[0].status is (
        IngestStatus.ACCEPTED
    )


async def test_a_store_failure_reaches_the_caller_as_the_stores_own_error() -> None:
    # Found by tests/helpers/faults_storage.py (storage_faults): trio wraps
    # what the pipeline's nursery body raises in an ExceptionGroup, so a
    # failing disk crashed `ayllu event import` and `ayllu member register`
    # with a traceback instead of their clean StorageError message.
    class FailingStore:
        def __init__(self) -> None:
            self.batches = 0

        async def ingest(self, events: Sequence[SignedEvent], now_ms: int) -> list[IngestResult]:
            self.batches += 1
            if self.batches == 2:  # the next batch is being checked meanwhile
                raise StorageError("disk full")
            return [IngestResult(event.id, IngestStatus.ACCEPTED) for event in events]

    events = [note(NOW_MS - 100 + i, text=str(i)).raw for i in range(9)]
    with pytest.raises(StorageError, match="disk full"):
        await ingest_raw(FailingStore(), events, NOW_MS, NET, batch_size=3)
