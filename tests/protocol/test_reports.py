"""Protected reports: boxes, rings, receipts and the state (protocol/reports.py)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import count
from typing import Any

import nacl.bindings
import nacl.exceptions
import pytest
from event_factory import signing_key
from hypothesis import given
from hypothesis import strategies as st
from nacl.public import PrivateKey, PublicKey, SealedBox
from nacl.signing import SigningKey
from network_factory import Scenario, build_fractal, key_of

from protocol.errors import LocalError, Reason, Rejected
from protocol.event import Event, SignedEvent, sign
from protocol.report_schema import (
    BUCKETS,
    MAX_SIGNATURE,
    OVERSIGHT_KEY_SCHEMA,
    REPORT_FOLLOWUP_SCHEMA,
    REPORT_REPLY_SCHEMA,
    REPORT_RING_SCHEMA,
    REPORT_SCHEMA,
    SEAL_OVERHEAD,
    box_public_key,
)
from protocol.reports import (
    FRESH_RING_MS,
    Receipt,
    Reports,
    check_followup,
    check_report,
    follow_up,
    make_box_shares,
    open_report,
    open_sealed,
    open_share,
    pad,
    prepare_report_ring,
    read_replies,
    receipt_from_text,
    receipt_to_text,
    reply_body,
    report_message,
    seal_report,
    unpad,
)
from protocol.ring import PreparedRing, RingSigner
from protocol.ring import sign as ring_sign
from protocol.state import Governance

MESSAGE = {"text": "El tesorero cobra comisiones por cada compra.", "lang": "es"}
DOCUMENT = hashlib.sha256(b"factura 0042").digest()
#: Never certified.
STRANGER = signing_key("stranger")
P = 2**255 - 19


def box_key_of(private: PrivateKey) -> bytes:
    return bytes(private.public_key)


def box_private(name: str) -> PrivateKey:
    return PrivateKey(hashlib.sha256(f"box {name}".encode()).digest())


def refusal(call: Any, *args: Any, **kwargs: Any) -> Reason:
    with pytest.raises(Rejected) as excinfo:
        call(*args, **kwargs)
    return excinfo.value.reason


@dataclass
class World:
    """A folded network: one region over base groups ``home`` (4 people,
    ``people[0:4]``) and ``overseers`` (3 people, ``people[4:7]``, the
    oversight group O, founded by people[4], who acts for it)."""

    s: Scenario
    people: list[SigningKey]
    region: bytes
    home: bytes
    overseers: bytes
    reports: Reports
    serial: Iterator[int]

    @property
    def reporter(self) -> SigningKey:
        return self.people[1]

    @property
    def actor(self) -> SigningKey:
        return self.people[4]

    @property
    def members_of_o(self) -> list[SigningKey]:
        return self.people[4:7]

    def sign(
        self,
        kind: str,
        key: SigningKey,
        body: dict[str, Any],
        group: bytes,
        refs: tuple[bytes, ...] = (),
    ) -> SignedEvent:
        event = Event(
            kind=kind,
            group=group,
            author=key_of(key),
            net=self.s.net,
            ts=self.s.tick(),
            body=body,
            refs=tuple(sorted(refs)),
        )
        return sign(event, key)

    def fresh(self, name: str) -> SigningKey:
        """A key drawn for one use (one-time or receipt key)."""
        return signing_key(f"{name} {next(self.serial)}")

    def publish(
        self, box: PrivateKey, members: list[bytes] | None = None, actor: SigningKey | None = None
    ) -> SignedEvent:
        """An ``oversight.key`` of O, applied (Rejected if refused)."""
        members = members if members is not None else [key_of(k) for k in self.members_of_o]
        body = {"box_key": box_key_of(box), "shares": make_box_shares(box, members)}
        event = self.sign("oversight.key", actor or self.actor, body, self.overseers)
        self.reports.apply_box_key(event)
        return event

    def freeze(
        self, group: bytes, by: SigningKey | None = None, keys: list[bytes] | None = None
    ) -> SignedEvent:
        """A ``report.ring`` of ``group``, applied (Rejected if refused)."""
        event = self.ring_event(group, by, keys)
        self.reports.apply_ring(event)
        return event

    def ring_event(
        self, group: bytes, by: SigningKey | None = None, keys: list[bytes] | None = None
    ) -> SignedEvent:
        if keys is None:
            keys = list(self.reports.certified_members(group, self.s.now + 1000))
        return self.sign("report.ring", by or self.reporter, {"keys": keys}, group)

    def file(
        self,
        ring_event: SignedEvent,
        box_key: bytes,
        *,
        reporter: SigningKey | None = None,
        message: dict[str, Any] | None = None,
        group: bytes | None = None,
    ) -> tuple[SignedEvent, Receipt]:
        """A report, checked for standing (Rejected if it has none); not
        applied. Its receipt."""
        one_time, receipt_key = self.fresh("one-time"), self.fresh("receipt")
        group = group or self.overseers
        body = seal_report(
            ring_event,
            reporter or self.reporter,
            one_time,
            group,
            box_key,
            receipt_key,
            message or MESSAGE,
            hashlib.sha256(b"nonce %d" % next(self.serial)).digest(),
        )
        event = self.sign("report", one_time, body, group, refs=(ring_event.id,))
        check_report(event, ring_event, prepare_report_ring(ring_event, event))
        return event, Receipt(event.id, bytes(receipt_key))

    def reply(
        self,
        report: SignedEvent,
        status: str,
        message: dict[str, Any] | None = None,
        *,
        by: SigningKey | None = None,
        group: bytes | None = None,
    ) -> SignedEvent:
        """A ``report.reply``, applied (Rejected if refused)."""
        body = reply_body(report.id, status, report.event.body["receipt"], message)
        event = self.sign(
            "report.reply", by or self.people[5], body, group or report.group, refs=(report.id,)
        )
        self.reports.apply_reply(event)
        return event


@pytest.fixture
def world() -> World:
    s = Scenario(root_level=3)
    fractal = build_fractal(s, [4, 3], regions=1, bases=2)
    region, (home, overseers) = next(iter(fractal.tree.items()))
    governance = Governance(s.genesis)
    governance.add(s.events)
    assert [e.kind for e in s.events if governance.refusal(e.id)] == []
    state = governance.state
    people = [*fractal.members[home], *fractal.members[overseers]]
    reports = Reports(state.registry, state.groups)
    return World(s, people, region, home, overseers, reports, count())


@pytest.fixture
def filed(world: World) -> tuple[World, SignedEvent, SignedEvent, Receipt, PrivateKey]:
    """O published a box key, the region froze its ring, and a report was
    filed and applied."""
    box = box_private("1")
    world.publish(box)
    ring = world.freeze(world.region)
    report, receipt = world.file(ring, box_key_of(box))
    world.reports.apply_report(report)
    return world, ring, report, receipt, box


# -- padding --


@given(st.binary(max_size=BUCKETS[-1] - 1))
def test_padding_fills_the_smallest_bucket_and_comes_off(data: bytes) -> None:
    padded = pad(data)
    assert len(padded) == min(bucket for bucket in BUCKETS if bucket > len(data))
    assert unpad(padded) == data


@pytest.mark.parametrize(
    ("length", "bucket"), [(0, 512), (511, 512), (512, 2048), (24_575, 24_576)]
)
def test_the_bucket_edges(length: int, bucket: int) -> None:
    assert len(pad(bytes(length))) == bucket


def test_what_no_bucket_holds_cannot_be_padded() -> None:
    with pytest.raises(LocalError):
        pad(bytes(BUCKETS[-1]))


@given(st.binary(max_size=100), st.integers(1, 255), st.sampled_from(BUCKETS))
def test_unpadding_wants_the_marker_right_before_the_zeros(
    head: bytes, last: int, bucket: int
) -> None:
    padded = head + bytes([last]) + bytes(bucket - len(head) - 1)
    if last == 0x80:
        assert unpad(padded) == head
    else:
        assert refusal(unpad, padded) == Reason.BAD_BODY


@pytest.mark.parametrize("padded", [bytes(512), b"\x80" + bytes(510), b"hola\x80" + bytes(100)])
def test_no_marker_or_no_bucket_is_bad_padding(padded: bytes) -> None:
    assert refusal(unpad, padded) == Reason.BAD_BODY


def test_a_bigger_bucket_than_needed_is_accepted() -> None:
    assert unpad(b"hola\x80" + bytes(8_192 - 5)) == b"hola"


# -- schemas --


def test_small_order_and_non_canonical_box_keys_are_refused() -> None:
    small = [0, 1, P - 1]
    small += [
        325606250916557431795983626356110631294008115727848805560023387167927233504,
        39382357235489614581723060781553021112529911719440698176882885853963445705823,
    ]
    for u in small:
        key = u.to_bytes(32, "little")
        with pytest.raises(nacl.exceptions.CryptoError):
            SealedBox(PublicKey(key)).encrypt(b"x")  # libsodium agrees: no box to it
        assert box_public_key(key) == "must not be a point of small order"
    for u in (P, P + 1, 2**255 + 9):
        assert box_public_key(u.to_bytes(32, "little")) is not None
    assert box_public_key(box_key_of(box_private("1"))) is None


@given(st.binary(min_size=32, max_size=32))
def test_a_box_key_is_accepted_exactly_when_a_box_can_be_sealed_to_it(key: bytes) -> None:
    canonical = int.from_bytes(key, "little") < P
    try:
        SealedBox(PublicKey(key)).encrypt(b"x")
        sealable = True
    except nacl.exceptions.CryptoError:
        sealable = False
    assert (box_public_key(key) is None) == (canonical and sealable)


def _report_body(**changes: Any) -> dict[str, Any]:
    body = {
        "sig": bytes(96),
        "ring": bytes(32),
        "sealed": bytes(512 + SEAL_OVERHEAD),
        "box_key": box_key_of(box_private("1")),
        "receipt": bytes(32),
    }
    body.update(changes)
    return body


@pytest.mark.parametrize(
    ("schema", "body"),
    [
        (REPORT_SCHEMA, _report_body(sealed=bytes(513 + SEAL_OVERHEAD))),
        (REPORT_SCHEMA, _report_body(sealed=bytes(512))),
        (REPORT_SCHEMA, _report_body(sig=bytes(MAX_SIGNATURE + 32))),
        (REPORT_REPLY_SCHEMA, {"report": bytes(32), "status": "closed"}),
        (REPORT_REPLY_SCHEMA, {"report": bytes(32), "status": "resolved", "sealed": bytes(561)}),
        (
            REPORT_FOLLOWUP_SCHEMA,
            {"report": bytes(32), "sealed": bytes(2_096), "box_key": bytes(32)},
        ),
        (REPORT_RING_SCHEMA, {"keys": [b"\x02" * 32, b"\x01" * 32]}),
        (REPORT_RING_SCHEMA, {"keys": []}),
        (
            OVERSIGHT_KEY_SCHEMA,
            {
                "box_key": box_key_of(box_private("1")),
                "shares": [
                    {"member": b"\x02" * 32, "sealed": bytes(80)},
                    {"member": b"\x01" * 32, "sealed": bytes(80)},
                ],
            },
        ),
        (
            OVERSIGHT_KEY_SCHEMA,
            {
                "box_key": box_key_of(box_private("1")),
                "shares": [{"member": b"\x01" * 32, "sealed": bytes(79)}],
            },
        ),
        (OVERSIGHT_KEY_SCHEMA, {"box_key": box_key_of(box_private("1")), "shares": []}),
    ],
)
def test_bodies_out_of_shape_are_bad_bodies(schema: Any, body: dict[str, Any]) -> None:
    assert refusal(schema.check, body) == Reason.BAD_BODY


def test_good_bodies_pass_their_schemas() -> None:
    REPORT_SCHEMA.check(_report_body())
    REPORT_REPLY_SCHEMA.check({"report": bytes(32), "status": "dismissed"})
    REPORT_REPLY_SCHEMA.check({"report": bytes(32), "status": "referred", "sealed": bytes(560)})


def test_the_largest_report_fits_in_an_event(world: World) -> None:
    one_time = world.fresh("one-time")
    body = _report_body(sig=bytes(MAX_SIGNATURE), sealed=bytes(BUCKETS[-1] + SEAL_OVERHEAD))
    refs = tuple(hashlib.sha256(bytes([i])).digest() for i in range(16))
    event = world.sign("report", one_time, body, world.overseers, refs=refs)  # LocalError if not
    assert len(event.raw) < 64 * 1024


# -- the box key --


def test_every_member_of_the_oversight_group_opens_their_share(world: World) -> None:
    box = box_private("1")
    event = world.publish(box)
    assert world.reports.box_keys(world.overseers) == [box_key_of(box)]
    for member in world.members_of_o:
        share = world.reports.share(world.overseers, box_key_of(box), key_of(member))
        assert share is not None
        assert open_share(share, member, box_key_of(box)).encode() == box.encode()
    assert [s["member"] for s in event.event.body["shares"]] == sorted(
        key_of(k) for k in world.members_of_o
    )


def test_nobody_else_opens_a_share(world: World) -> None:
    box = box_private("1")
    event = world.publish(box)
    for share in event.event.body["shares"]:
        for outsider in (world.reporter, STRANGER):
            with pytest.raises(LocalError):
                open_share(share["sealed"], outsider)
    assert world.reports.share(world.overseers, box_key_of(box), key_of(world.reporter)) is None


def test_a_share_holding_another_key_is_exposed_by_its_member(world: World) -> None:
    lie = make_box_shares(box_private("other"), [key_of(world.actor)])[0]["sealed"]
    assert refusal(open_share, lie, world.actor, box_key_of(box_private("1"))) == Reason.BAD_SHARES


@pytest.mark.parametrize("change", ["missing", "stranger", "outsider"])
def test_shares_must_go_to_exactly_the_certified_members(world: World, change: str) -> None:
    members = [key_of(k) for k in world.members_of_o]
    if change == "missing":
        members = members[:-1]
    else:
        members.append(key_of(STRANGER if change == "stranger" else world.reporter))
    assert refusal(world.publish, box_private("1"), members) == Reason.BAD_SHARES
    assert world.reports.box_keys(world.overseers) == []


def test_only_whoever_acts_for_the_group_publishes_its_key(world: World) -> None:
    assert refusal(world.publish, box_private("1"), actor=world.people[5]) == Reason.NOT_AUTHORIZED
    assert refusal(world.publish, box_private("1"), actor=STRANGER) == Reason.NOT_CERTIFIED


def test_a_key_for_no_group_is_refused(world: World) -> None:
    box = box_private("1")
    body = {"box_key": box_key_of(box), "shares": make_box_shares(box, [key_of(world.actor)])}
    event = world.sign("oversight.key", world.actor, body, hashlib.sha256(b"nowhere").digest())
    assert refusal(world.reports.apply_box_key, event) == Reason.UNKNOWN_GROUP


def test_every_published_key_stays_known_and_the_newest_is_current(world: World) -> None:
    first, second = box_private("1"), box_private("2")
    world.publish(first)
    world.publish(second)
    assert world.reports.box_keys(world.overseers) == [box_key_of(first), box_key_of(second)]
    world.publish(first)  # published again: current again
    assert world.reports.box_keys(world.overseers) == [box_key_of(second), box_key_of(first)]
    assert world.reports.describe_box_keys() == {
        world.overseers.hex(): [box_key_of(second).hex(), box_key_of(first).hex()]
    }


# -- rings --


def test_a_ring_holds_the_groups_certified_members(world: World) -> None:
    ring = world.freeze(world.region)
    assert list(ring.event.body["keys"]) == sorted(key_of(k) for k in world.people)
    assert world.reports.rings[ring.id].group == world.region


@pytest.mark.parametrize("change", ["stranger", "left_out"])
def test_a_ring_with_a_stranger_or_without_a_member_is_wrong(world: World, change: str) -> None:
    keys = list(world.reports.certified_members(world.home, world.s.now))
    keys = sorted([*keys, key_of(STRANGER)]) if change == "stranger" else keys[1:]
    assert refusal(world.freeze, world.home, keys=keys) == Reason.WRONG_RING
    assert world.reports.rings == {}


def test_a_ring_is_frozen_by_a_member_of_the_group(world: World) -> None:
    assert refusal(world.freeze, world.home, by=world.people[5]) == Reason.NOT_AUTHORIZED
    assert refusal(world.freeze, world.home, by=STRANGER) == Reason.NOT_CERTIFIED
    world.freeze(world.home, by=world.people[3])


def test_a_ring_of_no_group_is_refused(world: World) -> None:
    event = world.sign("report.ring", world.reporter, {"keys": [key_of(world.reporter)]}, bytes(32))
    assert refusal(world.reports.apply_ring, event) == Reason.UNKNOWN_GROUP


def test_a_reporter_signs_with_the_largest_fresh_ring_it_is_in(world: World) -> None:
    home = world.freeze(world.home)
    region = world.freeze(world.region)
    now = world.s.now
    assert world.reports.ring_for(key_of(world.reporter), now) == region.id
    assert world.reports.ring_for(key_of(STRANGER), now) is None
    assert world.reports.ring_for(key_of(world.reporter), home.ts + FRESH_RING_MS) == region.id
    assert world.reports.ring_for(key_of(world.reporter), region.ts + FRESH_RING_MS + 1) is None
    assert world.reports.ring_for(key_of(world.reporter), home.ts - 1) is None


# -- reports --


def test_a_report_is_stored_with_what_its_event_shows_and_no_more(filed: Any) -> None:
    world, ring, report, _, box = filed
    described = world.reports.describe(report.id)
    assert described == {
        "id": report.id.hex(),
        "group": world.overseers.hex(),
        "ring": ring.id.hex(),
        "ring_group": world.region.hex(),
        "ring_size": 7,
        "ts": report.ts,
        "status": "received",
        "box_key": box_key_of(box).hex(),
        "receipt": report.event.body["receipt"].hex(),
        "size": 512,
        "replies": [],
        "followups": [],
    }
    assert world.reports.describe_all() == [described]
    assert key_of(world.reporter).hex() not in json.dumps(world.reports.describe_all())
    assert report.author != key_of(world.reporter)


def test_each_member_of_the_oversight_group_reads_the_report(filed: Any) -> None:
    world, _, report, _, box = filed
    for member in world.members_of_o:
        share = world.reports.share(world.overseers, box_key_of(box), key_of(member))
        assert share is not None
        private = open_share(share, member, box_key_of(box))
        assert open_report(report.event.body, private) == MESSAGE


def test_nobody_outside_the_oversight_group_reads_the_report(filed: Any) -> None:
    world, _, report, _, _ = filed
    for outsider in (world.reporter, STRANGER):
        wrong = outsider.to_curve25519_private_key()
        with pytest.raises(LocalError):
            open_report(report.event.body, wrong)
        with pytest.raises(LocalError):
            open_sealed(report.event.body["sealed"], wrong)


def test_a_report_says_what_and_about_whom(world: World) -> None:
    box = box_private("1")
    world.publish(box)
    ring = world.freeze(world.home)
    message = {"text": "ñ" * 10_000, "lang": "qu", "about": world.home, "documents": [DOCUMENT]}
    report, _ = world.file(ring, box_key_of(box), message=message)
    assert len(report.event.body["sealed"]) == 24_576 + SEAL_OVERHEAD
    assert open_report(report.event.body, box) == message


@pytest.mark.parametrize(
    "message",
    [
        {"text": "ñ" * 20_000, "lang": "es"},  # 40,000 bytes: no bucket holds it
        {"text": "", "lang": "es"},
        {"text": "hola", "lang": "Spanish"},
        {"text": "hola", "lang": "es", "documents": [DOCUMENT, DOCUMENT]},
    ],
)
def test_a_message_that_cannot_be_sent_stays_with_its_writer(
    world: World, message: dict[str, Any]
) -> None:
    box = box_private("1")
    world.publish(box)
    ring = world.freeze(world.home)
    with pytest.raises(LocalError):
        world.file(ring, box_key_of(box), message=message)


def test_nothing_is_sealed_to_a_key_of_small_order(filed: Any) -> None:
    _, _, _, receipt, _ = filed
    with pytest.raises(LocalError):
        follow_up(receipt, bytes(32), MESSAGE)


def test_a_box_that_opens_to_no_message_is_the_writers_fault(world: World) -> None:
    box = box_private("1")
    for inside in (pad(b"\x01"), bytes(600), pad(b"\xa1\x61x\x01")):
        sealed = SealedBox(box.public_key).encrypt(inside)
        assert refusal(open_sealed, sealed, box) == Reason.BAD_BODY


def test_two_reports_by_one_member_do_not_link(filed: Any) -> None:
    world, ring, first, _, box = filed
    second, _ = world.file(ring, box_key_of(box))
    assert first.event.body["sig"][:32] != second.event.body["sig"][:32]
    assert first.author != second.author
    assert first.event.body["receipt"] != second.event.body["receipt"]
    world.reports.apply_report(second)
    described = world.reports.describe_all()
    assert [r["id"] for r in described] == sorted([first.id.hex(), second.id.hex()])
    assert {r["ring"] for r in described} == {ring.id.hex()}


def test_an_older_box_key_still_takes_reports(filed: Any) -> None:
    world, ring, _, _, old = filed
    world.publish(box_private("2"))
    report, _ = world.file(ring, box_key_of(old))
    world.reports.apply_report(report)
    assert world.reports.describe(report.id)["box_key"] == box_key_of(old).hex()


def test_a_report_sealed_to_a_key_the_group_never_published_is_refused(filed: Any) -> None:
    world, ring, _, _, _ = filed
    report, _ = world.file(ring, box_key_of(box_private("never")))
    assert refusal(world.reports.apply_report, report) == Reason.UNKNOWN_BOX_KEY
    assert report.id not in world.reports.reports


def test_a_report_to_no_group_is_refused(filed: Any) -> None:
    world, ring, _, _, box = filed
    report, _ = world.file(ring, box_key_of(box), group=hashlib.sha256(b"nowhere").digest())
    assert refusal(world.reports.apply_report, report) == Reason.UNKNOWN_GROUP


def test_a_report_on_a_ring_the_fold_refused_has_standing_but_no_effect(world: World) -> None:
    """A stranger's key in a refused ring: the signature holds against the
    ring's content, so only the fold can stop the stranger's report."""
    box = box_private("1")
    world.publish(box)
    keys = sorted([*world.reports.certified_members(world.home, world.s.now), key_of(STRANGER)])
    fake = world.ring_event(world.home, keys=keys)
    assert refusal(world.reports.apply_ring, fake) == Reason.WRONG_RING
    report, _ = world.file(fake, box_key_of(box), reporter=STRANGER)
    assert refusal(world.reports.apply_report, report) == Reason.WRONG_RING


# -- a report's standing --


def _resigned(world: World, report: SignedEvent, **changes: Any) -> SignedEvent:
    """The report with its body changed, in an envelope signed anew by a
    one-time key of the forger's (who cannot make a ring signature)."""
    body = {**report.event.body, **changes}
    return world.sign("report", world.fresh("forger"), body, report.group, refs=report.refs)


