"""A bootstrap peer that stores nothing: the Kademlia DHT and a rendezvous
point only. For tests of discovery that must not find peers through an
archive's events."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import trio
from libp2p.discovery.rendezvous import RendezvousService
from multiaddr import Multiaddr
from nacl.signing import SigningKey

from node.discovery import Discovery
from node.host import make_host

if TYPE_CHECKING:
    from trio_typing import TaskStatus


@dataclass
class Directory:
    """A bootstrap peer that stores nothing: the DHT and rendezvous only."""

    key: SigningKey
    listen: Sequence[str]

    def __post_init__(self) -> None:
        self.host = make_host(self.key)
        self.discovery = Discovery(self.host, dht=True)
        self.rendezvous = RendezvousService(self.host)
        self._stopping = trio.Event()

    def addresses(self) -> list[str]:
        return [f"{a}/p2p/{self.host.get_id()}" for a in self.host.get_transport_addrs()]

    def stop(self) -> None:
        self._stopping.set()

    async def run(self, *, task_status: TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        async with self.host.run([Multiaddr(a) for a in self.listen]):
            try:
                async with trio.open_nursery() as nursery:
                    await nursery.start(self.discovery.run)
                    task_status.started()
                    await self._stopping.wait()
                    nursery.cancel_scope.cancel()
            finally:
                await self.host.close()
