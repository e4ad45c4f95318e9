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
``ayllu member keygen`` does), plain and sealed (at a low cost, and at the
CLI's own: Argon2id with 64 MiB and 2 passes), each with the passphrase
that opens it, as protocol/keys.py ``decode_keyfile`` opens it.

Protected reports (specs/accountability.md section 7) are what
protocol/reports.py ``seal_report``, ``follow_up`` and ``reply_body`` make,
signed as node/protected_reports.py signs them, from fixed seeds: the
one-time, receipt and nonce seeds, and the sealed boxes' ephemeral secret
keys (libsodium's ``crypto_box_seal`` draws those itself, so sealing goes
through a SealedBox that takes them from a list instead, byte for byte
libsodium's otherwise, as tests/vectors/accountability_vector_builder.py
does). ``fileReport`` and ``followUp`` must give the events byte for byte,
and ``readReplies`` what ``_read_reply`` reads. Then the receipts cross
over: the built bundle (node/web/static/ayllu-crypto.js, run by ``node``)
files a report with its own randomness and follows up a report of
Python's with Python's receipt; this script checks them with Python's code
(``check_report``, ``open_report``, ``receipt_from_text``,
``check_followup``) and answers the JS report with a Python follow-up made
from the JS receipt and a Python reply to it, which the checks read back
in JS. So the bundle must be built before this script runs.

Run from the repository root: .venv/bin/python node/web/js/test/make_python_fixture.py
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import random
import subprocess
import unicodedata
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import nacl.bindings
from nacl.encoding import RawEncoder
from nacl.hash import blake2b
from nacl.public import PrivateKey, PublicKey, SealedBox
from nacl.signing import SigningKey

import protocol.reports as reports_module
from protocol import cbor
from protocol.ballots import vote_body
from protocol.errors import Rejected
from protocol.event import Event, SignedEvent, parse_event, sign, signature_holds
from protocol.keys import KDF_MEMLIMIT, KDF_OPSLIMIT, decode_keyfile, encode_keyfile
from protocol.reports import (
    Receipt,
    Reply,
    _read_reply,
    box_key_for,
    check_followup,
    check_report,
    follow_up,
    open_report,
    pad,
    prepare_report_ring,
    receipt_from_text,
    receipt_to_text,
    reply_body,
    seal_report,
)
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


def sealed_key_files(member: SigningKey) -> list[dict[str, Any]]:
    """Sealed key files as ``ayllu member keygen --seal`` writes them: at
    the CLI's cost (KDF_OPSLIMIT, KDF_MEMLIMIT) with a passphrase that is
    not ASCII, and at a low cost with the decomposed (NFD) bytes of one, as
    some keyboards type it."""
    nfc = unicodedata.normalize("NFC", "Ñuñoa, kimsa qhapaq ñan")
    nfd = unicodedata.normalize("NFD", "año de la quinua")
    assert nfd != unicodedata.normalize("NFC", nfd)
    cli = encode_keyfile(
        member,
        nfc.encode(),
        salt=digest("cli salt")[:16],
        nonce=digest("cli nonce")[:24],
        opslimit=KDF_OPSLIMIT,
        memlimit=KDF_MEMLIMIT,
    ).decode()
    decomposed = encode_keyfile(
        member,
        nfd.encode(),
        salt=digest("nfd salt")[:16],
        nonce=digest("nfd nonce")[:24],
        opslimit=1,
        memlimit=16384,
    ).decode()
    seed = bytes(member).hex()
    return [
        {
            "name": "sealed key file, the CLI's cost",
            "text": cli,
            "passphrase": nfc,
            "seed_hex": seed,
            "cost": "cli",
        },
        {
            "name": "sealed key file, NFD passphrase",
            "text": decomposed,
            "passphrase": nfd,
            "seed_hex": seed,
            "cost": "low",
        },
    ]


# -- protected reports --


class SeededSealedBox:
    """``nacl.public.SealedBox`` whose ephemeral secret keys come from
    ``SeededSealedBox.secrets`` in order, byte for byte libsodium's
    ``crypto_box_seal`` otherwise: the ephemeral public key, then the box
    with the nonce BLAKE2b-192(ephemeral || recipient). Opening is
    libsodium's own."""

    secrets: ClassVar[list[bytes]] = []

    def __init__(self, key: PublicKey | PrivateKey) -> None:
        self.key = key

    def encrypt(self, plaintext: bytes) -> bytes:
        secret = SeededSealedBox.secrets.pop(0)
        recipient = bytes(self.key)
        ephemeral = nacl.bindings.crypto_scalarmult_base(secret)
        nonce = blake2b(ephemeral + recipient, digest_size=24, encoder=RawEncoder)
        return ephemeral + nacl.bindings.crypto_box(plaintext, nonce, recipient, secret)

    def decrypt(self, sealed: bytes) -> bytes:
        assert isinstance(self.key, PrivateKey)
        return SealedBox(self.key).decrypt(sealed)


@contextlib.contextmanager
def ephemeral(*secrets: bytes) -> Iterator[None]:
    """Seal with these ephemeral secret keys, each once, in order."""
    SeededSealedBox.secrets = list(secrets)
    setattr(reports_module, "SealedBox", SeededSealedBox)  # noqa: B010
    try:
        yield
    finally:
        setattr(reports_module, "SealedBox", SealedBox)  # noqa: B010
    assert not SeededSealedBox.secrets, "a secret was left unused"


NET = digest("web report fixture network")
RING_SEEDS = [
    bytes.fromhex(k["seed_hex"])
    for k in json.loads((ROOT / "specs/vectors/ring.json").read_text())["keys"]
]


def ring_event(name: str, size: int, ts: int) -> tuple[SignedEvent, list[bytes]]:
    """A ``report.ring`` of ``size`` of ring.json's keys, frozen by its
    first member; and the seeds of its keys, in the ring's order."""
    members = sorted((bytes(SigningKey(s).verify_key), s) for s in RING_SEEDS[: size + 1])[:size]
    keys = [public for public, _ in members]
    founder = SigningKey(members[0][1])
    group = digest(f"web report fixture ring group {name}")
    event = sign(
        Event(kind="report.ring", group=group, author=keys[0], net=NET, ts=ts, body={"keys": keys}),
        founder,
    )
    return event, [seed for _, seed in members]


def box_of(name: str) -> tuple[PrivateKey, bytes]:
    private = PrivateKey(digest(f"web report fixture box key {name}"))
    return private, bytes(private.public_key)


def signed(
    kind: str, key: SigningKey, group: bytes, ts: int, body: dict[str, Any], refs: list[bytes]
) -> SignedEvent:
    event = sign(
        Event(
            kind=kind,
            group=group,
            author=bytes(key.verify_key),
            net=NET,
            ts=ts,
            body=body,
            refs=tuple(sorted(refs)),
        ),
        key,
    )
    assert parse_event(event.raw).id == event.id
    return event


def text_of_size(size: int, lang: str) -> str:
    """A text whose message encodes to exactly ``size`` bytes."""
    for length in range(1, size):
        if len(cbor.encode({"text": "a" * length, "lang": lang})) == size:
            return "a" * length
    raise AssertionError(size)


REPORT_CASES: list[tuple[str, int, int, dict[str, Any]]] = [
    ("short_ring_5", 5, 2, {"text": "El tesorero cobra comisiones.", "lang": "es"}),
    (
        "about_documents_ring_1",
        1,
        0,
        {
            "text": "Qullqi chinkarqan: \U0001f4b8 \u00f1 \u2014",
            "lang": "qu",
            "about": digest("web report fixture about"),
            "documents": [digest("document 2"), digest("document 1")],
        },
    ),
    ("page_bucket_ring_12", 12, 11, {"text": "Jach'a qullqi chhaqtayi. " * 30, "lang": "ay-PE"}),
    ("fills_512_ring_3", 3, 0, {"text": text_of_size(511, "es"), "lang": "es"}),
    ("spills_to_2048_ring_3", 3, 1, {"text": text_of_size(512, "es"), "lang": "es"}),
]


def report_case(
    name: str, size: int, signer: int, message: dict[str, Any], ts: int
) -> tuple[dict[str, Any], SignedEvent, SignedEvent, Receipt, PrivateKey]:
    ring, seeds = ring_event(name, size, ts - 1000)
    box, box_key = box_of(name)
    group = digest(f"web report fixture oversight {name}")
    one_time = SigningKey(digest(f"web report fixture one-time {name}"))
    receipt_key = SigningKey(digest(f"web report fixture receipt {name}"))
    nonce_seed = digest(f"web report fixture nonce {name}")
    secret = digest(f"web report fixture ephemeral {name}")
    member = SigningKey(seeds[signer])
    with ephemeral(secret):
        body = seal_report(ring, member, one_time, group, box_key, receipt_key, message, nonce_seed)
    event = signed("report", one_time, group, ts, body, [ring.id])
    check_report(event, ring, prepare_report_ring(ring, event))
    assert open_report(body, box) == message
    receipt = Receipt(event.id, bytes(receipt_key))
    assert bytes(member.verify_key) not in event.raw
    case = {
        "name": name,
        "ring_event_hex": ring.raw.hex(),
        "ring_keys_hex": [k.hex() for k in ring.event.body["keys"]],
        "ring_seeds_hex": [seed.hex() for seed in seeds],
        "ring_event_id_hex": ring.id.hex(),
        "box_key_hex": box_key.hex(),
        "box_private_hex": bytes(box).hex(),
        "group_hex": group.hex(),
        "net_hex": NET.hex(),
        "ts": ts,
        "message": typed(message),
        "member_seed_hex": seeds[signer].hex(),
        "one_time_seed_hex": bytes(one_time).hex(),
        "receipt_seed_hex": bytes(receipt_key).hex(),
        "nonce_seed_hex": nonce_seed.hex(),
        "ephemeral_secret_hex": secret.hex(),
        "event_hex": event.raw.hex(),
        "id_hex": event.id.hex(),
        "receipt": receipt_to_text(receipt),
        "bucket": len(body["sealed"]) - 48,
    }
    return case, ring, event, receipt, box


def python_followup(
    name: str,
    receipt: Receipt,
    report: SignedEvent,
    box_key: bytes,
    message: dict[str, Any],
    ts: int,
) -> dict[str, Any]:
    secret = digest(f"web report fixture follow-up ephemeral {name}")
    with ephemeral(secret):
        body = follow_up(receipt, box_key, message)
    event = signed("report.followup", receipt.key, report.group, ts, body, [receipt.report_id])
    check_followup(event, report)
    return {
        "name": name,
        "receipt": receipt_to_text(receipt),
        "box_key_hex": box_key.hex(),
        "group_hex": report.group.hex(),
        "net_hex": NET.hex(),
        "ts": ts,
        "message": typed(message),
        "ephemeral_secret_hex": secret.hex(),
        "event_hex": event.raw.hex(),
        "id_hex": event.id.hex(),
    }


def python_replies(name: str, report: SignedEvent, receipt: Receipt, ts: int) -> dict[str, Any]:
    """Replies to ``report`` as the oversight group writes them (and some
    badly written), with what ``_read_reply`` reads of each."""
    author = SigningKey(RING_SEEDS[-1])
    receipt_box = box_key_for(bytes(receipt.key.verify_key))
    other_box = box_of(f"{name} other")[1]
    answer = {"text": "Lo investigamos. Guarde su recibo.", "lang": "es"}
    secrets = [digest(f"web report fixture reply ephemeral {name} {n}") for n in range(4)]
    with ephemeral(*secrets[:1]):
        bodies = [
            reply_body(report.id, "investigating", report.event.body["receipt"], answer),
            reply_body(report.id, "received", report.event.body["receipt"]),
        ]
    with ephemeral(*secrets[1:]):
        to_receipt = SeededSealedBox(PublicKey(receipt_box))
        to_other = SeededSealedBox(PublicKey(other_box))
        for status, sealed in (
            # Not padded: a box of zeros.
            ("dismissed", to_receipt.encrypt(bytes(512))),
            # Padded, but no message: it lacks "lang".
            ("referred", to_receipt.encrypt(pad(cbor.encode({"text": "x"})))),
            # Sealed to another key than the receipt's.
            ("resolved", to_other.encrypt(pad(cbor.encode(answer)))),
        ):
            bodies.append({"report": report.id, "status": status, "sealed": sealed})
    events = [
        signed("report.reply", author, report.group, ts + n, body, [report.id])
        for n, body in enumerate(bodies)
    ]
    private = receipt.key.to_curve25519_private_key()
    read = []
    for event in events:
        body = event.event.body
        reply = Reply(event.id, event.author, event.ts, body["status"], body.get("sealed"))
        result = _read_reply(reply, private)
        read.append(
            {
                "id": result["id"],
                "author": result["author"],
                "status": result["status"],
                "ts": result["ts"],
                "message": None if result["message"] is None else typed(result["message"]),
                "error": result["error"] is not None,
            }
        )
    assert [r["error"] for r in read] == [False, False, True, True, True]
    return {
        "name": name,
        "receipt": receipt_to_text(receipt),
        "sealed_ephemeral_secret_hex": secrets[0].hex(),
        "events_hex": [event.raw.hex() for event in events],
        "read": read,
    }


BUNDLE = ROOT / "node/web/static/ayllu-crypto.js"


def run_bundle(task: dict[str, Any]) -> dict[str, Any]:
    script = r"""
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
const A = await import(pathToFileURL(process.env.AYLLU_BUNDLE).href);
const input = JSON.parse(readFileSync(0, 'utf8'));
const b = (hex) => A.fromHex(hex);
const r = input.report;
const report = A.fileReport({
  reportRingKeys: r.ring_keys_hex.map(b), reportRingEventId: b(r.ring_event_id_hex),
  boxKey: b(r.box_key_hex), group: b(r.group_hex), net: b(r.net_hex), ts: r.ts,
  text: r.text, lang: r.lang, memberSeed: b(r.member_seed_hex),
});
const f = input.followup;
const followup = A.followUp({
  receipt: f.receipt, boxKey: b(f.box_key_hex), group: b(f.group_hex), net: b(f.net_hex),
  ts: f.ts, text: f.text, lang: f.lang,
});
console.log(JSON.stringify({
  report: { event_hex: A.toHex(report.raw), id_hex: A.toHex(report.id), receipt: report.receipt },
  followup: { event_hex: A.toHex(followup.raw), id_hex: A.toHex(followup.id) },
}));
"""
    done = subprocess.run(
        ["node", "--input-type=module", "-e", script],
        input=json.dumps(task),
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "AYLLU_BUNDLE": str(BUNDLE)},
    )
    made: dict[str, Any] = json.loads(done.stdout)
    return made