def _check(report: SignedEvent, ring: SignedEvent | None) -> None:
    prepared = None if ring is None else prepare_report_ring(ring, report)
    check_report(report, ring, prepared)


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ("flipped", Reason.BAD_RING_SIGNATURE),
        ("short", Reason.BAD_RING_SIGNATURE),
        ("identity_image", Reason.BAD_KEY_IMAGE),
        ("big_scalar", Reason.NON_CANONICAL_SCALAR),
    ],
)
def test_an_altered_ring_signature_is_rejected(filed: Any, change: str, reason: Reason) -> None:
    world, ring, report, _, _ = filed
    sig = bytearray(report.event.body["sig"])
    if change == "flipped":
        sig[40] ^= 1  # in c_0
    elif change == "short":
        del sig[-32:]
    elif change == "identity_image":
        sig[:32] = b"\x01" + bytes(31)
    else:
        sig[64:96] = b"\xff" * 32  # r_0
    assert refusal(_check, _resigned(world, report, sig=bytes(sig)), ring) == reason


@pytest.mark.parametrize("field", ["sealed", "box_key", "receipt", "envelope"])
def test_a_ring_signature_moved_to_another_report_is_rejected(filed: Any, field: str) -> None:
    world, ring, report, _, _ = filed
    changes: dict[str, Any] = {
        "sealed": {"sealed": bytes(len(report.event.body["sealed"]))},
        "box_key": {"box_key": box_key_of(box_private("2"))},
        "receipt": {"receipt": key_of(world.fresh("receipt"))},
        "envelope": {},  # the same body, wrapped by someone else
    }[field]
    assert refusal(_check, _resigned(world, report, **changes), ring) == Reason.BAD_RING_SIGNATURE
    _check(report, ring)  # the original stands


