"""The node's local HTTP JSON API: what a web UI or a script on the same
machine reads from the node, and how it hands the node signed events.

Theory of operation
-------------------
Every route lives under ``/v1`` and answers JSON, except the one that
serves an event's wire bytes (``application/cbor``):

=======  =====================  ==============================================
method   path                   answer
=======  =====================  ==============================================
GET      /v1/status             the node's own status (``NodeApi.status``)
GET      /v1/health             ok (200) or degraded (503), and why
GET      /v1/bridge             per group: its nodes, reachable, last sync
GET      /metrics               Prometheus text metrics (node/metrics.py)
POST     /v1/events             submit one signed event: 201 accepted,
                                200 duplicate, 202 refused, 422 rejected
GET      /v1/events             stored events' metadata, oldest first, paged
GET      /v1/events/{id}        one event's wire bytes
GET      /v1/state              the whole network state (``snapshot``)
GET      /v1/groups[/{id}]      groups (``Groups.describe``)
GET      /v1/proposals[/{id}]   proposals with their deliberation
GET      /v1/ballots[/{id}]     ballots, their rings, results and outcome
GET      /v1/members/{key}      a member key's certificate and base group
GET      /, /g/.., /b/.., ...   the web app (node/web/): HTML pages
=======  =====================  ==============================================

The API holds no key and signs nothing: ``POST /v1/events`` takes an event
its author signed already and sends it down the very path an event from a
peer takes (``NodeApi.submit``: decode, network, signature, the rules
against state, commit, gossip), so a local client gets no right a peer
lacks. That is also why the API has **no authentication**: it listens on
the loopback interface (the command line binds 127.0.0.1 unless told
otherwise), so only the machine's own users reach it, and what they can do
there (read what the node would sync to any peer, submit signed events) is
what every peer can do anyway. Binding it to another address exposes it to
everyone who can reach that address, which costs the node load, nothing
else; put an authenticating proxy in front if that matters.

Reads of the state are synchronous: a handler reads everything it answers
without an ``await`` in between, and trio switches tasks only at an
``await``, so an answer always shows one state, never half of a commit.

Bodies are read with a limit: an event is at most ``MAX_EVENT_SIZE`` bytes
(protocol/cbor.py), so a bigger ``Content-Length`` is refused before any
of the body is read, and a body without one is read only until it crosses
the limit. A client thus cannot make the node buffer more than an event.

Errors
------
Every error answers ``{"error": {"reason": CODE, "detail": TEXT}}`` with a
stable ``reason``. An event the protocol rejects carries the protocol's own
code (``protocol.errors.Reason``: ``malformed``, ``bad_signature``,
``wrong_network``, ...) and ``"id"`` beside ``"error"`` (the event's id, or
null if it never decoded). The API's own codes are the constants below:
``bad_request`` (400, or 415 for a body that is neither CBOR nor JSON),
``not_found`` (404), ``too_large`` (413, the same string as the protocol's
``Reason.TOO_LARGE``), ``method_not_allowed`` (405) and ``internal`` (500,
a bug: logged here with its traceback, never sent to the client).
"""

from __future__ import annotations

import binascii
import json
import logging
import re
import socket
from collections.abc import Sequence
from functools import partial
from http import HTTPStatus
from typing import TYPE_CHECKING, Any, Protocol, cast

import trio
from hypercorn.config import Config
from hypercorn.trio import serve as hypercorn_serve
from hypercorn.typing import ASGIFramework
from libp2p.peer.id import ID
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from node import governance
from node.accountability import describe_motion, describe_roles
from node.metrics import Metrics, MetricsCollector
from node.web.pages import web_routes
from protocol.cbor import MAX_SIZE
from protocol.event import ID_SIZE, KEY_SIZE
from protocol.power_map import graphml
from storage import MAX_LIMIT, IngestResult, IngestStatus, Key
from storage.state import NetworkStore