def crossing(
    ring: SignedEvent,
    seeds: list[bytes],
    box: PrivateKey,
    group: bytes,
    python_report: SignedEvent,
    python_receipt: Receipt,
) -> dict[str, Any]:
    """Receipts across: a report and receipt made by the bundle, checked and
    answered by Python; a follow-up made by the bundle from a Python
    receipt, checked by Python."""
    box_key = bytes(box.public_key)
    message = {"text": "Firmaron la compra sin asamblea.", "lang": "es"}
    more = {"text": "La boleta lleva otra fecha.", "lang": "es"}
    ts = 1_767_300_000_000
    made = run_bundle(
        {
            "report": {
                "ring_keys_hex": [k.hex() for k in ring.event.body["keys"]],
                "ring_event_id_hex": ring.id.hex(),
                "box_key_hex": box_key.hex(),
                "group_hex": group.hex(),
                "net_hex": NET.hex(),
                "ts": ts,
                "member_seed_hex": seeds[1].hex(),
                **message,
            },
            "followup": {
                "receipt": receipt_to_text(python_receipt),
                "box_key_hex": box_key.hex(),
                "group_hex": python_report.group.hex(),
                "net_hex": NET.hex(),
                "ts": ts + 1,
                **more,
            },
        }
    )
    # The bundle's report, by Python's rules, and its receipt read by Python.
    js_report = parse_event(bytes.fromhex(made["report"]["event_hex"]))
    assert js_report.id.hex() == made["report"]["id_hex"]
    check_report(js_report, ring, prepare_report_ring(ring, js_report))
    assert open_report(js_report.event.body, box) == message
    js_receipt = receipt_from_text(made["report"]["receipt"])
    assert js_receipt.report_id == js_report.id
    assert bytes(js_receipt.key.verify_key) == js_report.event.body["receipt"]
    assert all(seed not in js_report.raw for seed in seeds)
    # Python follows the bundle's report up with the bundle's receipt, and replies to it.
    followup = python_followup(
        "with the bundle's receipt", js_receipt, js_report, box_key, more, ts + 2
    )
    replies = python_replies("to the bundle's report", js_report, js_receipt, ts + 3)
    # The bundle's follow-up with Python's receipt, by Python's rules.
    js_followup = parse_event(bytes.fromhex(made["followup"]["event_hex"]))
    check_followup(js_followup, python_report)
    assert open_report(js_followup.event.body, box) == more
    return {
        "js_report": {
            **made["report"],
            "message": typed(message),
            "ring_event_hex": ring.raw.hex(),
        },
        "python_followup_with_js_receipt": followup,
        "python_replies_to_js_report": replies,
        "js_followup_with_python_receipt": {
            **made["followup"],
            "report_event_hex": python_report.raw.hex(),
            "message": typed(more),
        },
        "python_checked": [
            "check_report(js report)",
            "open_report(js report) == message",
            "receipt_from_text(js receipt) is the report's",
            "check_followup(js follow-up, python report)",
            "open_report(js follow-up) == message",
        ],
    }


