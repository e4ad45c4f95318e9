"""The acceptance test of issue 5: 31 node processes on loopback form the
3-level fractal from their data directories; a proposal made at a leaf
reaches every node; a ballot runs, and results aggregate to the root. Then
one parent is replaced by a node that relays no gossip at all, and the next
proposal made under it still reaches every node, through its siblings and
sync."""

from __future__ import annotations

from pathlib import Path

import pytest
from local_network import LocalNetwork, run_ballot
from network_factory import Scenario, build_tree

pytestmark = pytest.mark.slow


def _layout(network: LocalNetwork) -> tuple[list[bytes], list[list[bytes]]]:
    """The root alone (everyone bootstraps from it), then the first parent
    alone (to be replaced), then the rest in three processes."""
    tree = network.tree
    net = network.scenario.net
    parents = tree.children[net]
    leaves = [leaf for parent in parents for leaf in tree.children[parent]]
    rest = [*parents[1:], *leaves]
    third = len(rest) // 3
    return [net], [[parents[0]], rest[:third], rest[third : 2 * third], rest[2 * third :]]


async def test_a_fractal_of_31_nodes(tmp_path: Path) -> None:
    s = Scenario(root_level=3)
    tree = build_tree(s, fanout=5, size=3)
    network = LocalNetwork(tmp_path, s, tree)
    everyone = sorted(tree.levels)
    net = s.net
    parents = tree.children[net]
    leaf = tree.children[parents[0]][0]
    try:
        await network.prepare()
        root_group, others = _layout(network)
        root_process = network.start(root_group)
        await network.wait_up(root_process)
        started = [network.start(groups) for groups in others]
        for process in started:
            await network.wait_up(process)

        # A proposal made at a leaf reaches all 31 nodes.
        proposal = s.propose(tree.members[leaf][1], net, title="Yaku", text="Yakuta waqaychasun.")
        assert (await network.submit(leaf, proposal))["status"] == "accepted"
        await network.wait_held([proposal], everyone, timeout=90)
        leaf_status = await network.status(leaf)
        assert leaf_status["groups"][0]["id"] == leaf.hex()
        assert {"parent", "grandparent"} <= {
            role for link in leaf_status["links"] for role in link["roles"]
        }

        # A ballot on it, each act at the node of the actor's group.
        run = await run_ballot(network, proposal)
        await network.wait_held([run.top], everyone, timeout=90)
        counts, ballot = run.counts, run.ballot
        expected = [sum(c.event.body["counts"][i] for c in counts.values()) for i in (0, 1)]
        assert sum(expected) == 75
        response = await network.client.get(f"{network.api(net)}/v1/ballots/{ballot.id.hex()}")
        outcome = response.json()["outcome"]
        assert outcome["stands"] and outcome["counts"] == expected, outcome
        assert outcome["voters"] == outcome["eligible"] == 75
        assert len(outcome["results"]) == 31  # every group's result, verified
        assert all(result["verified"] for result in outcome["results"].values())

        # The first parent is replaced by a node that relays no gossip.
        stopped = started[0]
        assert await network.stop(stopped) == 0, stopped.log.read_text()[-3000:]
        assert not (network.dirs[parents[0]].root / "node.json").exists()
        quiet = network.start([parents[0]], "--sync-only")
        await network.wait_up(quiet)
        second = s.propose(tree.members[leaf][2], net, title="Ñan", text="Musuq ñanta ruwasun.")
        await network.submit(leaf, second)
        await network.wait_held([second], everyone, timeout=90)
        quiet_status = await network.status(parents[0])
        assert quiet_status["relay"] is False and quiet_status["topics"] == {}
        assert quiet_status["counters"]["gossip_stored"] == 0
    finally:
        await network.close()
