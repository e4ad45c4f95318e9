"""The ways into a victim node that take one event at a time or a file
(faults_forgery.py): the pure reference (``protocol``), node/ingest.py
(``ingest``), the HTTP API (``api``), gossip's topic validator
(``gossip``) and a bundle carried by hand (``bridge``). The ways in by
sync are forgery_sync.py's.

Each returns the ``Tally`` of a victim's cases; the reference sets the
reason every other way in must give.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx
from forgery_tally import Tally, parsed, published_after, watching
from forgery_victims import STORED, Victim, VictimSpec, reference
from forgery_world import World
from libp2p.peer.id import ID
from libp2p.pubsub.pb import rpc_pb2

from node.api import create_app
from node.bridge import import_bundle
from node.ingest import ingest_raw
from protocol.bundle import EVENTS_FORMAT, Header, write_bundle
from protocol.errors import Reason
from protocol.event import parse_event
from storage import IngestStatus


def through_protocol(world: World, spec: VictimSpec, now_ms: int) -> Tally:
    """The reference: each case's outcome must be one the specs allow; it
    sets ``spec.expected``, which every other way in must then give."""
    tally = Tally()
    spec.expected = []
    for case in spec.cases:
        status, reason = reference(world, spec.prefix, case.raw, now_ms)
        spec.expected.append(reason)
        tally.count(case, status, reason)
        if reason not in case.reasons or status is not case.status:
            tally.mismatches.append(
                f"protocol {case.target} {case.family}: {status.value} "
                f"{reason} (allowed: {sorted(case.reasons)})"
            )
    status, _ = reference(world, spec.prefix, spec.control.raw, now_ms)
    tally.controls += 1
    tally.controls_ok += status in STORED
    return tally


async def through_ingest(v: Victim) -> Tally:
    """node/ingest.py ``ingest_raw``, the way of ``ayllu event import``."""
    tally = Tally()

    async def control() -> bool:
        [result] = await ingest_raw(v.store, [v.spec.control.raw], v.now_ms, v.net)
        return result.status in STORED

    async with watching(v, tally, control):
        results = await ingest_raw(v.store, [c.raw for c in v.spec.cases], v.now_ms, v.net)
        for (case, expected), result in zip(v.spec.pairs(), results, strict=True):
            tally.outcome(case, expected, result.status, result.reason, "ingest")
    return tally


_HTTP_STATUS = {
    422: IngestStatus.REJECTED,
    202: IngestStatus.REFUSED,
    201: IngestStatus.ACCEPTED,
    200: IngestStatus.DUPLICATE,
}


async def through_api(v: Victim) -> Tally:
    """POST /v1/events, as CBOR and as JSON by turns: the status code and
    the reason code of the answer."""
    tally = Tally()
    transport = httpx.ASGITransport(app=create_app(v.node))
    async with httpx.AsyncClient(transport=transport, base_url="http://victim") as client:

        async def post(raw: bytes, index: int) -> httpx.Response:
            if index % 2:
                return await client.post("/v1/events", json={"event": raw.hex()})
            return await client.post(
                "/v1/events", content=raw, headers={"content-type": "application/cbor"}
            )

        async def control() -> bool:
            return (await post(v.spec.control.raw, 0)).status_code == 201

        async with watching(v, tally, published_after(v, control)):
            for index, (case, expected) in enumerate(v.spec.pairs()):
                response = await post(case.raw, index)
                answer = response.json()
                status = _HTTP_STATUS.get(response.status_code, IngestStatus.REJECTED)
                text = answer["error"]["reason"] if "error" in answer else answer.get("reason")
                reason = Reason(text) if text in set(Reason) else None
                if (
                    response.status_code == 422
                    and answer.get("id") is None
                    and parsed(case.raw) is not None
                ):
                    tally.mismatches.append(f"api {case.target} {case.family}: no id")
                tally.outcome(case, expected, status, reason, "api")
    return tally


async def through_gossip(v: Victim, forwarder: ID) -> Tally:
    """node/gossip.py's topic validator, each case a message from
    ``forwarder``: a rejected case is not forwarded and costs the forwarder
    score; a refused one (stored, no effect) is forwarded like any stored
    event (specs/network.md section 4.3). The validator says yes or no;
    the reason is read from the node's count of rejections by reason, and
    a refused case's from the state."""
    tally = Tally()
    gossip = v.node.gossip
    assert gossip is not None and gossip.router.scorer is not None
    scorer = gossip.router.scorer
    topic = sorted(v.node.position.topics)[0]

    async def validate(raw: bytes) -> bool:
        message = rpc_pb2.Message(data=raw, topicIDs=[topic])
        return await gossip._validate(topic, forwarder, message)

    async def control() -> bool:
        return await validate(v.spec.control.raw)

    counted = Counter(v.node.rejected_by_reason)
    async with watching(v, tally, published_after(v, control)):
        for case, expected in v.spec.pairs():
            penalty = scorer.behavior_penalty[forwarder]
            relayed = await validate(case.raw)
            penalized = scorer.behavior_penalty[forwarder] > penalty
            tally.blamed += penalized
            reason: Reason | None = expected
            if relayed:
                refusal = v.store.governance.refusal(parse_event(case.raw).id)
                status = IngestStatus.ACCEPTED if refusal is None else IngestStatus.REFUSED
                reason = None if refusal is None else refusal.reason
            else:
                status = IngestStatus.REJECTED
            if penalized != (not relayed and expected is not Reason.MISSING_REFS):
                tally.mismatches.append(
                    f"gossip {case.target} {case.family}: penalized {penalized}, relayed {relayed}"
                )
            tally.outcome(case, expected, status, reason, "gossip")
    seen = Counter(v.node.rejected_by_reason) - counted
    want = Counter(
        r.value for c, r in v.spec.pairs() if c.status is IngestStatus.REJECTED and r is not None
    )
    if seen != want:
        tally.mismatches.append(f"gossip {v.spec.name}: reasons {dict(seen)} != {dict(want)}")
    return tally


async def through_bridge(v: Victim, directory: Path) -> Tally:
    """A bundle of every case, carried by hand and imported (node/bridge.py)."""
    tally = Tally()

    async def carry(raws: Sequence[bytes], name: str) -> Any:
        path = directory / f"{v.spec.name}-{name}.bundle"
        header = Header(EVENTS_FORMAT, v.net, v.now_ms, len(raws))
        path.write_bytes(b"".join(write_bundle(header, raws)))
        return await import_bundle(v.store, path, now_ms=v.now_ms)

    async def control() -> bool:
        imported = await carry([v.spec.control.raw], "control")
        return bool(imported.counts.get("accepted", 0) + imported.counts.get("refused", 0) == 1)

    async with watching(v, tally, control):
        imported = await carry([c.raw for c in v.spec.cases], "cases")
        want: Counter[str] = Counter()
        for _, expected in v.spec.pairs():
            tally.cases += 1
            if expected is not None:
                want[expected.value] += 1
        tally.reasons.update(want)
        rejected = sum(1 for c in v.spec.cases if c.status is IngestStatus.REJECTED)
        refused = len(v.spec.cases) - rejected
        counts = imported.counts
        if (
            Counter(imported.reasons) != want
            or counts.get("rejected", 0) != rejected
            or counts.get("refused", 0) != refused
        ):
            tally.mismatches.append(
                f"bridge {v.spec.name}: {counts} {imported.reasons} != {dict(want)}"
            )
        tally.accepted += counts.get("accepted", 0) + counts.get("duplicate", 0)
    return tally
