"""Gossip topics along the fractal, and which events travel on which.

The hierarchy is the network's topology (specs/network.md section 3). A
node serving group G sits in at most three topics: G's own topic, the
family topic of G and its children (when G has children), and the family
topic of G's parent (shared with G's siblings). Gossipsub keeps a topic
within its subscribers, so carrying an event from one family to the next
is the node's job: when it stores an event it has not seen before, it
publishes it on its other topics. That makes every event reach every node
that serves a group, except votes, which stay where they are counted and
audited (the voter's group and its family), so that the volume crossing
the network stays small.

Pure: names and rules only, no I/O.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from protocol.groups import Groups

#: The version segment of every topic name; a new one is a new protocol.
TOPIC_VERSION = "1"
#: Kinds that stay in their counting group's topics (the group's own and
#: its parent's family) instead of crossing the whole network.
LOCAL_KINDS = frozenset({"vote"})


def group_topic(network_id: bytes, group_id: bytes) -> str:
    """A group's own topic: the nodes that serve it and its members' clients."""
    return f"/ayllu/{TOPIC_VERSION}/{network_id.hex()}/group/{group_id.hex()}"


def family_topic(network_id: bytes, parent_id: bytes) -> str:
    """The topic a parent group shares with its children."""
    return f"/ayllu/{TOPIC_VERSION}/{network_id.hex()}/family/{parent_id.hex()}"


def message_id(topics: Sequence[str], data: bytes) -> bytes:
    """The gossipsub message id: SHA-256 over the message's topics and data.

    Content-addressed, so the same event relayed by several peers on one
    topic is one message; the topic is part of it, so a node that carries
    an event into another topic is not taken for a repeat of the copy it
    received (specs/network.md section 4.2).
    """
    digest = hashlib.sha256()
    for topic in topics:
        digest.update(topic.encode("utf-8") + b"\x00")
    digest.update(data)
    return digest.digest()


@dataclass(frozen=True)
class Position:
    """Where a node sits: the groups it serves and the topics that follow."""

    network_id: bytes
    served: tuple[bytes, ...]
    topics: frozenset[str]

    @classmethod
    def of(cls, network_id: bytes, groups: Groups, served: Iterable[bytes]) -> Position:
        served = tuple(sorted(set(served)))
        topics: set[str] = set()
        for group_id in served:
            topics.update(_topics_of(network_id, groups, group_id))
        return cls(network_id, served, frozenset(topics))

    def relay_topics(
        self, kind: str, group_id: bytes, groups: Groups, arrived_on: str | None
    ) -> list[str]:
        """The topics to publish a newly stored event (of ``kind``, in
        ``group_id``) on: all of the node's but the one it arrived on; a vote
        only on its own group's topics."""
        wanted = set(self.topics)
        if kind in LOCAL_KINDS:
            wanted &= set(_topics_of(self.network_id, groups, group_id))
        wanted.discard(arrived_on or "")
        return sorted(wanted)


def _topics_of(network_id: bytes, groups: Groups, group_id: bytes) -> list[str]:
    topics = [group_topic(network_id, group_id)]
    if group_id not in groups.groups:
        return topics
    group = groups.group(group_id)
    if group.children or group.level > 1:
        topics.append(family_topic(network_id, group_id))
    if group.parent is not None:
        topics.append(family_topic(network_id, group.parent))
    return topics


def neighbour_groups(groups: Groups, served: Iterable[bytes]) -> dict[bytes, str]:
    """The groups whose nodes a node links with, and why: for each group it
    serves, its ``parent``, ``sibling``s, ``child``ren, and ``grandparent``,
    so that a parent that drops everything still cannot cut its children
    off from the rest of the network (specs/network.md section 3). A group
    that is several of these (served twice over) gets the nearest role."""
    served = set(served)
    roles: dict[bytes, str] = {}

    def add(group_id: bytes, role: str) -> None:
        if group_id in served:
            return
        current = roles.get(group_id)
        if current is None or ROLES.index(role) < ROLES.index(current):
            roles[group_id] = role

    for group_id in sorted(served):
        if group_id not in groups.groups:
            continue
        for child in groups.children(group_id):
            add(child, "child")
        parent = groups.parent(group_id)
        if parent is None:
            continue
        add(parent, "parent")
        for sibling in groups.siblings(group_id):
            add(sibling, "sibling")
        grandparent = groups.parent(parent)
        if grandparent is not None:
            add(grandparent, "grandparent")
    return roles


#: Link roles, nearest first.
ROLES = ("parent", "child", "sibling", "grandparent")


def sync_scope(groups: Groups, served: Iterable[bytes], limit: int) -> list[bytes] | None:
    """The groups whose events a node reconciles: for each group it serves,
    its path from the root, its siblings and its whole subtree: what it
    relays and audits, and what names its neighbours' nodes. None (every
    event) for a node that serves the root, or none, or more than
    ``limit`` groups (specs/network.md section 5)."""
    served = [g for g in served if g in groups.groups]
    if not served or groups.root_id in served:
        return None
    scope: set[bytes] = set()
    for group_id in served:
        scope.update(groups.path(group_id))
        scope.update(groups.siblings(group_id))
        scope.update(groups.descendants(group_id))
    return None if len(scope) > limit else sorted(scope)
