"""specs/vectors/events.json: every vector passes; every reason is covered
(with the other vector files)."""

from __future__ import annotations

import json
from typing import Any

import pytest
import vector_builder

from protocol.errors import Reason
from protocol.event import parse_event
from protocol.genesis import parse_genesis
from protocol.keys import key_from_seed, peer_id
from protocol.validation import KnownEvents, validate_bytes

VECTORS: dict[str, Any] = json.loads(vector_builder.VECTORS_PATH.read_text(encoding="utf-8"))
#: The network every vector is validated on, as the file defines it.
NETWORK_ID = parse_genesis(bytes.fromhex(VECTORS["genesis_hex"])).network_id


def known_events(raws: list[str]) -> KnownEvents:
    """The state a vector names: the events it says the node already holds."""
    events = [parse_event(bytes.fromhex(raw)) for raw in raws]
    return KnownEvents({event.id: event.ts for event in events})


def test_the_network_id_is_the_genesis_document_hash() -> None:
    assert NETWORK_ID.hex() == VECTORS["network_id_hex"]


def test_committed_vectors_are_what_the_builder_makes() -> None:
    assert vector_builder.VECTORS_PATH.read_text(encoding="utf-8") == vector_builder.render()
    assert vector_builder.SAMPLE_PATH.read_bytes() == vector_builder.sample()


@pytest.mark.parametrize("key", VECTORS["keys"], ids=lambda k: k["name"])
def test_keys(key: dict[str, str]) -> None:
    public = bytes(key_from_seed(bytes.fromhex(key["seed_hex"])).verify_key)
    assert public.hex() == key["public_hex"]
    assert peer_id(public) == key["peer_id"]


@pytest.mark.parametrize("vector", VECTORS["valid"], ids=lambda v: v["name"])
def test_valid(vector: dict[str, Any]) -> None:
    raw = bytes.fromhex(vector["input_hex"])
    event, verdict = validate_bytes(
        raw, known_events(vector["state"]), vector["now_ms"], NETWORK_ID
    )
    assert verdict.accepted, verdict
    assert event is not None
    assert event.id.hex() == vector["id_hex"]
    assert event.signature.hex() == vector["signature_hex"]
    assert raw[1:-66].hex() == vector["unsigned_hex"]
    assert peer_id(event.author) == vector["author_peer_id"]
    assert vector_builder.diagnostic(event.event.to_value()) == vector["diagnostic"]


@pytest.mark.parametrize("vector", VECTORS["invalid"], ids=lambda v: v["name"])
def test_invalid(vector: dict[str, Any]) -> None:
    raw = bytes.fromhex(vector["input_hex"])
    _, verdict = validate_bytes(raw, known_events(vector["state"]), vector["now_ms"], NETWORK_ID)
    assert verdict.reason is not None, "accepted an invalid vector"
    assert verdict.reason.value == vector["reason"]


def test_every_reason_code_has_a_vector() -> None:
    """Across the vector files of every spec (events.json, ring.json,
    genesis.json, groups.json, ...)."""
    covered: set[str] = set()
    for path in sorted(vector_builder.VECTORS_DIR.glob("*.json")):
        covered |= reasons_in(json.loads(path.read_text(encoding="utf-8")))
    assert covered == {reason.value for reason in Reason}


def reasons_in(document: Any) -> set[str]:
    """Every ``reason`` field, at any depth: the files lay their vectors out
    differently (a list of invalid inputs, scenarios of events)."""
    if isinstance(document, list):
        return set().union(*(reasons_in(item) for item in document))
    if isinstance(document, dict):
        found = {document["reason"]} if isinstance(document.get("reason"), str) else set()
        return found.union(*(reasons_in(value) for value in document.values()))
    return set()
