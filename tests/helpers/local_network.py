"""A fractal of real node processes on loopback, for acceptance tests and
benchmarks: data directories made from a scenario, ``ayllu run`` processes
serving several nodes each (node/loopback.py), and the nodes' HTTP APIs to
act and observe.

The root's node is started first and every other process bootstraps from
it. ``close`` terminates what is left, so a failing test leaves no process
behind.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import trio
from ballot_factory import cast, count_result, freeze_ring, open_ballot, sum_result
from nacl.signing import SigningKey
from network_factory import Scenario, Tree

from node.datadir import DataDir
from node.loopback import AYLLU, Loopback, NodeProcess, runtime_of
from protocol.event import SignedEvent
from protocol.keys import peer_id
from storage import IngestStatus
from storage.state import open_network_store

#: The command line of a malicious bootstrap peer (tests/helpers/lying_bootstrap.py).
LIAR = (sys.executable, str(Path(__file__).with_name("lying_bootstrap.py")))


@dataclass
class LocalNetwork:
    """Nodes for every group of ``tree``; one node key per group."""

    root: Path
    scenario: Scenario
    tree: Tree
    sync_interval_s: float = 3.0
    dirs: dict[bytes, DataDir] = field(default_factory=dict)
    keys: dict[bytes, SigningKey] = field(default_factory=dict)
    bootstrap_addrs: list[str] = field(default_factory=list)
    bootstrap_peer_ids: list[str] = field(default_factory=list)
    loopback: Loopback = field(init=False)

    def __post_init__(self) -> None:
        self.loopback = Loopback(self.root, self.sync_interval_s)

    @property
    def client(self) -> httpx.AsyncClient:
        return self.loopback.client

    async def prepare(self) -> None:
        """Make a data directory per group, name each its group's node, and
        give every store the network's governance events."""
        s = self.scenario
        for n, group in enumerate(sorted(self.tree.levels, key=self._order)):
            data_dir = DataDir(self.root / f"node-{n:02d}")
            self.keys[group] = await data_dir.initialize(s.genesis)
            self.dirs[group] = data_dir
        for group, key in self.keys.items():
            s.name_nodes(self.tree.actors[group], group, [bytes(key.verify_key)])
        for data_dir in self.dirs.values():
            async with open_network_store(data_dir.store_path, s.genesis) as store:
                results = await store.ingest(s.events, s.now)
                assert {r.status for r in results} == {IngestStatus.ACCEPTED}

    def _order(self, group: bytes) -> tuple[int, bytes]:
        return (-self.tree.levels[group], group)

    def start(self, groups: Sequence[bytes], *extra: str) -> NodeProcess:
        """One ``ayllu run`` process serving the nodes of ``groups``; they
        bootstrap from the bootstrap peers if any were started, else from
        the root's node."""
        if self.bootstrap_addrs:
            boot = self.bootstrap_addrs
        elif self.scenario.net not in groups:
            boot = [self.runtime(self.scenario.net)["addrs"][0]]
        else:
            boot = []
        return self.loopback.run([self.dirs[g] for g in groups], boot, *extra)

    async def start_bootstraps(
        self, count: int, *extra: str, program: Sequence[str] = ()
    ) -> list[NodeProcess]:
        """``count`` bootstrap peers (``ayllu bootstrap run``, or ``program``
        with its options), one process each, with empty stores: archives
        fill themselves from the nodes."""
        started: list[NodeProcess] = []
        for _ in range(count):
            data_dir = DataDir(self.root / f"bootstrap-{len(self.bootstrap_addrs) + len(started)}")
            await data_dir.initialize(self.scenario.genesis)
            command = program or (*AYLLU, "bootstrap", "run")
            started.append(self.loopback.spawn(command, [data_dir], list(extra)))
        for process in started:
            await self.wait_up(process)
            runtime = runtime_of(process.dirs[0])
            self.bootstrap_addrs.append(runtime["addrs"][0])
            self.bootstrap_peer_ids.append(runtime["peer_id"])
        return started

    async def wait_up(self, process: NodeProcess, timeout: float = 60.0) -> None:
        await self.loopback.wait_up(process, timeout)

    async def stop(self, process: NodeProcess) -> int:
        return await self.loopback.stop(process)

    async def close(self) -> None:
        await self.loopback.close()

    # -- through the API --

    def runtime(self, group: bytes) -> dict[str, Any]:
        return runtime_of(self.dirs[group])

    def peer_id(self, group: bytes) -> str:
        return peer_id(bytes(self.keys[group].verify_key))

    def api(self, group: bytes) -> str:
        return str(self.runtime(group)["api"])

    async def status(self, group: bytes) -> dict[str, Any]:
        return await self.status_of(self.dirs[group])

    async def status_of(self, data_dir: DataDir) -> dict[str, Any]:
        document: dict[str, Any] = await self.loopback.get(data_dir, "/v1/status")
        return document

    async def submit(self, group: bytes, event: SignedEvent) -> dict[str, Any]:
        return await self.loopback.submit(self.dirs[group], event.raw)

    async def holds(self, group: bytes, event_id: bytes) -> bool:
        return await self.loopback.holds(self.dirs[group], event_id)

    async def holds_at(self, data_dir: DataDir, event_id: bytes) -> bool:
        return await self.loopback.holds(data_dir, event_id)

    async def wait_applied(
        self, ballot: SignedEvent, results: Iterable[SignedEvent], group: bytes
    ) -> None:
        """Wait until the node of ``group`` has applied ``results`` of ``ballot``."""
        await self.loopback.wait_applied(self.dirs[group], ballot.id, [r.id for r in results])

    async def wait_held(
        self, events: Iterable[SignedEvent], groups: Iterable[bytes], timeout: float = 60.0
    ) -> float:
        """Wait until every node of ``groups`` holds every event; seconds taken."""
        wanted = [(self.dirs[g], e.id) for g in groups for e in events]
        try:
            return await self.loopback.wait_held(wanted, timeout)
        except TimeoutError as exc:
            raise AssertionError(str(exc)) from None


