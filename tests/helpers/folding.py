"""Folding a scenario's events into the network's state, for tests of the
fold's rules: the state, and the reason each event was refused with."""

from __future__ import annotations

from network_factory import Scenario

from protocol.errors import Reason
from protocol.event import SignedEvent
from protocol.state import Governance


def fold(s: Scenario, events: list[SignedEvent] | None = None) -> Governance:
    """The fold of ``events`` (default: every event of the scenario)."""
    governance = Governance(s.genesis)
    governance.add(s.events if events is None else events)
    return governance


def refused(governance: Governance, event: SignedEvent) -> Reason | None:
    """Why the fold refused ``event``, or None if it applied."""
    refusal = governance.refusal(event.id)
    return None if refusal is None else refusal.reason
