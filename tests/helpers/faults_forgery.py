"""Forgery and replay (issue 9): forged, damaged and replayed events are
refused at every way into a node, with the reason code the specs give.

Theory of operation
-------------------
A *world* is a small network built with the scenario helpers (a region
over two base groups, a proposal, a ballot decided in a base group, an
election counted and summed, a protected report, a member whose
certificate is revoked), in which every key is known, so that forgeries
can be signed as an attacker with stolen or borrowed material would sign
them. Its *targets* are valid events of many kinds (note, cert.issue,
proposal, comment, ballot.open, ballot.ring, vote, result.count,
result.sum, report); each is the *control* of a *victim*: a node whose
store holds exactly what came before the target in key order, so the
target itself is accepted there and is not yet stored.

Each target gets its *cases*, each a forgery with the outcome the specs
require (``Case.status`` and ``Case.reasons``):

- every single-bit flip of its wire bytes (all positions at full size, a
  seeded sample in CI): of the signature (``bad_signature``), of the signed
  bytes (a decoding or envelope reason, ``wrong_network`` or
  ``bad_signature``), of the framing around them;
- forged signatures: random bytes, the group order in S, a malleated S,
  another key's signature of the same event, the author's own signature of
  other bytes (the id without the domain, the unsigned bytes, another
  domain, another event): ``bad_signature``;
- altered bodies and envelopes, re-encoded canonically under the old
  signature: ``bad_signature`` (``wrong_network`` for another ``net``,
  a schema reason if the alteration breaks the schema);
- replays from other networks: the target re-signed by its author for
  another genesis, and the spec vectors' events of other networks:
  ``wrong_network``.

Two more victims: a vote's (the ``vote`` target's) receives votes with
someone else's ring (a ring signature for ring A naming ring B, a valid
vote re-wrapped into ring B, a ring of another group or ballot, a ring
not in the refs, votes by a non-member, damaged ring signatures):
``bad_ring_signature``, ``wrong_ring``, ``bad_key_image`` or
``non_canonical_scalar``; and the ``revoked`` victim receives acts of the
revoked member after the revocation (and a new certificate for the
revoked key). Standing (specs/groups.md section 1.1, protocol/standing.py)
is deliberately weaker than the fold: those acts have it, so the specs
make them *refused* ``key_revoked`` (stored with no effect, so that every
node converges, and relayed like any stored event, specs/network.md
section 4.3), not rejected; the criterion for them is that outcome and a
state that does not change.

Every case goes through every way in, each on a fresh victim:
``protocol`` (the pure reference: validate_bytes, then standing, ring and
fold), ``ingest`` (node/ingest.py ``ingest_raw`` into a NetworkStore on
SQLite), ``api`` (node/api.py over httpx's ASGI transport, CBOR and JSON
bodies), ``gossip`` (node/gossip.py's topic validator, which runs the
node's judge), ``sync_put`` (a hostile peer offers the forgeries in a sync
session; the victim answers), ``sync_get`` (the victim syncs from a
hostile peer that serves them), and ``bridge`` (a bundle carried by hand,
node/bridge.py). At each: the outcome and reason must be the case's, no
rejected case may be stored or handed to gossip, the sender must be
blamed (gossip score, sync's misbehaviour), and the control must then
get in (so the victim was not simply refusing everything).

Where it is: forgery_world.py (the world), forgery_cases.py and
forgery_rings.py (the forgeries), forgery_victims.py (victims and the
reference), forgery_tally.py (the checks around every way in),
forgery_entry_points.py and forgery_sync.py (the ways in), sync_liars.py
(the liar's store and sync service).
"""

from __future__ import annotations

import random
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from functools import partial
from pathlib import Path
from typing import Any

import multiaddr
import trio
from forgery_entry_points import (
    through_api,
    through_bridge,
    through_gossip,
    through_ingest,
    through_protocol,
)
from forgery_sync import through_sync_get, through_sync_put
from forgery_tally import Tally
from forgery_victims import Victim, VictimSpec, victim, victim_specs
from forgery_world import World, build_world
from libp2p import new_host
from libp2p.crypto.ed25519 import create_new_key_pair
from libp2p.peer.peerinfo import info_from_p2p_addr
from node_factory import LOOPBACK

ENTRY_POINTS = ("protocol", "ingest", "api", "gossip", "sync_put", "sync_get", "bridge")
#: How many mismatches a report spells out.
SHOWN = 5


