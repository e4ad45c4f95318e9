"""Running nodes in the test's own process: a small network whose groups
each have a node key, and a node on loopback around a fresh store."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path

import trio
from event_factory import signing_key
from nacl.signing import SigningKey
from network_factory import Scenario, Tree, build_tree, key_of

from node.cli_run import NodeMaker
from node.runtime import Node, NodeConfig
from protocol.event import SignedEvent
from storage import IngestStatus
from storage.state import open_network_store

LOOPBACK = "/ip4/127.0.0.1/tcp/0"


def small_tree() -> tuple[Scenario, Tree, dict[bytes, SigningKey]]:
    """A root and two base groups of three, each group served by its own node."""
    s = Scenario(root_level=2)
    tree = build_tree(s, fanout=2, size=3)
    node_keys = {group: signing_key(f"node {group.hex()}") for group in tree.levels}
    for group, key in node_keys.items():
        s.name_nodes(tree.actors[group], group, [key_of(key)])
    return s, tree, node_keys


def store_path(tmp: Path, key: SigningKey) -> Path:
    return tmp / f"{key_of(key).hex()[:8]}.sqlite3"


@asynccontextmanager
async def running(
    tmp: Path,
    s: Scenario,
    key: SigningKey,
    config: NodeConfig,
    *,
    make: NodeMaker = Node,
    with_events: bool = True,
) -> AsyncIterator[Node]:
    """A node (or what ``make`` makes) with the scenario's events in its
    store unless not ``with_events``, until the block ends."""
    async with (
        open_network_store(store_path(tmp, key), s.genesis) as store,
        trio.open_nursery() as nursery,
    ):
        if with_events:
            results = await store.ingest(s.events, s.now)
            assert {r.status for r in results} == {IngestStatus.ACCEPTED}
        node = make(key, store, config)
        await nursery.start(node.run)
        try:
            yield node
        finally:
            node.stop()


async def wait_for(nodes: Sequence[Node], event: SignedEvent, timeout: float = 20.0) -> None:
    """Until every node holds ``event``."""
    with trio.fail_after(timeout):
        while not all([await n.store.events.has([event.id]) for n in nodes]):
            await trio.sleep(0.05)
