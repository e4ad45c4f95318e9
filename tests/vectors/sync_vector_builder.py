"""Builds specs/vectors/sync.json: fingerprints, whole reconciliation
sessions message by message, and invalid messages (specs/sync.md).

Run ``python tests/vectors/sync_vector_builder.py`` to rewrite the file
after a rule change (and change specs/sync.md in the same commit).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from protocol import cbor
from protocol.errors import Rejected
from protocol.fingerprint import fingerprint
from protocol.reconcile import ID_LIST, Key, Reconciler, SortedKeys, decode
from protocol.sync_frames import PROTOCOL_ID, Frame, FrameType, decode_frame, encode_frame

VECTORS_PATH = Path(__file__).resolve().parents[2] / "specs" / "vectors" / "sync.json"
T0 = 1_767_225_600_000


def key(n: int) -> Key:
    """Keys with repeated timestamps, so bounds need id prefixes."""
    return (T0 + (n * 37) % 500, hashlib.sha256(b"sync vector %d" % n).digest())


#: A side's keys are given as ranges of n, [start, stop, step], for key(n).
Numbers = list[list[int]]


def keys_of(numbers: Numbers) -> set[Key]:
    return {key(n) for start, stop, step in numbers for n in range(start, stop, step)}


def session(name: str, mine: Numbers, theirs: Numbers) -> dict[str, Any]:
    mine_keys, theirs_keys = SortedKeys(list(keys_of(mine))), SortedKeys(list(keys_of(theirs)))
    initiator = Reconciler(initiator=True)
    responder = Reconciler(initiator=False)
    messages = []
    message: bytes | None = initiator.initiate(mine_keys)
    while message is not None:
        messages.append(message.hex())
        answer = responder.reconcile(theirs_keys, message)
        assert answer is not None
        messages.append(answer.hex())
        message = initiator.reconcile(mine_keys, answer)
    return {
        "name": name,
        "initiator_numbers": mine,
        "responder_numbers": theirs,
        "messages_hex": messages,
        "have_hex": sorted(i.hex() for i in initiator.have),
        "need_hex": sorted(i.hex() for i in initiator.need),
    }


INVALID: list[tuple[str, Any]] = [
    ("not_version_1", [2, []]),
    ("not_a_pair", [1]),
    ("range_not_a_triple", [1, [[None, 0]]]),
    ("bound_not_a_pair", [1, [[[5], 0, None], [None, 0, None]]]),
    ("bound_prefix_too_long", [1, [[[5, b"x" * 33], 0, None], [None, 0, None]]]),
    ("bounds_not_ascending", [1, [[[5, b"b"], 0, None], [[5, b"a"], 0, None], [None, 0, None]]]),
    ("bounds_equal", [1, [[[5, b""], 0, None], [[5, b""], 0, None]]]),
    ("null_before_the_last", [1, [[None, 0, None], [None, 0, None]]]),
    ("skip_with_payload", [1, [[None, 0, b""]]]),
    ("fingerprint_too_short", [1, [[None, 1, b"\x00" * 15]]]),
    ("unknown_mode", [1, [[None, 3, None]]]),
    ("id_too_short", [1, [[None, ID_LIST, [b"\x01" * 31]]]]),
    ("ids_not_ascending", [1, [[None, ID_LIST, [b"\x02" * 32, b"\x01" * 32]]]]),
    ("ids_repeated", [1, [[None, ID_LIST, [b"\x01" * 32, b"\x01" * 32]]]]),
]


def invalid() -> list[dict[str, Any]]:
    vectors = []
    for name, value in INVALID:
        raw = cbor.encode(value)
        try:
            decode(raw)
        except Rejected as exc:
            vectors.append({"name": name, "message_hex": raw.hex(), "reason": exc.reason.value})
        else:
            raise AssertionError(f"{name} decodes")
    indefinite = bytes.fromhex("82019fff")
    try:
        decode(indefinite)
    except Rejected as exc:
        vectors.append(
            {"name": "not_canonical", "message_hex": indefinite.hex(), "reason": exc.reason.value}
        )
    return vectors


VALID_FRAMES: list[tuple[str, Frame]] = [
    ("reconcile", Frame(FrameType.RECONCILE, bytes.fromhex("820180"))),
    ("get", Frame(FrameType.GET, [bytes(32), bytes([1]) * 32])),
    ("events", Frame(FrameType.EVENTS, [b"\x82\x00"])),
    ("put", Frame(FrameType.PUT, [])),
    ("ack", Frame(FrameType.ACK)),
    ("end", Frame(FrameType.END)),
    ("scope", Frame(FrameType.SCOPE, [bytes([1]) * 32, bytes([2]) * 32])),
    ("scope_empty", Frame(FrameType.SCOPE, [])),
]
INVALID_FRAMES: list[tuple[str, Any]] = [
    ("not_a_pair", [1]),
    ("unknown_type", [9, None]),
    ("reconcile_not_bytes", [1, [1, []]]),
    ("get_too_many", [2, [bytes(32)] * 257]),
    ("get_short_id", [2, [bytes(31)]]),
    ("events_not_bytes", [3, ["x"]]),
    ("ack_with_payload", [5, 0]),
    ("scope_too_many", [7, [n.to_bytes(32, "big") for n in range(1025)]]),
    ("scope_short_id", [7, [bytes(31)]]),
    ("scope_not_sorted", [7, [bytes([2]) * 32, bytes([1]) * 32]]),
    ("scope_repeated", [7, [bytes([1]) * 32, bytes([1]) * 32]]),
]


def frames() -> dict[str, Any]:
    valid = [{"name": name, "frame_hex": encode_frame(frame).hex()} for name, frame in VALID_FRAMES]
    invalid = []
    for name, value in INVALID_FRAMES:
        raw = cbor.encode(value)
        try:
            decode_frame(raw)
        except Rejected as exc:
            invalid.append({"name": name, "frame_hex": raw.hex(), "reason": exc.reason.value})
        else:
            raise AssertionError(f"{name} decodes")
    return {"protocol_id": PROTOCOL_ID, "valid": valid, "invalid": invalid}


def render() -> str:
    ids = [key(n)[1] for n in range(40)]
    document = {
        "description": (
            "Range-based set reconciliation (specs/sync.md). A session's keys are "
            "key(n) for n in each [start, stop, step] of its numbers, where key(n) = "
            "(1767225600000 + (n * 37) % 500, SHA-256('sync vector ' + decimal n))."
        ),
        "spec": "sync.md",
        "version": 1,
        "fingerprints": [
            {"ids_hex": [], "fingerprint_hex": fingerprint([]).hex()},
            {"ids_hex": [ids[0].hex()], "fingerprint_hex": fingerprint(ids[:1]).hex()},
            {"ids_hex": [i.hex() for i in ids], "fingerprint_hex": fingerprint(ids).hex()},
        ],
        "sessions": [
            session("equal", [[0, 50, 1]], [[0, 50, 1]]),
            session("empty_initiator", [], [[0, 20, 1]]),
            session("empty_responder", [[0, 20, 1]], []),
            session(
                "few_differences_in_3000",
                [[0, 3000, 1], [3000, 3006, 1]],
                [[0, 3000, 1], [4000, 4004, 1]],
            ),
            session("interleaved", [[0, 600, 2]], [[0, 600, 3]]),
        ],
        "invalid": invalid(),
        "frames": frames(),
        "rounds_limit": {
            "description": "A side answers at most max_rounds messages in one session; "
            "the next is refused with the reason.",
            "max_rounds": Reconciler(initiator=False).max_rounds,
            "reason": "too_many_rounds",
        },
    }
    return json.dumps(document, indent=1) + "\n"


if __name__ == "__main__":
    VECTORS_PATH.write_text(render(), encoding="utf-8")
    print(f"wrote {VECTORS_PATH}")
