"""The acceptance test of issue 6, on loopback processes: 3 bootstrap peers
(archives, DHT servers) and a fractal of nodes that know nothing but the
bootstrap addresses find their parents, siblings and children; one
bootstrap is killed and the nodes started after still join and hear the
news. (A lying bootstrap, mDNS and bundles: tests/node/test_sync.py,
test_discovery.py and test_bridge.py.)"""

from __future__ import annotations

import signal
from pathlib import Path

import pytest
import trio
from local_network import LocalNetwork
from network_factory import Scenario, build_tree

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


async def test_nodes_join_through_bootstrap_peers_even_when_one_dies(tmp_path: Path) -> None:
    s = Scenario(root_level=3)
    tree = build_tree(s, fanout=4, size=3)  # 1 + 4 + 16 = 21 groups
    network = LocalNetwork(tmp_path, s, tree)
    net = s.net
    parents = tree.children[net]
    leaves = [leaf for parent in parents for leaf in tree.children[parent]]
    late = [tree.children[p][-1] for p in parents]  # one leaf per parent joins later
    early = [net, *parents, *(leaf for leaf in leaves if leaf not in late)]
    try:
        await network.prepare()
        bootstraps = await network.start_bootstraps(3)
        processes = [network.start(early[i::3], "--dht") for i in range(3)]
        for process in processes:
            await network.wait_up(process)
        up = {network.peer_id(g) for g in early} | set(network.bootstrap_peer_ids)
        await _all_linked(network, early, up)
        roles = {
            role
            for link in (await network.status(leaves[0]))["links"]
            for role in link["roles"]
        }
        assert {"parent", "sibling", "grandparent", "bootstrap"} <= roles

        # One bootstrap dies without a word; the late leaves still join.
        dead = bootstraps[0]
        up.discard(network.bootstrap_peer_ids[0])
        dead.popen.send_signal(signal.SIGKILL)
        dead.popen.wait()
        joined = network.start(late, "--dht")
        await network.wait_up(joined)
        up |= {network.peer_id(g) for g in late}
        await _all_linked(network, [*late, *parents], up)
        proposal = s.propose(tree.members[late[0]][0], net, title="Tinku", text="Huñunakusun.")
        await network.submit(late[0], proposal)
        await network.wait_held([proposal], sorted(tree.levels), timeout=90)
    finally:
        await network.close()
