"""Writes python-fixture.json: what the Python protocol code makes from
fixed inputs, for the browser module's checks (checks.mjs) to reproduce
byte for byte: votes, canonical CBOR of values the event vectors do not
exercise, how the strict decoder judges odd inputs, how libsodium judges
Ed25519 signatures at the edges, and member key files.

specs/vectors/ballots.json does not publish the one-time seeds and nonce
seeds of its votes, so this file gives them: each case lists every input of
``voteEvent`` and the event that protocol/ballots.py ``vote_body`` and
protocol/event.py ``sign`` make from them, exactly as node/governance.py
``cast_vote`` does (one-time key, nonce seed, sorted choice, refs = [ring]).

Canonical CBOR values are written in a typed JSON form both sides read
the same way: {"int": "<decimal>"}, {"bytes": "<hex>"}, {"text": "..."},
{"bool": true}, {"null": null}, {"array": [...]}, {"map": [[key, value], ...]}.

Decoding cases are UTF-8 edge cases and short pseudo-random inputs (fixed
seed) with protocol/cbor.py's verdict: its reason code, or "ok:" and the
re-encoded value. Signature cases are judged by protocol/event.py
``signature_holds`` (libsodium): S + L, small-order R and keys in every
encoding libsodium blocks, non-canonical keys, and keys with a small-order
component (A + T) under signatures made to pass, or not, the cofactorless
equation.

Key files are what protocol/keys.py ``encode_keyfile`` writes (as
``ayllu member keygen`` does), plain and sealed.

Run from the repository root: .venv/bin/python node/web/js/test/make_python_fixture.py
"""

from __future__ import annotations

import hashlib
import json
import random
from pathlib import Path
from typing import Any

import nacl.bindings
from nacl.signing import SigningKey

from protocol import cbor
from protocol.ballots import vote_body
from protocol.errors import Rejected
from protocol.event import Event, parse_event, sign, signature_holds
from protocol.keys import encode_keyfile
from protocol.ring import PreparedRing, RingSigner

ROOT = Path(__file__).resolve().parents[4]
OUT = Path(__file__).resolve().parent / "python-fixture.json"


def digest(label: str) -> bytes:
    return hashlib.sha256(label.encode()).digest()


def case(name: str, size: int, signer: int, choice: list[int], ts: int) -> dict[str, Any]:
    ring_vectors = json.loads((ROOT / "specs/vectors/ring.json").read_text())
    seeds = [bytes.fromhex(k["seed_hex"]) for k in ring_vectors["keys"]]
    members = sorted((bytes(SigningKey(s).verify_key), s) for s in seeds[: size + 1])[:size]
    keys = [public for public, _ in members]
    member_seed = members[signer][1]
    ballot = digest(f"web vote fixture ballot {name}")
    ring_event_id = digest(f"web vote fixture ring {name}")
    group = digest(f"web vote fixture group {name}")
    net = digest("web vote fixture network")
    one_time_seed = digest(f"web vote fixture one-time {name}")
    nonce_seed = digest(f"web vote fixture nonce {name}")
    one_time = SigningKey(one_time_seed)
    body = vote_body(
        PreparedRing(keys, ballot),
        ring_event_id,
        RingSigner.from_key(SigningKey(member_seed)),
        sorted(set(choice)),
        one_time,
        nonce_seed,
    )
    event = sign(
        Event(
            kind="vote",
            group=group,
            author=bytes(one_time.verify_key),
            net=net,
            ts=ts,
            body=body,
            refs=(ring_event_id,),
        ),
        one_time,
    )
    assert parse_event(event.raw).id == event.id
    return {
        "name": name,
        "ring_keys_hex": [k.hex() for k in keys],
        "ring_event_id_hex": ring_event_id.hex(),
        "ballot_id_hex": ballot.hex(),
        "group_hex": group.hex(),
        "net_hex": net.hex(),
        "ts": ts,
        "choice": choice,
        "member_seed_hex": member_seed.hex(),
        "one_time_seed_hex": one_time_seed.hex(),
        "nonce_seed_hex": nonce_seed.hex(),
        "event_hex": event.raw.hex(),
        "id_hex": event.id.hex(),
        "key_image_hex": body["sig"][:32].hex(),
    }


