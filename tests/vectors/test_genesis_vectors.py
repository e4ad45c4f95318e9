"""specs/vectors/genesis.json: every vector passes; it agrees with events.json."""

from __future__ import annotations

import json
from typing import Any

import genesis_vector_builder
import pytest
import vector_builder

from protocol.errors import Rejected
from protocol.genesis import parse_genesis

VECTORS: dict[str, Any] = json.loads(
    genesis_vector_builder.GENESIS_VECTORS_PATH.read_text(encoding="utf-8")
)


def test_committed_vectors_are_what_the_builder_makes() -> None:
    committed = genesis_vector_builder.GENESIS_VECTORS_PATH.read_text(encoding="utf-8")
    assert committed == genesis_vector_builder.render()


def test_the_events_vectors_network_is_the_first_valid_document() -> None:
    events = json.loads(vector_builder.VECTORS_PATH.read_text(encoding="utf-8"))
    assert events["genesis_hex"] == VECTORS["valid"][0]["input_hex"]
    assert events["network_id_hex"] == VECTORS["valid"][0]["network_id_hex"]


@pytest.mark.parametrize("vector", VECTORS["valid"], ids=lambda v: v["name"])
def test_valid(vector: dict[str, Any]) -> None:
    document = parse_genesis(bytes.fromhex(vector["input_hex"]))
    assert document.network_id.hex() == vector["network_id_hex"]
    assert (
        vector_builder.diagnostic(genesis_vector_builder.fields(document)) == vector["diagnostic"]
    )


@pytest.mark.parametrize("vector", VECTORS["invalid"], ids=lambda v: v["name"])
def test_invalid(vector: dict[str, Any]) -> None:
    with pytest.raises(Rejected) as caught:
        parse_genesis(bytes.fromhex(vector["input_hex"]))
    assert caught.value.reason.value == vector["reason"]
