"""The power map: claims, reviews, standing and the graph (protocol/power_map.py)."""

from __future__ import annotations

import datetime
import hashlib
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import Any

import pytest
from event_factory import signing_key
from hypothesis import given
from hypothesis import strategies as st
from nacl.signing import SigningKey
from network_factory import Scenario, build_fractal, key_of

from protocol import cbor
from protocol.errors import LocalError, Reason, Rejected
from protocol.event import Event, SignedEvent, parse_event, sign
from protocol.map_schema import CLAIM_SCHEMA, REVIEW_SCHEMA
from protocol.power_map import (
    CONFIRMED,
    DISPUTED,
    GRAPHML_NS,
    UNCONFIRMED,
    PowerMap,
    graphml,
    normal_form,
    standing_of,
)
from protocol.schema import BodySchema
from protocol.state import Governance

HOUR_MS = 3_600_000
DOCUMENT = hashlib.sha256(b"Registro de accionistas, Minera Sur S.A., 2024").digest()
#: Never certified.
STRANGER = signing_key("stranger")


def claim_body(**changes: Any) -> dict[str, Any]:
    """A valid claim body; a change to None leaves the field out."""
    body = {
        "entity": "Familia Andrade",
        "relation": "owns",
        "target": "Minera Sur S.A.",
        "date": "2024-03-01",
        "sources": [{"url": "https://example.org/registro/123"}, {"hash": DOCUMENT}],
        "share_bp": 6000,
        "lang": "es",
    }
    body.update(changes)
    return {name: value for name, value in body.items() if value is not None}


def review_body(claim: bytes, /, **changes: Any) -> dict[str, Any]:
    """A valid review body; a change to None leaves the field out."""
    body = {
        "claim": claim,
        "stance": "confirm",
        "sources": [{"url": "https://example.org/diario/2024-03-02"}],
        "note": "Lo publica el diario oficial.",
    }
    body.update(changes)
    return {name: value for name, value in body.items() if value is not None}


@dataclass
class World:
    """A folded network: one region over base groups ``home`` and ``away``
    (``people``: home's four members, then away's three); Dana, certified in
    no group, whose key was replaced at ``replaced_at``."""

    s: Scenario
    people: list[SigningKey]
    home: bytes
    away: bytes
    dana: SigningKey
    dana_new: SigningKey
    replaced_at: int
    map: PowerMap

    def sign(
        self, kind: str, key: SigningKey, body: dict[str, Any], group: bytes, ts: int | None
    ) -> SignedEvent:
        event = Event(
            kind=kind,
            group=group,
            author=key_of(key),
            net=self.s.net,
            ts=self.s.tick() if ts is None else ts,
            body=body,
        )
        return sign(event, key)

    def claim(
        self,
        author: SigningKey,
        *,
        group: bytes | None = None,
        ts: int | None = None,
        **changes: Any,
    ) -> SignedEvent:
        """A claim, applied (Rejected if refused)."""
        event = self.sign("map.claim", author, claim_body(**changes), group or self.home, ts)
        self.map.apply_claim(event)
        return event

    def review(
        self,
        author: SigningKey,
        claim: SignedEvent,
        stance: str = "confirm",
        *,
        group: bytes | None = None,
        ts: int | None = None,
    ) -> SignedEvent:
        """A review, applied (Rejected if refused)."""
        body = review_body(claim.id, stance=stance)
        event = self.sign("map.review", author, body, group or claim.group, ts)
        self.map.apply_review(event)
        return event


@pytest.fixture
def world() -> World:
    s = Scenario(root_level=3)
    fractal = build_fractal(s, [4, 3], regions=1, bases=2)
    home, away = next(iter(fractal.tree.values()))
    dana, dana_new = signing_key("dana"), signing_key("dana, new key")
    dana_cert = s.certify(dana, "00000042")
    s.tick(HOUR_MS)
    replaced_at = s.replace(dana_cert, dana_new).ts
    governance = Governance(s.genesis)
    governance.add(s.events)
    assert [e.kind for e in s.events if governance.refusal(e.id)] == []
    state = governance.state
    people = [*fractal.members[home], *fractal.members[away]]
    return World(
        s, people, home, away, dana, dana_new, replaced_at, PowerMap(state.registry, state.groups)
    )


