"""The power map: sourced claims about who owns, funds or controls what.

Theory of operation
-------------------
A movement that decides for itself needs to know who holds power over its
land, its news and its food. The power map is crowd-sourced: any certified
member publishes a *claim* ("the Andrade family owns 60 % of Minera Sur, as
of 2024-03-01, source: the company register") in a group, with at least
one source, and other members *review* it, confirming or disputing it with
sources of their own (specs/accountability.md, "The power map").

Trust is counted per *person*, by the uniqueness tag of their certificate,
never per key: a person's newest review of a claim replaces their earlier
one (people change their minds when new documents appear), a person whose
key was replaced is still one person, and nobody reviews their own claim.
A claim's *standing* follows from the current stances alone
(``standing_of``), so every node holding the same events shows the same
standing.

Claims name the holder of power and what it holds power over in free text.
The map groups them into nodes by a *normal form* of the name (``normal_form``:
NFKC, case folding, collapsed white space), so "Minera  Sur" and "MINERA SUR"
are one node, shown with the spelling of the first claim that named it.
Normalization is for reading only: no rule of decoding or of the fold
depends on it, so nodes whose Unicode tables differ never disagree on what
is valid or refused, only (for code points one of them does not know yet)
on how the graph groups names.

Like protocol/proposals.py, this module is part of the state fold
(protocol/state.py): the ``apply_*`` methods run in key order (ts, id),
check everything first and change the state only when nothing raised. The
readers (``describe_claim``, ``describe_all``, ``graph``, ``graphml``) are
pure and deterministic, and give JSON-ready data with bytes in lowercase hex.
"""

from __future__ import annotations

import unicodedata
import xml.etree.ElementTree as ET
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypedDict

from protocol.errors import LocalError, Reason, Rejected
from protocol.event import SignedEvent
from protocol.groups import Groups
from protocol.map_schema import WHITE_SPACE_RUN
from protocol.registry import Registry

CONFIRMED = "confirmed"
DISPUTED = "disputed"
UNCONFIRMED = "unconfirmed"
#: Confirmations a claim needs, at least, to be confirmed.
MIN_CONFIRMATIONS = 2

#: The GraphML namespace (GraphML 1.0, http://graphml.graphdrawing.org/).
GRAPHML_NS = "http://graphml.graphdrawing.org/xmlns"

# -- names --


def normal_form(name: str) -> str:
    """The node a name stands for: NFKC, full case folding, NFKC again (case
    folding can undo a composition, and a normal form must be its own normal
    form), runs of Unicode White_Space as one space, no space at either end."""
    folded = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", name).casefold())
    return WHITE_SPACE_RUN.sub(" ", folded).strip(" ")


def standing_of(confirms: int, disputes: int) -> str:
    """A claim's standing from the persons confirming and disputing it now.

    Confirmed takes two people who vouch for it and more for than against;
    one dispute, unanswered by more confirmations, is enough to flag it."""
    if confirms >= MIN_CONFIRMATIONS and confirms > disputes:
        return CONFIRMED
    if disputes >= 1 and disputes >= confirms:
        return DISPUTED
    return UNCONFIRMED


# -- the state --


@dataclass(frozen=True, slots=True)
class Source:
    """Exactly one of ``url`` and ``hash`` is set."""

    url: str | None = None
    hash: bytes | None = None

    @classmethod
    def from_body(cls, source: Mapping[str, Any]) -> Source:
        return cls(url=source.get("url"), hash=source.get("hash"))

    def describe(self) -> dict[str, str]:
        if self.hash is not None:
            return {"hash": self.hash.hex()}
        assert self.url is not None  # the schema sets exactly one
        return {"url": self.url}


def _sources_of(body: Mapping[str, Any]) -> tuple[Source, ...]:
    return tuple(Source.from_body(source) for source in body["sources"])


@dataclass(frozen=True, slots=True)
class Review:
    """A person's current stance on a claim, with the evidence for it."""

    id: bytes
    reviewer: bytes
    #: The reviewer's uniqueness tag: whose stance this is.
    person: bytes
    ts: int
    stance: str
    sources: tuple[Source, ...]
    note: str | None
    lang: str | None

    def describe(self) -> dict[str, Any]:
        return {
            "id": self.id.hex(),
            "reviewer": self.reviewer.hex(),
            "ts": self.ts,
            "stance": self.stance,
            "sources": [source.describe() for source in self.sources],
            "note": self.note,
            "lang": self.lang,
        }


