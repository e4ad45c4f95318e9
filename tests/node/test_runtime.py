"""Nodes on loopback in one process (node/runtime.py): they find each other
from the signed events, gossip along the hierarchy and sync what gossip
lost."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path

import pytest
import trio
from ballot_factory import cast, count_result, freeze_ring, open_ballot
from event_factory import note, signing_key
from libp2p.peer.id import ID
from libp2p.peer.peerinfo import info_from_p2p_addr
from multiaddr import Multiaddr
from nacl.signing import SigningKey
from network_factory import Scenario, Tree, build_tree
from node_factory import LOOPBACK, running, small_tree, store_path, wait_for

from node.gossip import Gossip, GossipConfig, Verdict
from node.host import make_host
from node.runtime import Node, NodeConfig
from protocol.genesis import make_genesis
from protocol.groups import DAY_MS
from protocol.topics import family_topic
from storage import IngestStatus
from storage.state import open_network_store

CONFIG = NodeConfig(
    listen=(LOOPBACK,),
    sync_interval_s=2.0,
    topology_delay_s=0.05,
    gossip=GossipConfig(heartbeat_interval_s=1),
)


@dataclass
class Family:
    """A root's node and its two children's, linked and running."""

    scenario: Scenario
    tree: Tree
    node_keys: dict[bytes, SigningKey]
    root: Node
    a: Node
    b: Node

    @property
    def groups(self) -> list[bytes]:
        return self.tree.children[self.scenario.net]


@pytest.fixture
async def family(tmp_path: Path) -> AsyncIterator[Family]:
    """The leaves know only the root's address (their bootstrap peer); they
    learn each other's from the peer records they sync, and link."""
    s, tree, node_keys = small_tree()
    first, second = tree.children[s.net]
    async with AsyncExitStack() as stack:
        root = await stack.enter_async_context(running(tmp_path, s, node_keys[s.net], CONFIG))
        boot = NodeConfig(**{**vars(CONFIG), "bootstrap": tuple(root.addresses())})
        a = await stack.enter_async_context(running(tmp_path, s, node_keys[first], boot))
        b = await stack.enter_async_context(running(tmp_path, s, node_keys[second], boot))
        with trio.fail_after(20):
            while not all(len(n.links.connected()) >= 2 for n in (a, b)):
                await trio.sleep(0.05)
        yield Family(s, tree, node_keys, root, a, b)


async def test_nodes_find_each_other_and_gossip_along_the_tree(family: Family) -> None:
    s, root, a, b = family.scenario, family.root, family.a, family.b
    nodes = [root, a, b]
    assert {g.hex() for g in a.position.served} == {family.groups[0].hex()}
    roles = {link["peer_id"]: link["roles"] for link in a.links.describe()}
    assert roles[str(root.peer_id)] == ["bootstrap", "parent"]
    assert roles[str(b.peer_id)] == ["sibling"]

    # A note submitted at one leaf reaches the others.
    first = note(s.tick(), group=family.groups[0], net=s.net, text="asamblea")
    result = await a.submit(first.raw)
    assert result.status is IngestStatus.ACCEPTED
    await wait_for(nodes, first)
    assert root.counters.gossip_stored + b.counters.gossip_stored >= 1
    status = a.status()
    assert status["peer_id"] == str(a.peer_id)
    assert status["events"] == len(s.events) + 1 + len(nodes)  # + the peer records
    metrics = b.metrics()
    assert metrics.events_by_kind["note"] == 1 and metrics.events_by_kind["peer.record"] == 3
    assert metrics.peers_connected >= 2 and metrics.links_by_state.get("connected", 0) >= 2
    assert a.health()["status"] == "ok"
    # A bridge's view: every group around a is reachable, and synced with.
    with trio.fail_after(20):
        while not all(
            node["last_sync_ms"]
            for row in a.bridge_status()
            for node in row["nodes"]
            if not node["self"]
        ):
            await trio.sleep(0.1)
    rows = {row["group"]: row for row in a.bridge_status()}
    assert set(rows) == {s.net.hex(), *(g.hex() for g in family.groups)}
    assert all(row["reachable"] for row in rows.values())
    assert rows[s.net.hex()]["nodes"][0]["state"] == "connected"