def typed(value: Any) -> Any:
    """``value`` in the typed JSON form (see the module's docstring)."""
    if value is None:
        return {"null": None}
    if isinstance(value, bool):
        return {"bool": value}
    if isinstance(value, int):
        return {"int": str(value)}
    if isinstance(value, bytes):
        return {"bytes": value.hex()}
    if isinstance(value, str):
        return {"text": value}
    if isinstance(value, list):
        return {"array": [typed(item) for item in value]}
    assert isinstance(value, dict)
    return {"map": [[key, typed(item)] for key, item in value.items()]}


def nested(value: Any, depth: int) -> Any:
    for _ in range(depth):
        value = [value]
    return value


CBOR_VALUES: list[tuple[str, Any]] = [
    ("integer widths", [0, 1, 23, 24, 255, 256, 65535, 65536, 2**32 - 1, 2**32, 2**53 - 1]),
    ("large integers", [2**53, 2**63 - 1, -(2**53), -(2**63)]),
    ("negative widths", [-1, -24, -25, -256, -257, -65536, -65537, -(2**32), -(2**32) - 1]),
    ("simple values", [True, False, None]),
    ("empty items", [b"", "", [], {}]),
    ("length widths", ["a" * 23, "b" * 24, b"\x01" * 255, b"\x02" * 256, "c" * 300]),
    (
        "key order",
        {"ts": 1, "v": 2, "zz": 3, "aaa": 4, "ñ": 5, "z": 6, "\U0001f600": 7, "a": 8, "é": 9},
    ),
    ("text", ["Asamblea el sábado", "\ufeffbom first", "\U0001f600 emoji", "\x00nul", "qhichwa"]),
    ("nesting: 15 arrays around an integer, the deepest allowed", nested(1, 15)),
    ("nested maps", {"b": {"y": [1, {"q": b"\xff"}], "x": None}, "a": []}),
]


#: UTF-8 the decoder must refuse (surrogates, overlong forms, beyond
#: U+10FFFF, stray continuation bytes) or keep (a leading BOM, NUL, 4 bytes).
UTF8_CASES = [
    "63eda080",
    "63edbfbf",
    "62c080",
    "62c1bf",
    "63e08080",
    "64f0808080",
    "64f4908080",
    "64f8888080",
    "6180",
    "62c3",
    "63efbbbf",
    "6100",
    "64f09f9880",
    "64f48fbfbf",
    "63e282ac",
    "62c3a1",
]


def decoding_cases() -> list[dict[str, str]]:
    rnd = random.Random(20251231)
    inputs = [bytes.fromhex(h) for h in UTF8_CASES]
    inputs += [b"\x81" + i for i in inputs] + [b"\xa1" + i + b"\x01" for i in inputs]
    inputs += [bytes(rnd.randrange(256) for _ in range(rnd.randrange(12))) for _ in range(400)]
    cases = []
    for data in inputs:
        try:
            verdict = "ok:" + cbor.encode(cbor.decode(data)).hex()
        except Rejected as exc:
            verdict = exc.reason.value
        cases.append({"input_hex": data.hex(), "verdict": verdict})
    return cases


L = 2**252 + 27742317777372353535851937790883648493
P = 2**255 - 19
T8 = bytes.fromhex("26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05")


