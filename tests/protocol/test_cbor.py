"""The strict canonical decoder: table cases, round trips, and a fuzz invariant."""

from __future__ import annotations

from typing import Any

import cbor2
import pytest
from hypothesis import given
from hypothesis import strategies as st

from protocol import cbor
from protocol.errors import LocalError, Reason, Rejected

ACCEPTED = [
    ("00", 0),
    ("17", 23),
    ("1818", 24),
    ("18ff", 255),
    ("190100", 256),
    ("1a00010000", 65536),
    ("1b0000000100000000", 2**32),
    ("1b7fffffffffffffff", 2**63 - 1),
    ("20", -1),
    ("3b7fffffffffffffff", -(2**63)),
    ("40", b""),
    ("4401020304", b"\x01\x02\x03\x04"),
    ("60", ""),
    ("62c3b1", "ñ"),
    ("80", []),
    ("8301820203820405", [1, [2, 3], [4, 5]]),
    ("a0", {}),
    ("a2616101616202", {"a": 1, "b": 2}),
    ("a2616201626161f6", {"b": 1, "aa": None}),
    ("f4", False),
    ("f5", True),
    ("f6", None),
]

REJECTED = [
    ("", Reason.TRUNCATED),
    ("18", Reason.TRUNCATED),
    ("1900", Reason.TRUNCATED),
    ("43aabb", Reason.TRUNCATED),
    ("82 01", Reason.TRUNCATED),
    ("a1 6161", Reason.TRUNCATED),
    ("0000", Reason.TRAILING_BYTES),
    ("1817", Reason.NON_MINIMAL_WIDTH),
    ("1900ff", Reason.NON_MINIMAL_WIDTH),
    ("1a0000ffff", Reason.NON_MINIMAL_WIDTH),
    ("1b00000000ffffffff", Reason.NON_MINIMAL_WIDTH),
    ("3817", Reason.NON_MINIMAL_WIDTH),
    ("5801 00", Reason.NON_MINIMAL_WIDTH),
    ("7801 61", Reason.NON_MINIMAL_WIDTH),
    ("9801 00", Reason.NON_MINIMAL_WIDTH),
    ("b801 6161 00", Reason.NON_MINIMAL_WIDTH),
    ("1b8000000000000000", Reason.INT_OUT_OF_RANGE),
    ("3b8000000000000000", Reason.INT_OUT_OF_RANGE),
    ("1c", Reason.MALFORMED),
    ("1f", Reason.MALFORMED),
    ("3f", Reason.MALFORMED),
    ("fc", Reason.MALFORMED),
    ("ff", Reason.MALFORMED),
    ("5f ff", Reason.INDEFINITE_LENGTH),
    ("7f ff", Reason.INDEFINITE_LENGTH),
    ("9f ff", Reason.INDEFINITE_LENGTH),
    ("bf ff", Reason.INDEFINITE_LENGTH),
    ("f93c00", Reason.FLOAT_NOT_ALLOWED),
    ("fa3f800000", Reason.FLOAT_NOT_ALLOWED),
    ("fb3ff0000000000000", Reason.FLOAT_NOT_ALLOWED),
    ("c11a514b67b0", Reason.TAG_NOT_ALLOWED),
    ("dc", Reason.TAG_NOT_ALLOWED),
    ("df", Reason.TAG_NOT_ALLOWED),
    ("fe", Reason.MALFORMED),
    ("d9d9f7 00", Reason.TAG_NOT_ALLOWED),
    ("f7", Reason.SIMPLE_NOT_ALLOWED),
    ("f0", Reason.SIMPLE_NOT_ALLOWED),
    ("f820", Reason.SIMPLE_NOT_ALLOWED),
    ("61ff", Reason.INVALID_UTF8),
    ("63eda080", Reason.INVALID_UTF8),  # a UTF-16 surrogate encoded as UTF-8
    ("62c0af", Reason.INVALID_UTF8),  # an overlong encoding of "/"
    ("a1 01 02", Reason.BAD_MAP_KEY),
    ("a1 4161 02", Reason.BAD_MAP_KEY),
    ("a2 6162 01 6161 02", Reason.UNSORTED_KEYS),
    ("a2 626161 01 6162 02", Reason.UNSORTED_KEYS),  # shorter keys sort first
    ("a2 6161 01 6161 02", Reason.DUPLICATE_KEY),
    ("81" * 16 + "80", Reason.TOO_DEEP),
    ("a1 6161" * 16 + "00", Reason.TOO_DEEP),
]


