"""Signed events for tests: deterministic keys, groups, times and network.

tests/helpers/ is on pytest's ``pythonpath`` (pyproject.toml); it holds only
helpers, so nothing here can shadow a project package.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from nacl.signing import SigningKey

from protocol.event import Event, SignedEvent, sign
from protocol.genesis import make_genesis
from protocol.keys import key_from_seed

#: The validating node's clock in every test (ms since the epoch).
NOW_MS = 1_700_000_000_000


def _digest(label: str) -> bytes:
    return hashlib.sha256(label.encode()).digest()


def signing_key(name: str) -> SigningKey:
    return key_from_seed(_digest(f"test key {name}"))


ALICE = signing_key("alice")
BOB = signing_key("bob")
GROUP_A = _digest("test group a")
GROUP_B = _digest("test group b")

#: The network every test event belongs to: Alice founded it and is its one
#: registrar. Its root group's id is NET itself.
GENESIS = make_genesis(
    name="ayllu test network",
    ts=NOW_MS - 86_400_000,
    root={
        "name": "ayllu test network",
        "langs": ["ay", "es", "qu"],
        "level": 3,
        "rules": {
            "quorum_pct": 50,
            "support_pct": 20,
            "threshold_pct": 50,
            "term_days": 90,
            "merit_days": 30,
        },
    },
    founder=bytes(ALICE.verify_key),
    registrars=[bytes(ALICE.verify_key)],
    quorum=1,
)
NET = GENESIS.network_id


def author_of(key: SigningKey) -> bytes:
    return bytes(key.verify_key)


def note(
    ts: int,
    *,
    key: SigningKey = ALICE,
    group: bytes = GROUP_A,
    refs: Iterable[bytes] = (),
    text: str = "hola",
    net: bytes = NET,
) -> SignedEvent:
    """A signed "note"; ``refs`` in any order (the envelope wants them sorted)."""
    event = Event(
        kind="note",
        group=group,
        author=author_of(key),
        net=net,
        ts=ts,
        body={"lang": "es", "text": text},
        refs=tuple(sorted(set(refs))),
    )
    return sign(event, key)


def peer_record(
    ts: int, *, key: SigningKey = ALICE, group: bytes = GROUP_A, net: bytes = NET
) -> SignedEvent:
    """A signed "peer.record", the other kind there is, for the kind filter."""
    event = Event(
        kind="peer.record",
        group=group,
        author=author_of(key),
        net=net,
        ts=ts,
        body={"addrs": [b"\x04\x7f\x00\x00\x01\x06\x0f\xa1"]},
    )
    return sign(event, key)
