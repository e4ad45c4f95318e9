"""specs/vectors/accountability.json: each scenario folds to its outcomes
and state, whatever the arrival order, and the committed file is what the
builder makes."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import accountability_vector_builder
import pytest
from event_factory import signing_key
from nacl.public import PrivateKey
from scenario_vectors import check_scenario

from protocol.errors import ACCOUNTABILITY_REASONS
from protocol.event import parse_event
from protocol.reports import open_report, open_sealed

VECTORS: dict[str, Any] = json.loads(accountability_vector_builder.VECTORS_PATH.read_text("utf-8"))
SCENARIOS = VECTORS["scenarios"]


def test_committed_vectors_are_what_the_builder_makes() -> None:
    assert (
        accountability_vector_builder.VECTORS_PATH.read_text("utf-8")
        == accountability_vector_builder.render()
    )


@pytest.mark.parametrize("seed", [None, 1, 2])
@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s["name"])
def test_scenario(scenario: dict[str, Any], seed: int | None) -> None:
    """Seed None: the events in key order; otherwise a shuffled arrival order."""
    check_scenario(scenario, seed)


def test_the_scenarios_cover_every_accountability_reason() -> None:
    seen = {e.get("reason") for s in SCENARIOS for e in s["events"]}
    assert {r.value for r in ACCOUNTABILITY_REASONS} <= seen


def test_the_reports_of_the_vectors_open_for_the_oversight_group() -> None:
    """The vectors' boxes are real: a member of the oversight group opens
    the report, and the reporter, with the receipt, the reply."""
    [scenario] = [s for s in SCENARIOS if s["name"] == "reports"]
    events = [parse_event(bytes.fromhex(e["event_hex"])) for e in scenario["events"]]
    [report] = [e for e in events if e.kind == "report" and e.id.hex() in _applied(scenario)]
    box = PrivateKey(hashlib.sha256(b"oversight box key").digest())
    assert open_report(report.event.body, box)["text"] == "El tesorero cobra comisiones."
    [reply] = [e for e in events if e.kind == "report.reply" and "sealed" in e.event.body]
    receipt = signing_key("report receipt 1")
    assert report.event.body["receipt"] == bytes(receipt.verify_key)
    opened = open_sealed(reply.event.body["sealed"], receipt.to_curve25519_private_key())
    assert opened["text"].startswith("Lo investigamos")


def _applied(scenario: dict[str, Any]) -> set[str]:
    return {e["id_hex"] for e in scenario["events"] if e["outcome"] == "applied"}
