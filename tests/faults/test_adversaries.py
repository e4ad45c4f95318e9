"""The adversaries of the hostile-conditions suite at CI's size
(tests/helpers/faults_adversaries.py; the issue's size is ``python
bench/faults.py``): a random split reconciled in one session, equivocating
counters caught, censoring parents routed around; and the censoring parent
itself (tests/helpers/censoring_node.py), checked to censor."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path

import faults_adversaries as adversaries
import multiaddr
import pytest
import trio
from censoring_node import censoring_node
from event_factory import note
from libp2p import new_host
from libp2p.abc import IHost
from libp2p.crypto.ed25519 import create_new_key_pair
from libp2p.peer.peerinfo import info_from_p2p_addr
from network_factory import Scenario
from node_factory import LOOPBACK, running, small_tree, wait_for

from node.gossip import GossipConfig
from node.runtime import Node, NodeConfig
from node.sync import SyncService
from storage.state import NetworkStore, open_network_store

CONFIG = NodeConfig(
    listen=(LOOPBACK,),
    sync_interval_s=2.0,
    topology_delay_s=0.05,
    gossip=GossipConfig(heartbeat_interval_s=1),
)


def test_a_random_split_converges_in_one_session_of_few_bytes() -> None:
    figures = adversaries.split_reconcile(full=False)
    assert figures["passed"], figures
    assert figures["hash_a"] == figures["hash_b"]
    assert (figures["need"], figures["have"]) == (figures["only_b"], figures["only_a"]) == (20, 20)
    assert figures["bytes_ratio"] <= adversaries.BYTES_RATIO_GOAL
    assert figures["second_session"] == {"need": 0, "have": 0, "rounds": 1}


@pytest.mark.slow
def test_equivocating_counters_are_caught_by_every_node_that_syncs_them() -> None:
    figures = adversaries.equivocation(full=False)
    assert figures["passed"], figures
    for what in ("count", "sum"):
        assert figures[what]["evidence_at_syncing"] == figures[what]["syncing_nodes"] >= 4
    # The false count reached a node that cannot recount it: it applied the
    # lie, sorted first, and holds the true count as the second of two;
    # the evidence widened its sync scope, it fetched the votes, and every
    # node ends up applying the true count.
    assert "equivocation" in figures["count"]["kinds"], figures
    assert figures["true_count_applied"] == figures["nodes"], figures
    assert figures["sum"]["kinds"].keys() == {"bad_sum"}
    assert figures["submitted"] == {
        "false_count": "accepted",
        "true_sum": "accepted",
        "false_sum": "refused",
    }


@pytest.mark.slow
def test_censoring_parents_are_routed_around_and_their_sums_caught() -> None:
    figures = adversaries.censoring_parent(full=False)
    assert figures["passed"], figures
    assert figures["modes"].keys() == {"drop", "delay", "reorder"}
    for mode in figures["modes"].values():
        assert mode["reached"] == mode["wanted"] > 0 and mode["missing"] == ""
        assert mode["reach_s"] < figures["delay_s"]  # not by the delaying parent
        assert mode["evidence_at_root"] and mode["applied_at"] == []
        assert mode["false_sum_at_parent"] == "refused"  # it knows it lies
        assert mode["censor_took_in"] >= mode["child_events"]
    # What the censors carried on: their own acts alone (a peer record, the
    # false sum, on their three topics), but for the one that reorders.
    modes = figures["modes"]
    assert modes["drop"]["censor_published"] <= 6 and modes["delay"]["censor_published"] <= 6
    assert modes["reorder"]["censor_published"] >= modes["reorder"]["censor_took_in"]


@asynccontextmanager
async def bare_peer(
    tmp: Path, s: Scenario
) -> AsyncIterator[tuple[IHost, SyncService, NetworkStore]]:
    """A host with a store of the scenario's events, that only syncs."""
    host = new_host(key_pair=create_new_key_pair(b"p" * 32))
    async with open_network_store(tmp / "peer.sqlite3", s.genesis) as store:
        await store.ingest(s.events, s.now)
        async with host.run([multiaddr.Multiaddr(LOOPBACK)]):
            try:
                yield host, SyncService(store, now_ms=lambda: s.now), store
            finally:
                await host.close()


@pytest.mark.parametrize(("mode", "at_once", "after_delay"), [
    ("drop", False, False),
    ("delay", False, True),
    ("reorder", True, True),
])  # fmt: skip
async def test_a_censor_keeps_what_it_got_from_peers(
    tmp_path: Path, mode: str, at_once: bool, after_delay: bool
) -> None:
    """The root's node censors: it takes its child's event in, and then
    gossips it on nowhere and serves it in sync never (drop), only after
    the delay (delay), or at once in another order (reorder)."""
    s, tree, node_keys = small_tree()
    child = tree.children[s.net][0]
    make = censoring_node(iter([mode]), 1.0)
    async with AsyncExitStack() as stack:
        censor: Node = await stack.enter_async_context(
            running(tmp_path, s, node_keys[s.net], CONFIG, make=make)
        )
        boot = NodeConfig(**{**vars(CONFIG), "bootstrap": tuple(censor.addresses())})
        own = await stack.enter_async_context(running(tmp_path, s, node_keys[child], boot))
        host, sync, store = await stack.enter_async_context(bare_peer(tmp_path, s))
        event = note(s.tick(), group=child, net=s.net, text="asamblea")
        published = censor.counters.published
        await own.submit(event.raw)
        await wait_for([censor], event)
        await host.connect(info_from_p2p_addr(multiaddr.Multiaddr(censor.addresses()[0])))
        report = await sync.sync_with(host, censor.peer_id)
        assert bool(await store.events.has([event.id])) is at_once
        if not at_once:
            assert report.need > report.fetched  # it says it has events it does not send
            assert censor.counters.published == published  # and relayed them nowhere
        await trio.sleep(1.2)
        await sync.sync_with(host, censor.peer_id)
        assert bool(await store.events.has([event.id])) is after_delay