async def test_invalid_gossip_is_dropped_and_costs_its_forwarder(family: Family) -> None:
    """A peer that forwards garbage and forged events on a family topic: the
    node drops them, relays none to its sibling, scores the peer down, and
    goes on carrying valid events."""
    s, root, a, b = family.scenario, family.root, family.a, family.b
    first = family.groups[0]

    async def relay_anything(data: bytes, forwarder: ID, topic: str) -> Verdict:
        return Verdict.RELAY

    rogue_host = make_host(signing_key("rogue"))
    rogue = Gossip(rogue_host, GossipConfig(), relay_anything)
    topic = family_topic(s.net, s.net)
    async with rogue_host.run([Multiaddr(LOOPBACK)]):
        async with trio.open_nursery() as nursery:
            await nursery.start(rogue.run)
            await rogue.join({topic})
            await rogue_host.connect(info_from_p2p_addr(Multiaddr(a.addresses()[0])))
            with trio.fail_after(20):
                while str(rogue_host.get_id()) not in a.gossip.peers(topic):  # type: ignore[union-attr]
                    await trio.sleep(0.05)
            forged = note(s.tick(), group=first, net=s.net, text="falso")
            tampered = forged.raw.replace(b"falso", b"FALSO")
            # Each invalid event costs 10: the sixth puts it over 50.
            junk = [tampered, *(b"\xff\x00garbage %d" % n for n in range(9))]
            for data in junk:
                rogue.publish(topic, data)
            # Its score fell below the graylist threshold: banned, disconnected.
            with trio.fail_after(20):
                while rogue_host.get_id() in a.host.get_connected_peers():
                    await trio.sleep(0.05)
            assert a.gossip is not None and a.gossip.misbehaviour(rogue_host.get_id()) > 50
            assert a.counters.gossip_rejected >= 6
            [ban] = a.status()["gate"]["banned"]
            assert ban["peer"] == str(rogue_host.get_id())
            assert ban["reason"].startswith("misbehaviour")
            assert a.counters.bans == 1
            # Coming back does not help: the gate closes its connection again.
            await rogue_host.connect(info_from_p2p_addr(Multiaddr(a.addresses()[0])))
            with trio.fail_after(20):
                while rogue_host.get_id() in a.host.get_connected_peers():
                    await trio.sleep(0.05)
            # Still carrying valid events, and never the invalid ones.
            valid = note(s.tick(), group=first, net=s.net, text="asamblea")
            await a.submit(valid.raw)
            await wait_for([root, b], valid)
            assert b.counters.gossip_rejected == 0 and root.counters.gossip_rejected == 0
            nursery.cancel_scope.cancel()
        await rogue_host.close()  # its sockets now, not at collection


async def test_an_event_from_the_future_is_ignored_not_held_against_its_forwarder(
    family: Family,
) -> None:
    """Gossip stamped an hour ahead of the node's clock: not taken, not
    relayed, and no score lost by the forwarder, whose clock may be the
    right one (specs/network.md section 4.3)."""
    s, a, b = family.scenario, family.a, family.b
    ahead = note(a.now_ms() + 3_600_000, group=family.groups[0], net=s.net, text="mañana")
    topic = family_topic(s.net, s.net)
    assert await a._judge(ahead.raw, b.peer_id, topic) is Verdict.IGNORE
    assert a.gossip is not None and a.gossip.misbehaviour(b.peer_id) == 0
    assert not await a.store.events.has([ahead.id])