@dataclass
class BallotRun:
    """A ballot carried out over a running 3-level network, and when its
    results were submitted (trio clock)."""

    ballot: SignedEvent
    counts: dict[bytes, SignedEvent]
    sums: dict[bytes, SignedEvent]
    top: SignedEvent
    last_count_at: float
    top_at: float


async def run_ballot(network: LocalNetwork, proposal: SignedEvent) -> BallotRun:
    """A ballot on ``proposal`` as its people would carry it out, each act
    at the node of the actor's group once that node holds what the act
    refers to: support by one in five (enough for a ballot), the ballot
    opened at the root, each base group's ring and votes (alternating
    choices) and count at its node, each parent's sum, then the root's."""
    s, tree, net = network.scenario, network.tree, network.scenario.net
    parents = tree.children[net]
    bases = [base for parent in parents for base in tree.children[parent]]
    # One member in five (the default support_pct 20), one per base group.
    people = sum(len(members) for members in tree.members.values())
    supports = []
    for base in bases[: -(-people // 5)]:
        supports.append(s.support(tree.members[base][0], proposal))
        await network.submit(base, supports[-1])
    await network.wait_held(supports, [net])
    ballot = open_ballot(s, s.founder, net, counting_level=1, proposal=proposal.id)
    await network.submit(net, ballot)
    await network.wait_held([ballot], bases)
    rings = {
        base: freeze_ring(
            s, tree.actors[base], ballot, base, [bytes(k.verify_key) for k in tree.members[base]]
        )
        for base in bases
    }
    s.now = ballot.event.body["opens"]
    votes: dict[bytes, list[SignedEvent]] = {}
    for number, base in enumerate(bases):
        await network.submit(base, rings[base])
        votes[base] = [
            cast(s, rings[base], person, [(number + i) % 2])
            for i, person in enumerate(tree.members[base])
        ]
        for vote in votes[base]:
            await network.submit(base, vote)
    s.now = ballot.event.body["closes"] + 1
    counts = {b: count_result(s, tree.actors[b], ballot, rings[b], votes[b]) for b in bases}
    for base, count in counts.items():
        await network.submit(base, count)
    last_count_at = trio.current_time()
    sums = {}
    for parent in parents:
        parts = [counts[b] for b in tree.children[parent]]
        await network.wait_applied(ballot, parts, parent)
        sums[parent] = sum_result(s, tree.actors[parent], ballot, parent, parts)
        await network.submit(parent, sums[parent])
    await network.wait_applied(ballot, list(sums.values()), net)
    top = sum_result(s, s.founder, ballot, net, list(sums.values()))
    await network.submit(net, top)
    return BallotRun(ballot, counts, sums, top, last_count_at, trio.current_time())
