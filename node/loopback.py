"""Nodes as ``ayllu run`` processes on loopback, driven through their local
APIs: what ``ayllu demo`` runs, and what the acceptance tests and
benchmarks build their networks on (tests/helpers/local_network.py).

Every process listens on ``/ip4/127.0.0.1/tcp/0`` with its API on
``127.0.0.1:0``, and says where it ended up in each data directory's
``node.json`` (node/cli_run.py), which is how its ports are found.
``close`` terminates what is left (SIGTERM, then SIGKILL after a grace
period), so neither a failing test nor an interrupted demo leaves a
process behind.
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

import node
from node.cli_run import RUNTIME_FILE
from node.datadir import DataDir

LOOPBACK = "/ip4/127.0.0.1/tcp/0"
#: ``ayllu`` in this very interpreter, so that it runs the same code.
AYLLU = (sys.executable, "-c", "from node.cli import main; main()")
#: Seconds a process gets to stop on SIGTERM before it is killed.
GRACE_S = 15.0


class NodeFailed(RuntimeError):
    """A node process exited, or its API refused what was submitted."""


@dataclass
class NodeProcess:
    dirs: list[DataDir]
    popen: subprocess.Popen[bytes]
    log: Path


@dataclass
class Loopback:
    """The processes started under ``root`` (their logs are kept there)."""

    root: Path
    sync_interval_s: float = 3.0
    processes: list[NodeProcess] = field(default_factory=list)
    client: httpx.AsyncClient = field(default_factory=lambda: httpx.AsyncClient(timeout=30.0))

    def run(
        self, dirs: Sequence[DataDir], bootstrap: Iterable[str] = (), *extra: str
    ) -> NodeProcess:
        """One ``ayllu run`` process serving the nodes of ``dirs``. No mDNS:
        the nodes find each other through ``bootstrap``, and a demo does
        not announce itself on the user's network."""
        flags = [*_flags("--bootstrap", bootstrap), "--no-mdns", *extra]
        return self.spawn((*AYLLU, "run"), dirs, flags)

    def spawn(
        self, command: Sequence[str], dirs: Sequence[DataDir], extra: list[str]
    ) -> NodeProcess:
        """``command`` on the data directories ``dirs``, on loopback."""
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
            (data_dir.root / RUNTIME_FILE).unlink(missing_ok=True)
        with log.open("ab") as out:
            popen = subprocess.Popen(args, stdout=out, stderr=out, env=child_env())
        process = NodeProcess(list(dirs), popen, log)
        self.processes.append(process)
        return process

    async def wait_up(self, process: NodeProcess, timeout: float = 60.0) -> None:
        """Until every node of ``process`` has written where it listens."""
        with trio.fail_after(timeout):
            while not all((d.root / RUNTIME_FILE).exists() for d in process.dirs):
                if process.popen.poll() is not None:
                    raise NodeFailed(f"node process exited: {process.log.read_text()[-3000:]}")
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
        """Stop every process (killing those that outlast the grace period)."""
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

    # -- through a node's API --

    async def get(self, data_dir: DataDir, path: str) -> Any:
        """The JSON answer of the API of ``data_dir``'s node to GET ``path``."""
        response = await self.client.get(api_of(data_dir) + path)
        response.raise_for_status()
        return response.json()

    async def get_raw(self, data_dir: DataDir, path: str) -> bytes:
        """The bytes of the answer to GET ``path`` (an event's CBOR)."""
        response = await self.client.get(api_of(data_dir) + path)
        response.raise_for_status()
        return response.content

    async def submit(self, data_dir: DataDir, raw: bytes) -> dict[str, Any]:
        """POST one CBOR event; NodeFailed unless the node accepted it."""
        response = await self.client.post(
            api_of(data_dir) + "/v1/events",
            content=raw,
            headers={"content-type": "application/cbor"},
        )
        document: dict[str, Any] = response.json()
        if response.status_code not in (200, 201) or document.get("status") == "refused":
            raise NodeFailed(f"{data_dir.root.name} refused an event: {document}")
        return document

    async def holds(self, data_dir: DataDir, event_id: bytes) -> bool:
        response = await self.client.get(f"{api_of(data_dir)}/v1/events/{event_id.hex()}")
        return response.status_code == 200

    async def wait_held(
        self, wanted: Iterable[tuple[DataDir, bytes]], timeout: float = 60.0
    ) -> float:
        """Until each node holds the event paired with it; seconds taken.
        TimeoutError names the nodes still missing something."""
        start = trio.current_time()
        missing = {(d.root, d, event_id) for d, event_id in wanted}
        with trio.move_on_after(timeout):
            while missing:
                for entry in sorted(missing, key=lambda m: (m[0], m[2])):
                    if await self.holds(entry[1], entry[2]):
                        missing.discard(entry)
                if missing:
                    await trio.sleep(0.05)
        if missing:
            where = sorted({root.name for root, _, _ in missing})
            raise TimeoutError(f"after {timeout} s, not held by the nodes {where}")
        return trio.current_time() - start

    async def wait_found(self, data_dir: DataDir, path: str, timeout: float = 60.0) -> float:
        """Until the API of ``data_dir``'s node finds ``path`` (a ballot, a
        motion: something its state knows once it applied an event);
        seconds taken."""
        start = trio.current_time()
        with trio.fail_after(timeout):
            while (await self.client.get(api_of(data_dir) + path)).status_code != 200:
                await trio.sleep(0.05)
        return trio.current_time() - start

    async def wait_applied(
        self, data_dir: DataDir, ballot: bytes, results: Iterable[bytes], timeout: float = 60.0
    ) -> float:
        """Until ``data_dir``'s node has applied ``results`` of ``ballot``;
        seconds taken. Held is not enough: a node judges a count against the
        votes it holds, and refuses it until the rest of them arrive."""
        start = trio.current_time()
        wanted = {result.hex() for result in results}
        with trio.fail_after(timeout):
            while True:
                outcome = (await self.get(data_dir, f"/v1/ballots/{ballot.hex()}"))["outcome"]
                if wanted <= {r["id"] for r in outcome["results"].values()}:
                    return trio.current_time() - start
                await trio.sleep(0.05)


def runtime_of(data_dir: DataDir) -> dict[str, Any]:
    """What a running node wrote of itself: pid, peer id, addresses, API."""
    document: dict[str, Any] = json.loads((data_dir.root / RUNTIME_FILE).read_text())
    return document


def api_of(data_dir: DataDir) -> str:
    return str(runtime_of(data_dir)["api"])


def _flags(flag: str, values: Iterable[str]) -> list[str]:
    return [arg for value in values for arg in (flag, value)]


def child_env() -> dict[str, str]:
    """This environment, with the code of this process importable in the
    child from anywhere (a checkout on the path, not only an install)."""
    env = dict(os.environ)
    source = str(Path(node.__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [source, env.get("PYTHONPATH")]))
    return env
