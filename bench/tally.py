"""One ballot over a 4-level fractal, ingested by one store, against the cost
of its ring signatures alone.

The network: a root of level 4, 5 groups of level 3, 25 of level 2 and 125
base groups of 5 members (625 voters), all built from signed events; a
proposal with the charter's support, a ballot counted at level 3 (the
default min(4, 3): 5 rings of 125), a ring signature by every member (and
the counts and sums up to the root). Setting that up is not timed.

Timed, in the same run:

  ingest    the votes and results, shuffled, through the node's ingest path
            (what arrives before its refs is held and fed again, as sync
            would)
            (``ingest_raw`` into a ``NetworkStore`` on SQLite: decoding,
            network, Ed25519 envelope, the vote's ring signature against its
            ring, the commit, the fold with its recount of every count);
  baseline  protocol.ring.verify of the same votes on the same prepared
            rings, one after the other on one thread: "the ring-verification
            rate alone". Measured before and after the ingest, averaged, as
            the VM's speed drifts.

Prints JSON: voters, ring_size, total_s (the ingest), votes_per_s,
ring_verify_per_s, ratio = votes_per_s / ring_verify_per_s (goal >= 0.8),
and verify_threads: the ingest checks ring signatures on that many threads
(libsodium releases the GIL), which the one-thread baseline does not; so
ratio_per_thread = ratio / verify_threads says what the path around the
ring signatures costs (1.0: nothing).

    python bench/tally.py [--fanout 5] [--size 5] [--levels 4]
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import sys
import tempfile
import time
from pathlib import Path

import trio

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "helpers"))

from ballot_factory import cast, count_result, freeze_ring, open_ballot, sum_result
from network_factory import Scenario, Tree, build_tree, key_of

from node import progress
from node.ingest import ingest_raw
from protocol.ballots import prepare_ring, vote_message
from protocol.errors import Reason
from protocol.event import SignedEvent
from protocol.ring import PreparedRing, verify
from storage import IngestStatus
from storage.state import VERIFY_THREADS, open_network_store


def _people(tree: Tree, group: bytes) -> list[bytes]:
    if tree.levels[group] == 1:
        return [key_of(person) for person in tree.members[group]]
    return [key for child in tree.children[group] for key in _people(tree, child)]


def build(
    levels: int, fanout: int, size: int, counting: int | None = None
) -> tuple[Scenario, int, list[SignedEvent]]:
    """The network and its ballot, counted at ``counting`` (by default a
    client's default, min(levels, 3)); returns the scenario, the index of
    the first timed event, and the timed events (votes and results)."""
    s = Scenario(root_level=levels)
    tree = build_tree(s, fanout=fanout, size=size)
    everyone = [person for members in tree.members.values() for person in members]
    proposal = s.propose(everyone[0], s.net)
    for supporter in everyone[: -(-len(everyone) // 5)]:
        s.support(supporter, proposal)
    counting = min(levels, 3) if counting is None else counting
    ballot = open_ballot(
        s, s.founder, s.net, counting_level=counting, options=("arí", "manam"), proposal=proposal.id
    )
    rings = {
        group: freeze_ring(s, tree.actors[group], ballot, group, _people(tree, group))
        for group in tree.at_level(counting)
    }
    first_timed = len(s.events)
    s.now = ballot.event.body["opens"]
    by_key = {key_of(person): person for person in everyone}
    votes: dict[bytes, list[SignedEvent]] = {group: [] for group in rings}
    for index, person in enumerate(everyone):
        group = next(g for g in rings if key_of(person) in rings[g].event.body["keys"])
        votes[group].append(cast(s, rings[group], by_key[key_of(person)], [index % 2]))
    s.now = ballot.event.body["closes"]
    results = {
        group: count_result(s, tree.actors[group], ballot, rings[group], votes[group])
        for group in rings
    }
    for level in range(counting + 1, levels + 1):
        for group in tree.at_level(level):
            parts = [results[child] for child in tree.children[group]]
            results[group] = sum_result(s, tree.actors[group], ballot, group, parts)
    return s, first_timed, s.events[first_timed:]


def baseline(votes: list[SignedEvent], rings: dict[bytes, PreparedRing]) -> float:
    """Ring signatures verified per second, one thread, rings prepared."""
    started = time.perf_counter()
    for vote in votes:
        body = vote.event.body
        message = vote_message(body["ballot"], body["ring"], body["choice"], vote.author)
        verify(rings[body["ring"]], message, body["sig"])
    return len(votes) / (time.perf_counter() - started)


async def ingest(s: Scenario, setup: list[SignedEvent], timed: list[SignedEvent]) -> float:
    """Seconds to ingest ``timed`` (after ``setup``, untimed) into a new store."""
    with tempfile.TemporaryDirectory() as directory:
        async with open_network_store(Path(directory) / "events.sqlite3", s.genesis) as store:
            done = await ingest_raw(store, [e.raw for e in setup], s.now, s.net)
            assert all(r.status is IngestStatus.ACCEPTED for r in done), "setup refused"
            started = time.perf_counter()
            pending = [e.raw for e in timed]
            while pending:  # what came before its refs is held and fed again, as sync does
                done = await ingest_raw(store, pending, s.now, s.net)
                assert {r.reason for r in done if r.status is not IngestStatus.ACCEPTED} <= {
                    Reason.MISSING_REFS
                }, "ingest refused"
                held = [
                    raw
                    for raw, r in zip(pending, done, strict=True)
                    if r.status is IngestStatus.REJECTED
                ]
                assert len(held) < len(pending), "events held for refs that never come"
                pending = held
            elapsed = time.perf_counter() - started
            ballot = next(e for e in setup if e.kind == "ballot.open")
            outcome = store.state.ballots.outcome(ballot.id)
            assert outcome["stands"] and all(r["verified"] for r in outcome["results"].values())
            return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--levels", type=int, default=4)
    parser.add_argument("--fanout", type=int, default=5)
    parser.add_argument("--size", type=int, default=5)
    args = parser.parse_args()
    with progress.step(f"building a {args.levels}-level ballot"):
        s, first_timed, timed = build(args.levels, args.fanout, args.size)
    rnd = random.Random(7)
    timed = rnd.sample(timed, len(timed))
    votes = [e for e in timed if e.kind == "vote"]
    prepared = {e.id: prepare_ring(e) for e in s.events[:first_timed] if e.kind == "ballot.ring"}
    with progress.step(f"verifying {len(votes)} votes, ingesting the ballot, verifying again"):
        before = baseline(votes, prepared)
        elapsed = trio.run(ingest, s, s.events[:first_timed], timed)
        after = baseline(votes, prepared)
    verify_rate = (before + after) / 2
    votes_per_s = len(votes) / elapsed
    ring_sizes = sorted({len(e.event.body["keys"]) for e in s.events if e.kind == "ballot.ring"})
    print(
        json.dumps(
            {
                "voters": len(votes),
                "ring_size": ring_sizes,
                "timed_events": len(timed),
                "total_s": round(elapsed, 3),
                "votes_per_s": round(votes_per_s, 2),
                "ring_verify_per_s": round(verify_rate, 2),
                "ring_verify_per_s_before_after": [round(before, 2), round(after, 2)],
                "ratio": round(votes_per_s / verify_rate, 3),
                "verify_threads": VERIFY_THREADS,
                "ratio_per_thread": round(votes_per_s / (verify_rate * VERIFY_THREADS), 3),
                "python": platform.python_version(),
            }
        )
    )


if __name__ == "__main__":
    main()
