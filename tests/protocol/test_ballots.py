"""Ballots, secret votes and results in the state fold (protocol/ballots.py)."""

from __future__ import annotations

import random

import pytest
from ballot_factory import (
    HOUR_MS,
    cast,
    count_result,
    freeze_ring,
    open_ballot,
    open_election,
    sum_result,
)
from event_factory import signing_key
from folding import fold, refused
from hypothesis import given, settings
from hypothesis import strategies as st
from network_factory import Scenario, build_fractal, key_of

from protocol.ballots import check_vote, prepare_ring
from protocol.errors import LocalError, Reason, Rejected
from protocol.event import SignedEvent
from protocol.state import Governance


@pytest.fixture
def election() -> tuple[Scenario, dict[str, object]]:
    s = Scenario(root_level=3)
    return s, vars(open_election(s, build_fractal(s, [3, 3], regions=1, bases=2)))


def _vote_all(s: Scenario, ctx: dict, choices: list[list[int]]) -> list[list[SignedEvent]]:
    ballot = ctx["ballot"]
    s.now = ballot.event.body["opens"]
    votes = []
    for i, ring in enumerate(ctx["rings"]):
        votes.append(
            [cast(s, ring, p, [c]) for p, c in zip(ctx["people"][i], choices[i], strict=True)]
        )
    return votes


def test_an_election_counted_below_and_summed_above(election) -> None:
    s, ctx = election
    votes = _vote_all(s, ctx, [[0, 0, 1], [0, 1, 1]])
    s.now = ctx["ballot"].event.body["closes"]
    counts = [
        count_result(s, ctx["people"][i][0], ctx["ballot"], ctx["rings"][i], votes[i])
        for i in range(2)
    ]
    total = sum_result(s, ctx["founder"], ctx["ballot"], ctx["region"], counts)
    governance = fold(s)
    assert [e for e in s.events if governance.refusal(e.id)] == []
    outcome = governance.state.ballots.outcome(ctx["ballot"].id)
    assert outcome["stands"] and outcome["counts"] == [3, 3] and outcome["voters"] == 6
    assert outcome["decided"] is None  # a tie decides nothing
    assert all(r["verified"] for r in outcome["results"].values())
    assert total.event.body["eligible"] == 6


def test_a_second_vote_replaces_the_first_before_the_close(election) -> None:
    s, ctx = election
    votes = _vote_all(s, ctx, [[0, 0, 0], [0, 1, 1]])
    ring0 = ctx["rings"][0]
    changed = cast(s, ring0, ctx["people"][0][2], [1])  # same member, same ballot
    s.now = ctx["ballot"].event.body["closes"]
    late = cast(s, ring0, ctx["people"][0][1], [1], ts=s.now)  # at the close: too late
    counted = [*votes[0], changed]
    first = count_result(s, ctx["people"][0][0], ctx["ballot"], ring0, counted)
    governance = fold(s)
    assert refused(governance, late) == Reason.VOTE_OUTSIDE_WINDOW
    assert refused(governance, first) is None
    assert first.event.body["counts"] == [2, 1] and first.event.body["voters"] == 3
    assert changed.event.body["sig"][:32] == votes[0][2].event.body["sig"][:32]


def test_votes_before_the_open_and_bad_choices_are_refused(election) -> None:
    s, ctx = election
    ring = ctx["rings"][0]
    early = cast(s, ring, ctx["people"][0][0], [0])  # before opens
    s.now = ctx["ballot"].event.body["opens"]
    too_many = cast(s, ring, ctx["people"][0][1], [0, 1])  # single choice
    no_such = cast(s, ring, ctx["people"][0][2], [5])
    governance = fold(s)
    assert refused(governance, early) == Reason.VOTE_OUTSIDE_WINDOW
    assert refused(governance, too_many) == Reason.BAD_CHOICE
    assert refused(governance, no_such) == Reason.BAD_CHOICE