def refusal(call: Any, *args: Any, **kwargs: Any) -> Reason:
    with pytest.raises(Rejected) as excinfo:
        call(*args, **kwargs)
    return excinfo.value.reason


# -- claims --


def test_a_claim_exists_with_what_it_says_and_no_standing_yet(world: World) -> None:
    author = world.people[0]
    event = world.claim(author, amount=None, currency=None)
    described = world.map.describe_claim(event.id)
    assert described == {
        "id": event.id.hex(),
        "group": world.home.hex(),
        "author": key_of(author).hex(),
        "ts": event.ts,
        "entity": "Familia Andrade",
        "relation": "owns",
        "target": "Minera Sur S.A.",
        "date": "2024-03-01",
        "sources": [{"url": "https://example.org/registro/123"}, {"hash": DOCUMENT.hex()}],
        "share_bp": 6000,
        "amount": None,
        "currency": None,
        "lang": "es",
        "standing": UNCONFIRMED,
        "confirms": 0,
        "disputes": 0,
        "reviews": [],
    }


def test_a_claim_may_be_published_in_any_group_by_any_certified_person(world: World) -> None:
    event = world.claim(
        world.people[0],
        group=world.s.net,
        relation="funds",
        share_bp=None,
        amount=15_000_000,  # S/ 150,000.00
        currency="PEN",
    )
    described = world.map.describe_claim(event.id)
    assert described["group"] == world.s.net.hex()
    assert (described["amount"], described["currency"]) == (15_000_000, "PEN")


def test_a_claim_in_no_group_is_refused_and_changes_nothing(world: World) -> None:
    reason = refusal(world.claim, world.people[0], group=hashlib.sha256(b"nowhere").digest())
    assert reason == Reason.UNKNOWN_GROUP
    assert world.map.claims == {}
    assert world.map.graph() == {"nodes": [], "edges": []}


@pytest.mark.parametrize(
    ("who", "reason"),
    [("stranger", Reason.NOT_CERTIFIED), ("dana", Reason.KEY_REVOKED)],
)
def test_an_author_without_a_valid_certificate_is_refused(
    world: World, who: str, reason: Reason
) -> None:
    key = STRANGER if who == "stranger" else world.dana  # Dana's old key, after its replacement
    assert refusal(world.claim, key) == reason
    claim = world.claim(world.people[0])
    assert refusal(world.review, key, claim) == reason
    assert world.map.claims.keys() == {claim.id}
    assert world.map.claims[claim.id].stances == {}


def test_an_unknown_claim_cannot_be_described(world: World) -> None:
    assert refusal(world.map.describe_claim, b"\x01" * 32) == Reason.UNKNOWN_CLAIM


# -- reviews --


def test_a_review_of_a_claim_it_does_not_name_in_its_group_is_refused(world: World) -> None:
    claim = world.claim(world.people[0])
    assert refusal(world.review, world.people[1], claim, group=world.away) == Reason.UNKNOWN_CLAIM
    unknown = world.sign("map.review", world.people[1], review_body(b"\x02" * 32), world.home, None)
    assert refusal(world.map.apply_review, unknown) == Reason.UNKNOWN_CLAIM
    assert world.map.claims[claim.id].stances == {}


def test_a_review_before_its_claim_in_key_order_is_refused(world: World) -> None:
    claim = world.sign("map.claim", world.people[0], claim_body(), world.home, None)
    early = world.sign("map.review", world.people[1], review_body(claim.id), world.home, None)
    assert refusal(world.map.apply_review, early) == Reason.UNKNOWN_CLAIM


def test_nobody_reviews_their_own_claim(world: World) -> None:
    author = world.people[0]
    claim = world.claim(author)
    assert refusal(world.review, author, claim) == Reason.SELF_REVIEW
    assert world.map.claims[claim.id].stances == {}


def test_nobody_reviews_their_own_claim_with_a_new_key(world: World) -> None:
    claim = world.claim(world.dana, ts=world.replaced_at - 1)
    assert refusal(world.review, world.dana_new, claim) == Reason.SELF_REVIEW


