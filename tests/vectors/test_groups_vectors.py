"""specs/vectors/groups.json: each scenario folds to its outcomes and state,
whatever the arrival order, and the committed file is what the builder makes."""

from __future__ import annotations

import json
from typing import Any

import groups_vector_builder
import pytest
from scenario_vectors import check_scenario

from protocol.errors import GROUP_REASONS, Reason

VECTORS: dict[str, Any] = json.loads(groups_vector_builder.VECTORS_PATH.read_text("utf-8"))
SCENARIOS = VECTORS["scenarios"]


def test_committed_vectors_are_what_the_builder_makes() -> None:
    assert groups_vector_builder.VECTORS_PATH.read_text("utf-8") == groups_vector_builder.render()


@pytest.mark.parametrize("seed", [None, 1, 2, 3])
@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s["name"])
def test_scenario(scenario: dict[str, Any], seed: int | None) -> None:
    """Seed None: the events in key order; otherwise a shuffled arrival order."""
    check_scenario(scenario, seed)


def test_the_scenarios_cover_every_state_reason() -> None:
    seen = {e.get("reason") for s in SCENARIOS for e in s["events"] + s["rings"]}
    wanted = {Reason.UNCERTIFIED_KEY.value, Reason.NO_STANDING.value}
    assert {r.value for r in GROUP_REASONS} | wanted <= seen