async def run_victims(
    world: World, specs: list[VictimSpec], now_ms: int, *, full: bool, rng: random.Random
) -> dict[str, Tally]:
    """Every victim through every way in (a fresh victim each time)."""
    tallies = {name: Tally() for name in ENTRY_POINTS}
    for spec in specs:
        tallies["protocol"].add(through_protocol(world, spec, now_ms))
    victim_host = new_host(key_pair=create_new_key_pair(b"forgery victim".ljust(32, b".")))
    liar = new_host(key_pair=create_new_key_pair(b"forgery liar".ljust(32, b".")))
    forwarder = liar.get_id()
    with tempfile.TemporaryDirectory(prefix="ayllu-forgery-") as tmp:
        directory = Path(tmp)
        listen = [multiaddr.Multiaddr(LOOPBACK)]
        async with victim_host.run(listen), liar.run(listen):
            try:
                await victim_host.connect(info_from_p2p_addr(liar.get_addrs()[0]))
                for spec in specs:
                    ways: dict[str, Callable[[Victim], Awaitable[Tally]]] = {
                        "ingest": through_ingest,
                        "api": through_api,
                        "gossip": lambda v: through_gossip(v, forwarder),
                        "sync_put": lambda v: through_sync_put(v, liar, victim_host),
                        "sync_get": lambda v: through_sync_get(
                            world, v, liar, victim_host, full=full, rng=rng
                        ),
                        "bridge": lambda v: through_bridge(v, directory),
                    }
                    for name, way in ways.items():
                        async with victim(world, spec, directory, now_ms, name) as v:
                            tallies[name].add(await way(v))
            finally:
                await victim_host.close()
                await liar.close()
    return tallies


def forgery(*, full: bool, seed: int = 1) -> dict[str, Any]:
    """Forged, damaged and replayed events at every way in (the module's
    docstring): none stored or relayed, each with the reason the specs give."""
    started = time.perf_counter()
    rng = random.Random(seed)
    world = build_world()
    specs = victim_specs(world, full=full, rng=rng)
    now_ms = world.scenario.now + 60_000
    tallies = trio.run(partial(run_victims, world, specs, now_ms, full=full, rng=rng))
    total = Tally()
    for tally in tallies.values():
        total.add(tally)
    families: Counter[str] = Counter()
    for spec in specs:
        families.update(case.family.split(":")[0] for case in spec.cases)
    cases = sum(len(spec.cases) for spec in specs)
    passed = (
        total.accepted == 0
        and total.relayed == 0
        and total.effects == 0
        and not total.mismatches
        and total.controls_ok == total.controls
    )
    return {
        "passed": passed,
        "criterion": (
            "every forgery (bit flips, forged signatures, altered bodies, other networks' "
            "events, someone else's ring) rejected with the reason the specs give, at every "
            "way in (protocol, ingest, api, gossip, sync put and get, bridge), never stored, "
            "never handed to gossip, its sender blamed; acts of a revoked key refused "
            "key_revoked with no effect; every valid control accepted"
        ),
        "targets": sorted(world.targets),
        "cases": cases,
        "cases_by_forgery": dict(sorted(families.items())),
        "ring_cases": sorted(
            {
                c.family.split(":")[1]
                for s in specs
                for c in s.cases
                if c.family.startswith("foreign_ring")
            }
        ),
        "entry_points": list(ENTRY_POINTS),
        "checks": total.cases,
        "checks_by_entry_point": {name: t.cases for name, t in tallies.items()},
        "accepted": total.accepted,
        "relayed": total.relayed,
        "state_changed": total.effects,
        "mismatches": len(total.mismatches),
        "mismatch_examples": total.mismatches[:SHOWN],
        "controls_by_entry_point": {n: f"{t.controls_ok}/{t.controls}" for n, t in tallies.items()},
        "accepted_by_entry_point": {n: t.accepted for n, t in tallies.items() if t.accepted},
        "effects_by_entry_point": {n: t.effects for n, t in tallies.items() if t.effects},
        "reasons": dict(sorted(tallies["protocol"].reasons.items())),
        "blamed": {name: t.blamed for name, t in tallies.items() if t.blamed},
        "controls": f"{total.controls_ok}/{total.controls}",
        "full": full,
        "seed": seed,
        "elapsed_s": round(time.perf_counter() - started, 1),
    }


SCENARIOS = {"forgery": forgery}
