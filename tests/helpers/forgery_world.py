"""The world forgeries are made in (faults_forgery.py; the fuzz scenario
re-signs its events too): a small network built with the scenario helpers
in which every key is known, so that a forgery can be signed as an
attacker with stolen or borrowed material would sign it.

A region over two base groups, a proposal, a ballot decided in a base
group, an election counted and summed, a protected report, and a member
whose certificate is revoked; its *targets* are valid events of many kinds.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from accountability_factory import appoint_oversight, decide_proposal
from ballot_factory import cast, count_result, open_election, sum_result
from event_factory import note, signing_key
from nacl.public import PrivateKey
from nacl.signing import SigningKey
from network_factory import Scenario, build_fractal, key_of

from protocol.event import SignedEvent
from protocol.genesis import Genesis
from protocol.reports import make_box_shares, seal_report


@dataclass
class World:
    """A network with valid events of many kinds, and every key that signed them."""

    scenario: Scenario
    #: The valid events forged, by name (their kind).
    targets: dict[str, SignedEvent]
    #: Every signing key by public key (one-time keys of votes and reports too).
    keys: dict[bytes, SigningKey]
    rings: tuple[SignedEvent, SignedEvent]
    #: A ballot.ring of another ballot, in the same group as ``rings[0]``.
    other_ring: SignedEvent
    #: A voter of ``rings[0]``, and a certified member of no group.
    voter: SigningKey
    outsider: SigningKey
    proposal: SignedEvent
    region: bytes
    bases: list[bytes]
    people: list[list[SigningKey]]
    revoked: SigningKey
    revocation: SignedEvent

    @property
    def genesis(self) -> Genesis:
        return self.scenario.genesis

    @property
    def net(self) -> bytes:
        return self.scenario.net

    @property
    def events(self) -> list[SignedEvent]:
        return self.scenario.events

    def before(self, event: SignedEvent) -> list[SignedEvent]:
        """What the world held when ``event`` was made, in key order."""
        return sorted(
            (e for e in self.events if (e.ts, e.id) < (event.ts, event.id)),
            key=lambda e: (e.ts, e.id),
        )


def build_world() -> World:
    """The network every forgery is made in (see the module's docstring)."""
    s = Scenario(root_level=3)
    fractal = build_fractal(s, [3, 4], regions=1, bases=2)
    region = next(iter(fractal.tree))
    bases = fractal.tree[region]
    people = [fractal.members[base] for base in bases]
    revoked = people[1][3]
    outsider = signing_key("forgery outsider")
    keys = {key_of(k): k for k in [*s.registrars, s.founder, *people[0], *people[1], outsider]}
    targets: dict[str, SignedEvent] = {}

    chat = note(s.tick(), key=people[0][0], group=bases[0], net=s.net, text="Asamblea el sábado.")
    s.events.append(chat)
    targets["note"] = chat
    targets["cert.issue"] = s.certify(outsider, "55555555")
    proposal = s.propose(people[0][1], region)
    targets["proposal"] = proposal
    s.support(people[1][1], proposal)
    s.support(revoked, proposal)
    targets["comment"] = s.comment(people[1][2], proposal)
    decide_proposal(s, bases[0], people[0], [0, 0, 1])
    other_ring = [e for e in s.events if e.kind == "ballot.ring"][-1]

    election = open_election(s, fractal)
    targets["ballot.open"] = election.ballot
    targets["ballot.ring"] = election.rings[0]
    s.now = election.ballot.event.body["opens"]
    votes: list[list[SignedEvent]] = [[], []]
    for i in range(2):
        for voter in election.people[i]:
            votes[i].append(cast(s, election.rings[i], voter, [i % 2]))
    targets["vote"] = votes[0][0]
    s.now = election.ballot.event.body["closes"]
    counts = [
        count_result(s, election.people[i][0], election.ballot, election.rings[i], votes[i])
        for i in range(2)
    ]
    targets["result.count"] = counts[0]
    targets["result.sum"] = sum_result(s, election.founder, election.ballot, region, counts)

    appoint_oversight(s, s.founder, s.net, bases[1])
    box = PrivateKey(hashlib.sha256(b"forgery box key").digest())
    shares = make_box_shares(box, [key_of(p) for p in people[1]])
    s.event(
        "oversight.key",
        people[1][0],
        {"box_key": bytes(box.public_key), "shares": shares},
        group=bases[1],
    )
    everyone = sorted(key_of(p) for group in people for p in group)
    report_ring = s.event("report.ring", people[0][1], {"keys": everyone}, group=region)
    one_time, receipt = signing_key("forgery report one-time"), signing_key("forgery receipt")
    keys[key_of(one_time)] = one_time
    body = seal_report(
        report_ring,
        people[0][2],
        one_time,
        bases[1],
        bytes(box.public_key),
        receipt,
        {"text": "El tesorero cobra comisiones.", "lang": "es"},
        bytes(32),
    )
    targets["report"] = s.event("report", one_time, body, group=bases[1], refs=[report_ring.id])
    revoked_cert = next(
        e for e in s.events if e.kind == "cert.issue" and e.event.body["member"] == key_of(revoked)
    )
    revocation = s.revoke(revoked_cert)
    keys.update(vote_keys(s, [*people[0], *people[1]], keys))
    assert all(e.author in keys for e in s.events), "every author's key is known"
    return World(
        scenario=s,
        targets=targets,
        keys=keys,
        rings=(election.rings[0], election.rings[1]),
        other_ring=other_ring,
        voter=election.people[0][1],
        outsider=outsider,
        proposal=proposal,
        region=region,
        bases=bases,
        people=people,
        revoked=revoked,
        revocation=revocation,
    )


def vote_keys(
    s: Scenario, voters: list[SigningKey], known: dict[bytes, SigningKey]
) -> dict[bytes, SigningKey]:
    """The one-time keys of the scenario's votes not signed by a ``known``
    key: ballot_factory.cast derives them from the voter and the vote's
    place in the scenario."""
    found: dict[bytes, SigningKey] = {}
    for place, event in enumerate(s.events):
        if event.kind == "vote" and event.author not in known:
            for voter in voters:
                one_time = signing_key(f"one-time {key_of(voter).hex()} {place}")
                if key_of(one_time) == event.author:
                    found[event.author] = one_time
    return found
