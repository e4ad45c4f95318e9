"""Sync sessions between two libp2p hosts on loopback (node/sync.py)."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from pathlib import Path

import multiaddr
import pytest
import trio
from event_factory import note
from libp2p import new_host
from libp2p.abc import IHost
from libp2p.crypto.ed25519 import create_new_key_pair
from libp2p.io.msgio import VarIntLengthMsgReadWriter
from libp2p.network.stream.exceptions import StreamEOF, StreamReset
from libp2p.peer.peerinfo import info_from_p2p_addr
from network_factory import Scenario, build_fractal

from node.sync import SyncService
from protocol.event import SignedEvent
from protocol.reconcile import Reconciler, SortedKeys
from protocol.sync_frames import PROTOCOL_ID, Frame, FrameType, decode_frame, encode_frame
from storage import IngestStatus
from storage.state import NetworkStore, open_network_store

LOOPBACK = multiaddr.Multiaddr("/ip4/127.0.0.1/tcp/0")


@asynccontextmanager
async def node(
    tmp: Path, name: str, s: Scenario, events: list[SignedEvent]
) -> AsyncIterator[tuple[IHost, NetworkStore, SyncService]]:
    """A host on loopback with its own store holding ``events``."""
    host = new_host(key_pair=create_new_key_pair(name.encode().ljust(32, b".")))
    async with open_network_store(tmp / f"{name}.sqlite3", s.genesis) as store:
        results = await store.ingest(events, s.now)
        assert {r.status for r in results} <= {IngestStatus.ACCEPTED}
        service = SyncService(store, now_ms=lambda: s.now)
        service.attach(host)
        async with host.run([LOOPBACK]):
            try:
                yield host, store, service
            finally:
                await host.close()  # closes its connections' sockets now, not at GC


async def connect(a: IHost, b: IHost) -> None:
    await a.connect(info_from_p2p_addr(b.get_addrs()[0]))


def story() -> tuple[Scenario, list[SignedEvent]]:
    """A network's governance events and chats: chains of refs to follow."""
    s = Scenario(root_level=3)
    fractal = build_fractal(s, [3, 4, 5], regions=1, bases=3)
    chats = []
    for i, base in enumerate(b for bases in fractal.tree.values() for b in bases):
        previous: list[bytes] = []
        for j in range(20):
            event = note(s.tick(), group=base, net=s.net, text=f"{i}.{j}", refs=previous)
            chats.append(event)
            previous = [event.id]
    return s, s.events + chats


async def test_two_nodes_converge_in_one_session(tmp_path: Path) -> None:
    s, events = story()
    rnd = random.Random(3)
    # A holds the governance core and most chats; B holds the core and
    # chats A lacks, and lacks some A holds. Fetched chats come in id
    # order, so chains arrive out of order and are held until complete.
    core = [e for e in events if e.kind != "note"]
    chats = [e for e in events if e.kind == "note"]
    rnd.shuffle(chats)
    only_a, only_b, both = chats[:15], chats[15:30], chats[30:]
    a_events = core + _closed(both + only_a, events)
    b_events = core + _closed(both + only_b, events)
    async with (
        node(tmp_path, "a", s, a_events) as (host_a, store_a, sync_a),
        node(tmp_path, "b", s, b_events) as (host_b, store_b, _),
    ):
        await connect(host_a, host_b)
        report = await sync_a.sync_with(host_a, host_b.get_id())
        a_ids = {row.id for row in await store_a.events.query(limit=10_000)}
        b_ids = {row.id for row in await store_b.events.query(limit=10_000)}
        assert a_ids == b_ids == {e.id for e in events}
        assert report.need == len({e.id for e in events} - {e.id for e in a_events})
        assert report.have == len({e.id for e in a_events} - {e.id for e in b_events})
        assert report.held == 0 and report.rounds >= 1
        # A second session finds nothing to do, in one round trip.
        again = await sync_a.sync_with(host_a, host_b.get_id())
        assert (again.need, again.have, again.rounds) == (0, 0, 1)
        assert store_a.state.snapshot(s.now) == store_b.state.snapshot(s.now)


def _closed(chosen: list[SignedEvent], events: list[SignedEvent]) -> list[SignedEvent]:
    """``chosen`` and everything it refers to, in key order (a store holds
    nothing whose refs it lacks)."""
    by_id = {e.id: e for e in events}
    keep: dict[bytes, SignedEvent] = {}
    stack = list(chosen)
    while stack:
        event = stack.pop()
        if event.id not in keep:
            keep[event.id] = event
            stack.extend(by_id[ref] for ref in event.refs)
    return sorted(keep.values(), key=lambda e: (e.ts, e.id))