def report_fixture() -> dict[str, Any]:
    reports = []
    followups = []
    replies = []
    made = []
    for n, (name, size, signer, message) in enumerate(REPORT_CASES):
        case, ring, event, receipt, box = report_case(
            name, size, signer, message, 1_767_223_000_000 + 10_000 * n
        )
        reports.append(case)
        made.append((ring, event, receipt, box))
    for n in (0, 1):
        ring, event, receipt, box = made[n]
        more = {"text": "Tengo la boleta.", "lang": "es", "documents": [bytes(range(32))]}
        followups.append(
            python_followup(
                REPORT_CASES[n][0], receipt, event, bytes(box.public_key), more, event.ts + 5_000
            )
        )
    # The oversight group's new box key: a follow-up goes to the current one.
    ring, event, receipt, _ = made[0]
    rotated = box_of("rotated")[1]
    followups.append(
        python_followup(
            "to a newer box key",
            receipt,
            event,
            rotated,
            {"text": "Otra cosa.", "lang": "es"},
            event.ts + 6_000,
        )
    )
    replies.append(python_replies(REPORT_CASES[0][0], event, receipt, event.ts + 1_000))
    ring_seeds = [bytes.fromhex(seed) for seed in reports[0]["ring_seeds_hex"]]
    group = bytes.fromhex(reports[0]["group_hex"])
    cross = crossing(ring, ring_seeds, made[0][3], group, event, receipt)
    return {"reports": reports, "followups": followups, "replies": replies, "cross": cross}


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
        {
            "name": "sealed key file",
            "text": sealed,
            "passphrase": "correct horse",
            "seed_hex": bytes(member).hex(),
            "cost": "low",
        },
        *sealed_key_files(member),
    ]
    for file in key_files:
        passphrase = file.get("passphrase")
        opened = decode_keyfile(
            file["text"].encode(), None if passphrase is None else passphrase.encode()
        )
        assert bytes(opened).hex() == file["seed_hex"]
    document = {
        "description": (
            "What the Python protocol code makes from fixed inputs "
            "(node/web/js/test/make_python_fixture.py): votes by protocol/ballots.py "
            "vote_body and protocol/event.py sign (voteEvent must give event_hex byte "
            "for byte), canonical CBOR and decoding verdicts by protocol/cbor.py, "
            "signature verdicts by protocol/event.py signature_holds (libsodium), key "
            "files by protocol/keys.py encode_keyfile (sealed ones with their "
            "passphrase), protected reports, follow-ups and replies by "
            "protocol/reports.py from fixed seeds, and receipts crossing between the "
            "bundle and Python."
        ),
        "votes": cases,
        "cbor": cbor_cases,
        "decoding": decoding_cases(),
        "signatures": signature_cases(),
        "key_files": key_files,
        "reports": report_fixture(),
    }
    OUT.write_text(json.dumps(document, indent=1) + "\n")


if __name__ == "__main__":
    main()
