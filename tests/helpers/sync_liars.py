"""Sync peers that lie, for the hostile-conditions suite: a store that
holds whatever it is given, valid or not, so that a peer's sync sessions
advertise it like any event (the forgery scenario's liar, the fuzz
scenario's hostile peer), and a sync service that serves other bytes in
place of some of the events asked for.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable

from node.sync import SyncService
from protocol.event import SignedEvent
from protocol.state import Governance
from storage import MemoryEventStore, StoredEvent
from storage.state import NetworkStore


class PlantedStore(MemoryEventStore):
    """A liar's store: holds what it is given, valid or not, so that its
    sync sessions advertise it like any event."""

    def plant(self, event: SignedEvent) -> None:
        if event.id not in self._events:
            e = event.event
            stored = StoredEvent(event.id, e.ts, e.kind, e.group, e.author, event.raw)
            self._events[event.id] = stored
            bisect.insort(self._keys, (e.ts, event.id))


def planted_store(governance: Governance, events: Iterable[SignedEvent]) -> NetworkStore:
    """A network store over a ``PlantedStore`` holding ``events``, with
    ``governance`` as its state (nothing checks the one against the other)."""
    planted = PlantedStore()
    for event in events:
        planted.plant(event)
    return NetworkStore(planted, governance)


class ServingLiar(SyncService):
    """A peer whose sync sessions serve what it planted, and other bytes in
    place of some of the events asked for (``swap``)."""

    def __init__(self, store: NetworkStore, swap: dict[bytes, bytes]) -> None:
        super().__init__(store)
        self.swap = swap
        self.served: set[bytes] = set()

    async def _events(self, ids: list[bytes]) -> list[bytes]:
        found = await self.store.events.get_many(ids)
        out = [self.swap.get(event_id, found[event_id]) for event_id in ids if event_id in found]
        self.served.update(out)
        return out
