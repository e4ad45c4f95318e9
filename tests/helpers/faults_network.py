"""Hostile conditions of the network itself, on real node processes on
loopback (tests/helpers/local_network.py): a partition that heals, a
flooding peer, and churn. Scenarios of bench/faults.py (full size) and
tests/faults/test_network.py (CI size); each returns its figures with
``passed`` and the criterion it checked.

A partition is made with the nodes' own deny files (``--deny-file``,
node/peer_gate.py): each side's nodes refuse the other side's peer ids,
so no connection crosses, whatever the links want; healing empties the
files, which the nodes read again within a second.
"""

from __future__ import annotations

import contextlib
import math
import random
import statistics
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import httpx
import trio
from ballot_factory import cast, count_result, freeze_ring, open_ballot, sum_result
from event_factory import note, signing_key
from libp2p.io.msgio import VarIntLengthMsgReadWriter
from libp2p.peer.id import ID
from libp2p.peer.peerinfo import PeerInfo, info_from_p2p_addr
from libp2p.pubsub.pb import rpc_pb2
from libp2p.pubsub.validators import PUBSUB_SIGNING_PREFIX
from local_network import LocalNetwork
from multiaddr import Multiaddr
from network_factory import Scenario, build_tree, key_of

from node.gossip import GOSSIP_PROTOCOLS, Gossip, GossipConfig, Verdict
from node.host import make_host
from node.loopback import NodeProcess
from protocol.event import SignedEvent

#: Seconds between sync rounds in these networks: rounds are counted in it.
SYNC_S = 3.0
LOOPBACK = "/ip4/127.0.0.1/tcp/0"


def _chunks(items: Sequence[bytes], count: int) -> list[list[bytes]]:
    return [list(items[i::count]) for i in range(count) if items[i::count]]


async def _start(
    network: LocalNetwork, layout: Iterable[tuple[list[bytes], list[str]]]
) -> list[NodeProcess]:
    """The root's process first (the others bootstrap from it), then the rest."""
    started: list[NodeProcess] = []
    for groups, extra in layout:
        started.append(network.start(groups, *extra))
        if network.scenario.net in groups:
            await network.wait_up(started[-1])
    for process in started:
        await network.wait_up(process, timeout=120)
    return started


async def _linked_across(network: LocalNetwork, side: list[bytes], other: set[str]) -> int:
    """Connections from ``side``'s nodes to peers of ``other``."""
    crossing = 0
    for group in side:
        status = await network.status(group)
        crossing += sum(
            1
            for link in status["links"]
            if link["peer_id"] in other and link["state"] == "connected"
        )
    return crossing


# -- partition and heal --


def partition_heal(*, full: bool, seed: int = 1) -> dict[str, Any]:
    """The fractal split in two, both parts proposing and voting, then healed."""
    return trio.run(_partition_heal, 5 if full else 2, seed)


