"""Builds specs/vectors/events.json from fixed keys, timestamps and network.

The vectors are normative; this script only saves writing hex by hand. The
test next to it checks that the committed file is exactly what this script
produces and that this implementation passes every vector, so the spec, the
vectors and the code cannot drift apart.

Run ``python tests/vectors/vector_builder.py`` to rewrite the file after a
rule change (and say so in specs/events.md in the same commit).
"""

from __future__ import annotations

import hashlib
import json
import struct
import sys
from pathlib import Path
from typing import Any

from nacl.signing import SigningKey

from protocol import cbor
from protocol.errors import Reason
from protocol.event import SIGNATURE_DOMAIN, Event, sign
from protocol.genesis import make_genesis
from protocol.keys import key_from_seed, peer_id

VECTORS_DIR = Path(__file__).resolve().parents[2] / "specs" / "vectors"
VECTORS_PATH = VECTORS_DIR / "events.json"
#: The first valid vector as a binary file, for trying `ayllu event verify`.
SAMPLE_PATH = VECTORS_DIR / "note.cbor"

SEED_A = bytes(range(32))
SEED_B = hashlib.sha256(b"ayllu test vector key B").digest()
KEY_A = key_from_seed(SEED_A)
KEY_B = key_from_seed(SEED_B)
PUB_A = bytes(KEY_A.verify_key)
GROUP = hashlib.sha256(b"ayllu test vector group").digest()
#: 2026-01-01T00:00:00Z, the "now" every vector is validated at.
NOW_MS = 1_767_225_600_000
TS = NOW_MS - 3_600_000
#: The network of every vector: key A founded it and is its one registrar;
#: the rules are the defaults of `ayllu genesis create`, so the README's
#: quickstart rebuilds these very bytes.
GENESIS = make_genesis(
    name="ayllu test vectors",
    ts=NOW_MS - 86_400_000,
    root={
        "name": "ayllu test vectors",
        "langs": ["ay", "es", "qu"],
        "level": 3,
        "rules": {
            "quorum_pct": 50,
            "support_pct": 20,
            "threshold_pct": 50,
            "term_days": 90,
            "merit_days": 30,
        },
    },
    founder=PUB_A,
    registrars=[PUB_A],
    quorum=1,
)
NET = GENESIS.network_id
#: Another network's id, for events that reach the wrong one.
OTHER_NET = hashlib.sha256(b"ayllu another network").digest()
#: Binary multiaddr of /ip4/127.0.0.1/tcp/4001.
LOOPBACK_ADDR = bytes.fromhex("047f000001060fa1")
#: An Ed25519 point of small order (order 4): libsodium refuses such keys.
SMALL_ORDER_KEY = bytes.fromhex("0000000000000000000000000000000000000000000000000000000000000080")
#: The order of the Ed25519 base point group, for a non-canonical S.
GROUP_ORDER = 2**252 + 27742317777372353535851937790883648493


def head(major: int, argument: int, width: int | None = None) -> bytes:
    """A CBOR head; ``width`` forces a (possibly non-minimal) argument width."""
    if width is None:
        if argument < 24:
            return bytes([major << 5 | argument])
        width = next(w for w in (1, 2, 4, 8) if argument < 1 << (8 * w))
    info = {0: argument, 1: 24, 2: 25, 4: 26, 8: 27}[width]
    return bytes([major << 5 | info]) + (argument.to_bytes(width, "big") if width else b"")


def raw_map(pairs: list[tuple[Any, bytes]]) -> bytes:
    """A map with keys in the order given (a key is text, or bytes already
    encoded) and values already encoded."""
    return head(5, len(pairs)) + b"".join(
        (cbor.encode(key) if isinstance(key, str) else key) + value for key, value in pairs
    )


def fields_of(event: Event) -> list[tuple[Any, bytes]]:
    """The envelope as (key, encoded value) pairs in canonical order."""
    return [(key, cbor.encode(value)) for key, value in event.to_value().items()]


