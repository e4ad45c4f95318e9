"""Accountability events for tests (specs/accountability.md): recall
motions and their support, oversight appointments and convictions.

Functions over a ``network_factory.Scenario``, as in ballot_factory.py: each
signs its event at the scenario's clock and appends it to the scenario. A
motion or conviction stands for the recall ballot it opens: give it to
ballot_factory's ``freeze_ring``, ``count_result`` and ``sum_result``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from ballot_factory import cast, count_result, freeze_ring, open_ballot
from nacl.signing import SigningKey
from network_factory import Scenario, key_of

from protocol.event import SignedEvent


def recall_motion(
    s: Scenario,
    author: SigningKey,
    group: bytes,
    holder: bytes,
    *,
    role: str = "coordinator",
    reason: str = "Manan uyarinchu.",
) -> SignedEvent:
    body = {"lang": "qu", "role": role, "holder": holder, "reason": reason}
    return s.event("recall.motion", author, body, group=group)


def support_motion(s: Scenario, author: SigningKey, motion: SignedEvent) -> SignedEvent:
    return s.event(
        "recall.support", author, {"motion": motion.id}, group=motion.group, refs=[motion.id]
    )


def appoint_oversight(s: Scenario, actor: SigningKey, group: bytes, overseer: bytes) -> SignedEvent:
    return s.event("oversight.appoint", actor, {"oversight": overseer}, group=group)


def convict(
    s: Scenario,
    actor: SigningKey,
    overseer: bytes,
    group: bytes,
    holder: bytes,
    *,
    role: str = "coordinator",
    judgment: bytes = b"Sentencia firme 123-2026",
) -> SignedEvent:
    body = {
        "case": "Expediente 123-2026",
        "role": role,
        "court": "Corte Superior de Puno",
        "group": group,
        "holder": holder,
        "document": hashlib.sha256(judgment).digest(),
    }
    return s.event("recall.conviction", actor, body, group=overseer)


def decide_in_group(
    s: Scenario,
    ballot: SignedEvent,
    group: bytes,
    people: Sequence[SigningKey],
    choices: Sequence[int],
    *,
    opens: int | None = None,
    closes: int | None = None,
    counter: SigningKey | None = None,
) -> SignedEvent:
    """A ballot counted in ``group`` alone (counting level = the group's
    level): the ring frozen by its first member, each person's vote, and
    the count by ``counter`` (default: the first member); returns the
    count. ``opens`` and ``closes`` default to those of a ``ballot.open``;
    a recall or ratification ballot, which has no event of its own, needs
    them given (from the state)."""
    if opens is None or closes is None:
        opens, closes = ballot.event.body["opens"], ballot.event.body["closes"]
    ring = freeze_ring(s, people[0], ballot, group, [key_of(p) for p in people])
    s.now = opens
    votes = [
        cast(s, ring, person, [choice]) for person, choice in zip(people, choices, strict=True)
    ]
    s.now = closes
    return count_result(s, counter or people[0], ballot, ring, votes)


# -- the ledger --


def _document(text: str) -> bytes:
    return hashlib.sha256(text.encode()).digest()


def budget(
    s: Scenario,
    steward: SigningKey,
    group: bytes,
    line: str,
    *,
    currency: str = "PEN",
    split_threshold: int | None = None,
) -> SignedEvent:
    body: dict[str, object] = {"line": line, "currency": currency}
    if split_threshold is not None:
        body["split_threshold"] = split_threshold
    return s.event("ledger.budget", steward, body, group=group)


def allocate(
    s: Scenario,
    steward: SigningKey,
    line: SignedEvent,
    amount: int,
    ballot: SignedEvent,
    option: int = 0,
) -> SignedEvent:
    body = {"line": line.id, "amount": amount, "ballot": ballot.id, "option": option}
    return s.event("ledger.allocate", steward, body, group=line.group, refs=[line.id, ballot.id])


def spend(
    s: Scenario,
    steward: SigningKey,
    line: SignedEvent,
    amount: int,
    payee: str,
    *,
    currency: str | None = None,
    payee_key: bytes | None = None,
) -> SignedEvent:
    body: dict[str, object] = {
        "line": line.id,
        "payee": payee,
        "amount": amount,
        "purpose": "Materiales para el canal",
        "currency": currency or line.event.body["currency"],
        "document": _document(f"factura {payee} {amount} {s.now}"),
    }
    if payee_key is not None:
        body["payee_key"] = payee_key
    return s.event("ledger.spend", steward, body, group=line.group, refs=[line.id])


def grant(
    s: Scenario, steward: SigningKey, line: SignedEvent, amount: int, grantor: str
) -> SignedEvent:
    body = {
        "line": line.id,
        "amount": amount,
        "grantor": grantor,
        "currency": line.event.body["currency"],
        "document": _document(f"convenio {grantor}"),
    }
    return s.event("ledger.grant", steward, body, group=line.group, refs=[line.id])


def money(
    s: Scenario, kind: str, steward: SigningKey, group: bytes, amount: int, **fields: object
) -> SignedEvent:
    """``ledger.income``, ``ledger.surplus`` or ``ledger.treasury`` in PEN."""
    body = {
        "amount": amount,
        "currency": "PEN",
        "document": _document(f"{kind} {amount}"),
        **fields,
    }
    return s.event(kind, steward, body, group=group)


def decide_proposal(
    s: Scenario, group: bytes, people: Sequence[SigningKey], choices: Sequence[int]
) -> SignedEvent:
    """A proposal of a base group, supported by all, put to a ballot by its
    founder and decided by ``choices``; returns the ballot."""
    proposal = s.propose(people[0], group)
    for person in people:
        s.support(person, proposal)
    ballot = open_ballot(s, people[0], group, counting_level=1, proposal=proposal.id)
    decide_in_group(s, ballot, group, people, choices)
    return ballot


def elect(
    s: Scenario,
    opener: SigningKey,
    group: bytes,
    people: Sequence[SigningKey],
    candidates: Sequence[SigningKey],
    choices: Sequence[int],
    *,
    role: str,
    term: int | None = None,
) -> SignedEvent:
    """An election to ``role`` of a base group, opened by ``opener``, its
    options the candidates in the order given, decided by the members'
    ``choices`` and counted by the group's first member; returns the ballot."""
    ballot = open_ballot(
        s,
        opener,
        group,
        counting_level=1,
        options=[f"c{i}" for i in range(len(candidates))],
        candidates=[key_of(c) for c in candidates],
        role=role,
        term=term,
    )
    decide_in_group(s, ballot, group, people, choices)
    return ballot
