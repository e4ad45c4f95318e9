"""The web app's pages, rendered from the node's state.

Every page reads; none writes. Acts (a comment, support, a vote) are
signed by static/app.js in the browser and posted to ``/v1/events`` like
any client's, so the node judges them the same way. The pages carry what
the script needs in ``data-`` attributes, and work, read-only, without it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from http import HTTPStatus
from pathlib import Path
from typing import Any, Protocol

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from node import governance
from node.accountability import describe_motion
from node.web import charts, i18n
from protocol.reports import FRESH_RING_MS
from protocol.state import NetworkState

HERE = Path(__file__).parent
#: A year: how long the reader's choice of language is remembered.
LANG_COOKIE_AGE_S = 365 * 86_400
#: Content-Security-Policy: everything from the node itself, nothing else,
#: no inline script (the pages carry data, not code).
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)


class PageNode(Protocol):
    """What the pages need of a node."""

    @property
    def store(self) -> Any: ...  # storage.state.NetworkStore

    def now_ms(self) -> int: ...


def web_routes(node: PageNode) -> list[BaseRoute]:
    pages = _Pages(node)
    return [
        Route("/", pages.home, methods=["GET"]),
        Route("/lang/{code}", pages.set_language, methods=["GET"]),
        Route("/g/{id}", pages.group, methods=["GET"]),
        Route("/g/{id}/ledger", pages.ledger, methods=["GET"]),
        Route("/p/{id}", pages.proposal, methods=["GET"]),
        Route("/b/{id}", pages.ballot, methods=["GET"]),
        Route("/map", pages.power_map, methods=["GET"]),
        Route("/reports", pages.reports, methods=["GET"]),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]


_env = Environment(
    loader=FileSystemLoader(HERE / "templates"),
    autoescape=select_autoescape(["html"]),
    extensions=["jinja2.ext.i18n"],
    trim_blocks=True,
    lstrip_blocks=True,
)


class _NotFound(Exception):
    pass


class _Pages:
    def __init__(self, node: PageNode) -> None:
        self.node = node

    @property
    def state(self) -> NetworkState:
        state: NetworkState = self.node.store.state
        return state

    def render(
        self, request: Request, template: str, status: int = 200, **context: Any
    ) -> Response:
        lang = i18n.pick(request.cookies.get(i18n.COOKIE))
        translations = i18n.translations(lang)
        _env.install_gettext_translations(translations, newstyle=True)  # type: ignore[attr-defined]
        state = self.state
        page = _env.get_template(template).render(
            lang=lang,
            languages=i18n.LANGUAGES,
            path=request.url.path,
            root=state.groups.root_id.hex(),
            network=state.genesis.name,
            net=state.genesis.network_id.hex(),
            when=_when,
            short=_short,
            **context,
        )
        headers = {
            "Content-Security-Policy": CSP,
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
            "Content-Language": lang,
        }
        return HTMLResponse(page, status_code=status, headers=headers)

    def _id(self, request: Request, known: Callable[[bytes], bool]) -> bytes:
        try:
            found = bytes.fromhex(request.path_params["id"])
        except ValueError:
            raise _NotFound from None
        if not known(found):
            raise _NotFound
        return found

    def missing(self, request: Request) -> Response:
        return self.render(request, "missing.html", status=HTTPStatus.NOT_FOUND)

    async def home(self, request: Request) -> Response:
        state, at = self.state, self.node.now_ms()
        groups = state.groups
        ordered = sorted(groups.groups.values(), key=lambda g: (-g.level, g.name))
        return self.render(
            request,
            "home.html",
            groups=[groups.describe(g.id, at) for g in ordered],
            ballots=_ballots(state, None, at),
        )

    async def set_language(self, request: Request) -> Response:
        """Remember the reader's language, and go back where they were."""
        code = i18n.pick(request.path_params["code"])
        back = request.query_params.get("next", "/")
        if not back.startswith("/") or back.startswith("//"):
            back = "/"
        response = RedirectResponse(back, status_code=HTTPStatus.SEE_OTHER)
        response.set_cookie(
            i18n.COOKIE, code, max_age=LANG_COOKIE_AGE_S, samesite="lax", httponly=True
        )
        return response

    async def group(self, request: Request) -> Response:
        state, at = self.state, self.node.now_ms()
        groups = state.groups
        try:
            gid = self._id(request, lambda g: g in groups.groups)
        except _NotFound:
            return self.missing(request)
        return self.render(
            request,
            "group.html",
            group=groups.describe(gid, at),
            above=[groups.describe(g, at) for g in reversed(groups.ancestors(gid))],
            children=[groups.describe(g, at) for g in groups.children(gid)],
            proposals=[
                state.proposals.describe(p.id, at) for p in governance.proposals_of(state, gid)
            ],
            ballots=_ballots(state, gid, at),
            roles=state.roles.describe(gid, at),
            motions=[
                describe_motion(state, motion_id, at)
                for motion_id, motion in state.recalls.motions.items()
                if motion.group == gid
            ],
            flags=len(state.ledger.describe(gid)["flags"]),
        )

    async def ledger(self, request: Request) -> Response:
        state = self.state
        try:
            gid = self._id(request, lambda g: g in state.groups.groups)
        except _NotFound:
            return self.missing(request)
        return self.render(
            request,
            "ledger.html",
            group=state.groups.describe(gid, self.node.now_ms()),
            ledger=state.ledger.describe(gid),
        )

    async def proposal(self, request: Request) -> Response:
        state, at = self.state, self.node.now_ms()
        try:
            pid = self._id(request, lambda p: p in state.proposals.proposals)
        except _NotFound:
            return self.missing(request)
        proposal = state.proposals.describe(pid, at)
        lang = i18n.pick(request.cookies.get(i18n.COOKIE))
        shown = governance.text_in(state, pid, lang)
        scope = state.groups.describe(bytes.fromhex(proposal["scope"]), at)
        ballots = [b for b in _ballots(state, None, at) if b["proposal"] == pid.hex()]
        return self.render(
            request, "proposal.html", proposal=proposal, shown=shown, scope=scope, ballots=ballots
        )

    async def ballot(self, request: Request) -> Response:
        state, at = self.state, self.node.now_ms()
        try:
            bid = self._id(request, lambda b: b in state.ballots.ballots)
        except _NotFound:
            return self.missing(request)
        ballot = governance.describe_ballot(state, bid, at)
        results = governance.describe_results(state, bid)
        motion = describe_motion(state, bid, at) if bid in state.recalls.motions else None
        return self.render(
            request,
            "ballot.html",
            ballot=ballot,
            results=results,
            motion=motion,
            bars=charts.option_bars(ballot["options"], results),
            turnout=charts.turnout_bars(results),
        )

    async def reports(self, request: Request) -> Response:
        """Protected reports: filing one (the page signs and seals it), and
        following one with its receipt. The page gets every fresh ring and
        every report, so that what it fetches does not point at its reader."""
        state, at = self.state, self.node.now_ms()
        reports, groups = state.reports, state.groups
        oversight = [
            {"id": g.hex(), "name": groups.group(g).name, "box_key": reports.box_keys(g)[-1].hex()}
            for g in sorted(groups.groups, key=lambda g: groups.group(g).name)
            if reports.box_keys(g)
        ]
        rings = [
            ring.id.hex()
            for ring in sorted(reports.rings.values(), key=lambda r: (r.ts, r.id))
            if at - FRESH_RING_MS <= ring.ts <= at
        ]
        listed = [
            reports.describe(r)
            for r in sorted(reports.reports, key=lambda r: reports.reports[r].ts)
        ]
        for report in listed:
            report["group_name"] = groups.group(bytes.fromhex(report["group"])).name
        return self.render(
            request, "reports.html", oversight=oversight, rings=rings, reports=listed
        )

    async def power_map(self, request: Request) -> Response:
        graph = self.state.power_map.graph()
        return self.render(request, "map.html", graph=graph, drawing=charts.graph_drawing(graph))


def _ballots(state: NetworkState, scope: bytes | None, at: int) -> list[dict[str, Any]]:
    found = governance.ballots_of(state, scope)
    return [governance.describe_ballot(state, b.id, at) for b in reversed(found)]


def _when(ms: int | None) -> str:
    """A time as the reader's phone would show it, in UTC."""
    if ms is None:
        return "—"
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M UTC")


def _short(hex_id: str | None) -> str:
    return "—" if hex_id is None else hex_id[:12]
