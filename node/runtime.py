"""A running node: its host, gossip, links, sync and API around one store.

Theory of operation
-------------------
Every event enters the same way, whoever brings it (a gossip message, a
sync session, the local API, the node itself): through node/ingest.py into
the store, which commits before anything else happens. Only then does the
node act on it:

- an event new to the store is published on the node's other topics
  (protocol/topics.py ``relay_topics``), so it crosses from one family to
  the next; an event that came by sync is published only while it is
  fresh, so that a node catching up does not flood its families with the
  past;
- a ``peer.record`` or a change of the hierarchy or of a group's nodes
  marks the topology stale: the node recomputes the groups it serves, its
  topics and the links it wants, soon after, once per burst.

Sync is the guarantee: with every neighbour when the link comes up and
every ``sync_interval_s`` after, with every bootstrap peer likewise, and
with any peer that gossiped an event whose refs the node lacks.
"""

from __future__ import annotations

import contextlib
import logging
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import trio
from libp2p.peer.id import ID
from libp2p.peer.peerinfo import PeerInfo, info_from_p2p_addr
from libp2p.peer.peerstore import PeerStoreError
from multiaddr import Multiaddr
from nacl.signing import SigningKey

from node import governance
from node.discovery import Discovery, enable_mdns
from node.gossip import Gossip, GossipConfig, Verdict
from node.host import MAX_CONNECTIONS, make_host, peer_of
from node.ingest import ingest_decoded
from node.links import Links, Wanted
from node.metrics import Metrics
from node.peer_gate import PeerGate
from node.sync import SESSION_ERRORS, SyncService, wall_clock_ms
from protocol.errors import Reason
from protocol.event import SignedEvent, parse_event
from protocol.sync_frames import MAX_SCOPE
from protocol.topics import Position, neighbour_groups, sync_scope
from storage import CachedPeer, IngestResult, IngestStatus, StorageError
from storage.interface import MAX_LIMIT, Key
from storage.state import NetworkStore

if TYPE_CHECKING:
    # py-libp2p's trio-typing stubs shadow trio's own types for mypy.
    from trio_typing import TaskStatus

logger = logging.getLogger(__name__)

#: Sync sessions a node runs at once (each with a different peer).
SYNC_SESSIONS_AT_ONCE = 4
#: Kinds whose arrival can change whom a node links with or where it sits.
TOPOLOGY_KINDS = frozenset(
    {"peer.record", "group.nodes", "group.admit", "group.leave", "group.charter"}
)


@dataclass(frozen=True)
class NodeConfig:
    """How a node runs (``ayllu run`` sets these; README and specs/network.md)."""

    listen: Sequence[str] = ("/ip4/0.0.0.0/tcp/4001",)
    bootstrap: Sequence[str] = ()
    #: False: a sync-only node, in no gossip topic (a metered or slow link).
    relay: bool = True
    gossip: GossipConfig = field(default_factory=GossipConfig)
    #: Seconds between rounds of sync with every neighbour and bootstrap peer.
    sync_interval_s: float = 30.0
    #: A sync session is abandoned after this long.
    sync_timeout_s: float = 120.0
    #: Events that came by sync are gossiped on while younger than this.
    fresh_ms: int = 10 * 60_000
    #: The topology is recomputed at most this often (seconds).
    topology_delay_s: float = 0.5
    #: Find neighbours with no peer record in the Kademlia DHT, and announce
    #: the groups served there (node/discovery.py). Off by default: peer
    #: records come with the events, and the DHT costs every node some CPU.
    dht: bool = False
    #: Find this network's nodes on the local network by mDNS.
    mdns: bool = False
    #: An archive (a bootstrap peer): sync with every peer that connects,
    #: not only with the links it keeps.
    archive: bool = False
    #: False: a directory (a bootstrap peer that keeps no archive), which
    #: neither answers nor starts sync sessions and so holds no event.
    sync: bool = True
    #: Seconds between announcements of the groups served, in the DHT.
    provide_interval_s: float = 600.0
    #: How often the node looks up neighbours it has no address for.
    lookup_interval_s: float = 2.0
    #: Connections kept at most (a bootstrap peer needs more).
    max_connections: int = MAX_CONNECTIONS
    #: How often the store is checked for events another process committed
    #: (a command run beside the node), to fold and gossip them (seconds).
    watch_interval_s: float = 1.0
    #: The operator's list of peers to refuse (node/peer_gate.py), if any.
    deny_file: Path | None = None
    #: How often the gate is applied: refused peers' connections closed,
    #: peers whose misbehaviour passed the ban threshold banned (seconds).
    gate_interval_s: float = 0.5


