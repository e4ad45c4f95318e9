"""Builds specs/vectors/accountability.json: roles and their terms,
recall motions, the recall ballots they open, oversight and convictions,
as scenarios of signed events with their outcomes and the state they fold
to (specs/accountability.md, "Test vectors"; the layout of specs/groups.md
section 9).

Run ``python tests/vectors/accountability_vector_builder.py`` to rewrite the
file after a rule change (and change specs/accountability.md in the same
commit).
"""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "helpers"))

import nacl.bindings
from accountability_factory import (
    allocate,
    appoint_oversight,
    budget,
    convict,
    decide_in_group,
    decide_proposal,
    elect,
    grant,
    money,
    recall_motion,
    spend,
    support_motion,
)
from ballot_factory import open_ballot
from event_factory import signing_key
from nacl.encoding import RawEncoder
from nacl.hash import blake2b
from nacl.public import PrivateKey, PublicKey, SealedBox
from nacl.signing import SigningKey
from network_factory import DAY_MS, RULES, Scenario, build_fractal, key_of
from scenario_vectors import scenario_file

import protocol.reports as reports_module
from protocol.event import SignedEvent
from protocol.reports import Receipt, follow_up, make_box_shares, reply_body, seal_report
from protocol.state import Governance

VECTORS_PATH = Path(__file__).resolve().parents[2] / "specs" / "vectors" / "accountability.json"


def _fractal(s: Scenario) -> tuple[bytes, list[bytes], list[list[SigningKey]]]:
    """A region over two base groups of three, under a level-3 root; each
    group's first member founded it and acts for it."""
    fractal = build_fractal(s, [3, 3], regions=1, bases=2)
    region = next(iter(fractal.tree))
    bases = fractal.tree[region]
    return region, bases, [fractal.members[base] for base in bases]


def _ballot_of(s: Scenario, motion: SignedEvent) -> tuple[int, int]:
    """When the recall ballot that ``motion`` opened opens and closes."""
    governance = Governance(s.genesis)
    governance.add(s.events)
    ballot = governance.state.ballots.ballot(motion.id)
    return ballot.opens, ballot.closes


def stewards() -> Scenario:
    """A steward elected by the group's members for a quarter (opened by an
    elector while the role is vacant); an auditor for the next year; an
    election for a term too far ahead, and one by an elector while the
    role is held; with steward_repeat false, the same steward again."""
    s = Scenario(root_level=3, rules={**RULES, "steward_repeat": False})
    _, bases, people = _fractal(s)
    base, members = bases[0], people[0]
    first = elect(s, members[2], base, members, members[1:], [0, 0, 0], role="steward")
    closes = first.event.body["closes"]
    governance = Governance(s.genesis)
    governance.add(s.events)
    term = governance.state.roles.term_at(base, "steward", closes)
    year = governance.state.roles.term_at(base, "auditor", closes)
    elect(s, members[0], base, members, members[:2], [1, 1, 0], role="auditor", term=year + 1)
    candidates = sorted([key_of(members[0]), key_of(members[2])])
    options = ("a", "b")
    open_ballot(  # bad_ballot: two terms ahead
        s,
        members[0],
        base,
        counting_level=1,
        options=options,
        candidates=candidates,
        role="auditor",
        term=year + 2,
    )
    open_ballot(  # not_authorized: the steward's role is held
        s,
        members[2],
        base,
        counting_level=1,
        options=options,
        candidates=candidates,
        role="steward",
    )
    open_ballot(  # consecutive_term
        s,
        members[0],
        base,
        counting_level=1,
        options=options,
        candidates=sorted([key_of(members[1]), key_of(members[2])]),
        role="steward",
        term=term + 1,
    )
    return s


