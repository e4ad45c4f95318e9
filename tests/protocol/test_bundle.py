"""protocol/bundle.py: bundles written and read back in any pieces, and
what a cut costs (malformed bundles: tests/vectors/test_bundle_vectors.py)."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from event_factory import NET, note
from hypothesis import given, settings
from hypothesis import strategies as st

from protocol import cbor
from protocol.bundle import (
    EVENTS_FORMAT,
    IDS_FORMAT,
    BundleReader,
    Header,
    encode_item,
    write_bundle,
)
from protocol.errors import Reason, Rejected

EVENTS = [note(1_767_225_600_000 + i, text=f"acta {i}" * (1 + i % 7)).raw for i in range(12)]
HEADER = Header(EVENTS_FORMAT, NET, 1_767_225_700_000, len(EVENTS), (), None)
BUNDLE = b"".join(write_bundle(HEADER, EVENTS))


def read(data: bytes, cuts: Sequence[int] = ()) -> tuple[BundleReader, list[bytes]]:
    reader = BundleReader()
    items: list[bytes] = []
    start = 0
    for cut in [*sorted(cuts), len(data)]:
        items.extend(reader.feed(data[start:cut]))
        start = cut
    return reader, items


@settings(max_examples=60, deadline=None)
@given(cuts=st.lists(st.integers(0, len(BUNDLE)), max_size=8))
def test_a_bundle_reads_back_whatever_the_pieces(cuts: list[int]) -> None:
    reader, items = read(BUNDLE, cuts)
    assert reader.header == HEADER and items == EVENTS and reader.finish() is None


@settings(max_examples=60, deadline=None)
@given(length=st.integers(0, len(BUNDLE) - 1))
def test_a_cut_bundle_keeps_every_complete_event(length: int) -> None:
    reader, items = read(BUNDLE[:length])
    assert items == EVENTS[: len(items)]
    assert reader.finish() is not None  # cut short, however it was cut
    whole = len(encode_item(cbor.encode(HEADER.to_map(), max_size=4096)))
    assert len(items) == sum(
        1
        for n in range(len(EVENTS))
        if whole + sum(len(encode_item(e)) for e in EVENTS[: n + 1]) <= length
    )


def test_an_id_list() -> None:
    ids = [bytes([n]) * 32 for n in range(3)]
    header = Header(IDS_FORMAT, NET, 5, 3, (bytes(32),), 7)
    reader, items = read(b"".join(write_bundle(header, ids)))
    assert (reader.header, items, reader.finish()) == (header, ids, None)
    with pytest.raises(Rejected) as caught:
        read(b"".join(write_bundle(Header(IDS_FORMAT, NET, 5, 1, (), None), [b"short"])))
    assert caught.value.reason is Reason.BAD_BUNDLE


def test_fewer_items_than_the_header_says() -> None:
    header = Header(EVENTS_FORMAT, NET, 5, 3, (), None)
    reader, items = read(b"".join(write_bundle(header, EVENTS[:2])))
    assert items == EVENTS[:2] and "3 items" in (reader.finish() or "")


def _with_defect(after: int) -> bytes:
    """BUNDLE with a stray byte (an item that is no byte string) after its
    ``after``-th event."""
    header = len(encode_item(cbor.encode(HEADER.to_map(), max_size=4096)))
    at = header + sum(len(encode_item(e)) for e in EVENTS[:after])
    return BUNDLE[:at] + b"\x00" + BUNDLE[at:]


@settings(max_examples=60, deadline=None)
@given(cuts=st.lists(st.integers(0, len(BUNDLE)), max_size=8))
def test_a_defect_costs_only_what_follows_it_whatever_the_pieces(cuts: list[int]) -> None:
    """The events before a defect are read whether they come in the same
    piece as the defect or not (specs/bundle.md: a tampered bundle loses
    nothing that is intact); the defect is refused by the next call, and by
    every call after it. Found by the fuzz scenario (faults_fuzz.py)."""
    data = _with_defect(6)
    reader = BundleReader()
    items: list[bytes] = []
    start = 0
    with pytest.raises(Rejected) as caught:
        for cut in [*sorted(cuts), len(data)]:
            items.extend(reader.feed(data[start:cut]))
            start = cut
        reader.finish()
    assert caught.value.reason is Reason.BAD_BUNDLE and items == EVENTS[:6]
    with pytest.raises(Rejected):
        reader.feed(b"")
