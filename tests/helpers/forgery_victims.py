"""The victims of the forgery scenario (faults_forgery.py): for each target
a node state holding exactly what came before it in key order, the target
as the *control* that state must take, and the forgeries it must refuse;
the outcome the specs give each forgery there (``reference``); and a
victim node on SQLite, whose ways in forgery_entry_points.py and
forgery_sync.py call.
"""

from __future__ import annotations

import contextlib
import random
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from event_factory import signing_key
from forgery_cases import (
    Case,
    altered_bodies,
    bit_flips,
    chosen_bits,
    distinct,
    forged_signatures,
    other_genesis,
    resigned_elsewhere,
    revoked_acts,
    revoked_control,
    vector_replays,
)
from forgery_rings import foreign_rings
from forgery_world import World
from node_factory import LOOPBACK
from scenario_vectors import outcomes

from node.runtime import Node, NodeConfig
from protocol.errors import Reason
from protocol.event import SignedEvent
from protocol.topics import Position
from protocol.validation import KnownEvents, validate_bytes
from storage import IngestStatus
from storage.state import NetworkStore, open_network_store

#: The outcomes that store an event.
STORED = (IngestStatus.ACCEPTED, IngestStatus.REFUSED)


@dataclass
class VictimSpec:
    """A node state, the event it must take (``control``) and the forgeries
    it must refuse; ``expected`` is the reason the reference gave each case."""

    name: str
    prefix: list[SignedEvent]
    control: SignedEvent
    cases: list[Case]
    expected: list[Reason | None] = field(default_factory=list)

    def pairs(self) -> list[tuple[Case, Reason | None]]:
        return list(zip(self.cases, self.expected, strict=True))


def victim_specs(world: World, *, full: bool, rng: random.Random) -> list[VictimSpec]:
    """A victim per target, with its cases; the vote's also gets the votes
    with someone else's ring, the note's the other networks' vectors; and
    the revoked member's victim."""
    other = other_genesis(world).network_id
    specs = []
    for name, target in world.targets.items():
        cases = bit_flips(name, target, chosen_bits(target, full=full, rng=rng))
        cases += forged_signatures(world, name, target, rng, 16 if full else 4)
        cases += altered_bodies(world, name, target)
        cases.append(resigned_elsewhere(world, name, target, other))
        if name == "note":
            cases += vector_replays(world, name)
        if name == "vote":
            cases += foreign_rings(world)
        specs.append(VictimSpec(name, world.before(target), target, distinct(cases)))
    revoked = revoked_acts(world)
    control = revoked_control(world)
    everything = sorted(world.events, key=lambda e: (e.ts, e.id))
    specs.append(VictimSpec("revoked", everything, control, revoked))
    return specs


def reference(
    world: World, prefix: Sequence[SignedEvent], raw: bytes, now_ms: int
) -> tuple[IngestStatus, Reason | None]:
    """The outcome of ``raw`` at a node holding ``prefix``, from pure
    functions: validation in the specs' order, then (for an event whose
    envelope holds) standing, ring signatures and the fold, as
    scenario_vectors decides them."""
    view = KnownEvents({e.id: e.ts for e in prefix})
    event, verdict = validate_bytes(raw, view, now_ms, world.net)
    if not verdict.accepted:
        return IngestStatus.REJECTED, verdict.reason
    assert event is not None
    _, decided = outcomes(world.genesis, [*prefix, event])
    outcome, _, reason = decided[event.id].partition(" ")
    status = {
        "applied": IngestStatus.ACCEPTED,
        "refused": IngestStatus.REFUSED,
        "rejected": IngestStatus.REJECTED,
    }[outcome]
    return status, Reason(reason) if reason else None


@dataclass
class Victim:
    spec: VictimSpec
    store: NetworkStore
    node: Node
    now_ms: int

    @property
    def net(self) -> bytes:
        return self.store.genesis.network_id


@contextlib.asynccontextmanager
async def victim(
    world: World, spec: VictimSpec, directory: Path, now_ms: int, tag: str
) -> AsyncIterator[Victim]:
    """A node on SQLite holding ``spec.prefix``, serving every group of the
    world (so that whatever it stores, it hands to gossip), not running: its
    ways in are called directly."""
    path = directory / f"{spec.name}-{tag}.sqlite3"
    async with open_network_store(path, world.genesis) as store:
        results = await store.ingest(spec.prefix, now_ms)
        assert all(r.status in STORED for r in results), "the world's events are valid"
        node = Node(
            signing_key(f"victim {spec.name}"),
            store,
            NodeConfig(listen=[LOOPBACK]),
            now_ms=lambda: now_ms,
        )
        groups = store.state.groups
        node.position = Position.of(world.net, groups, groups.groups)
        yield Victim(spec, store, node, now_ms)
