"""Votes with someone else's ring (faults_forgery.py, the ``vote``
target's victim): a ring signature for ring A naming ring B, a valid vote
re-wrapped into ring B, a ring of another group or ballot, a ring not in
the refs, votes by a non-member, damaged ring signatures. Each is signed
by a fresh one-time key, so only the ring check can refuse it:
``bad_ring_signature``, ``wrong_ring``, ``bad_key_image`` or
``non_canonical_scalar``.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any

from event_factory import signing_key
from forgery_cases import Case
from forgery_world import World
from nacl.signing import SigningKey
from network_factory import key_of

from protocol.ballots import prepare_ring, vote_body
from protocol.errors import Reason
from protocol.event import Event, sign
from protocol.ring import GROUP_ORDER, POINT_SIZE, PreparedRing, RingSigner

RING_REASONS = frozenset(
    {
        Reason.WRONG_RING,
        Reason.BAD_RING,
        Reason.BAD_RING_SIGNATURE,
        Reason.BAD_KEY_IMAGE,
        Reason.NON_CANONICAL_SCALAR,
    }
)


def foreign_rings(world: World) -> list[Case]:
    """Votes with someone else's ring, and votes by a non-member."""
    ring_a, ring_b = world.rings
    target = world.targets["vote"]
    ballot = ring_a.event.body["ballot"]
    voter = RingSigner.from_key(world.voter)
    cases: list[tuple[str, Event, SigningKey, frozenset[Reason]]] = []
    nth = iter(range(1_000))

    def one_time() -> SigningKey:
        return signing_key(f"forged one-time {next(nth)}")

    def vote(key: SigningKey, body: dict[str, Any], group: bytes, refs: Sequence[bytes]) -> Event:
        return Event(
            kind="vote",
            group=group,
            author=key_of(key),
            net=world.net,
            ts=target.ts,
            body=body,
            refs=tuple(sorted(set(refs))),
        )

    def signed_over(
        keys: Sequence[bytes], signer: RingSigner, ring_id: bytes, key: SigningKey
    ) -> dict[str, Any]:
        prepared = PreparedRing(tuple(sorted(keys)), ballot)
        return vote_body(prepared, ring_id, signer, [1], key, bytes(32))

    ring_b_keys = list(ring_b.event.body["keys"])
    bad_sig = frozenset({Reason.BAD_RING_SIGNATURE})
    wrong = frozenset({Reason.WRONG_RING})
    key = one_time()
    body = vote_body(prepare_ring(ring_a), ring_b.id, voter, [1], key, bytes(32))
    cases.append(
        ("ring_a_signature_naming_ring_b", vote(key, body, ring_b.group, [ring_b.id]), key, bad_sig)
    )
    key = one_time()
    cases.append(
        ("ring_b_named_from_group_a", vote(key, body, ring_a.group, [ring_b.id]), key, wrong)
    )
    key = one_time()
    rewrapped = {**target.event.body, "ring": ring_b.id}
    cases.append(
        (
            "valid_vote_rewrapped_into_ring_b",
            vote(key, rewrapped, ring_b.group, [ring_b.id]),
            key,
            bad_sig,
        )
    )
    key = one_time()
    cases.append(("ring_not_in_refs", vote(key, body, ring_b.group, [ring_a.id]), key, wrong))
    key = one_time()
    other = vote_body(
        prepare_ring(world.other_ring), world.other_ring.id, voter, [0], key, bytes(32)
    )
    cases.append(
        (
            "ring_of_another_ballot",
            vote(key, {**other, "ballot": ballot}, world.other_ring.group, [world.other_ring.id]),
            key,
            wrong,
        )
    )
    outsider = RingSigner.from_key(world.outsider)
    for family, keys in (
        ("non_member_in_place_of_a_member", [*ring_b_keys[1:], outsider.public]),
        ("non_member_added_to_the_ring", [*ring_b_keys, outsider.public]),
        ("non_member_alone", [outsider.public]),
    ):
        key = one_time()
        body = signed_over(keys, outsider, ring_b.id, key)
        cases.append((family, vote(key, body, ring_b.group, [ring_b.id]), key, bad_sig))
    valid = target.event.body["sig"]
    damaged = {
        "identity_key_image": b"\x01" + bytes(31) + valid[POINT_SIZE:],
        "non_canonical_c0": valid[:POINT_SIZE] + GROUP_ORDER.to_bytes(32, "little") + valid[64:],
        "random_ring_signature": random.Random(7).randbytes(len(valid)),
        "ring_signature_truncated": valid[:-32],
    }
    for family, sig in damaged.items():
        key = one_time()
        body = {**target.event.body, "sig": sig}
        cases.append((family, vote(key, body, ring_a.group, [ring_a.id]), key, RING_REASONS))
    return [
        Case(f"foreign_ring:{family}", "vote", sign(event, key).raw, reasons)
        for family, event, key, reasons in cases
    ]
