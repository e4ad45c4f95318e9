"""The kills of the crash-safety scenario (tests/helpers/faults_storage.py):
``ayllu run`` under API load, tests/helpers/crash_worker.py ingesting, and
registrations; each part counts into one ``CrashFigures``."""

from __future__ import annotations

import random
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import crash_worker
import httpx
import trio
from crash_worker import append_events
from event_factory import note, signing_key
from faulty_sqlite import check_database, plain_connect
from network_factory import Scenario, build_fractal

from node import registrar
from node.datadir import DataDir
from node.loopback import Loopback, NodeFailed, api_of, child_env
from protocol.errors import AylluError
from protocol.event import SignedEvent, parse_event
from protocol.genesis import Genesis
from storage.state import open_network_store
from storage.vault import open_vault

WORKER = Path(__file__).with_name("crash_worker.py")
HOUR_MS = 3_600_000
STORED_ANSWERS = (200, 201, 202)
STORE_FILE = "events.sqlite3"


class Chain:
    """Notes by one author, each refing the one before, signed on demand."""

    def __init__(self, label: str, net: bytes, ts0: int) -> None:
        self.label, self.net, self.ts0 = label, net, ts0
        self.key = signing_key(f"crash writer {label}")
        self.events: list[SignedEvent] = []

    def __getitem__(self, index: int) -> SignedEvent:
        while len(self.events) <= index:
            j = len(self.events)
            refs = [self.events[-1].id] if self.events else []
            self.events.append(
                note(self.ts0 + j, key=self.key, group=self.net, net=self.net, refs=refs,
                     text=f"{self.label} {j}")
            )  # fmt: skip
        return self.events[index]


@dataclass
class Stream:
    """What one API client posts, in order: a list, or an endless chain."""

    source: list[SignedEvent] | Chain
    next: int = 0

    def current(self) -> SignedEvent | None:
        if isinstance(self.source, list) and self.next >= len(self.source):
            return None
        return self.source[self.next]


@dataclass
class CrashFigures:
    """What the kills did and found; the counts marked so must stay 0."""

    node_kills: int = 0
    node_kills_while_starting: int = 0
    worker_kills: int = 0
    worker_kills_while_opening: int = 0
    registrar_kills: int = 0
    #: Of those, kills before the vault existed (while the first creates it).
    registrar_kills_creating_vault: int = 0
    node_acknowledged: int = 0
    worker_acknowledged: int = 0
    registrar_acknowledged: int = 0
    #: Vault records of the registration in flight, naming a certificate not
    #: stored: what node/registrar.py's reconcile repairs on the next run.
    registrar_traces: int = 0
    #: Vault records naming a certificate never stored, of any other
    #: registration (must stay 0).
    vault_inconsistencies: int = 0
    #: Acknowledged events missing after a kill (must stay 0).
    lost: int = 0
    integrity_failures: int = 0
    #: In-flight worker batches found stored in part (must stay 0).
    partial_batches: int = 0
    #: Events stored that were never submitted (must stay 0).
    phantoms: int = 0
    #: Processes that would not start again on a killed store (must stay 0).
    restart_failures: int = 0
    #: Answers other than 200/201/202, worker batches refused (must stay 0).
    unexpected_answers: int = 0
    #: In flight when killed, unanswered, yet stored (fine: not acknowledged).
    unanswered_but_stored: int = 0
    #: Worker kills that landed between "begin" and "ack" of a batch.
    worker_kills_mid_batch: int = 0
    final_stop_clean: bool = False
    problems: list[str] = field(default_factory=list)


def _stored_ids(path: Path) -> set[bytes]:
    """The ids stored; none if the kill came before the store's schema was
    committed (the next process to open it creates the schema then)."""
    db = plain_connect(str(path))
    try:
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master")}
        if "events" not in tables:
            return set()
        return {row[0] for row in db.execute("SELECT id FROM events")}
    finally:
        db.close()


def _check_store(path: Path, figures: CrashFigures, acknowledged: set[bytes]) -> set[bytes]:
    """Integrity and acknowledged events after a kill; the stored ids."""
    problems = check_database(str(path))
    if problems:
        figures.integrity_failures += 1
        figures.problems.append(f"{path.name}: {problems[:3]}")
    stored = _stored_ids(path)
    missing = acknowledged - stored
    if missing:
        figures.lost += len(missing)
        figures.problems.append(f"{path.name}: {len(missing)} acknowledged events lost")
    return stored


