"""specs/vectors/events.json: every vector passes; every reason is covered (with ring.json)."""

from __future__ import annotations

import json
from typing import Any

import pytest
import vector_builder

from protocol.errors import Reason
from protocol.event import parse_event
from protocol.keys import key_from_seed, peer_id
from protocol.validation import KnownEvents, validate_bytes

VECTORS: dict[str, Any] = json.loads(vector_builder.VECTORS_PATH.read_text(encoding="utf-8"))
RING_VECTORS_PATH = vector_builder.VECTORS_DIR / "ring.json"


def known_events(raws: list[str]) -> KnownEvents:
    """The state a vector names: the events it says the node already holds."""
    events = [parse_event(bytes.fromhex(raw)) for raw in raws]
    return KnownEvents({event.id: event.ts for event in events})


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
    event, verdict = validate_bytes(raw, known_events(vector["state"]), vector["now_ms"])
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
    _, verdict = validate_bytes(raw, known_events(vector["state"]), vector["now_ms"])
    assert verdict.reason is not None, "accepted an invalid vector"
    assert verdict.reason.value == vector["reason"]


def test_every_reason_code_has_a_vector() -> None:
    """Across the vector files: events.json and ring.json (specs/ring.md)."""
    ring_vectors = json.loads(RING_VECTORS_PATH.read_text(encoding="utf-8"))
    covered = {vector["reason"] for vector in VECTORS["invalid"] + ring_vectors["invalid"]}
    assert covered == {reason.value for reason in Reason}
