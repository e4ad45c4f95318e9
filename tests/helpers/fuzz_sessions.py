"""The fuzz scenario's ``sync_session`` target (faults_fuzz.py): a victim's
node/sync.py session, as initiator or responder, against a hostile peer
over an in-memory stream (memory_stream.py). The peer's frames are
replaced, damaged, cut short, unasked for, given bogus lengths, or the
stream closed; or the peer only sends what it drew. The session must end
(within ``SESSION_DEADLINE_S``), the responder never raise, the initiator
raise only what node/runtime.py catches, and only valid events be stored.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

import cbor2
import trio
from event_factory import note, signing_key
from forgery_world import World
from fuzz_strategies import CBOR_VALUES, UNENCODABLE, mutated, reshaped
from hypothesis import strategies as st
from libp2p.abc import INetStream
from libp2p.peer.id import ID
from libp2p.utils import encode_uvarint
from memory_stream import Tamper, framed, host_for, pipe, unframed
from sync_liars import planted_store
from vector_corpus import Corpus

from node.sync import SESSION_ERRORS, SyncReport, SyncService
from protocol.event import SignedEvent
from protocol.state import Governance
from protocol.sync_frames import Frame, FrameType, encode_frame
from storage.state import NetworkStore

SESSION_DEADLINE_S = 10.0


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


def _tamperer(tamperings: Sequence[Tampering]) -> Tamper:
    by_frame = {t.at: t for t in tamperings}
    written = itertools.count()

    def tamper(data: bytes) -> list[bytes | None]:
        t = by_frame.get(next(written))
        message = unframed(data)
        if t is None or message is None:
            return [data]
        if t.op == "replace":
            return [framed(t.payload)]
        if t.op == "extra":
            return [data, framed(t.payload)]
        if t.op == "mutate":
            return [framed(_xor(message, t.payload))]
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
    """A victim's sync session against a hostile peer (the module's docstring)."""

    world: World
    governance: Governance
    now_ms: int
    sessions: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)

    def __call__(self, case: SessionCase) -> None:
        trio.from_thread.run(self._session, case)

    def _store(self, extra: Sequence[SignedEvent]) -> NetworkStore:
        return planted_store(self.governance, [*self.world.events, *extra])

    def _notes(self, author: str, since_ms: int, label: str, count: int) -> list[SignedEvent]:
        return [
            note(
                self.now_ms - since_ms + i,
                key=signing_key(author),
                group=self.world.bases[0],
                net=self.world.net,
                text=f"{label}.{i}",
            )
            for i in range(count)
        ]

    async def _session(self, case: SessionCase) -> None:
        self.sessions += 1
        n = self.sessions
        mine = self._notes("fuzz victim", 5_000, f"v{n}", 3)
        theirs = self._notes("fuzz peer", 4_000, f"p{n}", 4)
        valid = {e.id for e in [*self.world.events, *mine, *theirs]}
        victim_store, peer_store = self._store(mine), self._store(theirs)
        victim = SyncService(victim_store, now_ms=lambda: self.now_ms)
        peer = SyncService(peer_store, now_ms=lambda: self.now_ms)
        victim_id, peer_id = ID(b"fuzz victim"), ID(b"fuzz peer")
        tamper = _tamperer(case.tamperings)
        victim_end, peer_end = pipe(victim_id, peer_id, tamper)
        scope = [self.world.net, self.world.bases[0]] if case.scoped else None
        outcome = "ok"

        async def victim_side() -> None:
            nonlocal outcome
            if case.victim_initiates:
                try:
                    report = await victim.sync_with(host_for(victim_end), peer_id, scope)
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
                        await peer_end.write(framed(frame))
                    await peer_end.close()
                return
            with contextlib.suppress(*SESSION_ERRORS):
                if case.victim_initiates:
                    await peer.answer(cast(INetStream, peer_end))
                else:
                    await peer.sync_with(host_for(peer_end), victim_id, scope)

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
    except UNENCODABLE:
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
