"""The frames of a sync session on a stream (specs/sync.md section 6).

A session is a request/response conversation: the initiator sends a frame,
the responder answers with one frame. Frames are canonical CBOR ``[type,
payload]``; on a libp2p stream each is preceded by its length as an
unsigned varint (libp2p's msgio framing). Sans-I/O: this module only
encodes and checks frames; node/sync.py moves them.
"""

from __future__ import annotations

import enum
import itertools
from dataclasses import dataclass
from typing import Any

from protocol import cbor
from protocol.errors import Reason, Rejected

#: The libp2p protocol id of a sync session.
PROTOCOL_ID = "/ayllu/sync/1.0.0"
#: The largest frame: room for a batch of events, each at most 64 KiB.
MAX_FRAME_SIZE = 1 << 20
#: The most ids one ``get`` may ask for.
MAX_GET = 256
#: The most groups a session's scope may name.
MAX_SCOPE = 1024


class FrameType(enum.IntEnum):
    RECONCILE = 1  # payload: a reconciliation message (bytes); answered in kind
    GET = 2  # payload: ids wanted (array of 32-byte ids); answered by EVENTS
    EVENTS = 3  # payload: events (array of their wire bytes)
    PUT = 4  # payload: events offered (array of wire bytes); answered by ACK
    ACK = 5  # payload: null
    END = 6  # payload: null; the initiator ends the session
    SCOPE = 7  # payload: group ids (sorted, distinct); first frame only; answered by ACK


@dataclass(frozen=True, slots=True)
class Frame:
    type: FrameType
    payload: Any = None


def encode_frame(frame: Frame) -> bytes:
    return cbor.encode([int(frame.type), frame.payload], max_size=MAX_FRAME_SIZE)


def decode_frame(data: bytes) -> Frame:
    """Check a peer's frame; Rejected(bad_sync_message) unless it fits section 6."""
    value = cbor.decode(data, max_size=MAX_FRAME_SIZE, max_depth=4)
    if type(value) is not list or len(value) != 2 or type(value[0]) is not int:
        raise _bad("a frame is [type, payload]")
    try:
        kind = FrameType(value[0])
    except ValueError:
        raise _bad(f"unknown frame type {value[0]}") from None
    payload = value[1]
    if kind is FrameType.RECONCILE:
        if type(payload) is not bytes:
            raise _bad("a reconcile frame carries a message (bytes)")
    elif kind is FrameType.GET:
        if type(payload) is not list or len(payload) > MAX_GET:
            raise _bad(f"a get frame asks for at most {MAX_GET} ids")
        if any(type(item) is not bytes or len(item) != 32 for item in payload):
            raise _bad("ids are 32 bytes")
    elif kind is FrameType.SCOPE:
        if type(payload) is not list or len(payload) > MAX_SCOPE:
            raise _bad(f"a scope names at most {MAX_SCOPE} groups")
        if any(type(item) is not bytes or len(item) != 32 for item in payload):
            raise _bad("group ids are 32 bytes")
        if any(a >= b for a, b in itertools.pairwise(payload)):
            raise _bad("a scope's group ids are sorted and distinct")
    elif kind in (FrameType.EVENTS, FrameType.PUT):
        if type(payload) is not list or any(type(item) is not bytes for item in payload):
            raise _bad("events are an array of byte strings")
    elif payload is not None:
        raise _bad(f"a {kind.name.lower()} frame has no payload")
    return Frame(kind, payload)


def _bad(detail: str) -> Rejected:
    return Rejected(Reason.BAD_SYNC_MESSAGE, detail)
