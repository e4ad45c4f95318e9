"""The uniqueness tag: one person, one tag, whichever registrar computes it.

Theory of operation
-------------------
A registrar checks a person's national ID in person (Code 1) and certifies
the person's key (Code 2) with a *uniqueness tag* instead of the ID: the
network refuses a second certificate with a tag already in use, so the same
person cannot be registered twice, by the same or by another registrar.
Two things make that work (specs/identity.md, "The uniqueness tag"):

1. ``normalize_national_id``: one byte string per identity document, however
   it was typed (fullwidth digits, dots, hyphens, spaces, lower case, leading
   zeros dropped by a spreadsheet). The rules are normative: every registrar
   implementation must produce the same bytes, or the same person would get
   two tags.
2. ``uniqueness_tag``: BLAKE2b-256 of those bytes, keyed with a 32-byte
   secret that the registrars share (the *tag key*) and personalized with
   ``TAG_PERSON``. The key is what protects the ID: see the function.

The tag key lives in a *tag-key file* (JSON, like the node key file of
protocol/keys.py): the 32-byte key in hex, or sealed under a passphrase with
Argon2id and NaCl SecretBox. The sealing reuses protocol/keys.py's helpers.

Sans-I/O: the caller supplies salt and nonce and does the file I/O. Error
messages never repeat the ID they were given (it is personal data, and
messages end up in logs): at most the code point of an offending character.
"""

from __future__ import annotations

import json
import re
import unicodedata
from typing import Any

import nacl.encoding
import nacl.exceptions
import nacl.hash
import nacl.secret

from protocol.errors import LocalError
from protocol.keys import (
    KDF_MEMLIMIT,
    KDF_OPSLIMIT,
    KeyFileError,
    hex_field,
    open_sealed,
    seal_secret,
)

#: Size of the registrars' shared tag key, and of a tag.
TAG_KEY_SIZE = 32
TAG_SIZE = 32
#: BLAKE2b personalization of the tag (libsodium pads it with zero bytes to
#: 16; the spec gives the 16 bytes).
TAG_PERSON = b"ayllu/uniq/v1"
#: BLAKE2b personalization of a tag key's id, and the id's size.
KEY_ID_PERSON = b"ayllu/tagkey/v1"
KEY_ID_SIZE = 16

COUNTRY_SIZE = 2
MAX_DOCUMENT_SIZE = 16
MAX_NUMBER_SIZE = 32
#: Removed from the document number after NFKC (which already maps the
#: fullwidth forms, no-break and ideographic spaces, and the non-breaking
#: hyphen onto these): space, hyphen-minus, full stop, solidus, and the
#: dashes a phone keyboard substitutes for a typed hyphen.
NUMBER_SEPARATORS = frozenset(
    "\u0020"  # SPACE
    "\u002d"  # HYPHEN-MINUS
    "\u002e"  # FULL STOP
    "\u002f"  # SOLIDUS
    "\u2010"  # HYPHEN
    "\u2012"  # FIGURE DASH
    "\u2013"  # EN DASH
    "\u2014"  # EM DASH
    "\u2212"  # MINUS SIGN
)

#: A normalized ID, as ``uniqueness_tag`` accepts it.
_NORMALIZED = re.compile(rb"[A-Z]{2}:[A-Z0-9]{1,16}:[A-Z1-9][A-Z0-9]{0,31}")

TAG_KEY_FILE_FORMAT = "ayllu-tag-key"
TAG_KEY_FILE_VERSION = 1


