"""``ayllu status``, ``peers`` and ``sync`` against nodes running as a real
``ayllu run`` process on loopback (three nodes: a root and two children)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import trio
from click.testing import CliRunner
from local_network import LocalNetwork
from network_factory import Scenario, build_tree

from node.cli import main


def _up(links: list[dict[str, Any]]) -> list[str]:
    return [link["peer_id"] for link in links if link["state"] == "connected"]


def _ayllu(data_dir: Path, *args: str) -> Any:
    """A command's JSON document."""
    return json.loads(_stdout(data_dir, *args))


def _lines(data_dir: Path, *args: str) -> list[Any]:
    """A listing's JSON lines."""
    return [json.loads(line) for line in _stdout(data_dir, *args).splitlines()]


def _stdout(data_dir: Path, *args: str) -> str:
    result = CliRunner().invoke(main, [*args, "--data-dir", str(data_dir), "--json"])
    assert result.exit_code == 0, result.output
    return result.stdout


async def test_status_peers_and_sync_of_a_running_node(tmp_path: Path) -> None:
    s = Scenario(root_level=2)
    tree = build_tree(s, fanout=2, size=3)
    network = LocalNetwork(tmp_path, s, tree, sync_interval_s=60.0)
    try:
        await network.prepare()
        await network.wait_up(network.start([s.net]))
        await network.wait_up(network.start(tree.children[s.net]))  # bootstrapping from it
        root = network.dirs[s.net].root
        status = _ayllu(root, "status")
        assert status["peer_id"] == network.peer_id(s.net)
        peers = _lines(root, "peers")
        assert {p["peer_id"] for p in peers} == {network.peer_id(c) for c in tree.children[s.net]}
        with trio.fail_after(60):
            while len(_up(_lines(root, "peers"))) < 2:  # the links come up
                await trio.sleep(0.2)
        synced = _ayllu(root, "sync", "--wait", "30")
        assert len(synced["requested"]) == 2
        assert synced["done"] == 2 and synced["failed"] == 0
        after = _ayllu(root, "status")
        assert after["counters"]["sync_ended"] >= status["counters"]["sync_ended"] + 2
        one = network.peer_id(tree.children[s.net][0])
        assert _ayllu(root, "sync", one)["requested"] == [one]
        stranger = CliRunner().invoke(
            main,
            [
                "sync",
                "12D3KooWGRYZDHBembyGJQqQ6WgLqJWYNjnECJ6TR8tC8hqTH2NQ",
                "--data-dir",
                str(root),
            ],
        )
        assert stranger.exit_code == 1 and "not_found" in stranger.output
    finally:
        await network.close()
    # Stopped cleanly, the node left no node.json: the commands say so.
    stopped = CliRunner().invoke(main, ["status", "--data-dir", str(root)])
    assert stopped.exit_code == 1 and "no node is running" in stopped.output
