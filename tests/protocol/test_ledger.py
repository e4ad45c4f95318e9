"""The transparency ledger in the state fold (protocol/ledger.py,
specs/accountability.md section 6): only the steward writes it, only a
decided ballot allocates, currencies never mix, flags derive from the
entries, grants wait for their ratification, the treasury's share shows."""

from __future__ import annotations

from accountability_factory import (
    allocate,
    budget,
    decide_in_group,
    decide_proposal,
    elect,
    grant,
    money,
    spend,
)
from ballot_factory import HOUR_MS
from folding import fold, refused
from nacl.signing import SigningKey
from network_factory import DAY_MS, RULES, Scenario, build_fractal, key_of

from protocol.errors import Reason


def _with_steward(**rules: object) -> tuple[Scenario, bytes, list[SigningKey], SigningKey]:
    """A base group of four whose second member was elected steward."""
    s = Scenario(root_level=3, rules={**RULES, **rules})
    fractal = build_fractal(s, [4, 3], regions=1, bases=2)
    base = fractal.tree[next(iter(fractal.tree))][0]
    people = fractal.members[base]
    elect(s, people[0], base, people, people[1:3], [0, 0, 0, 0], role="steward")
    assert fold(s).state.roles.holder(base, "steward", s.now) == key_of(people[1])
    return s, base, people, people[1]


def test_only_the_steward_writes_the_ledger_in_the_lines_currency() -> None:
    s, base, people, steward = _with_steward()
    line = budget(s, steward, base, "Canal de riego")
    by_member = budget(s, people[0], base, "Fiesta")
    twice = budget(s, steward, base, "Canal de riego")
    dollars = spend(s, steward, line, 100, "Ferretería", currency="USD")
    nowhere = s.event(
        "ledger.spend",
        steward,
        {**dollars.event.body, "line": bytes(32), "currency": "PEN"},
        group=base,
    )
    governance = fold(s)
    assert refused(governance, line) is None
    assert refused(governance, by_member) == Reason.NOT_STEWARD
    assert refused(governance, twice) == Reason.DUPLICATE_LINE
    assert refused(governance, dollars) == Reason.WRONG_CURRENCY
    assert refused(governance, nowhere) == Reason.UNKNOWN_LINE


def test_an_allocation_needs_the_ballot_that_decided_it() -> None:
    s, base, people, steward = _with_steward()
    line = budget(s, steward, base, "Canal de riego")
    rejected = decide_proposal(s, base, people, [1, 1, 1, 0])  # "no" wins
    approved = decide_proposal(s, base, people, [0, 0, 0, 1])
    wrong_option = allocate(s, steward, line, 50_000, rejected, option=0)
    right = allocate(s, steward, line, 50_000, approved, option=0)
    governance = fold(s)
    assert refused(governance, wrong_option) == Reason.NOT_DECIDED
    assert refused(governance, right) is None
    [described] = governance.state.ledger.describe(base)["lines"]
    assert (described["allocated"], described["available"]) == (50_000, 50_000)


def test_overspending_and_unallocated_spending_are_flagged() -> None:
    s, base, people, steward = _with_steward()
    line = budget(s, steward, base, "Canal de riego")
    empty = budget(s, steward, base, "Viajes")
    ballot = decide_proposal(s, base, people, [0, 0, 0, 0])
    allocate(s, steward, line, 10_000, ballot)
    within = spend(s, steward, line, 8_000, "Ferretería Puno")
    beyond = spend(s, steward, line, 3_000, "Ferretería Puno")
    trip = spend(s, steward, empty, 500, "Transportes Titicaca")
    governance = fold(s)
    assert all(refused(governance, e) is None for e in (within, beyond, trip))
    ledger = governance.state.ledger.describe(base)
    flags = {(f["kind"], f["event"]) for f in ledger["flags"]}
    assert flags == {("over_allocation", beyond.id.hex()), ("no_allocation", trip.id.hex())}
    lines = {row["name"]: row for row in ledger["lines"]}
    assert lines["Canal de riego"]["available"] == -1_000
    assert ledger["balances"] == {"PEN": -11_500}


def test_payments_split_under_the_threshold_and_to_the_steward_are_flagged() -> None:
    s, base, people, steward = _with_steward()
    line = budget(s, steward, base, "Obras", split_threshold=10_000)
    allocate(s, steward, line, 100_000, decide_proposal(s, base, people, [0, 0, 0, 0]))
    first = spend(s, steward, line, 6_000, "Constructora Illimani")
    second = spend(s, steward, line, 5_000, "constructora  ILLIMANI")  # the same payee
    s.tick(31 * DAY_MS)
    later = spend(s, steward, line, 6_000, "Constructora Illimani")  # a month on: not split
    self_paid = spend(s, steward, line, 1_000, "Ana", payee_key=key_of(steward))
    flags = [(f["kind"], f["event"]) for f in fold(s).state.ledger.describe(base)["flags"]]
    assert flags == [("split_payment", second.id.hex()), ("payee_is_steward", self_paid.id.hex())]
    assert first.id.hex() not in {event for _, event in flags}
    assert later.id.hex() not in {event for _, event in flags}


def test_a_grant_is_frozen_until_the_community_ratifies_it() -> None:
    s, base, people, steward = _with_steward()
    line = budget(s, steward, base, "Posta médica")
    funds = grant(s, steward, line, 200_000, "Fundación Andina")
    too_soon = spend(s, steward, line, 1_000, "Farmacia")
    governance = fold(s)
    assert refused(governance, too_soon) == Reason.NOT_RATIFIED
    ballot = governance.state.ballots.ballot(funds.id)
    assert ballot.options == ["ratify", "reject"]
    assert ballot.closes - ballot.opens == 14 * DAY_MS  # ratify_days
    assert ballot.opens == funds.ts + HOUR_MS
    assert governance.state.ledger.describe(base)["lines"][0]["grants"] == [
        {"id": funds.id.hex(), "ratified": False}
    ]
    decide_in_group(
        s,
        funds,
        base,
        people,
        [0, 0, 1, 0],
        opens=ballot.opens,
        closes=ballot.closes,
        counter=people[0],
    )
    paid = spend(s, steward, line, 1_000, "Farmacia")
    governance = fold(s)
    assert refused(governance, paid) is None
    [row] = governance.state.ledger.describe(base)["lines"]
    assert (row["granted"], row["spent"], row["available"]) == (200_000, 1_000, 199_000)
    assert governance.state.ledger.describe(base)["flags"] == []


def test_the_treasury_takes_its_share_of_a_declared_surplus() -> None:
    s, base, _, steward = _with_steward(treasury_pct=15)
    money(s, "ledger.income", steward, base, 500_000, source="Venta de quinua")
    money(s, "ledger.surplus", steward, base, 120_001, period="2026")
    money(s, "ledger.treasury", steward, base, 10_000)
    ledger = fold(s).state.ledger.describe(base)
    assert ledger["treasury"] == {
        "PEN": {"surplus": 120_001, "owed": 18_000, "paid": 10_000, "unpaid": 8_000}
    }
    assert ledger["balances"] == {"PEN": 490_000}
