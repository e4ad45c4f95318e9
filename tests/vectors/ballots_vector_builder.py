"""Builds specs/vectors/ballots.json: proposals, ballots, secret votes and
results, as scenarios of signed events with their outcomes and the state
they fold to (specs/ballots.md, "Test vectors"; the layout of
specs/groups.md section 9).

Run ``python tests/vectors/ballots_vector_builder.py`` to rewrite the file
after a rule change (and change specs/ballots.md in the same commit).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "helpers"))

from ballot_factory import HOUR_MS, cast, count_result, freeze_ring, open_ballot, sum_result
from event_factory import signing_key
from nacl.signing import SigningKey
from network_factory import Scenario, build_fractal, key_of
from scenario_vectors import scenario_file

from protocol.event import SignedEvent

VECTORS_PATH = Path(__file__).resolve().parents[2] / "specs" / "vectors" / "ballots.json"


class _Region:
    """A level-2 group over two base groups of ``sizes`` people, under a
    level-3 root; the first member of the first base group founded the
    region and acts for it."""

    def __init__(self, s: Scenario, sizes: tuple[int, int] = (3, 4)) -> None:
        fractal = build_fractal(s, list(sizes), regions=1, bases=2)
        self.id = next(iter(fractal.tree))
        self.bases = fractal.tree[self.id]
        self.people = [fractal.members[base] for base in self.bases]
        self.actor = self.people[0][0]

    def everyone(self) -> list[SigningKey]:
        return [person for people in self.people for person in people]

    def rings(self, s: Scenario, ballot: SignedEvent) -> list[SignedEvent]:
        return [
            freeze_ring(s, people[0], ballot, base, [key_of(p) for p in people])
            for base, people in zip(self.bases, self.people, strict=True)
        ]


def decision() -> Scenario:
    """A proposal in Quechua, translated to Spanish and confirmed, amended,
    discussed, supported, balloted, voted in secret (one member changes
    their vote), counted in both base groups and summed by the region."""
    s = Scenario(root_level=3)
    region = _Region(s)
    author, *others = region.everyone()
    proposal = s.propose(author, region.id)
    translation = s.translate(others[0], proposal)
    s.confirm(others[1], translation)
    amendment = s.amend(others[2], proposal)
    s.comment(others[3], proposal, "Allinmi, ichaqa hayk'aq?")
    for supporter in region.everyone()[:2]:
        s.support(supporter, proposal)
    ballot = open_ballot(
        s, region.actor, region.id, counting_level=1, options=("arí", "manam"), proposal=proposal.id
    )
    s.amend(others[4], proposal)  # proposal_closed: it is being voted on
    s.comment(others[4], ballot, "Llapanchik rinachik.")
    rings = region.rings(s, ballot)
    s.now = ballot.event.body["opens"]
    votes = [
        [cast(s, ring, person, [i % 2]) for i, person in enumerate(people)]
        for ring, people in zip(rings, region.people, strict=True)
    ]
    votes[1].append(cast(s, rings[1], region.people[1][1], [0]))  # changes their vote
    s.now = ballot.event.body["closes"]
    counts = [
        count_result(s, people[0], ballot, ring, group_votes)
        for people, ring, group_votes in zip(region.people, rings, votes, strict=True)
    ]
    sum_result(s, region.actor, ballot, region.id, counts)
    assert amendment
    return s


def election() -> Scenario:
    """An election of the region's coordinator among two candidates, then
    the base groups' coordinators (recalls: specs/vectors/accountability.json)."""
    s = Scenario(root_level=3)
    region = _Region(s, (3, 3))
    candidates = sorted([key_of(region.people[0][1]), key_of(region.people[1][1])])
    ballot = open_ballot(
        s, region.actor, region.id, counting_level=1, options=("a", "b"), candidates=candidates
    )
    rings = region.rings(s, ballot)
    s.now = ballot.event.body["opens"]
    votes = [
        [cast(s, ring, p, [0]) for p in people]
        for ring, people in zip(rings, region.people, strict=True)
    ]
    s.now = ballot.event.body["closes"]
    counts = [
        count_result(s, people[0], ballot, ring, v)
        for people, ring, v in zip(region.people, rings, votes, strict=True)
    ]
    sum_result(s, region.actor, ballot, region.id, counts)
    # The base groups choose their coordinators by endorsement:
    for people, base in zip(region.people, region.bases, strict=True):
        for person in people:
            s.endorse(person, base, people[1])
    return s


def bad_votes() -> Scenario:
    """Votes before the open, at the close, with a bad choice, with the other
    group's ring, forged; a ring padded with a stranger."""
    s = Scenario(root_level=3)
    region = _Region(s, (3, 3))
    ballot = open_ballot(
        s,
        region.actor,
        region.id,
        counting_level=1,
        options=("a", "b", "c"),
        candidates=sorted(key_of(p) for p in region.people[0]),
    )
    stranger = signing_key("stranger")
    s.certify(stranger, "66666666")
    freeze_ring(
        s,
        region.people[0][0],
        ballot,
        region.bases[0],
        [*(key_of(p) for p in region.people[0]), key_of(stranger)],
    )  # wrong_ring: a stranger
    rings = region.rings(s, ballot)
    cast(s, rings[0], region.people[0][0], [0])  # vote_outside_window: too early
    s.now = ballot.event.body["opens"]
    cast(s, rings[0], region.people[0][1], [0, 1])  # bad_choice: one option at most
    cast(s, rings[0], region.people[0][2], [7])  # bad_choice: no such option
    vote = cast(s, rings[1], region.people[1][0], [2])
    s.event(  # rejected: names the other group's ring
        "vote", signing_key("replay"), vote.event.body, group=region.bases[0], refs=vote.refs
    )
    s.event(  # rejected: the choice was changed under the ring signature
        "vote",
        signing_key("forger"),
        {**vote.event.body, "choice": [1]},
        group=vote.group,
        refs=vote.refs,
    )
    cast(s, rings[1], region.people[1][1], [])  # an abstention
    cast(s, rings[1], region.people[1][2], [0], ts=ballot.event.body["closes"])  # too late
    return s


