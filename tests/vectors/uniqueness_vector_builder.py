"""Builds specs/vectors/uniqueness.json: national ID normalization, uniqueness
tags under a fixed tag key, tag key ids, and tag-key files.

The vectors are normative (specs/identity.md, "The uniqueness tag"); this
script only saves writing hex by hand. test_uniqueness_vectors.py checks that
the committed file is exactly what this script produces and that this
implementation passes every vector.

The file is written with ``ensure_ascii``: inputs with spaces that look alike
(no-break, ideographic) or fullwidth forms are spelled as ``\\uXXXX`` escapes,
so nobody copies the wrong character out of it.

Run ``python tests/vectors/uniqueness_vector_builder.py`` to rewrite the file
after a rule change (and say so in specs/identity.md in the same commit).
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path
from typing import Any

from protocol.uniqueness import (
    KEY_ID_PERSON,
    TAG_PERSON,
    InvalidNationalId,
    encode_tag_key_file,
    normalize_national_id,
    tag_key_id,
    uniqueness_tag,
)

VECTORS_PATH = Path(__file__).resolve().parents[2] / "specs" / "vectors" / "uniqueness.json"

TAG_KEY = hashlib.sha256(b"ayllu uniqueness vector tag key").digest()
OTHER_TAG_KEY = hashlib.sha256(b"ayllu uniqueness vector other tag key").digest()
SALT = hashlib.sha256(b"ayllu uniqueness vector salt").digest()[:16]
NONCE = hashlib.sha256(b"ayllu uniqueness vector nonce").digest()[:24]
PASSPHRASE = "Ayni: hoy por ti, mañana por mí"
#: libsodium's lowest Argon2id cost, so the vectors check quickly.
OPSLIMIT = 1
MEMLIMIT = 8192

#: (name, country, document, number): each must normalize.
VALID = [
    ("plain", "PE", "DNI", "40123987"),
    ("lower case", "pe", "dni", "40123987"),
    ("dots", "PE", "DNI", "40.123.987"),
    ("spaces around and inside", "PE", "DNI", " 40 123 987 "),
    ("hyphen and slash", "PE", "DNI", "4012-39/87"),
    (
        "fullwidth",
        "\uff30\uff25",
        "\uff24\uff2e\uff29",
        "\uff14\uff10\uff11\uff12\uff13\uff19\uff18\uff17",
    ),
    ("fullwidth separators", "PE", "DNI", "40\uff0e123\uff0d987"),
    ("no-break and ideographic spaces", "PE", "DNI", "40\u00a0123\u3000987"),
    ("en dash, em dash, minus sign", "PE", "DNI", "40\u2013123\u2014987\u2212"),
    ("non-breaking hyphen (NFKC: hyphen)", "PE", "DNI", "40\u2011123987"),
    ("leading zero", "PE", "DNI", "04123456"),
    ("leading zero dropped", "PE", "DNI", "4123456"),
    ("zeros and separators", "PE", "DNI", "0-0.4123456"),
    ("foreigner's card", "PE", "CE", "000987654"),
    ("passport", "PE", "PASSPORT", "ab-123c"),
    ("another country", "BO", "CI", "1234567-1b"),
    ("longest number", "PE", "DNI", "9" * 32),
    ("longest document type", "PE", "ABCDEFGHIJKLMNOP", "1"),
    ("shortest", "pe", "x", "1"),
]

#: (name, country, document, number): each is refused; field = first wrong part.
INVALID = [
    ("country of 3 letters", "PER", "DNI", "40123987"),
    ("country of 1 letter", "P", "DNI", "40123987"),
    ("country empty", "", "DNI", "40123987"),
    ("country with a digit", "P1", "DNI", "40123987"),
    ("country with a space", "PE ", "DNI", "40123987"),
    ("country not ASCII", "P\u00c9", "DNI", "40123987"),
    ("everything empty: country first", "", "", ""),
    ("document empty", "PE", "", "40123987"),
    ("document with spaces", "PE", "D N I", "40123987"),
    ("document of 17", "PE", "ABCDEFGHIJKLMNOPQ", "40123987"),
    ("document not ASCII", "PE", "CARN\u00c9", "40123987"),
    ("document and number empty: document first", "PE", "", ""),
    ("number empty", "PE", "DNI", ""),
    ("number of separators only", "PE", "DNI", " - . / "),
    ("number of zeros only", "PE", "DNI", "0000"),
    ("number of 33", "PE", "DNI", "1" * 33),
    ("number with underscore", "PE", "DNI", "4012_3987"),
    ("number with a tab", "PE", "DNI", "4012\t3987"),
    ("number with a newline", "PE", "DNI", "40123987\n"),
    ("number with Arabic-Indic digits", "PE", "DNI", "\u0664\u0660\u0661"),
    ("number with sharp s (no Unicode case mapping)", "PE", "DNI", "\u00df123"),
    ("number with dotless i (no Unicode case mapping)", "PE", "DNI", "\u0131123"),
    ("number with a soft hyphen", "PE", "DNI", "4012\u00ad3987"),
]


def _invalid_field(country: str, document: str, number: str) -> str:
    try:
        normalize_national_id(country, document, number)
    except InvalidNationalId as exc:
        return exc.field
    raise AssertionError(f"accepted an invalid vector: {country!r} {document!r} {number!r}")


def build() -> dict[str, Any]:
    valid = []
    for name, country, document, number in VALID:
        normalized = normalize_national_id(country, document, number)
        valid.append(
            {
                "name": name,
                "country": country,
                "document": document,
                "number": number,
                "normalized": normalized.decode("ascii"),
                "normalized_hex": normalized.hex(),
                "tag_hex": uniqueness_tag(TAG_KEY, normalized).hex(),
                "other_tag_hex": uniqueness_tag(OTHER_TAG_KEY, normalized).hex(),
            }
        )
    invalid = [
        {
            "name": name,
            "country": country,
            "document": document,
            "number": number,
            "field": _invalid_field(country, document, number),
        }
        for name, country, document, number in INVALID
    ]
    files = [
        {
            "name": "plain",
            "passphrase": None,
            "file": encode_tag_key_file(TAG_KEY).decode("utf-8"),
            "tag_key_hex": TAG_KEY.hex(),
        },
        {
            "name": "sealed",
            "passphrase": PASSPHRASE,
            "file": encode_tag_key_file(
                TAG_KEY,
                PASSPHRASE.encode("utf-8"),
                salt=SALT,
                nonce=NONCE,
                opslimit=OPSLIMIT,
                memlimit=MEMLIMIT,
            ).decode("utf-8"),
            "tag_key_hex": TAG_KEY.hex(),
        },
    ]
    return {
        "description": (
            "specs/identity.md, 'The uniqueness tag'. valid: normalized is "
            "normalize(country, document, number); tag_hex is BLAKE2b-256 of it keyed with "
            "tag_key_hex, other_tag_hex keyed with other_tag_key_hex. invalid: refused, "
            "field names the first part found wrong. tag_key_files: each opens to tag_key_hex."
        ),
        "tag_person_hex": TAG_PERSON.ljust(16, b"\0").hex(),
        "key_id_person_hex": KEY_ID_PERSON.ljust(16, b"\0").hex(),
        "tag_key_hex": TAG_KEY.hex(),
        "tag_key_id_hex": tag_key_id(TAG_KEY).hex(),
        "other_tag_key_hex": OTHER_TAG_KEY.hex(),
        "other_tag_key_id_hex": tag_key_id(OTHER_TAG_KEY).hex(),
        "valid": valid,
        "invalid": invalid,
        "tag_key_files": files,
    }


def render() -> str:
    return json.dumps(build(), indent=2, ensure_ascii=True) + "\n"


if __name__ == "__main__":
    VECTORS_PATH.write_text(render(), encoding="utf-8")
    sys.stdout.write(f"wrote {VECTORS_PATH}\n")
