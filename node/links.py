"""The links a node keeps: dialled, watched, and dialled again after failures.

A node wants a link with every node of its neighbouring groups (parent,
siblings, children, grandparent; protocol/topics.py) and with its bootstrap
peers. Each wanted link is dialled when due; a failure pushes the next try
back exponentially (1 s, 2 s, 4 s, ... up to a minute, with jitter so that
a family that lost its parent at once does not redial in step), and a
dropped connection is noticed and redialled. Which links are wanted
changes with the network's state; the node tells ``Links`` with ``want``.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import trio
from libp2p.abc import IHost
from libp2p.exceptions import BaseLibp2pError
from libp2p.peer.id import ID
from libp2p.peer.peerinfo import PeerInfo
from multiaddr import Multiaddr

logger = logging.getLogger(__name__)

#: Seconds: the first retry, the longest wait between tries, one dial's limit.
BACKOFF_FIRST_S = 1.0
BACKOFF_MAX_S = 60.0
DIAL_TIMEOUT_S = 10.0
#: How often links are checked, and how many dials may run at once.
CHECK_INTERVAL_S = 0.5
MAX_CONCURRENT_DIALS = 4


@dataclass(frozen=True)
class Wanted:
    """A peer the node wants a link with, and what it knows of where it is."""

    peer: ID
    roles: set[str]
    addrs: list[Multiaddr]
    found_by: str


@dataclass
class Link:
    """One wanted peer and what the node knows of the way to it."""

    peer: ID
    roles: set[str]
    addrs: list[Multiaddr]
    #: Where ``addrs`` came from: peer-record, dht, mdns, bootstrap, cache.
    found_by: str = ""
    #: How the connection came up: the ``found_by`` of the addresses
    #: dialled, or "existing" when a connection was up before
    #: the node dialled (the peer dialled, or the DHT did).
    reached_by: str = ""
    state: str = "idle"  # idle | dialling | connected | backoff | no-address | refused
    failures: int = 0
    next_try: float = 0.0
    last_error: str = ""
    last_sync_ms: int | None = None
    last_sync: dict[str, Any] = field(default_factory=dict)

    def describe(self) -> dict[str, Any]:
        return {
            "peer_id": str(self.peer),
            "roles": sorted(self.roles),
            "addrs": [str(addr) for addr in self.addrs],
            "found_by": self.found_by,
            "reached_by": self.reached_by,
            "state": self.state,
            "failures": self.failures,
            "last_error": self.last_error,
            "last_sync_ms": self.last_sync_ms,
            "last_sync": self.last_sync,
        }


class Links:
    """Keeps the wanted links up; ``on_connected`` hears of each new one."""

    def __init__(
        self,
        host: IHost,
        on_connected: Callable[[ID], None],
        refused: Callable[[ID], str | None] = lambda _peer: None,
    ) -> None:
        self._host = host
        self._on_connected = on_connected
        self._refused = refused
        self.links: dict[ID, Link] = {}
        self._dials = trio.CapacityLimiter(MAX_CONCURRENT_DIALS)
        self._random = random.Random()

    def want(self, wanted: Iterable[Wanted]) -> None:
        """Replace the wanted set, keeping what is known of links kept."""
        fresh: dict[ID, Link] = {}
        for want in wanted:
            if want.peer == self._host.get_id():
                continue
            link = self.links.get(want.peer) or Link(want.peer, set(), [])
            link.roles = set(want.roles)
            fresh[want.peer] = link
            if want.addrs and set(map(str, want.addrs)) != set(map(str, link.addrs)):
                self.learn(want.peer, want.addrs, want.found_by, links=fresh)
        self.links = fresh

    def learn(
        self,
        peer: ID,
        addrs: list[Multiaddr],
        found_by: str,
        *,
        links: dict[ID, Link] | None = None,
    ) -> None:
        """New addresses for a wanted peer: worth trying at once."""
        link = (self.links if links is None else links).get(peer)
        if link is not None and addrs:
            link.addrs, link.found_by, link.next_try = list(addrs), found_by, 0.0
            if link.state in ("no-address", "backoff"):
                link.state = "idle"

    def connected(self) -> list[ID]:
        return [peer for peer, link in self.links.items() if link.state == "connected"]

    def describe(self) -> list[dict[str, Any]]:
        return [self.links[peer].describe() for peer in sorted(self.links, key=str)]

    async def run(self) -> None:
        async with trio.open_nursery() as nursery:
            while True:
                self._check(nursery)
                await trio.sleep(CHECK_INTERVAL_S)

    def _check(self, nursery: trio.Nursery) -> None:
        now = trio.current_time()
        live = set(self._host.get_connected_peers())
        for link in self.links.values():
            why = self._refused(link.peer)
            if why is not None:
                # Not dialled; the node closes what connection there is.
                link.state, link.last_error = "refused", why
                continue
            if link.state == "refused":
                link.state, link.next_try = "idle", now
            if link.peer in live:
                if link.state not in ("connected", "dialling"):
                    link.reached_by = "existing"
                    self._up(link)
                continue
            if link.state == "dialling":
                continue
            if link.state == "connected":
                logger.info("link to %s dropped", link.peer)
                link.state, link.next_try = "idle", now
            if not link.addrs:
                link.state = "no-address"
            elif now >= link.next_try:
                link.state = "dialling"
                nursery.start_soon(self._dial, link)

    async def _dial(self, link: Link) -> None:
        async with self._dials:
            try:
                with trio.fail_after(DIAL_TIMEOUT_S):
                    await self._host.connect(PeerInfo(link.peer, link.addrs))
            except (BaseLibp2pError, OSError, trio.TooSlowError, trio.BrokenResourceError) as exc:
                link.failures += 1
                wait = min(BACKOFF_MAX_S, BACKOFF_FIRST_S * 2 ** (link.failures - 1))
                link.next_try = trio.current_time() + wait * self._random.uniform(0.75, 1.25)
                link.state, link.last_error = "backoff", f"{type(exc).__name__}: {exc}"[:200]
                logger.info("dial %s failed (%d): %s", link.peer, link.failures, exc)
                return
        link.reached_by = link.found_by
        self._up(link)

    def _up(self, link: Link) -> None:
        link.state, link.failures, link.last_error = "connected", 0, ""
        self._on_connected(link.peer)
