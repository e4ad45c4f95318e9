"""The acceptance test of issue 4: a proposal goes through amendment,
translation, support, a ballot, 625 secret votes and counting up a 4-level
fractal (125 base groups of 5), every event through the node's real ingest
path in a random order, to a validated top-level result; then an
independent recount from the raw votes, written here without the
protocol's tally, matches the result of every group at every level."""

from __future__ import annotations

import random
from collections import defaultdict
from pathlib import Path

from ballot_factory import cast, count_result, freeze_ring, open_ballot, sum_result
from nacl.signing import SigningKey
from network_factory import Scenario, Tree, build_tree, key_of

from node.ingest import ingest_raw
from protocol.ballots import vote_message
from protocol.errors import Reason
from protocol.event import SignedEvent, parse_event
from protocol.ring import PreparedRing, verify
from storage import IngestStatus
from storage.state import open_network_store

COUNTING_LEVEL = 2  # rings of 25: sums at levels 3 and 4 (the default c = 3 is benched)


def _ballot_story(s: Scenario, tree: Tree) -> SignedEvent:
    """Everything up to the close: the proposal and its deliberation, the
    ballot, the rings and the votes (with re-votes and abstentions)."""
    rnd = random.Random(4)
    everyone = [key for members in tree.members.values() for key in members]
    author = everyone[7]
    proposal = s.propose(
        author, s.net, lang="qu", title="Yaku kamachiy", text="Yakuta waqaychasun."
    )
    s.translate(everyone[8], proposal, "es", title="Ley del agua", text="Cuidaremos el agua.")
    s.amend(everyone[9], proposal, text="Yakuta waqaychasun, sapa killa.")
    for supporter in everyone[: len(everyone) // 5]:  # support_pct 20 of 625
        s.support(supporter, proposal)
    ballot = open_ballot(
        s,
        s.founder,
        s.net,
        counting_level=COUNTING_LEVEL,
        options=("arí", "manam"),
        proposal=proposal.id,
    )
    rings = {
        group: freeze_ring(s, tree.actors[group], ballot, group, _subtree_keys(tree, group))
        for group in tree.at_level(COUNTING_LEVEL)
    }
    s.now = ballot.event.body["opens"]
    for group, ring in rings.items():
        for person in _subtree_people(tree, group):
            choice = rnd.choice([[0], [0], [1], []])
            cast(s, ring, person, choice)
            if rnd.random() < 0.05:  # changes their mind before the close
                cast(s, ring, person, [1 - (choice or [1])[0]])
    return ballot


def _subtree_people(tree: Tree, group: bytes) -> list[SigningKey]:
    if tree.levels[group] == 1:
        return list(tree.members[group])
    return [p for child in tree.children[group] for p in _subtree_people(tree, child)]


def _subtree_keys(tree: Tree, group: bytes) -> list[bytes]:
    return [key_of(p) for p in _subtree_people(tree, group)]


def _publish_results(s: Scenario, tree: Tree, ballot: SignedEvent) -> None:
    """Counts in the counting groups, then sums level by level up to the root."""
    s.now = ballot.event.body["closes"]
    rings = {e.group: e for e in s.events if e.kind == "ballot.ring"}
    votes = defaultdict(list)
    for event in s.events:
        if event.kind == "vote":
            votes[event.group].append(event)
    results: dict[bytes, SignedEvent] = {}
    for group in tree.at_level(COUNTING_LEVEL):
        results[group] = count_result(s, tree.actors[group], ballot, rings[group], votes[group])
    for level in range(COUNTING_LEVEL + 1, s.root_level + 1):
        for group in tree.at_level(level):
            parts = [results[child] for child in tree.children[group]]
            results[group] = sum_result(s, tree.actors[group], ballot, group, parts)


def _recount(votes: list[SignedEvent], rings: dict[bytes, SignedEvent], width: int) -> dict:
    """Per counting group: (counts, voters), from the raw votes alone: each
    ring signature checked, the last vote of each key image counted."""
    last: dict[tuple[bytes, bytes], SignedEvent] = {}
    for vote in sorted(votes, key=lambda v: (v.ts, v.id)):
        ring_event = rings[vote.group]
        ring = PreparedRing(ring_event.event.body["keys"], vote.event.body["ballot"])
        body = vote.event.body
        message = vote_message(body["ballot"], body["ring"], body["choice"], vote.author)
        image = verify(ring, message, body["sig"])
        last[(vote.group, image)] = vote
    tallies: dict[bytes, tuple[list[int], int]] = defaultdict(lambda: ([0] * width, 0))
    for (group, _), vote in last.items():
        counts, voters = tallies[group]
        for option in vote.event.body["choice"]:
            counts[option] += 1
        tallies[group] = (counts, voters + 1)
    return tallies


async def test_a_ballot_counted_up_a_four_level_fractal(tmp_path: Path) -> None:
    s = Scenario(root_level=4)
    tree = build_tree(s)
    setup = len(s.events)
    ballot = _ballot_story(s, tree)
    _publish_results(s, tree, ballot)
    arrival = s.events[:setup] + random.Random(9).sample(s.events[setup:], len(s.events) - setup)

    async with open_network_store(tmp_path / "events.sqlite3", s.genesis) as store:
        results = await ingest_raw(store, [e.raw for e in arrival], s.now, s.net, batch_size=500)
        # Events whose refs came later in the random order are held: feed
        # those again, as sync would, until nothing changes.
        rounds = 1
        while held := [r.id for r in results if r.status is IngestStatus.REJECTED]:
            # Held, never refused for good: what was refused early (a ballot
            # before its support arrived) applies once the fold starts over.
            rejected = {r.reason for r in results if r.status is IngestStatus.REJECTED}
            assert rejected == {Reason.MISSING_REFS}
            assert rounds < 10
            again = [e.raw for e in arrival if e.id in set(held)]
            results = await ingest_raw(store, again, s.now, s.net)
            rounds += 1
        assert rounds > 1  # the random order did put events before their refs
        statuses = {r.status for r in results}
        assert IngestStatus.REJECTED not in statuses and IngestStatus.REFUSED not in statuses
        assert [e.kind for e in s.events if store.governance.refusal(e.id)] == []
        state = store.state
        outcome = state.ballots.outcome(ballot.id)
        assert outcome["stands"] and outcome["eligible"] == 625
        assert outcome["quorum_met"] and outcome["decided"] is not None
        assert all(r["verified"] for r in outcome["results"].values())
        assert len(outcome["results"]) == 25 + 5 + 1
        assert state.ballots.evidence == []

        # The independent recount, from the raw votes the store holds.
        stored = [
            parse_event(row.raw) for row in await store.events.query(kind="vote", limit=10_000)
        ]
        rings = {
            e.group: e
            for e in (parse_event(r.raw) for r in await store.events.query(kind="ballot.ring"))
        }
        assert len(stored) == sum(1 for e in s.events if e.kind == "vote") > 625  # re-votes
        tallies = _recount(stored, rings, width=2)
        expected: dict[bytes, tuple[list[int], int]] = dict(tallies)
        for level in range(COUNTING_LEVEL + 1, s.root_level + 1):
            for group in tree.at_level(level):
                parts = [expected[child] for child in tree.children[group]]
                expected[group] = (
                    [sum(p[0][i] for p in parts) for i in range(2)],
                    sum(p[1] for p in parts),
                )
        published = {bytes.fromhex(g): r for g, r in outcome["results"].items()}
        assert set(published) == set(expected)
        for group, (counts, voters) in expected.items():
            assert (published[group]["counts"], published[group]["voters"]) == (counts, voters)
        assert outcome["counts"] == expected[s.net][0]
