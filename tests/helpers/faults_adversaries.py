"""Adversaries of the hostile-conditions suite (issue 9): each scenario puts
the network against someone or something that works against it, and
measures whether the network still does its job.

- ``split_reconcile``: two stores split at random (1 % only in one, 1 %
  only in the other, 98 % in both) converge in one sync session of
  node/sync.py over a real libp2p connection, exchanging bytes in
  proportion to their differences, not to their size;
- ``equivocation``: a counting group's counter signs two different counts
  and a summing group's counter two different sums, each pair handed to
  two different nodes of a running network; every node that syncs the
  liar's group ends up holding the evidence (the others can only hear of
  it by gossip, and are counted apart);
- ``censoring_parent``: parents that drop, delay or reorder everything
  they should relay (tests/helpers/censoring_node.py) cannot keep their
  children's events from the rest of the network, and the sums that they
  forge are caught at the root's node.

Each scenario is ``name(*, full, seed) -> figures``: ``full`` is the
issue's size (``python bench/faults.py``), otherwise CI's
(tests/faults/test_adversaries.py). The figures are JSON-ready, with
``passed`` and the ``criterion`` in words.
"""

from __future__ import annotations

import hashlib
import random
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import multiaddr
import trio
from ballot_factory import cast, count_result, freeze_ring, open_ballot, sum_result
from censoring_node import MODES
from event_factory import GENESIS, NOW_MS, note, signing_key
from folding import fold
from libp2p import new_host
from libp2p.crypto.ed25519 import create_new_key_pair
from libp2p.peer.peerinfo import info_from_p2p_addr
from local_network import LocalNetwork
from network_factory import DAY_MS, Scenario, Tree, build_tree, key_of

from node.ingest import ingest_raw
from node.loopback import NodeFailed
from node.sync import SyncService, wall_clock_ms
from protocol.event import SignedEvent
from protocol.groups import Groups
from protocol.sync_frames import MAX_SCOPE
from protocol.topics import sync_scope
from storage.interface import MAX_LIMIT, Key
from storage.state import NetworkStore, open_network_store

Figures = dict[str, Any]

# -- split_reconcile --

#: The project's goal for a sync session's bytes over the differences' bytes
#: (README, "Benchmarks").
BYTES_RATIO_GOAL = 3.0
LOOPBACK = multiaddr.Multiaddr("/ip4/127.0.0.1/tcp/0")
_AUTHORS = [signing_key(f"split author {i}") for i in range(32)]
_GROUPS = [hashlib.sha256(b"split group %d" % i).digest() for i in range(25)]


def split_reconcile(*, full: bool, seed: int = 1) -> Figures:
    """20,000 events (CI: 2,000) split 1 % / 1 % / 98 % at random between
    the stores of A and B; A opens one sync session with B. Passes when
    both then hold the same ids (a hash of them sorted) and the session's
    bytes are at most 3 times the bytes of the differing events."""
    total = 20_000 if full else 2_000
    with tempfile.TemporaryDirectory(prefix="ayllu-split-") as directory:
        figures: Figures = trio.run(_split_reconcile, Path(directory), total, seed)
    figures["passed"] = figures["hashes_equal"] and figures["bytes_ratio"] <= BYTES_RATIO_GOAL
    figures["criterion"] = (
        "after one sync session, both stores hold the same ids (equal hashes of the "
        f"sorted ids) and bytes exchanged / bytes of the differing events <= {BYTES_RATIO_GOAL}"
    )
    return figures


def split_events(total: int, seed: int) -> tuple[list[SignedEvent], ...]:
    """``total`` notes, about a second apart, of 32 authors in 25 groups,
    dealt at random: (only A's, only B's, both's), 1 %, 1 % and the rest."""
    rnd = random.Random(seed)
    start = NOW_MS - total * 1000
    events = [
        note(
            start + i * 1000 + rnd.randrange(1000),
            key=_AUTHORS[i % len(_AUTHORS)],
            group=_GROUPS[i % len(_GROUPS)],
            text=f"acta {seed}.{i}: la asamblea acordó reunirse el jueves.",
        )
        for i in range(total)
    ]
    rnd.shuffle(events)
    differ = total // 100
    return events[:differ], events[differ : 2 * differ], events[2 * differ :]


