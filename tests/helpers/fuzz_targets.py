"""The properties the fuzz scenario (faults_fuzz.py) checks on each input,
one per target: the decoders of untrusted bytes (``cbor``, ``event``,
``frames``, ``genesis``), the validator with standing and ring checks
(``validate``), the reconciliation (``reconcile``), bundles (``bundle``)
and node/ingest.py into a store on SQLite (``store_ingest``). Each fails on
any exception but ``Rejected`` with a reason code, and on a broken
invariant (faults_fuzz.py's docstring lists them). The sync sessions'
target is fuzz_sessions.py's.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

import cbor2
import trio
from forgery_world import World

from node.ingest import ingest_raw
from protocol import cbor, reconcile
from protocol import event as event_module
from protocol.ballots import check_vote, prepare_ring
from protocol.bundle import BundleReader
from protocol.errors import Reason, Rejected
from protocol.event import SignedEvent, parse_event
from protocol.genesis import Genesis, parse_genesis
from protocol.kinds import GOVERNANCE_KINDS
from protocol.reconcile import Reconciler, SortedKeys
from protocol.reports import check_report, prepare_report_ring
from protocol.standing import check_standing
from protocol.sync_frames import Frame, decode_frame, encode_frame
from protocol.validation import KnownEvents, validate_bytes
from storage import IngestStatus
from storage.state import NetworkStore

T = TypeVar("T")


def _same(a: Any, b: Any) -> bool:
    """Equal values of equal types all the way down (True is not 1)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
    return bool(a == b)


def _rejected_properly(exc: Rejected) -> None:
    assert isinstance(exc.reason, Reason), exc


def on_what_decodes(
    decode: Callable[[bytes], T],
) -> Callable[[Callable[[bytes, T], None]], Callable[[bytes], None]]:
    """A check of the bytes and what ``decode`` makes of them; bytes that
    ``decode`` rejects must be rejected with a reason code, and are not
    checked further."""

    def wrap(check: Callable[[bytes, T], None]) -> Callable[[bytes], None]:
        @functools.wraps(check)
        def checked(data: bytes) -> None:
            try:
                value = decode(data)
            except Rejected as exc:
                _rejected_properly(exc)
                return
            check(data, value)

        return checked

    return wrap


@on_what_decodes(cbor.decode)
def check_cbor(data: bytes, value: Any) -> None:
    assert cbor.encode(value) == data, "a decoded item re-encodes to other bytes"
    assert _same(cbor2.loads(data), value), "cbor2 reads another value"


@on_what_decodes(parse_event)
def check_event(data: bytes, event: SignedEvent) -> None:
    assert event.raw == data
    assert event.id == hashlib.sha256(data[1:-66]).digest()
    assert cbor.encode(event.event.to_value()) == data[1:-66]
    general = event_module._parse_any_layout(data)
    fast = event_module._parse_usual_layout(data)
    assert general == event and (fast is None or fast == general)


#: The reasons of decoding and the envelope: no event comes with them.
_DECODING_OR_ENVELOPE = frozenset(
    r.value for r in Reason if list(Reason).index(r) < list(Reason).index(Reason.WRONG_NETWORK)
)


@dataclass
class ValidateTarget:
    """The validator, pure: validate_bytes, then standing and ring checks
    against the forgery world's events."""

    world: World
    corpus: set[bytes]
    now_ms: int

    def __post_init__(self) -> None:
        self.held = {e.id: e for e in self.world.events}
        self.view = KnownEvents({e.id: e.ts for e in self.world.events})

    def __call__(self, item: tuple[bytes, bytes, bool]) -> None:
        data, net, resigned = item
        event, verdict = validate_bytes(data, self.view, self.now_ms, net)
        if not verdict.accepted:
            assert isinstance(verdict.reason, Reason) and verdict.action is not None
            assert (event is None) == (verdict.reason.value in _DECODING_OR_ENVELOPE)
            return
        assert event is not None
        assert resigned or data in self.corpus, "a damaged event was accepted"
        if event.kind not in GOVERNANCE_KINDS or net != self.world.net:
            return
        try:
            check_standing(event, self.held, self.world.genesis.registrars)
            ring = self.held.get(event.event.body.get("ring", b""))
            if event.kind == "vote":
                usable = ring is not None and ring.kind == "ballot.ring"
                check_vote(event, ring, prepare_ring(ring) if usable and ring else None)
            if event.kind == "report":
                usable = ring is not None and ring.kind == "report.ring"
                prepared = prepare_report_ring(ring, event) if usable and ring else None
                check_report(event, ring, prepared)
        except Rejected as exc:
            _rejected_properly(exc)