def test_a_report_signed_by_no_member_of_the_ring_is_rejected(filed: Any) -> None:
    world, ring, report, _, box = filed
    one_time, receipt = world.fresh("one-time"), world.fresh("receipt")
    keys = sorted([*ring.event.body["keys"][1:], key_of(STRANGER)])
    forged = PreparedRing(keys, key_of(receipt))
    sealed = report.event.body["sealed"]
    message = report_message(
        ring.id, key_of(one_time), world.overseers, box_key_of(box), key_of(receipt), sealed
    )
    body = {
        "sig": ring_sign(forged, RingSigner.from_key(STRANGER), message, bytes(32)),
        "ring": ring.id,
        "sealed": sealed,
        "box_key": box_key_of(box),
        "receipt": key_of(receipt),
    }
    event = world.sign("report", one_time, body, world.overseers, refs=(ring.id,))
    assert refusal(_check, event, ring) == Reason.BAD_RING_SIGNATURE


def test_a_report_needs_the_report_ring_it_names_among_its_refs(filed: Any) -> None:
    world, ring, report, _, _ = filed
    assert refusal(_check, report, None) == Reason.WRONG_RING
    unreferenced = world.sign("report", world.fresh("x"), dict(report.event.body), report.group)
    assert refusal(_check, unreferenced, ring) == Reason.WRONG_RING
    other = world.freeze(world.home)
    assert refusal(_check, report, other) == Reason.WRONG_RING