def test_a_vote_with_another_groups_ring_is_rejected(election) -> None:
    s, ctx = election
    s.now = ctx["ballot"].event.body["opens"]
    vote = cast(s, ctx["rings"][0], ctx["people"][0][0], [0])
    ring_a, ring_b = ctx["rings"]
    assert len(check_vote(vote, ring_a, prepare_ring(ring_a))) == 32
    with pytest.raises(Rejected) as excinfo:
        check_vote(vote, ring_b, prepare_ring(ring_b))
    assert excinfo.value.reason == Reason.WRONG_RING
    # A member outside a ring cannot sign for it.
    with pytest.raises(LocalError):
        cast(s, ring_a, ctx["people"][1][0], [0])
    # A tampered choice breaks the ring signature.
    body = dict(vote.event.body)
    forged = s.event(
        "vote", signing_key("forger"), {**body, "choice": [1]}, group=vote.group, refs=vote.refs
    )
    with pytest.raises(Rejected) as excinfo:
        check_vote(forged, ring_a, prepare_ring(ring_a))
    assert excinfo.value.reason == Reason.BAD_RING_SIGNATURE


def test_rings_must_be_the_counting_groups_certified_members(election) -> None:
    s, ctx = election
    base = ctx["bases"][0]
    people = ctx["people"][0]
    second = freeze_ring(s, people[0], ctx["ballot"], base, [key_of(p) for p in people])
    governance = fold(s)
    assert refused(governance, second) == Reason.WRONG_RING  # frozen already
    s2 = Scenario(root_level=3)
    fractal = build_fractal(s2, [3, 3], regions=1, bases=2)
    region = next(iter(fractal.tree))
    b0, b1 = fractal.tree[region]
    p0 = fractal.members[b0]
    ballot = open_ballot(
        s2,
        p0[0],
        region,
        counting_level=1,
        options=("a", "b"),
        candidates=sorted([key_of(p0[1]), key_of(p0[2])]),
    )
    stranger = signing_key("stranger")
    padded = freeze_ring(s2, p0[0], ballot, b0, [*(key_of(p) for p in p0), key_of(stranger)])
    short = freeze_ring(s2, p0[0], ballot, b0, [key_of(p) for p in p0[:2]])
    wrong_level = freeze_ring(s2, p0[0], ballot, region, [key_of(p) for p in p0])
    b1_keys = [key_of(p) for p in fractal.members[b1]]
    by_outsider = freeze_ring(s2, p0[1], ballot, b1, b1_keys)  # a member of b0
    # Any member may freeze their group's ring: its keys are fixed anyway.
    by_member = freeze_ring(s2, fractal.members[b1][1], ballot, b1, b1_keys)
    governance = fold(s2)
    assert refused(governance, padded) == Reason.WRONG_RING
    assert refused(governance, short) == Reason.WRONG_RING
    assert refused(governance, wrong_level) == Reason.WRONG_RING
    assert refused(governance, by_outsider) == Reason.NOT_AUTHORIZED
    assert refused(governance, by_member) is None


def test_lies_are_refused_and_kept_as_evidence(election) -> None:
    s, ctx = election
    votes = _vote_all(s, ctx, [[0, 0, 1], [1, 1, 1]])
    ballot = ctx["ballot"]
    early = count_result(s, ctx["people"][0][0], ballot, ctx["rings"][0], votes[0])
    s.now = ballot.event.body["closes"]
    lie = count_result(s, ctx["people"][0][0], ballot, ctx["rings"][0], votes[0], counts=[3, 0])
    honest = [
        count_result(s, ctx["people"][i][0], ballot, ctx["rings"][i], votes[i]) for i in range(2)
    ]
    second = count_result(
        s, ctx["people"][1][0], ballot, ctx["rings"][1], votes[1][:2]
    )  # equivocation: another count by the same group
    bad_sum = sum_result(s, ctx["founder"], ballot, ctx["region"], honest, counts=[5, 1])
    good_sum = sum_result(s, ctx["founder"], ballot, ctx["region"], honest)
    governance = fold(s)
    assert refused(governance, early) == Reason.TOO_EARLY
    assert refused(governance, lie) == Reason.BAD_RESULT
    assert refused(governance, second) == Reason.BAD_RESULT  # the votes say otherwise
    assert refused(governance, bad_sum) == Reason.BAD_RESULT
    assert refused(governance, good_sum) is None
    kinds = sorted(e.kind for e in governance.state.ballots.evidence)
    assert kinds == ["bad_count", "bad_count", "bad_sum"]
    outcome = governance.state.ballots.outcome(ballot.id)
    assert outcome["counts"] == [2, 4] and outcome["decided"] == 1
    # A node that holds none of the votes (a parent's, say) cannot recount:
    # it applies the first count of each group as signed, unverified, and
    # any different second count is equivocation.
    blind = fold(s, [e for e in s.events if e.kind != "vote"])
    assert refused(blind, lie) is None
    assert refused(blind, honest[0]) == Reason.EQUIVOCATION
    assert refused(blind, second) == Reason.EQUIVOCATION
    evidence = blind.state.ballots.evidence
    assert [e.kind for e in evidence] == ["equivocation", "equivocation"]
    assert evidence[0].events == (lie.id, honest[0].id)
    results = blind.state.ballots.outcome(ballot.id)["results"]
    assert results[ctx["bases"][0].hex()]["verified"] is None