def signed_raw(unsigned: bytes, key: SigningKey = KEY_A) -> bytes:
    """Wrap unsigned bytes as a signed event, signing them as they are."""
    signature = key.sign(SIGNATURE_DOMAIN + hashlib.sha256(unsigned).digest()).signature
    return b"\x82" + unsigned + b"\x58\x40" + signature


def replace_field(event: Event, name: str, encoded: bytes) -> bytes:
    pairs = [(key, encoded if key == name else value) for key, value in fields_of(event)]
    return signed_raw(raw_map(pairs))


def note(text: str = "Asamblea el sábado a las 10.", lang: str = "es", **changes: Any) -> Event:
    values: dict[str, Any] = {
        "kind": "note",
        "group": GROUP,
        "author": PUB_A,
        "net": NET,
        "ts": TS,
        "body": {"lang": lang, "text": text},
    }
    values.update(changes)
    return Event(**values)


def diagnostic(value: Any) -> str:
    """RFC 8949 section 8 diagnostic notation, for people reading the spec."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, bytes):
        return f"h'{value.hex()}'"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ", ".join(diagnostic(item) for item in value) + "]"
    return "{" + ", ".join(f"{diagnostic(k)}: {diagnostic(v)}" for k, v in value.items()) + "}"


def build() -> dict[str, Any]:
    first = sign(note(), KEY_A)
    reply = sign(note("Arí, hamusaqmi.", "qu", ts=TS + 60_000, refs=(first.id,)), KEY_A)
    record = sign(
        Event(
            kind="peer.record",
            group=GROUP,
            author=bytes(KEY_B.verify_key),
            net=NET,
            ts=TS + 1,
            body={"addrs": [LOOPBACK_ADDR]},
        ),
        KEY_B,
    )
    aymara = sign(note("Jallalla! Taqpachani, ¿kunjamasktasa?", "ay", ts=TS + 2), KEY_A)
    both = sign(
        note(
            "Acta: " + "acuerdos de la asamblea; " * 12,
            "es-PE",
            ts=TS + 120_000,
            refs=tuple(sorted((first.id, reply.id))),
        ),
        KEY_A,
    )
    valid_events = [
        ("note", "A note in Spanish with no refs.", first, []),
        ("note_with_ref", "A Quechua reply referring to an earlier event.", reply, [first]),
        ("peer_record", "A peer record by a second key.", record, []),
        ("note_aymara", "Non-ASCII text in Aymara.", aymara, []),
        (
            "note_two_refs_long_text",
            "Two sorted refs; text over 255 bytes (2-byte length).",
            both,
            [first, reply],
        ),
    ]
    valid = [
        {
            "name": name,
            "description": description,
            "now_ms": NOW_MS,
            "state": [known.raw.hex() for known in state],
            "input_hex": event.raw.hex(),
            "diagnostic": diagnostic(event.event.to_value()),
            "unsigned_hex": event.raw[1:-66].hex(),
            "id_hex": event.id.hex(),
            "signature_hex": event.signature.hex(),
            "author_peer_id": peer_id(event.author),
        }
        for name, description, event, state in valid_events
    ]

    base = note()
    good = first.raw
    unsigned = good[1:-66]
    unsigned_pairs = fields_of(base)
    invalid: list[tuple[str, str, bytes, Reason, list[bytes], int]] = []

    def add(
        name: str,
        description: str,
        data: bytes,
        reason: Reason,
        state: list[bytes] | None = None,
        now_ms: int = NOW_MS,
    ) -> None:
        invalid.append((name, description, data, reason, state or [], now_ms))

    # -- decoding --
    add(
        "too_large",
        "65,537 bytes: one more than the limit.",
        head(2, 65_532, 4) + bytes(65_532),
        Reason.TOO_LARGE,
    )
    add("empty", "No bytes at all.", b"", Reason.TRUNCATED)
    add("truncated", "A valid event missing its last byte.", good[:-1], Reason.TRUNCATED)
    add(
        "truncated_length",
        "A byte string declaring more bytes than remain.",
        b"\x82" + unsigned + b"\x58\x41" + first.signature,
        Reason.TRUNCATED,
    )
    add(
        "trailing_bytes",
        "A valid event followed by one more byte.",
        good + b"\x00",
        Reason.TRAILING_BYTES,
    )
    add("too_deep", "Arrays nested 17 deep.", b"\x81" * 16 + b"\x80", Reason.TOO_DEEP)
    add("reserved_info", "Additional information 28 is reserved.", b"\x1c", Reason.MALFORMED)
    add(
        "tag_reserved_info",
        "Major type 6 is refused whatever its additional information.",
        b"\xdc",
        Reason.TAG_NOT_ALLOWED,
    )
    add(
        "first_defect_indefinite",
        "An indefinite array holding a float: the first defect wins.",
        bytes.fromhex("9ff93c00ff"),
        Reason.INDEFINITE_LENGTH,
    )
    add(
        "first_defect_float",
        "Three items declared, the second a float, then the end.",
        bytes.fromhex("8301f93c00"),
        Reason.FLOAT_NOT_ALLOWED,
    )
    add(
        "first_defect_depth",
        "Arrays nested 17 deep with nothing inside: depth before the end.",
        b"\x81" * 17,
        Reason.TOO_DEEP,
    )
    add(
        "indefinite_array",
        "The outer array with an indefinite length.",
        b"\x9f" + unsigned + b"\x58\x40" + first.signature + b"\xff",
        Reason.INDEFINITE_LENGTH,
    )
    add(
        "indefinite_text",
        "An indefinite-length text string in the body.",
        replace_field(
            base, "body", raw_map([("lang", cbor.encode("es")), ("text", b"\x7f\x62ho\x62la\xff")])
        ),
        Reason.INDEFINITE_LENGTH,
    )
    add(
        "non_minimal_int",
        "The version 1 written in a 1-byte width (0x18 0x01).",
        replace_field(base, "v", b"\x18\x01"),
        Reason.NON_MINIMAL_WIDTH,
    )
    add(
        "non_minimal_length",
        "The group id's length 32 written in a 2-byte width.",
        replace_field(base, "group", b"\x59\x00\x20" + GROUP),
        Reason.NON_MINIMAL_WIDTH,
    )
    swapped = list(unsigned_pairs)
    swapped[3], swapped[4] = swapped[4], swapped[3]
    add(
        "unsorted_keys",
        "Envelope keys 'kind' and 'body' swapped.",
        signed_raw(raw_map(swapped)),
        Reason.UNSORTED_KEYS,
    )
    add(
        "length_first_order",
        "Key 'group' before 'ts': bytewise order puts shorter keys first.",
        signed_raw(
            raw_map(
                [
                    unsigned_pairs[0],
                    unsigned_pairs[6],
                    unsigned_pairs[1],
                    *unsigned_pairs[2:6],
                    unsigned_pairs[7],
                ]
            )
        ),
        Reason.UNSORTED_KEYS,
    )
    add(
        "duplicate_key",
        "The key 'v' twice.",
        signed_raw(raw_map([unsigned_pairs[0], *unsigned_pairs])),
        Reason.DUPLICATE_KEY,
    )
    add(
        "integer_map_key",
        "A body map with an integer key.",
        replace_field(base, "body", raw_map([(b"\x01", cbor.encode("x"))])),
        Reason.BAD_MAP_KEY,
    )
    add(
        "float",
        "The timestamp as a double-precision float.",
        replace_field(base, "ts", b"\xfb" + struct.pack(">d", TS)),
        Reason.FLOAT_NOT_ALLOWED,
    )
    add(
        "tag",
        "The self-describing CBOR tag 55799 around a valid event.",
        b"\xd9\xd9\xf7" + good,
        Reason.TAG_NOT_ALLOWED,
    )
    add(
        "undefined",
        "The simple value undefined as the body text.",
        replace_field(base, "body", raw_map([("lang", cbor.encode("es")), ("text", b"\xf7")])),
        Reason.SIMPLE_NOT_ALLOWED,
    )
    add(
        "int_too_big",
        "A timestamp of 2**64 - 1, beyond the signed 64-bit range.",
        replace_field(base, "ts", b"\x1b" + b"\xff" * 8),
        Reason.INT_OUT_OF_RANGE,
    )
    add(
        "invalid_utf8",
        "Body text with the byte 0xff.",
        replace_field(base, "body", raw_map([("lang", cbor.encode("es")), ("text", b"\x61\xff")])),
        Reason.INVALID_UTF8,
    )
    # -- envelope --
    add(
        "not_an_array",
        "The unsigned map alone, without the signature array.",
        unsigned,
        Reason.BAD_ENVELOPE,
    )
    add(
        "short_signature",
        "A 63-byte signature.",
        b"\x82" + unsigned + b"\x58\x3f" + first.signature[:63],
        Reason.BAD_ENVELOPE,
    )
    add(
        "missing_version",
        "No 'v' field.",
        signed_raw(raw_map(unsigned_pairs[1:])),
        Reason.MISSING_FIELD,
    )
    add(
        "missing_refs_field",
        "No 'refs' field.",
        signed_raw(raw_map([p for p in unsigned_pairs if p[0] != "refs"])),
        Reason.MISSING_FIELD,
    )
    add(
        "unknown_version",
        "Version 2.",
        replace_field(base, "v", cbor.encode(2)),
        Reason.UNKNOWN_VERSION,
    )
    add(
        "unknown_field",
        "An extra envelope field 'memo' (between 'kind' and 'refs').",
        signed_raw(
            raw_map([*unsigned_pairs[:5], ("memo", cbor.encode(b"\x00")), *unsigned_pairs[5:]])
        ),
        Reason.UNKNOWN_FIELD,
    )
    add(
        "missing_net",
        "No 'net' field.",
        signed_raw(raw_map([p for p in unsigned_pairs if p[0] != "net"])),
        Reason.MISSING_FIELD,
    )
    add(
        "short_net",
        "A 31-byte network id.",
        replace_field(base, "net", cbor.encode(NET[:31])),
        Reason.BAD_FIELD,
    )
    add(
        "net_as_text",
        "The network id as a text string of 32 characters.",
        replace_field(base, "net", cbor.encode(NET.hex()[:32])),
        Reason.BAD_FIELD,
    )
    add(
        "short_group",
        "A 31-byte group id.",
        replace_field(base, "group", cbor.encode(GROUP[:31])),
        Reason.BAD_FIELD,
    )
    add(
        "negative_ts",
        "A negative timestamp.",
        replace_field(base, "ts", cbor.encode(-1)),
        Reason.BAD_FIELD,
    )
    add(
        "unsorted_refs",
        "Refs in descending order.",
        replace_field(base, "refs", cbor.encode(sorted((first.id, reply.id), reverse=True))),
        Reason.BAD_REFS,
    )
    add(
        "unknown_kind",
        "A kind no registry names.",
        replace_field(base, "kind", cbor.encode("x-unknown")),
        Reason.UNKNOWN_KIND,
    )
    cert = {"tag": hashlib.sha256(b"a tag").digest(), "member": PUB_A, "expires": NOW_MS}
    add(
        "network_scoped_in_a_group",
        "A well-formed 'cert.issue' whose group is not the network id.",
        signed_raw(cbor.encode(note(kind="cert.issue", body=cert).to_value())),
        Reason.BAD_FIELD,
    )
    add(
        "network_scoped_bad_body_in_a_group",
        "A 'cert.issue' with a bad body and a group that is not the network id: "
        "the body is checked first.",
        signed_raw(cbor.encode(note(kind="cert.issue", body={**cert, "expires": -1}).to_value())),
        Reason.BAD_BODY,
    )
    add(
        "bad_lang",
        "A note whose language tag is not a tag.",
        replace_field(base, "body", cbor.encode({"lang": "Español", "text": "hola"})),
        Reason.BAD_BODY,
    )
    add(
        "extra_body_field",
        "A note body with an unknown field.",
        replace_field(base, "body", cbor.encode({"lang": "es", "text": "hola", "pin": True})),
        Reason.BAD_BODY,
    )
    # -- network --
    stranger = sign(note(net=OTHER_NET), KEY_A)
    add(
        "wrong_network",
        "Signed by its author, for another network.",
        stranger.raw,
        Reason.WRONG_NETWORK,
    )
    add(
        "wrong_network_bad_signature",
        "For another network, with a bad signature: the network is checked first.",
        stranger.raw[:-1] + bytes([stranger.raw[-1] ^ 0x01]),
        Reason.WRONG_NETWORK,
    )
    add(
        "wrong_network_in_future",
        "For another network, stamped an hour ahead: the network is checked first.",
        sign(note(net=OTHER_NET, ts=NOW_MS + 3_600_000), KEY_A).raw,
        Reason.WRONG_NETWORK,
    )
    # -- signature --
    flipped = bytearray(good)
    flipped[-1] ^= 0x01
    add(
        "flipped_signature_bit",
        "The last bit of the signature flipped.",
        bytes(flipped),
        Reason.BAD_SIGNATURE,
    )
    altered = sign(note("Asamblea el domingo a las 10."), KEY_A).raw[:-64] + first.signature
    add("altered_body", "A signature moved onto another text.", altered, Reason.BAD_SIGNATURE)
    add(
        "wrong_signer",
        "Signed by another key than the author.",
        signed_raw(unsigned, KEY_B),
        Reason.BAD_SIGNATURE,
    )
    s_value = int.from_bytes(first.signature[32:], "little") + GROUP_ORDER
    add(
        "non_canonical_s",
        "S replaced by S + L (the same S modulo L).",
        good[:-32] + s_value.to_bytes(32, "little"),
        Reason.BAD_SIGNATURE,
    )
    small = replace_field(base, "author", cbor.encode(SMALL_ORDER_KEY))
    add(
        "small_order_key",
        "An author key of small order with an all-zero signature.",
        small[:-64] + bytes(64),
        Reason.BAD_SIGNATURE,
    )
    # -- rules against state --
    add(
        "ts_in_future",
        "Stamped 10 minutes and 1 ms ahead of now.",
        sign(note(ts=NOW_MS + 600_001), KEY_A).raw,
        Reason.TS_IN_FUTURE,
    )
    unknown_ref = hashlib.sha256(b"an event nobody has").digest()
    add(
        "missing_refs",
        "Refers to an event the state does not hold.",
        sign(note(refs=(unknown_ref,)), KEY_A).raw,
        Reason.MISSING_REFS,
    )
    add(
        "ts_before_ref",
        "Stamped before the event it refers to.",
        sign(note(ts=TS - 1, refs=(first.id,)), KEY_A).raw,
        Reason.TS_BEFORE_REF,
        [good],
    )
    add(
        "ts_equal_to_ref",
        "Stamped the same millisecond as the event it refers to: a ref must be strictly older.",
        sign(note(ts=TS, refs=(first.id,)), KEY_A).raw,
        Reason.TS_BEFORE_REF,
        [good],
    )

    return {
        "description": "ayllu event test vectors; see specs/events.md.",
        "spec": "specs/events.md",
        "version": 1,
        "genesis_hex": GENESIS.raw.hex(),
        "network_id_hex": NET.hex(),
        "keys": [
            {
                "name": "A",
                "seed_hex": SEED_A.hex(),
                "public_hex": PUB_A.hex(),
                "peer_id": peer_id(PUB_A),
            },
            {
                "name": "B",
                "seed_hex": SEED_B.hex(),
                "public_hex": bytes(KEY_B.verify_key).hex(),
                "peer_id": peer_id(bytes(KEY_B.verify_key)),
            },
        ],
        "valid": valid,
        "invalid": [
            {
                "name": name,
                "description": description,
                "now_ms": now_ms,
                "state": [known.hex() for known in state],
                "input_hex": data.hex(),
                "reason": reason.value,
            }
            for name, description, data, reason, state, now_ms in invalid
        ],
    }


def render() -> str:
    return json.dumps(build(), indent=2, ensure_ascii=False) + "\n"


def sample() -> bytes:
    return bytes.fromhex(build()["valid"][0]["input_hex"])


if __name__ == "__main__":
    VECTORS_PATH.write_text(render(), encoding="utf-8")
    SAMPLE_PATH.write_bytes(sample())
    sys.stdout.write(f"wrote {VECTORS_PATH} and {SAMPLE_PATH}\n")
