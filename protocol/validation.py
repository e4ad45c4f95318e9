"""Validation: a pure function of (event, read-only state view, time).

The order of checks is normative (specs/events.md, "Validation order"), so
that every implementation gives the same reason for an event with several
defects: decoding, envelope, network, signature, then the rules against
state. The network check comes before the signature because it is a byte
comparison, and an event for another network is refused whatever else is
wrong with it.

The state rules run where the state is: the store runs ``check_against_state``
inside the transaction that commits the event, so nothing can change the
state between the check and the write. Signature checks need no state and
run before, off the store's thread.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from protocol.errors import Action, Reason, Rejected, action_for
from protocol.event import SignedEvent, parse_event, verify_signature

#: How far ahead of the validating node's clock an event may be stamped.
MAX_CLOCK_SKEW_MS = 10 * 60 * 1000


class StateView(Protocol):
    """What validation may read of a node's state. Read-only by contract."""

    def event_ts(self, event_id: bytes) -> int | None:
        """The timestamp of a stored event, or None if it is not stored."""
        ...


@dataclass(frozen=True, slots=True)
class Verdict:
    """Accepted (reason None) or rejected with a stable reason code."""

    reason: Reason | None = None
    detail: str = ""

    @property
    def accepted(self) -> bool:
        return self.reason is None

    @property
    def action(self) -> Action | None:
        return None if self.reason is None else action_for(self.reason)

    @classmethod
    def of(cls, exc: Rejected) -> Verdict:
        return cls(exc.reason, exc.detail)


ACCEPTED = Verdict()


def check_network(event: SignedEvent, network_id: bytes) -> None:
    """Raise Rejected(wrong_network) for an event of another network."""
    if event.net != network_id:
        raise Rejected(Reason.WRONG_NETWORK, f"net {event.net.hex()}, not {network_id.hex()}")


def check_clock(event: SignedEvent, now_ms: int) -> None:
    """Raise Rejected(ts_in_future) for an event stamped too far ahead."""
    if event.ts > now_ms + MAX_CLOCK_SKEW_MS:
        raise Rejected(Reason.TS_IN_FUTURE, f"ts {event.ts} is ahead of {now_ms} + skew")


def check_refs(event: SignedEvent, view: StateView) -> None:
    """Raise Rejected unless every ref is held and strictly older than ``event``.

    Strictly: then the key order (ts, id) puts every event after all it
    refers to, which the state fold relies on (specs/groups.md). A ref not
    older than the event condemns it whatever is missing, so that check
    comes first; missing refs only mean "not yet".
    """
    missing: list[bytes] = []
    for ref in event.refs:
        ref_ts = view.event_ts(ref)
        if ref_ts is None:
            missing.append(ref)
        elif ref_ts >= event.ts:
            raise Rejected(Reason.TS_BEFORE_REF, f"ref {ref.hex()} is not older than the event")
    if missing:
        raise Rejected(Reason.MISSING_REFS, " ".join(ref.hex() for ref in missing))


def check_against_state(event: SignedEvent, view: StateView, now_ms: int) -> None:
    """Raise Rejected unless ``event`` fits the state; signature not checked."""
    check_clock(event, now_ms)
    check_refs(event, view)


def validate(event: SignedEvent, view: StateView, now_ms: int, network_id: bytes) -> Verdict:
    """Every rule after decoding: network, signature, then the rules against state."""
    try:
        check_network(event, network_id)
        verify_signature(event)
        check_against_state(event, view, now_ms)
    except Rejected as exc:
        return Verdict.of(exc)
    return ACCEPTED


def validate_bytes(
    raw: bytes, view: StateView, now_ms: int, network_id: bytes
) -> tuple[SignedEvent | None, Verdict]:
    """The whole pipeline from wire bytes; the event is None if undecodable."""
    try:
        event = parse_event(raw)
    except Rejected as exc:
        return None, Verdict.of(exc)
    return event, validate(event, view, now_ms, network_id)


class KnownEvents:
    """A state view over a given set of events: for checks made away from a
    store (the CLI, test vectors), from their ids and timestamps."""

    def __init__(self, ts_by_id: Mapping[bytes, int] | None = None) -> None:
        self._ts = dict(ts_by_id or {})

    def event_ts(self, event_id: bytes) -> int | None:
        return self._ts.get(event_id)

    def add(self, event: SignedEvent) -> None:
        """Hold ``event`` too: for checking a batch in order, each event
        against those before it."""
        self._ts[event.id] = event.ts