def test_a_ballot_ring_is_no_report_ring(filed: Any) -> None:
    """A perfectly ring-signed report naming a ``ballot.ring`` with the same
    keys: rings of ballots are not for reports."""
    world, ring, _, _, box = filed
    keys = ring.event.body["keys"]
    ballot_ring = world.sign(
        "ballot.ring", world.reporter, {"keys": keys, "ballot": bytes(32)}, world.region
    )
    one_time, receipt = world.fresh("one-time"), world.fresh("receipt")
    sealed = SealedBox(box.public_key).encrypt(pad(b"\xa0"))
    message = report_message(
        ballot_ring.id, key_of(one_time), world.overseers, box_key_of(box), key_of(receipt), sealed
    )
    prepared = PreparedRing(keys, key_of(receipt))
    body = {
        "sig": ring_sign(prepared, RingSigner.from_key(world.reporter), message, bytes(32)),
        "ring": ballot_ring.id,
        "sealed": sealed,
        "box_key": box_key_of(box),
        "receipt": key_of(receipt),
    }
    event = world.sign("report", one_time, body, world.overseers, refs=(ballot_ring.id,))
    assert refusal(check_report, event, ballot_ring, prepared) == Reason.WRONG_RING


def test_a_receipt_that_is_no_key_is_a_bad_body(filed: Any) -> None:
    world, ring, report, _, _ = filed
    forged = _resigned(world, report, receipt=b"\x01" + bytes(31))
    assert refusal(_check, forged, ring) == Reason.BAD_BODY


