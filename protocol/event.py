"""Events: the signed envelope every fact on the network travels in.

Theory of operation
-------------------
An event on the wire is the canonical CBOR array ``[unsigned, signature]``.
``unsigned`` is a map with exactly the fields of ``ENVELOPE_FIELDS``; the
event id is SHA-256 over the canonical bytes of ``unsigned``; the signature
is Ed25519 by ``author`` over ``SIGNATURE_DOMAIN || id``. The domain string
makes a signature given for an event useless for any other purpose, and
the ``net`` field (the network id, protocol/genesis.py) makes it useless on
any other network.

Because the decoder accepts only canonical bytes, the bytes of ``unsigned``
inside a valid signed event are exactly the bytes the id is computed over:
the array header is one byte (0x82) and the signature is the last 66 bytes
(0x58 0x40 and 64 bytes). Parsing hashes that slice and never re-encodes.
Most events are parsed by matching that fixed skeleton and decoding only
its variable parts (``_parse_usual_layout``); anything unusual goes the
general way, which alone decides every rejection.

``parse_event`` checks structure only (cheap); ``verify_signature`` is the
expensive check and is separate so the ingest path can run it on many events
while the store commits others.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import nacl.bindings
import nacl.exceptions
from nacl.signing import SigningKey

from protocol import cbor
from protocol.errors import LocalError, Reason, Rejected
from protocol.kinds import check_body, check_placement

#: The only envelope version this implementation speaks.
VERSION = 1
#: Envelope fields of version 1, in canonical key order.
ENVELOPE_FIELDS = ("v", "ts", "net", "body", "kind", "refs", "group", "author")
#: Prepended to the event id to form the signed message.
SIGNATURE_DOMAIN = b"ayllu/event/v1\x00"
MAX_REFS = 16
#: Timestamps are milliseconds since the Unix epoch, kept within the integers
#: every language represents exactly (2**53 - 1, JavaScript's safe integers).
MAX_TS = 2**53 - 1
ID_SIZE = 32
KEY_SIZE = 32
SIGNATURE_SIZE = 64
_SIGNATURE_TAIL = 2 + SIGNATURE_SIZE  # 0x58 0x40 then the signature


@dataclass(frozen=True, slots=True)
class Event:
    """An unsigned event: what the author states. ``body`` must not be mutated."""

    kind: str
    group: bytes
    author: bytes
    net: bytes
    ts: int
    body: Mapping[str, Any]
    refs: tuple[bytes, ...] = ()
    version: int = VERSION

    def to_value(self) -> dict[str, Any]:
        return {
            "v": self.version,
            "ts": self.ts,
            "net": self.net,
            "body": dict(self.body),
            "kind": self.kind,
            "refs": list(self.refs),
            "group": self.group,
            "author": self.author,
        }


@dataclass(frozen=True, slots=True)
class SignedEvent:
    """An event with its id, signature and exact wire bytes.

    A SignedEvent from ``parse_event`` is well formed; whether its signature
    holds is only known after ``verify_signature``.
    """

    event: Event
    id: bytes
    signature: bytes
    raw: bytes

    @property
    def kind(self) -> str:
        return self.event.kind

    @property
    def group(self) -> bytes:
        return self.event.group

    @property
    def author(self) -> bytes:
        return self.event.author

    @property
    def net(self) -> bytes:
        return self.event.net

    @property
    def ts(self) -> int:
        return self.event.ts

    @property
    def refs(self) -> tuple[bytes, ...]:
        return self.event.refs


def event_id(unsigned_bytes: bytes) -> bytes:
    return hashlib.sha256(unsigned_bytes).digest()


def signed_message(eid: bytes) -> bytes:
    return SIGNATURE_DOMAIN + eid


def sign(event: Event, key: SigningKey) -> SignedEvent:
    """Sign ``event`` with ``key``; LocalError if a receiver would refuse it."""
    if bytes(key.verify_key) != event.author:
        raise LocalError("the signing key is not the event's author")
    unsigned_bytes = cbor.encode(event.to_value())
    try:
        checked = _check_unsigned(cbor.decode(unsigned_bytes))
    except Rejected as exc:
        raise LocalError(f"refusing to sign an invalid event: {exc}") from exc
    eid = event_id(unsigned_bytes)
    signature = key.sign(signed_message(eid)).signature
    raw = b"\x82" + unsigned_bytes + b"\x58\x40" + signature
    return SignedEvent(event=checked, id=eid, signature=signature, raw=raw)


def parse_event(raw: bytes) -> SignedEvent:
    """Decode and check the structure of a signed event (not its signature)."""
    return _parse_usual_layout(raw) or _parse_any_layout(raw)


def _parse_any_layout(raw: bytes) -> SignedEvent:
    """The general path: decode everything, then check, reporting the first
    defect in the order specs/events.md gives."""
    value = cbor.decode(raw)
    if type(value) is not list or len(value) != 2:
        raise Rejected(Reason.BAD_ENVELOPE, "a signed event is an array of 2 items")
    unsigned, signature = value
    if type(unsigned) is not dict:
        raise Rejected(Reason.BAD_ENVELOPE, "item 0 must be the unsigned event map")
    if type(signature) is not bytes or len(signature) != SIGNATURE_SIZE:
        raise Rejected(Reason.BAD_ENVELOPE, "item 1 must be a 64-byte signature")
    event = _check_unsigned(unsigned)
    eid = event_id(raw[1:-_SIGNATURE_TAIL])
    return SignedEvent(event=event, id=eid, signature=signature, raw=bytes(raw))


#: The bytes of a valid signed event around its variable parts, in order:
#: array(2), map(8), "v": 1, "ts": <ts>, "net": bytes(32) <net>, "body": <body>,
#: "kind": <kind>, "refs": <refs>, "group": bytes(32) <group>,
#: "author": bytes(32) <author>, then bytes(64) <signature>.
_HEAD = bytes.fromhex("82a8617601627473")
_NET_KEY = bytes.fromhex("636e65745820")
_BODY_KEY = bytes.fromhex("64626f6479")
_KIND_KEY = bytes.fromhex("646b696e64")
_REFS_KEY = bytes.fromhex("6472656673")
_GROUP_KEY = bytes.fromhex("6567726f75705820")
_AUTHOR_KEY = bytes.fromhex("66617574686f725820")
_SIGNATURE_KEY = bytes.fromhex("5840")
_BYTES_32 = bytes.fromhex("5820")


def _parse_usual_layout(raw: bytes) -> SignedEvent | None:
    """Parse an event laid out as every valid version-1 event is, or None.

    Decoding is the one cost of ingest besides the signature, and most of
    it goes to re-discovering the fixed skeleton of the envelope. This path
    matches the skeleton's bytes directly and decodes only the variable
    parts, with the same strict decoder. It accepts nothing the general path
    would refuse: on any surprise, or any rejection (whose reason depends on
    the order of checks), it returns None and the general path decides.
    """
    size = len(raw)
    # ts: a canonical 8-byte unsigned integer, as every timestamp after 1970-02 is.
    if size > cbor.MAX_SIZE or not raw.startswith(_HEAD) or size < 17 or raw[8] != 0x1B:
        return None
    ts = int.from_bytes(raw[9:17], "big")
    if not 0x100000000 <= ts <= MAX_TS or not raw.startswith(_NET_KEY, 17):
        return None
    net = raw[23:55]
    if not raw.startswith(_BODY_KEY, 55):
        return None
    try:
        body, pos = cbor.decode_item_at(raw, 60, 3)
        if not raw.startswith(_KIND_KEY, pos):
            return None
        kind, pos = cbor.decode_item_at(raw, pos + 5, 3)
    except Rejected:
        return None
    if not raw.startswith(_REFS_KEY, pos) or pos + 5 >= size:
        return None
    count = raw[pos + 5] - 0x80
    pos += 6
    if not 0 <= count <= MAX_REFS:
        return None
    refs = []
    for _ in range(count):
        if not raw.startswith(_BYTES_32, pos):
            return None
        refs.append(raw[pos + 2 : pos + 34])
        pos += 34
    if not raw.startswith(_GROUP_KEY, pos):
        return None
    group = raw[pos + 8 : pos + 40]
    pos += 40
    if not raw.startswith(_AUTHOR_KEY, pos):
        return None
    author = raw[pos + 9 : pos + 41]
    pos += 41
    if not raw.startswith(_SIGNATURE_KEY, pos) or pos + 66 != size:
        return None
    # The skeleton fixed v, the field set and the sizes of net, group and
    # author; what is left of the envelope checks of _check_unsigned:
    if type(kind) is not str or type(body) is not dict:
        return None
    try:
        _check_refs(refs)
        check_body(kind, body)
        check_placement(kind, group, net)
    except Rejected:
        return None
    event = Event(
        kind=kind, group=group, author=author, net=net, ts=ts, body=body, refs=tuple(refs)
    )
    raw = bytes(raw)
    return SignedEvent(event=event, id=event_id(raw[1:pos]), signature=raw[pos + 2 :], raw=raw)


def verify_signature(signed: SignedEvent) -> None:
    """Raise Rejected(bad_signature) unless the author signed this event id.

    libsodium's rules apply (specs/events.md, "Signature"): S must be below
    the group order and neither the key nor R may be of small order.
    """
    if not signature_holds(signed.event.author, signed_message(signed.id), signed.signature):
        raise Rejected(Reason.BAD_SIGNATURE, "signature does not verify")


def signature_holds(key: bytes, message: bytes, signature: bytes) -> bool:
    """Whether ``signature`` is ``key``'s Ed25519 signature of ``message``,
    by libsodium's rules (specs/events.md section 3): the one check of every
    Ed25519 signature in the protocol."""
    try:
        nacl.bindings.crypto_sign_open(signature + message, key)
    except (nacl.exceptions.BadSignatureError, nacl.exceptions.CryptoError, ValueError):
        return False
    return True


def _check_unsigned(fields: dict[str, Any]) -> Event:
    """The envelope rules of specs/events.md, in the order the spec lists."""
    if "v" not in fields:
        raise Rejected(Reason.MISSING_FIELD, "'v'")
    version = fields["v"]
    if type(version) is not int:
        raise Rejected(Reason.BAD_FIELD, "'v' must be an integer")
    if version != VERSION:
        raise Rejected(Reason.UNKNOWN_VERSION, f"version {version}")
    for name in fields:
        if name not in ENVELOPE_FIELDS:
            raise Rejected(Reason.UNKNOWN_FIELD, repr(name))
    for name in ENVELOPE_FIELDS:
        if name not in fields:
            raise Rejected(Reason.MISSING_FIELD, repr(name))

    ts = fields["ts"]
    if type(ts) is not int or not 0 <= ts <= MAX_TS:
        raise Rejected(Reason.BAD_FIELD, "'ts' must be an integer in [0, 2**53-1]")
    net = fields["net"]
    if type(net) is not bytes or len(net) != ID_SIZE:
        raise Rejected(Reason.BAD_FIELD, "'net' must be 32 bytes")
    group = fields["group"]
    if type(group) is not bytes or len(group) != ID_SIZE:
        raise Rejected(Reason.BAD_FIELD, "'group' must be 32 bytes")
    author = fields["author"]
    if type(author) is not bytes or len(author) != KEY_SIZE:
        raise Rejected(Reason.BAD_FIELD, "'author' must be 32 bytes")
    refs = _check_refs(fields["refs"])
    kind = fields["kind"]
    if type(kind) is not str:
        raise Rejected(Reason.BAD_FIELD, "'kind' must be a text string")
    body = fields["body"]
    if type(body) is not dict:
        raise Rejected(Reason.BAD_FIELD, "'body' must be a map")
    check_body(kind, body)
    check_placement(kind, group, net)
    return Event(kind=kind, group=group, author=author, net=net, ts=ts, body=body, refs=refs)


def _check_refs(refs: Any) -> tuple[bytes, ...]:
    if type(refs) is not list:
        raise Rejected(Reason.BAD_FIELD, "'refs' must be an array")
    if len(refs) > MAX_REFS:
        raise Rejected(Reason.BAD_REFS, f"{len(refs)} refs > {MAX_REFS}")
    previous = b""
    for ref in refs:
        if type(ref) is not bytes or len(ref) != ID_SIZE:
            raise Rejected(Reason.BAD_REFS, "each ref must be a 32-byte event id")
        if ref <= previous:
            raise Rejected(Reason.BAD_REFS, "refs must be strictly ascending")
        previous = ref
    return tuple(refs)
