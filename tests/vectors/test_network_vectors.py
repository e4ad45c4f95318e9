"""specs/vectors/network.json: topic names, message ids and positions; the
committed file is what the builder makes, and an implementation reading
only the vectors' hierarchy reproduces every position."""

from __future__ import annotations

import json
from typing import Any

import network_vector_builder
import pytest

from protocol.topics import LOCAL_KINDS, family_topic, group_topic, message_id

VECTORS: dict[str, Any] = json.loads(network_vector_builder.VECTORS_PATH.read_text("utf-8"))


def test_committed_vectors_are_what_the_builder_makes() -> None:
    assert network_vector_builder.VECTORS_PATH.read_text("utf-8") == network_vector_builder.render()


@pytest.mark.parametrize("case", VECTORS["names"])
def test_topic_names(case: dict[str, str]) -> None:
    net, group = bytes.fromhex(case["network_hex"]), bytes.fromhex(case["group_hex"])
    assert group_topic(net, group) == case["group_topic"]
    assert family_topic(net, group) == case["family_topic"]


@pytest.mark.parametrize("case", VECTORS["message_ids"])
def test_message_ids(case: dict[str, Any]) -> None:
    data = bytes.fromhex(case["data_hex"])
    assert message_id(case["topics"], data).hex() == case["message_id_hex"]


def test_positions_follow_from_the_hierarchy_alone() -> None:
    """Section 3 and 4 of the spec, written again from the text: what a node
    of another implementation would compute from the groups' parents."""
    positions = VECTORS["positions"]
    net = bytes.fromhex(positions["network_hex"])
    parent = {g["id_hex"]: g["parent_hex"] for g in positions["groups"]}
    level = {g["id_hex"]: g["level"] for g in positions["groups"]}
    children = {g: [c for c, p in parent.items() if p == g] for g in parent}

    def topics(group: str) -> set[str]:
        found = {group_topic(net, bytes.fromhex(group))}
        if level[group] > 1:
            found.add(family_topic(net, bytes.fromhex(group)))
        if parent[group] is not None:
            found.add(family_topic(net, bytes.fromhex(parent[group])))
        return found

    for node in positions["nodes"]:
        [group] = node["served_hex"]
        assert set(node["topics"]) == topics(group)
        expected = {child: "child" for child in children[group]}
        if parent[group] is not None:
            up = parent[group]
            expected |= {sibling: "sibling" for sibling in children[up] if sibling != group}
            expected[up] = "parent"
            if parent[up] is not None:
                expected[parent[up]] = "grandparent"
        assert node["neighbours"] == expected
        if parent[group] is None:
            assert node["sync_scope_hex"] is None  # the root syncs everything
        else:
            path, up = [], group
            while up is not None:
                path.append(up)
                up = parent[up]
            below, frontier = [], [group]
            while frontier:
                frontier = [c for g in frontier for c in children[g]]
                below.extend(frontier)
            siblings = children[parent[group]]
            assert node["sync_scope_hex"] == sorted({*path, *siblings, *below})
        assert "vote" in LOCAL_KINDS
        for voters, relayed in node["vote_relay_topics"].items():
            assert set(relayed) == topics(group) & topics(voters)
