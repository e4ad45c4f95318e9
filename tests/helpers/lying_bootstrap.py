"""A malicious bootstrap peer, as a process of its own: ``python
lying_bootstrap.py`` takes the options of ``ayllu bootstrap run``.

It is an archive like any other (the DHT, rendezvous, sync with everyone),
except that what it serves in sync sessions lies:

- it **hides** every ``peer.record`` (where the nodes are) and every
  genuine proposal: it says it has them, and never sends them;
- it **forges**: for each proposal it hears of, it makes a twin with
  another title under the author's original signature, stores it without
  checking, and serves it like any event (the twin's id is new, so every
  node it syncs with asks for it).

Honest nodes must reject the forgeries (``bad_signature``), blame the
liar, and get everything it hides from their other peers.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import click
from nacl.signing import SigningKey

from bootstrap.cli import BOOTSTRAP_MAX_CONNECTIONS
from bootstrap.peer import bootstrap_peer
from node.cli_run import launch, node_options
from node.runtime import Node, NodeConfig
from protocol import cbor
from protocol.event import SignedEvent, parse_event
from storage.state import NetworkStore

HIDDEN_KINDS = frozenset({"peer.record", "proposal"})
FORGED_TITLE = "Forged by the bootstrap peer"


def forge(event: SignedEvent) -> SignedEvent:
    """``event`` with another title and its author's signature, which no
    longer holds."""
    body = {**event.event.body, "title": FORGED_TITLE}
    altered = dataclasses.replace(event.event, body=body)
    return parse_event(b"\x82" + cbor.encode(altered.to_value()) + b"\x58\x40" + event.signature)


class LyingArchive:
    """Turns an archive node into a liar (see the module's docstring)."""

    def __init__(self, node: Node) -> None:
        self.node = node
        self.forged: set[bytes] = set()
        self._serve_honestly = node.sync._events
        node.sync._events = self._serve  # type: ignore[method-assign]
        self._note_stored = node._after_stored
        node._after_stored = self._after_stored  # type: ignore[method-assign]

    async def _serve(self, ids: list[bytes]) -> list[bytes]:
        raws = await self._serve_honestly(ids)
        return [
            raw
            for raw in raws
            if (event := parse_event(raw)).id in self.forged or event.kind not in HIDDEN_KINDS
        ]

    def _after_stored(self, events: list[SignedEvent], **how: Any) -> None:
        self._note_stored(events, **how)
        nursery = self.node._nursery
        for event in events:
            if event.kind == "proposal" and event.id not in self.forged and nursery is not None:
                nursery.start_soon(self._store_forgery, forge(event))

    async def _store_forgery(self, twin: SignedEvent) -> None:
        self.forged.add(twin.id)
        # Straight into the event store: the node's own ingest would refuse it.
        await self.node.store.events.ingest([twin], self.node.now_ms())


def lying_bootstrap_peer(key: SigningKey, store: NetworkStore, config: NodeConfig) -> Node:
    return LyingArchive(bootstrap_peer(key, store, config)).node


@click.command()
@node_options(dht=True, max_connections=BOOTSTRAP_MAX_CONNECTIONS)
def main(**options: Any) -> None:
    """Run a lying bootstrap peer (an archive) until SIGINT or SIGTERM."""
    launch(lying_bootstrap_peer, relay=False, archive=True, **options)


if __name__ == "__main__":
    main()
