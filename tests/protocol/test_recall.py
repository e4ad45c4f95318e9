"""Rapid recall in the state fold (protocol/recall.py, specs/accountability.md
section 3): motions, support, the recall ballot they open by themselves,
convictions by an oversight group, and what each refuses."""

from __future__ import annotations

from accountability_factory import (
    appoint_oversight,
    convict,
    decide_in_group,
    recall_motion,
    support_motion,
)
from ballot_factory import HOUR_MS, cast, count_result, open_election, sum_result
from event_factory import signing_key
from folding import fold, refused
from nacl.signing import SigningKey
from network_factory import DAY_MS, RULES, Fractal, Scenario, build_fractal, key_of

from protocol.errors import Reason


def _with_coordinator(support_pct: int = 60) -> tuple[Scenario, Fractal, bytes, list[SigningKey]]:
    """A region over two base groups; the first base group's three members
    endorse its second member as coordinator."""
    s = Scenario(root_level=3, rules={**RULES, "support_pct": support_pct})
    fractal = build_fractal(s, [3, 4], regions=1, bases=2)
    base = fractal.tree[next(iter(fractal.tree))][0]
    people = fractal.members[base]
    for person in people:
        s.endorse(person, base, people[1])
    return s, fractal, base, people


def test_a_supported_motion_opens_a_recall_that_removes_the_coordinator() -> None:
    s, fractal, base, people = _with_coordinator()
    holder = key_of(people[1])
    assert fold(s).state.roles.holder(base, "coordinator", s.now) == holder
    motion = recall_motion(s, people[0], base, holder)
    twice = recall_motion(s, people[2], base, holder)  # one pending motion at a time
    outsider = fractal.members[fractal.tree[next(iter(fractal.tree))][1]][0]
    by_outsider = support_motion(s, outsider, motion)
    governance = fold(s)
    assert refused(governance, twice) == Reason.DUPLICATE_MOTION
    assert refused(governance, by_outsider) == Reason.NOT_AUTHORIZED
    # 60 % of 3 electors, rounded up: the motion needs a second supporter.
    described = governance.state.recalls.describe_all()
    assert [(m["needed"], m["qualified_ms"]) for m in described] == [(2, None)]
    assert motion.id not in governance.state.ballots.ballots

    second = support_motion(s, people[2], motion)
    again = support_motion(s, people[2], motion)
    governance = fold(s)
    assert refused(governance, second) is None
    assert refused(governance, again) == Reason.DUPLICATE_SUPPORT
    ballot = governance.state.ballots.ballot(motion.id)
    assert ballot.opens == second.ts + HOUR_MS
    assert ballot.closes == ballot.opens + 7 * DAY_MS  # the default recall_days
    assert ballot.options == ["recall", "keep"] and ballot.counting_level == 1

    # The holder votes too, and cannot stop the count: an elector publishes it.
    count = decide_in_group(
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
    assert refused(governance, count) is None
    outcome = governance.state.ballots.outcome(motion.id)
    assert outcome["decided_option"] == "recall"
    assert outcome["recall"] == {"holder": holder.hex(), "role": "coordinator"}
    roles = governance.state.roles
    assert roles.holder(base, "coordinator", s.now) is None
    # Still endorsed by all three, but recalled for the rest of the term.
    s.endorse(people[0], base, people[1])
    assert fold(s).state.roles.holder(base, "coordinator", s.now) is None
    assert fold(s).state.roles.describe(base, s.now)["coordinator"]["holder"] is None


def test_a_motion_must_name_a_holder_and_come_from_an_elector() -> None:
    s, _, base, people = _with_coordinator()
    not_holder = recall_motion(s, people[0], base, key_of(people[2]))
    stranger = signing_key("stranger")
    s.certify(stranger, "99999999")
    by_stranger = recall_motion(s, stranger, base, key_of(people[1]))
    steward = recall_motion(s, people[0], base, key_of(people[1]), role="steward")
    unknown = s.event("recall.support", people[0], {"motion": bytes(32)}, group=base)
    governance = fold(s)
    assert refused(governance, not_holder) == Reason.NOT_ROLE_HOLDER
    assert refused(governance, by_stranger) == Reason.NOT_AUTHORIZED
    assert refused(governance, steward) == Reason.NOT_ROLE_HOLDER  # no steward yet
    assert refused(governance, unknown) == Reason.UNKNOWN_MOTION


def test_a_motion_without_support_expires_and_may_be_put_again() -> None:
    s, _, base, people = _with_coordinator()
    holder = key_of(people[1])
    motion = recall_motion(s, people[0], base, holder)
    s.now = motion.ts + 7 * DAY_MS
    late = support_motion(s, people[2], motion)
    again = recall_motion(s, people[2], base, holder)
    governance = fold(s)
    assert refused(governance, late) == Reason.MOTION_EXPIRED
    assert refused(governance, again) is None


def test_a_conviction_opens_the_recall_at_once() -> None:
    s, fractal, base, people = _with_coordinator()
    region = next(iter(fractal.tree))
    other = fractal.tree[region][1]
    holder = key_of(people[1])
    itself = appoint_oversight(s, s.founder, s.net, s.net)
    by_outsider = appoint_oversight(s, people[0], s.net, region)  # does not act for the root
    appointed = appoint_oversight(s, s.founder, s.net, other)  # covers every group below
    region_actor = fractal.members[base][0]  # founded the region, acts for it
    wrong_court = convict(s, region_actor, region, base, holder)
    other_actor = fractal.members[other][0]
    conviction = convict(s, other_actor, other, base, holder)
    governance = fold(s)
    assert refused(governance, itself) == Reason.BAD_OVERSIGHT
    assert refused(governance, by_outsider) == Reason.NOT_AUTHORIZED
    assert refused(governance, appointed) is None
    assert governance.state.oversight.oversight_of(base) == other
    assert refused(governance, wrong_court) == Reason.NOT_OVERSIGHT
    assert refused(governance, conviction) is None
    ballot = governance.state.ballots.ballot(conviction.id)
    assert ballot.opens == conviction.ts + HOUR_MS and ballot.scope == base
    # While its ballot runs, no other motion against the same holder.
    motion = recall_motion(s, people[0], base, holder)
    assert refused(fold(s), motion) == Reason.DUPLICATE_MOTION


def test_the_groups_that_chose_a_coordinator_recall_them() -> None:
    """Above the base, the electors are the children's coordinators: they
    put and support the motion; the whole subtree votes in secret."""
    s = Scenario(root_level=3, rules={**RULES, "support_pct": 100})
    election = open_election(s, build_fractal(s, [3, 4], regions=1, bases=2))
    region, bases, people = election.region, election.bases, election.people
    s.now = election.ballot.event.body["opens"]
    votes = [[cast(s, election.rings[i], p, [0]) for p in people[i]] for i in range(2)]
    s.now = election.ballot.event.body["closes"]
    counts = [
        count_result(s, people[i][0], election.ballot, election.rings[i], votes[i])
        for i in range(2)
    ]
    sum_result(s, election.founder, election.ballot, region, counts)
    coordinator = election.ballot.event.body["candidates"][0]
    for i, base in enumerate(bases):
        for person in people[i]:
            s.endorse(person, base, people[i][2])
    member = recall_motion(s, people[0][0], region, coordinator)  # not an elector here
    motion = recall_motion(s, people[0][2], region, coordinator)
    support_motion(s, people[1][2], motion)
    governance = fold(s)
    assert refused(governance, member) == Reason.NOT_AUTHORIZED
    ballot = governance.state.ballots.ballot(motion.id)
    assert ballot.counting_level == 2  # the region's level: everyone below votes
    everyone = [p for group in people for p in group]
    count = decide_in_group(
        s,
        motion,
        region,
        everyone,
        [0, 0, 1, 0, 1, 0, 0],
        opens=ballot.opens,
        closes=ballot.closes,
        counter=people[1][2],
    )
    governance = fold(s)
    assert refused(governance, count) is None
    assert governance.state.ballots.outcome(motion.id)["decided"] == 0
    assert governance.state.roles.holder(region, "coordinator", s.now) is None