def test_a_ring_prepared_for_another_report_is_a_local_error(filed: Any) -> None:
    world, ring, report, _, box = filed
    other, _ = world.file(ring, box_key_of(box))
    with pytest.raises(LocalError):
        check_report(report, ring, prepare_report_ring(ring, other))


@pytest.mark.parametrize("who", ["reporter", "member", "one_time"])
def test_a_reporter_cannot_sign_with_a_key_that_names_them(filed: Any, who: str) -> None:
    world, ring, _, _, box = filed
    one_time = world.fresh("one-time")
    receipt = {"reporter": world.reporter, "member": world.people[2], "one_time": one_time}[who]
    with pytest.raises(LocalError):
        seal_report(
            ring,
            world.reporter,
            one_time,
            world.overseers,
            box_key_of(box),
            receipt,
            MESSAGE,
            bytes(32),
        )
    with pytest.raises(LocalError):
        seal_report(
            ring,
            world.reporter,
            receipt,
            world.overseers,
            box_key_of(box),
            one_time,
            MESSAGE,
            bytes(32),
        )


def test_a_stranger_cannot_sign_with_a_ring(filed: Any) -> None:
    world, ring, _, _, box = filed
    with pytest.raises(LocalError):
        world.file(ring, box_key_of(box), reporter=STRANGER)