async def node_kills(root: Path, kills: int, rng: random.Random, figures: CrashFigures) -> None:
    """Kill ``ayllu run`` ``kills`` times while clients post to its API."""
    s = Scenario(now=int(time.time() * 1000) - 6 * HOUR_MS)
    build_fractal(s, regions=2)
    data_dir = DataDir(root / "data")
    await data_dir.initialize(s.genesis)
    streams = [Stream(list(s.events))]
    streams += [Stream(Chain(f"node {i}", s.net, s.now + 1000 * i)) for i in range(3)]
    acknowledged: set[bytes] = set()
    sent: set[bytes] = set()
    (root / "logs").mkdir()
    loopback = Loopback(root / "logs")
    try:
        while figures.node_kills < kills:
            process = loopback.run([data_dir])
            if rng.random() < 0.2:  # while it starts: opening the store, folding
                await trio.sleep(rng.uniform(0.0, 1.5))
                started = (data_dir.root / "node.json").exists()
                figures.node_kills_while_starting += int(not started)
            else:
                try:
                    await loopback.wait_up(process)
                except NodeFailed as exc:
                    figures.restart_failures += 1
                    figures.problems.append(str(exc)[-300:])
                    return
                api = api_of(data_dir)
                async with trio.open_nursery() as nursery:
                    for stream in streams:
                        nursery.start_soon(
                            _post, loopback.client, api, stream, acknowledged, sent, figures
                        )
                    await trio.sleep(rng.uniform(0.0, 1.5))
                    process.popen.kill()  # SIGKILL: nothing gets flushed
                    with trio.fail_after(5):  # the clients notice the node is gone
                        while nursery.child_tasks:
                            await trio.sleep(0.01)
                    nursery.cancel_scope.cancel()
            process.popen.kill()
            process.popen.wait(timeout=30)
            loopback.processes.remove(process)
            figures.node_kills += 1
            stored = _check_store(data_dir.store_path, figures, acknowledged)
            in_flight = {e.id for e in (st.current() for st in streams) if e is not None}
            figures.unanswered_but_stored += len(in_flight & stored - acknowledged)
            figures.phantoms += len(stored - sent - _own_events(data_dir))
        figures.node_acknowledged = len(acknowledged)
        await _final_node_check(loopback, data_dir, streams, figures)
    finally:
        await loopback.close()


def _own_events(data_dir: DataDir) -> set[bytes]:
    """What the node stored of its own accord (its peer records)."""
    db = plain_connect(str(data_dir.store_path))
    try:
        return {row[0] for row in db.execute("SELECT id FROM events WHERE kind = 'peer.record'")}
    finally:
        db.close()


async def _post(
    client: httpx.AsyncClient,
    api: str,
    stream: Stream,
    acknowledged: set[bytes],
    sent: set[bytes],
    figures: CrashFigures,
) -> None:
    """Post the stream's events one after the other until the node dies."""
    while (event := stream.current()) is not None:
        sent.add(event.id)
        try:
            answer = await client.post(
                f"{api}/v1/events",
                content=event.raw,
                headers={"content-type": "application/cbor"},
            )
        except httpx.HTTPError:
            return  # killed: this one is not acknowledged
        if answer.status_code not in STORED_ANSWERS:
            figures.unexpected_answers += 1
            figures.problems.append(f"node answered {answer.status_code}: {answer.text[:200]}")
            return
        acknowledged.add(event.id)
        stream.next += 1


async def _final_node_check(
    loopback: Loopback, data_dir: DataDir, streams: list[Stream], figures: CrashFigures
) -> None:
    """Start the node once more: it serves the last event each client had
    acknowledged, then stops cleanly on SIGTERM."""
    process = loopback.run([data_dir])
    try:
        await loopback.wait_up(process)
    except NodeFailed as exc:
        figures.restart_failures += 1
        figures.problems.append(str(exc)[-300:])
        return
    for stream in streams:
        if stream.next and not await loopback.holds(data_dir, stream.source[stream.next - 1].id):
            figures.lost += 1
            figures.problems.append("the restarted node does not serve an acknowledged event")
    figures.final_stop_clean = await loopback.stop(process) == 0


