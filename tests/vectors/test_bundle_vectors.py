"""specs/vectors/bundle.json: the committed file is what the builder makes,
and a reader gives exactly what each vector says, fed whole or a byte at a
time."""

from __future__ import annotations

import json
from typing import Any

import bundle_vector_builder
import pytest

from protocol.bundle import BundleReader
from protocol.errors import Rejected

VECTORS: dict[str, Any] = json.loads(bundle_vector_builder.VECTORS_PATH.read_text("utf-8"))


def test_committed_vectors_are_what_the_builder_makes() -> None:
    assert bundle_vector_builder.VECTORS_PATH.read_text("utf-8") == bundle_vector_builder.render()


def _read(data: bytes, piece: int) -> tuple[BundleReader, list[bytes]]:
    reader = BundleReader()
    items: list[bytes] = []
    for start in range(0, len(data), piece):
        items.extend(reader.feed(data[start : start + piece]))
    return reader, items


@pytest.mark.parametrize("piece", [1, 1 << 20])
@pytest.mark.parametrize("vector", VECTORS["valid"], ids=lambda v: v["name"])
def test_valid_bundles(vector: dict[str, Any], piece: int) -> None:
    reader, items = _read(bytes.fromhex(vector["bundle_hex"]), piece)
    assert reader.finish() is None and reader.header is not None
    assert [item.hex() for item in items] == vector["items_hex"]
    header = vector["header"]
    assert reader.header.net.hex() == header["net_hex"]
    assert (reader.header.format, reader.header.count) == (header["format"], header["count"])
    assert [g.hex() for g in reader.header.groups] == header["groups"]
    assert reader.header.since_ms == header.get("since_ms")


@pytest.mark.parametrize("vector", VECTORS["cut"], ids=lambda v: v["name"])
def test_cut_bundles_keep_their_intact_items(vector: dict[str, Any]) -> None:
    reader, items = _read(bytes.fromhex(vector["bundle_hex"]), 7)
    assert len(items) == vector["intact_items"]
    assert (reader.finish() is None) == vector["complete"]


@pytest.mark.parametrize("vector", VECTORS["invalid"], ids=lambda v: v["name"])
def test_invalid_bundles(vector: dict[str, Any]) -> None:
    with pytest.raises(Rejected) as caught:
        _read(bytes.fromhex(vector["bundle_hex"]), 1 << 20)
    assert caught.value.reason.value == vector["reason"]
