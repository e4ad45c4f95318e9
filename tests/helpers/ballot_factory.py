"""Ballots for tests: open, freeze rings, vote in secret, count and sum.

Functions over a ``network_factory.Scenario``: each signs its event at the
scenario's clock (or the time given) and appends it to the scenario. Votes
are signed by a one-time key derived from the voter and the scenario's
length, and by a ring signature with a nonce seed derived the same way, so
every run makes the same bytes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from event_factory import signing_key
from nacl.signing import SigningKey
from network_factory import Fractal, Scenario, key_of

from protocol.ballots import RECALL_OPTIONS, prepare_ring, vote_body, votes_hash
from protocol.event import SignedEvent
from protocol.ring import POINT_SIZE, RingSigner, compute_ring_hash

HOUR_MS = 3_600_000


def open_ballot(
    s: Scenario,
    opener: SigningKey,
    scope: bytes,
    *,
    counting_level: int,
    options: Sequence[str] = ("sí", "no"),
    method: str = "single",
    proposal: bytes | None = None,
    candidates: Sequence[bytes] | None = None,
    role: str | None = None,
    term: int | None = None,
    opens_in: int = HOUR_MS,
    lasts: int = 24 * HOUR_MS,
) -> SignedEvent:
    body: dict[str, object] = {
        "lang": "es",
        "opens": s.now + opens_in,
        "closes": s.now + opens_in + lasts,
        "method": method,
        "options": list(options),
        "question": "¿Aprobamos la propuesta?",
        "quorum_pct": 50,
        "threshold_pct": 50,
        "counting_level": counting_level,
    }
    if proposal is not None:
        body["proposal"] = proposal
    if candidates is not None:
        body["candidates"] = list(candidates)
    if role is not None:
        body["role"] = role
    if term is not None:
        body["term"] = term
    refs = [proposal] if proposal is not None else []
    return s.event("ballot.open", opener, body, group=scope, refs=refs)


def freeze_ring(
    s: Scenario, actor: SigningKey, ballot: SignedEvent, group: bytes, keys: Iterable[bytes]
) -> SignedEvent:
    return s.event(
        "ballot.ring",
        actor,
        {"keys": sorted(keys), "ballot": ballot.id},
        group=group,
        refs=[ballot.id],
    )


def cast(
    s: Scenario,
    ring_event: SignedEvent,
    voter: SigningKey,
    choice: Sequence[int],
    *,
    ts: int | None = None,
) -> SignedEvent:
    """A secret vote by ``voter`` (who must be in the ring) at ``ts`` (default:
    the scenario's next second)."""
    ring = prepare_ring(ring_event)
    nth = len(s.events)  # unique within the scenario, and the same every run
    one_time = signing_key(f"one-time {key_of(voter).hex()} {nth}")
    seed = hashlib.sha256(b"nonce seed %d" % nth + key_of(voter)).digest()
    body = vote_body(ring, ring_event.id, RingSigner.from_key(voter), choice, one_time, seed)
    return s.event("vote", one_time, body, group=ring_event.group, refs=[ring_event.id], ts=ts)


def tally(votes: Iterable[SignedEvent], width: int) -> tuple[list[int], int, bytes]:
    """What a counting group publishes: the last vote (in key order) of each
    key image counts."""
    last: dict[bytes, SignedEvent] = {}
    for vote in sorted(votes, key=lambda v: (v.ts, v.id)):
        last[vote.event.body["sig"][:POINT_SIZE]] = vote
    counts = [0] * width
    for vote in last.values():
        for option in vote.event.body["choice"]:
            counts[option] += 1
    return counts, len(last), votes_hash(vote.id for vote in last.values())


def count_result(
    s: Scenario,
    actor: SigningKey,
    ballot: SignedEvent,
    ring_event: SignedEvent,
    votes: Iterable[SignedEvent],
    *,
    counts: Sequence[int] | None = None,
    ts: int | None = None,
) -> SignedEvent:
    """A counting group's result; ``counts`` overrides the true counts (a lie)."""
    true_counts, voters, digest = tally(votes, _width(ballot))
    keys = ring_event.event.body["keys"]
    return s.event(
        "result.count",
        actor,
        {
            "ballot": ballot.id,
            "counts": list(true_counts if counts is None else counts),
            "voters": voters,
            "eligible": len(keys),
            "ring_hash": compute_ring_hash(keys),
            "votes_hash": digest,
        },
        group=ring_event.group,
        refs=[ballot.id, ring_event.id],
        ts=ts,
    )


def sum_result(
    s: Scenario,
    actor: SigningKey,
    ballot: SignedEvent,
    group: bytes,
    parts: Sequence[SignedEvent],
    *,
    counts: Sequence[int] | None = None,
) -> SignedEvent:
    """A group's sum of its children's results; ``counts`` overrides (a lie)."""
    width = _width(ballot)
    true_counts = [sum(p.event.body["counts"][i] for p in parts) for i in range(width)]
    return s.event(
        "result.sum",
        actor,
        {
            "parts": sorted(p.id for p in parts),
            "ballot": ballot.id,
            "counts": list(true_counts if counts is None else counts),
            "voters": sum(p.event.body["voters"] for p in parts),
            "eligible": sum(p.event.body["eligible"] for p in parts),
        },
        group=group,
        refs=[ballot.id, *(p.id for p in parts)],
    )


def _width(ballot: SignedEvent) -> int:
    """How many options the ballot ``ballot`` stands for has: a recall
    motion (or conviction) is the id of the recall ballot it opened."""
    if ballot.kind == "ballot.open":
        return len(ballot.event.body["options"])
    return len(RECALL_OPTIONS)


@dataclass
class Election:
    """An election of a region's coordinator, opened and with its rings."""

    region: bytes
    bases: list[bytes]
    #: Each base group's members, founder first.
    people: list[list[SigningKey]]
    #: Founded the region and acts for it: opened the ballot.
    founder: SigningKey
    ballot: SignedEvent
    rings: list[SignedEvent]


def open_election(s: Scenario, fractal: Fractal) -> Election:
    """The first region's coordinator, elected among the second members of
    its first two base groups (options "a" and "b"), counted in those
    groups, whose founders freeze their rings."""
    region = next(iter(fractal.tree))
    bases = fractal.tree[region][:2]
    people = [fractal.members[b] for b in bases]
    founder = people[0][0]
    candidates = sorted([key_of(people[0][1]), key_of(people[1][1])])
    ballot = open_ballot(
        s, founder, region, counting_level=1, options=("a", "b"), candidates=candidates
    )
    rings = [
        freeze_ring(s, people[i][0], ballot, bases[i], [key_of(p) for p in people[i]])
        for i in range(2)
    ]
    return Election(region, bases, people, founder, ballot, rings)
