"""The fractal of groups: charters, the hierarchy, members, coordinators, merit.

Theory of operation
-------------------
Everything here is derived from signed events (specs/groups.md):

- ``group.charter`` founds a group; its id is the charter's event id. The
  root group is founded by the genesis document and its id is the network
  id. A group's level is fixed by its charter: base groups are level 1.
- ``group.apply`` (by whoever acts for the child) and ``group.admit`` (by
  whoever acts for the parent) place a group under a parent one level up.
  A group has at most ``MAX_CHILDREN`` children.
- ``member.apply`` (by the person) and ``member.admit`` (by a member) put a
  certified person in a base group: one base group per person, at most
  ``MAX_MEMBERS`` members, active from ``MIN_ACTIVE``.
- ``coordinator.endorse``: the electorate of a group (a base group's
  members; above that, the coordinators of its children) endorse a
  candidate from the group's subtree for a term. Whoever holds the
  endorsements of a strict majority of the electorate for the current term
  is the coordinator, so there is at most one, and a majority that changes
  its endorsements recalls them at once. An election ballot
  (protocol/ballots.py) overrides endorsements for its term, and a recall
  ballot removes the coordinator for the rest of the term.
- Who *acts for* a group (admits children, applies to a parent, and later
  signs its results): its coordinator, or while it has none, its founder.
- ``merit.attest``: a member attests to another's contribution, at most
  once per (attester, member, period); each attestation is a merit point,
  shown beside candidates.

Two kinds of limits need care, because events reach nodes in any order.
Rules about the event alone are checked on decoding. Rules about the state
(a sixth member, two parents, an unauthorized author) are decided by a fold
over every governance event in (ts, id) order (protocol/state.py), the same
on every node that holds the same events: of two concurrent admissions that
would each be the sixth member, the one first in that order counts and the
other is refused, everywhere.

Each ``apply_*`` method checks everything first and changes the state only
when it raises nothing.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from protocol.errors import Reason, Rejected
from protocol.event import SignedEvent
from protocol.genesis import Genesis
from protocol.kinds import RULE_DEFAULTS
from protocol.registry import Registry

MAX_MEMBERS = 5
MIN_ACTIVE = 3
MAX_CHILDREN = 5
DAY_MS = 86_400_000


@dataclass(slots=True)
class Group:
    """A group as the state holds it. Mutable only by the fold."""

    id: bytes
    name: str
    level: int
    langs: tuple[str, ...]
    rules: Mapping[str, int]  # with RULE_DEFAULTS for the rules a charter leaves out
    founder: bytes
    founded: int
    parent: bytes | None = None
    children: list[bytes] = field(default_factory=list)
    #: Base groups only: members in the order they were admitted.
    members: list[bytes] = field(default_factory=list)
    #: term -> endorser -> candidate (an endorser's newest endorsement counts).
    endorsements: dict[int, dict[bytes, bytes]] = field(default_factory=dict)
    #: term -> the coordinator an election ballot chose (specs/ballots.md).
    elected: dict[int, bytes] = field(default_factory=dict)
    #: term -> the keys a recall ballot removed for the rest of the term.
    recalled: dict[int, set[bytes]] = field(default_factory=dict)
    #: The node keys that serve the group on the network (``group.nodes``):
    #: how peers find whom to link with (specs/network.md).
    nodes: tuple[bytes, ...] = ()

    @classmethod
    def from_charter(
        cls, group_id: bytes, charter: Mapping[str, Any], founder: bytes, founded: int
    ) -> Group:
        return cls(
            id=group_id,
            name=charter["name"],
            level=charter["level"],
            langs=tuple(charter["langs"]),
            rules={**RULE_DEFAULTS, **charter["rules"]},
            founder=founder,
            founded=founded,
        )

    @property
    def term_ms(self) -> int:
        return self.rules["term_days"] * DAY_MS

    @property
    def merit_ms(self) -> int:
        return self.rules["merit_days"] * DAY_MS

    def term_at(self, at_ms: int) -> int:
        """Terms are fixed windows of ``term_days`` from the Unix epoch, so
        every node agrees on them without agreeing on anything else."""
        return at_ms // self.term_ms

    def period_at(self, at_ms: int) -> int:
        return at_ms // self.merit_ms


@dataclass(frozen=True, slots=True)
class Application:
    """A pending request to join: a group under ``target``, or a person into it."""

    target: bytes
    applicant: bytes  # the child group's id, or the person's key


@dataclass(frozen=True, slots=True)
class Candidate:
    key: bytes
    endorsements: int
    merit: int


class Groups:
    """Every group known, their hierarchy, members, endorsements and merit."""

    def __init__(self, genesis: Genesis, registry: Registry) -> None:
        self.registry = registry
        self.root_id = genesis.network_id
        self.root_level = genesis.root_level
        root = Group.from_charter(self.root_id, genesis.root, genesis.founder, genesis.ts)
        self.groups: dict[bytes, Group] = {root.id: root}
        self.group_applications: dict[bytes, Application] = {}
        self.member_applications: dict[bytes, Application] = {}
        #: person's key -> their base group.
        self.member_group: dict[bytes, bytes] = {}
        #: Merit belongs to the person, not the key: keyed by uniqueness tag,
        #: it survives a key replacement, and a new key attests no twice.
        self._merit: dict[bytes, int] = {}
        self._attested: set[tuple[bytes, bytes, int]] = set()

    # -- queries --

    def group(self, group_id: bytes) -> Group:
        found = self.groups.get(group_id)
        if found is None:
            raise Rejected(Reason.UNKNOWN_GROUP, f"no group {group_id.hex()}")
        return found

    def status(self, group_id: bytes) -> str:
        """ "active" or "forming": a base group is active with 3 to 5 members,
        a group above with at least one active child."""
        group = self.group(group_id)
        if group.level == 1:
            return "active" if len(group.members) >= MIN_ACTIVE else "forming"
        if any(self.status(child) == "active" for child in group.children):
            return "active"
        return "forming"

    def parent(self, group_id: bytes) -> bytes | None:
        return self.group(group_id).parent

    def children(self, group_id: bytes) -> list[bytes]:
        return list(self.group(group_id).children)

    def siblings(self, group_id: bytes) -> list[bytes]:
        parent = self.group(group_id).parent
        if parent is None:
            return []
        return [child for child in self.groups[parent].children if child != group_id]

    def ancestors(self, group_id: bytes) -> list[bytes]:
        """Parent first, up to the top of the chain (the root once placed)."""
        found: list[bytes] = []
        parent = self.group(group_id).parent
        while parent is not None:
            found.append(parent)
            parent = self.groups[parent].parent
        return found

    def path(self, group_id: bytes) -> list[bytes]:
        """From the top of the chain (the root once placed) down to the group."""
        return [*reversed(self.ancestors(group_id)), group_id]

    def descendants(self, group_id: bytes) -> list[bytes]:
        """Breadth first: children, then grandchildren, ..."""
        return list(self._walk(group_id))[1:]

    def _walk(self, group_id: bytes) -> Iterator[bytes]:
        queue = deque([self.group(group_id).id])
        while queue:
            current = queue.popleft()
            yield current
            queue.extend(self.groups[current].children)

    def members(self, group_id: bytes) -> list[bytes]:
        """Every person in the group's subtree (a base group's own members)."""
        return [
            member for current in self._walk(group_id) for member in self.groups[current].members
        ]

    def member_count(self, group_id: bytes) -> int:
        return sum(len(self.groups[current].members) for current in self._walk(group_id))

    def group_of(self, member: bytes) -> bytes | None:
        return self.member_group.get(member)

    def served_by(self, node: bytes) -> list[bytes]:
        """The groups a node key serves, by group id: one machine may serve
        several micro-groups."""
        return sorted(gid for gid, group in self.groups.items() if node in group.nodes)

    def in_subtree(self, member: bytes, group_id: bytes) -> bool:
        current = self.member_group.get(member)
        while current is not None:
            if current == group_id:
                return True
            current = self.groups[current].parent
        return False

    def electorate(self, group_id: bytes, at_ms: int) -> set[bytes]:
        """Who endorses a coordinator: certified members of a base group;
        above it, the coordinators of its children."""
        group = self.group(group_id)
        if group.level == 1:
            return {m for m in group.members if self.registry.is_certified(m, at_ms)}
        chosen = (self.coordinator(child, at_ms) for child in group.children)
        return {key for key in chosen if key is not None}

    def _tally(self, group_id: bytes, at_ms: int) -> tuple[dict[bytes, int], int]:
        """Endorsements per eligible candidate for the term of ``at_ms``, and
        the electorate's size."""
        group = self.group(group_id)
        electorate = self.electorate(group_id, at_ms)
        votes = group.endorsements.get(group.term_at(at_ms), {})
        counts: dict[bytes, int] = {}
        for endorser, candidate in votes.items():
            if endorser in electorate and self._eligible(candidate, group_id, at_ms):
                counts[candidate] = counts.get(candidate, 0) + 1
        return counts, len(electorate)

    def _eligible(self, candidate: bytes, group_id: bytes, at_ms: int) -> bool:
        return self.registry.is_certified(candidate, at_ms) and self.in_subtree(candidate, group_id)

    def coordinator(self, group_id: bytes, at_ms: int) -> bytes | None:
        """The group's coordinator at ``at_ms``: whom an election ballot chose
        for the term, else whom a strict majority of the electorate endorses;
        never someone a recall ballot removed this term."""
        group = self.group(group_id)
        term = group.term_at(at_ms)
        recalled = group.recalled.get(term, set())
        elected = group.elected.get(term)
        if (
            elected is not None
            and elected not in recalled
            and self._eligible(elected, group_id, at_ms)
        ):
            return elected
        counts, electorate = self._tally(group_id, at_ms)
        for candidate, count in counts.items():
            if 2 * count > electorate and candidate not in recalled:
                return candidate
        return None

    def record_election(self, group_id: bytes, term: int, key: bytes) -> None:
        """An election ballot of the group decided for ``key`` (protocol/ballots.py)."""
        self.group(group_id).elected[term] = key

    def record_recall(self, group_id: bytes, term: int, key: bytes) -> None:
        """A recall ballot of the group removed ``key`` for the term."""
        self.group(group_id).recalled.setdefault(term, set()).add(key)

    def candidates(self, group_id: bytes, at_ms: int) -> list[Candidate]:
        """Endorsed candidates of the current term with their merit, most
        endorsed first (then most merit, then key)."""
        counts, _ = self._tally(group_id, at_ms)
        found = [Candidate(key, count, self.merit(key)) for key, count in counts.items()]
        return sorted(found, key=lambda c: (-c.endorsements, -c.merit, c.key))

    def merit(self, member: bytes) -> int:
        """Merit points: the attestations to the person who holds ``member``."""
        cert = self.registry.certificate_of(member)
        return 0 if cert is None else self._merit.get(cert.tag, 0)

    def acts_for(self, group_id: bytes, key: bytes, at_ms: int) -> bool:
        """The coordinator acts for a group; while there is none, its founder."""
        coordinator = self.coordinator(group_id, at_ms)
        if coordinator is not None:
            return key == coordinator
        return key == self.group(group_id).founder

    def describe(self, group_id: bytes, at_ms: int) -> dict[str, Any]:
        """A group as JSON-ready data (ids and keys in hex), for the CLI and API."""
        group = self.group(group_id)
        coordinator = self.coordinator(group_id, at_ms)
        return {
            "id": group.id.hex(),
            "name": group.name,
            "level": group.level,
            "langs": list(group.langs),
            "rules": dict(group.rules),
            "founder": group.founder.hex(),
            "founded_ms": group.founded,
            "status": self.status(group_id),
            "parent": None if group.parent is None else group.parent.hex(),
            "children": [child.hex() for child in group.children],
            "members": [member.hex() for member in group.members],
            "member_count": self.member_count(group_id),
            "coordinator": None if coordinator is None else coordinator.hex(),
            "nodes": [node.hex() for node in group.nodes],
            "candidates": [
                {"key": c.key.hex(), "endorsements": c.endorsements, "merit": c.merit}
                for c in self.candidates(group_id, at_ms)
            ],
        }

    # -- the fold --

    def require_acting(self, group_id: bytes, event: SignedEvent) -> None:
        """Refuse ``event`` unless its author is certified and acts for the group."""
        self.registry.require_certified(event.author, event.ts)
        if not self.acts_for(group_id, event.author, event.ts):
            raise Rejected(
                Reason.NOT_AUTHORIZED,
                f"{event.author.hex()} does not act for group {group_id.hex()}",
            )

    def _base_group(self, group_id: bytes) -> Group:
        group = self.group(group_id)
        if group.level != 1:
            raise Rejected(Reason.NOT_BASE_GROUP, f"group {group_id.hex()} is level {group.level}")
        return group

    def apply_charter(self, event: SignedEvent) -> None:
        charter = event.event.body
        founder = event.author
        self.registry.require_certified(founder, event.ts)
        if charter["level"] >= self.root_level:
            raise Rejected(
                Reason.BAD_LEVEL,
                f"level {charter['level']}: groups are below the root's level {self.root_level}",
            )
        if charter["level"] == 1:
            self._require_unplaced(founder)
        group = Group.from_charter(event.id, charter, founder, event.ts)
        if group.level == 1:
            group.members.append(founder)
            self.member_group[founder] = group.id
        self.groups[group.id] = group

    def apply_group_apply(self, event: SignedEvent) -> None:
        child = self.group(event.group)
        parent = self.group(event.event.body["parent"])
        self.require_acting(child.id, event)
        if child.level + 1 != parent.level:
            raise Rejected(
                Reason.BAD_LEVEL,
                f"a level {child.level} group joins a level {child.level + 1} parent, "
                f"not level {parent.level}",
            )
        if child.parent is not None:
            raise Rejected(Reason.ALREADY_PLACED, f"the group's parent is {child.parent.hex()}")
        self.group_applications[event.id] = Application(parent.id, child.id)

    def apply_group_admit(self, event: SignedEvent) -> None:
        body = event.event.body
        parent = self.group(event.group)
        self.require_acting(parent.id, event)
        application = self.group_applications.get(body["application"])
        if application != Application(parent.id, body["child"]):
            raise Rejected(
                Reason.UNKNOWN_APPLICATION,
                f"no application of {body['child'].hex()} to join {parent.id.hex()}",
            )
        child = self.groups[body["child"]]
        if child.parent is not None:
            raise Rejected(Reason.ALREADY_PLACED, f"the group's parent is {child.parent.hex()}")
        if len(parent.children) >= MAX_CHILDREN:
            raise Rejected(Reason.TOO_MANY_CHILDREN, f"the group has {MAX_CHILDREN} children")
        child.parent = parent.id
        parent.children.append(child.id)

    def apply_group_nodes(self, event: SignedEvent) -> None:
        group = self.group(event.group)
        self.require_acting(group.id, event)
        group.nodes = tuple(event.event.body["nodes"])

    def apply_group_leave(self, event: SignedEvent) -> None:
        child = self.group(event.group)
        parent_id = event.event.body["parent"]
        if child.parent != parent_id:
            raise Rejected(Reason.NOT_MEMBER, f"the group is not a child of {parent_id.hex()}")
        self.registry.require_certified(event.author, event.ts)
        if not (
            self.acts_for(child.id, event.author, event.ts)
            or self.acts_for(parent_id, event.author, event.ts)
        ):
            raise Rejected(Reason.NOT_AUTHORIZED, "only the child or the parent ends the link")
        child.parent = None
        self.groups[parent_id].children.remove(child.id)

    def apply_member_apply(self, event: SignedEvent) -> None:
        group = self._base_group(event.group)
        self.registry.require_certified(event.author, event.ts)
        if self.member_group.get(event.author) == group.id:
            raise Rejected(Reason.ALREADY_MEMBER, "the applicant is a member already")
        self.member_applications[event.id] = Application(group.id, event.author)

    def apply_member_admit(self, event: SignedEvent) -> None:
        body = event.event.body
        group = self._base_group(event.group)
        self.registry.require_certified(event.author, event.ts)
        if event.author not in group.members:
            raise Rejected(Reason.NOT_AUTHORIZED, "only a member admits members")
        member = body["member"]
        application = self.member_applications.get(body["application"])
        if application != Application(group.id, member):
            raise Rejected(
                Reason.UNKNOWN_APPLICATION,
                f"no application of {member.hex()} to join {group.id.hex()}",
            )
        self.registry.require_certified(member, event.ts)
        self._require_unplaced(member)
        if len(group.members) >= MAX_MEMBERS:
            raise Rejected(Reason.GROUP_FULL, f"the group has {MAX_MEMBERS} members")
        group.members.append(member)
        self.member_group[member] = group.id

    def _require_unplaced(self, member: bytes) -> None:
        current = self.member_group.get(member)
        if current is not None:
            raise Rejected(Reason.ALREADY_MEMBER, f"{member.hex()} is in group {current.hex()}")

    def apply_member_leave(self, event: SignedEvent) -> None:
        group = self._base_group(event.group)
        if event.author not in group.members:
            raise Rejected(Reason.NOT_MEMBER, "the author is not a member")
        group.members.remove(event.author)
        del self.member_group[event.author]

    def apply_endorse(self, event: SignedEvent) -> None:
        body = event.event.body
        group = self.group(event.group)
        self.registry.require_certified(event.author, event.ts)
        term = group.term_at(event.ts)
        if body["term"] not in (term, term + 1):
            raise Rejected(
                Reason.WRONG_PERIOD, f"term {body['term']}: endorse for term {term} or {term + 1}"
            )
        if event.author not in self.electorate(group.id, event.ts):
            raise Rejected(Reason.NOT_AUTHORIZED, "the author does not elect this coordinator")
        candidate = body["candidate"]
        self.registry.require_certified(candidate, event.ts)
        if not self.in_subtree(candidate, group.id):
            raise Rejected(Reason.NOT_MEMBER, "the candidate is not a member of the group")
        group.endorsements.setdefault(body["term"], {})[event.author] = candidate

    def apply_attest(self, event: SignedEvent) -> None:
        body = event.event.body
        group = self.group(event.group)
        attester, member = event.author, body["member"]
        attester_tag = self.registry.require_certified(attester, event.ts).tag
        if not self.in_subtree(attester, group.id):
            raise Rejected(Reason.NOT_MEMBER, "the attester is not a member of the group")
        if member == attester:
            raise Rejected(Reason.SELF_ATTESTATION, "a member cannot attest to themselves")
        member_tag = self.registry.require_certified(member, event.ts).tag
        if not self.in_subtree(member, group.id):
            raise Rejected(Reason.NOT_MEMBER, "the member is not in the group")
        period = group.period_at(event.ts)
        if body["period"] != period:
            raise Rejected(Reason.WRONG_PERIOD, f"period {body['period']}, now {period}")
        seen = (attester_tag, member_tag, period)
        if seen in self._attested:
            raise Rejected(
                Reason.DUPLICATE_ATTESTATION, "one attestation per attester, member and period"
            )
        self._attested.add(seen)
        self._merit[member_tag] = self._merit.get(member_tag, 0) + 1

    def replace_key(self, old: bytes, new: bytes) -> None:
        """A certificate moved a person to a new key: their place follows
        (their merit is the person's already)."""
        if old == new:
            return
        group_id = self.member_group.pop(old, None)
        if group_id is not None:
            members = self.groups[group_id].members
            members[members.index(old)] = new
            self.member_group[new] = group_id