async def test_a_deny_file_cuts_a_peer_off_and_lets_it_back(tmp_path: Path) -> None:
    """The operator lists a peer: its link is refused and its connection
    closed, with no restart; unlisted, it is linked with again."""
    s, tree, node_keys = small_tree()
    first, second = tree.children[s.net]
    deny = tmp_path / "deny"
    async with AsyncExitStack() as stack:
        root = await stack.enter_async_context(running(tmp_path, s, node_keys[s.net], CONFIG))
        boot = NodeConfig(**{**vars(CONFIG), "bootstrap": tuple(root.addresses())})
        gated = NodeConfig(**{**vars(boot), "deny_file": deny})
        a = await stack.enter_async_context(running(tmp_path, s, node_keys[first], gated))
        b = await stack.enter_async_context(running(tmp_path, s, node_keys[second], boot))
        with trio.fail_after(20):
            while b.peer_id not in a.links.connected():
                await trio.sleep(0.05)
        missing = f"{deny} does not exist (nobody is denied)"
        assert a.status()["gate"]["deny_file_errors"] == [missing]
        deny.write_text(f"# a hostile peer\n{b.peer_id}  # since today\nnot-a-peer-id\n")
        with trio.fail_after(20):
            while b.peer_id in a.host.get_connected_peers() or b.peer_id in b.links.connected():
                await trio.sleep(0.05)
        gate = a.status()["gate"]
        assert gate["denied"] == [str(b.peer_id)]
        assert gate["deny_file_errors"] == [f"{deny}:3: not a peer id: 'not-a-peer-id'"]
        with trio.fail_after(20):
            while a.links.links[b.peer_id].state != "refused":
                await trio.sleep(0.05)
        # Events still reach a, through the root.
        later = note(s.tick(), group=second, net=s.net, text="por otro camino")
        await b.submit(later.raw)
        await wait_for([a], later)
        deny.write_text("")
        with trio.fail_after(30):
            while b.peer_id not in a.links.connected():
                await trio.sleep(0.05)


async def test_events_committed_beside_a_running_node_are_gossiped(
    family: Family, tmp_path: Path
) -> None:
    """A command run on the data directory of a running node (here: another
    store on the same file) commits an event; the node notices, folds and
    gossips it."""
    s, tree, root, a, b = family.scenario, family.tree, family.root, family.a, family.b
    first = family.groups[0]
    path = store_path(tmp_path, family.node_keys[first])
    proposal = s.propose(tree.members[first][0], first, title="Minka", text="Sábado.")
    async with open_network_store(path, s.genesis) as beside:
        [result] = await beside.ingest([proposal], s.now)
        assert result.status is IngestStatus.ACCEPTED
    await wait_for([b, root], proposal)
    assert proposal.id.hex() in {p["id"] for p in a.store.state.proposals.describe_all(s.now)}
    assert b.counters.gossip_stored + b.counters.sync_stored >= 1


async def test_the_networks_default_bootstrap_peers(tmp_path: Path) -> None:
    """With no bootstrap of its own, a node takes the genesis document's;
    its own configuration wins; an address that does not parse is skipped."""
    s = Scenario()
    boot = make_host(signing_key("boot"))
    address = f"/ip4/127.0.0.1/tcp/4001/p2p/{boot.get_id()}"
    genesis = make_genesis(
        name="con bootstrap",
        ts=s.genesis.ts,
        root=s.genesis.root,
        founder=s.genesis.founder,
        registrars=s.genesis.registrars,
        quorum=1,
        bootstrap=[address, "/not-a-multiaddr/p2p/x"],
    )
    async with open_network_store(tmp_path / "n.sqlite3", genesis) as store:
        defaults = Node(signing_key("n"), store, NodeConfig())
        assert [info.peer_id for info in defaults.bootstrap] == [boot.get_id()]
        own = Node(signing_key("n"), store, NodeConfig(bootstrap=[]))
        assert own.bootstrap == defaults.bootstrap  # an empty list is no configuration
        mine = make_host(signing_key("mine"))
        chosen = NodeConfig(bootstrap=[f"/ip4/127.0.0.1/tcp/9/p2p/{mine.get_id()}"])
        assert [i.peer_id for i in Node(signing_key("n"), store, chosen).bootstrap] == [
            mine.get_id()
        ]


