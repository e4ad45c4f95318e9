"""The forgeries of a target event (faults_forgery.py): each a ``Case``,
its bytes and the outcome the specs require of it.

- every single-bit flip of its wire bytes (all positions at full size, a
  seeded sample in CI);
- forged signatures: random bytes, the group order in S, a malleated S,
  another key's signature of the same event, the author's own signature
  of other bytes;
- altered bodies and envelopes, re-encoded canonically under the old
  signature;
- replays from other networks: the target re-signed by its author for
  another genesis, and the spec vectors' events of other networks;
- acts of the revoked member after its revocation.

The votes with someone else's ring are forgery_rings.py's.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import random
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from event_factory import signing_key
from forgery_world import World
from network_factory import Scenario, key_of
from vector_corpus import read_vectors

from protocol import cbor
from protocol.errors import LocalError, Reason
from protocol.event import SIGNATURE_DOMAIN, Event, SignedEvent, sign
from protocol.genesis import Genesis, make_genesis, parse_genesis
from protocol.ring import GROUP_ORDER
from storage import IngestStatus

#: Reasons an event can get before the rules against state: decoding,
#: envelope, network, signature (specs/events.md sections 1.4, 2.1, 2.2, 3).
PRE_STATE_REASONS = frozenset(
    reason
    for reason in Reason
    if list(Reason).index(reason) <= list(Reason).index(Reason.BAD_SIGNATURE)
    and reason is not Reason.BAD_GENESIS
)
WRONG_NET = frozenset({Reason.WRONG_NETWORK})


@dataclass(frozen=True)
class Case:
    """One forgery: its bytes and the outcome every way in must give it.

    ``reasons`` are the codes the specs allow; the reference (``protocol``)
    picks one, and every other way in must give exactly that one."""

    family: str
    target: str
    raw: bytes
    reasons: frozenset[Reason]
    status: IngestStatus = IngestStatus.REJECTED


def wire(unsigned: bytes, signature: bytes) -> bytes:
    """A signed event's wire bytes: its unsigned bytes and ``signature``,
    whether or not the signature holds."""
    return b"\x82" + unsigned + b"\x58\x40" + signature


def _reencoded(event: Event, signature: bytes) -> bytes | None:
    """The wire bytes of ``event`` (canonical) under ``signature``; None if
    ``event`` is outside the data model."""
    try:
        unsigned = cbor.encode(event.to_value())
    except LocalError:
        return None
    return wire(unsigned, signature)


def bit_flips(name: str, target: SignedEvent, bits: Iterable[int]) -> list[Case]:
    """The target with one bit flipped, for each bit index of ``bits``."""
    raw = target.raw
    signature_from = (len(raw) - 64) * 8
    signed = range(8, (len(raw) - 66) * 8)
    cases = []
    for bit in bits:
        damaged = bytearray(raw)
        damaged[bit // 8] ^= 1 << (bit % 8)
        if bit >= signature_from:
            family, reasons = "flip_signature", frozenset({Reason.BAD_SIGNATURE})
        else:
            family = "flip_signed_bytes" if bit in signed else "flip_framing"
            reasons = PRE_STATE_REASONS
        cases.append(Case(family, name, bytes(damaged), reasons))
    return cases


def chosen_bits(target: SignedEvent, *, full: bool, rng: random.Random) -> list[int]:
    """Every bit at full size; in CI a sample: 12 of the signature's, 24 of
    the signed bytes', and one of each framing byte."""
    size = len(target.raw) * 8
    if full:
        return list(range(size))
    signature = rng.sample(range(size - 512, size), 12)
    signed = rng.sample(range(8, size - 528), 24)
    framing = [rng.randrange(0, 8), rng.randrange(size - 528, size - 512)]
    return sorted(signature + signed + framing)


def forged_signatures(
    world: World, name: str, target: SignedEvent, rng: random.Random, randoms: int
) -> list[Case]:
    """Signatures that are not the author's over this event."""
    raw, bad = target.raw, frozenset({Reason.BAD_SIGNATURE})
    author = world.keys[target.author]
    message = SIGNATURE_DOMAIN + target.id
    r, s = target.signature[:32], int.from_bytes(target.signature[32:], "little")
    others = [e for e in world.events if e.author == target.author and e.id != target.id][:2]
    signatures = {
        "random_signature": [rng.randbytes(64) for _ in range(randoms)] + [bytes(64), b"\xff" * 64],
        # S not below the group order: the same signature's other encodings.
        "malleated_signature": [
            r + GROUP_ORDER.to_bytes(32, "little"),
            r + (s + GROUP_ORDER).to_bytes(32, "little"),
        ],
        "other_key_signature": [
            other.sign(message).signature
            for other in (world.scenario.registrars[1], world.outsider, signing_key("stranger"))
            if key_of(other) != target.author
        ],
        "signature_over_other_bytes": [
            author.sign(target.id).signature,
            author.sign(raw[1:-66]).signature,  # the unsigned bytes
            author.sign(b"ayllu/vote/v1\x00" + target.id).signature,
            author.sign(b"ayllu/registrars/v1\x00" + target.id).signature,
            author.sign(SIGNATURE_DOMAIN + hashlib.sha256(raw).digest()).signature,
            *(other.signature for other in others),
        ],
    }
    return [
        Case(family, name, raw[:-64] + signature, bad)
        for family, values in signatures.items()
        for signature in values
    ]


