"""Signed events: signing, parsing, and what a receiver makes of damaged bytes."""

from __future__ import annotations

import dataclasses
import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from protocol import cbor
from protocol import event as event_module
from protocol.errors import Action, LocalError, Reason, Rejected
from protocol.event import Event, parse_event, sign, verify_signature
from protocol.keys import key_from_seed
from protocol.validation import KnownEvents, validate, validate_bytes

KEY = key_from_seed(hashlib.sha256(b"test_event").digest())
OTHER = key_from_seed(hashlib.sha256(b"test_event other").digest())
GROUP = hashlib.sha256(b"group").digest()
NET = hashlib.sha256(b"network").digest()
NOW = 1_767_225_600_000
#: A network-scoped kind's body: such events must name the network as their group.
CERT_BODY = {"tag": b"\x01" * 32, "member": bytes(OTHER.verify_key), "expires": NOW + 1}


def make(text: str = "hola", **changes: object) -> Event:
    fields: dict[str, object] = {
        "kind": "note",
        "group": GROUP,
        "author": bytes(KEY.verify_key),
        "net": NET,
        "ts": NOW,
        "body": {"lang": "es", "text": text},
    }
    fields.update(changes)
    return Event(**fields)  # type: ignore[arg-type]


SIGNED = sign(make(), KEY)


def test_parse_gives_back_what_was_signed() -> None:
    parsed = parse_event(SIGNED.raw)
    assert parsed == SIGNED
    verify_signature(parsed)
    assert parsed.id == hashlib.sha256(SIGNED.raw[1:-66]).digest()


def test_signing_is_deterministic() -> None:
    assert sign(make(), KEY).raw == SIGNED.raw


def test_sign_refuses_a_key_that_is_not_the_author() -> None:
    with pytest.raises(LocalError):
        sign(make(), OTHER)


@pytest.mark.parametrize(
    "changes",
    [
        {"kind": "nope"},
        {"body": {"lang": "es"}},
        {"ts": -5},
        {"group": b"short"},
        {"net": b"short"},
        {"kind": "cert.issue", "body": CERT_BODY},
        {"refs": (b"\x02" * 32, b"\x01" * 32)},
        {"body": {"lang": "es", "text": 1.5}},
    ],
)
def test_sign_refuses_what_a_receiver_would_refuse(changes: dict[str, object]) -> None:
    with pytest.raises(LocalError):
        sign(make(**changes), KEY)


