"""Builds specs/vectors/genesis.json: genesis documents and their network ids.

Like vector_builder.py (whose test network is the first valid vector here),
this script only saves writing hex by hand; a test checks that the committed
file is exactly what it produces and that every vector passes.

Run ``python tests/vectors/genesis_vector_builder.py`` after a rule change
to specs/genesis.md.
"""

from __future__ import annotations

import json
import struct
import sys
from typing import Any

from vector_builder import GENESIS, KEY_B, NOW_MS, PUB_A, VECTORS_DIR, diagnostic, head, raw_map

from protocol import cbor
from protocol.errors import Reason
from protocol.genesis import MAX_GENESIS_SIZE, Genesis, make_genesis

GENESIS_VECTORS_PATH = VECTORS_DIR / "genesis.json"
PUB_B = bytes(KEY_B.verify_key)


BOOT_A = "/dns4/boot.example.org/tcp/4001/p2p/12D3KooWMbbPVGsZYh3ChQjue712NHHGNybRRXwnuSpezYjGbCDS"
BOOT_B = "/ip4/192.0.2.7/tcp/4001/p2p/12D3KooWMbbPVGsZYh3ChQjue712NHHGNybRRXwnuSpezYjGbCDS"


def fields(document: Genesis) -> dict[str, Any]:
    """The document as a value, for variants that break one rule."""
    value: dict[str, Any] = cbor.decode(document.raw)
    return value


def changed(**changes: Any) -> bytes:
    """The test network's document with some fields replaced (canonically
    encoded, so only the change is wrong)."""
    return cbor.encode({**fields(GENESIS), **changes})


def without(name: str) -> bytes:
    return cbor.encode({key: value for key, value in fields(GENESIS).items() if key != name})


def root_with(**changes: Any) -> bytes:
    return changed(root={**GENESIS.root, **changes})


def rules_with(**changes: Any) -> bytes:
    return root_with(rules={**GENESIS.root["rules"], **changes})


def build() -> dict[str, Any]:
    council = make_genesis(
        name="Ayllu Tawantinsuyu: ñawpa kamachiy",
        ts=NOW_MS,
        root={
            "name": "Tawantinsuyu",
            "langs": ["ay", "es", "qu"],
            "level": 8,
            "rules": {
                "quorum_pct": 60,
                "support_pct": 10,
                "threshold_pct": 66,
                "term_days": 365,
                "merit_days": 90,
            },
        },
        founder=PUB_B,
        registrars=[PUB_B, PUB_A],
        quorum=2,
    )
    valid_documents = [
        (
            "test_network",
            "The network of specs/vectors/events.json: one registrar, the default rules.",
            GENESIS,
        ),
        ("two_registrars", "Two registrars, both needed; a non-ASCII name.", council),
        (
            "with_bootstrap",
            "The test network's document naming two default bootstrap peers.",
            make_genesis(
                name=GENESIS.name,
                ts=GENESIS.ts,
                root=GENESIS.root,
                founder=GENESIS.founder,
                registrars=GENESIS.registrars,
                quorum=GENESIS.quorum,
                bootstrap=[BOOT_A, BOOT_B],
            ),
        ),
    ]
    valid = [
        {
            "name": name,
            "description": description,
            "input_hex": document.raw.hex(),
            "diagnostic": diagnostic(fields(document)),
            "network_id_hex": document.network_id.hex(),
        }
        for name, description, document in valid_documents
    ]

    good = GENESIS.raw
    pairs = [(key, cbor.encode(value)) for key, value in fields(GENESIS).items()]
    invalid: list[tuple[str, str, bytes, Reason]] = [
        ("not_a_map", "An array.", cbor.encode([1, 2]), Reason.BAD_GENESIS),
        ("empty_bootstrap", "An empty bootstrap list.", changed(bootstrap=[]), Reason.BAD_GENESIS),
        (
            "bootstrap_without_peer",
            "A bootstrap address that names no peer.",
            changed(bootstrap=["/dns4/boot.example.org/tcp/4001"]),
            Reason.BAD_GENESIS,
        ),
        ("missing_founder", "No 'founder'.", without("founder"), Reason.BAD_GENESIS),
        ("unknown_field", "An extra field 'memo'.", changed(memo="hola"), Reason.BAD_GENESIS),
        ("version_2", "Version 2.", changed(v=2), Reason.BAD_GENESIS),
        ("negative_ts", "A negative timestamp.", changed(ts=-1), Reason.BAD_GENESIS),
        ("empty_name", "An empty name.", changed(name=""), Reason.BAD_GENESIS),
        (
            "short_founder",
            "A 31-byte founder key.",
            changed(founder=PUB_A[:31]),
            Reason.BAD_GENESIS,
        ),
        ("no_registrars", "An empty registrar set.", changed(registrars=[]), Reason.BAD_GENESIS),
        (
            "unsorted_registrars",
            "Registrars not in ascending order.",
            changed(registrars=sorted([PUB_A, PUB_B], reverse=True)),
            Reason.BAD_GENESIS,
        ),
        (
            "repeated_registrar",
            "The same registrar twice.",
            changed(registrars=[PUB_A, PUB_A]),
            Reason.BAD_GENESIS,
        ),
        ("quorum_zero", "A quorum of 0.", changed(quorum=0), Reason.BAD_GENESIS),
        (
            "quorum_above_registrars",
            "A quorum of 2 with one registrar.",
            changed(quorum=2),
            Reason.BAD_GENESIS,
        ),
        ("root_level_zero", "A root group of level 0.", root_with(level=0), Reason.BAD_GENESIS),
        (
            "root_unsorted_langs",
            "Root languages not in ascending order.",
            root_with(langs=["qu", "es"]),
            Reason.BAD_GENESIS,
        ),
        (
            "root_extra_field",
            "A root charter field 'memo'.",
            root_with(memo="x"),
            Reason.BAD_GENESIS,
        ),
        (
            "threshold_below_half",
            "A threshold of 49%: a minority could pass a ballot.",
            rules_with(threshold_pct=49),
            Reason.BAD_GENESIS,
        ),
        (
            "too_large",
            f"{MAX_GENESIS_SIZE + 1} bytes: one more than the limit.",
            head(2, MAX_GENESIS_SIZE - 2, 2) + bytes(MAX_GENESIS_SIZE - 2),
            Reason.TOO_LARGE,
        ),
        (
            "unsorted_keys",
            "The test network's fields with 'v' last.",
            raw_map([*pairs[1:], pairs[0]]),
            Reason.UNSORTED_KEYS,
        ),
        (
            "trailing_bytes",
            "The test network followed by a byte.",
            good + b"\x00",
            Reason.TRAILING_BYTES,
        ),
        (
            "float_ts",
            "The timestamp as a double-precision float.",
            raw_map(
                [
                    (key, b"\xfb" + struct.pack(">d", GENESIS.ts) if key == "ts" else value)
                    for key, value in pairs
                ]
            ),
            Reason.FLOAT_NOT_ALLOWED,
        ),
    ]
    return {
        "description": "ayllu genesis document test vectors; see specs/genesis.md.",
        "spec": "specs/genesis.md",
        "version": 1,
        "valid": valid,
        "invalid": [
            {
                "name": name,
                "description": description,
                "input_hex": data.hex(),
                "reason": reason.value,
            }
            for name, description, data, reason in invalid
        ],
    }


def render() -> str:
    return json.dumps(build(), indent=2, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    GENESIS_VECTORS_PATH.write_text(render(), encoding="utf-8")
    sys.stdout.write(f"wrote {GENESIS_VECTORS_PATH}\n")