if TYPE_CHECKING:
    # py-libp2p's trio-typing stubs shadow trio's own types for mypy.
    from trio_typing import TaskStatus

#: The request was malformed: a bad id, query parameter, JSON body or type.
BAD_REQUEST = "bad_request"
#: No such route, event, group, proposal or ballot.
NOT_FOUND = "not_found"
#: The body is bigger than an event may be.
TOO_LARGE = "too_large"
#: The route exists, not with this method.
METHOD_NOT_ALLOWED = "method_not_allowed"
#: A bug on this side; the detail stays in the node's log.
INTERNAL = "internal"

#: The largest event, in wire bytes (specs/events.md).
MAX_EVENT_SIZE = MAX_SIZE
#: A JSON submission carries the event in hex (two characters a byte) in
#: ``{"event": "..."}``; this leaves room for the key and some whitespace.
MAX_JSON_BODY = 2 * MAX_EVENT_SIZE + 1024
#: Events a listing returns unless ``limit`` says otherwise.
DEFAULT_PAGE = 100
#: Seconds the server gives open requests to finish once shutdown is asked.
GRACEFUL_TIMEOUT = 3.0

#: The deepest neighbourhood of a name the map graph route answers.
MAX_DEPTH = 16

CBOR_TYPE = "application/cbor"
GRAPHML_TYPE = "application/graphml+xml"
JSON_TYPE = "application/json"

_log = logging.getLogger(__name__)
_ID = re.compile(r"[0-9a-fA-F]{64}")
_HEX = re.compile(r"(?:[0-9a-fA-F]{2})*")
_CURSOR = re.compile(r"([0-9]{1,16}):([0-9a-fA-F]{64})")
_LIST_PARAMS = frozenset({"group", "kind", "author", "after", "limit"})
#: What names the root group in a path, beside its id (the network id).
_ROOT = "root"
#: The answer's status for each ingest outcome but REJECTED.
_SUBMIT_STATUS = {
    IngestStatus.ACCEPTED: HTTPStatus.CREATED,
    IngestStatus.DUPLICATE: HTTPStatus.OK,
    IngestStatus.REFUSED: HTTPStatus.ACCEPTED,
}


class NodeApi(Protocol):
    """What the API needs of a running node (node/runtime.py provides it)."""

    @property
    def store(self) -> NetworkStore: ...  # storage.state.NetworkStore

    def now_ms(self) -> int: ...

    def status(self) -> dict[str, Any]: ...  # JSON-ready; the node builds it

    async def submit(self, raw: bytes) -> IngestResult:
        """Validate, commit and gossip one wire-format event."""
        ...

    def metrics(self) -> Metrics: ...  # node/metrics.py

    def health(self) -> dict[str, Any]: ...  # "status": "ok" or "degraded"

    def bridge_status(self, groups: Sequence[bytes]) -> list[dict[str, Any]]: ...

    def request_sync(self, peers: Sequence[ID] | None = None) -> list[ID]:
        """Sync now with ``peers`` (None: every link up); those asked."""
        ...


class _Problem(Exception):
    """An error answer, raised from deep in a handler: the status, a reason
    code and what the client did wrong."""

    def __init__(
        self, status: int, reason: str, detail: str, *, extra: dict[str, Any] | None = None
    ) -> None:
        super().__init__(f"{status} {reason}: {detail}")
        self.status = status
        self.reason = reason
        self.detail = detail
        self.extra = extra or {}