def recall_by_motion() -> Scenario:
    """A base group's coordinator recalled: a motion (and a second one, a
    duplicate), support from outside (refused) and from a member, which
    qualifies it (60 % of 3, rounded up: 2); the recall ballot it opened,
    voted in secret and counted by a member; then the coordinator, still
    endorsed, holds nothing for the rest of the term."""
    s = Scenario(root_level=3, rules={**RULES, "support_pct": 60})
    _, bases, people = _fractal(s)
    base, members = bases[0], people[0]
    for person in members:
        s.endorse(person, base, members[1])
    holder = key_of(members[1])
    recall_motion(s, members[0], base, key_of(members[2]))  # not_role_holder
    motion = recall_motion(s, members[0], base, holder)
    recall_motion(s, members[2], base, holder)  # duplicate_motion
    support_motion(s, people[1][0], motion)  # not_authorized: not an elector here
    s.event("recall.support", members[2], {"motion": bytes(32)}, group=base)  # unknown_motion
    support_motion(s, members[2], motion)
    support_motion(s, members[2], motion)  # duplicate_support
    opens, closes = _ballot_of(s, motion)
    decide_in_group(
        s, motion, base, members, [0, 1, 0], opens=opens, closes=closes, counter=members[2]
    )
    s.endorse(members[0], base, members[1])
    return s


def motion_expires() -> Scenario:
    """A motion that gathers no support in time (recall_days, 7 by
    default), then is put again."""
    s = Scenario(root_level=3, rules={**RULES, "support_pct": 60})
    _, bases, people = _fractal(s)
    base, members = bases[0], people[0]
    for person in members:
        s.endorse(person, base, members[1])
    motion = recall_motion(s, members[0], base, key_of(members[1]))
    s.now = motion.ts + 7 * DAY_MS
    support_motion(s, members[2], motion)  # motion_expired
    recall_motion(s, members[2], base, key_of(members[1]))
    return s


def conviction() -> Scenario:
    """The root names its oversight group (after a refused appointment of
    itself and one by someone who does not act for it); a conviction
    recorded by a group that is not the oversight (refused), then by the
    oversight group: its recall ballot opens at once, and a motion against
    the same coordinator meanwhile is a duplicate."""
    s = Scenario(root_level=3)
    region, bases, people = _fractal(s)
    base, members = bases[0], people[0]
    for person in members:
        s.endorse(person, base, members[1])
    holder = key_of(members[1])
    appoint_oversight(s, s.founder, s.net, s.net)  # bad_oversight
    appoint_oversight(s, members[0], s.net, region)  # not_authorized
    appoint_oversight(s, s.founder, s.net, bases[1])
    convict(s, members[0], region, base, holder)  # not_oversight
    convict(s, people[1][0], bases[1], base, holder)
    recall_motion(s, members[0], base, holder)  # duplicate_motion
    return s


def power_map() -> Scenario:
    """Claims of the power map, confirmed by two people (one of whom
    changes their mind, then back), disputed by a third; a review of the
    author's own claim and one of no claim (refused)."""
    s = Scenario(root_level=3)
    region, bases, people = _fractal(s)
    register = {"url": "https://example.org/registro/20100012345"}
    owns = s.event(
        "map.claim",
        people[0][0],
        {
            "entity": "Familia Andrade",
            "relation": "owns",
            "target": "Minera Sur S.A.",
            "date": "2024-03-01",
            "sources": [register, {"hash": bytes(range(32))}],
            "share_bp": 6000,
            "lang": "es",
        },
        group=region,
    )
    funds = s.event(
        "map.claim",
        people[1][0],
        {
            "entity": "Minera Sur S.A.",
            "relation": "advertises_in",
            "target": "Diario del Altiplano",
            "date": "2025-01-15",
            "sources": [{"url": "https://example.org/pauta/2025"}],
            "amount": 1_250_000,
            "currency": "PEN",
        },
        group=region,
    )

    def review(author: SigningKey, claim: SignedEvent, stance: str, group: bytes = region) -> None:
        body = {"claim": claim.id, "stance": stance, "sources": [register]}
        s.event("map.review", author, body, group=group, refs=[claim.id])

    review(people[0][1], owns, "confirm")
    review(people[1][1], owns, "dispute")
    review(people[1][1], owns, "confirm")  # changed their mind
    review(people[1][2], owns, "confirm")
    review(people[0][2], funds, "dispute")
    review(people[0][0], owns, "confirm")  # self_review
    s.event(  # unknown_claim
        "map.review",
        people[0][1],
        {"claim": bytes(32), "stance": "confirm", "sources": [register]},
        group=region,
    )
    review(people[0][1], funds, "confirm", group=bases[0])  # unknown_claim: not its group
    return s


