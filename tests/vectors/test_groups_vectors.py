"""specs/vectors/groups.json: each scenario folds to its outcomes and state,
whatever the arrival order, and the committed file is what the builder makes."""

from __future__ import annotations

import json
import random
from typing import Any

import groups_vector_builder
import pytest

from protocol.errors import STATE_REASONS, Reason, Rejected
from protocol.event import parse_event, verify_signature
from protocol.genesis import parse_genesis
from protocol.standing import check_standing
from protocol.state import Governance

VECTORS: dict[str, Any] = json.loads(groups_vector_builder.VECTORS_PATH.read_text("utf-8"))
SCENARIOS = VECTORS["scenarios"]


def test_committed_vectors_are_what_the_builder_makes() -> None:
    assert groups_vector_builder.VECTORS_PATH.read_text("utf-8") == groups_vector_builder.render()


@pytest.mark.parametrize("seed", [None, 1, 2, 3])
@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s["name"])
def test_scenario(scenario: dict[str, Any], seed: int | None) -> None:
    """Seed None: the events in key order; otherwise a shuffled arrival order."""
    genesis = parse_genesis(bytes.fromhex(scenario["genesis_hex"]))
    events = [parse_event(bytes.fromhex(e["event_hex"])) for e in scenario["events"]]
    for event, vector in zip(events, scenario["events"], strict=True):
        verify_signature(event)
        assert event.net == genesis.network_id
        assert event.id.hex() == vector["id_hex"]
    by_id = {event.id: event for event in events}
    rejected: dict[bytes, str] = {}
    for event in events:  # standing reads only the content of refs: any order
        try:
            check_standing(event, by_id, genesis.registrars)
        except Rejected as exc:
            rejected[event.id] = f"rejected {exc.reason.value}"
    folded = [event for event in events if event.id not in rejected]
    if seed is not None:
        random.Random(seed).shuffle(folded)
    governance = Governance(genesis)
    for event in folded:
        governance.add([event])
    for vector in scenario["events"]:
        event_id = bytes.fromhex(vector["id_hex"])
        refusal = governance.refusal(event_id)
        got = rejected.get(event_id) or (
            "applied" if refusal is None else f"refused {refusal.reason.value}"
        )
        want = vector["outcome"] + (f" {vector['reason']}" if "reason" in vector else "")
        assert got == want, vector["kind"]
    assert governance.state.snapshot(scenario["now_ms"]) == scenario["expected"]
    for ring in scenario["rings"]:
        keys = [bytes.fromhex(key) for key in ring["keys_hex"]]
        try:
            governance.state.registry.check_ring(keys, ring["at_ms"])
            got = "eligible"
        except Rejected as exc:
            got = f"rejected {exc.reason.value}"
        assert got == ring["outcome"] + (f" {ring['reason']}" if "reason" in ring else "")


def test_the_scenarios_cover_every_state_reason() -> None:
    seen = {e.get("reason") for s in SCENARIOS for e in s["events"] + s["rings"]}
    wanted = {Reason.UNCERTIFIED_KEY.value, Reason.NO_STANDING.value}
    assert {r.value for r in STATE_REASONS} | wanted <= seen