class InvalidNationalId(LocalError):
    """An ID the normalization refuses; ``field`` says which part is wrong."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def normalize_national_id(country: str, document: str, number: str) -> bytes:
    """The normal form of an identity document: ``b"COUNTRY:DOCUMENT:NUMBER"``.

    Normative (specs/identity.md); the parts are checked in this order, and
    the first part that fails raises InvalidNationalId naming it:

    1. ``country``: the ISO 3166-1 alpha-2 code of the country that issued
       the document. After Unicode NFKC it must be exactly 2 ASCII letters;
       they are uppercased.
    2. ``document``: the document type ("DNI", "CE", "PASSPORT"). After NFKC
       it must be 1 to 16 ASCII letters or digits; they are uppercased.
    3. ``number``: after NFKC, every character of ``NUMBER_SEPARATORS`` is
       removed, then every leading "0"; what is left must be 1 to 32 ASCII
       letters or digits, and is uppercased.

    Uppercasing is ASCII only (a-z to A-Z), applied after the ASCII check, so
    no Unicode case mapping (which differs between languages and versions)
    is involved.
    """
    country_part = _ascii_alnum(country, "country")
    if len(country_part) != COUNTRY_SIZE or not country_part.isalpha():
        raise InvalidNationalId("country", "the country must be a 2-letter ISO 3166-1 code")
    document_part = _ascii_alnum(document, "document")
    if not 1 <= len(document_part) <= MAX_DOCUMENT_SIZE:
        raise InvalidNationalId(
            "document", f"the document type must be 1 to {MAX_DOCUMENT_SIZE} letters or digits"
        )
    if not isinstance(number, str):
        raise InvalidNationalId("number", "the document number must be text")
    stripped = "".join(
        c for c in unicodedata.normalize("NFKC", number) if c not in NUMBER_SEPARATORS
    ).lstrip("0")
    number_part = _ascii_alnum(stripped, "number", normalized=True)
    if not 1 <= len(number_part) <= MAX_NUMBER_SIZE:
        raise InvalidNationalId(
            "number",
            f"the document number must have 1 to {MAX_NUMBER_SIZE} letters or digits "
            "(after removing separators and leading zeros)",
        )
    return f"{country_part}:{document_part}:{number_part}".encode("ascii")


def _ascii_alnum(value: object, field: str, *, normalized: bool = False) -> str:
    """``value`` after NFKC (unless already done), checked ASCII alphanumeric, uppercased."""
    if not isinstance(value, str):
        raise InvalidNationalId(field, f"the {field} must be text")
    text = value if normalized else unicodedata.normalize("NFKC", value)
    for char in text:
        if not (char.isascii() and char.isalnum()):
            # The code point only, never the value: it is personal data.
            raise InvalidNationalId(
                field,
                f"the {field} contains U+{ord(char):04X}, which is not an ASCII letter or digit",
            )
    return text.upper()  # ASCII only by now


def uniqueness_tag(tag_key: bytes, normalized: bytes) -> bytes:
    """The 32-byte uniqueness tag of a normalized ID under the registrars' tag key.

    BLAKE2b (RFC 7693) with a 32-byte digest, keyed with the 32-byte tag
    key, personalized with ``TAG_PERSON`` (zero-padded to 16 bytes), no salt,
    over the output of ``normalize_national_id``.

    Why keyed: a national ID has about 8 digits. An unkeyed hash of it
    (SHA-256, or BLAKE2b without a key) could be reversed by anyone in
    minutes, by hashing all 10^8 candidates, and every tag on the network
    would name its person. Keyed with a 256-bit secret, the tag is a PRF
    output: without the key it reveals nothing about the ID, and no
    candidate can be tested; only the registrars, who hold the key, can
    compute (and so check) the tag of an ID they are shown.
    """
    if len(tag_key) != TAG_KEY_SIZE:
        raise LocalError(f"a tag key is {TAG_KEY_SIZE} bytes")
    if _NORMALIZED.fullmatch(normalized) is None:
        raise LocalError("uniqueness_tag needs the output of normalize_national_id")
    return nacl.hash.blake2b(
        normalized,
        digest_size=TAG_SIZE,
        key=tag_key,
        person=TAG_PERSON,
        encoder=nacl.encoding.RawEncoder,
    )


def tag_key_id(tag_key: bytes) -> bytes:
    """A public 16-byte name of a tag key: registrars compare it to check they
    hold the same key, and a tag-key file carries it to catch a damaged key.

    BLAKE2b with a 16-byte digest of the empty message, keyed with the tag
    key, personalized with ``KEY_ID_PERSON``: it reveals nothing of the key.
    """
    if len(tag_key) != TAG_KEY_SIZE:
        raise LocalError(f"a tag key is {TAG_KEY_SIZE} bytes")
    return nacl.hash.blake2b(
        b"",
        digest_size=KEY_ID_SIZE,
        key=tag_key,
        person=KEY_ID_PERSON,
        encoder=nacl.encoding.RawEncoder,
    )


def encode_tag_key_file(
    tag_key: bytes,
    passphrase: bytes | None = None,
    *,
    salt: bytes | None = None,
    nonce: bytes | None = None,
    opslimit: int = KDF_OPSLIMIT,
    memlimit: int = KDF_MEMLIMIT,
) -> bytes:
    """The tag-key file bytes; with a passphrase, ``salt`` and ``nonce`` are required."""
    document: dict[str, Any] = {
        "format": TAG_KEY_FILE_FORMAT,
        "version": TAG_KEY_FILE_VERSION,
        "key_id": tag_key_id(tag_key).hex(),
    }
    if passphrase is None:
        document["key"] = tag_key.hex()
    else:
        document["sealed"] = seal_secret(
            tag_key, passphrase, salt=salt, nonce=nonce, opslimit=opslimit, memlimit=memlimit
        )
    return (json.dumps(document, indent=2) + "\n").encode("utf-8")


def tag_key_file_is_sealed(data: bytes) -> bool:
    return "sealed" in _load(data)


def tag_key_file_id(data: bytes) -> bytes:
    """The key id a tag-key file claims, readable without the passphrase."""
    return hex_field(_load(data), "key_id", KEY_ID_SIZE)


def decode_tag_key_file(data: bytes, passphrase: bytes | None = None) -> bytes:
    """The 32-byte tag key in a tag-key file; KeyFileError on any problem."""
    document = _load(data)
    if "sealed" in document:
        if "key" in document:
            raise KeyFileError("the tag-key file has both 'key' and 'sealed'")
        if passphrase is None:
            raise KeyFileError("the tag-key file is sealed: a passphrase is needed")
        tag_key = open_sealed(document["sealed"], passphrase, TAG_KEY_SIZE)
    else:
        tag_key = hex_field(document, "key", TAG_KEY_SIZE)
    if tag_key_id(tag_key) != hex_field(document, "key_id", KEY_ID_SIZE):
        raise KeyFileError("the tag-key file's key_id does not match its key")
    return tag_key


def _load(data: bytes) -> dict[str, Any]:
    try:
        document = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise KeyFileError("not a tag-key file: not UTF-8 JSON") from None
    if (
        not isinstance(document, dict)
        or document.get("format") != TAG_KEY_FILE_FORMAT
        or document.get("version") != TAG_KEY_FILE_VERSION
    ):
        raise KeyFileError(f"not an {TAG_KEY_FILE_FORMAT} version {TAG_KEY_FILE_VERSION} file")
    return document