async def test_a_peer_sending_garbage_loses_its_session_not_the_node(tmp_path: Path) -> None:
    s, events = story()
    core = [e for e in events if e.kind != "note"]
    async with (
        node(tmp_path, "a", s, core) as (host_a, _, sync_a),
        node(tmp_path, "b", s, events) as (host_b, _, _),
    ):
        await connect(host_a, host_b)
        for garbage in (b"\xff\x00", b"\x82\x01\x40", b"\x82\x09\xf6"):
            stream = await host_a.new_stream(host_b.get_id(), [PROTOCOL_ID])
            channel = VarIntLengthMsgReadWriter(stream, 1 << 20)
            await channel.write_msg(garbage)
            with trio.move_on_after(5), suppress(Exception):  # reset or EOF: cut off
                await channel.read_msg()
        report = await sync_a.sync_with(host_a, host_b.get_id())
        assert report.need == len(events) - len(core) and report.held == 0


async def test_batches_of_events_larger_than_one_event_frame(tmp_path: Path) -> None:
    """GET answers and PUT offers carry up to a megabyte: far more than the
    64 KiB an event may take."""
    s, events = story()
    core = [e for e in events if e.kind != "note"]
    bulky = [note(s.tick(), net=s.net, text="x" * 9_000) for _ in range(40)]
    async with (
        node(tmp_path, "a", s, core) as (host_a, store_a, sync_a),
        node(tmp_path, "b", s, core + bulky) as (host_b, _, _),
    ):
        await connect(host_a, host_b)
        report = await sync_a.sync_with(host_a, host_b.get_id())
        assert report.fetched == len(bulky) and report.bytes_received > 360_000
        assert await store_a.events.count() == len(core) + len(bulky)


async def test_a_scoped_session_reconciles_its_groups_events_only(tmp_path: Path) -> None:
    """A leaf's node syncs the events of its path and subtree, not its
    cousins' chats; a peer that sends a scope mid-session loses it."""
    s, events = story()
    core = [e for e in events if e.kind != "note"]
    chats = [e for e in events if e.kind == "note"]
    chat_group = chats[0].group
    scope = [s.net, chat_group]
    only_a = note(s.tick(), group=chat_group, net=s.net, text="mine")
    # An event in scope that refers to one outside it: fetched by id.
    outside = next(e for e in chats if e.group != chat_group and not e.refs)
    linked = note(s.tick(), group=chat_group, net=s.net, text="re", refs=[outside.id])
    async with (
        node(tmp_path, "a", s, [*core, only_a]) as (host_a, store_a, sync_a),
        node(tmp_path, "b", s, [*events, linked]) as (host_b, store_b, _),
    ):
        await connect(host_a, host_b)
        report = await sync_a.sync_with(host_a, host_b.get_id(), scope)
        in_scope = [e for e in [*events, linked] if e.group in scope and e not in core]
        assert report.need == len(in_scope) > 0 and report.have == 1
        assert report.fetched == len(in_scope) + 1 and report.held == 0
        held = {row.id for row in await store_a.events.query(limit=10_000)}
        assert held == {e.id for e in [*core, *in_scope, only_a, outside]}
        assert await store_b.events.has([only_a.id]) == {only_a.id}

        stream = await host_a.new_stream(host_b.get_id(), [PROTOCOL_ID])
        channel = VarIntLengthMsgReadWriter(stream, 1 << 20)
        opening = Reconciler(initiator=True).initiate(SortedKeys([]))
        await channel.write_msg(encode_frame(Frame(FrameType.RECONCILE, opening)))
        first = decode_frame(await channel.read_msg())
        assert first.type is FrameType.RECONCILE
        await channel.write_msg(encode_frame(Frame(FrameType.SCOPE, [s.net])))
        with pytest.raises((StreamReset, StreamEOF, EOFError)), trio.fail_after(5):
            await channel.read_msg()  # the session is cut off


async def test_an_empty_frame_ends_the_session_at_once(tmp_path: Path) -> None:
    """A frame of length 0 is no CBOR (``truncated``): the session is reset
    and the peer blamed, rather than left waiting for bytes that a
    zero-length read never returns (found by the fuzz scenario)."""
    s, events = story()
    blamed: list[tuple[str, str]] = []
    async with (
        node(tmp_path, "a", s, events[:3]) as (host_a, store_a, _),
        node(tmp_path, "b", s, events[:3]) as (host_b, _, _),
    ):
        answering = SyncService(
            store_a, now_ms=lambda: s.now, on_misbehaviour=lambda p, r: blamed.append((str(p), r))
        )
        answering.attach(host_a)
        await connect(host_b, host_a)
        stream = await host_b.new_stream(host_a.get_id(), [PROTOCOL_ID])
        channel = VarIntLengthMsgReadWriter(stream, 1 << 20)
        await channel.write_msg(b"")
        with pytest.raises((StreamReset, StreamEOF, EOFError)), trio.fail_after(5):
            await channel.read_msg()
        assert blamed == [(str(host_b.get_id()), "truncated")]