def _error(
    status: int,
    reason: str,
    detail: str,
    *,
    extra: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    content = {"error": {"reason": reason, "detail": detail}, **(extra or {})}
    return JSONResponse(content, status_code=status, headers=headers)


def create_app(node: NodeApi) -> Starlette:
    """The API of ``node`` as an ASGI application."""
    api = _Handlers(node)
    routes = [
        Route("/v1/status", api.status, methods=["GET"]),
        Route("/v1/health", api.health, methods=["GET"]),
        Route("/v1/bridge", api.bridge, methods=["GET"]),
        Route("/v1/sync", api.sync, methods=["POST"]),
        Route("/metrics", api.metrics, methods=["GET"]),
        Route("/v1/events", api.list_events, methods=["GET"]),
        Route("/v1/events", api.submit, methods=["POST"]),
        Route("/v1/events/{id}", api.get_event, methods=["GET"]),
        Route("/v1/state", api.state, methods=["GET"]),
        Route("/v1/groups", api.list_groups, methods=["GET"]),
        Route("/v1/groups/{id}", api.get_group, methods=["GET"]),
        Route("/v1/groups/{id}/roles", api.get_roles, methods=["GET"]),
        Route("/v1/groups/{id}/ledger", api.get_ledger, methods=["GET"]),
        Route("/v1/motions", api.list_motions, methods=["GET"]),
        Route("/v1/motions/{id}", api.get_motion, methods=["GET"]),
        Route("/v1/reports", api.list_reports, methods=["GET"]),
        Route("/v1/reports/{id}", api.get_report, methods=["GET"]),
        Route("/v1/map/claims/{id}", api.get_claim, methods=["GET"]),
        Route("/v1/map/graph", api.map_graph, methods=["GET"]),
        Route("/v1/proposals", api.list_proposals, methods=["GET"]),
        Route("/v1/proposals/{id}", api.get_proposal, methods=["GET"]),
        Route("/v1/ballots", api.list_ballots, methods=["GET"]),
        Route("/v1/ballots/{id}", api.get_ballot, methods=["GET"]),
        Route("/v1/members/{key}", api.get_member, methods=["GET"]),
        *web_routes(node),
    ]
    return Starlette(
        routes=routes,
        # Compressed answers for the web app on a slow phone (the crypto
        # bundle goes from 55 to 21 KB); small answers are left as they are.
        middleware=[Middleware(GZipMiddleware, minimum_size=1024), Middleware(_InternalErrors)],
        exception_handlers={_Problem: _problem_answer, HTTPException: _http_answer},
    )


async def _problem_answer(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, _Problem)
    return _error(exc.status, exc.reason, exc.detail, extra=exc.extra)


async def _http_answer(request: Request, exc: Exception) -> Response:
    """Starlette's own errors (no route, wrong method) in the API's shape."""
    assert isinstance(exc, HTTPException)
    reasons: dict[int, str] = {
        HTTPStatus.NOT_FOUND: NOT_FOUND,
        HTTPStatus.METHOD_NOT_ALLOWED: METHOD_NOT_ALLOWED,
    }
    reason = reasons.get(exc.status_code, BAD_REQUEST)
    detail = f"{request.method} {request.url.path}: {exc.detail}"
    return _error(exc.status_code, reason, detail, headers=dict(exc.headers or {}))


class _InternalErrors:
    """Turns an unexpected exception into a logged 500 with no traceback in
    it. Starlette's own ServerErrorMiddleware answers 500 too, but re-raises
    to the server, which logs the error a second time and, under a test
    transport, fails the request instead of answering it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracked(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracked)
        except ClientDisconnect:
            _log.debug("client left during %s %s", scope["method"], scope["path"])
        except Exception:
            _log.exception("internal error answering %s %s", scope["method"], scope["path"])
            if started:
                raise  # half an answer is out: only the server can end it
            response = _error(HTTPStatus.INTERNAL_SERVER_ERROR, INTERNAL, "see the node's log")
            await response(scope, receive, send)


class _Handlers:
    """The route handlers, around one node."""

    def __init__(self, node: NodeApi) -> None:
        self.node = node
        # A registry of this node's own: several nodes may share a process.
        self.registry = CollectorRegistry(auto_describe=True)
        self.registry.register(MetricsCollector(node.metrics))

    async def health(self, request: Request) -> Response:
        health = self.node.health()
        ok = health.get("status") == "ok"
        status = HTTPStatus.OK if ok else HTTPStatus.SERVICE_UNAVAILABLE
        return JSONResponse(health, status_code=status)

    async def bridge(self, request: Request) -> Response:
        """``?group=ID`` (repeatable; default: served and neighbours)."""
        params = request.query_params
        unknown = sorted(set(params) - {"group"})
        if unknown:
            raise _Problem(
                HTTPStatus.BAD_REQUEST, BAD_REQUEST, f"unknown query parameter {unknown[0]!r}"
            )
        groups = [_id_param(value, "group") for value in params.getlist("group")]
        known = self.node.store.state.groups.groups
        for group in groups:
            if group not in known:
                raise _Problem(HTTPStatus.NOT_FOUND, NOT_FOUND, f"no group {group.hex()}")
        at = self.node.now_ms()
        return JSONResponse({"groups": self.node.bridge_status(groups), "at": at})

    async def metrics(self, request: Request) -> Response:
        return Response(generate_latest(self.registry), media_type=CONTENT_TYPE_LATEST)

    async def sync(self, request: Request) -> Response:
        """Sync now: ``{"peers": [peer id, ...]}`` (optional; default: every
        link up). 202 with the peers asked; 404 for a peer not connected."""
        body = await _json_object(request, allowed={"peers"})
        named = body.get("peers")
        if named is not None and (
            not isinstance(named, list) or not all(isinstance(p, str) for p in named)
        ):
            raise _Problem(HTTPStatus.BAD_REQUEST, BAD_REQUEST, "peers is a list of peer ids")
        peers = None if named is None else [_peer_param(text) for text in named]
        asked = self.node.request_sync(peers)
        missing = sorted({str(p) for p in peers or ()} - {str(p) for p in asked})
        if missing:
            raise _Problem(HTTPStatus.NOT_FOUND, NOT_FOUND, f"not connected to {missing[0]}")
        return JSONResponse(
            {"requested": [str(peer) for peer in asked]}, status_code=HTTPStatus.ACCEPTED
        )

    async def status(self, request: Request) -> Response:
        return JSONResponse(self.node.status())

    # -- events --

    async def submit(self, request: Request) -> Response:
        raw = await _event_body(request)
        result = await self.node.submit(raw)
        event_id = None if result.id is None else result.id.hex()
        if result.status is IngestStatus.REJECTED:
            if result.reason is None:
                raise AssertionError(f"a rejection without a reason: {result}")
            raise _Problem(
                HTTPStatus.UNPROCESSABLE_ENTITY,
                result.reason.value,
                result.detail,
                extra={"id": event_id},
            )
        body: dict[str, Any] = {"id": event_id, "status": result.status.value}
        headers = {}
        if result.status is IngestStatus.REFUSED:
            body["reason"] = None if result.reason is None else result.reason.value
            body["detail"] = result.detail
        if event_id is not None:
            headers["Location"] = f"/v1/events/{event_id}"
        return JSONResponse(body, status_code=_SUBMIT_STATUS[result.status], headers=headers)

    async def get_event(self, request: Request) -> Response:
        event_id = _id_param(request.path_params["id"], "event")
        raw = await self.node.store.events.get(event_id)
        if raw is None:
            raise _Problem(HTTPStatus.NOT_FOUND, NOT_FOUND, f"no event {event_id.hex()}")
        return Response(raw, media_type=CBOR_TYPE)

    async def list_events(self, request: Request) -> Response:
        params = request.query_params
        unknown = sorted(set(params) - _LIST_PARAMS)
        if unknown:
            raise _Problem(
                HTTPStatus.BAD_REQUEST, BAD_REQUEST, f"unknown query parameter {unknown[0]!r}"
            )
        # An empty parameter (``?group=&kind=note``) is an absent one, as
        # a form or a URL template sends it.
        given = {name: value for name, value in params.items() if value}
        group = _optional_hex(given.get("group"), ID_SIZE, "group")
        author = _optional_hex(given.get("author"), KEY_SIZE, "author")
        after = _cursor(given.get("after"))
        limit = _limit(given.get("limit"))
        kind = given.get("kind")
        events = self.node.store.events
        query = partial(events.query, group=group, kind=kind, author=author)
        page = await query(after=after, limit=limit)
        # A full page says nothing of what follows: look one event ahead, so
        # that "next" is null exactly when there is nothing more.
        more = len(page) == limit and bool(await query(after=page[-1].key, limit=1))
        return JSONResponse(
            {
                "events": [
                    {
                        "id": row.id.hex(),
                        "ts": row.ts,
                        "kind": row.kind,
                        "group": row.group.hex(),
                        "author": row.author.hex(),
                    }
                    for row in page
                ],
                "next": f"{page[-1].ts}:{page[-1].id.hex()}" if more else None,
            }
        )

    # -- the network's state --

    async def state(self, request: Request) -> Response:
        return JSONResponse(self.node.store.state.snapshot(self.node.now_ms()))

    async def list_groups(self, request: Request) -> Response:
        at = self.node.now_ms()
        groups = self.node.store.state.groups
        ordered = sorted(groups.groups.values(), key=lambda g: (-g.level, g.founded, g.id))
        return JSONResponse({"groups": [groups.describe(g.id, at) for g in ordered], "at": at})

    def _group(self, request: Request) -> bytes:
        """The group of the path's ``{id}`` (or ``root``); 404 if none."""
        groups = self.node.store.state.groups
        text = request.path_params["id"]
        gid = groups.root_id if text == _ROOT else _id_param(text, "group")
        if gid not in groups.groups:
            raise _Problem(HTTPStatus.NOT_FOUND, NOT_FOUND, f"no group {gid.hex()}")
        return gid

    async def get_group(self, request: Request) -> Response:
        at = self.node.now_ms()
        groups = self.node.store.state.groups
        gid = self._group(request)
        return JSONResponse(
            {
                **groups.describe(gid, at),
                "path": [g.hex() for g in groups.path(gid)],
                "ancestors": [g.hex() for g in groups.ancestors(gid)],
                "siblings": [g.hex() for g in groups.siblings(gid)],
                "at": at,
            }
        )

    # -- accountability (specs/accountability.md) --

    async def get_roles(self, request: Request) -> Response:
        """Who holds which role of the group until when, and who oversees it."""
        gid = self._group(request)
        return JSONResponse(describe_roles(self.node.store.state, gid, self.node.now_ms()))

    async def get_ledger(self, request: Request) -> Response:
        """The group's accounts: lines, balances, the treasury, flags."""
        return JSONResponse(self.node.store.state.ledger.describe(self._group(request)))

    async def list_motions(self, request: Request) -> Response:
        """Recall motions and convictions (``?group=``), oldest first."""
        scope = self._scope_param(request)
        state, at = self.node.store.state, self.node.now_ms()
        motions = sorted(state.recalls.motions.values(), key=lambda m: (m.opened, m.id))
        return JSONResponse(
            {
                "motions": [
                    describe_motion(state, m.id, at)
                    for m in motions
                    if scope is None or m.group == scope
                ],
                "at": at,
            }
        )

    async def get_motion(self, request: Request) -> Response:
        state = self.node.store.state
        motion = _id_param(request.path_params["id"], "motion")
        if motion not in state.recalls.motions:
            raise _Problem(HTTPStatus.NOT_FOUND, NOT_FOUND, f"no motion {motion.hex()}")
        return JSONResponse(describe_motion(state, motion, self.node.now_ms()))

    async def list_reports(self, request: Request) -> Response:
        """Protected reports (``?group=``: of one oversight group): what
        everyone sees of them, never who filed them."""
        scope = self._scope_param(request)
        reports = self.node.store.state.reports
        return JSONResponse(
            {
                "reports": [
                    reports.describe(rid)
                    for rid in sorted(reports.reports)
                    if scope is None or reports.reports[rid].group == scope
                ]
            }
        )

    async def get_report(self, request: Request) -> Response:
        reports = self.node.store.state.reports
        report = _id_param(request.path_params["id"], "report")
        if report not in reports.reports:
            raise _Problem(HTTPStatus.NOT_FOUND, NOT_FOUND, f"no report {report.hex()}")
        return JSONResponse(reports.describe(report))

    async def get_claim(self, request: Request) -> Response:
        power_map = self.node.store.state.power_map
        claim = _id_param(request.path_params["id"], "claim")
        if claim not in power_map.claims:
            raise _Problem(HTTPStatus.NOT_FOUND, NOT_FOUND, f"no claim {claim.hex()}")
        return JSONResponse(power_map.describe_claim(claim))

    async def map_graph(self, request: Request) -> Response:
        """``?entity=NAME&depth=N&format=json|graphml``: the power map as a
        graph, whole or around one name."""
        params = request.query_params
        unknown = sorted(set(params) - {"entity", "depth", "format"})
        if unknown:
            raise _Problem(
                HTTPStatus.BAD_REQUEST, BAD_REQUEST, f"unknown query parameter {unknown[0]!r}"
            )
        depth_text = params.get("depth", "1")
        if not depth_text.isdigit() or int(depth_text) > MAX_DEPTH:
            raise _Problem(HTTPStatus.BAD_REQUEST, BAD_REQUEST, f"depth must be 0 to {MAX_DEPTH}")
        form = params.get("format", "json")
        if form not in ("json", "graphml"):
            raise _Problem(HTTPStatus.BAD_REQUEST, BAD_REQUEST, "format is json or graphml")
        graph = self.node.store.state.power_map.graph(params.get("entity"), int(depth_text))
        if form == "graphml":
            return Response(graphml(graph), media_type=GRAPHML_TYPE)
        return JSONResponse(dict(graph))

    async def list_proposals(self, request: Request) -> Response:
        at = self.node.now_ms()
        state = self.node.store.state
        scope = self._scope_param(request)
        found = governance.proposals_of(state, scope)
        return JSONResponse(
            {"proposals": [state.proposals.describe(p.id, at) for p in found], "at": at}
        )

    async def get_proposal(self, request: Request) -> Response:
        at = self.node.now_ms()
        proposals = self.node.store.state.proposals
        pid = _id_param(request.path_params["id"], "proposal")
        if pid not in proposals.proposals:
            raise _Problem(HTTPStatus.NOT_FOUND, NOT_FOUND, f"no proposal {pid.hex()}")
        return JSONResponse({**proposals.describe(pid, at), "at": at})

    async def list_ballots(self, request: Request) -> Response:
        at = self.node.now_ms()
        state = self.node.store.state
        scope = self._scope_param(request)
        found = governance.ballots_of(state, scope)
        return JSONResponse(
            {"ballots": [governance.describe_ballot(state, b.id, at) for b in found], "at": at}
        )

    async def get_ballot(self, request: Request) -> Response:
        at = self.node.now_ms()
        state = self.node.store.state
        bid = _id_param(request.path_params["id"], "ballot")
        if bid not in state.ballots.ballots:
            raise _Problem(HTTPStatus.NOT_FOUND, NOT_FOUND, f"no ballot {bid.hex()}")
        return JSONResponse(
            {
                **governance.describe_ballot(state, bid, at),
                "outcome": governance.describe_results(state, bid),
            }
        )

    async def get_member(self, request: Request) -> Response:
        """A member key's certificate and base group: what a client refs as
        the author's standing when it signs an act (the web app does)."""
        text = request.path_params["key"]
        if not re.fullmatch(f"[0-9a-f]{{{2 * KEY_SIZE}}}", text):
            raise _Problem(
                HTTPStatus.BAD_REQUEST, BAD_REQUEST, f"a member key is {2 * KEY_SIZE} hex digits"
            )
        key, state, at = bytes.fromhex(text), self.node.store.state, self.node.now_ms()
        cert = state.registry.certificate_of(key)
        if cert is None:
            raise _Problem(HTTPStatus.NOT_FOUND, NOT_FOUND, f"no certificate names {text}")
        group = state.groups.group_of(key)
        return JSONResponse(
            {
                "member": text,
                "certificate": cert.id.hex(),
                **cert.describe(at),
                "group": None if group is None else group.hex(),
                "at": at,
            }
        )

    def _scope_param(self, request: Request) -> bytes | None:
        """The optional ``?group=`` of a listing; 404 if no such group."""
        params = request.query_params
        unknown = sorted(set(params) - {"group"})
        if unknown:
            raise _Problem(
                HTTPStatus.BAD_REQUEST, BAD_REQUEST, f"unknown query parameter {unknown[0]!r}"
            )
        scope = _optional_hex(params.get("group") or None, ID_SIZE, "group")
        if scope is not None and scope not in self.node.store.state.groups.groups:
            raise _Problem(HTTPStatus.NOT_FOUND, NOT_FOUND, f"no group {scope.hex()}")
        return scope


# -- reading requests --


async def _json_object(request: Request, *, allowed: frozenset[str] | set[str]) -> dict[str, Any]:
    """A small JSON object body (empty: {}), with only ``allowed`` keys."""
    raw = await _read_limited(request, 64 * 1024)
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except ValueError:
        raise _Problem(HTTPStatus.BAD_REQUEST, BAD_REQUEST, "the body is not JSON") from None
    if not isinstance(body, dict):
        raise _Problem(HTTPStatus.BAD_REQUEST, BAD_REQUEST, "the body is a JSON object")
    unknown = sorted(set(body) - set(allowed))
    if unknown:
        raise _Problem(HTTPStatus.BAD_REQUEST, BAD_REQUEST, f"unknown field {unknown[0]!r}")
    return body


def _peer_param(text: str) -> ID:
    try:
        return ID.from_base58(text)
    except ValueError:
        raise _Problem(HTTPStatus.BAD_REQUEST, BAD_REQUEST, f"{text!r} is no peer id") from None


async def _event_body(request: Request) -> bytes:
    """The submitted event's wire bytes, from a CBOR or a JSON body."""
    media = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media == CBOR_TYPE:
        return await _read_limited(request, MAX_EVENT_SIZE)
    if media == JSON_TYPE:
        raw = _hex_event(await _read_limited(request, MAX_JSON_BODY))
        if len(raw) > MAX_EVENT_SIZE:
            raise _too_large(MAX_EVENT_SIZE)
        return raw
    raise _Problem(
        HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
        BAD_REQUEST,
        f"send the event as {CBOR_TYPE}, or as {JSON_TYPE} {{'event': HEX}}",
    )


async def _read_limited(request: Request, limit: int) -> bytes:
    """The body, refused (413) as soon as it is known to exceed ``limit``:
    from its Content-Length before reading any of it, else at the chunk
    that crosses the limit, leaving the rest unread."""
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.isdigit():
            raise _Problem(HTTPStatus.BAD_REQUEST, BAD_REQUEST, "bad Content-Length")
        if int(declared) > limit:
            raise _too_large(limit)
    body = bytearray()
    stream = request.stream()
    try:
        async for chunk in stream:
            body += chunk
            if len(body) > limit:
                raise _too_large(limit)
    finally:
        await stream.aclose()
    return bytes(body)


def _too_large(limit: int) -> _Problem:
    return _Problem(
        HTTPStatus.REQUEST_ENTITY_TOO_LARGE, TOO_LARGE, f"bodies are {limit} bytes at most"
    )


def _hex_event(body: bytes) -> bytes:
    """The event of a JSON body ``{"event": "<hex>"}``."""
    try:
        document = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise _Problem(HTTPStatus.BAD_REQUEST, BAD_REQUEST, f"bad JSON: {exc}") from None
    except RecursionError:  # deep nesting: json's parser recurses
        raise _Problem(HTTPStatus.BAD_REQUEST, BAD_REQUEST, "bad JSON: nested too deep") from None
    text = document.get("event") if isinstance(document, dict) else None
    if not isinstance(text, str) or not _HEX.fullmatch(text):
        raise _Problem(
            HTTPStatus.BAD_REQUEST, BAD_REQUEST, 'the body must be {"event": "<hex of the event>"}'
        )
    return binascii.unhexlify(text)


def _id_param(text: str, what: str) -> bytes:
    if not _ID.fullmatch(text):
        raise _Problem(
            HTTPStatus.BAD_REQUEST, BAD_REQUEST, f"{text!r} is not a {what} id (64 hex digits)"
        )
    return bytes.fromhex(text)


def _optional_hex(text: str | None, size: int, what: str) -> bytes | None:
    if text is None:
        return None
    if len(text) != 2 * size or not _HEX.fullmatch(text):
        raise _Problem(HTTPStatus.BAD_REQUEST, BAD_REQUEST, f"{what} must be {2 * size} hex digits")
    return bytes.fromhex(text)


def _cursor(text: str | None) -> Key | None:
    """``after=TS:IDHEX``, the ``next`` of the page before."""
    if text is None:
        return None
    match = _CURSOR.fullmatch(text)
    if match is None:
        raise _Problem(HTTPStatus.BAD_REQUEST, BAD_REQUEST, "after must be TS:ID (from next)")
    return int(match[1]), bytes.fromhex(match[2])


def _limit(text: str | None) -> int:
    if text is None:
        return DEFAULT_PAGE
    if not text.isdigit() or not 1 <= int(text) <= MAX_LIMIT:
        raise _Problem(
            HTTPStatus.BAD_REQUEST, BAD_REQUEST, f"limit must be an integer in 1..{MAX_LIMIT}"
        )
    return int(text)


# -- serving --


async def serve_api(
    app: Starlette,
    host: str,
    port: int,
    *,
    shutdown: trio.Event,
    task_status: TaskStatus[tuple[str, int]] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Serve until `shutdown` is set; task_status.started((host, bound_port)) once listening.

    The socket is bound here, not by Hypercorn: a bind that fails (the port
    is taken) then raises OSError with nothing left open, and the bound
    port (for port 0) is read from the socket rather than parsed back out
    of Hypercorn's log lines. Hypercorn gets the socket as ``fd://`` and
    owns it from then on (it closes it when it stops). Its access and
    error logs go to Python logging, under this module's logger.
    """
    listener = await _bind(host, port)
    bound_host, bound_port = listener.getsockname()[:2]
    config = Config()
    config.bind = [f"fd://{listener.detach()}"]
    config.accesslog = logging.getLogger(f"{__name__}.access")
    config.errorlog = logging.getLogger(f"{__name__}.server")
    config.graceful_timeout = GRACEFUL_TIMEOUT
    config.include_server_header = False
    async with trio.open_nursery() as nursery:
        # Starlette's scope is a plain mapping, Hypercorn's a TypedDict: the
        # same dictionary at run time, two spellings for mypy.
        framework = cast(ASGIFramework, app)
        await nursery.start(
            partial(hypercorn_serve, framework, config, shutdown_trigger=shutdown.wait)
        )
        task_status.started((bound_host, bound_port))


async def _bind(host: str, port: int) -> socket.socket:
    """A TCP socket bound to the first address ``host`` resolves to."""
    found = await trio.socket.getaddrinfo(
        host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
    )
    if not found:
        raise OSError(f"{host!r} resolves to no address")
    family, kind, proto, _, address = found[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
    except BaseException:
        sock.close()
        raise
    return sock
