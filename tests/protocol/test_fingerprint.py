"""Range fingerprints: the definition, its additivity, and the limb folding."""

from __future__ import annotations

import hashlib

from hypothesis import given
from hypothesis import strategies as st

from protocol.fingerprint import fingerprint, from_limb_sums, id_limbs, varint

ids = st.lists(st.binary(min_size=32, max_size=32), max_size=40, unique=True)


def test_empty_set() -> None:
    assert fingerprint([]) == hashlib.sha256(bytes(32) + b"\x00").digest()[:16]


def test_varint() -> None:
    assert varint(0) == b"\x00"
    assert varint(127) == b"\x7f"
    assert varint(128) == b"\x81\x00"
    assert varint(16384) == b"\x81\x80\x00"


def test_sum_wraps_modulo_2_256() -> None:
    top = b"\xff" * 32
    one = b"\x01" + bytes(31)
    # (2**256 - 1) + 1 == 0 (mod 2**256), with a count of 2.
    assert fingerprint([top, one]) == hashlib.sha256(bytes(32) + b"\x02").digest()[:16]


@given(ids)
def test_order_does_not_matter(values: list[bytes]) -> None:
    assert fingerprint(values) == fingerprint(reversed(values))


@given(ids)
def test_limb_sums_agree_with_the_definition(values: list[bytes]) -> None:
    sums = [sum(column) for column in zip(*(id_limbs(v) for v in values), strict=True)]
    if not values:
        sums = [0] * 8
    assert from_limb_sums(sums, len(values)) == fingerprint(values)