def test_every_single_bit_flip_is_rejected() -> None:
    for index in range(len(SIGNED.raw) * 8):
        damaged = bytearray(SIGNED.raw)
        damaged[index // 8] ^= 1 << (index % 8)
        _, verdict = validate_bytes(bytes(damaged), KnownEvents(), NOW, NET)
        assert not verdict.accepted, f"bit {index} flipped was accepted"


def test_a_forged_signature_is_rejected_and_penalized() -> None:
    forged = dataclasses.replace(SIGNED, signature=OTHER.sign(SIGNED.id).signature)
    verdict = validate(forged, KnownEvents(), NOW, NET)
    assert verdict.reason is Reason.BAD_SIGNATURE
    assert verdict.action is Action.REJECT


def test_an_event_of_another_network_is_rejected_before_its_signature() -> None:
    stranger = sign(make(net=bytes(32)), KEY)
    assert stranger.net == bytes(32)
    verdict = validate(stranger, KnownEvents(), NOW, NET)
    assert verdict.reason is Reason.WRONG_NETWORK
    assert verdict.action is Action.REJECT
    assert validate(stranger, KnownEvents(), NOW, bytes(32)).accepted
    forged = dataclasses.replace(stranger, signature=bytes(64))
    assert validate(forged, KnownEvents(), NOW, NET).reason is Reason.WRONG_NETWORK


def test_a_network_scoped_kind_names_the_network_as_its_group() -> None:
    at_root = sign(make(kind="cert.issue", body=CERT_BODY, group=NET), KEY)
    assert parse_event(at_root.raw) == at_root
    elsewhere = make(kind="cert.issue", body=CERT_BODY)
    unsigned = cbor.encode(elsewhere.to_value())
    raw = b"\x82" + unsigned + b"\x58\x40" + bytes(64)
    assert event_module._parse_usual_layout(raw) is None
    with pytest.raises(Rejected) as caught:
        parse_event(raw)
    assert caught.value.reason is Reason.BAD_FIELD


def test_missing_refs_are_held_not_penalized() -> None:
    event = sign(make(refs=(b"\x07" * 32,)), KEY)
    verdict = validate(event, KnownEvents(), NOW, NET)
    assert verdict.reason is Reason.MISSING_REFS
    assert verdict.action is Action.HOLD


def test_clock_skew_boundary() -> None:
    at_edge = sign(make(ts=NOW + 600_000), KEY)
    assert validate(at_edge, KnownEvents(), NOW, NET).accepted
    past_edge = sign(make(ts=NOW + 600_001), KEY)
    verdict = validate(past_edge, KnownEvents(), NOW, NET)
    assert verdict.reason is Reason.TS_IN_FUTURE
    assert verdict.action is Action.IGNORE


@st.composite
def mutations(draw: st.DrawFn) -> bytes:
    """Damage a valid event the ways links and attackers do."""
    data = bytearray(SIGNED.raw)
    for _ in range(draw(st.integers(1, 4))):
        where = draw(st.integers(0, len(data)))
        how = draw(st.sampled_from(["flip", "set", "insert", "delete", "truncate", "splice"]))
        if how == "flip" and where < len(data):
            data[where] ^= 1 << draw(st.integers(0, 7))
        elif how == "set" and where < len(data):
            data[where] = draw(st.integers(0, 255))
        elif how == "insert":
            data[where:where] = draw(st.binary(min_size=1, max_size=8))
        elif how == "delete":
            del data[where : where + draw(st.integers(1, 8))]
        elif how == "truncate":
            del data[where:]
        elif how == "splice":
            other = sign(make(draw(st.text(min_size=1, max_size=20))), KEY).raw
            start = draw(st.integers(0, len(other)))
            data[where:where] = other[start : start + draw(st.integers(1, 40))]
    return bytes(data)


@given(st.one_of(mutations(), st.binary(max_size=300)))
def test_nothing_but_a_rejection_escapes(data: bytes) -> None:
    try:
        event = parse_event(data)
    except Rejected as exc:
        assert isinstance(exc.reason, Reason)
        return
    verdict = validate(event, KnownEvents(), NOW, NET)
    if verdict.accepted:
        # Only a valid signature by the author gets through: the bytes must
        # then be a whole event that author signed.
        assert event.author == bytes(KEY.verify_key)
        assert parse_event(event.raw) == event
    else:
        assert isinstance(verdict.reason, Reason)


@st.composite
def signed_events(draw: st.DrawFn) -> bytes:
    """Valid events of every shape the usual-layout path must handle or pass on."""
    refs = tuple(sorted(draw(st.sets(st.binary(min_size=32, max_size=32), max_size=17))))
    group = GROUP
    kind = draw(st.sampled_from(["note", "peer.record", "cert.issue"]))
    if kind == "note":
        body: dict[str, object] = {"lang": "qu", "text": draw(st.text(min_size=1, max_size=300))}
    elif kind == "peer.record":
        body = {"addrs": draw(st.lists(st.binary(min_size=2, max_size=40), min_size=1, max_size=3))}
    else:
        body, group = CERT_BODY, NET
    event = make(
        kind=kind,
        body=body,
        group=group,
        refs=refs[: draw(st.integers(0, 16))],
        ts=draw(st.sampled_from([0, 23, 2**32 - 1, 2**32, NOW, 2**53 - 1])),
    )
    return sign(event, KEY).raw


@given(st.one_of(signed_events(), mutations(), signed_events().map(lambda raw: raw[:-1])))
def test_usual_layout_path_agrees_with_the_general_path(data: bytes) -> None:
    fast = event_module._parse_usual_layout(data)
    try:
        general = event_module._parse_any_layout(data)
    except Rejected:
        assert fast is None
    else:
        assert fast is None or fast == general


def test_usual_layout_path_takes_ordinary_events() -> None:
    for event in (
        SIGNED,
        sign(make(refs=(b"\x01" * 32, b"\x02" * 32)), KEY),
        sign(make(kind="cert.issue", body=CERT_BODY, group=NET), KEY),
    ):
        assert event_module._parse_usual_layout(event.raw) == event