async def test_events_stored_by_sync_are_not_taken_for_commits_beside_the_node(
    tmp_path: Path,
) -> None:
    """The root's node syncs 3,000 old notes from a child's node; its
    watcher looks at the store every 10 ms meanwhile. Events that come by
    sync are gossiped on only while fresh, and each is counted once: the
    watcher takes none of them for commits beside the node (found by the
    censoring_parent fault scenario, whose dropping censor leaked them)."""
    s, tree, node_keys = small_tree()
    child = tree.children[s.net][0]
    watchful = NodeConfig(**{**vars(CONFIG), "watch_interval_s": 0.01})
    old = [note(s.now - DAY_MS + i, group=child, net=s.net, text=f"acta {i}") for i in range(3000)]
    async with open_network_store(store_path(tmp_path, node_keys[child]), s.genesis) as store:
        await store.ingest(old, s.now)  # before its node starts: not beside it
    async with AsyncExitStack() as stack:
        root = await stack.enter_async_context(running(tmp_path, s, node_keys[s.net], watchful))
        published = root.counters.published
        boot = NodeConfig(**{**vars(CONFIG), "bootstrap": tuple(root.addresses())})
        await stack.enter_async_context(running(tmp_path, s, node_keys[child], boot))
        wanted = {event.id for event in old}
        with trio.fail_after(60):
            while await root.store.events.has(wanted) != wanted:
                await trio.sleep(0.1)
        await trio.sleep(0.5)
        assert root.event_count == await root.store.events.count()
        assert root.counters.published - published < 100  # peer records, by gossip


async def test_a_node_fetches_the_votes_of_a_group_whose_counter_equivocated(
    tmp_path: Path,
) -> None:
    """A base group's counter signs two different counts, and a node that
    does not sync that group holds both but none of its votes: it cannot
    tell which is true, so the group comes into its sync scope (its votes
    will come, and it will recount); its other cousins do not."""
    s = Scenario(root_level=3)
    tree = build_tree(s, fanout=2, size=3)
    node_keys = {group: signing_key(f"node {group.hex()}") for group in tree.levels}
    for group, key in node_keys.items():
        s.name_nodes(tree.actors[group], group, [bytes(key.verify_key)])
    net = s.net
    near, far = tree.children[net]
    mine, liar, other = tree.children[near][0], *tree.children[far]
    proposal = s.propose(tree.members[mine][0], net)
    bases = tree.at_level(1)
    for base in bases[:3]:
        s.support(tree.members[base][0], proposal)
    ballot = open_ballot(s, s.founder, net, counting_level=1, proposal=proposal.id)
    keys = [bytes(k.verify_key) for k in tree.members[liar]]
    ring = freeze_ring(s, tree.actors[liar], ballot, liar, keys)
    s.now = ballot.event.body["opens"]
    votes = [cast(s, ring, person, [0]) for person in tree.members[liar]]
    s.now = ballot.event.body["closes"] + 1
    actor = tree.actors[liar]
    count_result(s, actor, ballot, ring, votes, counts=[0, 3], ts=s.now)
    count_result(s, actor, ballot, ring, votes, ts=s.now + 1000)
    key = node_keys[mine]
    async with open_network_store(store_path(tmp_path, key), s.genesis) as store:
        await store.ingest([e for e in s.events if e.kind != "vote"], s.now)
        assert [e.kind for e in store.state.ballots.evidence] == ["equivocation"]
    async with running(tmp_path, s, key, CONFIG, with_events=False) as node:
        assert node.scope is not None
        assert liar in node.scope and other not in node.scope
        assert node.status()["sync_scope"] == sorted(g.hex() for g in node.scope)
