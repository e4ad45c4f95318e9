"""Builds specs/vectors/bundle.json: bundles and id lists, whole, cut short
and malformed (specs/bundle.md section 4).

Run ``python tests/vectors/bundle_vector_builder.py`` to rewrite the file
after a format change (and change the spec in the same commit).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "helpers"))

from event_factory import NET, note

from protocol import cbor
from protocol.bundle import (
    EVENTS_FORMAT,
    IDS_FORMAT,
    MAX_HEADER_SIZE,
    BundleReader,
    Header,
    encode_item,
    write_bundle,
)
from protocol.errors import Rejected

VECTORS_PATH = Path(__file__).resolve().parents[2] / "specs" / "vectors" / "bundle.json"
T0 = 1_767_225_600_000
EVENTS = [note(T0 + i, text=f"Acta {i}: huñunakuy.") for i in range(3)]
HEADER = Header(EVENTS_FORMAT, NET, T0 + 60_000, 3, (bytes([7]) * 32,), T0)


def _bundle(header: Header, items: list[bytes]) -> bytes:
    return b"".join(write_bundle(header, items))


def _header_item(**change: Any) -> bytes:
    value = {**HEADER.to_map(), **change}
    return encode_item(cbor.encode({k: v for k, v in value.items() if v is not None}))


INVALID: list[tuple[str, bytes]] = [
    ("not_a_byte_string", b"\xa0"),
    ("indefinite_length", b"\x5f\x41\x00\xff"),
    ("length_not_shortest", b"\x58\x05hello"),
    ("header_too_large", b"\x5a" + (MAX_HEADER_SIZE + 1).to_bytes(4, "big")),
    ("header_not_a_map", encode_item(b"\x01")),
    ("header_not_canonical", encode_item(b"\xa1\x61\x76\x19\x00\x01")),
    ("unknown_version", _header_item(v=2)),
    ("unknown_format", _header_item(format="zip")),
    ("short_network_id", _header_item(net=b"\x00" * 31)),
    ("no_count", _header_item(count=None)),
    ("unknown_field", _header_item(extra=1)),
    ("event_too_large", _header_item() + b"\x5a\x00\x01\x00\x01"),
    (
        "id_list_item_not_an_id",
        _bundle(Header(IDS_FORMAT, NET, T0, 1, (), None), [b"\x01" * 31]),
    ),
]


def _read(data: bytes) -> tuple[BundleReader, list[bytes]]:
    reader = BundleReader()
    return reader, reader.feed(data)


def _valid() -> list[dict[str, Any]]:
    ids = [event.id for event in EVENTS]
    cases = [
        ("events", HEADER, [event.raw for event in EVENTS]),
        ("ids", Header(IDS_FORMAT, NET, T0, 3, (), None), ids),
        ("empty", Header(EVENTS_FORMAT, NET, T0, 0, (), None), []),
    ]
    vectors = []
    for name, header, items in cases:
        data = _bundle(header, items)
        reader, read = _read(data)
        assert read == items and reader.finish() is None
        vectors.append(
            {
                "name": name,
                "bundle_hex": data.hex(),
                "header": {
                    **{k: v for k, v in header.to_map().items() if type(v) is not bytes},
                    "net_hex": header.net.hex(),
                    "groups": [g.hex() for g in header.groups],
                },
                "items_hex": [item.hex() for item in items],
            }
        )
    return vectors


def _cut() -> list[dict[str, Any]]:
    data = _bundle(HEADER, [event.raw for event in EVENTS])
    vectors = []
    for name, length in (("inside_the_third_event", len(data) - 5), ("after_two", None)):
        if length is None:
            length = len(data) - len(encode_item(EVENTS[2].raw))
        reader, read = _read(data[:length])
        vectors.append(
            {
                "name": name,
                "bundle_hex": data[:length].hex(),
                "intact_items": len(read),
                "complete": reader.finish() is None,
            }
        )
    return vectors


def _invalid() -> list[dict[str, Any]]:
    vectors = []
    for name, data in INVALID:
        try:
            _read(data)
        except Rejected as exc:
            vectors.append({"name": name, "bundle_hex": data.hex(), "reason": exc.reason.value})
        else:
            raise AssertionError(f"{name} reads")
    return vectors


def render() -> str:
    document = {
        "description": (
            "Bundles (specs/bundle.md): CBOR sequences of byte strings, a canonical "
            "CBOR header map first. 'valid': whole bundles with their header and "
            "items; 'cut': bundles cut short, with how many items are intact "
            "(complete is false: a reader reports the cut); 'invalid': bytes a "
            "reader refuses, with the reason code."
        ),
        "valid": _valid(),
        "cut": _cut(),
        "invalid": _invalid(),
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    VECTORS_PATH.write_text(render(), encoding="utf-8")
    print(f"wrote {VECTORS_PATH}")
