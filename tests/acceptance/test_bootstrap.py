"""The acceptance tests of issue 6, on loopback processes: 3 bootstrap peers
and a fractal of 21 nodes that know nothing but the bootstrap addresses.
The nodes find their parents, siblings and children; one bootstrap peer is
killed and the nodes started after still join and hear the news.

Twice: with archives as bootstrap peers (the usual case: peer records come
with the events), and with directories, which hold no event, beside a
malicious archive that hides every peer record and genuine proposal and
serves forged ones, so that the DHT is the nodes' only way to one another
and the liar's forgeries are offered to every node. (mDNS and bundles:
tests/node/test_discovery.py and test_bridge.py.)"""

from __future__ import annotations

import signal
from pathlib import Path

import pytest
import trio
from local_network import LIAR, LocalNetwork, NodeProcess
from lying_bootstrap import forge
from network_factory import Scenario, Tree, build_tree

from protocol.event import SignedEvent

pytestmark = pytest.mark.slow


async def _all_linked(
    network: LocalNetwork, groups: list[bytes], running: set[str], timeout: float = 120
) -> None:
    """Every node of ``groups`` has its links up to every peer of ``running``."""
    down: list[tuple[str, list[str], str, str]] = []
    with trio.move_on_after(timeout):
        while True:
            down = [
                (network.dirs[g].root.name, link["roles"], link["state"], link["last_error"])
                for g in groups
                for link in (await network.status(g))["links"]
                if link["state"] != "connected" and link["peer_id"] in running
            ]
            if not down:
                return
            await trio.sleep(0.5)
    raise AssertionError(f"links still down after {timeout} s: {down[:8]} ({len(down)})")


def _tree() -> tuple[Scenario, Tree]:
    s = Scenario(root_level=3)
    return s, build_tree(s, fanout=4, size=3)  # 1 + 4 + 16 = 21 groups


async def _join_lose_a_bootstrap_and_join(
    network: LocalNetwork, bootstraps: list[NodeProcess]
) -> SignedEvent:
    """17 nodes join; the first bootstrap peer dies without a word; 4 late
    leaves (one per parent) join; a proposal made at one of them reaches
    all 21. Returns the proposal."""
    s, tree = network.scenario, network.tree
    parents = tree.children[s.net]
    leaves = [leaf for parent in parents for leaf in tree.children[parent]]
    late = [tree.children[p][-1] for p in parents]
    early = [s.net, *parents, *(leaf for leaf in leaves if leaf not in late)]
    processes = [network.start(early[i::3], "--dht") for i in range(3)]
    for process in processes:
        await network.wait_up(process)
    up = {network.peer_id(g) for g in early} | set(network.bootstrap_peer_ids)
    await _all_linked(network, early, up)
    roles = {role for link in (await network.status(leaves[0]))["links"] for role in link["roles"]}
    assert {"parent", "sibling", "grandparent", "bootstrap"} <= roles

    dead = bootstraps[0]
    up.discard((await network.status_of(dead.dirs[0]))["peer_id"])
    dead.popen.send_signal(signal.SIGKILL)
    dead.popen.wait()
    joined = network.start(late, "--dht")
    await network.wait_up(joined)
    up |= {network.peer_id(g) for g in late}
    await _all_linked(network, [*late, *parents], up)
    proposal = s.propose(tree.members[late[0]][0], s.net, title="Tinku", text="Huñunakusun.")
    await network.submit(late[0], proposal)
    await network.wait_held([proposal], sorted(tree.levels), timeout=90)
    return proposal


async def test_nodes_join_through_archives_even_when_one_dies(tmp_path: Path) -> None:
    s, tree = _tree()
    network = LocalNetwork(tmp_path, s, tree)
    try:
        await network.prepare()
        bootstraps = await network.start_bootstraps(3)
        await _join_lose_a_bootstrap_and_join(network, bootstraps)
        # The archives that lived hold the news too.
        for archive in bootstraps[1:]:
            assert (await network.status_of(archive.dirs[0]))["events"] > len(s.events)
    finally:
        await network.close()


async def test_nodes_find_each_other_through_the_dht_past_a_lying_bootstrap(
    tmp_path: Path,
) -> None:
    s, tree = _tree()
    network = LocalNetwork(tmp_path, s, tree)
    try:
        await network.prepare()
        directories = await network.start_bootstraps(3, "--no-archive")
        [liar] = await network.start_bootstraps(1, program=LIAR)
        proposal = await _join_lose_a_bootstrap_and_join(network, directories)
        for directory in directories[1:]:
            assert (await network.status_of(directory.dirs[0]))["events"] <= 1  # its peer record

        # The liar forges a twin of the proposal, and offers it to every
        # node at their next session: each rejects it and blames the liar.
        forged = forge(proposal)
        groups = sorted(tree.levels)
        blamed: set[bytes] = set()
        with trio.move_on_after(60):
            while len(blamed) < len(groups):
                for group in set(groups) - blamed:
                    if (await network.status(group))["rejected"].get("bad_signature"):
                        blamed.add(group)
                await trio.sleep(0.5)
        assert len(blamed) == len(groups), [network.dirs[g].root.name for g in groups]
        assert not any([await network.holds(group, forged.id) for group in groups])
        assert await network.holds_at(liar.dirs[0], forged.id)
    finally:
        await network.close()