def ledger() -> Scenario:
    """A steward elected; a budget line and its allocation by a decided
    ballot (and one citing the option that lost); payments within it,
    beyond it, split under its threshold, to the steward; an entry by a
    member who is not the steward, a second line of the same name, a
    payment in another currency and on no line; an external grant whose
    line is frozen until its ratification ballot decides; income, a
    declared surplus and part of the treasury's share paid."""
    s = Scenario(root_level=3)
    _, bases, people = _fractal(s)
    base, members = bases[0], people[0]
    steward = members[1]
    elect(s, members[0], base, members, members[1:], [0, 0, 0], role="steward")
    line = budget(s, steward, base, "Canal de riego", split_threshold=10_000)
    budget(s, members[0], base, "Fiesta")  # not_steward
    budget(s, steward, base, "Canal de riego")  # duplicate_line
    lost = decide_proposal(s, base, members, [1, 1, 0])
    won = decide_proposal(s, base, members, [0, 0, 1])
    allocate(s, steward, line, 20_000, lost, option=0)  # not_decided
    allocate(s, steward, line, 20_000, won, option=0)
    spend(s, steward, line, 12_000, "Ferretería Puno")
    spend(s, steward, line, 6_000, "Constructora Illimani")
    spend(s, steward, line, 5_000, "Constructora Illimani")  # split, and beyond the allocation
    spend(s, steward, line, 1_000, "Ana", payee_key=key_of(steward))
    spend(s, steward, line, 100, "Ferretería Puno", currency="USD")  # wrong_currency
    s.event(  # unknown_line
        "ledger.spend",
        steward,
        {
            "line": bytes(32),
            "payee": "Nadie",
            "amount": 1,
            "purpose": "Nada",
            "currency": "PEN",
            "document": bytes(32),
        },
        group=base,
    )
    clinic = budget(s, steward, base, "Posta médica")
    funds = grant(s, steward, clinic, 200_000, "Fundación Andina")
    spend(s, steward, clinic, 1_000, "Farmacia")  # not_ratified
    opens, closes = _ballot_of(s, funds)
    decide_in_group(
        s, funds, base, members, [0, 0, 1], opens=opens, closes=closes, counter=members[0]
    )
    spend(s, steward, clinic, 1_000, "Farmacia")
    money(s, "ledger.income", steward, base, 500_000, source="Venta de quinua")
    money(s, "ledger.surplus", steward, base, 120_000, period="2026")
    money(s, "ledger.treasury", steward, base, 10_000)
    return s


class _SeededSealedBox:
    """``nacl.public.SealedBox`` with its ephemeral key drawn from a counter
    instead of the system's randomness, byte for byte libsodium's
    ``crypto_box_seal`` otherwise (the ephemeral public key, then the box
    with the nonce BLAKE2b-192(ephemeral || recipient)): so that the vector
    file is the same at every build, and its boxes still open."""

    drawn = 0

    def __init__(self, recipient: PublicKey) -> None:
        self.recipient = bytes(recipient)

    def encrypt(self, plaintext: bytes) -> bytes:
        _SeededSealedBox.drawn += 1
        seed = hashlib.sha256(b"vector ephemeral %d" % _SeededSealedBox.drawn).digest()
        ephemeral, secret = nacl.bindings.crypto_box_seed_keypair(seed)
        nonce = blake2b(ephemeral + self.recipient, digest_size=24, encoder=RawEncoder)
        return ephemeral + nacl.bindings.crypto_box(plaintext, nonce, self.recipient, secret)


