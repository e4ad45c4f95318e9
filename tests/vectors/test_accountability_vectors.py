"""specs/vectors/accountability.json: each scenario folds to its outcomes
and state, whatever the arrival order, and the committed file is what the
builder makes."""

from __future__ import annotations

import json
from typing import Any

import accountability_vector_builder
import pytest
from scenario_vectors import check_scenario

from protocol.errors import ACCOUNTABILITY_REASONS

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
