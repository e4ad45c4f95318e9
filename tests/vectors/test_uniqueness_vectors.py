"""specs/vectors/uniqueness.json: every vector passes, here and in a second implementation.

The second implementation (``reference_*`` below) is written from
specs/identity.md alone, with hashlib's BLAKE2b instead of libsodium's: it
checks that the spec says enough to rebuild every byte of the vectors.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from typing import Any

import pytest
import uniqueness_vector_builder

from protocol.uniqueness import (
    InvalidNationalId,
    decode_tag_key_file,
    normalize_national_id,
    tag_key_file_id,
    tag_key_id,
    uniqueness_tag,
)

VECTORS: dict[str, Any] = json.loads(
    uniqueness_vector_builder.VECTORS_PATH.read_text(encoding="utf-8")
)
TAG_KEY = bytes.fromhex(VECTORS["tag_key_hex"])
OTHER_TAG_KEY = bytes.fromhex(VECTORS["other_tag_key_hex"])

# -- The reference, from specs/identity.md --------------------------------

_SEPARATORS = {0x20, 0x2D, 0x2E, 0x2F, 0x2010, 0x2012, 0x2013, 0x2014, 0x2212}


def reference_normalize(country: str, document: str, number: str) -> bytes | str:
    """The normal form, or the name of the first part that is wrong."""
    country = unicodedata.normalize("NFKC", country)
    if not re.fullmatch(r"[A-Za-z]{2}", country, re.ASCII):
        return "country"
    document = unicodedata.normalize("NFKC", document)
    if not re.fullmatch(r"[A-Za-z0-9]{1,16}", document, re.ASCII):
        return "document"
    number = "".join(c for c in unicodedata.normalize("NFKC", number) if ord(c) not in _SEPARATORS)
    number = re.sub(r"\A0+", "", number)
    if not re.fullmatch(r"[A-Za-z0-9]{1,32}", number, re.ASCII):
        return "number"
    return f"{country}:{document}:{number}".upper().encode("ascii")


def reference_tag(key: bytes, normalized: bytes) -> bytes:
    person = bytes.fromhex(VECTORS["tag_person_hex"])
    return hashlib.blake2b(normalized, digest_size=32, key=key, person=person).digest()


def reference_key_id(key: bytes) -> bytes:
    person = bytes.fromhex(VECTORS["key_id_person_hex"])
    return hashlib.blake2b(b"", digest_size=16, key=key, person=person).digest()


# -- The tests -------------------------------------------------------------


def test_committed_vectors_are_what_the_builder_makes() -> None:
    assert uniqueness_vector_builder.VECTORS_PATH.read_text(encoding="utf-8") == (
        uniqueness_vector_builder.render()
    )


def test_personalizations() -> None:
    assert bytes.fromhex(VECTORS["tag_person_hex"]) == b"ayllu/uniq/v1\0\0\0"
    assert bytes.fromhex(VECTORS["key_id_person_hex"]) == b"ayllu/tagkey/v1\0"


@pytest.mark.parametrize("vector", VECTORS["valid"], ids=lambda v: v["name"])
def test_valid(vector: dict[str, str]) -> None:
    parts = vector["country"], vector["document"], vector["number"]
    normalized = bytes.fromhex(vector["normalized_hex"])
    assert normalized == vector["normalized"].encode("ascii")
    for normalize in (normalize_national_id, reference_normalize):
        assert normalize(*parts) == normalized
    for tag in (uniqueness_tag, reference_tag):
        assert tag(TAG_KEY, normalized).hex() == vector["tag_hex"]
        assert tag(OTHER_TAG_KEY, normalized).hex() == vector["other_tag_hex"]


@pytest.mark.parametrize("vector", VECTORS["invalid"], ids=lambda v: v["name"])
def test_invalid(vector: dict[str, str]) -> None:
    parts = vector["country"], vector["document"], vector["number"]
    with pytest.raises(InvalidNationalId) as caught:
        normalize_national_id(*parts)
    assert caught.value.field == vector["field"]
    assert reference_normalize(*parts) == vector["field"]


def test_key_ids() -> None:
    for key, key_id in (
        (TAG_KEY, VECTORS["tag_key_id_hex"]),
        (OTHER_TAG_KEY, VECTORS["other_tag_key_id_hex"]),
    ):
        assert tag_key_id(key).hex() == key_id
        assert reference_key_id(key).hex() == key_id


@pytest.mark.parametrize("vector", VECTORS["tag_key_files"], ids=lambda v: v["name"])
def test_tag_key_files(vector: dict[str, Any]) -> None:
    data = vector["file"].encode("utf-8")
    passphrase = None if vector["passphrase"] is None else vector["passphrase"].encode("utf-8")
    assert decode_tag_key_file(data, passphrase).hex() == vector["tag_key_hex"]
    assert tag_key_file_id(data).hex() == VECTORS["tag_key_id_hex"]


def test_every_rule_has_a_vector() -> None:
    """Each part of the normal form is exercised, accepted and refused."""
    assert {v["field"] for v in VECTORS["invalid"]} == {"country", "document", "number"}
    tags = {v["tag_hex"] for v in VECTORS["valid"]}
    assert len(tags) < len(VECTORS["valid"])  # several spellings of one person
