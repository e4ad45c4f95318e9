"""Finding peers with no peer record yet: the Kademlia DHT and mDNS.

Peer records travel with the events, so a node that has synced once knows
where its neighbours are. A node that has not (a new community node with
nothing but bootstrap addresses, or none) finds them two more ways
(specs/network.md section 3.1):

- **DHT.** Every node is a Kademlia server (``/ipfs/kad/1.0.0``) and
  announces a *provider record* for each group it serves, keyed by the
  group id; a node looks up the groups of the neighbours it cannot reach.
  A provider record proves nothing: only peers whose key a ``group.nodes``
  event names for that group are linked with, so a bootstrap peer lying in
  the DHT sends a node nowhere it would not go.
- **mDNS** on the local network, under a service name of the network
  (``_p2p-<first 10 hex digits of the network id>._udp.local``: DNS-SD
  service names are at most 15 bytes), so two
  community nodes on one Wi-Fi find each other with no bootstrap and no
  internet, and nodes of other networks are not even seen.
"""

from __future__ import annotations

import contextlib
import logging
from typing import TYPE_CHECKING

import trio
from libp2p.abc import IHost
from libp2p.discovery.events.peerDiscovery import peerDiscovery
from libp2p.discovery.mdns.mdns import create_mdns_discovery
from libp2p.kad_dht.kad_dht import DHTMode, KadDHT
from libp2p.peer.id import ID
from libp2p.peer.peerinfo import PeerInfo
from libp2p.tools.anyio_service import background_trio_service

if TYPE_CHECKING:
    # py-libp2p's trio-typing stubs shadow trio's own types for mypy.
    from trio_typing import TaskStatus

logger = logging.getLogger(__name__)

#: How many providers a lookup asks for.
PROVIDERS_WANTED = 8
#: Seconds a DHT request may take.
DHT_TIMEOUT_S = 10.0
#: What handing a found peer to trio may meet: trio gone, or a full queue.
_GONE = (trio.RunFinishedError, trio.WouldBlock, trio.ClosedResourceError)


def enable_mdns(host: IHost, network_id: bytes) -> None:
    """Have ``host`` announce and browse mDNS for this network's nodes
    (started and stopped with ``host.run``)."""
    host.mDNS = create_mdns_discovery(  # type: ignore[attr-defined]
        host.get_network(), host=host, private_network_fingerprint=network_id.hex()[:10]
    )


class Discovery:
    """A node's Kademlia DHT, and the peers mDNS found for it."""

    def __init__(self, host: IHost, *, dht: bool) -> None:
        """Made inside trio, before the host runs: mDNS may find a peer as
        soon as the host starts, and what it finds waits here until ``run``."""
        self._host = host
        self.dht = KadDHT(host, DHTMode.SERVER) if dht else None
        self.local_peers: dict[ID, PeerInfo] = {}
        self._found_send, self._found = trio.open_memory_channel[PeerInfo](256)
        self.changed = trio.Event()
        token = trio.lowlevel.current_trio_token()

        def on_peer(info: PeerInfo) -> None:
            # Called on zeroconf's browser thread, not trio's.
            with contextlib.suppress(*_GONE):
                trio.from_thread.run_sync(self._found_send.send_nowait, info, trio_token=token)

        self._on_peer = on_peer
        peerDiscovery.register_peer_discovered_handler(on_peer)

    async def run(self, *, task_status: TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        try:
            async with contextlib.AsyncExitStack() as stack:
                if self.dht is not None:
                    await stack.enter_async_context(background_trio_service(self.dht))
                async with trio.open_nursery() as nursery:
                    nursery.start_soon(self._collect)
                    task_status.started()
                    await trio.sleep_forever()
        finally:
            peerDiscovery.unregister_peer_discovered_handler(self._on_peer)

    async def _collect(self) -> None:
        me = self._host.get_id()
        async for info in self._found:
            if info.peer_id != me and info.peer_id not in self.local_peers:
                logger.info("found on the local network", extra={"peer": str(info.peer_id)})
                self.local_peers[info.peer_id] = info
                self.changed.set()

    async def add_peer(self, peer: ID) -> None:
        """A peer to route DHT queries through (a bootstrap peer)."""
        if self.dht is None:
            return
        with contextlib.suppress(Exception), trio.move_on_after(DHT_TIMEOUT_S):
            await self.dht.add_peer(peer)

    async def provide(self, group_id: bytes) -> bool:
        """Announce that this node serves ``group_id``."""
        if self.dht is None:
            return False
        try:
            with trio.fail_after(DHT_TIMEOUT_S):
                return bool(await self.dht.provide(group_id.hex()))
        except Exception as exc:  # py-libp2p raises many kinds; a failed try is retried
            logger.info("provide failed", extra={"error": f"{type(exc).__name__}: {exc}"})
            return False

    async def providers(self, group_id: bytes) -> list[PeerInfo]:
        """The peers that say they serve ``group_id`` (unproven)."""
        if self.dht is None:
            return []
        try:
            with trio.fail_after(DHT_TIMEOUT_S):
                found = await self.dht.find_providers(group_id.hex(), PROVIDERS_WANTED)
        except Exception as exc:
            logger.info("lookup failed", extra={"error": f"{type(exc).__name__}: {exc}"})
            return []
        return list(found)
