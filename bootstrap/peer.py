"""A bootstrap peer: where a new node makes first contact.

It is a Kademlia DHT server (provider records: which peers serve which
group), a libp2p rendezvous point, and, unless run as a *directory*
(``--no-archive``), an *archive*: a node that serves no group, joins no gossip topic, syncs every
event with every peer that connects and answers anyone's sync. It has no
authority: it holds no member's key, it cannot make or change an event
(every event is signed by its author and checked by whoever receives it),
and a node that finds it lying, withholding or forging routes around it by
syncing with its other neighbours (specs/network.md section 3.1).
"""

from __future__ import annotations

from libp2p.discovery.rendezvous import RendezvousService
from nacl.signing import SigningKey

from node.runtime import Node, NodeConfig
from storage.state import NetworkStore


def bootstrap_peer(key: SigningKey, store: NetworkStore, config: NodeConfig) -> Node:
    """A node of no group (an archive, or with ``config.sync`` off a
    directory), with a rendezvous point on its host."""
    node = Node(key, store, config)
    RendezvousService(node.host)
    return node