async def _split_reconcile(directory: Path, total: int, seed: int) -> Figures:
    only_a, only_b, both = split_events(total, seed)
    async with AsyncExitStack() as stack:
        stores = []
        for name, own in (("a", only_a), ("b", only_b)):
            store = await stack.enter_async_context(
                open_network_store(directory / f"{name}.sqlite3", GENESIS)
            )
            await ingest_raw(store, [e.raw for e in both + own], NOW_MS, GENESIS.network_id)
            stores.append(store)
        services = [SyncService(store, now_ms=lambda: NOW_MS) for store in stores]
        hosts = [new_host(key_pair=create_new_key_pair(bytes([n + 1]) * 32)) for n in range(2)]
        for service in services:
            await service.prepare()  # as a running node does when it starts
        services[1].attach(hosts[1])
        for host in hosts:
            await stack.enter_async_context(host.run([LOOPBACK]))
        await hosts[0].connect(info_from_p2p_addr(hosts[1].get_addrs()[0]))
        started = time.perf_counter()
        report = await services[0].sync_with(hosts[0], hosts[1].get_id())
        seconds = time.perf_counter() - started
        again = await services[0].sync_with(hosts[0], hosts[1].get_id())
        hashes = [await ids_hash(store) for store in stores]
        for host in hosts:
            await host.close()
    differing = sum(len(e.raw) for e in only_a + only_b)
    exchanged = report.bytes_sent + report.bytes_received
    return {
        "events": total,
        "only_a": len(only_a),
        "only_b": len(only_b),
        "need": report.need,
        "have": report.have,
        "rounds": report.rounds,
        "seconds": round(seconds, 3),
        "bytes": exchanged,
        "differing_bytes": differing,
        "bytes_ratio": round(exchanged / differing, 3),
        "hash_a": hashes[0],
        "hash_b": hashes[1],
        "hashes_equal": hashes[0] == hashes[1],
        "second_session": {"need": again.need, "have": again.have, "rounds": again.rounds},
    }


async def ids_hash(store: NetworkStore) -> str:
    """SHA-256 of every id the store holds, sorted bytewise, concatenated."""
    ids: list[bytes] = []
    after: Key | None = None
    while page := await store.events.query(after=after, limit=MAX_LIMIT):
        ids.extend(row.id for row in page)
        after = page[-1].key
    return hashlib.sha256(b"".join(sorted(ids))).hexdigest()


# -- networks of node processes --

#: Node processes serving the groups other than the root's (and the
#: censors'), at each size: 2 cores run a few processes of many nodes best.
PROCESSES = {False: 1, True: 3}
#: The command line of a censoring parent (tests/helpers/censoring_node.py).
CENSOR = (sys.executable, str(Path(__file__).with_name("censoring_node.py")))