@dataclass
class Counters:
    """What the node has done since it started (for ``status``)."""

    gossip_stored: int = 0
    gossip_duplicates: int = 0
    gossip_ignored: int = 0
    gossip_rejected: int = 0
    sync_stored: int = 0
    sync_sessions: int = 0
    sync_failures: int = 0
    #: Sessions over, by success or failure (sync_sessions counts starts).
    sync_ended: int = 0
    api_stored: int = 0
    published: int = 0
    #: Gossiped events dropped unread because their forwarder is refused.
    gossip_refused: int = 0
    #: Bans for misbehaviour, and connections closed by the gate.
    bans: int = 0
    gate_disconnects: int = 0


class Node:
    """One node: build it, then ``await nursery.start(node.run)``; ``stop()`` ends it."""

    def __init__(
        self,
        key: SigningKey,
        store: NetworkStore,
        config: NodeConfig,
        *,
        now_ms: Callable[[], int] = wall_clock_ms,
    ) -> None:
        self.key = key
        self.public_key = bytes(key.verify_key)
        self._store = store
        self.config = config
        self.now_ms = now_ms
        self.network_id = store.genesis.network_id
        self.host = make_host(key, max_connections=config.max_connections)
        self.peer_id = self.host.get_id()
        self.gate = PeerGate(config.deny_file)
        self.sync = SyncService(
            store,
            now_ms=now_ms,
            on_stored=self._stored_by_sync,
            on_misbehaviour=self._misbehaved,
            refused=self.gate.refused,
        )
        self.gossip = Gossip(self.host, config.gossip, self._judge) if config.relay else None
        if config.mdns:
            enable_mdns(self.host, self.network_id)
        self.discovery = Discovery(self.host, dht=config.dht) if config.dht or config.mdns else None
        self.links = Links(self.host, self._connected, self.gate.refused)
        #: The groups each wanted peer serves, to look it up by.
        self._groups_of: dict[ID, set[bytes]] = {}
        self._nursery: trio.Nursery | None = None
        self.position = Position(self.network_id, (), frozenset())
        #: The groups whose events this node syncs (None: all).
        self.scope: list[bytes] | None = None
        self.counters = Counters()
        self.event_count = 0
        self.events_by_kind: Counter[str] = Counter()
        #: Events refused entry (by gossip, sync or the API), by reason code.
        self.rejected_by_reason: Counter[str] = Counter()

        #: node key -> (ts, binary multiaddrs) of its newest peer record.
        self.peer_records: dict[bytes, tuple[int, list[bytes]]] = {}
        #: Where peers were reached before (storage.interface.CachedPeer).
        self._peer_cache: dict[ID, CachedPeer] = {}
        self.bootstrap = _peer_infos(config.bootstrap or store.genesis.bootstrap)
        self._topology_stale = trio.Event()
        self._sync_wanted: set[ID] = set()
        self._sync_requested = trio.Event()
        self._stopping = trio.Event()
        #: The store's commit sequence read so far (storage's catch_up tells
        #: what was committed beside the node since).
        self._seq = 0

    @property
    def store(self) -> NetworkStore:
        return self._store

    # -- life --

    async def run(self, *, task_status: TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        listen = [Multiaddr(addr) for addr in self.config.listen]
        async with self.host.run(listen):
            try:
                await self._serve(task_status)
            finally:
                # Closes the connections' sockets now, not when collected.
                await self.host.close()

    async def _serve(self, task_status: TaskStatus[None]) -> None:
        async with trio.open_nursery() as nursery:
            if self.config.sync:
                self.sync.attach(self.host)
            self._nursery = nursery
            if self.gossip is not None:
                await nursery.start(self.gossip.run)
            if self.discovery is not None:
                await nursery.start(self.discovery.run)
                nursery.start_soon(self._discovery_loop)
            self.event_count = await self._store.events.count()
            self.events_by_kind.update(await self._store.events.count_by_kind())
            await self.sync.prepare()
            self._seq = await self._store.events.last_committed()
            await self._load_peer_records()
            await self._load_peer_cache()
            await self._announce()
            await self._refresh_topology()
            nursery.start_soon(self.links.run)
            nursery.start_soon(self._topology_loop)
            if self.config.sync:
                nursery.start_soon(self._sync_loop)
            nursery.start_soon(self._watch_loop)
            nursery.start_soon(self._gate_loop)
            logger.info(
                "node running",
                extra={"peer_id": str(self.peer_id), "addrs": self.addresses()},
            )
            task_status.started()
            await self._stopping.wait()
            nursery.cancel_scope.cancel()

    def stop(self) -> None:
        self._stopping.set()

    def addresses(self) -> list[str]:
        """Where peers can reach this node, with its peer id."""
        return [f"{addr}/p2p/{self.peer_id}" for addr in self.host.get_transport_addrs()]

    # -- the one way in --

    async def submit(self, raw: bytes) -> IngestResult:
        """An event from the local API: validated and stored like any other,
        then gossiped."""
        [(result, event)] = await ingest_decoded(self._store, [raw], self.now_ms(), self.network_id)
        if result.status is IngestStatus.REJECTED and result.reason is not None:
            self.rejected_by_reason[result.reason.value] += 1
        if _stored(result) and event is not None:
            self.counters.api_stored += 1
            self._after_stored([event], arrived_on=None, fresh_only=False)
        return result

    async def publish(
        self, kind: str, body: dict[str, Any], *, group: bytes | None = None
    ) -> SignedEvent:
        """An act of the node's own key (its peer record)."""
        published = await governance.publish(
            self._store, self.key, kind, body, group=group, now_ms=self.now_ms()
        )
        self._after_stored([published.event], arrived_on=None, fresh_only=False)
        return published.event

    async def _judge(self, data: bytes, forwarder: ID, topic: str) -> Verdict:
        if self.gate.refused(forwarder) is not None:
            # Banned or denied, and about to be disconnected: take nothing.
            self.counters.gossip_refused += 1
            return Verdict.IGNORE
        [(result, event)] = await ingest_decoded(
            self._store, [data], self.now_ms(), self.network_id
        )
        if _stored(result) and event is not None:
            self.counters.gossip_stored += 1
            self._after_stored([event], arrived_on=topic, fresh_only=False)
            return Verdict.RELAY
        if result.status is IngestStatus.DUPLICATE:
            self.counters.gossip_duplicates += 1
            return Verdict.RELAY
        if result.reason is Reason.MISSING_REFS:
            # The forwarder had what this refs, or will: ask it.
            self.counters.gossip_ignored += 1
            self._want_sync(forwarder)
            return Verdict.IGNORE
        if result.reason is Reason.TS_IN_FUTURE:
            # Our clock may be the one behind: no fault of the forwarder's
            # (specs/events.md section 6), and the event will do later.
            self.counters.gossip_ignored += 1
            return Verdict.IGNORE
        self.counters.gossip_rejected += 1
        if result.reason is not None:
            self.rejected_by_reason[result.reason.value] += 1
        logger.info(
            "gossip rejected",
            extra={"peer": str(forwarder), "reason": str(result.reason), "detail": result.detail},
        )
        return Verdict.REJECT

    async def _stored_by_sync(self, events: list[SignedEvent], peer: ID) -> None:
        self.counters.sync_stored += len(events)
        self._after_stored(events, arrived_on=None, fresh_only=True)

    def _after_stored(
        self,
        events: list[SignedEvent],
        *,
        arrived_on: str | None,
        fresh_only: bool,
    ) -> None:
        self.event_count += len(events)
        oldest_fresh = self.now_ms() - self.config.fresh_ms
        groups = self._store.state.groups
        for event in events:
            self.events_by_kind[event.kind] += 1
            if event.kind in TOPOLOGY_KINDS:
                if event.kind == "peer.record":
                    self._note_peer_record(event)
                self._topology_stale.set()
            elif (
                event.kind == "result.count"
                and self.scope is not None
                and event.group not in self.scope
                and event.group in self._contested()
            ):
                self._topology_stale.set()
            if self.gossip is None or (fresh_only and event.ts < oldest_fresh):
                continue
            for topic in self.position.relay_topics(event.kind, event.group, groups, arrived_on):
                self.gossip.publish(topic, event.raw)
                self.counters.published += 1

    async def _gate_loop(self) -> None:
        """Apply the gate: ban a peer whose misbehaviour passed the ban
        threshold (it forwarded invalid events, flooded a topic, or broke
        sync sessions), and close the connections of every
        refused peer (banned, or listed in the deny file)."""
        threshold = self.config.gossip.ban_threshold
        while True:
            self.gate.refresh()
            for peer in self.host.get_connected_peers():
                if self.gate.refused(peer) is None and self.gossip is not None:
                    penalty = self.gossip.misbehaviour(peer)
                    if penalty > threshold:
                        self.gate.ban(peer, f"misbehaviour {penalty:.0f} over {threshold:.0f}")
                        self.counters.bans += 1
                if self.gate.refused(peer) is not None:
                    self.counters.gate_disconnects += 1
                    with contextlib.suppress(Exception):
                        await self.host.disconnect(peer)
            await trio.sleep(self.config.gate_interval_s)

    def _misbehaved(self, peer: ID, reason: str) -> None:
        self.rejected_by_reason.update(reason.split(","))
        if self.gossip is not None:
            self.gossip.penalize(peer)

    # -- topology --

    async def _load_peer_records(self) -> None:
        after: Key | None = None
        while page := await self._store.events.query(
            kind="peer.record", after=after, limit=MAX_LIMIT
        ):
            for stored in page:
                self._note_peer_record(parse_event(stored.raw))
            after = page[-1].key

    def _note_peer_record(self, event: SignedEvent) -> None:
        known = self.peer_records.get(event.author)
        if known is None or known[0] < event.ts:
            self.peer_records[event.author] = (event.ts, list(event.event.body["addrs"]))

    async def _announce(self) -> None:
        """Sign a peer record of the addresses this node listens on, unless
        the newest one says the same."""
        addrs = sorted(addr.to_bytes() for addr in self.host.get_transport_addrs())
        known = self.peer_records.get(self.public_key)
        if not addrs or (known is not None and sorted(known[1]) == addrs):
            return
        await self.publish("peer.record", {"addrs": addrs[:16]})

    def _contested(self) -> set[bytes]:
        """Groups whose counter signed two different results of a ballot.
        A node that holds the group's votes recounts and applies the true
        one; a node that does not applies the first and cannot tell, and
        the ballot may never stand there. So their events (the votes) come
        into this node's sync scope (specs/network.md section 5)."""
        evidence = self._store.state.ballots.evidence
        return {found.group for found in evidence if found.kind == "equivocation"}

    async def _topology_loop(self) -> None:
        while True:
            await self._topology_stale.wait()
            await trio.sleep(self.config.topology_delay_s)
            self._topology_stale = trio.Event()
            await self._refresh_topology()

    async def _refresh_topology(self) -> None:
        groups = self._store.state.groups
        served = groups.served_by(self.public_key)
        self.position = Position.of(self.network_id, groups, served)
        scope = sync_scope(groups, served, MAX_SCOPE)
        self.scope = None if scope is None else sorted({*scope, *self._contested()})
        if self.gossip is not None:
            await self.gossip.join(set(self.position.topics))
        wanted: dict[ID, Wanted] = {}

        def want(peer: ID, role: str, addrs: list[Multiaddr], found_by: str) -> None:
            known = wanted.get(peer)
            if known is None or (addrs and not known.addrs):
                known = wanted[peer] = Wanted(
                    peer, known.roles if known else set(), addrs, found_by
                )
            known.roles.add(role)

        self._groups_of = {}
        for group_id, role in neighbour_groups(groups, served).items():
            for node_key in groups.group(group_id).nodes:
                peer = peer_of(node_key)
                if addrs := self._addrs_of(node_key):
                    want(peer, role, addrs, "peer-record")
                else:
                    want(peer, role, self._cached_addrs(peer), "cache")
                self._groups_of.setdefault(peer, set()).add(group_id)
        if self.discovery is not None:
            for info in self.discovery.local_peers.values():
                want(info.peer_id, "local", list(info.addrs), "mdns")
        for info in self.bootstrap:
            want(info.peer_id, "bootstrap", list(info.addrs), "bootstrap")
        if not self.bootstrap:
            # Started with no bootstrap peer: those of earlier runs will do.
            for peer, cached in self._peer_cache.items():
                if "bootstrap" in cached.roles:
                    want(peer, "bootstrap", self._cached_addrs(peer), "cache")
        self.links.want(wanted.values())

    def _addrs_of(self, node_key: bytes) -> list[Multiaddr]:
        known = self.peer_records.get(node_key)
        return [] if known is None else _multiaddrs(known[1])

    def _cached_addrs(self, peer: ID) -> list[Multiaddr]:
        cached = self._peer_cache.get(peer)
        return [] if cached is None else _multiaddrs(cached.addrs)

    # -- the peer cache --

    async def _load_peer_cache(self) -> None:
        for cached in await self._store.events.cached_peers(self.now_ms()):
            with contextlib.suppress(ValueError):  # not a peer id: skipped
                self._peer_cache[ID.from_base58(cached.peer_id)] = cached

    async def _remember(self, peer: ID) -> None:
        """Cache where a newly linked peer was reached: the addresses dialled,
        or those it gave by identify if it dialled first."""
        link = self.links.links.get(peer)
        if link is None:
            return
        addrs = link.addrs
        if link.reached_by == "existing" or not addrs:
            try:
                addrs = self.host.get_peerstore().addrs(peer)
            except PeerStoreError:  # gone already, or identify not yet done
                addrs = []
        if not addrs:
            return
        now = self.now_ms()
        cached = CachedPeer(str(peer), tuple(map(str, addrs)), tuple(sorted(link.roles)), now)
        try:
            await self._store.events.remember_peers([cached], now)
        except StorageError as exc:  # the cache is a help, not a record
            logger.warning("peer cache not written", extra={"error": str(exc)})
            return
        self._peer_cache[peer] = cached

    # -- discovery --

    async def _discovery_loop(self) -> None:
        """Announce the groups served; look up the neighbours with no address;
        take in what mDNS found."""
        assert self.discovery is not None
        # When each group is next announced, and after how long a failure.
        next_provide: dict[bytes, float] = {}
        backoff: dict[bytes, float] = {}
        while True:
            with trio.move_on_after(self.config.lookup_interval_s):
                await self.discovery.changed.wait()
            if self.discovery.changed.is_set():
                self.discovery.changed = trio.Event()
                self._topology_stale.set()
            if self.discovery.dht is None:
                continue
            now = trio.current_time()
            due = [g for g in self.position.served if now >= next_provide.get(g, now)]
            for group_id in due if self.links.connected() else []:
                if await self.discovery.provide(group_id):
                    backoff.pop(group_id, None)
                    next_provide[group_id] = now + self.config.provide_interval_s
                else:
                    # Every announcement walks the DHT: a failing one is
                    # tried again later and later, not at every turn.
                    wait = min(backoff.get(group_id, 1.0) * 2, self.config.provide_interval_s)
                    backoff[group_id] = wait
                    next_provide[group_id] = now + wait
            for link in list(self.links.links.values()):
                if link.state == "no-address":
                    await self._look_up(link.peer)

    async def _look_up(self, peer: ID) -> None:
        """Ask the DHT who serves the groups ``peer`` serves, and take the
        addresses of ``peer`` itself only: the groups' nodes are named by
        signed events, and a provider record naming another peer proves
        nothing."""
        assert self.discovery is not None
        for group_id in sorted(self._groups_of.get(peer, ())):
            for info in await self.discovery.providers(group_id):
                if info.peer_id == peer and info.addrs:
                    self.links.learn(peer, list(info.addrs), "dht")
                    return

    # -- what another process committed --

    async def _watch_loop(self) -> None:
        while True:
            await trio.sleep(self.config.watch_interval_s)
            await self._catch_up()

    async def _catch_up(self) -> None:
        """Fold and gossip what was committed beside the node since the last
        look: an act of ``ayllu propose``, ``ayllu vote``, ``ayllu event
        import`` on this data directory while the node runs."""
        while True:
            seq, rows = await self._store.catch_up(self._seq, MAX_LIMIT)
            if seq == self._seq:
                return
            self._seq = seq
            if rows:
                foreign = [parse_event(row.raw) for row in rows]
                logger.info("events committed beside the node", extra={"count": len(foreign)})
                self._after_stored(foreign, arrived_on=None, fresh_only=False)

    # -- sync --

    def _connected(self, peer: ID) -> None:
        self._want_sync(peer)
        if self._nursery is not None:
            self._nursery.start_soon(self._remember, peer)
        link = self.links.links.get(peer)
        if self.discovery is not None and self._nursery is not None and link is not None:
            # Any linked peer routes DHT queries; a bootstrap peer first of all.
            self._nursery.start_soon(self.discovery.add_peer, peer)

    def request_sync(self, peers: Sequence[ID] | None = None) -> list[ID]:
        """Sync now (an operator's or a bridge's ask, not waiting for the
        interval) with ``peers``, those of them that are connected; with
        None, every link that is up (an archive: every connected peer). The
        peers asked, sorted."""
        connected = set(self.host.get_connected_peers())
        if peers is None:
            wanted = set(self.links.connected())
            if self.config.archive:
                wanted |= connected
        else:
            wanted = set(peers) & connected
        if not self.config.sync:
            wanted = set()
        for peer in wanted:
            self._want_sync(peer)
        return sorted(wanted, key=str)

    def _want_sync(self, peer: ID) -> None:
        self._sync_wanted.add(peer)
        self._sync_requested.set()

    async def _sync_loop(self) -> None:
        """Sessions run side by side, a few at a time, so that a peer that
        stalls its sessions (a lying bootstrap peer) delays no other."""
        next_round = trio.current_time()
        running: set[ID] = set()
        sessions = trio.CapacityLimiter(SYNC_SESSIONS_AT_ONCE)

        async def session(peer: ID) -> None:
            try:
                async with sessions:
                    await self._sync_one(peer)
            finally:
                running.discard(peer)
                if peer in self._sync_wanted:
                    self._sync_requested.set()

        async with trio.open_nursery() as nursery:
            while True:
                with trio.move_on_at(next_round):
                    await self._sync_requested.wait()
                self._sync_requested = trio.Event()
                if trio.current_time() >= next_round:
                    self._sync_wanted.update(self.links.connected())
                    if self.config.archive:
                        self._sync_wanted.update(self.host.get_connected_peers())
                    next_round = trio.current_time() + self.config.sync_interval_s
                # A peer's next session waits for its last to end; a peer
                # wanted meanwhile is kept for the next turn.
                wanted = sorted(self._sync_wanted - running, key=str)
                self._sync_wanted &= running
                for peer in wanted:
                    if not SyncService.refused_by(self.host, peer):
                        running.add(peer)
                        nursery.start_soon(session, peer)

    async def _sync_one(self, peer: ID) -> None:
        self.counters.sync_sessions += 1
        try:
            await self._session(peer)
        finally:
            self.counters.sync_ended += 1

    async def _session(self, peer: ID) -> None:
        link = self.links.links.get(peer)
        try:
            with trio.fail_after(self.config.sync_timeout_s):
                report = await self.sync.sync_with(self.host, peer, self.scope)
        except SESSION_ERRORS as exc:
            self.counters.sync_failures += 1
            logger.info(
                "sync failed", extra={"peer": str(peer), "error": f"{type(exc).__name__}: {exc}"}
            )
            return
        if link is not None:
            link.last_sync_ms = self.now_ms()
            link.last_sync = {
                "rounds": report.rounds,
                "need": report.need,
                "have": report.have,
                "fetched": report.fetched,
                "offered": report.offered,
                "held": report.held,
            }

    # -- status --

    def metrics(self) -> Metrics:
        c, gossip = self.counters, self.gossip
        return Metrics(
            peers_connected=len(self.host.get_connected_peers()),
            links_by_state=dict(Counter(link.state for link in self.links.links.values())),
            events_by_kind=dict(self.events_by_kind),
            sync_sessions=c.sync_sessions,
            sync_failures=c.sync_failures,
            gossip_by_outcome={
                "stored": c.gossip_stored,
                "duplicate": c.gossip_duplicates,
                "ignored": c.gossip_ignored,
                "rejected": c.gossip_rejected,
            },
            rejected_by_reason=dict(self.rejected_by_reason),
            publishes_dropped=0 if gossip is None else gossip.dropped_publishes,
        )

    def bridge_status(self, groups: Sequence[bytes] = ()) -> list[dict[str, Any]]:
        """What is stuck where, for a human bridge: for each group (by default
        those served and their neighbours), its nodes, whether this node
        reaches them, when it last synced with each, and what the last
        session found missing on either side (``need``: here, ``have``:
        there) and left waiting for refs (``held``)."""
        state_groups = self._store.state.groups
        chosen = list(groups) or sorted(
            {*self.position.served, *neighbour_groups(state_groups, self.position.served)}
        )
        rows = []
        for group_id in chosen:
            group = state_groups.group(group_id)
            nodes = []
            for node_key in group.nodes:
                peer = peer_of(node_key)
                link = self.links.links.get(peer)
                record = self.peer_records.get(node_key)
                nodes.append(
                    {
                        "node_key": node_key.hex(),
                        "peer_id": str(peer),
                        "self": node_key == self.public_key,
                        "state": "self"
                        if node_key == self.public_key
                        else ("not linked" if link is None else link.state),
                        "peer_record_ms": None if record is None else record[0],
                        "last_sync_ms": None if link is None else link.last_sync_ms,
                        "last_sync": {} if link is None else link.last_sync,
                    }
                )
            rows.append(
                {
                    "group": group_id.hex(),
                    "name": group.name,
                    "level": group.level,
                    "reachable": any(n["state"] in ("connected", "self") for n in nodes),
                    "nodes": nodes,
                }
            )
        return rows

    def health(self) -> dict[str, Any]:
        """``ok`` while the node reaches at least one of the peers it wants
        (or wants none yet: a node not yet placed, with no bootstrap);
        ``degraded`` otherwise, with why."""
        wanted = len(self.links.links)
        connected = len(self.links.connected())
        problems = [] if connected or not wanted else [f"none of {wanted} links is up"]
        return {
            "status": "degraded" if problems else "ok",
            "problems": problems,
            "links_up": connected,
            "links_wanted": wanted,
            "events": self.event_count,
        }

    def status(self) -> dict[str, Any]:
        groups = self._store.state.groups
        gossip = self.gossip
        return {
            "peer_id": str(self.peer_id),
            "node_key": self.public_key.hex(),
            "network": self.network_id.hex(),
            "addrs": self.addresses(),
            "relay": gossip is not None,
            "groups": [
                {"id": gid.hex(), "name": groups.group(gid).name, "level": groups.group(gid).level}
                for gid in self.position.served
            ],
            # The topics joined, with the peers known in each (none for a
            # sync-only node).
            "topics": {}
            if gossip is None
            else {topic: gossip.peers(topic) for topic in sorted(gossip.topics)},
            "links": self.links.describe(),
            "sync_scope": None if self.scope is None else [g.hex() for g in self.scope],
            "events": self.event_count,
            # Events refused entry, by reason code: a peer lying shows here.
            "rejected": dict(sorted(self.rejected_by_reason.items())),
            # Whom the node refuses: the deny file's peers, and its bans.
            "gate": self.gate.describe(),
            "counters": vars(self.counters)
            | {"publishes_dropped": 0 if gossip is None else gossip.dropped_publishes},
        }


def _peer_infos(addresses: Sequence[str]) -> list[PeerInfo]:
    """The bootstrap peers: those configured, else the network's defaults
    (specs/genesis.md); an address that does not parse is skipped, and said."""
    found = []
    for address in addresses:
        try:
            found.append(info_from_p2p_addr(Multiaddr(address)))
        except Exception as exc:  # py-multiaddr raises several kinds
            logger.warning(
                "bootstrap address skipped", extra={"address": address, "error": str(exc)}
            )
    return found


def _multiaddrs(addrs: Sequence[bytes | str]) -> list[Multiaddr]:
    """The addresses of ``addrs`` that parse; a record or the cache may hold
    anything."""
    parsed: list[Multiaddr] = []
    for addr in addrs:
        with contextlib.suppress(Exception):
            parsed.append(Multiaddr(addr))
    return parsed


def _stored(result: IngestResult) -> bool:
    return result.status in (IngestStatus.ACCEPTED, IngestStatus.REFUSED)
