"""Governance scenarios for tests: a network, its registrars, people and groups.

``Scenario`` signs every kind of governance event with deterministic keys
and a clock that moves one second per event, so the events of a scenario
are already in key order and each test reads like the story it tells. The
fractal of the issue (1 + 5 + 25 groups) is ``build_fractal``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from itertools import count
from typing import Any

from event_factory import signing_key
from nacl.signing import SigningKey

from protocol.event import Event, SignedEvent, sign
from protocol.genesis import Genesis, make_genesis
from protocol.kinds import GOVERNANCE_KINDS
from protocol.registry import approve
from protocol.standing import CERTIFICATE_KINDS, REGISTRAR_KINDS
from protocol.uniqueness import normalize_national_id, uniqueness_tag

T0 = 1_700_000_000_000
DAY_MS = 86_400_000
YEAR_MS = 365 * DAY_MS
TAG_KEY = hashlib.sha256(b"test registrars' tag key").digest()
RULES = {
    "quorum_pct": 50,
    "support_pct": 20,
    "threshold_pct": 50,
    "term_days": 90,
    "merit_days": 30,
}


def key_of(key: SigningKey) -> bytes:
    return bytes(key.verify_key)


def charter_body(
    name: str,
    level: int,
    langs: Iterable[str] = ("es", "qu"),
    rules: Mapping[str, Any] = RULES,
) -> dict[str, Any]:
    return {"name": name, "langs": sorted(set(langs)), "level": level, "rules": dict(rules)}


def tag_of(number: str) -> bytes:
    """The tag of the test person with this DNI number (given as 8 digits;
    a leading "7" keeps "00000000" a valid number, which has no leading zero)."""
    return uniqueness_tag(TAG_KEY, normalize_national_id("PE", "DNI", "7" + number))


@dataclass
class Scenario:
    """A network under construction; every method returns the signed event
    it made and appends it to ``events``."""

    root_level: int = 3
    registrar_count: int = 2
    quorum: int = 1
    now: int = T0
    #: The rules of every charter the scenario writes, the root's included.
    rules: Mapping[str, Any] = field(default_factory=lambda: dict(RULES))
    events: list[SignedEvent] = field(default_factory=list)
    #: Standing (protocol/standing.py): the newest certificate naming each
    #: key, and the registrar change that added each later registrar; every
    #: governance event refs its author's, as a client does.
    certificates: dict[bytes, bytes] = field(default_factory=dict)
    registrar_changes: dict[bytes, bytes] = field(default_factory=dict)
    #: Rings (sorted keys) whose eligibility the scenario's vectors check.
    rings: list[list[bytes]] = field(default_factory=list)
    genesis: Genesis = field(init=False)
    registrars: list[SigningKey] = field(init=False)
    founder: SigningKey = field(init=False)

    def __post_init__(self) -> None:
        self.registrars = [signing_key(f"registrar {i}") for i in range(self.registrar_count)]
        self.founder = signing_key("founder")
        self.genesis = make_genesis(
            name="test network",
            ts=self.now,
            root=charter_body("root", self.root_level, ("ay", "es", "qu"), self.rules),
            founder=key_of(self.founder),
            registrars=[key_of(k) for k in self.registrars],
            quorum=self.quorum,
        )

    @property
    def net(self) -> bytes:
        return self.genesis.network_id

    def tick(self, ms: int = 1000) -> int:
        self.now += ms
        return self.now

    def event(
        self,
        kind: str,
        key: SigningKey,
        body: Mapping[str, Any],
        *,
        group: bytes | None = None,
        refs: Iterable[bytes] = (),
        ts: int | None = None,
        evidence: bool = True,
    ) -> SignedEvent:
        """Sign an event; ``evidence=False`` leaves out the author's standing."""
        author = key_of(key)
        standing = (self.registrar_changes if kind in REGISTRAR_KINDS else self.certificates).get(
            author
        )
        refs = set(refs)
        if evidence and kind in GOVERNANCE_KINDS and standing is not None:
            refs.add(standing)
        signed = sign(
            Event(
                kind=kind,
                group=self.net if group is None else group,
                author=author,
                net=self.net,
                ts=self.tick() if ts is None else ts,
                body=dict(body),
                refs=tuple(sorted(refs)),
            ),
            key,
        )
        if kind in CERTIFICATE_KINDS:
            self.certificates[signed.event.body["member"]] = signed.id
        elif kind == "registrar.change":
            self.registrar_changes.update(dict.fromkeys(signed.event.body["add"], signed.id))
        self.events.append(signed)
        return signed

    # -- identity --

    def certify(
        self,
        member: SigningKey,
        number: str,
        *,
        registrar: SigningKey | None = None,
        expires: int | None = None,
    ) -> SignedEvent:
        return self.event(
            "cert.issue",
            registrar or self.registrars[0],
            {
                "tag": tag_of(number),
                "member": key_of(member),
                "expires": self.now + 2 * YEAR_MS if expires is None else expires,
            },
        )

    def replace(
        self, old: SignedEvent, new_member: SigningKey, *, registrar: SigningKey | None = None
    ) -> SignedEvent:
        return self.event(
            "cert.replace",
            registrar or self.registrars[0],
            {
                "old": old.id,
                "tag": old.event.body["tag"],
                "member": key_of(new_member),
                "expires": self.now + 2 * YEAR_MS,
            },
        )

    def revoke(self, cert: SignedEvent, *, registrar: SigningKey | None = None) -> SignedEvent:
        return self.event(
            "cert.revoke", registrar or self.registrars[0], {"why": "stolen", "cert": cert.id}
        )

    def change_registrars(
        self,
        approvers: Iterable[SigningKey],
        *,
        add: Iterable[bytes] = (),
        remove: Iterable[bytes] = (),
        quorum: int,
        epoch: int,
    ) -> SignedEvent:
        approvers = sorted(approvers, key=key_of)
        add, remove = sorted(add), sorted(remove)
        approvals = [approve(k, self.net, add, remove, quorum, epoch) for k in approvers]
        return self.event(
            "registrar.change",
            approvers[0],
            {
                "add": add,
                "epoch": epoch,
                "quorum": quorum,
                "remove": remove,
                "approvals": approvals,
            },
        )

    # -- groups --

    def found(self, founder: SigningKey, name: str, level: int) -> SignedEvent:
        return self.event("group.charter", founder, charter_body(name, level, rules=self.rules))

    def apply(self, actor: SigningKey, child: bytes, parent: bytes) -> SignedEvent:
        return self.event("group.apply", actor, {"parent": parent}, group=child)

    def admit(self, actor: SigningKey, application: SignedEvent) -> SignedEvent:
        return self.event(
            "group.admit",
            actor,
            {"child": application.group, "application": application.id},
            group=application.event.body["parent"],
            refs=[application.id],
        )

    def name_nodes(self, actor: SigningKey, group: bytes, nodes: Iterable[bytes]) -> SignedEvent:
        return self.event("group.nodes", actor, {"nodes": sorted(nodes)}, group=group)

    def join(self, person: SigningKey, group: bytes, admitter: SigningKey) -> SignedEvent:
        """An application by ``person`` and its admission by ``admitter``."""
        application = self.event("member.apply", person, {}, group=group)
        return self.event(
            "member.admit",
            admitter,
            {"member": key_of(person), "application": application.id},
            group=group,
            refs=[application.id],
        )

    def leave(self, person: SigningKey, group: bytes) -> SignedEvent:
        return self.event("member.leave", person, {}, group=group)

    def endorse(self, endorser: SigningKey, group: bytes, candidate: SigningKey) -> SignedEvent:
        ts = self.tick()
        return self.event(
            "coordinator.endorse",
            endorser,
            {"term": ts // (RULES["term_days"] * DAY_MS), "candidate": key_of(candidate)},
            group=group,
            ts=ts,
        )

    def attest(self, attester: SigningKey, group: bytes, member: SigningKey) -> SignedEvent:
        ts = self.tick()
        return self.event(
            "merit.attest",
            attester,
            {
                "text": "ran the assembly",
                "member": key_of(member),
                "period": ts // (RULES["merit_days"] * DAY_MS),
            },
            group=group,
            ts=ts,
        )

    # -- proposals and deliberation (specs/ballots.md); each refs its target --

    def propose(
        self,
        author: SigningKey,
        scope: bytes,
        *,
        lang: str = "qu",
        title: str = "Yaku ñan",
        text: str = "Ayllupaq musuq yaku ñanta ruwasun.",
    ) -> SignedEvent:
        return self.event(
            "proposal", author, {"lang": lang, "text": text, "title": title}, group=scope
        )

    def amend(
        self,
        author: SigningKey,
        proposal: SignedEvent,
        *,
        lang: str = "qu",
        title: str = "Yaku ñan, iskay kaq",
        text: str = "Yaku ñanta iskay watapi ruwasun.",
        group: bytes | None = None,
    ) -> SignedEvent:
        return self.event(
            "proposal.amend",
            author,
            {"lang": lang, "text": text, "title": title, "proposal": proposal.id},
            group=proposal.group if group is None else group,
            refs=[proposal.id],
        )

    def translate(
        self,
        author: SigningKey,
        target: SignedEvent,
        lang: str = "es",
        *,
        title: str = "Canal de agua",
        text: str = "Construiremos un nuevo canal de agua para la comunidad.",
        group: bytes | None = None,
    ) -> SignedEvent:
        return self.event(
            "proposal.translate",
            author,
            {"lang": lang, "text": text, "title": title, "target": target.id},
            group=target.group if group is None else group,
            refs=[target.id],
        )

    def confirm(
        self, author: SigningKey, translation: SignedEvent, *, group: bytes | None = None
    ) -> SignedEvent:
        return self.event(
            "translation.confirm",
            author,
            {"translation": translation.id},
            group=translation.group if group is None else group,
            refs=[translation.id],
        )

    def comment(
        self,
        author: SigningKey,
        target: SignedEvent,
        text: str = "Allinmi.",
        *,
        lang: str = "qu",
        group: bytes | None = None,
    ) -> SignedEvent:
        return self.event(
            "comment",
            author,
            {"lang": lang, "text": text, "target": target.id},
            group=target.group if group is None else group,
            refs=[target.id],
        )

    def support(
        self, author: SigningKey, proposal: SignedEvent, *, group: bytes | None = None
    ) -> SignedEvent:
        return self.event(
            "proposal.support",
            author,
            {"proposal": proposal.id},
            group=proposal.group if group is None else group,
            refs=[proposal.id],
        )


@dataclass
class Fractal:
    """The issue's 3-level fractal: the root, 5 level-2 groups, 25 base groups."""

    scenario: Scenario
    #: level-2 group id -> its base groups' ids
    tree: dict[bytes, list[bytes]]
    #: base group id -> its members' keys, founder first
    members: dict[bytes, list[SigningKey]]


def build_fractal(
    scenario: Scenario, sizes: Iterable[int] | None = None, *, regions: int = 5, bases: int = 5
) -> Fractal:
    """Certify 3-5 people per base group, found and fill ``regions x bases``
    base groups, place them under ``regions`` level-2 groups, and those under
    the root; the first member of each group is its founder and acts for it
    (no coordinator yet)."""
    count = regions * bases
    sizes = list(sizes) if sizes is not None else [3 + (i % 3) for i in range(count)]
    s = scenario
    s.certify(s.founder, "00000001")
    tree: dict[bytes, list[bytes]] = {}
    members: dict[bytes, list[SigningKey]] = {}
    person = 0
    for region in range(regions):
        region_founder: SigningKey | None = None
        placed: list[bytes] = []
        for local in range(bases):
            size = sizes[region * bases + local]
            people = [signing_key(f"person {person + i}") for i in range(size)]
            for i, key in enumerate(people):
                s.certify(key, f"{10_000_000 + person + i}", registrar=s.registrars[i % 2])
            person += len(people)
            base = s.found(people[0], f"base {region}.{local}", 1).id
            for key in people[1:]:
                s.join(key, base, people[0])
            members[base] = people
            placed.append(base)
            if region_founder is None:
                region_founder = people[0]
        assert region_founder is not None
        region_id = s.found(region_founder, f"region {region}", 2).id
        for base in placed:
            s.admit(region_founder, s.apply(members[base][0], base, region_id))
        s.admit(s.founder, s.apply(region_founder, region_id, s.net))
        tree[region_id] = placed
    return Fractal(s, tree, members)


@dataclass
class Tree:
    """A fractal of any depth under the root: every group's children, and
    every base group's members (founder first). ``actors`` holds, for each
    group, the key that acts for it (its founder)."""

    scenario: Scenario
    children: dict[bytes, list[bytes]]
    members: dict[bytes, list[SigningKey]]
    actors: dict[bytes, SigningKey]
    levels: dict[bytes, int]

    def at_level(self, level: int) -> list[bytes]:
        return [group for group, at in self.levels.items() if at == level]


def build_tree(s: Scenario, *, fanout: int = 5, size: int = 5) -> Tree:
    """The full fractal under ``s``'s root: ``fanout`` children per group
    down to base groups of ``size`` certified members. Each group above the
    base is founded by the founder of its first base group."""
    s.certify(s.founder, "00000001")
    tree = Tree(s, {s.net: []}, {}, {s.net: s.founder}, {s.net: s.root_level})
    people = count()

    def build(level: int) -> bytes:
        if level == 1:
            keys = [signing_key(f"person {next(people)}") for _ in range(size)]
            for i, key in enumerate(keys):
                s.certify(key, f"{10_000_000 + len(s.events)}", registrar=s.registrars[i % 2])
            group = s.found(keys[0], f"base {len(tree.members)}", 1).id
            for key in keys[1:]:
                s.join(key, group, keys[0])
            tree.members[group] = keys
            tree.actors[group] = keys[0]
            tree.levels[group] = 1
            tree.children[group] = []
            return group
        children = [build(level - 1) for _ in range(fanout)]
        actor = tree.actors[children[0]]
        group = s.found(actor, f"level {level} group {len(tree.levels)}", level).id
        for child in children:
            s.admit(actor, s.apply(tree.actors[child], child, group))
        tree.actors[group] = actor
        tree.levels[group] = level
        tree.children[group] = children
        return group

    for _ in range(fanout):
        child = build(s.root_level - 1)
        s.admit(s.founder, s.apply(tree.actors[child], child, s.net))
        tree.children[s.net].append(child)
    return tree
