"""Gossipsub on the fractal's topics: fast, best effort, never trusted.

Theory of operation
-------------------
Every message is one event in wire form (specs/network.md section 4). Its
topic's validator runs the node's whole ingest path before gossipsub may
forward it: decoded, checked, verified and *committed*, so a message is
relayed only once it is on disk, and an invalid one is never relayed and
costs its forwarder score. An event whose refs the node lacks is neither
relayed nor held against the forwarder: the node fetches what it misses
by sync instead (node/runtime.py).

py-libp2p 0.8.1's defaults do not suit a network of small families
(../shared/DESIGN.md): the parameters are in ``GossipConfig``, documented
in specs/network.md section 4.3. Its queues drop silently when full, so
the node paces its own publishing, reads its subscriptions promptly, and
relies on sync, not gossip, for completeness.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING

import trio
from libp2p.abc import IHost
from libp2p.peer.id import ID
from libp2p.pubsub.gossipsub import PROTOCOL_ID_V11, GossipSub
from libp2p.pubsub.pb import rpc_pb2
from libp2p.pubsub.pubsub import Pubsub
from libp2p.pubsub.score import ScoreParams, TopicScoreParams
from libp2p.pubsub.subscription import TrioSubscriptionAPI
from libp2p.tools.anyio_service import background_trio_service

from protocol.topics import message_id

if TYPE_CHECKING:
    # py-libp2p's trio-typing stubs shadow trio's own types for mypy.
    from trio_typing import TaskStatus

logger = logging.getLogger(__name__)

#: The gossipsub protocol ids offered, newest first (specs/network.md 4.1).
GOSSIP_PROTOCOLS = (PROTOCOL_ID_V11, "/meshsub/1.0.0")


class Verdict(enum.Enum):
    """What the node made of a gossiped event."""

    #: Stored (now or before): forward it.
    RELAY = "relay"
    #: Cannot be judged yet (its refs are missing): drop it, blame no one.
    IGNORE = "ignore"
    #: Invalid: drop it and lower the forwarder's score.
    REJECT = "reject"


#: Judges one message: (event bytes, forwarding peer, topic) -> verdict.
Judge = Callable[[bytes, ID, str], Awaitable[Verdict]]


@dataclass(frozen=True)
class GossipConfig:
    """Gossipsub's parameters for families of at most six nodes."""

    #: Mesh degree D and its bounds: a family topic has at most 6 nodes, so
    #: a node's mesh is nearly all of its family.
    degree: int = 4
    degree_low: int = 2
    degree_high: int = 6
    #: Heartbeat (mesh upkeep and IHAVE gossip), seconds, as the spec says.
    heartbeat_interval_s: int = 1
    #: Heartbeats a message id stays in the gossip window / history.
    gossip_window: int = 3
    gossip_history: int = 5
    #: Seconds a seen message id is remembered (duplicates are dropped).
    seen_ttl_s: int = 120
    #: Messages one peer may forward per topic per second before gossipsub
    #: drops the rest and penalizes it; a vote's burst in a group of five
    #: and a family's results stay far below.
    max_messages_per_topic_per_second: float = 50.0
    #: Our own publishing: messages per second and how many may wait. The
    #: router's per-peer queues hold 32 messages and drop the rest, so a
    #: burst (a node catching up after sync) is paced, and beyond the
    #: queue left to sync.
    publish_per_second: float = 40.0
    publish_queue: int = 2048
    #: Largest inbound RPC frame, bytes: an event is at most 64 KiB.
    max_rpc_size: int = 1 << 20
    #: Validations running at once, and how long one may take (an event
    #: that waits for the store's lock counts).
    max_concurrent_validations: int = 16
    validation_timeout_s: float = 30.0
    #: Score: what one invalid event costs its forwarder, how fast that
    #: decays (per heartbeat), and the thresholds below which a peer's
    #: messages are ignored and the peer is pruned from meshes.
    invalid_penalty: float = 10.0
    penalty_decay: float = 0.99
    publish_threshold: float = -50.0
    gossip_threshold: float = -25.0
    graylist_threshold: float = -80.0
    #: Misbehaviour beyond which the node bans the peer (node/peer_gate.py,
    #: ``Gossip.misbehaviour``): six invalid events, or a flood of eleven
    #: messages past the rate limit, in a short while. (Gossipsub prunes
    #: such a peer from its meshes before its score reaches the graylist,
    #: so the ban comes first.)
    ban_threshold: float = 50.0