def reports() -> Scenario:
    """Protected reports: the root names its oversight group, which
    publishes its box key (after shares that leave a member out); a ring of
    the region (and one leaving a member out); a report by a member, one
    sealed to a key never published, one whose signature was altered; the
    oversight group's replies (and one by an outsider, one to no report);
    the reporter's follow-up with the receipt, and one by another key."""
    reports_module.SealedBox = _SeededSealedBox  # type: ignore[misc]
    try:
        return _reports()
    finally:
        reports_module.SealedBox = SealedBox  # type: ignore[misc]


def _reports() -> Scenario:
    s = Scenario(root_level=3)
    region, bases, people = _fractal(s)
    overseers = people[1]
    appoint_oversight(s, s.founder, s.net, bases[1])
    box = PrivateKey(hashlib.sha256(b"oversight box key").digest())
    box_key = bytes(box.public_key)
    members = [key_of(p) for p in overseers]
    short = {"box_key": box_key, "shares": make_box_shares(box, members[:-1])}
    s.event("oversight.key", overseers[0], short, group=bases[1])  # bad_shares
    shares = {"box_key": box_key, "shares": make_box_shares(box, members)}
    s.event("oversight.key", overseers[0], shares, group=bases[1])
    everyone = sorted(key_of(p) for group in people for p in group)
    s.event("report.ring", people[0][1], {"keys": everyone[1:]}, group=region)  # wrong_ring
    ring = s.event("report.ring", people[0][1], {"keys": everyone}, group=region)

    def report(number: int, sealed_to: bytes) -> tuple[SignedEvent, SigningKey]:
        one_time = signing_key(f"report one-time {number}")
        receipt = signing_key(f"report receipt {number}")
        message = {"text": "El tesorero cobra comisiones.", "lang": "es"}
        seed = hashlib.sha256(b"report nonce %d" % number).digest()
        body = seal_report(
            ring, people[0][2], one_time, bases[1], sealed_to, receipt, message, seed
        )
        return s.event("report", one_time, body, group=bases[1], refs=[ring.id]), receipt

    filed, receipt = report(1, box_key)
    report(2, bytes(PrivateKey(hashlib.sha256(b"another").digest()).public_key))  # unknown_box_key
    altered = {**filed.event.body, "sig": bytes(len(filed.event.body["sig"]))}
    s.event("report", signing_key("report one-time 3"), altered, group=bases[1], refs=[ring.id])
    answer = {"text": "Lo investigamos. Guarde su recibo.", "lang": "es"}
    reply = reply_body(filed.id, "investigating", filed.event.body["receipt"], answer)
    s.event("report.reply", overseers[1], reply, group=bases[1], refs=[filed.id])
    s.event(  # not_authorized: not of the oversight group
        "report.reply", people[0][0], {"report": filed.id, "status": "dismissed"}, group=bases[1]
    )
    s.event(  # unknown_report
        "report.reply", overseers[1], {"report": bytes(32), "status": "resolved"}, group=bases[1]
    )
    more = {"text": "Tengo la boleta.", "lang": "es", "documents": [bytes(range(32))]}
    followed = follow_up(Receipt(filed.id, bytes(receipt)), box_key, more)
    s.event("report.followup", receipt, followed, group=bases[1], refs=[filed.id])
    s.event(  # no_standing: not the receipt's key
        "report.followup", signing_key("someone"), followed, group=bases[1], refs=[filed.id]
    )
    return s


SCENARIOS: dict[str, Callable[[], Scenario]] = {
    "stewards": stewards,
    "recall_by_motion": recall_by_motion,
    "motion_expires": motion_expires,
    "conviction": conviction,
    "power_map": power_map,
    "ledger": ledger,
    "reports": reports,
}


def render() -> str:
    return scenario_file(
        (
            "Roles, recall, oversight, the power map and the ledger (specs/accountability.md): "
            "fold the events in key order (ts, id), or in any arrival order, and get each "
            "event's outcome and the expected state at now_ms; layout as in specs/groups.md "
            "section 9."
        ),
        ["accountability.md", "ballots.md", "groups.md"],
        SCENARIOS,
    )


if __name__ == "__main__":
    VECTORS_PATH.write_text(render(), encoding="utf-8")
    print(f"wrote {VECTORS_PATH}")