def test_results_for_unknown_ballots_are_refused() -> None:
    s = Scenario(root_level=2)
    fractal = build_fractal(s, [3], regions=1, bases=1)
    region = next(iter(fractal.tree))
    base = fractal.tree[region][0]
    founder = fractal.members[base][0]
    unknown = s.event(
        "result.sum",
        founder,
        {"parts": [bytes(32)], "ballot": bytes(32), "counts": [0, 0], "voters": 0, "eligible": 0},
        group=region,
    )
    assert refused(fold(s), unknown) == Reason.UNKNOWN_BALLOT


@settings(max_examples=25, deadline=None)
@given(st.randoms(use_true_random=False))
def test_every_arrival_order_gives_the_same_result(rnd: random.Random) -> None:
    s, ctx = _election_once()
    reference = fold(s)
    shuffled = list(s.events)
    rnd.shuffle(shuffled)
    governance = Governance(s.genesis)
    for event in shuffled:
        governance.add([event])
    ballots = governance.state.ballots
    assert ballots.outcome(ctx["ballot"].id) == reference.state.ballots.outcome(ctx["ballot"].id)
    assert ballots.evidence == reference.state.ballots.evidence
    assert {e.id: governance.refusal(e.id) is None for e in s.events} == {
        e.id: reference.refusal(e.id) is None for e in s.events
    }


_CACHE: dict[str, tuple[Scenario, dict]] = {}


def _election_once() -> tuple[Scenario, dict]:
    """One election with re-votes and a lie, built once (ring signing is slow)."""
    if "s" not in _CACHE:
        s = Scenario(root_level=3)
        election = open_election(s, build_fractal(s, [3, 4], regions=1, bases=2))
        people, ballot, rings = election.people, election.ballot, election.rings
        region, founder = election.region, election.founder
        s.now = ballot.event.body["opens"]
        votes = [[cast(s, rings[i], p, [j % 2]) for j, p in enumerate(people[i])] for i in range(2)]
        votes[1].append(cast(s, rings[1], people[1][0], [0]))  # a re-vote
        s.now = ballot.event.body["closes"] + HOUR_MS
        counts = [count_result(s, people[i][0], ballot, rings[i], votes[i]) for i in range(2)]
        count_result(s, people[0][0], ballot, rings[0], votes[0], counts=[0, 3])  # a lie
        sum_result(s, founder, ballot, region, counts)
        _CACHE["s"] = (s, {"ballot": ballot})
    return _CACHE["s"]


def test_an_election_makes_the_coordinator(election) -> None:
    s, ctx = election
    people, ballot, region = ctx["people"], ctx["ballot"], ctx["region"]
    candidates = ballot.event.body["candidates"]
    votes = _vote_all(s, ctx, [[0, 0, 1], [0, 0, 1]])
    s.now = ballot.event.body["closes"]
    counts = [count_result(s, people[i][0], ballot, ctx["rings"][i], votes[i]) for i in range(2)]
    sum_result(s, ctx["founder"], ballot, region, counts)
    groups = fold(s).state.groups
    assert groups.coordinator(region, s.now) == candidates[0]
    assert not groups.acts_for(region, key_of(ctx["founder"]), s.now)