def test_a_persons_newer_review_replaces_their_earlier_stance(world: World) -> None:
    claim = world.claim(world.people[0])
    world.review(world.people[1], claim, "confirm")
    world.review(world.people[2], claim, "confirm")
    assert world.map.describe_claim(claim.id)["standing"] == CONFIRMED
    changed = world.review(world.people[1], claim, "dispute")
    described = world.map.describe_claim(claim.id)
    assert (described["confirms"], described["disputes"]) == (1, 1)
    assert described["standing"] == DISPUTED
    assert [r["id"] for r in described["reviews"]][-1] == changed.id.hex()
    assert [r["reviewer"] for r in described["reviews"]] == [
        key_of(world.people[2]).hex(),
        key_of(world.people[1]).hex(),
    ]


def test_a_person_counts_once_across_a_key_replacement(world: World) -> None:
    claim = world.claim(world.people[0], ts=world.replaced_at - 2)
    world.review(world.dana, claim, "confirm", ts=world.replaced_at - 1)
    assert world.map.describe_claim(claim.id)["confirms"] == 1
    world.review(world.dana_new, claim, "dispute")
    described = world.map.describe_claim(claim.id)
    assert (described["confirms"], described["disputes"]) == (0, 1)
    assert [r["reviewer"] for r in described["reviews"]] == [key_of(world.dana_new).hex()]


def test_a_review_is_described_with_its_sources_and_note(world: World) -> None:
    claim = world.claim(world.people[0])
    review = world.review(world.people[1], claim, "dispute")
    assert world.map.describe_claim(claim.id)["reviews"] == [
        {
            "id": review.id.hex(),
            "reviewer": key_of(world.people[1]).hex(),
            "ts": review.ts,
            "stance": "dispute",
            "sources": [{"url": "https://example.org/diario/2024-03-02"}],
            "note": "Lo publica el diario oficial.",
            "lang": None,
        }
    ]


# -- standing --


@pytest.mark.parametrize(
    ("stances", "standing"),
    [
        ("", UNCONFIRMED),
        ("c", UNCONFIRMED),
        ("cc", CONFIRMED),
        ("ccd", CONFIRMED),
        ("ccdd", DISPUTED),
        ("d", DISPUTED),
        ("cd", DISPUTED),
        ("cccdd", CONFIRMED),
    ],
)
def test_the_standing_of_a_claim_follows_its_reviews(
    world: World, stances: str, standing: str
) -> None:
    claim = world.claim(world.people[0])
    for reviewer, stance in zip(world.people[1:], stances, strict=False):
        world.review(reviewer, claim, "confirm" if stance == "c" else "dispute")
    described = world.map.describe_claim(claim.id)
    assert described["standing"] == standing
    assert (described["confirms"], described["disputes"]) == (
        stances.count("c"),
        stances.count("d"),
    )


counts = st.integers(min_value=0, max_value=1000)


@given(counts, counts)
def test_more_confirmations_never_undo_confirmed_nor_more_disputes_disputed(c: int, d: int) -> None:
    if standing_of(c, d) == CONFIRMED:
        assert standing_of(c + 1, d) == CONFIRMED
        assert c >= 2 and c > d
    if standing_of(c, d) == DISPUTED:
        assert standing_of(c, d + 1) == DISPUTED
        assert d >= 1
    if standing_of(c, d) == UNCONFIRMED:
        assert d == 0 and c <= 1


# -- names --


@pytest.mark.parametrize(
    ("name", "normal"),
    [
        ("  Minera\u3000SUR \t S.A.\n", "minera sur s.a."),
        ("\uff2d\uff29\uff2e\uff25\uff32\uff21 \uff33\uff55\uff52", "minera sur"),  # full width
        ("Straße", "strasse"),
        ("ﬁnanciera", "financiera"),  # a ligature
        ("Cafe\u0301", "café"),  # composed
        ("\u01f0", "\u01f0"),  # case folding decomposes it; NFKC composes it again
    ],
)
def test_names_are_matched_by_their_normal_form(name: str, normal: str) -> None:
    assert normal_form(name) == normal


