"""A fractal of real node processes on loopback, for acceptance tests and
benchmarks: data directories made from a scenario, ``ayllu run`` processes
serving several nodes each, and the nodes' HTTP APIs to act and observe.

Every process is started with ``--listen /ip4/127.0.0.1/tcp/0`` and
``--api 127.0.0.1:0`` and announces where it is in each node's
``node.json``; the root's node is started first and every other process
bootstraps from it. ``close`` terminates what is left (SIGTERM, then
SIGKILL after a grace period), so a failing test leaves no process behind.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
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
from protocol.event import SignedEvent
from protocol.keys import peer_id
from storage import IngestStatus
from storage.state import open_network_store

LOOPBACK = "/ip4/127.0.0.1/tcp/0"
#: The command line of ``ayllu``, in the test's own interpreter.
AYLLU = (sys.executable, "-c", "from node.cli import main; main()")
#: The command line of a malicious bootstrap peer (tests/helpers/lying_bootstrap.py).
LIAR = (sys.executable, str(Path(__file__).with_name("lying_bootstrap.py")))
#: Seconds a process gets to stop on SIGTERM before it is killed.
GRACE_S = 15.0


@dataclass
class NodeProcess:
    groups: list[bytes]
    dirs: list[DataDir]
    popen: subprocess.Popen[bytes]
    log: Path


@dataclass
class LocalNetwork:
    """Nodes for every group of ``tree``; one node key per group."""

    root: Path
    scenario: Scenario
    tree: Tree
    sync_interval_s: float = 3.0
    dirs: dict[bytes, DataDir] = field(default_factory=dict)
    keys: dict[bytes, SigningKey] = field(default_factory=dict)
    processes: list[NodeProcess] = field(default_factory=list)
    bootstrap_addrs: list[str] = field(default_factory=list)
    bootstrap_peer_ids: list[str] = field(default_factory=list)
    client: httpx.AsyncClient = field(default_factory=lambda: httpx.AsyncClient(timeout=30.0))

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
        dirs = [self.dirs[g] for g in groups]
        # No mDNS: the tests find peers through their bootstraps.
        flags = [*_flags("--bootstrap", boot), "--no-mdns", *extra]
        return self._spawn((*AYLLU, "run"), list(groups), dirs, flags)

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
            started.append(self._spawn(command, [], [data_dir], list(extra)))
        for process in started:
            await self.wait_up(process)
            runtime = _runtime_of(process.dirs[0])
            self.bootstrap_addrs.append(runtime["addrs"][0])
            self.bootstrap_peer_ids.append(runtime["peer_id"])
        return started

    def _spawn(
        self, command: Sequence[str], groups: list[bytes], dirs: list[DataDir], extra: list[str]
    ) -> NodeProcess:
        log = self.root / f"process-{len(self.processes)}.log"
        args = [
            *command,
            *_flags("--data-dir", [str(d.root) for d in dirs]),
            "--listen",
            LOOPBACK,
            "--api",
            "127.0.0.1:0",
            "--sync-interval",
            str(self.sync_interval_s),
            *extra,
        ]
        for data_dir in dirs:
            (data_dir.root / "node.json").unlink(missing_ok=True)
        with log.open("ab") as out:
            popen = subprocess.Popen(args, stdout=out, stderr=out, env=_env())
        process = NodeProcess(groups, dirs, popen, log)
        self.processes.append(process)
        return process

    async def wait_up(self, process: NodeProcess, timeout: float = 60.0) -> None:
        with trio.fail_after(timeout):
            while not all((d.root / "node.json").exists() for d in process.dirs):
                if process.popen.poll() is not None:
                    raise RuntimeError(f"node process exited: {process.log.read_text()[-3000:]}")
                await trio.sleep(0.1)

    async def stop(self, process: NodeProcess) -> int:
        """SIGTERM, and the exit status once it has stopped."""
        process.popen.send_signal(signal.SIGTERM)
        with trio.fail_after(GRACE_S):
            while process.popen.poll() is None:
                await trio.sleep(0.05)
        self.processes.remove(process)
        return process.popen.returncode

    async def close(self) -> None:
        for process in self.processes:
            if process.popen.poll() is None:
                process.popen.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                process.popen.wait(timeout=GRACE_S)
            except subprocess.TimeoutExpired:
                process.popen.kill()
                process.popen.wait()
        self.processes.clear()
        await self.client.aclose()

    # -- through the API --

    def runtime(self, group: bytes) -> dict[str, Any]:
        return _runtime_of(self.dirs[group])

    def peer_id(self, group: bytes) -> str:
        return peer_id(bytes(self.keys[group].verify_key))

    def api(self, group: bytes) -> str:
        return str(self.runtime(group)["api"])

    async def status(self, group: bytes) -> dict[str, Any]:
        return await self.status_of(self.dirs[group])

    async def status_of(self, data_dir: DataDir) -> dict[str, Any]:
        response = await self.client.get(f"{_runtime_of(data_dir)['api']}/v1/status")
        response.raise_for_status()
        document: dict[str, Any] = response.json()
        return document

    async def submit(self, group: bytes, event: SignedEvent) -> dict[str, Any]:
        response = await self.client.post(
            f"{self.api(group)}/v1/events",
            content=event.raw,
            headers={"content-type": "application/cbor"},
        )
        document: dict[str, Any] = response.json()
        where = self.dirs[group].root.name
        assert response.status_code in (200, 201), (where, event.kind, document)
        return document

    async def holds(self, group: bytes, event_id: bytes) -> bool:
        return await self.holds_at(self.dirs[group], event_id)

    async def holds_at(self, data_dir: DataDir, event_id: bytes) -> bool:
        api = _runtime_of(data_dir)["api"]
        response = await self.client.get(f"{api}/v1/events/{event_id.hex()}")
        return response.status_code == 200

    async def wait_applied(
        self, ballot: SignedEvent, results: Iterable[SignedEvent], group: bytes
    ) -> None:
        """Wait until the node of ``group`` has applied ``results`` of
        ``ballot``: held is not enough, since a node judges a count against
        the votes it holds, and refuses it until the rest of them arrive."""
        wanted = {result.id.hex() for result in results}
        url = f"{self.api(group)}/v1/ballots/{ballot.id.hex()}"
        with trio.fail_after(60):
            while True:
                outcome = (await self.client.get(url)).json().get("outcome", {})
                applied = {r["id"] for r in outcome.get("results", {}).values()}
                if wanted <= applied:
                    return
                await trio.sleep(0.05)

    async def wait_held(
        self, events: Iterable[SignedEvent], groups: Iterable[bytes], timeout: float = 60.0
    ) -> float:
        """Wait until every node of ``groups`` holds every event; seconds taken."""
        start = trio.current_time()
        missing = {(g, e.id) for g in groups for e in events}
        with trio.move_on_after(timeout):
            while missing:
                for group, event_id in sorted(missing):
                    if await self.holds(group, event_id):
                        missing.discard((group, event_id))
                if missing:
                    await trio.sleep(0.05)
        if missing:
            where = sorted({(self.tree.levels[g], self.dirs[g].root.name) for g, _ in missing})
            raise AssertionError(f"after {timeout} s, not held by the nodes {where}")
        return trio.current_time() - start


def _flags(flag: str, values: Iterable[str]) -> list[str]:
    return [arg for value in values for arg in (flag, value)]


def _runtime_of(data_dir: DataDir) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((data_dir.root / "node.json").read_text())
    return document


def _env() -> dict[str, str]:
    """The test's environment, with the project importable from anywhere."""
    env = dict(os.environ)
    project = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [project, env.get("PYTHONPATH")]))
    return env


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
