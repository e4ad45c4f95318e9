"""An in-memory stream that node/sync.py takes for a libp2p one, so that a
sync session can run against a hostile peer without a network (the fuzz
scenario's ``sync_session`` target, fuzz_sessions.py): ``pipe`` makes its
two ends, and what one end writes can be rewritten on its way (``tamper``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import cast

import trio
from libp2p.abc import IHost
from libp2p.network.stream.exceptions import StreamEOF, StreamReset
from libp2p.peer.id import ID
from libp2p.utils import encode_uvarint

#: Rewrites one write into the pieces to send (None: close the stream).
Tamper = Callable[[bytes], list[bytes | None]]


class _Conn:
    def __init__(self, peer_id: ID) -> None:
        self.peer_id = peer_id


class PipeStream:
    """One end of an in-memory stream, as node/sync.py uses a libp2p one;
    ``tamper`` rewrites what this end writes."""

    def __init__(
        self,
        peer_id: ID,
        inbox: trio.MemoryReceiveChannel[bytes],
        outbox: trio.MemorySendChannel[bytes],
        tamper: Tamper | None = None,
    ) -> None:
        self.muxed_conn = _Conn(peer_id)
        self._inbox = inbox
        self._outbox = outbox
        self._buffer = bytearray()
        self._tamper = tamper
        self._reset = False

    async def read(self, n: int | None = None) -> bytes:
        if self._reset:
            raise StreamReset("reset")
        while not self._buffer:
            try:
                self._buffer += await self._inbox.receive()
            except (trio.EndOfChannel, trio.ClosedResourceError):
                raise StreamEOF("the peer closed") from None
        size = len(self._buffer) if n is None else min(n, len(self._buffer))
        data = bytes(self._buffer[:size])
        del self._buffer[:size]
        return data

    async def write(self, data: bytes) -> None:
        pieces: list[bytes | None] = [data] if self._tamper is None else self._tamper(data)
        for piece in pieces:
            if piece is None:  # the tamperer closes the stream
                await self.close()
                return
            try:
                await self._outbox.send(piece)
            except (trio.BrokenResourceError, trio.ClosedResourceError):
                raise StreamReset("the peer is gone") from None

    async def close(self) -> None:
        await self._outbox.aclose()

    async def reset(self) -> None:
        self._reset = True
        await self._outbox.aclose()
        await self._inbox.aclose()


def pipe(a: ID, b: ID, tamper_b: Tamper | None) -> tuple[PipeStream, PipeStream]:
    """Two ends: ``a`` talks to ``b``; what ``b`` writes goes through ``tamper_b``."""
    to_b_send, to_b_receive = trio.open_memory_channel[bytes](math.inf)
    to_a_send, to_a_receive = trio.open_memory_channel[bytes](math.inf)
    return (
        PipeStream(b, to_a_receive, to_b_send),
        PipeStream(a, to_b_receive, to_a_send, tamper_b),
    )


class _Host:
    """What ``SyncService.sync_with`` needs of a host: a stream to the peer."""

    def __init__(self, stream: PipeStream) -> None:
        self.stream = stream

    async def new_stream(self, peer: ID, protocols: Sequence[str]) -> PipeStream:
        return self.stream


def host_for(stream: PipeStream) -> IHost:
    """A stand-in for the libp2p host (only ``new_stream`` is called)."""
    return cast(IHost, _Host(stream))


def unframed(data: bytes) -> bytes | None:
    """The message of one msgio write (varint length, then the message)."""
    length, shift, at = 0, 0, 0
    while at < len(data):
        byte = data[at]
        length |= (byte & 0x7F) << shift
        at += 1
        if not byte & 0x80:
            return data[at:] if len(data) - at == length else None
        shift += 7
    return None


def framed(message: bytes) -> bytes:
    """``message`` as one msgio write."""
    return bytes(encode_uvarint(len(message))) + message
