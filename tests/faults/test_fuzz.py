"""Fuzzing at CI's size (tests/helpers/faults_fuzz.py; the full run, over
100,000 cases, is ``python bench/faults.py --only fuzz``): decoders,
validator, the store's ingest and sync sessions meet nothing but
documented errors."""

from __future__ import annotations

from typing import Any

import pytest
from faults_fuzz import SIZES, fuzz


@pytest.fixture(scope="module")
def figures() -> dict[str, Any]:
    return fuzz(full=False, seed=1)


def test_no_target_fails(figures: dict[str, Any]) -> None:
    assert figures["passed"], figures["failed"]
    assert figures["failures"] == 0 and figures["failed"] == []


def test_every_target_runs_its_cases(figures: dict[str, Any]) -> None:
    cases = figures["cases_by_target"]
    assert set(cases) == set(SIZES)
    for name, (_, ci) in SIZES.items():
        # Hypothesis may stop short of max_examples once a small input
        # space is exhausted; none of these is that small.
        assert cases[name] >= ci * 0.9, name
    assert 2_000 <= figures["total_cases"] <= 6_000
    assert figures["corpus"]["events"] > 800 and figures["corpus"]["frames"] > 10


def test_the_stateful_targets_did_real_work(figures: dict[str, Any]) -> None:
    details = figures["details"]
    assert details["store_ingest"]["refolds_compared"] > 0
    ingest = details["store_ingest"]
    assert ingest["stored_at_end"] > ingest["stored_at_start"]  # re-signed events got in
    outcomes = details["sync_session"]["victim_outcomes"]
    assert outcomes.get("ok", 0) > 0 and outcomes.get("Rejected", 0) > 0
    assert details["store_model"]["steps"] > figures["cases_by_target"]["store_model"]
