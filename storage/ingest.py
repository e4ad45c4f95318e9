"""The ingest rule both stores share: which events of a batch to commit.

A batch is decided as if its events arrived one at a time, in order:

- an id already stored, or accepted earlier in the batch, is a DUPLICATE
  (ingest is idempotent: the same event twice is stored once);
- anything else is checked with ``check_against_state`` against a view that
  sees the committed events plus those accepted earlier in the batch, so an
  event may reference one that precedes it in the same batch;
- a rejected event leaves no trace in that view: a later copy of it is
  checked again, and may pass if what it lacked arrived in between.

The decision is pure: the store supplies ``committed_ts`` (a read of the
committed state, inside the write transaction) and then writes
``plan.accepted``. Signatures are not checked here; they were checked
before the batch reached the store.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from protocol.errors import Rejected
from protocol.event import SignedEvent
from protocol.validation import check_against_state
from storage.interface import IngestResult, IngestStatus


class BatchView:
    """The ``StateView`` an event of a batch is validated against."""

    __slots__ = ("_accepted", "_committed_ts")

    def __init__(self, committed_ts: Callable[[bytes], int | None]) -> None:
        self._committed_ts = committed_ts
        self._accepted: dict[bytes, int] = {}

    def event_ts(self, event_id: bytes) -> int | None:
        ts = self._accepted.get(event_id)
        return ts if ts is not None else self._committed_ts(event_id)

    def accept(self, event: SignedEvent) -> None:
        self._accepted[event.id] = event.ts


@dataclass(frozen=True, slots=True)
class IngestPlan:
    """One result per input event, and the events to write, in input order."""

    results: list[IngestResult]
    accepted: list[SignedEvent]


def plan_ingest(
    events: Sequence[SignedEvent], committed_ts: Callable[[bytes], int | None], now_ms: int
) -> IngestPlan:
    """Decide a batch against the committed state that ``committed_ts`` reads."""
    view = BatchView(committed_ts)
    results: list[IngestResult] = []
    accepted: list[SignedEvent] = []
    for event in events:
        if view.event_ts(event.id) is not None:
            results.append(IngestResult(event.id, IngestStatus.DUPLICATE))
            continue
        try:
            check_against_state(event, view, now_ms)
        except Rejected as exc:
            results.append(IngestResult(event.id, IngestStatus.REJECTED, exc.reason, exc.detail))
            continue
        view.accept(event)
        accepted.append(event)
        results.append(IngestResult(event.id, IngestStatus.ACCEPTED))
    return IngestPlan(results, accepted)