def lies() -> Scenario:
    """Results published early, counts the votes contradict, a second
    different count, a sum that does not add up, a result for no ballot."""
    s = Scenario(root_level=3)
    region = _Region(s, (3, 3))
    ballot = open_ballot(
        s,
        region.actor,
        region.id,
        counting_level=1,
        options=("a", "b"),
        candidates=sorted([key_of(region.people[0][1]), key_of(region.people[1][1])]),
    )
    rings = region.rings(s, ballot)
    s.now = ballot.event.body["opens"]
    votes = [
        [cast(s, ring, p, [1]) for p in people]
        for ring, people in zip(rings, region.people, strict=True)
    ]
    count_result(s, region.people[0][0], ballot, rings[0], votes[0])  # too_early
    s.now = ballot.event.body["closes"]
    count_result(s, region.people[0][0], ballot, rings[0], votes[0], counts=[3, 0])  # bad_result
    honest = [
        count_result(s, people[0], ballot, ring, v)
        for people, ring, v in zip(region.people, rings, votes, strict=True)
    ]
    count_result(s, region.people[1][0], ballot, rings[1], votes[1][:1])  # bad_result (recount)
    sum_result(s, region.actor, ballot, region.id, honest, counts=[1, 5])  # bad_result (sum)
    sum_result(s, region.actor, ballot, region.id, honest)
    s.event(
        "result.sum",
        region.actor,
        {"parts": [bytes(32)], "ballot": bytes(32), "counts": [0, 0], "voters": 0, "eligible": 0},
        group=region.id,
    )  # unknown_ballot
    return s


def parents_view() -> Scenario:
    """What the region's node holds: results without the votes. The first
    count of each group applies unverified; a different second count is
    equivocation."""
    s = lies()
    s.events = [event for event in s.events if event.kind != "vote"]
    s.now += HOUR_MS
    return s


def support_and_scope() -> Scenario:
    """A ballot without enough support, with rules other than the charter's,
    with a counting level above the scope, and by someone who does not act
    for the scope."""
    s = Scenario(root_level=3)
    region = _Region(s)
    proposal = s.propose(region.people[0][1], region.id)
    open_ballot(s, region.actor, region.id, counting_level=1, proposal=proposal.id)  # support
    for supporter in region.everyone()[:2]:
        s.support(supporter, proposal)
    open_ballot(s, region.people[0][1], region.id, counting_level=1, proposal=proposal.id)
    open_ballot(s, region.actor, region.id, counting_level=3, proposal=proposal.id)  # bad_ballot
    open_ballot(s, region.actor, region.id, counting_level=1, proposal=bytes(32))  # unknown
    opened = open_ballot(s, region.actor, region.id, counting_level=2, proposal=proposal.id)
    open_ballot(s, region.actor, region.id, counting_level=1, proposal=proposal.id)  # closed
    freeze_ring(  # wrong_ring: the counting level is 2, the region itself
        s, region.actor, opened, region.bases[0], [key_of(p) for p in region.people[0]]
    )
    freeze_ring(s, region.actor, opened, region.id, [key_of(p) for p in region.everyone()])
    return s


def deliberation() -> Scenario:
    """Support, translations and comments that break the rules: twice the
    same supporter, a translator confirming their own translation, a second
    confirmation by one person, a comment on nothing known."""
    s = Scenario(root_level=3)
    region = _Region(s)
    people = region.everyone()
    proposal = s.propose(people[0], region.id, lang="ay", title="Uma", text="Machaq uma thakhi.")
    s.support(people[1], proposal)
    s.support(people[1], proposal)  # duplicate_support
    translation = s.translate(people[2], proposal, "es", title="Agua", text="Un nuevo canal.")
    s.confirm(people[2], translation)  # self_confirmation
    s.confirm(people[3], translation)
    s.confirm(people[3], translation)  # duplicate_confirmation
    s.event(  # unknown_target
        "comment",
        people[4],
        {"lang": "es", "text": "¿Y esto?", "target": bytes(32)},
        group=region.id,
    )
    return s


SCENARIOS: dict[str, Callable[[], Scenario]] = {
    "deliberation": deliberation,
    "decision": decision,
    "election": election,
    "bad_votes": bad_votes,
    "lies": lies,
    "parents_view": parents_view,
    "support_and_scope": support_and_scope,
}


def render() -> str:
    return scenario_file(
        (
            "Proposals, ballots, secret votes and results (specs/ballots.md): fold the "
            "events in key order (ts, id), or in any arrival order, and get each event's "
            "outcome and the expected state at now_ms; layout as in specs/groups.md section 9."
        ),
        ["ballots.md", "groups.md"],
        SCENARIOS,
    )


if __name__ == "__main__":
    VECTORS_PATH.write_text(render(), encoding="utf-8")
    print(f"wrote {VECTORS_PATH}")