def ballot_for(
    s: Scenario, tree: Tree, counting: Sequence[bytes]
) -> tuple[SignedEvent, dict[bytes, SignedEvent]]:
    """A proposal to the root with the support it needs (one member in five,
    the default support_pct 20), a ballot on it counted in the base groups,
    and the rings of ``counting``: signed before the network starts, so that
    every store begins with them."""
    net = s.net
    bases = [base for parent in tree.children[net] for base in tree.children[parent]]
    proposal = s.propose(tree.members[bases[0]][1], net, title="Yaku", text="Yakuta waqaychasun.")
    people = sum(len(members) for members in tree.members.values())
    for base in bases[: -(-people // 5)]:
        s.support(tree.members[base][0], proposal)
    ballot = open_ballot(s, s.founder, net, counting_level=1, proposal=proposal.id)
    rings = {
        group: freeze_ring(s, tree.actors[group], ballot, group, map(key_of, tree.members[group]))
        for group in counting
    }
    return ballot, rings


async def start_network(
    network: LocalNetwork,
    processes: int,
    censors: Mapping[bytes, str] | None = None,
    delay_s: float = 0.0,
) -> float:
    """The root's node alone (everyone bootstraps from it), then the nodes
    of ``censors`` in a process of their own, each censoring in its mode
    (censoring_node.py), then the others in ``processes`` processes;
    seconds until all are up."""
    started = trio.current_time()
    net = network.scenario.net
    await network.wait_up(network.start([net]))
    censors = censors or {}
    if censors:
        boot = ["--bootstrap", network.runtime(net)["addrs"][0], "--delay", str(delay_s)]
        modes = [arg for mode in censors.values() for arg in ("--mode", mode)]
        dirs = [network.dirs[group] for group in censors]
        await network.wait_up(network.loopback.spawn(CENSOR, dirs, [*boot, *modes]))
    rest = [g for g in sorted(network.tree.levels) if g != net and g not in censors]
    share = -(-len(rest) // processes)
    others = [network.start(rest[at : at + share]) for at in range(0, len(rest), share)]
    for process in others:
        await network.wait_up(process)
    return trio.current_time() - started


async def warm_up(network: LocalNetwork, at: bytes, timeout: float) -> float:
    """A proposal made at the node of ``at`` reaches every node: the nodes
    have found each other (peer records) and linked; seconds taken."""
    s, tree = network.scenario, network.tree
    author = tree.members[max(tree.members)][-1]
    proposal = s.propose(author, s.net, title="Tinkuy", text="Tinkusun.")
    await network.submit(at, proposal)
    return await network.wait_held([proposal], sorted(network.tree.levels), timeout)


async def post(network: LocalNetwork, group: bytes, event: SignedEvent) -> str:
    """Hand ``event`` to the node of ``group``: ``accepted``, ``duplicate``
    or ``refused`` (a refused event is stored, and travels like any other:
    a lie is kept as evidence). NodeFailed if it is rejected."""
    response = await network.client.post(
        f"{network.api(group)}/v1/events",
        content=event.raw,
        headers={"content-type": "application/cbor"},
    )
    if response.status_code not in (200, 201, 202):
        raise NodeFailed(f"{event.kind} rejected: {response.text}")
    status: str = response.json()["status"]
    return status


async def outcome_at(network: LocalNetwork, group: bytes, ballot: SignedEvent) -> dict[str, Any]:
    """The ballot's outcome (``GET /v1/ballots/{id}``) at the node of
    ``group``; empty while that node does not know the ballot."""
    response = await network.client.get(f"{network.api(group)}/v1/ballots/{ballot.id.hex()}")
    if response.status_code != 200:
        return {}
    outcome: dict[str, Any] = response.json()["outcome"]
    return outcome


def evidence_about(outcome: dict[str, Any], group: bytes) -> list[dict[str, Any]]:
    return [piece for piece in outcome.get("evidence", []) if piece["group"] == group.hex()]


# -- equivocation --


def equivocation(*, full: bool, seed: int = 1) -> Figures:
    """A network of 31 nodes (CI: 7) in 3 levels. The counter of a base
    group signs its true count and a false one, stamped first; the counter
    of a group above signs a true sum and a false one; each pair is handed
    to two different nodes (``seed`` chooses the groups). Passes when every
    node that syncs the liar's group (its own, its siblings', its
    ancestors': those that recount, sum or audit its results) reports, in
    ``GET /v1/ballots/{id}``, evidence against it within the bound. The
    others can learn of it by gossip only, and are counted apart."""
    fanout, timeout = (5, 120.0) if full else (2, 60.0)
    with tempfile.TemporaryDirectory(prefix="ayllu-equivocation-") as directory:
        figures: Figures = trio.run(
            _equivocation, Path(directory), fanout, PROCESSES[full], timeout, seed
        )
    figures["passed"] = (
        all(
            figures[what]["evidence_at_syncing"] == figures[what]["syncing_nodes"]
            for what in ("count", "sum")
        )
        and figures["true_count_applied"] == figures["nodes"]
    )
    figures["criterion"] = (
        "every node that syncs the group of a counter that signed two different counts, "
        "or of one that signed two different sums, reports evidence against it within "
        f"{timeout:.0f} s; and every node ends up applying the true count (those that did not "
        "hold the votes fetch them and recount)"
    )
    return figures


async def _equivocation(
    directory: Path, fanout: int, processes: int, timeout: float, seed: int
) -> Figures:
    # Stamped as a live network's events are: its story in the days
    # before, a ballot closed a day ago, and its results now, so that
    # results that come by sync are gossiped on while fresh (node/runtime.py).
    s = Scenario(root_level=3, now=wall_clock_ms() - 3 * DAY_MS)
    tree = build_tree(s, fanout=fanout, size=3)
    rnd = random.Random(seed)
    first, second = rnd.sample(tree.children[s.net], 2)
    liar, far = rnd.choice(tree.children[first]), rnd.choice(tree.children[second])
    ballot, rings = ballot_for(s, tree, [liar, *tree.children[second]])
    network = LocalNetwork(directory, s, tree)
    everyone = sorted(tree.levels)
    try:
        await network.prepare()
        startup_s = await start_network(network, processes)
        warm_up_s = await warm_up(network, far, timeout)

        s.now = ballot.event.body["opens"]
        votes = [
            cast(s, rings[liar], person, [i % 2]) for i, person in enumerate(tree.members[liar])
        ]
        s.now = wall_clock_ms()
        actor = tree.actors[liar]
        true_count = count_result(s, actor, ballot, rings[liar], votes, ts=s.now + 1000)
        lie = true_count.event.body["counts"][::-1]
        # The lie sorts first: a node that cannot recount applies it, and
        # must refuse the true count as the second of two.
        false_count = count_result(s, actor, ballot, rings[liar], votes, counts=lie, ts=s.now)
        parts = [
            count_result(s, tree.actors[b], ballot, rings[b], []) for b in tree.children[second]
        ]
        true_sum = sum_result(s, tree.actors[second], ballot, second, parts)
        false_sum = sum_result(s, tree.actors[second], ballot, second, parts, counts=[1, 0])

        for vote in votes:
            await network.submit(liar, vote)
        for part in parts:
            await network.submit(part.group, part)
        await network.submit(liar, true_count)
        statuses = {"false_count": await post(network, far, false_count)}
        counts_at = trio.current_time()
        await network.wait_held(parts, [second, s.net], timeout)
        statuses["true_sum"] = await post(network, second, true_sum)
        statuses["false_sum"] = await post(network, s.net, false_sum)
        sums_at = trio.current_time()

        groups = fold(s).state.groups
        syncing = {g: syncing_nodes(groups, everyone, g) for g in (liar, second)}
        wanted = {(node, g) for g, nodes in syncing.items() for node in nodes}
        others = {(node, g) for g in syncing for node in everyone} - wanted
        seen = await wait_evidence(
            network, ballot, wanted, others, timeout, grace=3 * network.sync_interval_s
        )
        held_both = 0
        for node in everyone:
            held_both += all([await network.holds(node, e.id) for e in (true_count, false_count)])
        recounted, recount_s = await wait_recounted(
            network, ballot, liar, true_count, everyone, timeout
        )
    finally:
        await network.close()
    figures: Figures = {"nodes": len(everyone), "processes": processes + 1}
    for what, group, since in (("count", liar, counts_at), ("sum", second, sums_at)):
        found = {node: seen[node, group] for node in everyone if (node, group) in seen}
        kinds: dict[str, int] = {}
        for _, pieces in found.values():
            for kind in {piece["kind"] for piece in pieces}:
                kinds[kind] = kinds.get(kind, 0) + 1
        figures[what] = {
            "syncing_nodes": len(syncing[group]),
            "evidence_at_syncing": len(set(found) & set(syncing[group])),
            "evidence_at_all": len(found),
            "kinds": kinds,
            "seconds": round(max((t for t, _ in found.values()), default=since) - since, 2),
        }
    return {
        **figures,
        "held_both_counts": held_both,
        "true_count_applied": recounted,
        "true_count_applied_s": round(recount_s, 2),
        "submitted": statuses,
        "startup_s": round(startup_s, 2),
        "warm_up_s": round(warm_up_s, 2),
    }


async def wait_recounted(
    network: LocalNetwork,
    ballot: SignedEvent,
    group: bytes,
    count: SignedEvent,
    nodes: Sequence[bytes],
    timeout: float,
) -> tuple[int, float]:
    """Until every node applies ``count`` as ``group``'s result (a node
    that held the votes recounted at once; one that did not fetches them,
    its sync scope widened by the evidence, node/runtime.py); how many
    nodes did, and seconds until the last did."""
    started = trio.current_time()
    done: set[bytes] = set()
    url = f"/v1/ballots/{ballot.id.hex()}"
    with trio.move_on_after(timeout):
        while len(done) < len(nodes):
            for node in set(nodes) - done:
                outcome = (await network.loopback.get(network.dirs[node], url))["outcome"]
                result = outcome["results"].get(group.hex())
                if result is not None and result["id"] == count.id.hex():
                    done.add(node)
            await trio.sleep(0.2)
    return len(done), trio.current_time() - started


def syncing_nodes(groups: Groups, nodes: Sequence[bytes], group: bytes) -> list[bytes]:
    """The nodes (named by the one group each serves) whose sync scope
    covers ``group`` (protocol/topics.py ``sync_scope``)."""
    found = []
    for node in nodes:
        scope = sync_scope(groups, [node], MAX_SCOPE)
        if scope is None or group in scope:
            found.append(node)
    return found


async def wait_evidence(
    network: LocalNetwork,
    ballot: SignedEvent,
    wanted: set[tuple[bytes, bytes]],
    also: set[tuple[bytes, bytes]],
    timeout: float,
    *,
    grace: float,
) -> dict[tuple[bytes, bytes], tuple[float, list[dict[str, Any]]]]:
    """Poll the nodes until each (node, group) of ``wanted`` reports
    evidence about the group in the ballot's outcome, or ``timeout``; and
    those of ``also`` until then, or ``grace`` seconds more. For each pair
    found: when (trio clock), and the pieces."""
    seen: dict[tuple[bytes, bytes], tuple[float, list[dict[str, Any]]]] = {}
    deadline = trio.current_time() + timeout
    while (pending := (wanted | also) - set(seen)) and trio.current_time() < deadline:
        for node in sorted({node for node, _ in pending}):
            outcome = await outcome_at(network, node, ballot)
            for group in {group for n, group in pending if n == node}:
                if pieces := evidence_about(outcome, group):
                    seen[node, group] = (trio.current_time(), pieces)
        if not wanted - set(seen):
            deadline = min(deadline, trio.current_time() + grace)
        await trio.sleep(0.2)
    return seen


# -- censoring_parent --


def censoring_parent(*, full: bool, seed: int = 1) -> Figures:
    """A network of 31 nodes (CI: 13) in 3 levels, where three parents
    censor: one drops, one delays (by the whole time bound), one reorders
    everything it should carry for others. A child of each (``seed``
    chooses them) makes a proposal to the root, votes and publishes its
    count; its siblings publish theirs; the censor then publishes a sum of
    them that does not add up. Everything is stamped in the past, so that
    only sync carries what comes by sync (nothing of it is fresh enough to
    gossip on). Passes when, for every mode, the child's proposal reaches
    every honest node, and its votes and count every honest node that
    syncs its group (the root's, its siblings'), within the bound; and the
    root's node holds evidence against the false sum, which no honest node
    applies."""
    fanout, timeout = (5, 60.0) if full else (3, 45.0)
    with tempfile.TemporaryDirectory(prefix="ayllu-censoring-") as directory:
        figures: Figures = trio.run(
            _censoring_parent, Path(directory), fanout, PROCESSES[full], timeout, seed
        )
    figures["passed"] = all(
        mode["reached"] == mode["wanted"] and mode["evidence_at_root"] and not mode["applied_at"]
        for mode in figures["modes"].values()
    )
    figures["criterion"] = (
        "for a parent that drops, one that delays and one that reorders what it should relay: "
        "every event of its child reaches every honest node that holds such events (a "
        "proposal to the root: all; votes and counts: the root's node and the siblings') "
        f"within {timeout:.0f} s, and the root's node records evidence against the "
        "parent's false sum within that bound, which no honest node applies"
    )
    return figures


@dataclass
class ChildActs:
    """What a censor's child does, its siblings' counts, and the censor's
    false sum of them."""

    child: bytes
    proposal: SignedEvent
    votes: list[SignedEvent]
    counts: dict[bytes, SignedEvent]
    false_sum: SignedEvent

    @property
    def events(self) -> list[SignedEvent]:
        """The child's own events."""
        return [self.proposal, *self.votes, self.counts[self.child]]


async def _censoring_parent(
    directory: Path, fanout: int, processes: int, timeout: float, seed: int
) -> Figures:
    s = Scenario(root_level=3)
    tree = build_tree(s, fanout=fanout, size=3)
    rnd = random.Random(seed)
    censors = dict(zip(rnd.sample(tree.children[s.net], len(MODES)), MODES, strict=True))
    children = {parent: rnd.choice(tree.children[parent]) for parent in censors}
    counted = [b for parent in censors for b in tree.children[parent]]
    ballot, rings = ballot_for(s, tree, counted)
    network = LocalNetwork(directory, s, tree)
    everyone = sorted(tree.levels)
    honest = [g for g in everyone if g not in censors]
    figures: dict[str, Figures] = {}
    try:
        await network.prepare()
        startup_s = await start_network(network, processes, censors, delay_s=timeout)
        warm_up_s = await warm_up(network, s.net, timeout)
        acts = {p: child_acts(s, tree, ballot, rings, p, children[p]) for p in censors}
        async with trio.open_nursery() as nursery:
            for parent in censors:
                nursery.start_soon(
                    _censored_child, network, ballot, parent, acts[parent], honest, timeout, figures
                )
        for parent in censors:
            counters = (await network.status(parent))["counters"]
            figures[parent.hex()]["censor_took_in"] = (
                counters["gossip_stored"] + counters["sync_stored"]
            )
            figures[parent.hex()]["censor_published"] = counters["published"]
    finally:
        await network.close()
    return {
        "nodes": len(everyone),
        "processes": processes + 2,
        "delay_s": timeout,
        "modes": {mode: figures[parent.hex()] for parent, mode in censors.items()},
        "startup_s": round(startup_s, 2),
        "warm_up_s": round(warm_up_s, 2),
    }


def child_acts(
    s: Scenario,
    tree: Tree,
    ballot: SignedEvent,
    rings: dict[bytes, SignedEvent],
    parent: bytes,
    child: bytes,
) -> ChildActs:
    """The acts of ``child``, each stamped in its time (a proposal, votes
    while the ballot is open, a count after it closed), its siblings'
    counts (no votes), and ``parent``'s sum of them, plus one to every
    option."""
    members = tree.members[child]
    proposal = s.propose(members[0], s.net, title="Ñan", text="Musuq ñanta ruwasun.")
    body = ballot.event.body
    at = body["opens"] + len(s.events) * 1000  # the ballot lasts a day: room for all
    votes = [cast(s, rings[child], person, [i % 2], ts=at + i) for i, person in enumerate(members)]
    counts = {
        group: count_result(
            s,
            tree.actors[group],
            ballot,
            rings[group],
            votes if group == child else [],
            ts=body["closes"] + len(s.events) * 1000,
        )
        for group in tree.children[parent]
    }
    parts = list(counts.values())
    lie = [sum(part.event.body["counts"][i] for part in parts) + 1 for i in range(2)]
    s.now = max(s.now, body["closes"] + len(s.events) * 1000)
    false_sum = sum_result(s, tree.actors[parent], ballot, parent, parts, counts=lie)
    return ChildActs(child, proposal, votes, counts, false_sum)


async def _censored_child(
    network: LocalNetwork,
    ballot: SignedEvent,
    parent: bytes,
    acts: ChildActs,
    honest: list[bytes],
    timeout: float,
    figures: dict[str, Figures],
) -> None:
    """The child acts, its siblings publish their counts, the censoring
    parent publishes a false sum; how far and how fast they went."""
    net = network.scenario.net
    siblings = [g for g in acts.counts if g != acts.child]
    sent_at = trio.current_time()
    for event in acts.events:
        await network.submit(acts.child, event)
    for sibling in siblings:
        await network.submit(sibling, acts.counts[sibling])
    local = [net, *siblings]  # the honest nodes that sync the child's group
    wanted = [(network.dirs[g], acts.proposal.id) for g in honest if g != acts.child]
    wanted += [(network.dirs[g], e.id) for g in local for e in acts.events[1:]]
    missing = ""
    try:
        await network.loopback.wait_held(wanted, timeout)
    except TimeoutError as exc:
        missing = str(exc)
    reach_s = trio.current_time() - sent_at
    reached = sum([await network.loopback.holds(d, event_id) for d, event_id in wanted])

    await network.wait_held(list(acts.counts.values()), [parent], timeout)
    forged_at = trio.current_time()
    status = await post(network, parent, acts.false_sum)
    evidence_s: float | None = None
    with trio.move_on_after(timeout):
        while evidence_s is None:
            pieces = evidence_about(await outcome_at(network, net, ballot), parent)
            if any(acts.false_sum.id.hex() in piece["events"] for piece in pieces):
                evidence_s = trio.current_time() - forged_at
            else:
                await trio.sleep(0.2)
    applied_at = []
    for group in honest:
        result = (await outcome_at(network, group, ballot)).get("results", {}).get(parent.hex())
        if result is not None and result["id"] == acts.false_sum.id.hex():
            applied_at.append(network.dirs[group].root.name)
    figures[parent.hex()] = {
        "child_events": len(acts.events),
        "wanted": len(wanted),
        "reached": reached,
        "reach_s": round(reach_s, 2),
        "missing": missing,
        "false_sum_at_parent": status,
        "evidence_at_root": evidence_s is not None,
        "evidence_s": None if evidence_s is None else round(evidence_s, 2),
        "applied_at": applied_at,
    }


SCENARIOS: dict[str, Callable[..., Figures]] = {
    "split_reconcile": split_reconcile,
    "equivocation": equivocation,
    "censoring_parent": censoring_parent,
}