# -- replies --


def test_replies_set_the_status_and_the_reporter_reads_them(filed: Any) -> None:
    world, _, report, receipt, _ = filed
    answer = {"text": "Lo estamos investigando. ¿Tiene las facturas?", "lang": "es"}
    first = world.reply(report, "investigating", answer)
    second = world.reply(report, "referred", by=world.actor)
    described = world.reports.describe(report.id)
    assert described["status"] == "referred"
    assert [r["id"] for r in described["replies"]] == [first.id.hex(), second.id.hex()]
    assert described["replies"][0]["sealed"] == first.event.body["sealed"].hex()
    assert described["replies"][1]["sealed"] is None
    # The reporter, with nothing but the text of the receipt:
    replies = read_replies(world.reports, receipt_from_text(receipt_to_text(receipt)))
    assert replies == [
        {
            "id": first.id.hex(),
            "author": key_of(world.people[5]).hex(),
            "status": "investigating",
            "ts": first.ts,
            "message": answer,
            "error": None,
        },
        {
            "id": second.id.hex(),
            "author": key_of(world.actor).hex(),
            "status": "referred",
            "ts": second.ts,
            "message": None,
            "error": None,
        },
    ]


def test_a_reply_for_the_reporter_is_for_the_reporter_only(filed: Any) -> None:
    world, _, report, _, box = filed
    reply = world.reply(report, "investigating", {"text": "Gracias.", "lang": "es"})
    for reader in (*world.members_of_o, world.reporter):
        with pytest.raises(LocalError):
            open_sealed(reply.event.body["sealed"], reader.to_curve25519_private_key())
    with pytest.raises(LocalError):
        open_sealed(reply.event.body["sealed"], box)


