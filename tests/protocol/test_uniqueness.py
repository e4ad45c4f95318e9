"""The normal form of a national ID, the uniqueness tag, the tag-key file."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from protocol.errors import LocalError
from protocol.keys import KeyFileError
from protocol.uniqueness import (
    TAG_PERSON,
    InvalidNationalId,
    decode_tag_key_file,
    encode_tag_key_file,
    normalize_national_id,
    tag_key_file_id,
    tag_key_file_is_sealed,
    tag_key_id,
    uniqueness_tag,
)

TAG_KEY = bytes(range(32))
OTHER_KEY = bytes(range(1, 33))
SALT = bytes(16)
NONCE = bytes(24)
#: The lowest Argon2id cost libsodium allows, so these tests stay fast.
FAST: dict[str, Any] = {"opslimit": 1, "memlimit": 8192}


@pytest.mark.parametrize(
    ("country", "document", "number", "expected"),
    [
        ("PE", "DNI", "12345678", b"PE:DNI:12345678"),
        ("pe", "dni", "12345678", b"PE:DNI:12345678"),
        ("Pe", "Dni", " 12 345 678 ", b"PE:DNI:12345678"),
        ("PE", "DNI", "12.345.678", b"PE:DNI:12345678"),
        ("PE", "DNI", "1234-5678", b"PE:DNI:12345678"),
        ("PE", "DNI", "12/34/56/78", b"PE:DNI:12345678"),
        # Fullwidth digits, letters and separators (a Japanese or Chinese IME).
        (
            "\uff30\uff25",
            "\uff24\uff2e\uff29",
            "\uff11\uff12\uff13\uff14\uff15\uff16\uff17\uff18",
            b"PE:DNI:12345678",
        ),
        (
            "PE",
            "DNI",
            "\uff11\uff12\uff0e\uff13\uff14\uff15\uff0d\uff16\uff17\uff18",
            b"PE:DNI:12345678",
        ),
        # No-break space, ideographic space, en dash, minus sign, hyphen.
        ("PE", "DNI", "12\u00a0345\u3000678", b"PE:DNI:12345678"),
        ("PE", "DNI", "1234\u20135678", b"PE:DNI:12345678"),
        ("PE", "DNI", "1234\u22125678", b"PE:DNI:12345678"),
        ("PE", "DNI", "1234\u20115678", b"PE:DNI:12345678"),  # NFKC -> U+2010
        # Leading zeros, as a spreadsheet drops them.
        ("PE", "DNI", "04123456", b"PE:DNI:4123456"),
        ("PE", "DNI", "4123456", b"PE:DNI:4123456"),
        ("PE", "DNI", "0-0.4123456", b"PE:DNI:4123456"),
        ("PE", "CE", "000123456", b"PE:CE:123456"),
        ("PE", "PASSPORT", "ab-123c", b"PE:PASSPORT:AB123C"),
        ("BO", "CI", "1234567-1b", b"BO:CI:12345671B"),
        ("PE", "DNI", "1" * 32, b"PE:DNI:" + b"1" * 32),
        ("PE", "D" * 16, "1", b"PE:" + b"D" * 16 + b":1"),
    ],
)
def test_normalization(country: str, document: str, number: str, expected: bytes) -> None:
    assert normalize_national_id(country, document, number) == expected


@pytest.mark.parametrize(
    ("country", "document", "number", "field"),
    [
        ("PER", "DNI", "12345678", "country"),
        ("P", "DNI", "12345678", "country"),
        ("", "DNI", "12345678", "country"),
        ("P1", "DNI", "12345678", "country"),
        ("PE ", "DNI", "12345678", "country"),
        ("P\u00c9", "DNI", "12345678", "country"),
        ("PE", "", "12345678", "document"),
        ("PE", "D N I", "12345678", "document"),
        ("PE", "D" * 17, "12345678", "document"),
        ("PE", "CARN\u00c9", "12345678", "document"),
        ("PE", "DNI", "", "number"),
        ("PE", "DNI", " - . / ", "number"),
        ("PE", "DNI", "0000", "number"),
        ("PE", "DNI", "1" * 33, "number"),
        ("PE", "DNI", "1234_5678", "number"),
        ("PE", "DNI", "1234\t5678", "number"),
        ("PE", "DNI", "12345678\n", "number"),
        (
            "PE",
            "DNI",
            "\u0661\u0662\u0663\u0664",
            "number",
        ),  # Arabic-Indic digits: not ASCII after NFKC
        ("PE", "DNI", "\u00df123", "number"),  # no Unicode case mapping ("SS")
        ("PE", "DNI", "\u0131123", "number"),  # dotless i: not uppercased to I
    ],
)
def test_normalization_rejects(country: str, document: str, number: str, field: str) -> None:
    with pytest.raises(InvalidNationalId) as caught:
        normalize_national_id(country, document, number)
    assert caught.value.field == field
    assert isinstance(caught.value, LocalError)


def test_errors_never_repeat_the_id() -> None:
    with pytest.raises(InvalidNationalId) as caught:
        normalize_national_id("PE", "DNI", "87654321_x")
    assert "8765" not in str(caught.value)
    assert "U+005F" in str(caught.value)


def test_countries_are_checked_before_documents_and_numbers() -> None:
    with pytest.raises(InvalidNationalId) as caught:
        normalize_national_id("", "", "")
    assert caught.value.field == "country"
    with pytest.raises(InvalidNationalId) as caught:
        normalize_national_id("PE", "", "")
    assert caught.value.field == "document"


def test_non_text_is_refused() -> None:
    with pytest.raises(InvalidNationalId):
        normalize_national_id("PE", "DNI", 12345678)  # type: ignore[arg-type]


_NUMBERS = st.text(
    alphabet=st.sampled_from("0123456789abcdefXYZ -./\uff11\uff12\uff41\uff0d\u00a0\u2013"),
    min_size=1,
    max_size=40,
)


@given(number=_NUMBERS, country=st.sampled_from(["pe", "PE", "\uff30\uff25", "bo"]))
def test_normalization_is_idempotent(number: str, country: str) -> None:
    try:
        normalized = normalize_national_id(country, "dni", number)
    except InvalidNationalId:
        return
    parts = normalized.decode("ascii").split(":")
    assert normalize_national_id(*parts) == normalized


def test_tag_is_keyed_blake2b_with_the_personalization() -> None:
    normalized = normalize_national_id("PE", "DNI", "12345678")
    tag = uniqueness_tag(TAG_KEY, normalized)
    # A second implementation: hashlib's BLAKE2b (RFC 7693), not libsodium.
    expected = hashlib.blake2b(
        normalized, digest_size=32, key=TAG_KEY, person=TAG_PERSON.ljust(16, b"\0")
    ).digest()
    assert tag == expected
    assert len(tag) == 32
    assert uniqueness_tag(TAG_KEY, normalized) == tag  # deterministic


def test_tag_differs_per_key_and_per_id() -> None:
    a = normalize_national_id("PE", "DNI", "12345678")
    b = normalize_national_id("PE", "DNI", "12345679")
    c = normalize_national_id("BO", "DNI", "12345678")
    tags = {uniqueness_tag(k, n) for k in (TAG_KEY, OTHER_KEY) for n in (a, b, c)}
    assert len(tags) == 6
    # Unkeyed, the tag would be a plain hash anyone could recompute.
    assert uniqueness_tag(TAG_KEY, a) != hashlib.blake2b(a, digest_size=32).digest()


def test_same_person_same_tag_however_typed() -> None:
    tags = {
        uniqueness_tag(TAG_KEY, normalize_national_id(*typed))
        for typed in [
            ("PE", "DNI", "04123456"),
            ("pe", "dni", "4.123.456"),
            ("\uff30\uff25", "Dni", "\uff10\uff14\uff11\uff12\uff13\uff14\uff15\uff16"),
        ]
    }
    assert len(tags) == 1


@pytest.mark.parametrize(
    "bad",
    [b"PE:DNI:012", b"pe:DNI:12", b"PE:DNI:", b"PE:DNI:12\n", b"PE:DNI:1 2", b"PE-DNI-12", b""],
)
def test_tag_needs_the_normal_form(bad: bytes) -> None:
    with pytest.raises(LocalError):
        uniqueness_tag(TAG_KEY, bad)


def test_tag_needs_a_32_byte_key() -> None:
    with pytest.raises(LocalError):
        uniqueness_tag(bytes(16), b"PE:DNI:1")


def test_plain_tag_key_file_round_trip() -> None:
    data = encode_tag_key_file(TAG_KEY)
    document = json.loads(data)
    assert document["format"] == "ayllu-tag-key"
    assert document["version"] == 1
    assert not tag_key_file_is_sealed(data)
    assert tag_key_file_id(data) == tag_key_id(TAG_KEY)
    assert decode_tag_key_file(data) == TAG_KEY


def test_sealed_tag_key_file_round_trip_and_hides_the_key() -> None:
    data = encode_tag_key_file(TAG_KEY, b"ayni", salt=SALT, nonce=NONCE, **FAST)
    assert tag_key_file_is_sealed(data)
    assert TAG_KEY.hex() not in data.decode()
    assert tag_key_file_id(data) == tag_key_id(TAG_KEY)
    assert decode_tag_key_file(data, b"ayni") == TAG_KEY


def test_sealed_tag_key_file_needs_the_right_passphrase() -> None:
    data = encode_tag_key_file(TAG_KEY, b"ayni", salt=SALT, nonce=NONCE, **FAST)
    with pytest.raises(KeyFileError, match="passphrase is needed"):
        decode_tag_key_file(data)
    with pytest.raises(KeyFileError, match="wrong passphrase"):
        decode_tag_key_file(data, b"mink'a")


def test_sealing_needs_salt_and_nonce() -> None:
    with pytest.raises(LocalError, match="salt"):
        encode_tag_key_file(TAG_KEY, b"ayni", **FAST)


def test_key_id_catches_a_damaged_key() -> None:
    document = json.loads(encode_tag_key_file(TAG_KEY))
    document["key"] = OTHER_KEY.hex()
    with pytest.raises(KeyFileError, match="key_id"):
        decode_tag_key_file(json.dumps(document).encode())


def test_key_id_is_keyed_blake2b() -> None:
    expected = hashlib.blake2b(
        b"", digest_size=16, key=TAG_KEY, person=b"ayllu/tagkey/v1\0"
    ).digest()
    assert tag_key_id(TAG_KEY) == expected
    assert tag_key_id(OTHER_KEY) != expected


def test_sealed_limits_are_capped() -> None:
    document = json.loads(encode_tag_key_file(TAG_KEY, b"ayni", salt=SALT, nonce=NONCE, **FAST))
    document["sealed"]["memlimit"] = 2**40
    with pytest.raises(KeyFileError, match="memlimit"):
        decode_tag_key_file(json.dumps(document).encode(), b"ayni")


@pytest.mark.parametrize(
    "data",
    [
        b"not json",
        b"\xff",
        b"[]",
        json.dumps({"format": "ayllu-key", "version": 1}).encode(),
        json.dumps({"format": "ayllu-tag-key", "version": 2}).encode(),
        json.dumps({"format": "ayllu-tag-key", "version": 1, "key": "00"}).encode(),
    ],
)
def test_foreign_or_damaged_files_are_refused(data: bytes) -> None:
    with pytest.raises(KeyFileError):
        decode_tag_key_file(data)


def test_a_file_with_both_key_and_sealed_is_refused() -> None:
    document = json.loads(encode_tag_key_file(TAG_KEY, b"ayni", salt=SALT, nonce=NONCE, **FAST))
    document["key"] = TAG_KEY.hex()
    with pytest.raises(KeyFileError, match="both"):
        decode_tag_key_file(json.dumps(document).encode(), b"ayni")