class WorkerPool:
    """The worker's events, in order: the fractal's governance events
    spread among notes of a few chains; signed and written on demand."""

    def __init__(self, s: Scenario, path: Path, chains: int = 4, every: int = 7) -> None:
        self.governance = list(s.events)
        self.chains = [Chain(f"worker {i}", s.net, s.now + 1000 + i) for i in range(chains)]
        self.used = [0] * chains
        self.every = every
        self.path = path
        self.events: list[SignedEvent] = []

    def ensure(self, count: int) -> None:
        fresh: list[SignedEvent] = []
        while len(self.events) < count:
            position = len(self.events)
            taken = position // self.every
            if position % self.every == 0 and taken < len(self.governance):
                event = self.governance[taken]
            else:
                chain = position % len(self.chains)
                event = self.chains[chain][self.used[chain]]
                self.used[chain] += 1
            self.events.append(event)
            fresh.append(event)
        append_events(self.path, (event.raw for event in fresh))


async def worker_kills(root: Path, kills: int, rng: random.Random, figures: CrashFigures) -> None:
    """Kill the ingest worker ``kills`` times, checking the store after each."""
    root.mkdir()
    s = Scenario()
    build_fractal(s)
    genesis_path = root / "genesis.cbor"
    genesis_path.write_bytes(s.genesis.raw)
    store_path = root / "events.sqlite3"
    pool = WorkerPool(s, root / "events.bin")
    now_ms = s.now + HOUR_MS
    acked = 0  # events [0, acked) are acknowledged
    sent = 0  # events [0, sent) were handed to ingest_raw, by some worker
    #: Stored though not acknowledged, as the last check found them: a
    #: batch in flight when its worker died, committed before its "ack".
    unacknowledged: set[bytes] = set()
    while figures.worker_kills < kills:
        pool.ensure(acked + 4000)
        seed = rng.randrange(2**32)
        args = ["ingest", store_path, genesis_path, pool.path, acked, seed, 64, now_ms]
        opening = rng.random() < 0.125
        delay = rng.uniform(0.0, 0.6 if opening else 0.3)
        lines, killed, code = await _run_worker([str(a) for a in args], delay, opening, root)
        in_flight: tuple[int, int] | None = None
        for line in lines:
            word, *numbers = line.split()
            if word == "begin":
                in_flight = (int(numbers[0]), int(numbers[1]))
                sent = max(sent, in_flight[1])
            elif word == "ack":
                acked, in_flight = int(numbers[1]), None
            elif word == "refused":
                figures.unexpected_answers += 1
                figures.problems.append(f"worker: {line}")
        if killed:
            figures.worker_kills += 1
            figures.worker_kills_while_opening += int("ready" not in lines)
            figures.worker_kills_mid_batch += int(in_flight is not None)
        elif code != 0:
            figures.restart_failures += 1
            figures.problems.append(f"worker exited {code}: {(root / 'stderr').read_text()[-300:]}")
            return
        ids = [event.id for event in pool.events]
        stored = _check_store(store_path, figures, set(ids[:acked]))
        if in_flight is not None:
            # What the batch in flight brought that was not stored before
            # (a batch repeats what an earlier, killed one may have stored)
            # is stored whole or not at all: one transaction.
            fresh = set(ids[in_flight[0] : in_flight[1]]) - unacknowledged
            part = len(fresh & stored)
            figures.partial_batches += int(0 < part < len(fresh))
            figures.unanswered_but_stored += part
        figures.phantoms += len(stored - set(ids[:sent]))
        unacknowledged = stored - set(ids[:acked])
    figures.worker_acknowledged = acked