def test_a_bad_reply_does_not_hide_the_others(filed: Any) -> None:
    world, _, report, receipt, _ = filed
    to_receipt = PublicKey(
        nacl.bindings.crypto_sign_ed25519_pk_to_curve25519(receipt.key.verify_key.encode())
    )
    body = {
        "report": report.id,
        "status": "investigating",
        "sealed": SealedBox(to_receipt).encrypt(bytes(512)),
    }
    bad = world.sign("report.reply", world.people[5], body, world.overseers)
    world.reports.apply_reply(bad)
    world.reply(report, "resolved", {"text": "Resuelto.", "lang": "es"})
    replies = read_replies(world.reports, receipt)
    assert replies[0]["message"] is None and "bad_body" in replies[0]["error"]
    assert replies[1]["message"] == {"text": "Resuelto.", "lang": "es"}


def test_only_the_oversight_group_replies(filed: Any) -> None:
    world, _, report, _, _ = filed
    assert refusal(world.reply, report, "dismissed", by=world.reporter) == Reason.NOT_AUTHORIZED
    assert refusal(world.reply, report, "dismissed", by=STRANGER) == Reason.NOT_CERTIFIED
    assert world.reports.describe(report.id)["status"] == "received"


def test_a_reply_to_a_report_of_another_group_or_none_is_refused(filed: Any) -> None:
    world, _, report, _, _ = filed
    assert refusal(world.reply, report, "resolved", group=world.home) == Reason.UNKNOWN_REPORT
    body = {"report": bytes(32), "status": "resolved"}
    event = world.sign("report.reply", world.people[5], body, world.overseers)
    assert refusal(world.reports.apply_reply, event) == Reason.UNKNOWN_REPORT
    assert refusal(world.reports.describe, bytes(32)) == Reason.UNKNOWN_REPORT


