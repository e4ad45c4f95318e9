"""Discovery (node/discovery.py, bootstrap/peer.py): nodes that know only a
bootstrap peer run as a directory (``--no-archive``), which holds no
event, find their neighbours through
the DHT; two nodes with no bootstrap at all find each other by mDNS."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import replace
from pathlib import Path

import trio
from event_factory import note, signing_key
from network_factory import Scenario
from node_factory import LOOPBACK, running, small_tree

from bootstrap.peer import bootstrap_peer
from node.host import make_host
from node.links import Wanted
from node.runtime import Node, NodeConfig


@asynccontextmanager
async def _directory(tmp_path: Path, s: Scenario) -> AsyncIterator[tuple[Node, NodeConfig]]:
    """A bootstrap peer run as a directory (DHT and rendezvous, no event),
    and the config of nodes that know nothing but it."""
    directory_config = NodeConfig(listen=(LOOPBACK,), relay=False, dht=True, sync=False)
    directory_key = signing_key("directory")
    async with running(
        tmp_path, s, directory_key, directory_config, make=bootstrap_peer, with_events=False
    ) as directory:
        yield (
            directory,
            NodeConfig(
                listen=(LOOPBACK,),
                bootstrap=tuple(directory.addresses()),
                sync_interval_s=2.0,
                topology_delay_s=0.05,
                lookup_interval_s=0.5,
                dht=True,
            ),
        )


async def test_nodes_find_their_neighbours_through_the_dht(tmp_path: Path) -> None:
    """No node knows another's address, and the directory holds no event:
    each announces the group it serves in the DHT and looks up its
    neighbours' groups there."""
    s, tree, node_keys = small_tree()
    async with _directory(tmp_path, s) as (directory, config):
        async with AsyncExitStack() as stack:
            root, a, b = [
                await stack.enter_async_context(running(tmp_path, s, node_keys[g], config))
                for g in (s.net, *tree.children[s.net])
            ]
            with trio.fail_after(30):
                while not all(len(n.links.connected()) >= 3 for n in (a, b)):
                    await trio.sleep(0.1)
            roles = {link["peer_id"]: link["roles"] for link in a.links.describe()}
            assert roles[str(root.peer_id)] == ["parent"] and roles[str(b.peer_id)] == ["sibling"]
            assert directory.discovery is not None and directory.discovery.dht is not None
            assert directory.discovery.dht.provider_store.size() >= 3
            # And now linked, they gossip and sync as ever.
            event = note(s.tick(), group=tree.children[s.net][0], net=s.net, text="tinkunakuy")
            await a.submit(event.raw)
            with trio.fail_after(20):
                while not all([await n.store.events.has([event.id]) for n in (root, b)]):
                    await trio.sleep(0.05)
        assert await directory.store.events.count() <= 1  # its own peer record


async def test_two_nodes_find_each_other_by_mdns(tmp_path: Path) -> None:
    """No bootstrap, no DHT: two nodes of one network on one local network."""
    s, tree, node_keys = small_tree()
    config = NodeConfig(listen=(LOOPBACK,), dht=False, mdns=True, sync_interval_s=2.0)
    first, second = tree.children[s.net]
    async with AsyncExitStack() as stack:
        a = await stack.enter_async_context(running(tmp_path, s, node_keys[first], config))
        # Registering a service takes zeroconf its probing time: let a's be
        # up before b browses, or b only learns of a at its next query.
        await trio.sleep(3)
        b = await stack.enter_async_context(running(tmp_path, s, node_keys[second], config))
        event = note(s.tick(), group=first, net=s.net, text="kayllapi")
        await a.submit(event.raw)
        with trio.fail_after(90):  # mDNS queries back off under load
            while not await b.store.events.has([event.id]):
                await trio.sleep(0.1)
        # Whichever found the other first dialled it: a local link.
        roles = {
            (link["peer_id"], role)
            for node in (a, b)
            for link in node.links.describe()
            for role in link["roles"]
        }
        assert (str(a.peer_id), "local") in roles or (str(b.peer_id), "local") in roles


async def test_a_restarted_node_finds_its_peers_with_no_bootstrap(tmp_path: Path) -> None:
    """The peer cache: started once with a bootstrap peer, a node started
    again with none links with it again, and with its neighbours."""
    s, tree, node_keys = small_tree()
    child = tree.children[s.net][0]
    async with (
        _directory(tmp_path, s) as (directory, config),
        running(tmp_path, s, node_keys[s.net], config) as root,
    ):
        async with running(tmp_path, s, node_keys[child], config) as node:
            with trio.fail_after(30):
                while len(node.links.connected()) < 2:
                    await trio.sleep(0.1)
        alone = replace(config, bootstrap=())
        async with running(tmp_path, s, node_keys[child], alone, with_events=False) as node:
            assert not node.bootstrap
            with trio.fail_after(30):
                while {root.peer_id, directory.peer_id} - set(node.links.connected()):
                    await trio.sleep(0.1)
            links = {link["peer_id"]: link for link in node.links.describe()}
            assert links[str(directory.peer_id)]["roles"] == ["bootstrap"]
            assert links[str(directory.peer_id)]["found_by"] == "cache"


async def test_a_peer_gone_before_it_is_cached_is_skipped(tmp_path: Path) -> None:
    """A link that came up by the peer's dial, and went before identify told
    where the peer listens: nothing to cache, and no harm (it once crashed
    the node)."""
    s, _, node_keys = small_tree()
    async with running(tmp_path, s, node_keys[s.net], NodeConfig(listen=(LOOPBACK,))) as node:
        stranger = make_host(signing_key("stranger")).get_id()
        node.links.want([Wanted(stranger, {"child"}, [], "peer-record")])
        node.links.links[stranger].reached_by = "existing"
        await node._remember(stranger)
        assert await node.store.events.cached_peers(node.now_ms()) == []