def altered_values(value: Any) -> list[Any]:
    """Other values of the same type, as a forger would change a field."""
    if isinstance(value, bool) or value is None:
        return [not value] if isinstance(value, bool) else []
    if isinstance(value, int):
        return [value + 1, max(0, value - 1)] if value > 0 else [value + 1]
    if isinstance(value, bytes):
        return [value[:-1] + bytes([value[-1] ^ 1])] if value else [b"\x00"]
    if isinstance(value, str):
        return [value + "!"]
    if isinstance(value, list):
        changed = [value[:-1]] if value else []
        if value:
            changed += [[*value[:-1], other] for other in altered_values(value[-1])[:1]]
        return changed
    if isinstance(value, dict):
        return [
            {**value, key: other}
            for key in sorted(value)[:1]
            for other in altered_values(value[key])[:1]
        ]
    return []


def altered_bodies(world: World, name: str, target: SignedEvent) -> list[Case]:
    """Each body field, and each envelope field, changed under the old signature."""
    event, signature = target.event, target.signature
    changed: list[tuple[str, Event, frozenset[Reason]]] = []
    schema = frozenset(
        {
            Reason.BAD_SIGNATURE,
            Reason.BAD_BODY,
            Reason.BAD_FIELD,
            Reason.BAD_REFS,
            Reason.UNKNOWN_KIND,
        }
    )
    for key in sorted(event.body):
        for other in altered_values(event.body[key]):
            body = {**event.body, key: other}
            changed.append(("altered_body", dataclasses.replace(event, body=body), schema))
    other_key = key_of(
        world.outsider if target.author != key_of(world.outsider) else world.scenario.founder
    )
    envelope = [
        dataclasses.replace(event, ts=event.ts + 1),
        dataclasses.replace(event, ts=event.ts - 1),
        dataclasses.replace(event, author=other_key),
        dataclasses.replace(
            event, group=world.bases[1] if event.group != world.bases[1] else world.bases[0]
        ),
        dataclasses.replace(event, refs=event.refs[:-1]),
        dataclasses.replace(event, refs=tuple(sorted({*event.refs, world.proposal.id}))),
    ]
    changed += [("altered_envelope", e, schema) for e in envelope if e != event]
    changed.append(
        ("altered_net", moved_to(event, hashlib.sha256(b"another network").digest()), WRONG_NET)
    )
    cases = []
    for family, altered, reasons in changed:
        raw = _reencoded(altered, signature)
        if raw is not None and raw != target.raw:
            cases.append(Case(family, name, raw, reasons))
    return cases


def moved_to(event: Event, net: bytes) -> Event:
    """``event`` in network ``net`` (a network-scoped kind names the network
    as its group)."""
    moved = dataclasses.replace(event, net=net)
    if event.group == event.net:
        moved = dataclasses.replace(moved, group=net)
    return moved


def other_genesis(world: World) -> Genesis:
    """A network like the world's, under another name: another network id."""
    g = world.genesis
    return make_genesis(
        name="otra red",
        ts=g.ts,
        root=g.root,
        founder=g.founder,
        registrars=g.registrars,
        quorum=g.quorum,
    )


def resigned_elsewhere(world: World, name: str, target: SignedEvent, net: bytes) -> Case:
    """The target signed by its own author for another network: valid there."""
    resigned = sign(moved_to(target.event, net), world.keys[target.author])
    return Case("other_network_resigned", name, resigned.raw, WRONG_NET)


def vector_replays(world: World, name: str) -> list[Case]:
    """Events of the spec vectors' networks that are not the world's: every
    valid event of events.json, and a sample of every other-network
    scenario of groups.json."""
    raws = [bytes.fromhex(v["input_hex"]) for v in read_vectors("events.json")["valid"]]
    for scenario in read_vectors("groups.json")["scenarios"]:
        genesis = parse_genesis(bytes.fromhex(scenario["genesis_hex"]))
        if genesis.network_id != world.net:
            raws += [bytes.fromhex(e["event_hex"]) for e in scenario["events"][:3]]
    return [Case("other_network_vectors", name, raw, WRONG_NET) for raw in raws]


@contextlib.contextmanager
def off_the_record(s: Scenario) -> Iterator[Scenario]:
    """Events made in the block are not kept: the world stays as it was."""
    saved = list(s.events)
    try:
        yield s
    finally:
        s.events[:] = saved


def revoked_acts(world: World) -> list[Case]:
    """Acts of the revoked member after the revocation, referring to the
    certificate that gave it standing, and a new certificate for its key."""
    who, base = world.revoked, world.bases[1]
    claim = {
        "entity": "Minera Sur",
        "relation": "owns",
        "target": "Radio Altiplano",
        "date": "2025-06-01",
        "sources": [{"url": "https://example.org/registro"}],
    }
    with off_the_record(world.scenario) as s:
        acts = [
            s.propose(who, world.region, title="Propuesta robada"),
            s.support(who, world.proposal),
            s.comment(who, world.proposal, "Yo no fui."),
            s.event("member.apply", who, {}, group=world.bases[0]),
            s.found(who, "grupo robado", 1),
            s.attest(who, base, world.people[1][0]),
            s.endorse(who, base, world.people[1][0]),
            s.event("map.claim", who, claim, group=world.region),
            s.certify(who, "77777777"),
        ]
    revoked = frozenset({Reason.KEY_REVOKED})
    return [Case("revoked_key", "revoked", act.raw, revoked, IngestStatus.REFUSED) for act in acts]


def revoked_control(world: World) -> SignedEvent:
    """An honest act after the revocation: what the revoked victim must take."""
    with off_the_record(world.scenario) as s:
        return s.comment(world.people[0][0], world.proposal, "Sigamos.")


def distinct(cases: Iterable[Case]) -> list[Case]:
    """The cases, each byte string once (an altered field can be a bit flip
    too: ``ts + 1`` of an even ``ts``)."""
    seen: set[bytes] = set()
    out = []
    for case in cases:
        if case.raw not in seen:
            seen.add(case.raw)
            out.append(case)
    return out