def signature_cases() -> list[dict[str, Any]]:
    rnd = random.Random(20251231)
    cases: list[dict[str, Any]] = []

    def add(name: str, key: bytes, message: bytes, signature: bytes) -> None:
        holds = signature_holds(key, message, signature)
        cases.append(
            {
                "name": name,
                "key_hex": key.hex(),
                "message_hex": message.hex(),
                "signature_hex": signature.hex(),
                "holds": holds,
            }
        )

    def k_of(r_point: bytes, key: bytes, message: bytes) -> int:
        return int.from_bytes(hashlib.sha512(r_point + key + message).digest(), "little") % L

    torsion = [T8]
    while len(torsion) < 7:
        torsion.append(nacl.bindings.crypto_core_ed25519_add(torsion[-1], T8))
    y8 = int.from_bytes(T8, "little")
    for n in range(3):
        seed = digest(f"web fixture signature key {n}")
        key = SigningKey(seed)
        public = bytes(key.verify_key)
        message = digest(f"web fixture message {n}")[: 7 * n]
        signature = key.sign(message).signature
        add("valid", public, message, signature)
        s = int.from_bytes(signature[32:], "little")
        add("S + L", public, message, signature[:32] + (s + L).to_bytes(32, "little"))
        for y in (0, 1, P - 1, P, P + 1, y8, P - y8):
            for sign_bit in (0, 1):
                encoding = (y | sign_bit << 255).to_bytes(32, "little")
                add("small-order R", public, message, encoding + signature[32:])
                add("small-order key", encoding, message, signature)
        # A + T: libsodium accepts it when the cofactorless equation holds
        # on the bytes, so R must carry the matching torsion.
        clamped = bytearray(hashlib.sha512(seed).digest()[:32])
        clamped[0] &= 248
        clamped[31] &= 127
        clamped[31] |= 64
        x = int.from_bytes(clamped, "little") % L
        mixed = nacl.bindings.crypto_core_ed25519_add(public, T8)
        for _ in range(4):
            r = rnd.randrange(1, L)
            base = nacl.bindings.crypto_scalarmult_ed25519_base_noclamp(r.to_bytes(32, "little"))
            for t in torsion:
                r_point = nacl.bindings.crypto_core_ed25519_add(base, t)
                s = (r + k_of(r_point, mixed, message) * x) % L
                add("key with torsion", mixed, message, r_point + s.to_bytes(32, "little"))
    return cases


def main() -> None:
    cases = [
        case("single_choice_ring_5", 5, 2, [1], 1_767_222_000_000),
        case("abstention_ring_1", 1, 0, [], 1_767_222_000_001),
        case("approval_unsorted_ring_25", 25, 24, [15, 0, 3, 3], 1_767_222_000_002),
        case("first_member_ring_7", 7, 0, [0], 1_767_222_000_003),
    ]
    cbor_cases = [
        {"name": name, "value": typed(value), "encoded_hex": cbor.encode(value).hex()}
        for name, value in CBOR_VALUES
    ]
    member = SigningKey(digest("web fixture member key"))
    plain = encode_keyfile(member).decode()
    sealed = encode_keyfile(
        member,
        b"correct horse",
        salt=digest("salt")[:16],
        nonce=digest("nonce")[:24],
        opslimit=1,
        memlimit=8192,
    ).decode()
    key_files = [
        {"name": "plain key file", "text": plain, "seed_hex": bytes(member).hex()},
        {"name": "sealed key file", "text": sealed, "code": "sealed_key_file"},
    ]
    document = {
        "description": (
            "What the Python protocol code makes from fixed inputs "
            "(node/web/js/test/make_python_fixture.py): votes by protocol/ballots.py "
            "vote_body and protocol/event.py sign (voteEvent must give event_hex byte "
            "for byte), canonical CBOR and decoding verdicts by protocol/cbor.py, "
            "signature verdicts by protocol/event.py signature_holds (libsodium), key "
            "files by protocol/keys.py encode_keyfile."
        ),
        "votes": cases,
        "cbor": cbor_cases,
        "decoding": decoding_cases(),
        "signatures": signature_cases(),
        "key_files": key_files,
    }
    OUT.write_text(json.dumps(document, indent=1) + "\n")


if __name__ == "__main__":
    main()