@given(st.text())
def test_a_normal_form_is_its_own_normal_form(name: str) -> None:
    assert normal_form(normal_form(name)) == normal_form(name)


def test_a_node_is_labelled_with_the_first_spelling_of_its_name(world: World) -> None:
    first = world.claim(world.people[0], entity="Familia  Andrade", target="Minera Sur")
    second = world.claim(world.people[1], entity="FAMILIA ANDRADE", target="Diario del Sur")
    graph = world.map.graph()
    assert graph["nodes"] == [
        {"id": "diario del sur", "label": "Diario del Sur"},
        {"id": "familia andrade", "label": "Familia  Andrade"},
        {"id": "minera sur", "label": "Minera Sur"},
    ]
    assert {(e["id"], e["source"], e["target"]) for e in graph["edges"]} == {
        (first.id.hex(), "familia andrade", "minera sur"),
        (second.id.hex(), "familia andrade", "diario del sur"),
    }


# -- the graph --


@pytest.fixture
def chain(world: World) -> dict[str, SignedEvent]:
    """a -> b -> c -> d, a -> c, and e -> f apart."""
    people = iter(world.people)
    return {
        f"{source}{target}": world.claim(next(people), entity=source.upper(), target=target)
        for source, target in ("ab", "bc", "cd", "ac", "ef")
    }


def _ids(graph: Any) -> tuple[list[str], list[str]]:
    return [n["id"] for n in graph["nodes"]], [e["id"] for e in graph["edges"]]


def _edges(chain: dict[str, SignedEvent], *names: str) -> list[str]:
    return sorted(chain[name].id.hex() for name in names)


def test_the_whole_graph_holds_every_name_and_claim(
    world: World, chain: dict[str, SignedEvent]
) -> None:
    nodes, edges = _ids(world.map.graph())
    assert nodes == ["a", "b", "c", "d", "e", "f"]
    assert edges == _edges(chain, "ab", "bc", "cd", "ac", "ef")


@pytest.mark.parametrize(
    ("entity", "depth", "nodes", "edges"),
    [
        ("a", 0, "a", ()),
        ("A", 1, "abc", ("ab", "bc", "ac")),  # b -> c joins two neighbours of a
        ("b", 1, "abc", ("ab", "bc", "ac")),  # either direction
        ("d", 1, "cd", ("cd",)),
        ("d", 2, "abcd", ("ab", "bc", "cd", "ac")),
        (" F ", 5, "ef", ("ef",)),
        ("nobody", 3, "", ()),
    ],
)
def test_the_graph_around_an_entity_reaches_depth_edges_either_way(
    world: World,
    chain: dict[str, SignedEvent],
    entity: str,
    depth: int,
    nodes: str,
    edges: tuple[str, ...],
) -> None:
    assert _ids(world.map.graph(entity, depth)) == (list(nodes), _edges(chain, *edges))


def test_a_negative_depth_is_a_local_error(world: World, chain: dict[str, SignedEvent]) -> None:
    with pytest.raises(LocalError):
        world.map.graph("a", -1)


def test_edges_carry_the_claims_figures_and_standing(world: World) -> None:
    claim = world.claim(world.people[0])
    world.review(world.people[1], claim, "dispute")
    (edge,) = world.map.graph()["edges"]
    assert edge == {
        "id": claim.id.hex(),
        "source": "familia andrade",
        "target": "minera sur s.a.",
        "relation": "owns",
        "standing": DISPUTED,
        "confirms": 0,
        "disputes": 1,
        "share_bp": 6000,
        "amount": None,
        "currency": None,
        "date": "2024-03-01",
    }


def test_describe_all_lists_every_claim_by_id(world: World, chain: dict[str, SignedEvent]) -> None:
    assert [c["id"] for c in world.map.describe_all()] == _edges(chain, *chain)


# -- GraphML --


def _q(tag: str) -> str:
    return f"{{{GRAPHML_NS}}}{tag}"