class Gossip:
    """A node's gossipsub: topics joined, validators set, a paced publisher."""

    def __init__(self, host: IHost, config: GossipConfig, judge: Judge) -> None:
        self.config = config
        self._judge = judge
        self._me = host.get_id()
        self.router = GossipSub(
            protocols=list(GOSSIP_PROTOCOLS),  # type: ignore[arg-type]
            degree=config.degree,
            degree_low=config.degree_low,
            degree_high=config.degree_high,
            heartbeat_interval=config.heartbeat_interval_s,
            heartbeat_initial_delay=0.1,
            gossip_window=config.gossip_window,
            gossip_history=config.gossip_history,
            max_messages_per_topic_per_second=config.max_messages_per_topic_per_second,
            score_params=ScoreParams(
                # Invalid events are scored by the node itself (Verdict), so
                # that a missing ref is not counted against anyone.
                p4_invalid_messages=TopicScoreParams(weight=0.0),
                p5_behavior_penalty_weight=1.0,
                p5_behavior_penalty_decay=config.penalty_decay,
                publish_threshold=config.publish_threshold,
                gossip_threshold=config.gossip_threshold,
                graylist_threshold=config.graylist_threshold,
            ),
        )
        self.pubsub = Pubsub(
            host,
            self.router,
            seen_ttl=config.seen_ttl_s,
            msg_id_constructor=_message_id,
            max_concurrent_validator_count=config.max_concurrent_validations,
            validation_timeout=config.validation_timeout_s,
            max_inbound_rpc_size=config.max_rpc_size,
        )
        self._outbox_send, self._outbox = trio.open_memory_channel[tuple[str, bytes]](
            config.publish_queue
        )
        self._subscriptions: dict[str, TrioSubscriptionAPI] = {}
        self._nursery: trio.Nursery | None = None
        self.dropped_publishes = 0

    async def run(self, *, task_status: TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        async with (
            background_trio_service(self.pubsub),
            background_trio_service(self.router),
            trio.open_nursery() as nursery,
        ):
            await self.pubsub.wait_until_ready()
            self._nursery = nursery
            nursery.start_soon(self._publisher)
            task_status.started()
            await trio.sleep_forever()

    @property
    def topics(self) -> set[str]:
        return set(self._subscriptions)

    async def join(self, topics: set[str]) -> None:
        """Be in exactly ``topics``: subscribe to the new, leave the old."""
        assert self._nursery is not None, "join() before run() started"
        for topic in sorted(set(self._subscriptions) - topics):
            self.pubsub.remove_topic_validator(topic)
            await self.pubsub.unsubscribe(topic)
            del self._subscriptions[topic]
        for topic in sorted(topics - set(self._subscriptions)):
            self.pubsub.set_topic_validator(
                topic, partial(self._validate, topic), is_async_validator=True
            )
            subscription = await self.pubsub.subscribe(topic)
            assert isinstance(subscription, TrioSubscriptionAPI)
            self._subscriptions[topic] = subscription
            self._nursery.start_soon(_drain, subscription)

    def publish(self, topic: str, data: bytes) -> None:
        """Queue an event for ``topic``; a full queue drops it (sync repairs)."""
        try:
            self._outbox_send.send_nowait((topic, data))
        except trio.WouldBlock:
            self.dropped_publishes += 1

    def peers(self, topic: str) -> list[str]:
        """The peers known to be in ``topic``."""
        return sorted(str(peer) for peer in self.pubsub.peer_topics.get(topic, ()))

    def score(self, peer: ID) -> float:
        scorer = self.router.scorer
        return 0.0 if scorer is None else scorer.score(peer, sorted(self._subscriptions))

    def misbehaviour(self, peer: ID) -> float:
        """What ``peer`` did wrong, by the score's measure: the invalid
        events it forwarded (penalized here) and its messages past the rate
        limit (penalized by the router), decayed. Not the rest of the
        score's penalties: a GRAFT too soon after a PRUNE, which an honest
        node that restarts sends, must not get it banned."""
        scorer = self.router.scorer
        return 0.0 if scorer is None else scorer.behavior_penalty.get(peer, 0.0)

    def penalize(self, peer: ID, amount: float | None = None) -> None:
        if self.router.scorer is not None:
            self.router.scorer.penalize_behavior(
                peer, self.config.invalid_penalty if amount is None else amount
            )

    async def _publisher(self) -> None:
        interval = 1.0 / self.config.publish_per_second
        async for topic, data in self._outbox:
            if topic in self._subscriptions:
                await self.pubsub.publish(topic, data)
            await trio.sleep(interval)

    async def _validate(self, topic: str, forwarder: ID, message: rpc_pb2.Message) -> bool:
        if forwarder == self._me:
            # Our own publication: committed before it was queued.
            return True
        if list(message.topicIDs) != [topic]:
            self.penalize(forwarder)
            return False
        verdict = await self._judge(message.data, forwarder, topic)
        if verdict is Verdict.REJECT:
            self.penalize(forwarder)
        return verdict is Verdict.RELAY


def _message_id(message: rpc_pb2.Message) -> bytes:
    return message_id(list(message.topicIDs), message.data)


async def _drain(subscription: TrioSubscriptionAPI) -> None:
    """Empty a subscription's queue: the validator already took each message
    in, and a full queue would only make the router log."""
    try:
        while True:
            await subscription.get()
    except (trio.EndOfChannel, trio.ClosedResourceError):
        return