@on_what_decodes(decode_frame)
def check_frame(data: bytes, frame: Frame) -> None:
    assert encode_frame(frame) == data, "a decoded frame re-encodes to other bytes"


@dataclass
class ReconcileTarget:
    """One answer of either side to any message, over the sync vectors' keys."""

    sources: tuple[SortedKeys, SortedKeys]

    def __call__(self, item: tuple[bytes, bool]) -> None:
        message, initiator = item
        reconciler = Reconciler(initiator=initiator)
        try:
            answer = reconciler.reconcile(self.sources[0 if initiator else 1], message)
        except Rejected as exc:
            _rejected_properly(exc)
            return
        if answer is None:
            assert initiator, "only the initiator ends a session"
            return
        assert len(answer) <= reconcile.MAX_MESSAGE_SIZE
        reconcile.decode(answer)  # a peer accepts every answer


def check_bundle(item: tuple[bytes, list[int]]) -> None:
    """Items and error must not depend on how the bytes are cut."""
    data, cuts = item

    def read(pieces: Iterable[bytes]) -> tuple[list[bytes], str | None, str | None]:
        reader = BundleReader()
        items: list[bytes] = []
        try:
            for piece in pieces:
                items += reader.feed(piece)
            problem = reader.finish()
        except Rejected as exc:
            assert exc.reason is Reason.BAD_BUNDLE
            return items, exc.detail, None
        return items, None, problem

    bounds = sorted({min(c, len(data)) for c in cuts})
    pieces = [data[a:b] for a, b in itertools.pairwise([0, *bounds, len(data)])]
    whole, chunked = read([data]), read(pieces)
    assert whole == chunked, f"cut at {bounds}: {whole[1:]} != {chunked[1:]}"


@on_what_decodes(parse_genesis)
def check_genesis(data: bytes, genesis: Genesis) -> None:
    assert genesis.network_id == hashlib.sha256(data).digest()
    assert genesis.raw == data


@dataclass
class IngestTarget:
    """node/ingest.py into a NetworkStore on SQLite, from a worker thread
    (hypothesis) calling back into trio."""

    store: NetworkStore
    now_ms: int
    stored: set[bytes]
    checked: int = 0
    refolds: int = 0

    def __call__(self, raws: list[bytes]) -> None:
        results = trio.from_thread.run(self._ingest, raws)
        assert len(results) == len(raws), "one outcome per input"
        new: set[bytes] = set()
        for raw, result in zip(raws, results, strict=True):
            if result.status is IngestStatus.REJECTED:
                assert isinstance(result.reason, Reason)
                try:
                    parsed = parse_event(raw)
                except Rejected:
                    assert result.id is None
                else:
                    assert result.id == parsed.id
            elif result.status in (IngestStatus.ACCEPTED, IngestStatus.REFUSED):
                assert result.id is not None
                new.add(result.id)
            else:
                assert result.id in self.stored or result.id in new, "a duplicate of nothing"
        count, held = trio.from_thread.run(self._count, new | {r.id for r in results if r.id})
        self.stored |= new
        assert count == len(self.stored), "stored: exactly what was accepted or refused"
        assert held == self.stored & (new | {r.id for r in results if r.id})
        snapshot = self.store.state.snapshot(self.now_ms)
        json.dumps(snapshot)
        self.checked += 1
        if self.checked % 5 == 0:
            self.refolds += 1
            again = trio.from_thread.run(self._refolded)
            assert again == snapshot, "the fold of everything stored differs from the state"

    async def _ingest(self, raws: list[bytes]) -> Any:
        return await ingest_raw(self.store, raws, self.now_ms, self.store.genesis.network_id)

    async def _count(self, ids: set[bytes]) -> tuple[int, set[bytes]]:
        return await self.store.events.count(), await self.store.events.has(ids)

    async def _refolded(self) -> dict[str, Any]:
        again = await NetworkStore.load(self.store.events, self.store.genesis)
        return again.state.snapshot(self.now_ms)