def _data(element: ET.Element, keys: dict[str, tuple[str, str]]) -> dict[str, Any]:
    """An element's <data> values, typed by their key's attr.type."""
    typed: dict[str, Any] = {}
    for data in element.iter(_q("data")):
        name, kind = keys[data.attrib["key"]]
        typed[name] = int(data.text or "") if kind in ("int", "long") else data.text
    return typed


def test_graphml_reads_back_as_the_json_graph(world: World) -> None:
    owns = world.claim(world.people[0], entity="Grupo Ñandú <&>", target='Radio "Sur"')
    world.review(world.people[1], owns, "confirm")
    world.claim(
        world.people[2],
        entity="Grupo ñandú <&>",
        target="Partido Verde",
        relation="funds",
        share_bp=None,
        amount=2**53 - 1,
        currency="USD",
    )
    graph = world.map.graph()
    root = ET.fromstring(graphml(graph))
    assert root.tag == _q("graphml")
    keys = root.findall(_q("key"))
    declared = {(k.attrib["for"], k.attrib["attr.name"], k.attrib["attr.type"]) for k in keys}
    assert declared == {("node", "label", "string")} | {
        ("edge", name, kind)
        for name, kind in [
            ("relation", "string"),
            ("standing", "string"),
            ("confirms", "int"),
            ("disputes", "int"),
            ("share_bp", "int"),
            ("amount", "long"),
            ("currency", "string"),
            ("date", "string"),
        ]
    }
    types = {k.attrib["id"]: (k.attrib["attr.name"], k.attrib["attr.type"]) for k in keys}
    (body,) = root.iter(_q("graph"))
    assert body.attrib["edgedefault"] == "directed"
    nodes = [{"id": n.attrib["id"], **_data(n, types)} for n in body.iter(_q("node"))]
    assert nodes == graph["nodes"]
    edges = [
        {name: e.attrib[name] for name in ("id", "source", "target")} | _data(e, types)
        for e in body.iter(_q("edge"))
    ]
    expected = [{k: v for k, v in edge.items() if v is not None} for edge in graph["edges"]]
    assert edges == expected
    assert {e["amount"] for e in edges if "amount" in e} == {2**53 - 1}


def test_graphml_of_an_empty_graph_is_a_document(world: World) -> None:
    root = ET.fromstring(graphml(world.map.graph()))
    assert [child.tag for child in root][-1] == _q("graph")
    assert list(root.iter(_q("node"))) == []


# -- body schemas --


def _problem(schema: BodySchema, body: dict[str, Any]) -> str:
    with pytest.raises(Rejected) as excinfo:
        schema.check(body)
    assert excinfo.value.reason == Reason.BAD_BODY
    return excinfo.value.detail