@dataclass(slots=True)
class Claim:
    """A claim as the state holds it. Mutable only by the fold."""

    id: bytes
    group: bytes
    author: bytes
    #: The author's uniqueness tag when they made the claim.
    person: bytes
    ts: int
    entity: str
    relation: str
    target: str
    date: str
    sources: tuple[Source, ...]
    share_bp: int | None
    amount: int | None
    currency: str | None
    lang: str | None
    #: person's uniqueness tag -> their newest review of the claim.
    stances: dict[bytes, Review] = field(default_factory=dict)

    def tally(self) -> tuple[int, int]:
        """(confirmations, disputes), one per person."""
        confirms = sum(review.stance == "confirm" for review in self.stances.values())
        return confirms, len(self.stances) - confirms


class GraphNode(TypedDict):
    id: str
    label: str


class GraphEdge(TypedDict):
    id: str
    source: str
    target: str
    relation: str
    standing: str
    confirms: int
    disputes: int
    share_bp: int | None
    amount: int | None
    currency: str | None
    date: str


class Graph(TypedDict):
    nodes: list[GraphNode]
    edges: list[GraphEdge]


class PowerMap:
    """Every claim of the network, with the current stance of each reviewer."""

    def __init__(self, registry: Registry, groups: Groups) -> None:
        self.registry = registry
        self.groups = groups
        self.claims: dict[bytes, Claim] = {}
        #: normal form -> the spelling of the first claim (in key order) naming it.
        self._labels: dict[str, str] = {}

    # -- queries --

    def claim(self, claim_id: bytes) -> Claim:
        found = self.claims.get(claim_id)
        if found is None:
            raise Rejected(Reason.UNKNOWN_CLAIM, f"no claim {claim_id.hex()}")
        return found

    def describe_claim(self, claim_id: bytes) -> dict[str, Any]:
        """A claim with its current reviews (one per person, in key order) as
        JSON-ready data, for the CLI, the API and the state snapshot."""
        claim = self.claim(claim_id)
        confirms, disputes = claim.tally()
        return {
            "id": claim.id.hex(),
            "group": claim.group.hex(),
            "author": claim.author.hex(),
            "ts": claim.ts,
            "entity": claim.entity,
            "relation": claim.relation,
            "target": claim.target,
            "date": claim.date,
            "sources": [source.describe() for source in claim.sources],
            "share_bp": claim.share_bp,
            "amount": claim.amount,
            "currency": claim.currency,
            "lang": claim.lang,
            "standing": standing_of(confirms, disputes),
            "confirms": confirms,
            "disputes": disputes,
            "reviews": [review.describe() for review in _in_key_order(claim.stances.values())],
        }

    def describe_all(self) -> list[dict[str, Any]]:
        """Every claim, sorted by id: the power map's part of a state snapshot."""
        return [self.describe_claim(claim_id) for claim_id in sorted(self.claims)]

    def graph(self, entity: str | None = None, depth: int = 1) -> Graph:
        """The map as nodes (names, by normal form) and edges (claims, from
        entity to target), sorted by node id and claim id.

        With ``entity``: the part within ``depth`` edges of it, either
        direction, with every claim between two of those nodes (the induced
        subgraph); empty if no claim names it. LocalError if ``depth`` < 0.
        """
        if depth < 0:
            raise LocalError(f"depth {depth} < 0")
        edges = [self._edge(claim) for claim in self.claims.values()]
        if entity is not None:
            near = _within(normal_form(entity), depth, edges)
            edges = [e for e in edges if e["source"] in near and e["target"] in near]
            names = near
        else:
            names = {end for edge in edges for end in (edge["source"], edge["target"])}
        return {
            "nodes": [{"id": name, "label": self._labels[name]} for name in sorted(names)],
            "edges": sorted(edges, key=lambda edge: edge["id"]),
        }

    def _edge(self, claim: Claim) -> GraphEdge:
        confirms, disputes = claim.tally()
        return {
            "id": claim.id.hex(),
            "source": normal_form(claim.entity),
            "target": normal_form(claim.target),
            "relation": claim.relation,
            "standing": standing_of(confirms, disputes),
            "confirms": confirms,
            "disputes": disputes,
            "share_bp": claim.share_bp,
            "amount": claim.amount,
            "currency": claim.currency,
            "date": claim.date,
        }

    # -- the fold --

    def apply_claim(self, event: SignedEvent) -> None:
        body = event.event.body
        self.groups.group(event.group)
        person = self.registry.require_certified(event.author, event.ts).tag
        claim = Claim(
            id=event.id,
            group=event.group,
            author=event.author,
            person=person,
            ts=event.ts,
            entity=body["entity"],
            relation=body["relation"],
            target=body["target"],
            date=body["date"],
            sources=_sources_of(body),
            share_bp=body.get("share_bp"),
            amount=body.get("amount"),
            currency=body.get("currency"),
            lang=body.get("lang"),
        )
        self.claims[claim.id] = claim
        for name in (claim.entity, claim.target):
            self._labels.setdefault(normal_form(name), name)

    def apply_review(self, event: SignedEvent) -> None:
        body = event.event.body
        claim = self.claims.get(body["claim"])
        if claim is None or claim.group != event.group:
            raise Rejected(
                Reason.UNKNOWN_CLAIM, f"no claim {body['claim'].hex()} in {event.group.hex()}"
            )
        person = self.registry.require_certified(event.author, event.ts).tag
        if person == claim.person:
            raise Rejected(Reason.SELF_REVIEW, "the author of a claim cannot review it")
        claim.stances[person] = Review(
            id=event.id,
            reviewer=event.author,
            person=person,
            ts=event.ts,
            stance=body["stance"],
            sources=_sources_of(body),
            note=body.get("note"),
            lang=body.get("lang"),
        )


