"""Forgery and replay at CI's size (tests/helpers/faults_forgery.py; the
full run is ``python bench/faults.py --only forgery``): forged, damaged and
replayed events refused at every way into a node, with the specs' reason."""

from __future__ import annotations

from typing import Any

import pytest
from faults_forgery import ENTRY_POINTS, forgery


@pytest.fixture(scope="module")
def figures() -> dict[str, Any]:
    return forgery(full=False, seed=1)


def test_every_forgery_is_refused_at_every_way_in(figures: dict[str, Any]) -> None:
    assert figures["passed"], figures["mismatch_examples"]
    assert figures["accepted"] == 0 and figures["relayed"] == 0
    assert figures["state_changed"] == 0 and figures["mismatches"] == 0
    assert figures["entry_points"] == list(ENTRY_POINTS)
    assert figures["checks_by_entry_point"]["api"] == figures["cases"] > 600


def test_every_kind_of_forgery_and_target_is_tried(figures: dict[str, Any]) -> None:
    assert set(figures["cases_by_forgery"]) >= {
        "flip_signature",
        "flip_signed_bytes",
        "random_signature",
        "malleated_signature",
        "other_key_signature",
        "signature_over_other_bytes",
        "altered_body",
        "altered_envelope",
        "altered_net",
        "other_network_resigned",
        "other_network_vectors",
        "revoked_key",
        "foreign_ring",
    }
    assert set(figures["targets"]) >= {
        "note",
        "proposal",
        "vote",
        "ballot.open",
        "result.count",
        "cert.issue",
        "report",
    }
    assert len(figures["ring_cases"]) >= 10


def test_the_reasons_are_the_specs_and_the_senders_are_blamed(figures: dict[str, Any]) -> None:
    reasons = figures["reasons"]
    assert reasons["bad_signature"] > 300 and reasons["wrong_network"] > 10
    assert reasons["key_revoked"] == figures["cases_by_forgery"]["revoked_key"]
    assert {"wrong_ring", "bad_ring_signature", "bad_key_image"} <= set(reasons)
    assert set(figures["blamed"]) == {"gossip", "sync_put", "sync_get"}
    # The valid event of each victim (a target, or an honest act after the
    # revocation) still gets in, at every way in.
    victims = len(figures["targets"]) + 1
    assert figures["controls"] == f"{len(ENTRY_POINTS) * victims}/{len(ENTRY_POINTS) * victims}"
