"""Bundles: signed events carried by hand, on a USB stick or a phone.

A bundle is a CBOR sequence (RFC 8742) of byte strings (specs/bundle.md):
the first holds the header, a canonical CBOR map; each of the others holds
one item, an event in its wire form (or, in an id list, a 32-byte event
id). Framing every item as a byte string lets a reader take a file in
pieces, and lets it keep every complete item of a file cut short: a
bundle is only signed events, each checked on its own when it is
imported, so a truncated or tampered bundle loses nothing that is intact.

Pure: ``BundleReader`` is fed bytes and gives items; no files here.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from protocol import cbor
from protocol.errors import Reason, Rejected

#: The header's ``format``: a bundle of events, or a list of ids held.
EVENTS_FORMAT = "ayllu-bundle"
IDS_FORMAT = "ayllu-ids"
VERSION = 1
#: The largest header, in bytes.
MAX_HEADER_SIZE = 4096
#: The largest item: an event (protocol/cbor.py MAX_SIZE).
MAX_ITEM_SIZE = cbor.MAX_SIZE
ID_SIZE = 32
#: The least length each long form of a byte string's head may carry.
_SHORTEST = {24: 24, 25: 1 << 8, 26: 1 << 16}


@dataclass(frozen=True)
class Header:
    format: str
    net: bytes
    made_ms: int
    #: Items that follow (a reader compares, to report a bundle cut short).
    count: int
    #: What the maker selected: groups (empty: all) and a start time.
    groups: tuple[bytes, ...] = ()
    since_ms: int | None = None

    def to_map(self) -> dict[str, Any]:
        value: dict[str, Any] = {
            "v": VERSION,
            "format": self.format,
            "net": self.net,
            "made_ms": self.made_ms,
            "count": self.count,
            "groups": list(self.groups),
        }
        if self.since_ms is not None:
            value["since_ms"] = self.since_ms
        return value


def encode_item(payload: bytes) -> bytes:
    """One item of the sequence: ``payload`` as a CBOR byte string."""
    return cbor.encode(payload, max_size=MAX_ITEM_SIZE + 8)


def write_bundle(header: Header, items: Iterable[bytes]) -> Iterator[bytes]:
    """The pieces of a bundle, header first (its ``count`` must be right)."""
    yield encode_item(cbor.encode(header.to_map(), max_size=MAX_HEADER_SIZE))
    for item in items:
        yield encode_item(item)


@dataclass
class BundleReader:
    """Feed it a bundle's bytes in any pieces; it gives the items."""

    header: Header | None = None
    items_read: int = 0
    _buffer: bytearray = field(default_factory=bytearray)
    #: The defect met after items this call gave: raised by every later call.
    _defect: Rejected | None = None

    def feed(self, data: bytes) -> list[bytes]:
        """The items completed by ``data``. Rejected(bad_bundle) if the bytes
        are not a bundle: then nothing after that point can be read. Items
        completed before the defect are given first, and the defect raised
        by the next call (``feed`` or ``finish``), so that what is read does
        not depend on how the bytes were cut (specs/bundle.md)."""
        if self._defect is not None:
            raise self._defect
        self._buffer += data
        found: list[bytes] = []
        try:
            while (item := self._next()) is not None:
                if self.header is None:
                    self.header = _parse_header(item)
                    continue
                self._check_item(item)
                self.items_read += 1
                found.append(item)
        except Rejected as exc:
            self._defect = exc
            if not found:
                raise
        return found

    def finish(self) -> str | None:
        """At the end of the input: what was missing, if anything (a bundle
        cut short, or fewer items than its header says), else None; or
        Rejected(bad_bundle) for a defect met after the last items given."""
        if self._defect is not None:
            raise self._defect
        if self.header is None:
            return "no header: not a bundle, or cut short before its header"
        if self._buffer:
            return f"cut short: {len(self._buffer)} bytes of an incomplete item at the end"
        if self.items_read != self.header.count:
            return f"the header says {self.header.count} items; {self.items_read} were read"
        return None

    def _next(self) -> bytes | None:
        """The next complete item, removed from the buffer; None if incomplete."""
        buffer = self._buffer
        if not buffer:
            return None
        initial = buffer[0]
        if initial >> 5 != 2:
            raise _bad(f"an item is a byte string, not major type {initial >> 5}")
        info = initial & 0x1F
        if info < 24:
            head, length = 1, info
        elif info in (24, 25, 26):
            head = 1 + (1 << (info - 24))
            if len(buffer) < head:
                return None
            length = int.from_bytes(buffer[1:head], "big")
            if length < _SHORTEST[info]:
                raise _bad("an item's length is not in its shortest form")
        else:
            raise _bad("an item's length is indefinite or too long")
        limit = MAX_HEADER_SIZE if self.header is None else MAX_ITEM_SIZE
        if length > limit:
            raise _bad(f"an item of {length} bytes: at most {limit}")
        if len(buffer) < head + length:
            return None
        item = bytes(buffer[head : head + length])
        del buffer[: head + length]
        return item

    def _check_item(self, item: bytes) -> None:
        assert self.header is not None
        if self.header.format == IDS_FORMAT and len(item) != ID_SIZE:
            raise _bad(f"an id list holds {ID_SIZE}-byte ids")


def _parse_header(item: bytes) -> Header:
    try:
        value = cbor.decode(item, max_size=MAX_HEADER_SIZE)
    except Rejected as exc:
        raise _bad(f"the header: {exc.detail}") from None
    if not isinstance(value, dict):
        raise _bad("the header is a map")
    try:
        version, form = value["v"], value["format"]
        net, made, count, groups = value["net"], value["made_ms"], value["count"], value["groups"]
    except KeyError as exc:
        raise _bad(f"the header lacks {exc.args[0]!r}") from None
    if version != VERSION:
        raise _bad(f"bundle version {version!r}: this node reads version {VERSION}")
    if form not in (EVENTS_FORMAT, IDS_FORMAT):
        raise _bad(f"unknown format {form!r}")
    since = value.get("since_ms")
    known = {"v", "format", "net", "made_ms", "count", "groups", "since_ms"}
    if (
        set(value) - known
        or type(net) is not bytes
        or len(net) != 32
        or not all(type(n) is int and n >= 0 for n in (made, count))
        or type(groups) is not list
        or any(type(g) is not bytes or len(g) != 32 for g in groups)
        or not (since is None or (type(since) is int and since >= 0))
    ):
        raise _bad("the header's fields are not as specs/bundle.md says")
    return Header(form, net, made, count, tuple(groups), since)


def _bad(detail: str) -> Rejected:
    return Rejected(Reason.BAD_BUNDLE, detail)
