"""node/api.py: the local HTTP JSON API, against a real NetworkStore.

The node behind the API is a fake whose ``submit`` takes the real ingest
path (node.ingest.ingest_raw into a NetworkStore on SQLite), so what the
API answers is what a node would: the ids, statuses and reason codes of
the protocol, and the state its governance events fold into.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import pytest
import trio
from ballot_factory import cast, count_result, open_election, sum_result
from event_factory import note, signing_key
from libp2p.peer.id import ID
from nacl.signing import SigningKey
from network_factory import Fractal, Scenario, build_fractal, key_of

from node.api import MAX_EVENT_SIZE, MAX_JSON_BODY, create_app, serve_api
from node.host import make_host
from node.ingest import ingest_raw
from node.metrics import Metrics
from protocol.errors import Rejected
from protocol.event import SignedEvent, parse_event
from storage import MAX_LIMIT, IngestResult, IngestStatus
from storage.state import NetworkStore, open_network_store

CBOR = {"content-type": "application/cbor"}


#: The one peer the fake node is connected to.
CONNECTED = make_host(signing_key("a connected peer")).get_id()


@dataclass
class FakeNode:
    """The NodeApi of a node without a network: submit ingests, no gossip."""

    store: NetworkStore
    clock: int
    submitted: list[bytes] = field(default_factory=list)
    rejected: dict[str, int] = field(default_factory=dict)
    syncs: list[list[ID]] = field(default_factory=list)

    def now_ms(self) -> int:
        return self.clock

    def status(self) -> dict[str, Any]:
        return {"network": self.store.genesis.network_id.hex(), "peers": 0, "now_ms": self.clock}

    async def submit(self, raw: bytes) -> IngestResult:
        self.submitted.append(raw)
        network = self.store.genesis.network_id
        [result] = await ingest_raw(self.store, [raw], self.clock, network)
        if result.reason is not None:
            self.rejected[result.reason.value] = self.rejected.get(result.reason.value, 0) + 1
        return result

    def metrics(self) -> Metrics:
        return Metrics(
            peers_connected=0,
            links_by_state={"no-address": 2},
            events_by_kind={"note": 1, "vote": 6},
            sync_sessions=3,
            sync_failures=1,
            gossip_by_outcome={"stored": 4, "rejected": 1},
            rejected_by_reason=self.rejected,
        )

    def health(self) -> dict[str, Any]:
        return {"status": "degraded", "problems": ["none of 2 links is up"]}

    def bridge_status(self, groups: Sequence[bytes]) -> list[dict[str, Any]]:
        return [{"group": g.hex(), "reachable": False, "nodes": []} for g in groups]

    def request_sync(self, peers: Sequence[ID] | None = None) -> list[ID]:
        """Connected to CONNECTED alone."""
        wanted = [CONNECTED] if peers is None else [p for p in peers if p == CONNECTED]
        self.syncs.append(wanted)
        return wanted


@dataclass
class World:
    """A 3-level network (root, a region, two base groups of three), with a
    proposal under deliberation and an election counted and summed."""

    scenario: Scenario
    fractal: Fractal
    node: FakeNode
    client: httpx.AsyncClient
    region: bytes
    bases: list[bytes]
    proposal: SignedEvent
    comment: SignedEvent
    ballot: SignedEvent

    @property
    def people(self) -> list[list[SigningKey]]:
        return [self.fractal.members[base] for base in self.bases]

    def sorted_ids(self) -> list[str]:
        return [e.id.hex() for e in sorted(self.scenario.events, key=lambda e: (e.ts, e.id))]


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    s = Scenario(root_level=3)
    fractal = build_fractal(s, [3, 3], regions=1, bases=2)
    region = next(iter(fractal.tree))
    bases = fractal.tree[region]
    people = [fractal.members[b] for b in bases]
    proposal = s.propose(people[0][1], region)
    s.support(people[1][1], proposal)
    comment = s.comment(people[1][2], proposal)
    election = open_election(s, fractal)
    ballot, rings, founder = election.ballot, election.rings, election.founder
    s.now = ballot.event.body["opens"]
    votes = [[cast(s, rings[i], p, [0]) for p in people[i]] for i in range(2)]
    s.now = ballot.event.body["closes"]
    counts = [count_result(s, people[i][0], ballot, rings[i], votes[i]) for i in range(2)]
    sum_result(s, founder, ballot, region, counts)
    claim_body = {
        "entity": "Minera Sur",
        "relation": "owns",
        "target": "Radio Altiplano",
        "date": "2025-06-01",
        "sources": [{"url": "https://example.org/registro"}],
        "share_bp": 5100,
    }
    s.event("map.claim", people[0][0], claim_body, group=region)
    async with open_network_store(tmp_path / "events.sqlite3", s.genesis) as store:
        results = await store.ingest(s.events, s.now)
        assert {r.status for r in results} == {IngestStatus.ACCEPTED}
        node = FakeNode(store, clock=s.now + 60_000)
        transport = httpx.ASGITransport(app=create_app(node))
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield World(s, fractal, node, client, region, bases, proposal, comment, ballot)


def error_of(response: httpx.Response) -> str:
    """The reason code of an error answer (and a check of its shape)."""
    body = response.json()
    assert set(body["error"]) == {"reason", "detail"}
    reason: str = body["error"]["reason"]
    return reason


# -- status and state --


async def test_status_is_what_the_node_says(world: World) -> None:
    response = await world.client.get("/v1/status")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json() == world.node.status()


async def test_state_is_the_snapshot_at_the_nodes_clock(world: World) -> None:
    response = await world.client.get("/v1/state")
    assert response.status_code == 200
    state = response.json()
    assert state == world.node.store.state.snapshot(world.node.clock)
    assert state["network"] == world.scenario.net.hex()
    assert len(state["certificates"]) == 7  # the founder and six people
    assert [p["id"] for p in state["proposals"]] == [world.proposal.id.hex()]
    assert [b["ballot"] for b in state["ballots"]] == [world.ballot.id.hex()]


# -- one event --


async def test_an_event_is_served_as_its_wire_bytes(world: World) -> None:
    event = world.proposal
    response = await world.client.get(f"/v1/events/{event.id.hex()}")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/cbor"
    assert response.content == event.raw
    assert parse_event(response.content).id == event.id
    upper = await world.client.get(f"/v1/events/{event.id.hex().upper()}")
    assert upper.content == event.raw


async def test_an_unknown_or_malformed_event_id(world: World) -> None:
    missing = await world.client.get(f"/v1/events/{'ab' * 32}")
    assert missing.status_code == 404 and error_of(missing) == "not_found"
    assert "ab" * 32 in missing.json()["error"]["detail"]
    for bad in ("xyz", "ab" * 31 + "a", "ab" * 33, "g" * 64):
        response = await world.client.get(f"/v1/events/{bad}")
        assert response.status_code == 400, bad
        assert error_of(response) == "bad_request"


# -- listing --


async def page_through(client: httpx.AsyncClient, query: str, limit: int) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    after: str | None = None
    pages = 0
    while True:
        cursor = "" if after is None else f"&after={after}"
        response = await client.get(f"/v1/events?limit={limit}{query}{cursor}")
        assert response.status_code == 200, response.text
        body = response.json()
        assert len(body["events"]) <= limit
        rows.extend(body["events"])
        pages += 1
        after = body["next"]
        if after is None:
            return rows
        assert len(body["events"]) == limit  # a cursor only after a full page
        assert pages < 100


async def test_listing_pages_through_every_event_in_key_order(world: World) -> None:
    total = len(world.scenario.events)
    rows = await page_through(world.client, "", 7)
    assert [row["id"] for row in rows] == world.sorted_ids()
    assert len(rows) == total
    by_id = {e.id.hex(): e for e in world.scenario.events}
    for row in rows:
        event = by_id[row["id"]]
        assert row == {
            "id": event.id.hex(),
            "ts": event.ts,
            "kind": event.kind,
            "group": event.group.hex(),
            "author": event.author.hex(),
        }
    # A page that ends exactly at the last event says so: no empty page after.
    exact = (await world.client.get(f"/v1/events?limit={total}")).json()
    assert len(exact["events"]) == total and exact["next"] is None
    assert total < 100  # the default page holds them all
    default = (await world.client.get("/v1/events")).json()
    assert len(default["events"]) == total and default["next"] is None


async def test_listing_filters(world: World) -> None:
    events = world.scenario.events
    certs = await page_through(world.client, "&kind=cert.issue", 3)
    assert [r["id"] for r in certs] == [e.id.hex() for e in events if e.kind == "cert.issue"]
    assert len(certs) == 7
    base = world.bases[0]
    in_base = await page_through(world.client, f"&group={base.hex()}", 4)
    assert {r["id"] for r in in_base} == {e.id.hex() for e in events if e.group == base}
    assert in_base and all(r["group"] == base.hex() for r in in_base)
    author = key_of(world.people[0][0])
    both = await page_through(world.client, f"&author={author.hex()}&kind=ballot.ring", 10)
    assert [r["id"] for r in both] == [
        e.id.hex() for e in events if e.author == author and e.kind == "ballot.ring"
    ]
    assert len(both) == 1
    none = (await world.client.get("/v1/events?kind=no.such.kind")).json()
    assert none == {"events": [], "next": None}
    # Empty parameters, as a URL template leaves them, are absent ones.
    empty = (await world.client.get("/v1/events?group=&kind=&author=&after=&limit=")).json()
    assert [row["id"] for row in empty["events"]] == world.sorted_ids()


@pytest.mark.parametrize(
    "query",
    [
        "limit=0",
        f"limit={MAX_LIMIT + 1}",
        "limit=ten",
        "limit=-1",
        "after=12",
        "after=12:abcd",
        f"after=x:{'ab' * 32}",
        "group=zz",
        f"group={'ab' * 31}",
        f"author={'ab' * 33}",
        "grup=1",
    ],
)
async def test_listing_refuses_bad_parameters(world: World, query: str) -> None:
    response = await world.client.get(f"/v1/events?{query}")
    assert response.status_code == 400
    assert error_of(response) == "bad_request"


# -- submitting --


async def test_an_event_is_accepted_then_a_duplicate(world: World) -> None:
    s = world.scenario
    newcomer = signing_key("newcomer")
    event = s.certify(newcomer, "20000001")
    response = await world.client.post("/v1/events", content=event.raw, headers=CBOR)
    assert response.status_code == 201
    assert response.json() == {"id": event.id.hex(), "status": "accepted"}
    assert response.headers["location"] == f"/v1/events/{event.id.hex()}"
    stored = await world.client.get(f"/v1/events/{event.id.hex()}")
    assert stored.content == event.raw
    state = (await world.client.get("/v1/state")).json()
    assert key_of(newcomer).hex() in {c["member"] for c in state["certificates"]}
    again = await world.client.post(
        "/v1/events", content=event.raw, headers={"content-type": "application/cbor; x=1"}
    )
    assert again.status_code == 200
    assert again.json() == {"id": event.id.hex(), "status": "duplicate"}
    assert world.node.submitted == [event.raw, event.raw]


async def test_an_event_the_state_refuses_is_stored_without_effect(world: World) -> None:
    s = world.scenario
    # A second certificate for the person of the first one: the same tag.
    twin = s.certify(signing_key("impostor"), "10000000")
    response = await world.client.post("/v1/events", content=twin.raw, headers=CBOR)
    assert response.status_code == 202
    body = response.json()
    assert body["id"] == twin.id.hex() and body["status"] == "refused"
    assert body["reason"] == "duplicate_identity" and body["detail"]
    stored = await world.client.get(f"/v1/events/{twin.id.hex()}")
    assert stored.status_code == 200
    state = (await world.client.get("/v1/state")).json()
    assert key_of(signing_key("impostor")).hex() not in {c["member"] for c in state["certificates"]}


async def test_bytes_that_are_no_event_are_rejected_with_the_protocols_reason(
    world: World,
) -> None:
    for garbage in (b"\xff", b"", b"\x82\x01", world.proposal.raw + b"\x00"):
        with pytest.raises(Rejected) as excinfo:
            parse_event(garbage)
        response = await world.client.post("/v1/events", content=garbage, headers=CBOR)
        assert response.status_code == 422, garbage
        assert response.json()["id"] is None
        assert error_of(response) == excinfo.value.reason.value


async def test_an_event_of_another_network_is_rejected_with_its_id(world: World) -> None:
    stranger = note(world.scenario.now)  # event_factory's own network
    response = await world.client.post("/v1/events", content=stranger.raw, headers=CBOR)
    assert response.status_code == 422
    assert response.json()["id"] == stranger.id.hex()
    assert error_of(response) == "wrong_network"
    missing = await world.client.get(f"/v1/events/{stranger.id.hex()}")
    assert missing.status_code == 404


async def test_an_event_may_come_as_hex_in_json(world: World) -> None:
    event = world.scenario.certify(signing_key("json client"), "20000002")
    response = await world.client.post("/v1/events", json={"event": event.raw.hex()})
    assert response.status_code == 201
    assert response.json() == {"id": event.id.hex(), "status": "accepted"}
    assert (await world.client.get(f"/v1/events/{event.id.hex()}")).content == event.raw
    upper = await world.client.post("/v1/events", json={"event": event.raw.hex().upper()})
    assert upper.json()["status"] == "duplicate"


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"\xff\xfe",
        b"[]",
        b'{"evnt": "00"}',
        b'{"event": 12}',
        b'{"event": "abc"}',
        b'{"event": "zz"}',
        b'{"event": "ab cd"}',
        b"[" * 100_000,
    ],
)
async def test_a_bad_json_submission(world: World, body: bytes) -> None:
    """400, never 500, whatever the body (deep nesting too)."""
    response = await world.client.post(
        "/v1/events", content=body, headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    assert error_of(response) == "bad_request"
    assert world.node.submitted == []


async def test_a_body_of_another_type_is_refused(world: World) -> None:
    for headers in ({"content-type": "text/plain"}, {}):
        response = await world.client.post(
            "/v1/events", content=world.proposal.raw, headers=headers
        )
        assert response.status_code == 415
        assert error_of(response) == "bad_request"
    assert world.node.submitted == []


class CountingBody(httpx.AsyncByteStream):
    """A request body of ``total`` bytes in ``chunk``-byte pieces, counting
    how much of it the server pulled. An iterator, not an async generator,
    so that a body left half read needs no finalizing."""

    def __init__(self, total: int, chunk: int = 1024) -> None:
        self.total = total
        self.chunk = chunk
        self.pulled = 0

    def __aiter__(self) -> CountingBody:
        return self

    async def __anext__(self) -> bytes:
        if self.pulled >= self.total:
            raise StopAsyncIteration
        piece = min(self.chunk, self.total - self.pulled)
        self.pulled += piece
        return b"\x00" * piece


async def post_stream(
    client: httpx.AsyncClient, body: CountingBody, headers: dict[str, str]
) -> httpx.Response:
    """POST ``body`` as it is: httpx would wrap an iterable ``content`` in
    an async generator of its own."""
    request = client.build_request("POST", "/v1/events", headers=headers)
    request.stream = body
    if "content-length" not in headers:
        del request.headers["content-length"]  # httpx's 0 for an empty POST
        request.headers["transfer-encoding"] = "chunked"
    return await client.send(request)


async def test_an_oversized_body_is_refused_without_reading_it(world: World) -> None:
    body = CountingBody(16 * MAX_EVENT_SIZE)
    declared = {**CBOR, "content-length": str(body.total)}
    response = await post_stream(world.client, body, declared)
    assert response.status_code == 413 and error_of(response) == "too_large"
    assert body.pulled == 0  # refused on its Content-Length alone
    # Without a length, reading stops at the chunk that crosses the limit.
    body = CountingBody(16 * MAX_EVENT_SIZE)
    response = await post_stream(world.client, body, CBOR)
    assert response.status_code == 413 and error_of(response) == "too_large"
    assert MAX_EVENT_SIZE < body.pulled <= MAX_EVENT_SIZE + body.chunk
    # JSON bodies have their own limit, and the event in them the event's.
    body = CountingBody(4 * MAX_JSON_BODY)
    json_type = {"content-type": "application/json"}
    response = await post_stream(world.client, body, json_type)
    assert response.status_code == 413 and body.pulled <= MAX_JSON_BODY + body.chunk
    big = {"event": "00" * (MAX_EVENT_SIZE + 1)}
    response = await world.client.post("/v1/events", json=big)
    assert response.status_code == 413 and error_of(response) == "too_large"
    assert world.node.submitted == []


async def test_a_body_of_exactly_the_limit_reaches_the_node(world: World) -> None:
    response = await world.client.post("/v1/events", content=b"\x00" * MAX_EVENT_SIZE, headers=CBOR)
    assert response.status_code == 422  # not an event, but not too large
    assert len(world.node.submitted) == 1


# -- groups --


async def test_groups_are_listed_from_the_top_down(world: World) -> None:
    response = await world.client.get("/v1/groups")
    assert response.status_code == 200
    body = response.json()
    ids = [g["id"] for g in body["groups"]]
    assert ids[:2] == [world.scenario.net.hex(), world.region.hex()]
    assert sorted(ids[2:]) == sorted(b.hex() for b in world.bases)
    assert body["at"] == world.node.clock
    region = body["groups"][1]
    assert region["parent"] == world.scenario.net.hex()
    assert region["member_count"] == 6 and region["level"] == 2


async def test_a_group_with_its_place_in_the_fractal(world: World) -> None:
    base, other = world.bases
    response = await world.client.get(f"/v1/groups/{base.hex()}")
    assert response.status_code == 200
    group = response.json()
    net, region = world.scenario.net.hex(), world.region.hex()
    assert group["id"] == base.hex() and group["level"] == 1 and group["name"] == "base 0.0"
    assert group["members"] == [key_of(k).hex() for k in world.people[0]]
    assert group["parent"] == region and group["children"] == []
    assert group["ancestors"] == [region, net]
    assert group["path"] == [net, region, base.hex()]
    assert group["siblings"] == [other.hex()]
    assert group["status"] == "active" and group["at"] == world.node.clock
    root = (await world.client.get("/v1/groups/root")).json()
    assert root["id"] == net and root["children"] == [region] and root["ancestors"] == []


async def test_an_unknown_or_malformed_group(world: World) -> None:
    missing = await world.client.get(f"/v1/groups/{'cd' * 32}")
    assert missing.status_code == 404 and error_of(missing) == "not_found"
    bad = await world.client.get(f"/v1/groups/{world.region.hex()[:16]}")
    assert bad.status_code == 400 and error_of(bad) == "bad_request"


# -- proposals --


async def test_proposals_with_their_deliberation(world: World) -> None:
    listing = (await world.client.get("/v1/proposals")).json()
    assert [p["id"] for p in listing["proposals"]] == [world.proposal.id.hex()]
    in_region = (await world.client.get(f"/v1/proposals?group={world.region.hex()}")).json()
    assert len(in_region["proposals"]) == 1
    in_base = (await world.client.get(f"/v1/proposals?group={world.bases[0].hex()}")).json()
    assert in_base["proposals"] == []
    response = await world.client.get(f"/v1/proposals/{world.proposal.id.hex()}")
    assert response.status_code == 200
    proposal = response.json()
    assert proposal["scope"] == world.region.hex()
    assert proposal["author"] == key_of(world.people[0][1]).hex()
    assert proposal["support"] == 1
    assert proposal["closed_by"] is None  # an election, not a ballot on it
    assert [c["id"] for c in proposal["comments"]] == [world.comment.id.hex()]
    assert proposal["title"] == world.proposal.event.body["title"]


async def test_an_unknown_proposal_or_scope(world: World) -> None:
    missing = await world.client.get(f"/v1/proposals/{world.ballot.id.hex()}")
    assert missing.status_code == 404 and error_of(missing) == "not_found"
    bad = await world.client.get("/v1/proposals/nope")
    assert bad.status_code == 400 and error_of(bad) == "bad_request"
    scope = await world.client.get(f"/v1/proposals?group={'ef' * 32}")
    assert scope.status_code == 404 and error_of(scope) == "not_found"
    param = await world.client.get("/v1/proposals?scope=1")
    assert param.status_code == 400


# -- ballots --


async def test_ballots_with_their_results(world: World) -> None:
    listing = (await world.client.get("/v1/ballots")).json()
    assert [b["id"] for b in listing["ballots"]] == [world.ballot.id.hex()]
    assert listing["ballots"][0]["status"] == "closed"
    response = await world.client.get(f"/v1/ballots/{world.ballot.id.hex()}")
    assert response.status_code == 200
    ballot = response.json()
    assert ballot["scope"] == world.region.hex() and ballot["options"] == ["a", "b"]
    assert sorted(row["group"] for row in ballot["counting_groups"]) == sorted(
        b.hex() for b in world.bases
    )
    assert all(row["votes_held"] == 3 for row in ballot["counting_groups"])
    outcome = ballot["outcome"]
    assert outcome["stands"] and outcome["counts"] == [6, 0] and outcome["voters"] == 6
    assert outcome["decided_option"] == "a" == ballot["decided_option"]
    assert set(outcome["results"]) == {world.region.hex(), *(b.hex() for b in world.bases)}
    assert outcome["evidence"] == []
    in_base = (await world.client.get(f"/v1/ballots?group={world.bases[0].hex()}")).json()
    assert in_base["ballots"] == []


async def test_an_unknown_ballot(world: World) -> None:
    missing = await world.client.get(f"/v1/ballots/{world.proposal.id.hex()}")
    assert missing.status_code == 404 and error_of(missing) == "not_found"
    bad = await world.client.get(f"/v1/ballots/{world.ballot.id.hex()}0")
    assert bad.status_code == 400 and error_of(bad) == "bad_request"


# -- errors of the API itself --


async def test_unknown_routes_and_wrong_methods_answer_json(world: World) -> None:
    for path in ("/nowhere", "/v1", "/v2/status", "/v1/events/ab/cd", "/v1/statuses"):
        response = await world.client.get(path)
        assert response.status_code == 404, path
        assert error_of(response) == "not_found"
    wrong = await world.client.delete("/v1/status")
    assert wrong.status_code == 405 and error_of(wrong) == "method_not_allowed"
    assert "GET" in wrong.headers["allow"]
    post = await world.client.post(f"/v1/events/{world.proposal.id.hex()}", headers=CBOR)
    assert post.status_code == 405 and error_of(post) == "method_not_allowed"
    put = await world.client.put("/v1/events", content=b"", headers=CBOR)
    assert put.status_code == 405


async def test_the_web_app_answers_html_and_names_its_sources(world: World) -> None:
    """Outside /v1 are the web app's pages (node/web/): HTML, scripts only
    from the node itself, and an HTML 404 for what the node does not hold."""
    home = await world.client.get("/")
    assert home.status_code == 200 and home.headers["content-type"].startswith("text/html")
    assert "default-src 'self'" in home.headers["content-security-policy"]
    assert '<html lang="es">' in home.text
    missing = await world.client.get(f"/p/{'00' * 32}")
    assert missing.status_code == 404 and missing.headers["content-type"].startswith("text/html")
    proposal = await world.client.get(f"/p/{world.proposal.id.hex()}")
    assert proposal.status_code == 200
    assert f'data-target="{world.proposal.id.hex()}"' in proposal.text
    # Every page of the world renders, in every language.
    groups = [world.scenario.net, world.region, *world.bases]
    pages = [
        "/", "/map", "/reports", f"/b/{world.ballot.id.hex()}",
        *(f"/g/{g.hex()}" for g in groups), *(f"/g/{g.hex()}/ledger" for g in groups),
    ]  # fmt: skip
    for lang in ("es", "qu", "ay", "en"):
        world.client.cookies.set("lang", lang)
        for path in pages:
            page = await world.client.get(path)
            assert page.status_code == 200, (lang, path)
            assert f'<html lang="{lang}">' in page.text
    world.client.cookies.clear()
    region = (await world.client.get(f"/g/{world.region.hex()}")).text
    assert 'data-kind="proposal"' in region and f'data-refs="{world.region.hex()}"' in region


class BrokenNode(FakeNode):
    def status(self) -> dict[str, Any]:
        raise RuntimeError("secret internals")


async def test_a_bug_answers_500_without_its_traceback_and_is_logged(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    broken = BrokenNode(world.node.store, world.node.clock)
    transport = httpx.ASGITransport(app=create_app(broken))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        with caplog.at_level(logging.ERROR, logger="node.api"):
            response = await client.get("/v1/status")
    assert response.status_code == 500
    assert response.json()["error"]["reason"] == "internal"
    assert "secret" not in response.text and "Traceback" not in response.text
    [record] = [r for r in caplog.records if r.name == "node.api"]
    assert record.exc_info is not None and "secret internals" in str(record.exc_info[1])
    assert "GET /v1/status" in record.getMessage()


# -- a real server --


async def test_serving_on_a_real_socket(world: World) -> None:
    event = world.scenario.certify(signing_key("over the wire"), "20000003")
    shutdown = trio.Event()
    with trio.fail_after(20):
        async with trio.open_nursery() as nursery:
            serve = partial(serve_api, create_app(world.node), "127.0.0.1", 0, shutdown=shutdown)
            host, port = await nursery.start(serve)
            assert host == "127.0.0.1" and port > 0
            async with httpx.AsyncClient(base_url=f"http://{host}:{port}") as client:
                status = await client.get("/v1/status")
                assert status.status_code == 200 and status.json() == world.node.status()
                posted = await client.post("/v1/events", content=event.raw, headers=CBOR)
                assert posted.status_code == 201 and posted.json()["id"] == event.id.hex()
                fetched = await client.get(f"/v1/events/{event.id.hex()}")
                assert fetched.content == event.raw
                missing = await client.get("/v1/nothing")
                assert missing.status_code == 404 and error_of(missing) == "not_found"
            shutdown.set()
    # The port is free again: the server closed its socket.
    with trio.socket.socket() as probe:
        probe.setsockopt(trio.socket.SOL_SOCKET, trio.socket.SO_REUSEADDR, 1)
        await probe.bind(("127.0.0.1", port))
        probe.listen()


async def test_a_port_in_use_fails_cleanly(world: World) -> None:
    with trio.socket.socket() as taken:
        await taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(OSError):
            await serve_api(create_app(world.node), "127.0.0.1", port, shutdown=trio.Event())


async def test_health_and_prometheus_metrics(world: World) -> None:
    health = await world.client.get("/v1/health")
    assert health.status_code == 503 and health.json()["status"] == "degraded"
    await world.client.post("/v1/events", content=b"\xff", headers=CBOR)
    text = (await world.client.get("/metrics")).text
    assert 'ayllu_events{kind="vote"} 6.0' in text
    assert 'ayllu_links{state="no-address"} 2.0' in text
    assert "ayllu_sync_sessions_total 3.0" in text
    assert 'ayllu_gossip_messages_total{outcome="rejected"} 1.0' in text
    assert 'ayllu_rejected_events_total{reason="malformed"} 1.0' in text


async def test_the_bridge_view(world: World) -> None:
    bases = "&".join(f"group={b.hex()}" for b in world.bases)
    rows = (await world.client.get(f"/v1/bridge?{bases}")).json()["groups"]
    assert [row["group"] for row in rows] == [b.hex() for b in world.bases]
    missing = await world.client.get(f"/v1/bridge?group={'cd' * 32}")
    assert missing.status_code == 404 and error_of(missing) == "not_found"
    bad = await world.client.get("/v1/bridge?groups=x")
    assert bad.status_code == 400 and error_of(bad) == "bad_request"


async def test_sync_is_asked_of_the_connected_peers(world: World) -> None:
    every = await world.client.post("/v1/sync")
    assert every.status_code == 202 and every.json() == {"requested": [str(CONNECTED)]}
    one = await world.client.post("/v1/sync", json={"peers": [str(CONNECTED)]})
    assert one.status_code == 202 and world.node.syncs == [[CONNECTED], [CONNECTED]]
    stranger = str(make_host(signing_key("a stranger")).get_id())
    absent = await world.client.post("/v1/sync", json={"peers": [stranger]})
    assert absent.status_code == 404 and error_of(absent) == "not_found"
    assert stranger in absent.json()["error"]["detail"]


@pytest.mark.parametrize(
    "body",
    [b"[1]", b"{nope", b'{"peer": "x"}', b'{"peers": "x"}', b'{"peers": ["not a peer id!"]}'],
)
async def test_a_bad_sync_request(world: World, body: bytes) -> None:
    answer = await world.client.post("/v1/sync", content=body)
    assert answer.status_code == 400 and error_of(answer) == "bad_request"
    assert world.node.syncs == []


async def test_the_roles_ledger_motions_and_reports_of_a_group(world: World) -> None:
    roles = (await world.client.get(f"/v1/groups/{world.region.hex()}/roles")).json()
    candidates = world.ballot.event.body["candidates"]
    assert roles["roles"]["coordinator"]["holder"] == candidates[0].hex()
    assert roles["roles"]["steward"]["holder"] is None and roles["oversight"] is None
    ledger = (await world.client.get("/v1/groups/root/ledger")).json()
    assert ledger == {
        "group": world.scenario.net.hex(),
        "lines": [],
        "balances": {},
        "treasury": {},
        "flags": [],
    }
    assert (await world.client.get(f"/v1/motions?group={world.region.hex()}")).json()[
        "motions"
    ] == []
    assert (await world.client.get("/v1/reports")).json() == {"reports": []}
    for path in (f"/v1/motions/{'ab' * 32}", f"/v1/reports/{'ab' * 32}"):
        missing = await world.client.get(path)
        assert missing.status_code == 404 and error_of(missing) == "not_found"
    unknown = await world.client.get(f"/v1/groups/{'cd' * 32}/roles")
    assert unknown.status_code == 404 and error_of(unknown) == "not_found"


async def test_the_power_map_as_json_and_graphml(world: World) -> None:
    [claim] = [e for e in world.scenario.events if e.kind == "map.claim"]
    shown = (await world.client.get(f"/v1/map/claims/{claim.id.hex()}")).json()
    assert (shown["entity"], shown["standing"]) == ("Minera Sur", "unconfirmed")
    graph = (await world.client.get("/v1/map/graph?entity=MINERA%20sur&depth=1")).json()
    assert [node["label"] for node in graph["nodes"]] == ["Minera Sur", "Radio Altiplano"]
    exported = await world.client.get("/v1/map/graph?format=graphml")
    assert exported.headers["content-type"].startswith("application/graphml+xml")
    assert claim.id.hex() in exported.text
    for query in ("depth=-1", "depth=99", "format=svg", "colour=red"):
        bad = await world.client.get(f"/v1/map/graph?{query}")
        assert bad.status_code == 400 and error_of(bad) == "bad_request", query