@pytest.mark.parametrize(
    ("changes", "complaint"),
    [
        ({"sources": None}, "missing field 'sources'"),
        ({"sources": []}, "1 to 16 items"),
        ({"sources": [{"url": f"https://example.org/{i}"} for i in range(17)]}, "1 to 16 items"),
        ({"sources": [{"url": "https://a.example"}] * 2}, "distinct"),
        ({"sources": [{}]}, "exactly one of"),
        ({"sources": [{"url": "https://a.example", "hash": DOCUMENT}]}, "exactly one of"),
        ({"sources": [{"hash": DOCUMENT[:31]}]}, "32 to 32 bytes"),
        ({"sources": [{"url": "ftp://a.example/x"}]}, "'https://' or 'http://'"),
        ({"sources": [{"url": "javascript:alert(1)"}]}, "'https://' or 'http://'"),
        ({"sources": [{"url": "HTTPS://A.EXAMPLE"}]}, "'https://' or 'http://'"),
        ({"sources": [{"url": "https://"}]}, "'https://' or 'http://'"),
        ({"sources": [{"url": "https://a.example/a b"}]}, "white space"),
        ({"sources": [{"url": "https://" + "a" * 1993}]}, "1 to 2000 characters"),
        ({"sources": [{"doi": "10.1000/1"}]}, "unknown field 'doi'"),
        ({"relation": "bribes"}, "must be one of"),
        ({"amount": 100}, "'amount' and 'currency' go together"),
        ({"currency": "PEN"}, "'amount' and 'currency' go together"),
        ({"relation": "funds", "share_bp": None, "currency": "pen", "amount": 1}, "ISO 4217"),
        ({"relation": "funds", "amount": 1, "currency": "PEN"}, "'share_bp' belongs to"),
        ({"share_bp": None, "amount": 1, "currency": "PEN"}, "'amount' belongs to"),
        ({"share_bp": 10_001}, "[0, 10000]"),
        (
            {"relation": "funds", "share_bp": None, "amount": 2**53, "currency": "PEN"},
            f"[0, {2**53 - 1}]",
        ),
        ({"date": "2023-02-29"}, "valid calendar date"),
        ({"date": "2024-13-01"}, "valid calendar date"),
        ({"date": "0000-01-01"}, "valid calendar date"),
        ({"date": "2024-3-01"}, "'YYYY-MM-DD'"),
        ({"date": "2024-03-01T00:00"}, "'YYYY-MM-DD'"),
        ({"date": "\uff12\uff10\uff12\uff14-03-01"}, "'YYYY-MM-DD'"),
        ({"date": 20240301}, "'YYYY-MM-DD'"),
        ({"entity": ""}, "1 to 200 characters"),
        ({"entity": " \u3000\t"}, "only white space"),
        ({"target": "Minera\x00Sur"}, "control characters"),
        ({"target": "Minera Sur\ufffe"}, "noncharacters"),
        ({"entity": "x" * 201}, "1 to 200 characters"),
        ({"lang": "Spanish"}, "language tag"),
        ({"owner": "x"}, "unknown field 'owner'"),
    ],
)
def test_a_bad_claim_body_is_refused(changes: dict[str, Any], complaint: str) -> None:
    assert complaint in _problem(CLAIM_SCHEMA, claim_body(**changes))


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"share_bp": None, "lang": None},
        {"relation": "controls", "share_bp": 0},
        {"relation": "advertises_in", "share_bp": None, "amount": 0, "currency": "EUR"},
        {"relation": "employs", "share_bp": None},
        {"sources": [{"url": "http://a.example"}]},
        {"date": "2024-02-29", "entity": "x" * 200},
    ],
)
def test_a_good_claim_body_passes(changes: dict[str, Any]) -> None:
    CLAIM_SCHEMA.check(claim_body(**changes))


@given(st.dates(min_value=datetime.date(1, 1, 1)))
def test_every_calendar_date_is_a_claim_date(date: datetime.date) -> None:
    CLAIM_SCHEMA.check(claim_body(date=date.isoformat()))


@pytest.mark.parametrize(
    ("changes", "complaint"),
    [
        ({"sources": None}, "missing field 'sources'"),
        ({"sources": []}, "1 to 16 items"),
        ({"stance": "maybe"}, "must be one of"),
        ({"claim": b"\x01" * 31}, "32 to 32 bytes"),
        ({"note": ""}, "1 to 1000 characters"),
        ({"note": "n" * 1001}, "1 to 1000 characters"),
    ],
)
def test_a_bad_review_body_is_refused(changes: dict[str, Any], complaint: str) -> None:
    assert complaint in _problem(REVIEW_SCHEMA, review_body(b"\x01" * 32, **changes))


def test_a_good_review_body_passes() -> None:
    REVIEW_SCHEMA.check(review_body(b"\x01" * 32, note=None, lang="qu", stance="dispute"))


def _wire(kind: str, body: dict[str, Any]) -> bytes:
    """An event on the wire around ``body``, with a dummy signature: decoding
    checks the body, and never the signature."""
    event = Event(
        kind=kind,
        group=b"\x03" * 32,
        author=b"\x04" * 32,
        net=b"\x05" * 32,
        ts=1_700_000_000_000,
        body=body,
    )
    return b"\x82" + cbor.encode(event.to_value()) + b"\x58\x40" + b"\x00" * 64


def test_a_claim_without_a_source_is_rejected_on_decoding() -> None:
    with pytest.raises(Rejected) as excinfo:
        parse_event(_wire("map.claim", claim_body(sources=None)))
    assert excinfo.value.reason == Reason.BAD_BODY
    assert parse_event(_wire("map.claim", claim_body())).kind == "map.claim"
