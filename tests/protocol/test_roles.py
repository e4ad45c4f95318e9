"""Roles and their rotation (protocol/roles.py, protocol/calendar.py,
specs/accountability.md sections 1 and 2): stewards and auditors hold
their role by election, for terms of whole calendar months, and an expired
role is vacant until the next election."""

from __future__ import annotations

import datetime

from accountability_factory import decide_in_group, elect, recall_motion, support_motion
from ballot_factory import HOUR_MS, open_ballot
from folding import fold, refused
from hypothesis import given
from hypothesis import strategies as st
from nacl.signing import SigningKey
from network_factory import RULES, Scenario, build_fractal, key_of

from protocol.calendar import civil_from_days, days_from_civil, month_of, month_start_ms
from protocol.errors import Reason


@given(st.integers(min_value=-700_000, max_value=2_900_000))
def test_civil_dates_match_the_gregorian_calendar(days: int) -> None:
    date = datetime.date(1970, 1, 1) + datetime.timedelta(days=days)
    assert civil_from_days(days) == (date.year, date.month, date.day)
    assert days_from_civil(date.year, date.month, date.day) == days


@given(st.integers(min_value=0, max_value=4_000_000_000_000))
def test_every_instant_lies_in_its_month(at_ms: int) -> None:
    month = month_of(at_ms)
    assert month_start_ms(month) <= at_ms < month_start_ms(month + 1)
    date = datetime.datetime.fromtimestamp(at_ms // 1000, datetime.UTC)
    assert month == (date.year - 1970) * 12 + date.month - 1


def _base(
    rules: dict[str, object] | None = None,
) -> tuple[Scenario, bytes, list[SigningKey]]:
    s = Scenario(root_level=3, rules={**RULES, **(rules or {})})
    fractal = build_fractal(s, [3, 3], regions=1, bases=2)
    base = fractal.tree[next(iter(fractal.tree))][0]
    return s, base, fractal.members[base]


def test_a_steward_holds_the_purse_for_a_quarter_then_it_is_vacant() -> None:
    s, base, people = _base()
    ballot = elect(s, people[0], base, people, people[1:], [0, 0, 1], role="steward")
    governance = fold(s)
    assert refused(governance, ballot) is None
    assert governance.state.ballots.outcome(ballot.id)["stands"]
    roles = governance.state.roles
    steward = roles.describe(base, s.now)["steward"]
    assert steward["holder"] == key_of(people[1]).hex()
    term = roles.term_at(base, "steward", ballot.event.body["closes"])
    assert steward["term"] == term
    assert (steward["since_ms"], steward["until_ms"]) == (
        month_start_ms(3 * term),
        month_start_ms(3 * term + 3),
    )
    assert roles.holder(base, "steward", steward["until_ms"] - 1) == key_of(people[1])
    assert roles.holder(base, "steward", steward["until_ms"]) is None  # nobody keeps it
    assert roles.describe(base, s.now)["auditor"]["holder"] is None


def test_an_election_fills_this_term_or_the_next() -> None:
    s, base, people = _base()
    closes = s.now + HOUR_MS + 24 * HOUR_MS
    term = fold(s).state.roles.term_at(base, "auditor", closes)
    candidates = [key_of(p) for p in people[1:]]
    fields = {"counting_level": 1, "options": ("a", "b"), "candidates": candidates}
    next_one = open_ballot(s, people[0], base, role="auditor", term=term + 1, **fields)
    too_far = open_ballot(s, people[0], base, role="auditor", term=term + 2, **fields)
    past = open_ballot(s, people[0], base, role="auditor", term=term - 1, **fields)
    governance = fold(s)
    assert refused(governance, next_one) is None
    assert refused(governance, too_far) == Reason.BAD_BALLOT
    assert refused(governance, past) == Reason.BAD_BALLOT
    assert governance.state.ballots.outcome(next_one.id)["election"] == {
        "role": "auditor",
        "term": term + 1,
    }


def test_the_charter_may_forbid_two_terms_in_a_row() -> None:
    s, base, people = _base({"steward_repeat": False})
    first = elect(s, people[0], base, people, people[1:], [0, 0, 0], role="steward")
    term = fold(s).state.roles.term_at(base, "steward", first.event.body["closes"])
    again = open_ballot(
        s,
        people[0],
        base,
        counting_level=1,
        options=("a", "b"),
        candidates=sorted([key_of(people[1]), key_of(people[2])]),
        role="steward",
        term=term + 1,
    )
    other = open_ballot(
        s,
        people[0],
        base,
        counting_level=1,
        options=("a", "b"),
        candidates=sorted([key_of(people[0]), key_of(people[2])]),
        role="steward",
        term=term + 1,
    )
    governance = fold(s)
    assert refused(governance, again) == Reason.CONSECUTIVE_TERM
    assert refused(governance, other) is None


def test_a_vacant_role_may_be_filled_by_any_elector() -> None:
    s, base, people = _base()
    # people[0] founded the group and acts for it; people[2] is an elector.
    by_elector = elect(s, people[2], base, people, people[:2], [1, 1, 1], role="steward")
    governance = fold(s)
    assert refused(governance, by_elector) is None
    assert governance.state.roles.holder(base, "steward", s.now) == key_of(people[1])
    # Now that it is held, an elector who does not act for the group cannot.
    while_held = open_ballot(
        s,
        people[2],
        base,
        counting_level=1,
        options=("a", "b"),
        candidates=sorted([key_of(people[0]), key_of(people[2])]),
        role="steward",
    )
    assert refused(fold(s), while_held) == Reason.NOT_AUTHORIZED


def test_a_recalled_steward_leaves_at_once_and_an_elector_opens_the_next_election() -> None:
    s, base, people = _base({"support_pct": 50})
    elect(s, people[0], base, people, people[1:], [0, 0, 0], role="steward")
    steward = key_of(people[1])
    motion = recall_motion(s, people[2], base, steward, role="steward")
    support_motion(s, people[0], motion)
    ballot = fold(s).state.ballots.ballot(motion.id)
    decide_in_group(
        s,
        motion,
        base,
        people,
        [0, 1, 0],
        opens=ballot.opens,
        closes=ballot.closes,
        counter=people[2],
    )
    governance = fold(s)
    assert governance.state.roles.holder(base, "steward", s.now) is None
    election = elect(s, people[2], base, people, [people[0], people[2]], [1, 1, 1], role="steward")
    governance = fold(s)
    assert refused(governance, election) is None
    assert governance.state.roles.holder(base, "steward", s.now) == key_of(people[2])