class _Forger(SyncService):
    """A bootstrap peer that lies: it serves one event with a forged
    signature (same id: the id covers the unsigned event only)."""

    def __init__(self, store: NetworkStore, victim: SignedEvent, now_ms: int) -> None:
        super().__init__(store, now_ms=lambda: now_ms)
        self.victim = victim

    async def _events(self, ids: list[bytes]) -> list[bytes]:
        raws = await super()._events(ids)
        forged = self.victim.raw[:-64] + bytes(64)
        return [forged if raw == self.victim.raw else raw for raw in raws]


async def test_a_lying_bootstrap_is_caught_and_routed_around(tmp_path: Path) -> None:
    """The liar withholds some events and forges another: the node rejects
    the forgery, blames the liar, and gets everything from an honest peer."""
    s, events = story()
    core = [e for e in events if e.kind != "note"]
    chats = [e for e in events if e.kind == "note" and not e.refs]
    forged, hidden = chats[0], chats[1]
    blamed: list[tuple[str, str]] = []
    async with (
        node(tmp_path, "a", s, core) as (host_a, store_a, _),
        node(tmp_path, "liar", s, [*core, forged]) as (host_l, store_l, _),
        node(tmp_path, "honest", s, [*core, forged, hidden]) as (host_h, _, _),
    ):
        liar = _Forger(store_l, forged, s.now)
        liar.attach(host_l)
        sync_a = SyncService(
            store_a, now_ms=lambda: s.now, on_misbehaviour=lambda p, r: blamed.append((str(p), r))
        )
        await connect(host_a, host_l)
        await connect(host_a, host_h)
        lied = await sync_a.sync_with(host_a, host_l.get_id())
        assert lied.outcomes.get("rejected") == 1 and not await store_a.events.has([forged.id])
        assert blamed == [(str(host_l.get_id()), "bad_signature")]
        await sync_a.sync_with(host_a, host_h.get_id())
        assert await store_a.events.has([forged.id, hidden.id]) == {forged.id, hidden.id}


class _Garbler(SyncService):
    """A peer that answers a ``get`` with bytes that are no event: the
    event asked for, cut short by a byte."""

    def __init__(self, store: NetworkStore, victim: SignedEvent, now_ms: int) -> None:
        super().__init__(store, now_ms=lambda: now_ms)
        self.victim = victim

    async def _events(self, ids: list[bytes]) -> list[bytes]:
        raws = await super()._events(ids)
        return [raw[:-1] if raw == self.victim.raw else raw for raw in raws]


async def test_a_peer_serving_malformed_events_is_blamed(tmp_path: Path) -> None:
    """Bytes that never decode, served for an event asked for, are dropped
    and blamed like any invalid event served (specs/network.md section 3);
    what the peer served well is taken."""
    s, events = story()
    core = [e for e in events if e.kind != "note"]
    chats = [e for e in events if e.kind == "note" and not e.refs]
    garbled, fine = chats[0], chats[1]
    blamed: list[tuple[str, str]] = []
    async with (
        node(tmp_path, "a", s, core) as (host_a, store_a, _),
        node(tmp_path, "garbler", s, [*core, garbled, fine]) as (host_g, store_g, _),
    ):
        _Garbler(store_g, garbled, s.now).attach(host_g)
        sync_a = SyncService(
            store_a, now_ms=lambda: s.now, on_misbehaviour=lambda p, r: blamed.append((str(p), r))
        )
        await connect(host_a, host_g)
        report = await sync_a.sync_with(host_a, host_g.get_id())
        assert report.fetched == 1
        assert await store_a.events.has([garbled.id, fine.id]) == {fine.id}
        # Blamed each time it served them (asked again for what it garbled).
        assert blamed and set(blamed) == {(str(host_g.get_id()), "truncated")}


async def test_a_peer_whose_clock_is_ahead_is_not_blamed(tmp_path: Path) -> None:
    """An event stamped an hour ahead of our clock is not taken, and not
    held against the peer that serves it: the clock behind may be ours
    (specs/events.md section 6, specs/network.md section 4.3)."""
    s, events = story()
    hour = 3_600_000
    blamed: list[tuple[str, str]] = []
    ahead = note(s.now + hour, group=s.net, net=s.net, text="mañana")
    async with (
        node(tmp_path, "a", s, events) as (host_a, store_a, _),
        node(tmp_path, "b", s, events) as (host_b, store_b, _),
    ):
        [stored] = await store_b.ingest([ahead], s.now + hour)
        assert stored.status is IngestStatus.ACCEPTED
        SyncService(store_b, now_ms=lambda: s.now + hour).attach(host_b)
        sync_a = SyncService(
            store_a, now_ms=lambda: s.now, on_misbehaviour=lambda p, r: blamed.append((str(p), r))
        )
        await connect(host_a, host_b)
        report = await sync_a.sync_with(host_a, host_b.get_id())
        assert report.outcomes.get("rejected") == 1
        assert not await store_a.events.has([ahead.id])
        assert blamed == []
