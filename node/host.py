"""The libp2p host of a node: its identity is the node key.

Only standard libp2p parts, so that go-, rust- and js-libp2p nodes can
connect (specs/network.md section 2): TCP, Noise for security (py-libp2p
would also offer plaintext and SECIO, which no node of ours may accept),
Yamux with mplex as the fallback muxer, and py-libp2p's identify and ping
handlers, which every host registers.
"""

from __future__ import annotations

from libp2p import create_yamux_muxer_option, new_host
from libp2p.abc import IHost
from libp2p.crypto.ed25519 import create_new_key_pair
from libp2p.crypto.x25519 import create_new_key_pair as create_new_x25519_key_pair
from libp2p.network.config import ConnectionConfig
from libp2p.peer.id import ID
from libp2p.security.noise.transport import PROTOCOL_ID as NOISE_PROTOCOL_ID
from libp2p.security.noise.transport import Transport as NoiseTransport
from nacl.signing import SigningKey

from protocol.keys import peer_id

#: Connections a host keeps at most, and to one peer at most.
MAX_CONNECTIONS = 128
MAX_CONNECTIONS_PER_PEER = 2


def make_host(key: SigningKey, *, max_connections: int = MAX_CONNECTIONS) -> IHost:
    """A host whose peer id is the node key's (protocol/keys.py ``peer_id``).

    Its connection manager only limits: beyond ``max_connections`` it
    prunes, and it never dials peers on its own (py-libp2p's default keeps
    50 connections up with whatever peers it has heard of); the node's
    links decide whom to dial (node/links.py).
    """
    key_pair = create_new_key_pair(bytes(key))
    noise = NoiseTransport(key_pair, noise_privkey=create_new_x25519_key_pair().private_key)
    limits = ConnectionConfig(
        max_connections=max_connections,
        high_watermark=max_connections,
        low_watermark=0,
        min_connections=0,
        max_connections_per_peer=MAX_CONNECTIONS_PER_PEER,
    )
    return new_host(
        key_pair=key_pair,
        sec_opt={NOISE_PROTOCOL_ID: noise},
        muxer_opt=create_yamux_muxer_option(),
        connection_config=limits,
    )


def peer_of(public_key: bytes) -> ID:
    """The libp2p peer id of a node key."""
    return ID.from_base58(peer_id(public_key))
