"""Sync sessions over libp2p streams: what makes gossip's losses good.

Theory of operation
-------------------
A node that may have missed events (it was offline, or a parent drops its
messages) opens a session with a peer on ``/ayllu/sync/1.0.0``
(specs/sync.md section 6). As initiator it reconciles its store with the
peer's (protocol/reconcile.py; each step reads the store in one call on the
store's thread), fetches the events it lacks in batches, ingests them
through the same validation path as everything else (node/ingest.py), and
offers the peer the events the peer lacks. Fetched events come in id order,
not in the order they depend on each other, so an event whose refs have
not been stored yet is held and ingested again once they are: nothing is
committed before what it depends on.

As responder it answers any peer, within limits: a frame size, the rounds
of a session, a deadline for the whole session, and a few sessions at a
time per peer. A peer that breaks the protocol loses its session (the
stream is reset) and nothing else: the node goes on serving everyone.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable, Collection, Sequence
from dataclasses import dataclass, field
from functools import partial

import trio
from libp2p.abc import IHost, INetStream
from libp2p.exceptions import BaseLibp2pError
from libp2p.io.msgio import VarIntLengthMsgReadWriter
from libp2p.io.utils import read_exactly
from libp2p.peer.id import ID
from libp2p.peer.peerstore import PeerStoreError

from node.ingest import ingest_settling
from protocol.errors import Reason, Rejected
from protocol.event import SignedEvent, parse_event
from protocol.reconcile import RangeSource, Reconciler
from protocol.sync_frames import (
    MAX_FRAME_SIZE,
    MAX_GET,
    PROTOCOL_ID,
    Frame,
    FrameType,
    decode_frame,
    encode_frame,
)
from storage.state import NetworkStore

logger = logging.getLogger(__name__)

#: A whole session, answering side, may take this long.
SESSION_TIMEOUT_S = 120.0
#: Sessions a peer may hold open with us at once.
SESSIONS_PER_PEER = 2
#: Rounds of fetching, by id, the refs of held events that the scope left out.
MAX_REF_ROUNDS = 8
#: Room left in an EVENTS or PUT frame for its own framing.
_FRAME_ROOM = 1024


def wall_clock_ms() -> int:
    return time.time_ns() // 1_000_000


@dataclass
class SyncReport:
    """What one session did, from the initiator's side."""

    peer: str
    rounds: int = 0
    need: int = 0
    have: int = 0
    fetched: int = 0
    ingested: int = 0
    held: int = 0
    offered: int = 0
    bytes_sent: int = 0
    bytes_received: int = 0
    #: Seconds spent reconciling, fetching and ingesting, and offering.
    phases: dict[str, float] = field(default_factory=dict)
    outcomes: dict[str, int] = field(default_factory=dict)


class _Channel:
    """Frames over a stream, counting bytes."""

    def __init__(self, stream: INetStream) -> None:
        self._io = VarIntLengthMsgReadWriter(stream, MAX_FRAME_SIZE)
        self.sent = 0
        self.received = 0

    async def send(self, frame: Frame) -> None:
        data = encode_frame(frame)
        self.sent += len(data)
        await self._io.write_msg(data)

    async def receive(self) -> Frame:
        length = await self._io.next_msg_len()
        # A zero-length read of a libp2p stream waits for data rather than
        # returning: an empty frame (no CBOR: ``truncated``) is read as such.
        data = await read_exactly(self._io.read_write_closer, length) if length else b""
        self.received += len(data)
        return decode_frame(data)

    async def ask(self, frame: Frame, expect: FrameType) -> Frame:
        await self.send(frame)
        answer = await self.receive()
        if answer.type is not expect:
            raise Rejected(
                Reason.BAD_SYNC_MESSAGE, f"expected {expect.name}, got {answer.type.name}"
            )
        return answer


#: Told of the events a session stored (wire form) and the peer they came from.
OnStored = Callable[[list[SignedEvent], ID], Awaitable[None]]
#: Told of a peer that broke the protocol.
OnMisbehaviour = Callable[[ID, str], None]
#: What a session ``sync_with`` started can end with, short of a bug: the
#: connection failed, the peer broke the protocol (Rejected), or the
#: caller's deadline passed. The node logs it and tries again later.
SESSION_ERRORS: tuple[type[BaseException], ...] = (
    BaseLibp2pError,
    Rejected,
    OSError,
    trio.TooSlowError,
    trio.BrokenResourceError,
    EOFError,
)


async def _nothing_stored(events: list[SignedEvent], peer: ID) -> None:
    return None


