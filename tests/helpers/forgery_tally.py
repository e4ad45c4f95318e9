"""What a way into a victim made of its forgeries (faults_forgery.py): the
``Tally`` of outcomes against the reference's, and ``watching``, the checks
around every way in (nothing rejected stored or handed to gossip, no
effect on the state, the control still gets in).
"""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

from forgery_cases import Case
from forgery_victims import Victim

from protocol.errors import Reason, Rejected
from protocol.event import SignedEvent, parse_event
from storage import IngestStatus


@dataclass
class Tally:
    """What one way in made of a victim's cases."""

    cases: int = 0
    #: Cases given another outcome or reason than the reference's.
    mismatches: list[str] = field(default_factory=list)
    #: Rejected cases stored, or let through (a validator's yes).
    accepted: int = 0
    #: Publications to gossip while rejected cases came in.
    relayed: int = 0
    #: Victims whose state changed while only forgeries came in.
    effects: int = 0
    reasons: Counter[str] = field(default_factory=Counter)
    #: Penalties (gossip) and blames (sync) of the sender.
    blamed: int = 0
    controls: int = 0
    controls_ok: int = 0

    def add(self, other: Tally) -> None:
        self.cases += other.cases
        self.mismatches += other.mismatches
        self.accepted += other.accepted
        self.relayed += other.relayed
        self.effects += other.effects
        self.reasons.update(other.reasons)
        self.blamed += other.blamed
        self.controls += other.controls
        self.controls_ok += other.controls_ok

    def count(self, case: Case, status: IngestStatus, reason: Reason | None) -> None:
        """One case, given ``status`` and ``reason``."""
        self.cases += 1
        if reason is not None:
            self.reasons[reason.value] += 1
        if case.status is IngestStatus.REJECTED and status is not IngestStatus.REJECTED:
            self.accepted += 1

    def outcome(
        self,
        case: Case,
        expected: Reason | None,
        status: IngestStatus,
        reason: Reason | None,
        where: str,
    ) -> None:
        """One case's outcome against the reference's."""
        self.count(case, status, reason)
        if (status, reason) != (case.status, expected):
            self.mismatches.append(
                f"{where} {case.target} {case.family}: {status.value} "
                f"{reason} (want {case.status.value} {expected})"
            )


Control = Callable[[], Awaitable[bool]]


def parsed(raw: bytes) -> SignedEvent | None:
    """The event of ``raw``; None if it does not decode."""
    try:
        return parse_event(raw)
    except Rejected:
        return None


@contextlib.asynccontextmanager
async def watching(v: Victim, tally: Tally, control: Control) -> AsyncIterator[None]:
    """Around a way in: afterwards, no rejected case is stored, nothing was
    handed to gossip for one, and a victim given only forgeries has the
    state it had (refused acts of a revoked key have no effect); then the
    control must get in (``control`` says whether it did)."""
    snapshot = v.store.state.snapshot(v.now_ms)
    published = v.node.counters.published
    yield
    rejected = [c for c in v.spec.cases if c.status is IngestStatus.REJECTED]
    events = [parsed(case.raw) for case in rejected]
    ids = {event.id for event in events if event is not None}
    tally.accepted += len(await v.store.events.has(ids))
    if len(rejected) == len(v.spec.cases):
        tally.relayed += v.node.counters.published - published
    if v.store.state.snapshot(v.now_ms) != snapshot:
        tally.effects += 1
    tally.controls += 1
    tally.controls_ok += await control()


def published_after(v: Victim, action: Control) -> Control:
    """``action`` got the control in, and the node handed it to gossip."""

    async def check() -> bool:
        before = v.node.counters.published
        return await action() and v.node.counters.published > before

    return check
