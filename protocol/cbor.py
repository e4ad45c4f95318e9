"""Canonical CBOR: the deterministic encoding every node must agree on.

Theory of operation
-------------------
Two nodes that hold the same event must compute the same id, so an event has
exactly one byte form: RFC 8949 section 4.2.1 "core deterministic encoding",
restricted to the data model below. Encoding is delegated to cbor2 (its
``canonical`` mode sorts map keys length-first, which for our text-only keys
is the same order as RFC 8949's bytewise order of the encoded keys, because
the shortest-form header of a text string grows with its length).

Decoding cannot be delegated: general decoders accept many byte forms of the
same value, and accepting two forms would let an attacker re-encode an event
into a "new" one. ``decode`` is a single left-to-right pass that accepts only
the canonical form and reports the *first* defect it meets, so every
implementation that follows ``specs/events.md`` gives the same reason code
for the same bytes.

Data model (anything else is rejected):
  unsigned and negative integers in [-2**63, 2**63 - 1]; byte strings; UTF-8
  text strings; arrays; maps whose keys are text strings; false, true, null.
No floats, no tags, no other simple values, no indefinite lengths.
"""

from __future__ import annotations

from typing import Any

import cbor2

from protocol.errors import LocalError, Reason, Rejected

#: Largest encoded event, in bytes (specs/events.md).
MAX_SIZE = 64 * 1024
#: Deepest item: the top-level item has depth 1, an item inside a container
#: has its container's depth plus one.
MAX_DEPTH = 16

_INT_MAX = 2**63 - 1
#: Smallest argument each additional-information width may carry; anything
#: smaller had a shorter form and is non-canonical.
_MIN_FOR_WIDTH = {24: 24, 25: 0x100, 26: 0x10000, 27: 0x100000000}
_WIDTH = {24: 1, 25: 2, 26: 4, 27: 8}
_SIMPLE = {20: False, 21: True, 22: None}

Value = Any  # int | bytes | str | list[Value] | dict[str, Value] | bool | None


def encode(value: Value, *, max_size: int = MAX_SIZE) -> bytes:
    """Encode ``value`` canonically; raise LocalError outside the data model.

    The result is passed through the strict decoder, with the size limit the
    receiver applies (``max_size``: an event's by default), so this side can
    never produce bytes that a conforming receiver would refuse.
    """
    try:
        data = cbor2.dumps(value, canonical=True)
    except (cbor2.CBOREncodeError, TypeError, ValueError) as exc:
        raise LocalError(f"cannot encode {type(value).__name__}: {exc}") from exc
    try:
        decode(data, max_size=max_size)
    except Rejected as exc:
        raise LocalError(f"value outside the canonical data model: {exc}") from exc
    return data


def decode(data: bytes, *, max_size: int = MAX_SIZE, max_depth: int = MAX_DEPTH) -> Value:
    """Decode one canonical item filling all of ``data``, or raise Rejected."""
    if len(data) > max_size:
        raise Rejected(Reason.TOO_LARGE, f"{len(data)} bytes > {max_size}")
    decoder = _Decoder(bytes(data), max_depth)
    value = decoder.item(1)
    if decoder.pos != len(decoder.data):
        raise Rejected(Reason.TRAILING_BYTES, f"{len(decoder.data) - decoder.pos} bytes after item")
    return value


def decode_item_at(data: bytes, pos: int, depth: int) -> tuple[Value, int]:
    """Decode the one item at ``data[pos:]`` (at nesting ``depth``), strictly;
    return it and the offset just past it. For callers that recognise the
    surrounding bytes themselves (see protocol/event.py)."""
    decoder = _Decoder(data, MAX_DEPTH)
    decoder.pos = pos
    return decoder.item(depth), decoder.pos