def _in_key_order(reviews: Iterable[Review]) -> list[Review]:
    return sorted(reviews, key=lambda review: (review.ts, review.id))


def _within(start: str, depth: int, edges: list[GraphEdge]) -> set[str]:
    """The names at most ``depth`` edges from ``start``, either direction
    (none if no edge touches ``start``): a breadth-first walk."""
    neighbours: dict[str, set[str]] = {}
    for edge in edges:
        neighbours.setdefault(edge["source"], set()).add(edge["target"])
        neighbours.setdefault(edge["target"], set()).add(edge["source"])
    if start not in neighbours:
        return set()
    distance = {start: 0}
    queue = deque([start])
    while queue:
        current = queue.popleft()
        if distance[current] == depth:
            continue
        for name in neighbours[current] - distance.keys():
            distance[name] = distance[current] + 1
            queue.append(name)
    return set(distance)


# -- GraphML --

#: The GraphML attributes of nodes and edges: (name, attr.type). ``id``,
#: ``source`` and ``target`` are GraphML's own attributes of the elements.
_NODE_KEYS = (("label", "string"),)
_EDGE_KEYS = (
    ("relation", "string"),
    ("standing", "string"),
    ("confirms", "int"),
    ("disputes", "int"),
    ("share_bp", "int"),
    ("amount", "long"),
    ("currency", "string"),
    ("date", "string"),
)


def graphml(graph: Graph) -> str:
    """``graph`` (from ``PowerMap.graph``) as a directed GraphML 1.0 document,
    for Gephi, yEd, networkx and the like; to be written as UTF-8.

    Each claim is an edge of its own (parallel edges are claims made apart).
    An absent figure (``share_bp``, ``amount``, ``currency``) has no
    ``<data>`` element, as GraphML means a missing value."""
    root = ET.Element("graphml", {"xmlns": GRAPHML_NS})
    for domain, keys in (("node", _NODE_KEYS), ("edge", _EDGE_KEYS)):
        for name, kind in keys:
            ET.SubElement(
                root,
                "key",
                {"id": _key_id(domain, name), "for": domain, "attr.name": name, "attr.type": kind},
            )
    body = ET.SubElement(root, "graph", {"id": "power-map", "edgedefault": "directed"})
    for node in graph["nodes"]:
        element = ET.SubElement(body, "node", {"id": node["id"]})
        _add_data(element, "node", _NODE_KEYS, node)
    for edge in graph["edges"]:
        element = ET.SubElement(
            body, "edge", {"id": edge["id"], "source": edge["source"], "target": edge["target"]}
        )
        _add_data(element, "edge", _EDGE_KEYS, edge)
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def _key_id(domain: str, name: str) -> str:
    """Key ids are per domain, so that a node and an edge attribute of the
    same name could never clash."""
    return f"{domain}_{name}"


def _add_data(
    element: ET.Element, domain: str, keys: Iterable[tuple[str, str]], values: Mapping[str, Any]
) -> None:
    for name, _ in keys:
        value = values[name]
        if value is not None:
            ET.SubElement(element, "data", {"key": _key_id(domain, name)}).text = str(value)
