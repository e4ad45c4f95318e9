"""A censoring parent, as a process of its own: ``python censoring_node.py``
takes the options of ``ayllu run``, plus ``--mode`` (once for every node,
or once per ``--data-dir``, in the same order) and ``--delay``.

It is a real node (it validates and stores everything like any other, and
publishes its own acts and whatever is submitted through its API), except
that it works against everything it should carry for others, that is
every event it got from a peer, by gossip or by sync:

- ``drop``: relays none of it, on no topic, and serves none of it in sync
  sessions (it says it has those events, and never sends them);
- ``delay``: relays and serves each only ``--delay`` seconds after it
  arrived;
- ``reorder``: relays them in batches, each batch newest first, and
  serves and offers them in sync newest first.

Its children's events must still reach the rest of the network, through
their siblings and their grandparent (protocol/topics.py), within a
bounded time (tests/helpers/faults_adversaries.py ``censoring_parent``).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import click
import trio
from nacl.signing import SigningKey

from node.cli_run import launch, node_options
from node.gossip import Verdict
from node.host import MAX_CONNECTIONS
from node.runtime import Node, NodeConfig
from protocol.event import SignedEvent, parse_event
from storage.state import NetworkStore

MODES = ("drop", "delay", "reorder")
#: Seconds between the batches a reordering parent relays.
REORDER_BATCH_S = 1.0


class Censor:
    """Turns a node into a censoring parent (see the module's docstring).

    It wraps the node's seams: ``_after_stored`` (where a stored event is
    gossiped on), the gossip validator's judge (whose verdict decides
    whether gossipsub forwards within the topic), and the sync service's
    ``_events`` (what a GET is answered with) and ``_offer`` (what is put to
    a peer)."""

    def __init__(self, node: Node, mode: str, delay_s: float) -> None:
        if mode not in MODES:
            raise ValueError(f"no mode {mode!r}; there are {MODES}")
        self.node, self.mode, self.delay_s = node, mode, delay_s
        #: Events that came from peers, and when (trio clock).
        self.arrived: dict[bytes, float] = {}
        self._batch: list[SignedEvent] = []
        self._honest_after_stored = node._after_stored
        node._after_stored = self._after_stored  # type: ignore[method-assign]
        if node.gossip is not None:
            self._honest_judge = node.gossip._judge
            node.gossip._judge = self._judge
        self._honest_events = node.sync._events
        node.sync._events = self._serve  # type: ignore[method-assign]
        self._honest_offer = node.sync._offer
        node.sync._offer = self._offer  # type: ignore[method-assign]

    # -- gossip --

    async def _judge(self, data: bytes, forwarder: Any, topic: str) -> Verdict:
        """Take the event in as an honest node would, but never let
        gossipsub forward it: what is carried on, and when, is the
        censor's choice (``_release``)."""
        verdict = await self._honest_judge(data, forwarder, topic)
        return Verdict.IGNORE if verdict is Verdict.RELAY else verdict

    def _after_stored(
        self, events: list[SignedEvent], *, arrived_on: str | None, fresh_only: bool, **how: Any
    ) -> None:
        # What the node's watcher finds committed beside it counts as from
        # peers too: no command runs beside a censor, and a sync session
        # commits before it tells the node (which the watcher can race).
        from_peers = arrived_on is not None or fresh_only or not how.get("own", True)
        if not from_peers:  # its own acts, and its users': published honestly
            self._honest_after_stored(events, arrived_on=arrived_on, fresh_only=fresh_only, **how)
            return
        gossip, self.node.gossip = self.node.gossip, None
        try:  # the bookkeeping of an honest node, without the publishing
            self._honest_after_stored(events, arrived_on=arrived_on, fresh_only=fresh_only, **how)
        finally:
            self.node.gossip = gossip
        new = [event for event in events if event.id not in self.arrived]
        now = trio.current_time()
        self.arrived.update(dict.fromkeys((event.id for event in new), now))
        nursery = self.node._nursery
        if self.mode == "drop" or nursery is None or not new:
            return
        if self.mode == "delay":
            nursery.start_soon(self._release_later, new)
        else:
            if not self._batch:
                nursery.start_soon(self._release_batch)
            self._batch.extend(new)

    async def _release_later(self, events: list[SignedEvent]) -> None:
        await trio.sleep(self.delay_s)
        self._release(events)

    async def _release_batch(self) -> None:
        await trio.sleep(REORDER_BATCH_S)
        batch, self._batch = self._batch, []
        self._release(batch[::-1])

    def _release(self, events: list[SignedEvent]) -> None:
        """Publish ``events`` on every topic of the node, in this order."""
        gossip, node = self.node.gossip, self.node
        if gossip is None:
            return
        groups = node.store.state.groups
        for event in events:
            for topic in node.position.relay_topics(event.kind, event.group, groups, None):
                gossip.publish(topic, event.raw)
                node.counters.published += 1

    # -- sync --

    def _withheld(self, event_id: bytes) -> bool:
        arrived = self.arrived.get(event_id)
        if arrived is None or self.mode == "reorder":
            return False
        return self.mode == "drop" or trio.current_time() - arrived < self.delay_s

    async def _serve(self, ids: list[bytes]) -> list[bytes]:
        raws = [raw for raw in await self._honest_events(ids) if not self._withheld(_id(raw))]
        return raws[::-1] if self.mode == "reorder" else raws

    async def _offer(self, channel: Any, ids: list[bytes]) -> int:
        kept = [event_id for event_id in ids if not self._withheld(event_id)]
        if self.mode == "reorder":
            kept.reverse()
        return await self._honest_offer(channel, kept)


def _id(raw: bytes) -> bytes:
    return parse_event(raw).id


def censoring_node(modes: Iterator[str], delay_s: float) -> Any:
    """A node maker (node/cli_run.py ``NodeMaker``) that wraps each node it
    makes in a ``Censor`` of the next mode."""

    def make(key: SigningKey, store: NetworkStore, config: NodeConfig) -> Node:
        return Censor(Node(key, store, config), next(modes), delay_s).node

    return make


@click.command()
@node_options(dht=False, max_connections=MAX_CONNECTIONS)
@click.option(
    "--mode",
    "modes",
    type=click.Choice(MODES),
    multiple=True,
    default=("drop",),
    show_default=True,
    help="How to censor: once for every node, or once per --data-dir.",
)
@click.option(
    "--delay",
    "delay_s",
    type=float,
    default=30.0,
    show_default=True,
    help="Seconds a delaying parent holds what it should relay.",
)
def main(modes: tuple[str, ...], delay_s: float, **options: Any) -> None:
    """Run censoring parent nodes until SIGINT or SIGTERM (no mDNS: they
    are found through their peer records, like the nodes of a test)."""
    if len(modes) not in (1, len(options["data_dirs"])):
        raise click.BadParameter("once, or once per --data-dir", param_hint="--mode")
    chosen = itertools.cycle(modes) if len(modes) == 1 else iter(modes)
    launch(censoring_node(chosen, delay_s), relay=True, mdns=False, **options)


if __name__ == "__main__":
    main()
