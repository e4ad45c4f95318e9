"""Ballots, secret votes and results that add up the fractal.

Theory of operation
-------------------
A ballot is opened in its *scope* group (level k) and counted in the groups
of its *counting level* c <= k, so that each anonymity set is a counting
group's subtree (about 125 people at c = 3), and the votes never travel
above the group that counts them: only signed results do.

1. ``ballot.open`` in the scope, by whoever acts for it (for a decision,
   once the proposal has the charter's support).
2. ``ballot.ring`` in each counting group, before the ballot opens, by
   whoever acts for that group: the group's certified members, frozen. The
   fold checks the ring *is* that set, so nobody can add a stranger or
   leave a member out.
3. ``vote``: signed in the envelope by a one-time key, and in the body by
   a linkable ring signature (protocol/ring.py) over the ballot, the ring,
   the choice and that one-time key, with the ballot's id as the scope.
   Anyone can check it; no one can tell which member made it; two votes by
   one member in one ballot share a key image. The ring signature is
   checked when the vote is stored (``check_vote``, like standing: from the
   content of the ring event it refs), never again: the fold only reads
   key images. A member may vote again until the ballot closes: the last
   vote in key order replaces the earlier ones, so whoever was made to
   vote one way can quietly vote again.
4. ``result.count`` by each counting group: counts per option, voters,
   eligible, the ring's hash and a hash over the sorted ids of the votes
   counted. A node that holds the votes recounts and refuses a result that
   differs (``bad_result``), keeping it as evidence.
5. ``result.sum`` by each group above, up to the scope: one part per
   child, each a result the fold applied; a sum that does not add up is
   refused and kept as evidence. Two different results by one group for
   one ballot are *equivocation*: the second is refused, the pair kept.

A decision of scope k stands once the scope's own result is applied, which
by rule 5 needs every level from c to k.

Like the rest of the state, all this is a fold in key order
(protocol/state.py): votes are stamped before the close and results after
it, so a result always sorts after the votes it counts, whatever order
they arrived in.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from nacl.signing import SigningKey

from protocol import cbor
from protocol.errors import Reason, Rejected
from protocol.event import SignedEvent
from protocol.groups import DAY_MS, Groups
from protocol.proposals import Proposals
from protocol.registry import Registry
from protocol.ring import POINT_SIZE, PreparedRing, RingSigner, compute_ring_hash, sign, verify
from protocol.roles import Roles

#: Prepended to the hash of a vote's content to form what the ring signs.
#: A recall ballot's options: the first recalls (specs/accountability.md 3.4).
RECALL_OPTIONS = ("recall", "keep")
#: Between a motion's qualifying and its ballot's opening: time to freeze rings.
RING_WINDOW_MS = 3_600_000
#: The counting level a client chooses by default, and a recall ballot's
#: (at most the scope's level): anonymity within about 125 people.
DEFAULT_COUNTING_LEVEL = 3
VOTE_DOMAIN = b"ayllu/vote/v1\x00"
#: Prepended to the sorted ids of the votes a result counts.
VOTES_DOMAIN = b"ayllu/votes/v1\x00"


def vote_message(ballot: bytes, ring: bytes, choice: Sequence[int], one_time_key: bytes) -> bytes:
    """What a vote's ring signature signs: the ballot, the ring, the choice,
    and the one-time key that signs the envelope (so the envelope cannot be
    re-signed by someone else around a captured ring signature)."""
    content = {"ring": ring, "author": one_time_key, "ballot": ballot, "choice": list(choice)}
    return VOTE_DOMAIN + hashlib.sha256(cbor.encode(content)).digest()


def vote_body(
    ring: PreparedRing,
    ring_event_id: bytes,
    signer: RingSigner,
    choice: Sequence[int],
    one_time_key: SigningKey,
    nonce_seed: bytes,
) -> dict[str, Any]:
    """The body of a vote by ``signer`` (sans-I/O: the caller draws the
    one-time key and the nonce seed from its random source)."""
    ballot = ring.scope
    message = vote_message(ballot, ring_event_id, choice, bytes(one_time_key.verify_key))
    return {
        "sig": sign(ring, signer, message, nonce_seed),
        "ring": ring_event_id,
        "ballot": ballot,
        "choice": sorted(choice),
    }


def prepare_ring(ring_event: SignedEvent) -> PreparedRing:
    """The ring a ``ballot.ring`` event freezes, ready to verify votes."""
    body = ring_event.event.body
    return PreparedRing(body["keys"], body["ballot"])


def check_vote(
    vote: SignedEvent, ring_event: SignedEvent | None, ring: PreparedRing | None
) -> bytes:
    """Check a vote against the ring event it names; its key image, or Rejected.

    ``ring`` is ``prepare_ring(ring_event)`` (callers cache it: one ring
    serves every vote of a counting group), None when there is no ring
    event. Checked when the vote is
    stored, from the ring event's content alone, so the result is the same
    on every node and never needs checking again.
    """
    body = vote.event.body
    if (
        ring is None
        or ring_event is None
        or ring_event.kind != "ballot.ring"
        or ring_event.id != body["ring"]
        or ring_event.event.body["ballot"] != body["ballot"]
        or ring_event.group != vote.group
        or body["ring"] not in vote.refs
    ):
        raise Rejected(Reason.WRONG_RING, "a vote refs the ballot.ring of its group and ballot")
    message = vote_message(body["ballot"], body["ring"], body["choice"], vote.author)
    return verify(ring, message, body["sig"])


def votes_hash(vote_ids: Iterable[bytes]) -> bytes:
    return hashlib.sha256(VOTES_DOMAIN + b"".join(sorted(vote_ids))).digest()


@dataclass(slots=True)
class Ring:
    """A counting group's frozen ring and the votes cast in it."""

    id: bytes
    group: bytes
    keys: tuple[bytes, ...]
    ring_hash: bytes
    #: key image -> (vote id, choice): the last vote in key order counts.
    votes: dict[bytes, tuple[bytes, tuple[int, ...]]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Result:
    id: bytes
    group: bytes
    counts: tuple[int, ...]
    voters: int
    eligible: int
    #: True: recounted from the votes this node holds; None: it holds none.
    verified: bool | None


@dataclass(slots=True)
class Ballot:
    """A ballot as the state holds it. Mutable only by the fold."""

    id: bytes
    scope: bytes
    opener: bytes
    ts: int
    body: Mapping[str, Any]
    rings: dict[bytes, Ring] = field(default_factory=dict)
    results: dict[bytes, Result] = field(default_factory=dict)

    @property
    def options(self) -> list[str]:
        options: list[str] = self.body["options"]
        return options

    @property
    def opens(self) -> int:
        opens: int = self.body["opens"]
        return opens

    @property
    def closes(self) -> int:
        closes: int = self.body["closes"]
        return closes

    @property
    def counting_level(self) -> int:
        level: int = self.body["counting_level"]
        return level


@dataclass(frozen=True, slots=True)
class Evidence:
    """Signed results that contradict each other or the votes: anyone can
    check it from the events it names."""

    kind: str  # "equivocation", "bad_count" or "bad_sum"
    ballot: bytes
    group: bytes
    events: tuple[bytes, ...]
    detail: str

    def describe(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "ballot": self.ballot.hex(),
            "group": self.group.hex(),
            "events": [event.hex() for event in self.events],
            "detail": self.detail,
        }


class Ballots:
    """Every ballot, its rings, votes and results, and the evidence of lies."""

    def __init__(
        self, registry: Registry, groups: Groups, proposals: Proposals, roles: Roles
    ) -> None:
        self.registry = registry
        self.groups = groups
        self.proposals = proposals
        self.roles = roles
        self.ballots: dict[bytes, Ballot] = {}
        self.evidence: list[Evidence] = []

    def ballot(self, ballot_id: bytes) -> Ballot:
        found = self.ballots.get(ballot_id)
        if found is None:
            raise Rejected(Reason.UNKNOWN_BALLOT, f"no ballot {ballot_id.hex()}")
        return found

    def outcome(self, ballot_id: bytes) -> dict[str, Any]:
        """Where a ballot stands, JSON-ready: the scope's result (if published),
        quorum, the winning option (if any) and whether the decision stands.

        A decision stands once the scope's own result is applied, which needs
        every level from the counting level up. The winner is the option
        with the most votes, alone at the top; it is decided when the quorum
        is met (voters x 100 >= quorum_pct x eligible) and it has at least
        threshold_pct of the votes that chose an option (single choice) or of
        the voters (approval).
        """
        ballot = self.ballot(ballot_id)
        top = ballot.results.get(ballot.scope)
        document: dict[str, Any] = {
            "ballot": ballot.id.hex(),
            "scope": ballot.scope.hex(),
            "options": ballot.options,
            "stands": top is not None,
            "results": {
                group.hex(): {
                    "id": r.id.hex(),
                    "counts": list(r.counts),
                    "voters": r.voters,
                    "eligible": r.eligible,
                    "verified": r.verified,
                }
                for group, r in sorted(ballot.results.items())
            },
            "rings": {
                group.hex(): ring.ring_hash.hex() for group, ring in sorted(ballot.rings.items())
            },
        }
        body = ballot.body
        if "recall" in body:
            document["recall"] = {"holder": body["recall"].hex(), "role": body["role"]}
        if "grant" in body:
            document["grant"] = body["grant"].hex()
        if "candidates" in body:
            document["election"] = {
                "role": body.get("role", "coordinator"),
                "term": self._election_term(ballot.scope, body),
            }
        if top is None:
            return document
        quorum, decided = _decide(ballot.body, top)
        document.update(
            counts=list(top.counts),
            voters=top.voters,
            eligible=top.eligible,
            quorum_met=quorum,
            decided=decided,
            decided_option=None if decided is None else ballot.options[decided],
        )
        return document

    # -- the fold --

    def apply_open(self, event: SignedEvent) -> None:
        body = event.event.body
        scope = self.groups.group(event.group)
        if "candidates" in body:
            self._check_election_opener(event)
        else:
            self.groups.require_acting(scope.id, event)
        if body["counting_level"] > scope.level:
            raise Rejected(
                Reason.BAD_BALLOT,
                f"counting level {body['counting_level']} is above the scope's {scope.level}",
            )
        for rule in ("quorum_pct", "threshold_pct"):
            if body[rule] != scope.rules[rule]:
                raise Rejected(Reason.BAD_BALLOT, f"{rule} differs from the scope's charter")
        if body["opens"] <= event.ts:
            raise Rejected(Reason.BAD_BALLOT, "a ballot opens after it is announced")
        proposal = body.get("proposal")
        if proposal is not None:
            self._check_proposal(scope.id, proposal)
        if "candidates" in body:
            self._check_candidates(event)
        if proposal is not None:
            self.proposals.close(proposal, event.id)
        self._add(Ballot(event.id, scope.id, event.author, event.ts, body))

    def open_derived(
        self,
        ballot_id: bytes,
        scope_id: bytes,
        opener: bytes,
        at_ms: int,
        days: int,
        options: Sequence[str],
        subject: Mapping[str, Any],
    ) -> None:
        """A ballot that another event opens by itself: a recall motion that
        qualified at ``at_ms`` (protocol/recall.py), an external grant
        (protocol/ledger.py). It takes that event's id, opens an hour later
        (time to freeze the rings), lasts ``days``, is counted at the level a
        client would choose (min(level, 3)), and decides ``subject``
        (specs/accountability.md 3.4 and 6.5)."""
        scope = self.groups.group(scope_id)
        opens = at_ms + RING_WINDOW_MS
        body = {
            "method": "single",
            "options": list(options),
            "opens": opens,
            "closes": opens + days * DAY_MS,
            "quorum_pct": scope.rules["quorum_pct"],
            "threshold_pct": scope.rules["threshold_pct"],
            "counting_level": min(scope.level, DEFAULT_COUNTING_LEVEL),
            **subject,
        }
        self._add(Ballot(ballot_id, scope_id, opener, at_ms, body))

    def decided(self, ballot_id: bytes) -> int | None:
        """The option a ballot decided, once its scope's result is applied
        (None: not decided, or not yet)."""
        ballot = self.ballots.get(ballot_id)
        top = None if ballot is None else ballot.results.get(ballot.scope)
        if ballot is None or top is None:
            return None
        return _decide(ballot.body, top)[1]

    def _add(self, ballot: Ballot) -> None:
        self.proposals.add_target(ballot.id, ballot.scope)  # a ballot is deliberated too
        self.ballots[ballot.id] = ballot

    def _check_election_opener(self, event: SignedEvent) -> None:
        """An election to a role, for the role's term of the close or the
        next, is opened by whoever acts for the scope, or, while the role is
        vacant, by any of its electors: a recalled or absent holder cannot
        keep a role empty (specs/accountability.md 2.1, steps 1 and 2)."""
        body = event.event.body
        scope = event.group
        role = body.get("role", "coordinator")
        term = self._election_term(scope, body)
        of_close = self.roles.term_at(scope, role, body["closes"])
        if term not in (of_close, of_close + 1):
            raise Rejected(Reason.BAD_BALLOT, f"term {term} is neither {of_close} nor the next")
        self.registry.require_certified(event.author, event.ts)
        vacant_and_elector = self.roles.holder(scope, role, event.ts) is None and (
            event.author in self.groups.electorate(scope, event.ts)
        )
        if not (self.groups.acts_for(scope, event.author, event.ts) or vacant_and_elector):
            raise Rejected(
                Reason.NOT_AUTHORIZED,
                "an election is opened by whoever acts for the group, or by an elector "
                "while the role is vacant",
            )

    def _check_candidates(self, event: SignedEvent) -> None:
        """Certified members of the scope's subtree; then none of them steward
        in the term before, if the charter says so (2.1, steps 3 and 4)."""
        body = event.event.body
        for candidate in body["candidates"]:
            self.registry.require_certified(candidate, event.ts)
            if not self.groups.in_subtree(candidate, event.group):
                raise Rejected(Reason.NOT_MEMBER, f"candidate {candidate.hex()} is not a member")
        role = body.get("role", "coordinator")
        term = self._election_term(event.group, body)
        for candidate in body["candidates"]:
            if self._steward_again(event.group, role, term, candidate):
                raise Rejected(
                    Reason.CONSECUTIVE_TERM, f"{candidate.hex()} was steward the term before"
                )

    def _election_term(self, scope_id: bytes, body: Mapping[str, Any]) -> int:
        role = body.get("role", "coordinator")
        term: int = body.get("term", self.roles.term_at(scope_id, role, body["closes"]))
        return term

    def _steward_again(self, scope_id: bytes, role: str, term: int, key: bytes) -> bool:
        """Whether the charter forbids ``key`` the role: a steward two terms
        in a row, where ``steward_repeat`` is false."""
        return (
            role == "steward"
            and not self.groups.group(scope_id).rules["steward_repeat"]
            and self.roles.elected(scope_id, "steward", term - 1) == key
        )

    def _check_proposal(self, scope: bytes, proposal_id: bytes) -> None:
        self.proposals.require_open(proposal_id, scope)
        support = self.proposals.support_count(proposal_id)
        needed = self.proposals.supporters_needed(proposal_id)
        if support < needed:
            raise Rejected(
                Reason.NOT_ENOUGH_SUPPORT, f"{support} of the {needed} supporters needed"
            )

    def apply_ring(self, event: SignedEvent) -> None:
        body = event.event.body
        ballot = self.ballot(body["ballot"])
        group = self.groups.group(event.group)
        if event.ts >= ballot.opens:
            raise Rejected(Reason.WRONG_RING, "a ring is frozen before the ballot opens")
        if group.level != ballot.counting_level or not (
            group.id == ballot.scope or ballot.scope in self.groups.ancestors(group.id)
        ):
            raise Rejected(
                Reason.WRONG_RING, "rings belong to the counting groups of the ballot's scope"
            )
        self._require_member(group.id, event)
        if group.id in ballot.rings:
            raise Rejected(Reason.WRONG_RING, "the group's ring is frozen already")
        eligible = self.eligible(group.id, ballot.opens)
        keys = tuple(body["keys"])
        if keys != eligible:
            raise Rejected(
                Reason.WRONG_RING,
                f"{len(set(keys) - set(eligible))} keys not eligible, "
                f"{len(set(eligible) - set(keys))} eligible members left out",
            )
        ballot.rings[group.id] = Ring(event.id, group.id, keys, compute_ring_hash(keys))

    def _require_member(self, group_id: bytes, event: SignedEvent) -> None:
        """Anyone certified in the group's subtree may freeze its ring, not
        only whoever acts for it: the ring's keys are fixed by the rules,
        so freezing is a chore, and nobody must be able to stall a ballot
        by not doing it."""
        self.registry.require_certified(event.author, event.ts)
        if not (
            self.groups.acts_for(group_id, event.author, event.ts)
            or self.groups.in_subtree(event.author, group_id)
        ):
            raise Rejected(Reason.NOT_AUTHORIZED, "a ring is frozen by a member of the group")

    def eligible(self, group_id: bytes, at_ms: int) -> tuple[bytes, ...]:
        """The ring a counting group must freeze: its subtree's members
        certified at the opening, sorted."""
        members = self.groups.members(group_id)
        return tuple(sorted(m for m in members if self.registry.is_certified(m, at_ms)))

    def apply_vote(self, event: SignedEvent) -> None:
        body = event.event.body
        ballot = self.ballot(body["ballot"])
        ring = ballot.rings.get(event.group)
        if ring is None or ring.id != body["ring"]:
            raise Rejected(Reason.WRONG_RING, "not the ring the fold holds for this group")
        if not ballot.opens <= event.ts < ballot.closes:
            raise Rejected(Reason.VOTE_OUTSIDE_WINDOW, "a vote is cast between open and close")
        choice = tuple(body["choice"])
        if any(option >= len(ballot.options) for option in choice):
            raise Rejected(Reason.BAD_CHOICE, "no such option")
        if ballot.body["method"] == "single" and len(choice) > 1:
            raise Rejected(Reason.BAD_CHOICE, "a single-choice ballot takes one option (or none)")
        ring.votes[body["sig"][:POINT_SIZE]] = (event.id, choice)

    def apply_count(self, event: SignedEvent) -> None:
        body = event.event.body
        ballot = self._result_ballot(event)
        ring = ballot.rings.get(event.group)
        if ring is None or ring.ring_hash != body["ring_hash"]:
            raise Rejected(Reason.WRONG_RING, "not the ring the fold holds for this group")
        self._check_shape(ballot, body, eligible=len(ring.keys))
        verified: bool | None = None
        if ring.votes:
            counts, voters, digest = tally(ring, len(ballot.options))
            if (tuple(body["counts"]), body["voters"], body["votes_hash"]) != (
                counts,
                voters,
                digest,
            ):
                self._evidence("bad_count", ballot, event, (event.id,), "the votes say otherwise")
            verified = True
        self._record(ballot, event, verified)

    def apply_sum(self, event: SignedEvent) -> None:
        body = event.event.body
        ballot = self._result_ballot(event)
        group = self.groups.group(event.group)
        if group.level <= ballot.counting_level or not (
            group.id == ballot.scope or ballot.scope in self.groups.ancestors(group.id)
        ):
            raise Rejected(
                Reason.BAD_RESULT, "sums are made by the groups from the counting level up"
            )
        parts = [self._part(ballot, part_id) for part_id in body["parts"]]
        children = {part.group for part in parts}
        if len(children) != len(parts) or children != set(group.children):
            raise Rejected(Reason.BAD_RESULT, "a sum has one part per child of the group")
        width = len(ballot.options)
        counts = tuple(sum(part.counts[i] for part in parts) for i in range(width))
        voters = sum(part.voters for part in parts)
        eligible = sum(part.eligible for part in parts)
        self._check_shape(ballot, body, eligible=eligible)
        if (tuple(body["counts"]), body["voters"]) != (counts, voters):
            self._evidence("bad_sum", ballot, event, (event.id, *body["parts"]), "does not add up")
        # A sum is as verified as the least verified of its parts.
        self._record(ballot, event, True if all(part.verified for part in parts) else None)

    def _part(self, ballot: Ballot, part_id: bytes) -> Result:
        for result in ballot.results.values():
            if result.id == part_id:
                return result
        raise Rejected(Reason.BAD_RESULT, f"part {part_id.hex()} is not an applied result")

    def _result_ballot(self, event: SignedEvent) -> Ballot:
        ballot = self.ballot(event.event.body["ballot"])
        if event.ts < ballot.closes:
            raise Rejected(Reason.TOO_EARLY, "results are published after the close")
        if "recall" in ballot.body:
            # Any elector of a group may publish its result of a recall, so
            # that the one recalled cannot stop it by not publishing.
            self.registry.require_certified(event.author, event.ts)
            if event.author in self.groups.electorate(event.group, event.ts):
                return ballot
        self.groups.require_acting(event.group, event)
        return ballot

    def _check_shape(self, ballot: Ballot, body: Mapping[str, Any], *, eligible: int) -> None:
        if len(body["counts"]) != len(ballot.options):
            raise Rejected(Reason.BAD_RESULT, "one count per option")
        if body["eligible"] != eligible:
            raise Rejected(Reason.BAD_RESULT, f"eligible is {eligible}")
        if body["voters"] > eligible:
            raise Rejected(Reason.BAD_RESULT, "more voters than eligible members")

    def _record(self, ballot: Ballot, event: SignedEvent, verified: bool | None) -> None:
        body = event.event.body
        earlier = ballot.results.get(event.group)
        if earlier is not None:
            same = (earlier.counts, earlier.voters) == (tuple(body["counts"]), body["voters"])
            if not same:
                self._evidence(
                    "equivocation", ballot, event, (earlier.id, event.id), "two different results"
                )
            raise Rejected(Reason.EQUIVOCATION, f"the group published {earlier.id.hex()}")
        ballot.results[event.group] = Result(
            event.id,
            event.group,
            tuple(body["counts"]),
            body["voters"],
            body["eligible"],
            verified,
        )
        if event.group == ballot.scope:
            self._take_effect(ballot, ballot.results[event.group])

    def _take_effect(self, ballot: Ballot, top: Result) -> None:
        """An election or a recall that the scope's result decides changes
        who holds the role (specs/accountability.md sections 2 and 3)."""
        _, decided = _decide(ballot.body, top)
        if decided is None:
            return
        body, scope = ballot.body, ballot.scope
        role = body.get("role", "coordinator")
        candidates = body.get("candidates")
        if candidates is not None:
            term = self._election_term(scope, body)
            if not self._steward_again(scope, role, term, candidates[decided]):
                self.roles.record_election(scope, role, term, candidates[decided])
        elif "recall" in body and decided == 0:  # the first option recalls
            term = self.roles.term_at(scope, role, ballot.closes)
            self.roles.record_recall(scope, role, term, body["recall"])

    def _evidence(
        self,
        kind: str,
        ballot: Ballot,
        event: SignedEvent,
        events: tuple[bytes, ...],
        detail: str,
    ) -> None:
        """Record the evidence and refuse the event (both, or neither: the
        fold keeps the evidence only because the refusal is raised after)."""
        self.evidence.append(Evidence(kind, ballot.id, event.group, events, detail))
        reason = Reason.EQUIVOCATION if kind == "equivocation" else Reason.BAD_RESULT
        raise Rejected(reason, detail)


def _decide(body: Mapping[str, Any], top: Result) -> tuple[bool, int | None]:
    """Whether the quorum is met, and the option decided, if any (see
    ``Ballots.outcome``)."""
    quorum = top.voters * 100 >= body["quorum_pct"] * top.eligible
    base = sum(top.counts) if body["method"] == "single" else top.voters
    best = max(top.counts)
    leaders = [i for i, count in enumerate(top.counts) if count == best]
    if len(leaders) != 1 or not quorum or best * 100 < body["threshold_pct"] * base:
        return quorum, None
    return quorum, leaders[0]


def tally(ring: Ring, width: int) -> tuple[tuple[int, ...], int, bytes]:
    """Counts per option, voters and the votes' hash, from the ring's votes:
    what a counting group publishes, and what a node that holds the votes
    checks a count against."""
    counts = [0] * width
    for _, choice in ring.votes.values():
        for option in choice:
            counts[option] += 1
    return tuple(counts), len(ring.votes), votes_hash(vote_id for vote_id, _ in ring.votes.values())
