"""The operations of the storage-faults scenario (tests/helpers/faults_storage.py),
each attempted with its k-th write failing, and the checks after each."""

from __future__ import annotations

import json
import shutil
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from event_factory import note, signing_key
from faulty_sqlite import FaultPlan, check_database, plain_connect
from nacl.signing import SigningKey
from network_factory import TAG_KEY, Scenario, key_of

from node import registrar
from node.ingest import ingest_raw
from node.registrar import Person
from protocol.event import SignedEvent
from protocol.genesis import Genesis
from protocol.kinds import GOVERNANCE_KINDS
from storage import CachedPeer, StorageError, open_sqlite_store
from storage.state import NetworkStore, open_network_store
from storage.vault import VaultKey, open_vault

HOUR_MS = 3_600_000

SECRET = VaultKey(bytes(range(32)))
ROSA = Person("Rosa Quispe Mamani", "PE", "DNI", "40123987", notes="local comunal")
JUAN = Person("Juan Mamani Condori", "PE", "DNI", "41234098")
ROSA_KEY = key_of(signing_key("faults rosa"))
ROSA_NEW_KEY = key_of(signing_key("faults rosa, new key"))
JUAN_KEY = key_of(signing_key("faults juan"))
STORE_FILE, VAULT_FILE, NEW_STORE_FILE = "events.sqlite3", "registry.sqlite3", "new.sqlite3"


@dataclass
class Env:
    """One attempt's databases: a copy of the template, its store open."""

    root: Path
    store: NetworkStore
    now_ms: int

    @property
    def vault_at(self) -> Path:
        return self.root / VAULT_FILE


@dataclass
class Operation:
    name: str
    run: Callable[[Env], Awaitable[object]]
    #: The people whose certificates this vault issued, by tag.
    vault_tags: frozenset[bytes]
    #: Start without the template's vault (the operation creates it).
    fresh_vault: bool = False


@dataclass
class Baseline:
    """An operation run without fault: its writes, its outcome, what it left."""

    writes: int
    outcome: object
    world: dict[str, Any]


