"""Fuzzing (issue 9): hypothesis on every decoder of untrusted bytes, the
validator, the store's ingest and the sync state machine, seeded with the
spec vectors.

Theory of operation
-------------------
Each *target* is a hypothesis test run through hypothesis's own API with
``settings(max_examples=...)`` and a counter in its body, so the figures
are cases actually run. The *corpus* is every event, sync message, frame,
bundle and genesis document of specs/vectors/*.json; the strategies mutate
corpus entries (bit flips, byte edits, splices from other entries,
truncation), reshape them at the CBOR level (a node replaced by a value
of any CBOR type, floats and tags included, re-encoded canonically or
not), or draw bytes from nothing. Events of the forgery world
(faults_forgery.py, where every key is known) are also reshaped and
*re-signed*, so that a validly signed event with an arbitrary body gets
past the signature into the rules against state, standing, ring checks
and the fold. At full size every corpus entry is also run as it is
(hypothesis's explicit examples).

A target fails on any exception but the documented ones (``Rejected``
with a reason code; for a sync session, what node/runtime.py catches
around one), and on a broken invariant:

- ``cbor``: what decodes re-encodes to the same bytes, and cbor2 reads the
  same value;
- ``event``: what parses is its own bytes, its id is the hash of its
  unsigned bytes, the fast and the general parsing paths agree;
- ``validate``: only corpus events (or re-signed ones) are accepted;
  standing and ring checks raise nothing but Rejected;
- ``frames`` and ``reconcile`` (protocol/sync_frames.py, reconcile.py):
  what decodes re-encodes; an answer is always a message the peer accepts;
- ``bundle``: the same items and the same error however the bytes are cut;
- ``genesis``: what parses has the hash of its bytes as network id;
- ``store_ingest``: node/ingest.py into a NetworkStore on SQLite, lists of
  arbitrary, damaged and re-signed events: one outcome per input, exactly
  the stored ones stored (never a partial write), a state that still
  snapshots to JSON, and the same state as a fold of everything stored
  from scratch (every fifth case);
- ``sync_session``: node/sync.py sessions over an in-memory stream with a
  hostile peer (frames replaced, damaged, cut short, unasked for, bogus
  lengths, the stream closed; or a peer that only sends what it drew),
  the victim as initiator or responder: the session ends (within 10 s),
  the responder never raises, the initiator raises only what the runtime
  catches, and only valid events are stored;
- ``store_model``: the SQLite store against the memory store, the
  hypothesis state machine of tests/storage/test_store_stateful.py.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import itertools
import json
import logging
import math
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, cast

import cbor2
import trio
from event_factory import note, signing_key
from faults_forgery import PlantedStore, World, _altered, build_world
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st
from hypothesis.stateful import run_state_machine_as_test
from libp2p.abc import IHost, INetStream
from libp2p.exceptions import BaseLibp2pError
from libp2p.network.stream.exceptions import StreamEOF, StreamReset
from libp2p.peer.id import ID
from libp2p.utils import encode_uvarint

from node.ingest import ingest_raw
from node.sync import SyncReport, SyncService
from protocol import cbor, reconcile
from protocol import event as event_module
from protocol.ballots import check_vote, prepare_ring
from protocol.bundle import BundleReader
from protocol.errors import Reason, Rejected
from protocol.event import SIGNATURE_DOMAIN, SignedEvent, parse_event
from protocol.genesis import parse_genesis
from protocol.kinds import GOVERNANCE_KINDS, KINDS
from protocol.reconcile import Reconciler, SortedKeys
from protocol.reports import check_report, prepare_report_ring
from protocol.standing import check_standing
from protocol.state import Governance
from protocol.sync_frames import Frame, FrameType, decode_frame, encode_frame
from protocol.validation import KnownEvents, validate_bytes
from storage import IngestStatus
from storage.state import NetworkStore, open_network_store

VECTORS = Path(__file__).resolve().parents[2] / "specs" / "vectors"
STATEFUL = Path(__file__).resolve().parents[1] / "storage" / "test_store_stateful.py"
#: Cases per target: the issue's full run (at least 100,000 in all) and CI's.
SIZES: dict[str, tuple[int, int]] = {
    "cbor": (32_000, 800),
    "event": (22_000, 600),
    "validate": (16_000, 500),
    "frames": (8_000, 300),
    "reconcile": (10_000, 400),
    "bundle": (5_000, 200),
    "genesis": (3_000, 150),
    "store_ingest": (6_000, 300),
    "sync_session": (4_000, 200),
    "store_model": (200, 8),
}
FULL_MINIMUM = 100_000
#: What node/runtime.py catches around a sync session it started.
SESSION_ERRORS = (
    BaseLibp2pError,
    Rejected,
    OSError,
    trio.TooSlowError,
    trio.BrokenResourceError,
    EOFError,
)
SESSION_DEADLINE_S = 10.0


# -- the corpus --


@dataclass(frozen=True)
class Corpus:
    """Every byte string of the spec vectors, by what it is."""

    #: Events with the network they belong to.
    events: list[tuple[bytes, bytes]]
    messages: list[bytes]
    frames: list[bytes]
    bundles: list[bytes]
    genesis: list[bytes]
    #: The keys of the largest sync vector session: (initiator's, responder's).
    sync_keys: tuple[list[reconcile.Key], list[reconcile.Key]]


def _json(name: str) -> Any:
    return json.loads((VECTORS / name).read_text(encoding="utf-8"))


def load_corpus() -> Corpus:
    """The seed corpus: specs/vectors/*.json."""
    events: list[tuple[bytes, bytes]] = []
    vectors = _json("events.json")
    net = bytes.fromhex(vectors["network_id_hex"])
    events += [(bytes.fromhex(v["input_hex"]), net) for v in vectors["valid"]]
    events += [(bytes.fromhex(v["input_hex"]), net) for v in vectors["invalid"]]
    for name in ("groups.json", "ballots.json", "accountability.json"):
        for scenario in _json(name)["scenarios"]:
            scenario_net = parse_genesis(bytes.fromhex(scenario["genesis_hex"])).network_id
            events += [(bytes.fromhex(e["event_hex"]), scenario_net) for e in scenario["events"]]
    bundle = _json("bundle.json")
    bundles = [
        bytes.fromhex(b["bundle_hex"]) for part in ("valid", "cut", "invalid") for b in bundle[part]
    ]
    for valid in bundle["valid"]:
        events += [
            (bytes.fromhex(item), bytes.fromhex(valid["header"]["net_hex"]))
            for item in valid["items_hex"]
            if len(item) > 64 * 2
        ]
    sync = _json("sync.json")
    messages = [bytes.fromhex(m) for s in sync["sessions"] for m in s["messages_hex"]]
    messages += [bytes.fromhex(m["message_hex"]) for m in sync["invalid"]]
    frames = [
        bytes.fromhex(f["frame_hex"]) for part in ("valid", "invalid") for f in sync["frames"][part]
    ]
    genesis = [
        bytes.fromhex(g["input_hex"])
        for part in ("valid", "invalid")
        for g in _json("genesis.json")[part]
    ]
    genesis.append(bytes.fromhex(vectors["genesis_hex"]))
    largest = max(sync["sessions"], key=lambda s: len(s["messages_hex"]))
    keys = (_sync_keys(largest["initiator_numbers"]), _sync_keys(largest["responder_numbers"]))
    return Corpus(events, messages, frames, bundles, genesis, keys)


def _sync_keys(numbers: Sequence[Sequence[int]]) -> list[reconcile.Key]:
    """The keys of specs/vectors/sync.json's rule (its ``description``)."""
    return [
        (1767225600000 + (n * 37) % 500, hashlib.sha256(b"sync vector %d" % n).digest())
        for start, stop, step in numbers
        for n in range(start, stop, step)
    ]


# -- strategies --

_OPS = ("flip", "set", "insert", "delete", "truncate", "splice", "repeat")


@st.composite
def mutated(draw: st.DrawFn, seeds: Sequence[bytes]) -> bytes:
    """A corpus entry damaged the ways links and attackers do, 1 to 4 times."""
    data = bytearray(draw(st.sampled_from(seeds)))
    for _ in range(draw(st.integers(1, 4))):
        where = draw(st.integers(0, len(data)))
        how = draw(st.sampled_from(_OPS))
        if how == "flip" and where < len(data):
            data[where] ^= 1 << draw(st.integers(0, 7))
        elif how == "set" and where < len(data):
            data[where] = draw(
                st.sampled_from(
                    [0, 0x18, 0x1F, 0x5F, 0x7F, 0x9F, 0xBF, 0xFF, draw(st.integers(0, 255))]
                )
            )
        elif how == "insert":
            data[where:where] = draw(st.binary(min_size=1, max_size=9))
        elif how == "delete":
            del data[where : where + draw(st.integers(1, 9))]
        elif how == "truncate":
            del data[where:]
        elif how == "splice":
            other = draw(st.sampled_from(seeds))
            start = draw(st.integers(0, len(other)))
            data[where:where] = other[start : start + draw(st.integers(1, 64))]
        elif how == "repeat" and where < len(data):
            data[where:where] = data[where : where + draw(st.integers(1, 16))]
    return bytes(data)


def _cbor_leaves() -> st.SearchStrategy[Any]:
    return st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-(2**64), 2**64 - 1),
        st.sampled_from([0, 23, 24, 255, 256, 2**32, 2**53, 2**63 - 1, 2**63, -(2**63) - 1]),
        st.binary(max_size=40),
        st.sampled_from([bytes(32), b"\xff" * 32, bytes(64), bytes(31), bytes(33)]),
        st.text(max_size=20),
        st.floats(allow_nan=True),
        st.just(cbor2.undefined),
        st.integers(0, 19).map(cbor2.CBORSimpleValue),
    )


CBOR_VALUES = st.recursive(
    _cbor_leaves(),
    lambda children: st.one_of(
        st.lists(children, max_size=5),
        st.dictionaries(st.text(max_size=8), children, max_size=5),
        st.dictionaries(st.integers(-3, 3), children, max_size=2),
        st.builds(cbor2.CBORTag, st.integers(0, 300), children),
    ),
    max_leaves=12,
)


def _replace(
    draw: st.DrawFn, value: Any, candidates: st.SearchStrategy[Any], depth: int = 0
) -> Any:
    """``value`` with one node (maybe itself) replaced, removed or added to."""
    descend = isinstance(value, (list, dict)) and value and depth < 8
    if descend and draw(st.integers(0, 3)):
        if isinstance(value, list):
            index = draw(st.integers(0, len(value) - 1))
            items = list(value)
            items[index] = _replace(draw, value[index], candidates, depth + 1)
            return items
        key = draw(st.sampled_from(sorted(value, key=repr)))
        how = draw(st.sampled_from(["replace", "replace", "drop", "add"]))
        mapping = dict(value)
        if how == "drop":
            del mapping[key]
        elif how == "add":
            mapping[draw(st.text(min_size=1, max_size=8))] = draw(candidates)
        else:
            mapping[key] = _replace(draw, value[key], candidates, depth + 1)
        return mapping
    return draw(candidates)


def reshaped(seeds: Sequence[bytes]) -> st.SearchStrategy[bytes]:
    """A corpus entry with one CBOR node replaced by any value, re-encoded
    canonically or not (cbor2 writes floats, tags, simple values); entries
    that are no CBOR item at all are left to ``mutated``."""
    values = []
    for seed in seeds:
        with contextlib.suppress(Exception):
            values.append(cbor2.loads(seed))

    @st.composite
    def reshape(draw: st.DrawFn) -> bytes:
        value = draw(st.sampled_from(values))
        changed = _replace(draw, value, CBOR_VALUES)
        try:
            return bytes(cbor2.dumps(changed, canonical=draw(st.booleans())))
        except (cbor2.CBOREncodeError, TypeError, ValueError, OverflowError):
            return bytes(cbor2.dumps(value))

    return reshape() if values else st.binary(max_size=64)


def corpus_bytes(seeds: Sequence[bytes], *, max_size: int = 300) -> st.SearchStrategy[bytes]:
    return st.one_of(mutated(seeds), reshaped(seeds), st.binary(max_size=max_size))


@dataclass(frozen=True)
class Resigner:
    """Events of the forgery world re-shaped and re-signed by their author
    (or another known key): validly signed, anything inside."""

    world: World

    @property
    def known_bytes(self) -> list[bytes]:
        """Ids, groups and keys of the world: the values a field most
        usefully takes."""
        events = self.world.events
        return sorted(
            {e.id for e in events}
            | {e.group for e in events}
            | set(self.world.keys)
            | {self.world.net}
        )

    def strategy(self) -> st.SearchStrategy[bytes]:
        known = self.known_bytes
        plausible = st.one_of(
            st.sampled_from(known),
            st.sampled_from(known).map(lambda b: b[:-1] + bytes([b[-1] ^ 1])),
            st.lists(st.sampled_from(known), max_size=4).map(lambda xs: sorted(set(xs))),
            st.integers(-2, 2**53 + 1),
            st.sampled_from([0, 1, 2, 100, 2**32 - 1, self.world.scenario.now]),
            st.text(max_size=12),
            st.sampled_from(sorted(KINDS)),
            CBOR_VALUES,
        )

        @st.composite
        def resigned(draw: st.DrawFn) -> bytes:
            original = draw(st.sampled_from(self.world.events))
            value = original.event.to_value()
            where = draw(st.sampled_from(["body"] * 6 + ["ts", "refs", "group", "kind", "all"]))
            changed: Any
            if where == "all":
                changed = _replace(draw, value, plausible)
            elif where == "body":
                body = dict(value["body"])
                field = draw(st.sampled_from(sorted(body) or ["x"]))
                how = draw(st.sampled_from(["alter", "alter", "replace", "drop", "add"]))
                if field not in body:
                    how = "add"
                if how == "alter":
                    body[field] = draw(st.sampled_from(_altered(body[field]) or [None]))
                elif how == "replace":
                    body[field] = _replace(draw, body[field], plausible)
                elif how == "drop":
                    del body[field]
                else:
                    body[draw(st.text(min_size=1, max_size=8))] = draw(plausible)
                changed = {**value, "body": body}
            else:
                nearby = st.one_of(
                    st.sampled_from(_altered(value[where]) or [value[where]]), plausible
                )
                changed = {**value, where: draw(nearby)}
            key = self.world.keys[original.author]
            if isinstance(changed, dict) and draw(st.integers(0, 9)) == 0:
                key = self.world.keys[draw(st.sampled_from(sorted(self.world.keys)))]
                changed["author"] = bytes(key.verify_key)
            try:
                unsigned = bytes(cbor2.dumps(changed, canonical=True))
            except (cbor2.CBOREncodeError, TypeError, ValueError, OverflowError):
                unsigned = cbor.encode(value)
            signature = key.sign(SIGNATURE_DOMAIN + hashlib.sha256(unsigned).digest()).signature
            return b"\x82" + unsigned + b"\x58\x40" + signature

        return resigned()


# -- running a target --


@dataclass
class Outcome:
    """A target's figures."""

    name: str
    cases: int = 0
    failures: int = 0
    error: str | None = None
    example: str | None = None
    elapsed_s: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)


def run_target(
    name: str,
    strategy: st.SearchStrategy[Any],
    check: Callable[[Any], None],
    cases: int,
    seed: int,
    examples: Sequence[Any] = (),
) -> Outcome:
    """``check`` on ``cases`` drawn inputs (and the explicit ``examples``),
    through hypothesis's API; a failure is shrunk, and the smallest failing
    input reported."""
    outcome = Outcome(name)
    failing: list[Any] = []
    started = time.perf_counter()

    def body(data: Any) -> None:
        outcome.cases += 1
        try:
            check(data)
        except BaseException:
            failing.append(data)
            raise

    test = given(strategy)(body)
    for value in examples:
        test = example(value)(test)
    test = settings(
        max_examples=cases,
        database=None,
        deadline=None,
        derandomize=False,
        suppress_health_check=list(HealthCheck),
        phases=(Phase.explicit, Phase.generate, Phase.shrink),
        report_multiple_bugs=False,
        print_blob=False,
    )(test)
    test = hypothesis_seed(seed)(test)
    try:
        test()
    except Exception as exc:
        outcome.failures = 1
        outcome.error = f"{type(exc).__name__}: {exc}"[:600]
        if failing:
            outcome.example = repr(failing[-1])[:600]
    outcome.elapsed_s = round(time.perf_counter() - started, 1)
    return outcome


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


# -- the pure targets --


def check_cbor(data: bytes) -> None:
    try:
        value = cbor.decode(data)
    except Rejected as exc:
        _rejected_properly(exc)
        return
    assert cbor.encode(value) == data, "a decoded item re-encodes to other bytes"
    assert _same(cbor2.loads(data), value), "cbor2 reads another value"


def check_event(data: bytes) -> None:
    try:
        event = parse_event(data)
    except Rejected as exc:
        _rejected_properly(exc)
        return
    assert event.raw == data
    assert event.id == hashlib.sha256(data[1:-66]).digest()
    assert cbor.encode(event.event.to_value()) == data[1:-66]
    general = event_module._parse_any_layout(data)
    fast = event_module._parse_usual_layout(data)
    assert general == event and (fast is None or fast == general)


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


_DECODING_OR_ENVELOPE = frozenset(
    r.value for r in Reason if list(Reason).index(r) < list(Reason).index(Reason.WRONG_NETWORK)
)


def check_frame(data: bytes) -> None:
    try:
        frame = decode_frame(data)
    except Rejected as exc:
        _rejected_properly(exc)
        return
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


def check_genesis(data: bytes) -> None:
    try:
        genesis = parse_genesis(data)
    except Rejected as exc:
        _rejected_properly(exc)
        return
    assert genesis.network_id == hashlib.sha256(data).digest()
    assert genesis.raw == data


# -- the store's ingest --


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


# -- sync sessions with a hostile peer --


class _Conn:
    def __init__(self, peer_id: ID) -> None:
        self.peer_id = peer_id


class PipeStream:
    """One end of an in-memory stream, as node/sync.py uses a libp2p one;
    ``tamper`` rewrites what this end writes."""

    def __init__(
        self,
        peer_id: ID,
        inbox: trio.MemoryReceiveChannel[bytes],
        outbox: trio.MemorySendChannel[bytes],
        tamper: Callable[[bytes], list[bytes | None]] | None = None,
    ) -> None:
        self.muxed_conn = _Conn(peer_id)
        self._inbox = inbox
        self._outbox = outbox
        self._buffer = bytearray()
        self._tamper = tamper
        self._reset = False

    async def read(self, n: int | None = None) -> bytes:
        if self._reset:
            raise StreamReset("reset")
        while not self._buffer:
            try:
                self._buffer += await self._inbox.receive()
            except (trio.EndOfChannel, trio.ClosedResourceError):
                raise StreamEOF("the peer closed") from None
        size = len(self._buffer) if n is None else min(n, len(self._buffer))
        data = bytes(self._buffer[:size])
        del self._buffer[:size]
        return data

    async def write(self, data: bytes) -> None:
        pieces: list[bytes | None] = [data] if self._tamper is None else self._tamper(data)
        for piece in pieces:
            if piece is None:  # the tamperer closes the stream
                await self.close()
                return
            try:
                await self._outbox.send(piece)
            except (trio.BrokenResourceError, trio.ClosedResourceError):
                raise StreamReset("the peer is gone") from None

    async def close(self) -> None:
        await self._outbox.aclose()

    async def reset(self) -> None:
        self._reset = True
        await self._outbox.aclose()
        await self._inbox.aclose()


def pipe(
    a: ID, b: ID, tamper_b: Callable[[bytes], list[bytes | None]] | None
) -> tuple[PipeStream, PipeStream]:
    """Two ends: ``a`` talks to ``b``; what ``b`` writes goes through ``tamper_b``."""
    to_b_send, to_b_receive = trio.open_memory_channel[bytes](math.inf)
    to_a_send, to_a_receive = trio.open_memory_channel[bytes](math.inf)
    return (
        PipeStream(b, to_a_receive, to_b_send),
        PipeStream(a, to_b_receive, to_a_send, tamper_b),
    )


class _Host:
    """What ``SyncService.sync_with`` needs of a host: a stream to the peer."""

    def __init__(self, stream: PipeStream) -> None:
        self.stream = stream

    async def new_stream(self, peer: ID, protocols: Sequence[str]) -> PipeStream:
        return self.stream


def _host(stream: PipeStream) -> IHost:
    """A stand-in for the libp2p host (only ``new_stream`` is called)."""
    return cast(IHost, _Host(stream))


def _unframe(data: bytes) -> bytes | None:
    """The message of one msgio write (varint length, then the message)."""
    length, shift, at = 0, 0, 0
    while at < len(data):
        byte = data[at]
        length |= (byte & 0x7F) << shift
        at += 1
        if not byte & 0x80:
            return data[at:] if len(data) - at == length else None
        shift += 7
    return None


def _framed(message: bytes) -> bytes:
    return bytes(encode_uvarint(len(message))) + message


@dataclass(frozen=True)
class Tampering:
    """What a hostile peer does to its k-th frame: ``op`` with ``payload``."""

    at: int
    op: str
    payload: bytes = b""


@dataclass(frozen=True)
class SessionCase:
    victim_initiates: bool
    scoped: bool
    tamperings: tuple[Tampering, ...]
    #: A peer that only sends these frames, whatever it hears (if not empty).
    script: tuple[bytes, ...] = ()


def _tamperer(tamperings: Sequence[Tampering]) -> Callable[[bytes], list[bytes | None]]:
    by_frame = {t.at: t for t in tamperings}
    written = itertools.count()

    def tamper(data: bytes) -> list[bytes | None]:
        t = by_frame.get(next(written))
        message = _unframe(data)
        if t is None or message is None:
            return [data]
        if t.op == "replace":
            return [_framed(t.payload)]
        if t.op == "extra":
            return [data, _framed(t.payload)]
        if t.op == "mutate":
            return [_framed(_xor(message, t.payload))]
        if t.op == "cut":
            return [data[: max(1, len(data) * t.payload[0] // 256)] if t.payload else b"", None]
        if t.op == "bogus_length":
            return [bytes(encode_uvarint(len(message) + 1 + len(t.payload))) + message, None]
        if t.op == "huge_length":
            return [bytes(encode_uvarint(2**40)) + message]
        if t.op == "split":
            return [data[:1], data[1:]]
        return [None]  # close

    return tamper


def _xor(message: bytes, mask: bytes) -> bytes:
    if not mask or not message:
        return message + mask
    out = bytearray(message)
    for i, m in enumerate(mask):
        out[(i * 7919 + m) % len(out)] ^= m or 1
    return bytes(out)


@dataclass
class SessionTarget:
    """A victim's sync session against a hostile peer (see the docstring)."""

    world: World
    governance: Governance
    now_ms: int
    valid: set[bytes] = field(default_factory=set)
    sessions: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)

    def __call__(self, case: SessionCase) -> None:
        trio.from_thread.run(self._session, case)

    def _store(self, extra: Sequence[SignedEvent]) -> NetworkStore:
        store = NetworkStore(PlantedStore(), self.governance)
        assert isinstance(store.events, PlantedStore)
        for event in [*self.world.events, *extra]:
            store.events.plant(event)
        return store

    async def _session(self, case: SessionCase) -> None:
        self.sessions += 1
        n = self.sessions
        base = self.world.bases[0]
        mine = [
            note(
                self.now_ms - 5_000 + i,
                key=signing_key("fuzz victim"),
                group=base,
                net=self.world.net,
                text=f"v{n}.{i}",
            )
            for i in range(3)
        ]
        theirs = [
            note(
                self.now_ms - 4_000 + i,
                key=signing_key("fuzz peer"),
                group=base,
                net=self.world.net,
                text=f"p{n}.{i}",
            )
            for i in range(4)
        ]
        valid = {e.id for e in [*self.world.events, *mine, *theirs]}
        victim_store, peer_store = self._store(mine), self._store(theirs)
        victim = SyncService(victim_store, now_ms=lambda: self.now_ms)
        peer = SyncService(peer_store, now_ms=lambda: self.now_ms)
        victim_id, peer_id = ID(b"fuzz victim"), ID(b"fuzz peer")
        tamper = _tamperer(case.tamperings)
        victim_end, peer_end = pipe(victim_id, peer_id, tamper)
        scope = [self.world.net, base] if case.scoped else None
        outcome = "ok"

        async def victim_side() -> None:
            nonlocal outcome
            if case.victim_initiates:
                try:
                    report = await victim.sync_with(_host(victim_end), peer_id, scope)
                except SESSION_ERRORS as exc:
                    outcome = type(exc).__name__
                else:
                    assert isinstance(report, SyncReport)
            else:
                await victim.answer(cast(INetStream, victim_end))  # never raises

        async def peer_side() -> None:
            if case.script:
                with contextlib.suppress(*SESSION_ERRORS):
                    for frame in case.script:
                        await peer_end.write(_framed(frame))
                    await peer_end.close()
                return
            with contextlib.suppress(*SESSION_ERRORS):
                if case.victim_initiates:
                    await peer.answer(cast(INetStream, peer_end))
                else:
                    await peer.sync_with(_host(peer_end), victim_id, scope)

        with trio.fail_after(SESSION_DEADLINE_S):
            async with trio.open_nursery() as nursery:
                nursery.start_soon(peer_side)
                await victim_side()
                # The victim is done: whatever the peer waits for, it is over.
                await victim_end.reset()
        self.outcomes[outcome] = self.outcomes.get(outcome, 0) + 1
        rows = await victim_store.events.query(limit=10_000)
        strays = [row.id for row in rows if row.id not in valid]
        assert not strays, f"{len(strays)} invalid events stored"


def session_cases(corpus: Corpus, events: Sequence[bytes]) -> st.SearchStrategy[SessionCase]:
    frames = st.one_of(
        mutated(corpus.frames),
        reshaped(corpus.frames),
        st.builds(
            _frame_of,
            st.sampled_from(list(FrameType)),
            st.one_of(
                mutated(corpus.messages),
                st.lists(mutated(events), max_size=3),
                st.lists(st.sampled_from([bytes(32), b"\xff" * 32]), max_size=3),
                CBOR_VALUES,
            ),
        ),
        st.binary(max_size=64),
    )
    ops = st.sampled_from(
        ["replace", "extra", "mutate", "cut", "bogus_length", "huge_length", "split", "close"]
    )
    tampering = st.builds(
        Tampering, st.integers(0, 8), ops, st.one_of(frames, st.binary(min_size=1, max_size=8))
    )
    reactive = st.builds(
        SessionCase, st.booleans(), st.booleans(), st.lists(tampering, max_size=3).map(tuple)
    )
    scripted = st.builds(
        SessionCase,
        st.booleans(),
        st.booleans(),
        st.just(()),
        st.lists(frames, min_size=1, max_size=6).map(tuple),
    )
    return st.one_of(reactive, scripted)


def _frame_of(kind: FrameType, payload: Any) -> bytes:
    try:
        return bytes(cbor2.dumps([int(kind), payload], canonical=True))
    except (cbor2.CBOREncodeError, TypeError, ValueError, OverflowError):
        return encode_frame(Frame(FrameType.END))


@contextlib.contextmanager
def quiet_sync_logs() -> Iterator[None]:
    """The sync module logs every broken session; thousands of them are
    the point here, not news."""
    logger = logging.getLogger("node.sync")
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.setLevel(level)


# -- the state machine of the store --


def store_model(cases: int) -> Outcome:
    """tests/storage/test_store_stateful.py's SqliteMatchesMemory, with
    ``cases`` examples (each a run of up to 20 steps); derandomized, as the
    test is, so it does not take the scenario's seed."""
    outcome = Outcome("store_model")
    started = time.perf_counter()
    spec = importlib.util.spec_from_file_location("ayllu_store_stateful", STATEFUL)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    steps = 0

    class Counted(module.SqliteMatchesMemory):  # type: ignore[name-defined,misc]
        def __init__(self) -> None:
            super().__init__()
            outcome.cases += 1

        def check_invariants(self, *args: Any, **kwargs: Any) -> None:
            # Once before the first step, then after each.
            nonlocal steps
            steps += 1
            super().check_invariants(*args, **kwargs)

    try:
        run_state_machine_as_test(
            Counted,
            settings=settings(
                max_examples=cases,
                stateful_step_count=20,
                database=None,
                deadline=None,
                derandomize=True,
                suppress_health_check=list(HealthCheck),
            ),
        )
    except Exception as exc:
        outcome.failures = 1
        outcome.error = f"{type(exc).__name__}: {exc}"[:600]
    outcome.extra["steps"] = steps - outcome.cases
    outcome.elapsed_s = round(time.perf_counter() - started, 1)
    return outcome


# -- the scenario --


def fuzz(*, full: bool, seed: int = 1) -> dict[str, Any]:
    """Every target at its size (``SIZES``); see the module's docstring."""
    started = time.perf_counter()
    size = {name: sizes[0 if full else 1] for name, sizes in SIZES.items()}
    corpus = load_corpus()
    world = build_world()
    now_ms = world.scenario.now + 60_000
    raws = [raw for raw, _ in corpus.events]
    event_bytes = corpus_bytes(raws, max_size=400)
    outcomes: list[Outcome] = []

    def explicit(values: Sequence[Any]) -> Sequence[Any]:
        return values if full else ()

    others = corpus.messages + corpus.frames + corpus.genesis + corpus.bundles
    outcomes.append(
        run_target(
            "cbor",
            st.one_of(event_bytes, corpus_bytes(others)),
            check_cbor,
            size["cbor"],
            seed,
            explicit(raws + corpus.messages + corpus.frames + corpus.genesis),
        )
    )
    outcomes.append(
        run_target("event", event_bytes, check_event, size["event"], seed, explicit(raws))
    )
    resigner = Resigner(world)
    world_raws = [e.raw for e in world.events]
    validate = ValidateTarget(world, set(raws) | set(world_raws), now_ms)
    by_net = dict(corpus.events)
    outcomes.append(
        run_target(
            "validate",
            st.one_of(
                st.tuples(
                    corpus_bytes(raws),
                    st.sampled_from(sorted(set(by_net.values()))),
                    st.just(False),
                ),
                st.tuples(resigner.strategy(), st.just(world.net), st.just(True)),
                st.tuples(mutated(world_raws), st.just(world.net), st.just(False)),
            ),
            validate,
            size["validate"],
            seed,
            explicit([(raw, net, False) for raw, net in corpus.events]),
        )
    )
    outcomes.append(
        run_target(
            "frames",
            corpus_bytes(corpus.frames),
            check_frame,
            size["frames"],
            seed,
            explicit(corpus.frames),
        )
    )
    sources = (SortedKeys(corpus.sync_keys[0]), SortedKeys(corpus.sync_keys[1]))
    outcomes.append(
        run_target(
            "reconcile",
            st.tuples(corpus_bytes(corpus.messages, max_size=200), st.booleans()),
            ReconcileTarget(sources),
            size["reconcile"],
            seed,
            explicit([(m, i) for m in corpus.messages for i in (True, False)]),
        )
    )
    outcomes.append(
        run_target(
            "bundle",
            st.tuples(corpus_bytes(corpus.bundles), st.lists(st.integers(0, 600), max_size=6)),
            check_bundle,
            size["bundle"],
            seed,
            explicit([(b, [1, 7, 50]) for b in corpus.bundles]),
        )
    )
    outcomes.append(
        run_target(
            "genesis",
            corpus_bytes(corpus.genesis),
            check_genesis,
            size["genesis"],
            seed,
            explicit(corpus.genesis),
        )
    )
    outcomes += trio.run(partial(_with_stores, world, corpus, size, seed, now_ms, full, resigner))
    outcomes.append(store_model(size["store_model"]))

    total = sum(o.cases for o in outcomes)
    failures = sum(o.failures for o in outcomes)
    minimum = FULL_MINIMUM if full else sum(s[1] for s in SIZES.values()) // 2
    return {
        "passed": failures == 0 and total >= minimum,
        "criterion": (
            "no exception but the documented ones (Rejected with a reason code; a sync "
            "session's errors the runtime catches) and no broken invariant, over "
            f"at least {minimum:,} cases"
        ),
        "cases_by_target": {o.name: o.cases for o in outcomes},
        "total_cases": total,
        "failures": failures,
        "failed": [
            {"target": o.name, "error": o.error, "example": o.example}
            for o in outcomes
            if o.failures
        ],
        "elapsed_s_by_target": {o.name: o.elapsed_s for o in outcomes},
        "details": {o.name: o.extra for o in outcomes if o.extra},
        "corpus": {
            "events": len(corpus.events),
            "messages": len(corpus.messages),
            "frames": len(corpus.frames),
            "bundles": len(corpus.bundles),
            "genesis": len(corpus.genesis),
        },
        "full": full,
        "seed": seed,
        "elapsed_s": round(time.perf_counter() - started, 1),
    }


async def _with_stores(
    world: World,
    corpus: Corpus,
    size: dict[str, int],
    seed: int,
    now_ms: int,
    full: bool,
    resigner: Resigner,
) -> list[Outcome]:
    """The targets that need trio: hypothesis runs on a worker thread and
    calls back into trio for each case."""
    outcomes: list[Outcome] = []
    raws = [raw for raw, _ in corpus.events]
    world_raws = [e.raw for e in world.events]
    with tempfile.TemporaryDirectory(prefix="ayllu-fuzz-") as tmp:
        async with open_network_store(Path(tmp) / "fuzz.sqlite3", world.genesis) as store:
            await store.ingest(world.events, now_ms)
            ingest = IngestTarget(store, now_ms, {e.id for e in world.events})
            items = st.one_of(
                resigner.strategy(),
                mutated(world_raws),
                st.sampled_from(world_raws),
                corpus_bytes(raws),
                st.binary(max_size=80),
            )
            outcome = await trio.to_thread.run_sync(
                run_target,
                "store_ingest",
                st.lists(items, min_size=1, max_size=5),
                ingest,
                size["store_ingest"],
                seed,
            )
            outcome.extra = {
                "refolds_compared": ingest.refolds,
                "stored_at_start": len(world.events),
                "stored_at_end": len(ingest.stored),
            }
            outcomes.append(outcome)
    governance = Governance(world.genesis)
    governance.add(world.events)
    session = SessionTarget(world, governance, now_ms)
    with quiet_sync_logs():
        outcome = await trio.to_thread.run_sync(
            run_target,
            "sync_session",
            session_cases(corpus, raws),
            session,
            size["sync_session"],
            seed,
        )
    outcome.extra = {"victim_outcomes": session.outcomes}
    outcomes.append(outcome)
    return outcomes


SCENARIOS = {"fuzz": fuzz}