class SyncService:
    """Answers sync sessions on a host, and runs them with peers.

    ``on_stored`` hears of every event a session stored, whichever side
    started it, so that the node can gossip what is new and follow changes
    of topology; ``on_misbehaviour`` of every session a peer broke; a peer
    that ``refused`` names (node/peer_gate.py) gets no session.
    """

    def __init__(
        self,
        store: NetworkStore,
        *,
        now_ms: Callable[[], int] = wall_clock_ms,
        on_stored: OnStored = _nothing_stored,
        on_misbehaviour: OnMisbehaviour | None = None,
        refused: Callable[[ID], str | None] = lambda _peer: None,
    ) -> None:
        self.store = store
        self._refused = refused
        self.now_ms = now_ms
        self._on_stored = on_stored
        self._on_misbehaviour = on_misbehaviour
        self._sessions: defaultdict[str, int] = defaultdict(int)

    async def prepare(self) -> None:
        """Read the whole store's range index once, before the first
        session needs it: a store keeps it in memory from then on
        (storage/sqlite.py), so no session pays for building it."""
        await self.store.events.with_ranges(_summarize_all)

    def attach(self, host: IHost) -> None:
        host.set_stream_handler(PROTOCOL_ID, self.answer)  # type: ignore[arg-type]

    # -- responder --

    async def answer(self, stream: INetStream) -> None:
        """Serve one session; never raises: a misbehaving peer loses its stream."""
        peer_id = stream.muxed_conn.peer_id
        peer = str(peer_id)
        why = self._refused(peer_id)
        if why is not None:
            logger.info("sync: refused a session of %s: %s", peer, why)
            await _reset(stream)
            return
        if self._sessions[peer] >= SESSIONS_PER_PEER:
            logger.info("sync: refused a session of %s: too many at once", peer)
            await _reset(stream)
            return
        self._sessions[peer] += 1
        try:
            with trio.move_on_after(SESSION_TIMEOUT_S):
                await self._serve(_Channel(stream), peer_id)
            await stream.close()
        except Rejected as exc:
            logger.info("sync: session of %s broke the protocol: %s", peer, exc)
            if self._on_misbehaviour is not None:
                self._on_misbehaviour(peer_id, exc.reason.value)
            await _reset(stream)
        except (BaseLibp2pError, trio.BrokenResourceError, EOFError) as exc:
            logger.info("sync: session of %s ended: %s", peer, exc)
            await _reset(stream)
        finally:
            self._sessions[peer] -= 1

    async def _serve(self, channel: _Channel, peer: ID) -> None:
        reconciler = Reconciler(initiator=False)
        net = self.store.genesis.network_id
        scope: list[bytes] | None = None
        first = True
        while True:
            frame = await channel.receive()
            if frame.type is FrameType.END:
                return
            if frame.type is FrameType.SCOPE:
                if not first:
                    raise Rejected(Reason.BAD_SYNC_MESSAGE, "a scope comes first or not at all")
                scope = frame.payload
                await channel.send(Frame(FrameType.ACK))
            elif frame.type is FrameType.RECONCILE:
                answer: bytes | None = await self.store.events.with_ranges(
                    partial(reconciler.reconcile, message=frame.payload), scope
                )
                await channel.send(Frame(FrameType.RECONCILE, answer))
            elif frame.type is FrameType.GET:
                await channel.send(Frame(FrameType.EVENTS, _fit(await self._events(frame.payload))))
            elif frame.type is FrameType.PUT:
                settled = await ingest_settling(self.store, frame.payload, self.now_ms(), net)
                await channel.send(Frame(FrameType.ACK))
                self._blame(peer, settled.rejected)
                if settled.stored:
                    await self._on_stored(settled.stored, peer)
            else:
                raise Rejected(Reason.BAD_SYNC_MESSAGE, f"{frame.type.name} is an answer")
            first = False

    async def _events(self, ids: list[bytes]) -> list[bytes]:
        """The events of ``ids`` this node holds, in the order asked."""
        found = await self.store.events.get_many(ids)
        return [found[i] for i in ids if i in found]

    # -- initiator --

    @staticmethod
    def refused_by(host: IHost, peer: ID) -> bool:
        """Whether ``peer`` said (by identify) that it does not speak sync: a
        bootstrap peer run as a directory. Unknown yet: not refused."""
        try:
            known = host.get_peerstore().get_protocols(peer)
        except PeerStoreError:
            return False
        return bool(known) and PROTOCOL_ID not in known

    async def sync_with(
        self, host: IHost, peer: ID, scope: Collection[bytes] | None = None
    ) -> SyncReport:
        """One session with ``peer`` (already connected or dialable), over
        the events of the groups of ``scope`` (None: every event)."""
        report = SyncReport(str(peer))
        stream = await host.new_stream(peer, [PROTOCOL_ID])  # type: ignore[list-item]
        channel = _Channel(stream)
        groups = None if scope is None else sorted(set(scope))
        started = trio.current_time()
        try:
            if groups is not None:
                await channel.ask(Frame(FrameType.SCOPE, groups), FrameType.ACK)
            reconciler = Reconciler(initiator=True)
            message: bytes | None = await self.store.events.with_ranges(reconciler.initiate, groups)
            while message is not None:
                answer = await channel.ask(Frame(FrameType.RECONCILE, message), FrameType.RECONCILE)
                message = await self.store.events.with_ranges(
                    partial(reconciler.reconcile, message=answer.payload), groups
                )
            report.rounds = reconciler.rounds
            report.need, report.have = len(reconciler.need), len(reconciler.have)
            mark = _phase(report, "reconcile", started)
            fetched = await self._fetch(channel, sorted(reconciler.need), peer)
            report.fetched = len(fetched)
            settled = await ingest_settling(
                self.store, fetched, self.now_ms(), self.store.genesis.network_id
            )
            outcomes, stored, held = dict(settled.counts), settled.stored, settled.held
            self._blame(peer, settled.rejected)
            # Refs may lie outside the session's scope (a sum of the root
            # refers to the sums of groups a leaf does not sync): fetch them
            # by id, and theirs, a bounded number of times.
            for _ in range(MAX_REF_ROUNDS):
                missing = await self._missing_refs(held)
                if not missing:
                    break
                more = await self._fetch(channel, missing, peer)
                if not more:
                    break
                report.fetched += len(more)
                extra = await ingest_settling(
                    self.store, [*more, *held], self.now_ms(), self.store.genesis.network_id
                )
                stored.extend(extra.stored)
                held = extra.held
                self._blame(peer, extra.rejected)
                for name, number in extra.counts.items():
                    if name != "held":
                        outcomes[name] = outcomes.get(name, 0) + number
            outcomes["held"] = len(held)
            if stored:
                await self._on_stored(stored, peer)
            report.outcomes = outcomes
            report.ingested = len(stored)
            report.held = len(held)
            mark = _phase(report, "fetch", mark)
            report.offered = await self._offer(channel, sorted(reconciler.have))
            _phase(report, "offer", mark)
            await channel.send(Frame(FrameType.END))
            await stream.close()
        except BaseException:
            await _reset(stream)
            raise
        report.bytes_sent, report.bytes_received = channel.sent, channel.received
        return report

    async def _fetch(self, channel: _Channel, wanted: list[bytes], peer: ID) -> list[bytes]:
        """The events of ``wanted``, asked for in batches; what a peer sends
        that was not asked for is dropped, what does not decode is dropped
        and blamed (specs/network.md section 3: a malformed event served),
        and a peer that sends none of a batch is not asked again."""
        fetched: list[bytes] = []
        pending = list(wanted)
        while pending:
            batch = pending[:MAX_GET]
            answer = await channel.ask(Frame(FrameType.GET, batch), FrameType.EVENTS)
            decoded, malformed = _by_id(answer.payload)
            self._blame(peer, malformed)
            got = {event_id: raw for event_id, raw in decoded.items() if event_id in set(batch)}
            if not got:
                break
            fetched.extend(got.values())
            pending = [event_id for event_id in pending if event_id not in got]
        return fetched

    def _blame(self, peer: ID, rejected: dict[str, int]) -> None:
        """A peer that sent events the ingest rejected (forged, malformed, of
        another network) misbehaved; refused ones are honest (the state
        judged them, and stores them), and so is one whose events are
        stamped ahead of our clock, which may be the one behind (specs/
        events.md section 6: ignored, not held against anyone)."""
        rejected = {reason: n for reason, n in rejected.items() if reason != "ts_in_future"}
        if rejected and self._on_misbehaviour is not None:
            logger.info("sync: %s sent rejected events: %s", peer, rejected)
            self._on_misbehaviour(peer, ",".join(sorted(rejected)))

    async def _missing_refs(self, held: list[bytes]) -> list[bytes]:
        wanted = {ref for raw in held for ref in parse_event(raw).refs}
        return sorted(wanted - await self.store.events.has(wanted))

    async def _offer(self, channel: _Channel, ids: list[bytes]) -> int:
        offered = 0
        for start in range(0, len(ids), MAX_GET):
            found = await self.store.events.get_many(ids[start : start + MAX_GET])
            raws = [found[i] for i in ids[start : start + MAX_GET] if i in found]
            while raws:
                batch = _fit(raws)
                await channel.ask(Frame(FrameType.PUT, batch), FrameType.ACK)
                offered += len(batch)
                raws = raws[len(batch) :]
        return offered


def _summarize_all(source: RangeSource) -> tuple[int, bytes]:
    return source.summary((0, b""), None)


def _phase(report: SyncReport, name: str, since: float) -> float:
    now = trio.current_time()
    report.phases[name] = round(now - since, 4)
    return now


def _fit(raws: Sequence[bytes]) -> list[bytes]:
    """As many of ``raws`` as fit in one frame, in order (at least one)."""
    out: list[bytes] = []
    size = 0
    for raw in raws:
        if out and size + len(raw) + 8 > MAX_FRAME_SIZE - _FRAME_ROOM:
            break
        out.append(raw)
        size += len(raw) + 8
    return out


def _by_id(raws: Sequence[bytes]) -> tuple[dict[bytes, bytes], dict[str, int]]:
    """The events that decode, by id, and the count of those that do not,
    by reason code."""
    found: dict[bytes, bytes] = {}
    malformed: dict[str, int] = defaultdict(int)
    for raw in raws:
        try:
            found[parse_event(raw).id] = raw
        except Rejected as exc:
            malformed[exc.reason.value] += 1
    return found, dict(malformed)


async def _reset(stream: INetStream) -> None:
    with contextlib.suppress(BaseLibp2pError, trio.BrokenResourceError, EOFError):
        await stream.reset()