def test_a_receipt_whose_key_is_not_the_reports_reads_nothing(filed: Any) -> None:
    world, _, report, receipt, _ = filed
    with pytest.raises(LocalError):
        read_replies(world.reports, Receipt(report.id, bytes(32)))
    with pytest.raises(Rejected):
        read_replies(world.reports, Receipt(bytes(32), receipt.secret))


# -- follow-ups --


def _follow_up(
    world: World, receipt: Receipt, box_key: bytes, *, key: SigningKey | None = None
) -> SignedEvent:
    body = follow_up(
        receipt, box_key, {"text": "Adjunto la factura.", "lang": "es", "documents": [DOCUMENT]}
    )
    return world.sign(
        "report.followup", key or receipt.key, body, world.overseers, refs=(receipt.report_id,)
    )


def test_a_follow_up_by_the_receipt_key_is_added_to_the_report(filed: Any) -> None:
    world, _, report, receipt, box = filed
    event = _follow_up(world, receipt, box_key_of(box))
    check_followup(event, report)
    world.reports.apply_followup(event)
    assert world.reports.describe(report.id)["followups"] == [
        {"id": event.id.hex(), "ts": event.ts, "box_key": box_key_of(box).hex(), "size": 512}
    ]
    assert open_report(event.event.body, box)["documents"] == [DOCUMENT]


def test_a_follow_up_by_another_key_has_no_standing(filed: Any) -> None:
    world, _, report, receipt, box = filed
    intruder = _follow_up(world, receipt, box_key_of(box), key=world.reporter)
    assert refusal(check_followup, intruder, report) == Reason.NO_STANDING
    assert refusal(world.reports.apply_followup, intruder) == Reason.NOT_AUTHORIZED
    genuine = _follow_up(world, receipt, box_key_of(box))
    assert refusal(check_followup, genuine, None) == Reason.NO_STANDING
    body = dict(genuine.event.body)
    unreferenced = world.sign("report.followup", receipt.key, body, world.overseers)
    assert refusal(check_followup, unreferenced, report) == Reason.NO_STANDING


def test_a_follow_up_sealed_to_an_unknown_key_is_refused(filed: Any) -> None:
    world, _, report, receipt, _ = filed
    event = _follow_up(world, receipt, box_key_of(box_private("never")))
    check_followup(event, report)
    assert refusal(world.reports.apply_followup, event) == Reason.UNKNOWN_BOX_KEY
    assert world.reports.describe(report.id)["followups"] == []


# -- receipts --


@given(st.binary(min_size=32, max_size=32), st.binary(min_size=32, max_size=32))
def test_a_receipt_survives_its_text_form(report_id: bytes, secret: bytes) -> None:
    receipt = Receipt(report_id, secret)
    text = receipt_to_text(receipt)
    assert text.startswith("ayllu-receipt-1:")
    assert receipt_from_text(text) == receipt
    assert receipt_from_text(f"  {text.upper()}\n") == receipt  # a hand copy
    assert secret.hex() not in repr(receipt)


@pytest.mark.parametrize(
    "text",
    ["", "ayllu-receipt-1:00:11", "ayllu-receipt-2:" + "0" * 64 + ":" + "1" * 64, "0" * 129],
)
def test_what_is_not_a_receipt_is_refused(text: str) -> None:
    with pytest.raises(LocalError):
        receipt_from_text(text)