class _Decoder:
    __slots__ = ("data", "max_depth", "pos")

    def __init__(self, data: bytes, max_depth: int) -> None:
        self.data = data
        self.pos = 0
        self.max_depth = max_depth

    def _fail(self, reason: Reason, detail: str) -> Rejected:
        return Rejected(reason, f"{detail} at offset {self.pos}")

    def item(self, depth: int) -> Value:
        if depth > self.max_depth:
            raise self._fail(Reason.TOO_DEEP, f"depth {depth} > {self.max_depth}")
        data = self.data
        pos = self.pos
        if pos >= len(data):
            raise self._fail(Reason.TRUNCATED, "need an item")
        initial = data[pos]
        major, info = initial >> 5, initial & 0x1F
        if major >= 6 or info > 27:
            return self._special(major, info)
        if info < 24:
            arg = info
            pos += 1
        else:
            width = _WIDTH[info]
            end = pos + 1 + width
            if end > len(data):
                raise self._fail(Reason.TRUNCATED, f"need {width} bytes")
            arg = int.from_bytes(data[pos + 1 : end], "big")
            if arg < _MIN_FOR_WIDTH[info]:
                raise self._fail(Reason.NON_MINIMAL_WIDTH, f"{arg} in a {width}-byte width")
            pos = end
        self.pos = pos

        if major == 3 or major == 2:
            end = pos + arg
            if end > len(data):
                raise self._fail(Reason.TRUNCATED, f"need {arg} bytes")
            chunk = data[pos:end]
            if major == 2:
                self.pos = end
                return chunk
            try:
                text = chunk.decode("utf-8")
            except UnicodeDecodeError:
                raise self._fail(Reason.INVALID_UTF8, "text string") from None
            self.pos = end
            return text
        if major == 0:
            if arg > _INT_MAX:
                raise self._fail(Reason.INT_OUT_OF_RANGE, "integer above 2**63-1")
            return arg
        if major == 1:
            if arg > _INT_MAX:
                raise self._fail(Reason.INT_OUT_OF_RANGE, "integer below -2**63")
            return -1 - arg
        if major == 4:
            return [self.item(depth + 1) for _ in range(arg)]
        return self._map(arg, depth)

    def _special(self, major: int, info: int) -> Value:
        """Tags, major type 7, and additional information 28 to 31.

        Types outside the data model are refused from their first byte.
        """
        if major == 6:
            raise self._fail(Reason.TAG_NOT_ALLOWED, "tag")
        if major == 7:
            if info in _SIMPLE:
                self.pos += 1
                return _SIMPLE[info]
            if info in (25, 26, 27):
                raise self._fail(Reason.FLOAT_NOT_ALLOWED, "float")
            if info == 31:
                raise self._fail(Reason.MALFORMED, "break outside an indefinite item")
            if info in (28, 29, 30):
                raise self._fail(Reason.MALFORMED, f"reserved additional information {info}")
            raise self._fail(Reason.SIMPLE_NOT_ALLOWED, f"simple value {info}")
        if info == 31:
            if major in (2, 3, 4, 5):
                raise self._fail(Reason.INDEFINITE_LENGTH, "indefinite length")
            raise self._fail(Reason.MALFORMED, "indefinite length on an integer")
        raise self._fail(Reason.MALFORMED, f"reserved additional information {info}")

    def _map(self, count: int, depth: int) -> dict[str, Value]:
        result: dict[str, Value] = {}
        data = self.data
        previous = b""
        for _ in range(count):
            start = self.pos
            key = self.item(depth + 1)
            if not isinstance(key, str):
                self.pos = start
                raise self._fail(Reason.BAD_MAP_KEY, "map key is not a text string")
            # RFC 8949 4.2.1: keys sorted by the bytewise order of their
            # encodings. Equal encodings mean a duplicate key.
            encoded = data[start : self.pos]
            if encoded <= previous:
                self.pos = start
                if encoded == previous:
                    raise self._fail(Reason.DUPLICATE_KEY, f"duplicate key {key!r}")
                raise self._fail(Reason.UNSORTED_KEYS, f"key {key!r} out of order")
            previous = encoded
            result[key] = self.item(depth + 1)
        return result