@pytest.mark.parametrize(("hex_bytes", "expected"), ACCEPTED)
def test_accepts_canonical(hex_bytes: str, expected: Any) -> None:
    data = bytes.fromhex(hex_bytes)
    assert cbor.decode(data) == expected
    assert cbor.encode(expected) == data


@pytest.mark.parametrize(("hex_bytes", "reason"), REJECTED)
def test_rejects(hex_bytes: str, reason: Reason) -> None:
    with pytest.raises(Rejected) as caught:
        cbor.decode(bytes.fromhex(hex_bytes.replace(" ", "")))
    assert caught.value.reason is reason


def test_depth_limit_is_inclusive() -> None:
    assert cbor.decode(b"\x81" * 15 + b"\x80") == _nested(16)


def test_size_limit_is_inclusive() -> None:
    at_limit = cbor.encode(bytes(cbor.MAX_SIZE - 3))
    assert len(at_limit) == cbor.MAX_SIZE
    assert cbor.decode(at_limit) == bytes(cbor.MAX_SIZE - 3)
    one_over = b"\x59\xff\xfe" + bytes(cbor.MAX_SIZE - 2)
    with pytest.raises(Rejected) as caught:
        cbor.decode(one_over)
    assert caught.value.reason is Reason.TOO_LARGE
    with pytest.raises(LocalError):
        cbor.encode(bytes(cbor.MAX_SIZE - 2))


def test_first_defect_wins() -> None:
    # An indefinite array holding a float: the indefinite length comes first.
    with pytest.raises(Rejected) as caught:
        cbor.decode(bytes.fromhex("9ff93c00ff"))
    assert caught.value.reason is Reason.INDEFINITE_LENGTH
    # Declared 3 items, the second a float, then truncation: the float comes first.
    with pytest.raises(Rejected) as caught:
        cbor.decode(bytes.fromhex("8301f93c00"))
    assert caught.value.reason is Reason.FLOAT_NOT_ALLOWED


@pytest.mark.parametrize("value", [1.5, {1: 2}, 2**64, -(2**63) - 1, {"a": object()}])
def test_encode_refuses_values_outside_the_model(value: Any) -> None:
    with pytest.raises(LocalError):
        cbor.encode(value)


def _nested(depth: int) -> list[Any]:
    value: list[Any] = []
    for _ in range(depth - 1):
        value = [value]
    return value


values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.binary(max_size=64)
    | st.text(max_size=32),
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=30), children, max_size=5)
    ),
    max_leaves=30,
)


@given(values)
def test_round_trip(value: Any) -> None:
    data = cbor.encode(value)
    assert cbor.decode(data) == value
    # Our canonical form is the RFC 8949 deterministic form cbor2 produces.
    assert cbor2.dumps(value, canonical=True) == data


@given(values)
def test_non_canonical_re_encodings_are_refused(value: Any) -> None:
    """A non-deterministic encoder's output is accepted only if it is canonical."""
    loose = cbor2.dumps(value)  # insertion-ordered maps
    try:
        decoded = cbor.decode(loose)
    except Rejected as exc:
        assert exc.reason in {Reason.UNSORTED_KEYS, Reason.TOO_DEEP}
    else:
        assert loose == cbor.encode(decoded)


@given(st.binary(max_size=512))
def test_garbage_is_decoded_or_rejected(data: bytes) -> None:
    try:
        value = cbor.decode(data)
    except Rejected as exc:
        assert isinstance(exc.reason, Reason)
    else:
        assert cbor.encode(value) == data