async def _partition_heal(fanout: int, seed: int) -> dict[str, Any]:
    rng = random.Random(seed)
    s = Scenario(root_level=3)
    tree = build_tree(s, fanout=fanout, size=3)
    net = s.net
    with tempfile.TemporaryDirectory(prefix="ayllu-partition-") as tmp:
        root = Path(tmp)
        network = LocalNetwork(root, s, tree, sync_interval_s=SYNC_S)
        try:
            await network.prepare()
            cut = tree.children[net][0]
            side_x = [cut, *tree.children[cut]]
            side_y = [
                g for g in sorted(tree.levels, key=lambda g: -tree.levels[g]) if g not in side_x
            ]
            deny_x, deny_y = root / "deny-x", root / "deny-y"
            others_y = [g for g in side_y if g != net]
            await _start(
                network,
                [
                    ([net], ["--deny-file", str(deny_y)]),
                    *((chunk, ["--deny-file", str(deny_y)]) for chunk in _chunks(others_y, 2)),
                    (side_x, ["--deny-file", str(deny_x)]),
                ],
            )
            everyone = list(tree.levels)
            bases = tree.at_level(1)
            # A proposal and its ballot, counted in the base groups, opened
            # with every ring frozen before the split.
            proposal = s.propose(tree.members[bases[-1]][0], net, title="Antes", text="Antes.")
            await network.submit(bases[-1], proposal)
            await network.wait_held([proposal], everyone, timeout=120)
            people = sum(len(tree.members[b]) for b in bases)
            supports = [s.support(tree.members[b][0], proposal) for b in bases[: -(-people // 5)]]
            for support, base in zip(supports, bases, strict=False):
                await network.submit(base, support)
            await network.wait_held(supports, [net], timeout=120)
            ballot = open_ballot(s, s.founder, net, counting_level=1, proposal=proposal.id)
            await network.submit(net, ballot)
            await network.wait_held([ballot], bases, timeout=120)
            rings = {
                b: freeze_ring(s, tree.actors[b], ballot, b, [key_of(k) for k in tree.members[b]])
                for b in bases
            }
            for base, ring in rings.items():
                # Held is not applied: the ballot may have come before the
                # supports it needs, and is refused until they come too.
                path = f"/v1/ballots/{ballot.id.hex()}"
                await network.loopback.wait_found(network.dirs[base], path, timeout=120)
                await network.submit(base, ring)

            # The split: each side refuses the other's peers.
            ids = {g: network.peer_id(g) for g in everyone}
            deny_x.write_text("".join(f"{ids[g]}\n" for g in side_y))
            deny_y.write_text("".join(f"{ids[g]}\n" for g in side_x))
            split_at = trio.current_time()
            with trio.fail_after(60):
                while await _linked_across(network, side_x, {ids[g] for g in side_y}):
                    await trio.sleep(0.2)
            cut_s = trio.current_time() - split_at

            # Both parts go on: proposals to the whole network, votes,
            # counts, and each region's sum.
            made: list[SignedEvent] = []
            elsewhere: dict[bytes, list[bytes]] = {}  # an event -> the other side
            for side, other in ((side_x, side_y), (side_y, side_x)):
                for base in [g for g in side if tree.levels[g] == 1][:3]:
                    author = rng.choice(tree.members[base])
                    title = f"Durante {len(made)}"
                    made.append(s.propose(author, net, title=title, text="Durante."))
                    elsewhere[made[-1].id] = other
                    await network.submit(base, made[-1])
            s.now = ballot.event.body["opens"]
            votes: dict[bytes, list[SignedEvent]] = {}
            for base in bases:
                votes[base] = [
                    cast(s, rings[base], p, [rng.randrange(2)]) for p in tree.members[base]
                ]
                for vote in votes[base]:
                    await network.submit(base, vote)
            s.now = ballot.event.body["closes"] + 1
            results: dict[bytes, SignedEvent] = {}
            for base in bases:
                results[base] = count_result(s, tree.actors[base], ballot, rings[base], votes[base])
                await network.submit(base, results[base])
            for region in tree.children[net]:
                parts = [results[b] for b in tree.children[region]]
                await network.wait_applied(ballot, parts, region)
                results[region] = sum_result(s, tree.actors[region], ballot, region, parts)
                await network.submit(region, results[region])
            # Nothing crossed while split: each side's proposals stayed on it.
            await trio.sleep(2 * SYNC_S)
            leaked = 0
            for event in made:
                for group in elsewhere[event.id]:
                    leaked += await network.holds(group, event.id)
            split_s = trio.current_time() - split_at

            # Healed: the root sums when it has every region's result, and
            # every node converges on the same events and the same outcome.
            deny_x.write_text("")
            deny_y.write_text("")
            healed_at = trio.current_time()
            regions = [results[r] for r in tree.children[net]]
            await network.wait_applied(ballot, regions, net)
            top = sum_result(s, s.founder, ballot, net, regions)
            await network.submit(net, top)
            await network.wait_held([*made, top], everyone, timeout=600)
            outcomes = set()
            for group in everyone:
                answer = await network.client.get(
                    f"{network.api(group)}/v1/ballots/{ballot.id.hex()}"
                )
                outcome = answer.json()["outcome"]
                top_result = outcome["results"].get(net.hex(), {})
                outcomes.add((outcome["stands"], tuple(top_result.get("counts", ()))))
            converge_s = trio.current_time() - healed_at
        finally:
            await network.close()
    rounds = math.ceil(converge_s / SYNC_S)
    voters = sum(len(v) for v in votes.values())
    [(stands, counts)] = outcomes if len(outcomes) == 1 else [(False, ())]
    return {
        "passed": leaked == 0
        and len(outcomes) == 1
        and stands
        and sum(counts) == voters
        and rounds <= 20,
        "criterion": "no event crosses while split; after healing every node holds both parts' "
        "events and reports the same outcome, all votes counted, within 20 sync rounds",
        "nodes": len(everyone),
        "split_nodes": [len(side_x), len(side_y)],
        "seconds_to_cut": round(cut_s, 1),
        "seconds_split": round(split_s, 1),
        "made_while_split": len(made),
        "leaked_while_split": leaked,
        "votes": voters,
        "outcomes_seen": len(outcomes),
        "seconds_to_converge": round(converge_s, 1),
        "sync_interval_s": SYNC_S,
        "rounds_to_converge": rounds,
    }


# -- floods --


def floods(*, full: bool, seed: int = 1) -> dict[str, Any]:
    """A peer floods a node with invalid messages, another with valid but
    useless ones, 10,000 each at full size."""
    return trio.run(_floods, 10_000 if full else 1_000, seed)


async def _relay_anything(data: bytes, forwarder: ID, topic: str) -> Verdict:
    return Verdict.RELAY


async def _floods(count: int, seed: int) -> dict[str, Any]:
    s = Scenario(root_level=3)
    tree = build_tree(s, fanout=2, size=3)
    net = s.net
    region = tree.children[net][0]
    target, sibling = tree.children[region]
    with tempfile.TemporaryDirectory(prefix="ayllu-flood-") as tmp:
        network = LocalNetwork(Path(tmp), s, tree, sync_interval_s=SYNC_S)
        try:
            await network.prepare()
            rest = [g for g in tree.levels if g not in (net, target)]
            await _start(network, [([net], []), ([target], []), (rest, [])])
            status = await network.status(target)
            topics = set(status["topics"])
            api = network.api(target)
            phases = {}
            for phase, junk in (
                ("invalid", _invalid(count)),
                ("useless", _useless(s, target, count)),
            ):
                phases[phase] = await _flood(network, target, sibling, topics, api, junk, phase, s)
            gate = (await network.status(target))["gate"]
        finally:
            await network.close()
    banned = {ban["reason"].split()[0] for ban in gate["banned"]}
    responsive = all(p["api_failures"] == 0 for p in phases.values())
    honest = all(p["honest_missing"] == 0 for p in phases.values())
    return {
        "passed": responsive
        and honest
        and banned == {"misbehaviour"}
        and len(gate["banned"]) == 2
        and all(p["disconnected"] for p in phases.values()),
        "criterion": "each flooder is banned and disconnected, the node's API answers every "
        "request (5 s timeout) and honest events still reach it, throughout each flood",
        **{f"{phase}_{name}": value for phase, p in phases.items() for name, value in p.items()},
    }


#: Messages per RPC frame a flooder writes, and how many times in a row
#: it may be refused before it gives up.
FLOOD_BATCH = 50
FLOOD_TRIES = 25


async def _blast(host: Any, address: PeerInfo, topic: str, junk: list[bytes]) -> int:
    """Write ``junk`` to the target as gossipsub messages, signed as the
    router signs its own, in frames of FLOOD_BATCH, as fast as the socket
    takes them: what a hostile implementation would do, which its own
    router's queues would not (they drop beyond 32). Cut off, it dials
    again and goes on, until it has been refused FLOOD_TRIES times in a
    row. The messages written."""
    sent, refused = 0, 0
    key, public = host.get_private_key(), host.get_public_key().serialize()
    me = host.get_id().to_bytes()
    while sent < len(junk) and refused < FLOOD_TRIES:
        try:
            if address.peer_id not in host.get_connected_peers():
                await host.connect(address)
            stream = await host.new_stream(address.peer_id, list(GOSSIP_PROTOCOLS))
            writer = VarIntLengthMsgReadWriter(stream, max_msg_size=1 << 20)
            while sent < len(junk):
                batch = junk[sent : sent + FLOOD_BATCH]
                messages = []
                for n, data in enumerate(batch, sent):
                    message = rpc_pb2.Message(
                        data=data, topicIDs=[topic], from_id=me, seqno=n.to_bytes(8, "big")
                    )
                    signed = PUBSUB_SIGNING_PREFIX.encode() + message.SerializeToString()
                    message.signature, message.key = key.sign(signed), public
                    messages.append(message)
                await writer.write_msg(rpc_pb2.RPC(publish=messages).SerializeToString())
                sent += len(batch)
                refused = 0
        except Exception:
            # Cut off (banned): the writes fail; a persistent attacker dials again.
            refused += 1
            await trio.sleep(0.2)
        await trio.sleep(0)
    return sent


def _invalid(count: int) -> list[bytes]:
    """Messages that no decoder takes, all different (else gossipsub's
    seen-cache would drop them for free)."""
    return [b"\xff\x00 flood %d" % n for n in range(count)]


def _useless(s: Scenario, group: bytes, count: int) -> list[bytes]:
    """Valid events nobody needs: notes signed by a stranger."""
    stranger = signing_key("flooder's notes")
    return [
        note(s.now + n, key=stranger, group=group, net=s.net, text=f"ruido {n}").raw
        for n in range(count)
    ]


async def _flood(
    network: LocalNetwork,
    target: bytes,
    sibling: bytes,
    topics: set[str],
    api: str,
    junk: list[bytes],
    phase: str,
    s: Scenario,
) -> dict[str, Any]:
    """One flooder, a fresh identity, sends ``junk`` as fast as gossipsub
    takes it, and dials again whenever it is cut off; meanwhile the
    target's API is asked every 0.1 s and an honest sibling submits a note
    every second."""
    before = (await network.status(target))["counters"]
    host = make_host(signing_key(f"flooder {phase}"))
    flooder = Gossip(host, GossipConfig(), _relay_anything)
    address = info_from_p2p_addr(Multiaddr(network.runtime(target)["addrs"][0]))
    latencies: list[float] = []
    failures = 0
    honest: list[SignedEvent] = []
    sent = 0
    banned_at: float | None = None
    me = str(host.get_id())
    started = trio.current_time()

    async def ask_api(client: httpx.AsyncClient) -> None:
        """The target's status, every 0.1 s: how fast it answers, and when
        it lists the flooder as banned."""
        nonlocal failures, banned_at
        while True:
            began = trio.current_time()
            try:
                answer = await client.get(f"{api}/v1/status", timeout=5.0)
                answer.raise_for_status()
                latencies.append(trio.current_time() - began)
                bans = {ban["peer"] for ban in answer.json()["gate"]["banned"]}
                if banned_at is None and me in bans:
                    banned_at = trio.current_time()
            except httpx.HTTPError:
                failures += 1
            await trio.sleep(0.1)

    async def speak_honestly() -> None:
        while True:
            honest.append(note(s.tick(), key=signing_key("honest"), group=sibling, net=s.net))
            await network.submit(sibling, honest[-1])
            await trio.sleep(1.0)

    async with host.run([Multiaddr(LOOPBACK)]), httpx.AsyncClient() as client:
        async with trio.open_nursery() as nursery:
            await nursery.start(flooder.run)
            await flooder.join(topics)
            await host.connect(address)
            with trio.fail_after(30):
                while not any(flooder.peers(topic) for topic in topics):
                    await trio.sleep(0.05)
            nursery.start_soon(ask_api, client)
            nursery.start_soon(speak_honestly)
            sent = await _blast(host, address, sorted(topics)[0], junk)
            await trio.sleep(2.0)
            # Banned: whatever it tries, it stays cut off.
            with contextlib.suppress(Exception):
                await host.connect(address)
            await trio.sleep(1.0)
            cut_off = address.peer_id not in host.get_connected_peers()
            nursery.cancel_scope.cancel()
        await host.close()
    flood_s = trio.current_time() - started
    missing = 0
    with trio.move_on_after(30):
        await network.wait_held(honest, [target], timeout=30)
    for event in honest:
        missing += not await network.holds(target, event.id)
    after = (await network.status(target))["counters"]
    names = ("gossip_rejected", "gossip_stored", "gossip_refused")
    taken = {name: after[name] - before[name] for name in names}
    # The honest notes came by gossip too: they are not the flooder's.
    flooded_in = max(0, taken["gossip_stored"] - len(honest))
    read = taken["gossip_rejected"] + flooded_in + taken["gossip_refused"]
    return {
        "sent": sent,
        "rejected": taken["gossip_rejected"],
        "stored": flooded_in,
        "refused_after_ban": taken["gossip_refused"],
        "dropped_unread": max(0, sent - read),
        "seconds_to_ban": None if banned_at is None else round(banned_at - started, 2),
        "disconnected": cut_off and banned_at is not None,
        "seconds_flooding": round(flood_s, 1),
        "api_requests": len(latencies) + failures,
        "api_failures": failures,
        "api_p50_ms": round(1000 * statistics.median(latencies), 1) if latencies else None,
        "api_max_ms": round(1000 * max(latencies), 1) if latencies else None,
        "honest_events": len(honest),
        "honest_missing": missing,
    }


# -- churn --


def churn(*, full: bool, seed: int = 1) -> dict[str, Any]:
    """Nodes leaving (SIGTERM or SIGKILL) and coming back, continually, for
    three minutes at full size (30 s in CI), while events are submitted."""
    return trio.run(_churn, 180.0 if full else 30.0, seed)


async def _churn(duration: float, seed: int) -> dict[str, Any]:
    rng = random.Random(seed)
    s = Scenario(root_level=3)
    tree = build_tree(s, fanout=2, size=3)
    net = s.net
    everyone = list(tree.levels)
    churning = [g for g in everyone if g != net]
    acknowledged: list[SignedEvent] = []
    figures = {"restarts": 0, "killed": 0, "stopped": 0, "submits_failed": 0}
    with tempfile.TemporaryDirectory(prefix="ayllu-churn-") as tmp:
        network = LocalNetwork(Path(tmp), s, tree, sync_interval_s=SYNC_S)
        try:
            await network.prepare()
            order = [net, *churning]
            started_processes = await _start(network, [([g], []) for g in order])
            processes = dict(zip(order, started_processes, strict=True))
            live = set(everyone)

            async def speak() -> None:
                """A note to the whole network every half second, at a
                random live node; acknowledged once it answers."""
                while True:
                    group = rng.choice(sorted(live))
                    event = note(s.tick(), key=signing_key("churn"), group=net, net=net)
                    try:
                        await network.submit(group, event)
                        acknowledged.append(event)
                    except Exception:
                        figures["submits_failed"] += 1  # it was leaving: not acknowledged
                    await trio.sleep(0.5)

            began = trio.current_time()
            async with trio.open_nursery() as nursery:
                nursery.start_soon(speak)
                while trio.current_time() - began < duration:
                    group = rng.choice(churning)
                    process = processes[group]
                    live.discard(group)
                    if rng.random() < 0.5:
                        process.popen.kill()
                        process.popen.wait()
                        network.loopback.processes.remove(process)
                        figures["killed"] += 1
                    else:
                        await network.stop(process)
                        figures["stopped"] += 1
                    await trio.sleep(rng.uniform(0.5, 4.0))
                    processes[group] = network.start([group])
                    await network.wait_up(processes[group], timeout=120)
                    live.add(group)
                    figures["restarts"] += 1
                    await trio.sleep(rng.uniform(0.5, 2.0))
                nursery.cancel_scope.cancel()
            settled_at = trio.current_time()
            await network.wait_held(acknowledged, everyone, timeout=300)
            converge_s = trio.current_time() - settled_at
            relinked_s = await _relinked(network, everyone, settled_at)
            lost = 0
            for group in everyone:
                for event in acknowledged:
                    lost += not await network.holds(group, event.id)
        finally:
            await network.close()
    return {
        "passed": lost == 0 and figures["restarts"] > 0,
        "criterion": "every acknowledged event is on every node once the churn stops, and "
        "every node's wanted links are up again",
        "nodes": len(everyone),
        "seconds_churning": duration,
        **figures,
        "events_acknowledged": len(acknowledged),
        "events_lost": lost,
        "seconds_to_converge": round(converge_s, 1),
        "seconds_to_relink": round(relinked_s, 1),
    }


async def _relinked(network: LocalNetwork, groups: list[bytes], since: float) -> float:
    """Until every node's wanted links with an address are connected; the
    seconds since ``since``. TimeoutError names the links still down."""
    down: list[str] = []
    with trio.move_on_after(120):
        while True:
            down = []
            for group in groups:
                links = (await network.status(group))["links"]
                down += [
                    f"{network.dirs[group].root.name}->{link['peer_id'][-6:]}: {link['state']} "
                    f"{link.get('last_error', '')}"
                    for link in links
                    if link["state"] not in ("connected", "no-address")
                ]
            if not down:
                return trio.current_time() - since
            await trio.sleep(0.5)
    raise TimeoutError(f"links still down: {down}")


SCENARIOS = {"partition_heal": partition_heal, "floods": floods, "churn": churn}
