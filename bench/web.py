"""The web app on a node: what its pages cost the node to render and the
phone to load, against the JSON the same data costs.

The network: a root of level 3, 5 groups of level 2 and 25 base groups of
5 members (125 voters), a proposal and a ballot counted in the 25 base
groups and summed up to the root (bench/tally.py builds it), in an in-memory
store behind the node's ASGI app (node/api.py, with the pages of
node/web/), asked in-process so that only the node's work is timed.

Timed, alternately, in the same run:

  page      GET /b/{ballot}: the ballot's page, HTML with its charts and
            its table of the 31 groups' results, rendered from the state;
  baseline  GET /v1/ballots/{ballot}: the same ballot as the API's JSON,
            which every client (the CLI, another implementation) reads.

Prints JSON: pages_per_s, json_per_s, render_ratio = pages_per_s /
json_per_s (1.0: a page costs no more than its data); the bytes of each
page (raw and gzipped, as sent) and of the static files a first visit
loads, and first_visit_ratio = a first visit's gzipped bytes / the
ballot's gzipped JSON.

    python bench/web.py [--requests 200] [--rounds 5]
"""

from __future__ import annotations

import argparse
import gzip
import json
import platform
import statistics
import sys
import time
from collections.abc import Sequence
from typing import Any

import httpx
import trio
from tally import build

from node import progress
from node.api import create_app
from node.ingest import ingest_raw
from node.metrics import Metrics
from protocol.event import SignedEvent
from protocol.genesis import Genesis
from storage.memory import MemoryEventStore
from storage.state import NetworkStore

#: What a first visit to a ballot's page loads besides the page.
STATIC = ("/static/style.css", "/static/app.js", "/static/ayllu-crypto.js")


class PagesNode:
    """The part of a node the pages and reads use; the rest is not asked."""

    def __init__(self, store: NetworkStore, now_ms: int) -> None:
        self.store = store
        self._now = now_ms

    def now_ms(self) -> int:
        return self._now

    def metrics(self) -> Metrics:
        return Metrics(0, {}, {}, 0, 0, {})

    def __getattr__(self, name: str) -> Any:
        def unasked(*args: Any, **kwargs: Any) -> Any:
            raise NotImplementedError(f"the web bench's node has no {name}")

        return unasked


async def measure(
    genesis: Genesis, events: Sequence[SignedEvent], now_ms: int, requests: int, rounds: int
) -> dict[str, Any]:
    store = await NetworkStore.load(MemoryEventStore(), genesis)
    done = await ingest_raw(store, [e.raw for e in events], now_ms, genesis.network_id)
    assert all(r.reason is None for r in done), "the bench's network was refused"
    ballot = next(e for e in events if e.kind == "ballot.open").id.hex()
    app = create_app(PagesNode(store, now_ms))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://node") as client:
        page, data = f"/b/{ballot}", f"/v1/ballots/{ballot}"
        pages, jsons = [], []
        for _ in range(rounds):
            pages.append(await rate(client, page, requests))
            jsons.append(await rate(client, data, requests))
        sizes = {
            path: await weigh(client, path)
            for path in ("/", f"/g/{genesis.network_id.hex()}", page, data, *STATIC)
        }
    pages_per_s, json_per_s = statistics.median(pages), statistics.median(jsons)
    first_visit = sizes[page]["gzip"] + sum(sizes[path]["gzip"] for path in STATIC)
    return {
        "groups": len(store.state.groups.groups),
        "voters": sum(1 for e in events if e.kind == "vote"),
        "pages_per_s": round(pages_per_s, 1),
        "json_per_s": round(json_per_s, 1),
        "render_ratio": round(pages_per_s / json_per_s, 3),
        "bytes": sizes,
        "first_visit_gzip_bytes": first_visit,
        "first_visit_ratio": round(first_visit / sizes[data]["gzip"], 2),
    }


async def rate(client: httpx.AsyncClient, path: str, requests: int) -> float:
    """Answers per second to ``requests`` GETs of ``path``, one at a time."""
    started = time.perf_counter()
    for _ in range(requests):
        answer = await client.get(path)
        assert answer.status_code == 200, (path, answer.status_code)
    return requests / (time.perf_counter() - started)


async def weigh(client: httpx.AsyncClient, path: str) -> dict[str, int]:
    """The bytes of ``path``'s answer, raw and gzipped as a browser gets it."""
    body = (await client.get(path, headers={"accept-encoding": "identity"})).content
    return {"raw": len(body), "gzip": len(gzip.compress(body))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=200, help="GETs per measure")
    parser.add_argument("--rounds", type=int, default=5, help="alternations of the two measures")
    args = parser.parse_args()
    with progress.step("building a 3-level network and its ballot (125 voters)"):
        s, _first, _timed = build(3, 5, 5, counting=1)
    with progress.step(f"{args.rounds} rounds of {args.requests} pages and JSON answers"):
        figures = trio.run(measure, s.genesis, s.events, s.now, args.requests, args.rounds)
    json.dump({**figures, "python": platform.python_version()}, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
