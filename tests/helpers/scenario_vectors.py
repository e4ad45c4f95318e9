"""Scenario vectors (specs/groups.md section 9, specs/ballots.md): what a
node makes of a set of governance events, as the vector files record it.

``outcomes`` decides each event the way a node's store does: first the
checks from the content of refs (standing, and a vote's or a report's
ring signature),
in key order, an event whose evidence was itself rejected being rejected
too; then the fold, in the arrival order given. The builders of
groups.json and ballots.json write its results; their tests read them back
and compare, in key order and shuffled.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from network_factory import Scenario

from protocol.ballots import check_vote, prepare_ring
from protocol.errors import Rejected
from protocol.event import SignedEvent, parse_event, verify_signature
from protocol.genesis import Genesis, parse_genesis
from protocol.reports import check_report, prepare_report_ring
from protocol.standing import check_standing
from protocol.state import Governance


def outcomes(
    genesis: Genesis, events: Sequence[SignedEvent], arrival: Iterable[SignedEvent] | None = None
) -> tuple[Governance, dict[bytes, str]]:
    """The fold and each event's outcome: "applied", "refused <reason>" or
    "rejected <reason>" (never stored)."""
    held = {event.id: event for event in events}
    decided: dict[bytes, str] = {}
    for event in sorted(events, key=lambda e: (e.ts, e.id)):
        try:
            check_standing(event, held, genesis.registrars)
            if event.kind == "vote":
                ring = held.get(event.event.body["ring"])
                prepared = prepare_ring(ring) if ring and ring.kind == "ballot.ring" else None
                check_vote(event, ring, prepared)
            if event.kind == "report":
                ring = held.get(event.event.body["ring"])
                ready = None
                if ring is not None and ring.kind == "report.ring":
                    ready = prepare_report_ring(ring, event)
                check_report(event, ring, ready)
        except Rejected as exc:
            decided[event.id] = f"rejected {exc.reason.value}"
            del held[event.id]
    governance = Governance(genesis)
    for event in events if arrival is None else arrival:
        if event.id not in decided:
            governance.add([event])
    for event in events:
        if event.id not in decided:
            refusal = governance.refusal(event.id)
            decided[event.id] = "applied" if refusal is None else f"refused {refusal.reason.value}"
    return governance, decided


def scenario_document(name: str, build: Callable[[], Scenario]) -> dict[str, Any]:
    """One scenario of a vector file."""
    s = build()
    governance, decided = outcomes(s.genesis, s.events)
    events = []
    for event in s.events:
        outcome, _, reason = decided[event.id].partition(" ")
        entry: dict[str, Any] = {"kind": event.kind, "id_hex": event.id.hex(), "outcome": outcome}
        if reason:
            entry["reason"] = reason
        entry["event_hex"] = event.raw.hex()
        events.append(entry)
    rings = []
    for ring in s.rings:
        check: dict[str, Any] = {"keys_hex": [key.hex() for key in ring], "at_ms": s.now}
        try:
            governance.state.registry.check_ring(ring, s.now)
            check["outcome"] = "eligible"
        except Rejected as exc:
            check.update(outcome="rejected", reason=exc.reason.value)
        rings.append(check)
    return {
        "name": name,
        "description": (build.__doc__ or "").strip(),
        "genesis_hex": s.genesis.raw.hex(),
        "now_ms": s.now,
        "events": events,
        "expected": governance.state.snapshot(s.now),
        "rings": rings,
    }


def check_scenario(scenario: dict[str, Any], seed: int | None) -> None:
    """Assert that a scenario of a vector file reads back: every event's
    outcome, the state and the ring checks, with the events arriving in key
    order (``seed`` None) or shuffled by ``seed``."""
    genesis = parse_genesis(bytes.fromhex(scenario["genesis_hex"]))
    events = [parse_event(bytes.fromhex(e["event_hex"])) for e in scenario["events"]]
    for event, vector in zip(events, scenario["events"], strict=True):
        verify_signature(event)
        assert event.net == genesis.network_id
        assert event.id.hex() == vector["id_hex"]
    arrival = list(events)
    if seed is not None:
        random.Random(seed).shuffle(arrival)
    governance, decided = outcomes(genesis, events, arrival)
    for event, vector in zip(events, scenario["events"], strict=True):
        want = vector["outcome"] + (f" {vector['reason']}" if "reason" in vector else "")
        assert decided[event.id] == want, vector["kind"]
    assert governance.state.snapshot(scenario["now_ms"]) == scenario["expected"]
    for ring in scenario["rings"]:
        keys = [bytes.fromhex(key) for key in ring["keys_hex"]]
        try:
            governance.state.registry.check_ring(keys, ring["at_ms"])
            got = "eligible"
        except Rejected as exc:
            got = f"rejected {exc.reason.value}"
        assert got == ring["outcome"] + (f" {ring['reason']}" if "reason" in ring else "")


def scenario_file(
    description: str, specs: Sequence[str], scenarios: dict[str, Callable[[], Scenario]]
) -> str:
    """A vector file of scenarios (specs/groups.md section 9 layout), as JSON text."""
    document = {
        "description": description,
        "spec": list(specs),
        "version": 1,
        "scenarios": [scenario_document(name, build) for name, build in scenarios.items()],
    }
    return json.dumps(document, indent=1, ensure_ascii=False) + "\n"