@dataclass
class FaultFigures:
    """What the attempts did and found."""

    attempts: int = 0
    faults_injected: int = 0
    wrong_errors: int = 0
    #: Attempts that completed although a write failed (checked like retries).
    completed_despite_fault: int = 0
    inconsistencies: int = 0
    #: Vault records left naming a certificate never stored (an interrupted
    #: act), each repaired by the retry.
    traces_left: int = 0
    retries: int = 0
    retries_converged: int = 0
    writes: dict[str, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


async def attempt_all(root: Path, full: bool, plan: FaultPlan, figures: FaultFigures) -> None:
    template = root / "template"
    template.mkdir()
    genesis, operations, now_ms = await _template(template, full)
    for operation in operations:
        baseline = await _baseline(root, template, genesis, operation, plan, now_ms)
        figures.writes[operation.name] = baseline.writes
        for at in range(1, baseline.writes + 1):
            for persistent in (False, True):
                await _attempt(
                    root, template, genesis, operation, plan, now_ms, baseline, at, persistent,
                    figures,
                )  # fmt: skip


async def _template(template: Path, full: bool) -> tuple[Genesis, list[Operation], int]:
    """The databases every attempt starts from, and the operations."""
    s = Scenario()
    s.certify(s.founder, "00000001")
    people = [signing_key(f"faults person {i}") for i in range(6)]
    for i, person in enumerate(people):
        s.certify(person, f"{20_000_000 + i}", registrar=s.registrars[i % 2])
    group = s.found(people[0], "ayllu", 1).id
    for person in people[1:5]:
        s.join(person, group, people[0])  # five members: the group is full
    rosa_tag = registrar.tag_of(TAG_KEY, ROSA)
    juan_tag = registrar.tag_of(TAG_KEY, JUAN)
    async with open_network_store(template / STORE_FILE, s.genesis) as store:
        await ingest_raw(store, [e.raw for e in s.events], s.tick(), s.net)
        await registrar.register(
            store, template / VAULT_FILE, SECRET, s.registrars[0], TAG_KEY, ROSA, ROSA_KEY,
            now_ms=s.tick(),
        )  # fmt: skip
        await store.events.remember_peers(_peers(0, 4, seen_ms=s.now - 20 * 24 * HOUR_MS), s.now)
    last = s.events[-1]
    batch = _mixed_batch(s, people, group, last, notes=48 if full else 4)
    now_ms = s.tick()

    async def ingest(env: Env) -> object:
        results = await ingest_raw(env.store, batch, env.now_ms, s.net)
        return [(r.id, r.status.value, r.reason) for r in results]

    async def register(env: Env) -> object:
        done = await registrar.register(
            env.store, env.vault_at, SECRET, s.registrars[0], TAG_KEY, JUAN, JUAN_KEY,
            now_ms=env.now_ms,
        )  # fmt: skip
        return (done.cert, done.member, done.tag, done.expires_ms)

    async def replace(env: Env) -> object:
        done = await registrar.replace(
            env.store, env.vault_at, SECRET, s.registrars[0], TAG_KEY,
            Person("", ROSA.country, ROSA.document, ROSA.number), ROSA_NEW_KEY,
            now_ms=env.now_ms,
        )  # fmt: skip
        return (done.cert, done.member, done.old_cert, done.expires_ms)

    peers = _peers(2, 12 if full else 4, seen_ms=now_ms)

    async def remember(env: Env) -> object:
        # A month on: the oldest cached peers expire and are deleted.
        await env.store.events.remember_peers(peers, now_ms + 11 * 24 * HOUR_MS)
        return None

    async def create_store(env: Env) -> object:
        async with open_sqlite_store(env.root / NEW_STORE_FILE) as new:
            return await new.count()

    both = frozenset({rosa_tag, juan_tag})
    operations = [
        Operation("ingest_batch", ingest, both),
        Operation("register_creating_vault", register, frozenset({juan_tag}), fresh_vault=True),
        Operation("register", register, both),
        Operation("replace_key", replace, both),
        Operation("remember_peers", remember, both),
        Operation("create_store", create_store, both),
    ]
    return s.genesis, operations, now_ms


def _peers(first: int, count: int, *, seen_ms: int) -> list[CachedPeer]:
    return [
        CachedPeer(f"12D3KooWfaults{i:04d}", (f"/ip4/127.0.0.1/tcp/{4000 + i}",), ("sibling",),
                   seen_ms + i)
        for i in range(first, first + count)
    ]  # fmt: skip


def _mixed_batch(
    s: Scenario, people: list[SigningKey], group: bytes, last: SignedEvent, *, notes: int
) -> list[bytes]:
    """A batch with every outcome: notes refing one another and the store,
    a certificate and what it gives standing to, a refused admission (the
    group is full), a duplicate of a stored event and of one in the batch,
    and an event whose ref is nowhere (rejected)."""
    newcomer = signing_key("faults newcomer")
    writer = signing_key("faults writer")
    chain: list[SignedEvent] = []
    for i in range(notes):
        refs = [chain[-1].id] if chain else [last.id]
        chain.append(note(s.tick(), key=writer, group=group, net=s.net, refs=refs, text=f"{i}"))
    certificate = s.certify(newcomer, "30000000", registrar=s.registrars[1])
    own_group = s.found(newcomer, "newcomer's ayllu", 1)
    admitted = s.join(people[5], group, people[0])  # a sixth member: refused
    application = s.events[-2]
    orphan = note(s.tick(), key=writer, group=group, net=s.net, refs=[bytes(32)], text="orphan")
    events = [*chain[: notes // 2], certificate, own_group, *chain[notes // 2 :]]
    events += [application, admitted, last, orphan, chain[0]]
    return [event.raw for event in events]


def _fresh_copy(root: Path, template: Path, operation: Operation) -> Path:
    run = root / "run"
    shutil.rmtree(run, ignore_errors=True)
    shutil.copytree(template, run)
    if operation.fresh_vault:
        for leftover in run.glob(VAULT_FILE + "*"):
            leftover.unlink()
    return run


async def _baseline(
    root: Path, template: Path, genesis: Genesis, operation: Operation, plan: FaultPlan,
    now_ms: int,
) -> Baseline:  # fmt: skip
    """The operation without fault: how many writes it makes, what it gives."""
    run = _fresh_copy(root, template, operation)
    async with open_network_store(run / STORE_FILE, genesis) as store:
        env = Env(run, store, now_ms)
        plan.arm(None)
        try:
            outcome = await operation.run(env)
        finally:
            plan.disarm()
        writes = plan.writes
        world = await _world(env)
    return Baseline(writes, outcome, world)


async def _attempt(
    root: Path, template: Path, genesis: Genesis, operation: Operation, plan: FaultPlan,
    now_ms: int, baseline: Baseline, at: int, persistent: bool, figures: FaultFigures,
) -> None:  # fmt: skip
    where = f"{operation.name} write {at} {'on' if persistent else 'once'}"
    run = _fresh_copy(root, template, operation)
    async with open_network_store(run / STORE_FILE, genesis) as store:
        env = Env(run, store, now_ms)
        await store.events.with_ranges(lambda source: source.summary((0, b""), None))
        figures.attempts += 1
        plan.arm(at, persistent=persistent)
        error: Exception | None = None
        try:
            outcome: object = await operation.run(env)
        except Exception as exc:
            error = exc
        finally:
            plan.disarm()
        figures.faults_injected += plan.faults
        if error is None:
            figures.completed_despite_fault += 1
        elif not isinstance(error, StorageError):
            figures.wrong_errors += 1
            figures.problems.append(f"{where}: {type(error).__name__}: {error!r}"[:300])
        # Only a failure the undo could not write through (a disk that stays
        # broken) may leave a trace for the next attempt to repair.
        problems, traces = await _inconsistencies(
            env, operation, traces_allowed=error is not None and persistent
        )
        figures.traces_left += traces
        figures.retries += 1
        try:
            outcome = await operation.run(env)
        except Exception as exc:
            problems.append(f"the retry failed: {type(exc).__name__}: {exc}")
        else:
            more, _ = await _inconsistencies(env, operation, traces_allowed=False)
            problems += more
            world = await _world(env)
            if outcome == baseline.outcome and world == baseline.world:
                figures.retries_converged += 1
            else:
                diff = sorted(k for k in world if world[k] != baseline.world.get(k))
                problems.append(f"the retry gave another result ({diff or 'outcome'})")
    if problems:
        figures.inconsistencies += 1
        figures.problems.append(f"{where}: {problems[:3]}")


async def _world(env: Env) -> dict[str, Any]:
    """Everything an operation may change, comparable between runs."""
    store = env.store
    db = plain_connect(str(env.root / STORE_FILE))
    try:
        rows = db.execute("SELECT id, kind FROM events ORDER BY id").fetchall()
    finally:
        db.close()
    governance = [eid for eid, kind in rows if kind in GOVERNANCE_KINDS]
    refusals = {}
    for eid in governance:
        refusal = store.governance.refusal(eid)
        refusals[eid.hex()] = None if refusal is None else refusal.reason.value
    world: dict[str, Any] = {
        "events": [eid.hex() for eid, _ in rows],
        "state": json.dumps(store.state.snapshot(env.now_ms), sort_keys=True),
        "refusals": refusals,
        "peers": await store.events.cached_peers(env.now_ms),
        "vault": None,
        "new_store": None,
    }
    if env.vault_at.exists():
        async with open_vault(env.vault_at, SECRET) as vault:
            world["vault"] = [
                (r.member, r.tag, r.cert, r.name, r.number, r.notes, r.registered_ms)
                for r in await vault.list()
            ]
    new_store = env.root / NEW_STORE_FILE
    if new_store.exists():
        db = plain_connect(str(new_store))
        try:
            world["new_store"] = (
                db.execute("SELECT type, name, sql FROM sqlite_master ORDER BY name").fetchall()
                + db.execute("SELECT * FROM schema_version").fetchall()
            )
        finally:
            db.close()
    return world


async def _inconsistencies(
    env: Env, operation: Operation, *, traces_allowed: bool
) -> tuple[list[str], int]:
    """What is wrong with the databases and the state, and how many vault
    records are traces of an interrupted act (problems unless allowed)."""
    problems: list[str] = []
    for name in (STORE_FILE, VAULT_FILE, NEW_STORE_FILE):
        if (env.root / name).exists():
            problems += [f"{name}: {p}" for p in check_database(str(env.root / name))]
    store = env.store
    fresh = await NetworkStore.load(store.events, store.genesis)
    mine = json.dumps(store.state.snapshot(env.now_ms), sort_keys=True)
    if json.dumps(fresh.state.snapshot(env.now_ms), sort_keys=True) != mine:
        problems.append("the state differs from a fresh fold of the store")
    if len(fresh.governance) != len(store.governance):
        problems.append("the state folded another number of events than the store holds")
    whole = (0, b"")
    indexed = await store.events.with_ranges(lambda source: source.summary(whole, None))
    summary = await store.events.range_summary(whole, None)
    if indexed != (summary.count, summary.fingerprint):
        problems.append("the reconciliation index differs from the store")
    traces = 0
    if env.vault_at.exists():
        async with open_vault(env.vault_at, SECRET) as vault:
            records = await vault.list()
        by_tag = store.state.registry.by_tag
        for record in records:
            current = by_tag.get(record.tag)
            if record.cert is not None and await store.events.has([record.cert]):
                if current is None or (current.id, current.member) != (record.cert, record.member):
                    problems.append("a vault record names a certificate that is not current")
            elif traces_allowed:
                traces += 1
            else:
                problems.append("a vault record names a certificate the store lacks")
        kept = {record.tag for record in records}
    else:
        kept = set()
    for tag in operation.vault_tags:
        if tag in store.state.registry.by_tag and tag not in kept:
            problems.append("a stored certificate lost its vault record")
    return problems, traces