async def registrar_kills(
    root: Path, kills: int, rng: random.Random, figures: CrashFigures
) -> None:
    """Kill registrations (vault, then store) ``kills`` times; after each,
    what was acknowledged has its certificate and its Code 1 record, and
    no record names a certificate the store lacks but the one in flight."""
    root.mkdir()
    s = Scenario()
    async with open_network_store(root / STORE_FILE, s.genesis):
        pass
    acked: dict[int, bytes] = {}
    next_person = 0
    while figures.registrar_kills < kills:
        args = ["register", root, next_person, s.now + HOUR_MS]
        # Until the first registration has created the vault, kill soon:
        # in that creation, as often as not.
        creating = not (root / registrar.VAULT_FILE).exists()
        delay = rng.uniform(0.0, 0.05 if creating else 0.4)
        lines, killed, code = await _run_worker([str(a) for a in args], delay, False, root)
        figures.registrar_kills_creating_vault += int(creating)
        in_flight: int | None = None
        for line in lines:
            word, *values = line.split()
            if word == "begin":
                in_flight = int(values[0])
            elif word == "ack":
                acked[int(values[0])] = bytes.fromhex(values[1])
                in_flight, next_person = None, int(values[0]) + 1
        if not killed:
            figures.restart_failures += 1
            figures.problems.append(
                f"registrar exited {code}: {(root / 'stderr').read_text()[-300:]}"
            )
            return
        figures.registrar_kills += 1
        await _check_registrations(root, s.genesis, acked, in_flight, figures)
    figures.registrar_acknowledged = len(acked)


async def _check_registrations(
    root: Path, genesis: Genesis, acked: dict[int, bytes], in_flight: int | None,
    figures: CrashFigures,
) -> None:  # fmt: skip
    vault_at = root / registrar.VAULT_FILE
    for path in (root / STORE_FILE, vault_at):
        problems = check_database(str(path)) if path.exists() else []
        if problems:
            figures.integrity_failures += 1
            figures.problems.append(f"{path.name}: {problems[:3]}")
    db = plain_connect(str(root / STORE_FILE))
    try:
        rows = db.execute("SELECT id, raw FROM events WHERE kind = 'cert.issue'").fetchall()
    finally:
        db.close()
    certified = {parse_event(raw).event.body["member"]: eid for eid, raw in rows}
    records: dict[bytes, bytes | None] = {}
    if vault_at.exists():
        try:
            async with open_vault(vault_at, crash_worker.VAULT_SECRET) as vault:
                records = {record.member: record.cert for record in await vault.list()}
        except AylluError as exc:  # a vault left unusable
            figures.integrity_failures += 1
            figures.problems.append(f"the vault does not open: {exc}")
    for index, cert in acked.items():
        if certified.get(crash_worker.member(index)) != cert:
            figures.lost += 1
            figures.problems.append(f"registration {index}: its certificate is not stored")
    for member, cert in certified.items():
        if records.get(member) != cert:
            figures.lost += 1
            figures.problems.append("a stored certificate has no Code 1 record")
    flying = None if in_flight is None else crash_worker.member(in_flight)
    for member, recorded in records.items():
        if certified.get(member) == recorded:
            continue
        if member == flying:
            figures.registrar_traces += 1  # the next run registers them again, and repairs it
        else:
            figures.vault_inconsistencies += 1
            figures.problems.append("a vault record names a certificate never stored")


async def _run_worker(
    args: list[str], delay: float, opening: bool, root: Path
) -> tuple[list[str], bool, int]:
    """Run the worker; kill it ``delay`` s after it is ready (``opening``:
    after it started). Its complete lines, whether it was killed, its exit
    status."""
    lines: list[str] = []
    ready = trio.Event()
    with (root / "stderr").open("ab") as stderr:
        process = await trio.lowlevel.open_process(
            [sys.executable, str(WORKER), *args],
            stdout=subprocess.PIPE,
            stderr=stderr,
            env=child_env(),
        )
    assert process.stdout is not None
    stdout = process.stdout

    async def read() -> None:
        buffer = b""
        async for chunk in stdout:
            buffer += chunk
            *complete, buffer = buffer.split(b"\n")
            lines.extend(line.decode() for line in complete)
            if "ready" in lines:
                ready.set()
        ready.set()

    killed = False
    try:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(read)
            if not opening:
                with trio.fail_after(60):
                    await ready.wait()
            await trio.sleep(delay)
            if process.poll() is None:
                process.kill()
                killed = True
            await process.wait()
    finally:
        if process.poll() is None:
            process.kill()
        with trio.CancelScope(shield=True):
            await process.wait()
    code = process.returncode
    assert code is not None
    return lines, killed, code
