"""Protected reports: corruption reported anonymously to an oversight group.

Theory of operation
-------------------
A member who sees corruption must be able to tell the group that oversees
it (specs/accountability.md section 4) without telling anyone, the
oversight group included, who they are, and without anyone but the
oversight group's members reading what they wrote. Four pieces do that:

1. ``oversight.key``: whoever acts for the oversight group O publishes an
   X25519 *box key*, and seals its private half to every certified member
   of O's subtree (one *share* each: ``make_box_shares``). The fold checks
   that the shares go to exactly those members; only a member can check,
   by opening its share (``open_share``), that the share holds the key.
2. ``report.ring``: any member of a group G freezes G's certified members
   as a ring. A reporter signs with the largest fresh ring it is in
   (``Reports.ring_for``): the ring is its anonymity set.
3. ``report``: the message is encoded, padded to a size bucket (``pad``)
   and sealed to O's box key; the envelope is signed by a one-time key; the
   body carries a linkable ring signature (protocol/ring.py) over the
   ring, the one-time key, O, the box key, the sealed bytes and a fresh
   *receipt* key. The key image's scope is the receipt, fresh per report,
   so two reports by one member never link. The ring signature is the
   report's standing (``check_report``), checked once, when it is stored,
   like a vote's: the fold only reads what it names.
4. The reporter keeps a ``Receipt``: the report's id and the receipt key's
   seed. The oversight group answers with ``report.reply`` (a status, and
   optionally a message sealed to the receipt key, which only the reporter
   can open: ``read_replies``); the reporter adds to the report with
   ``report.followup``, signed by the receipt key (``follow_up``).

What each party learns. A relay or a node: that one of ring G's members
filed a report to O at ts, its size bucket, which box key it is sealed to;
the replies (who answered, the status) and that follow-ups exist. The
oversight group's members: the text as well, but never the author. Nobody:
which member of the ring wrote it, whether two reports share an author.
The state stores nothing more than the events show (no key image: with a
fresh scope it names nobody and links nothing).

Crypto is libsodium's (PyNaCl): sealed boxes (X25519, XSalsa20-Poly1305,
an ephemeral key per message, drawn by libsodium), Ed25519 keys converted
to X25519 where a member or a receipt receives a box. Sans-I/O otherwise:
the caller draws the box key, the one-time and receipt keys and the ring
signature's nonce seed.

Errors. A writer's mistake (a message too long, a key that would name the
reporter) is a ``LocalError``. A box that does not open with the key given
is a ``LocalError`` too: sealed boxes cannot tell a wrong key from damaged
bytes. A box that opens to something that is not a padded, well-formed
message is ``Rejected(bad_body)``: whoever sealed it wrote it wrong.

The ``Reports`` class is part of the state fold (protocol/state.py): its
``apply_*`` methods run in key order (ts, id), check everything first and
change the state only when nothing raised.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import nacl.bindings
import nacl.exceptions
from nacl.public import PrivateKey, PublicKey, SealedBox
from nacl.signing import SigningKey

from protocol import cbor
from protocol.errors import LocalError, Reason, Rejected
from protocol.event import ID_SIZE, SignedEvent
from protocol.groups import DAY_MS, Groups
from protocol.registry import Registry
from protocol.report_schema import BUCKETS, MESSAGE_SCHEMA, SEAL_OVERHEAD, box_public_key
from protocol.ring import SEED_SIZE, PreparedRing, RingSigner, sign, verify

#: Prepended to the hash of a report's content to form what the ring signs.
REPORT_DOMAIN = b"ayllu/report/v1\x00"
#: ISO/IEC 7816-4 padding: this byte, then zeros up to the bucket.
PAD_MARKER = 0x80
#: A ring frozen longer ago than this is stale: members left and joined.
FRESH_RING_MS = 90 * DAY_MS
RECEIPT_PREFIX = "ayllu-receipt-1"
_RECEIPT_TEXT = re.compile(RECEIPT_PREFIX + r":([0-9a-f]{64}):([0-9a-f]{64})")

# -- padding --


def pad(data: bytes) -> bytes:
    """``data``, 0x80, then zeros up to the smallest bucket that holds them
    (ISO/IEC 7816-4): a sealed message then shows its bucket, not its length.

    LocalError if ``data`` does not fit the largest bucket: the writer must
    shorten it (or split it into follow-ups)."""
    for bucket in BUCKETS:
        if len(data) < bucket:
            return data + bytes([PAD_MARKER]) + bytes(bucket - len(data) - 1)
    raise LocalError(f"{len(data)} bytes: a message holds at most {BUCKETS[-1] - 1} encoded")


def unpad(padded: bytes) -> bytes:
    """The data ``pad`` padded, or Rejected(bad_body): a length that is not
    a bucket, or no 0x80 before the trailing zeros. Any bucket is accepted,
    not only the smallest that fits: a writer may hide a short message in a
    bigger bucket."""
    if len(padded) not in BUCKETS:
        raise Rejected(Reason.BAD_BODY, f"{len(padded)} bytes is not a padded size")
    data = padded.rstrip(b"\x00")
    if not data or data[-1] != PAD_MARKER:
        raise Rejected(Reason.BAD_BODY, "bad padding")
    return data[:-1]


# -- messages and boxes --


def seal_message(message: Mapping[str, Any], box_key: bytes) -> bytes:
    """``message`` (a map of MESSAGE_SCHEMA) encoded, padded and sealed to the
    X25519 public key ``box_key``. LocalError if it is not a valid message,
    is too long, or ``box_key`` is no key to seal to."""
    problem = box_public_key(box_key)
    if problem:
        raise LocalError(f"box key {problem}")
    try:
        MESSAGE_SCHEMA.check(message)
    except Rejected as exc:
        raise LocalError(f"not a valid message: {exc.detail}") from exc
    padded = pad(cbor.encode(dict(message)))
    return bytes(SealedBox(PublicKey(box_key)).encrypt(padded))


def open_sealed(sealed: bytes, private_key: PrivateKey) -> dict[str, Any]:
    """The message in a sealed box. LocalError if ``private_key`` cannot open
    it; Rejected(bad_body) if what it holds is not a padded message."""
    try:
        padded = SealedBox(private_key).decrypt(sealed)
    except nacl.exceptions.CryptoError as exc:
        raise LocalError("this key cannot open the box (another key's, or damaged)") from exc
    try:
        message = cbor.decode(unpad(padded))
    except Rejected as exc:
        raise Rejected(Reason.BAD_BODY, f"not a message: {exc}") from exc
    if type(message) is not dict:
        raise Rejected(Reason.BAD_BODY, "a message is a map")
    MESSAGE_SCHEMA.check(message)
    return message


def box_key_for(ed25519_key: bytes) -> bytes:
    """The X25519 key a box for the holder of an Ed25519 key is sealed to: a
    member's share is sealed to the member's key, a reply to the receipt.
    One key pair per person, so nobody registers a second key."""
    try:
        return nacl.bindings.crypto_sign_ed25519_pk_to_curve25519(ed25519_key)
    except nacl.exceptions.CryptoError as exc:
        raise LocalError("not a valid Ed25519 public key") from exc


# -- the box key and its shares --


def make_box_shares(
    private_box_key: PrivateKey, member_keys: Iterable[bytes]
) -> list[dict[str, Any]]:
    """The ``shares`` of an ``oversight.key``: the private box key sealed to
    each member's Ed25519 key, sorted by member. ``member_keys`` must be the
    certified members of the oversight group's subtree
    (``Reports.certified_members``), or the fold refuses the event."""
    secret = bytes(private_box_key)
    return [
        {
            "member": member,
            "sealed": bytes(SealedBox(PublicKey(box_key_for(member))).encrypt(secret)),
        }
        for member in sorted(set(member_keys))
    ]


def open_share(
    share_sealed: bytes, member_key: SigningKey, box_key: bytes | None = None
) -> PrivateKey:
    """The private box key in a member's share. LocalError if it is not this
    member's share; with ``box_key``, Rejected(bad_shares) if the share
    holds some other key: the fold cannot see inside shares, so a member
    who finds one that lies is the only one who can say so."""
    try:
        secret = SealedBox(member_key.to_curve25519_private_key()).decrypt(share_sealed)
    except nacl.exceptions.CryptoError as exc:
        raise LocalError("this share is not sealed to this key (or is damaged)") from exc
    if len(secret) != PrivateKey.SIZE:
        raise Rejected(Reason.BAD_SHARES, "a share holds a 32-byte private key")
    private = PrivateKey(secret)
    if box_key is not None and bytes(private.public_key) != box_key:
        raise Rejected(Reason.BAD_SHARES, "the share does not hold the published box key")
    return private


# -- reports --


def report_message(
    ring: bytes, one_time_key: bytes, group: bytes, box_key: bytes, receipt: bytes, sealed: bytes
) -> bytes:
    """What a report's ring signature signs: everything in the report but
    the signature, and the one-time key that signs the envelope, so that
    nobody can wrap a captured signature in an envelope or body of their
    own, or point it at another group or receipt."""
    content = {
        "ring": ring,
        "author": one_time_key,
        "group": group,
        "box_key": box_key,
        "receipt": receipt,
        "sealed": sealed,
    }
    return REPORT_DOMAIN + hashlib.sha256(cbor.encode(content)).digest()


def seal_report(
    ring_event: SignedEvent,
    reporter: SigningKey,
    one_time_key: SigningKey,
    group: bytes,
    box_key: bytes,
    receipt_key: SigningKey,
    message: Mapping[str, Any],
    nonce_seed: bytes,
) -> dict[str, Any]:
    """The body of a report by ``reporter`` (a member of ``ring_event``'s
    ring) to oversight group ``group``, sealed to ``box_key``.

    The caller draws ``one_time_key`` (the envelope's author),
    ``receipt_key`` and ``nonce_seed`` afresh for this report, signs the
    envelope with ``one_time_key``, refs ``ring_event``, and keeps
    ``Receipt(event id, bytes(receipt_key))``. LocalError if the reporter
    is not in the ring, or for a key that would name the reporter: the
    one-time or receipt key equal to a ring member's key, or to each
    other."""
    if ring_event.kind != "report.ring":
        raise LocalError(f"a report is signed with a report.ring, not a {ring_event.kind}")
    one_time = bytes(one_time_key.verify_key)
    receipt = bytes(receipt_key.verify_key)
    ring = PreparedRing(ring_event.event.body["keys"], receipt)
    if one_time == receipt or ring.index(one_time) is not None or ring.index(receipt) is not None:
        raise LocalError("the one-time and receipt keys must be fresh, and not a member's key")
    sealed = seal_message(message, box_key)
    signed = report_message(ring_event.id, one_time, group, box_key, receipt, sealed)
    return {
        "sig": sign(ring, RingSigner.from_key(reporter), signed, nonce_seed),
        "ring": ring_event.id,
        "sealed": sealed,
        "box_key": box_key,
        "receipt": receipt,
    }


def prepare_report_ring(ring_event: SignedEvent, report: SignedEvent) -> PreparedRing:
    """The ring of a ``report.ring`` event, scoped to ``report``'s receipt.

    One per report: the scope is the receipt, fresh for every report, so
    unlike a ballot's ring it cannot be shared. Preparing validates every
    key again (about a tenth of verifying, for any ring size).
    Rejected(bad_ring) for keys that are no ring."""
    return PreparedRing(ring_event.event.body["keys"], report.event.body["receipt"])


def check_report(
    report: SignedEvent, ring_event: SignedEvent | None, ring: PreparedRing | None
) -> None:
    """A report's standing: Rejected unless it is ring-signed over the ring
    event it names.

    ``ring_event`` is the held event whose id the body's ``ring`` gives
    (None if none), ``ring`` its ``prepare_report_ring`` (None when there
    is no ``report.ring``). Checked when the report is stored, from the
    ring event's content alone, so the outcome is the same on every node
    and the costly verification runs once, never in the fold."""
    body = report.event.body
    if not nacl.bindings.crypto_core_ed25519_is_valid_point(body["receipt"]):
        raise Rejected(Reason.BAD_BODY, "the receipt is not a valid Ed25519 public key")
    if (
        ring is None
        or ring_event is None
        or ring_event.kind != "report.ring"
        or ring_event.id != body["ring"]
        or body["ring"] not in report.refs
    ):
        raise Rejected(Reason.WRONG_RING, "a report refs the report.ring it names")
    if ring.scope != body["receipt"]:
        raise LocalError("the ring was prepared for another report")
    message = report_message(
        body["ring"], report.author, report.group, body["box_key"], body["receipt"], body["sealed"]
    )
    verify(ring, message, body["sig"])


def check_followup(event: SignedEvent, report_event: SignedEvent | None) -> None:
    """A follow-up's standing: Rejected(no_standing) unless it refs the
    ``report`` it names and is signed by that report's receipt key.

    ``report_event`` is the held event whose id the body's ``report`` gives
    (None if none). Like any standing, read from content alone: only the
    reporter, who holds the receipt, can add to a report."""
    body = event.event.body
    if (
        report_event is None
        or report_event.kind != "report"
        or report_event.id != body["report"]
        or body["report"] not in event.refs
        or report_event.event.body["receipt"] != event.author
    ):
        raise Rejected(
            Reason.NO_STANDING, "a follow-up refs its report and is signed by the report's receipt"
        )


def open_report(body: Mapping[str, Any], box_private_key: PrivateKey) -> dict[str, Any]:
    """What a report (or a follow-up: the same fields) says, for a member of
    the oversight group holding the private half of its ``box_key``.
    LocalError if the key is another; Rejected(bad_body) if the reporter
    sealed something that is not a message."""
    if bytes(box_private_key.public_key) != body["box_key"]:
        raise LocalError("sealed to another box key")
    return open_sealed(body["sealed"], box_private_key)


def reply_body(
    report_id: bytes, status: str, receipt: bytes, message: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """The body of a ``report.reply`` setting ``status``, with ``message``
    sealed to the report's ``receipt`` key if given: only the reporter, who
    holds the receipt, can read it."""
    body: dict[str, Any] = {"report": report_id, "status": status}
    if message is not None:
        body["sealed"] = seal_message(message, box_key_for(receipt))
    return body


# -- the reporter's receipt --


@dataclass(frozen=True, slots=True)
class Receipt:
    """What a reporter keeps: the report's id and the receipt key's seed. It
    reads the replies and signs follow-ups; whoever holds it can do both,
    so it is shown once, never logged, never sent."""

    report_id: bytes
    secret: bytes = field(repr=False)

    def __post_init__(self) -> None:
        for value, size in ((self.report_id, ID_SIZE), (self.secret, SEED_SIZE)):
            if type(value) is not bytes or len(value) != size:
                raise LocalError("a receipt is a 32-byte report id and a 32-byte seed")

    @property
    def key(self) -> SigningKey:
        """The receipt key: signs follow-ups, opens replies."""
        return SigningKey(self.secret)


def receipt_to_text(receipt: Receipt) -> str:
    """``ayllu-receipt-1:<report id hex>:<seed hex>``: one line to copy, write
    down or print."""
    return f"{RECEIPT_PREFIX}:{receipt.report_id.hex()}:{receipt.secret.hex()}"


def receipt_from_text(text: str) -> Receipt:
    """The receipt ``receipt_to_text`` wrote; surrounding white space and
    upper-case hex (a hand copy) are accepted. LocalError otherwise."""
    found = _RECEIPT_TEXT.fullmatch(text.strip().lower())
    if found is None:
        raise LocalError(f"not a receipt: expected '{RECEIPT_PREFIX}:<64 hex>:<64 hex>'")
    return Receipt(bytes.fromhex(found[1]), bytes.fromhex(found[2]))


def follow_up(receipt: Receipt, box_key: bytes, message: Mapping[str, Any]) -> dict[str, Any]:
    """The body of a ``report.followup`` adding ``message`` to the report,
    sealed to ``box_key`` (the oversight group's current one). The caller
    signs the envelope with ``receipt.key`` and refs the report."""
    return {
        "report": receipt.report_id,
        "sealed": seal_message(message, box_key),
        "box_key": box_key,
    }


def read_replies(reports: Reports, receipt: Receipt) -> list[dict[str, Any]]:
    """The replies to the receipt's report, in key order, each with its
    ``message`` opened (None if it has none). A reply whose box does not
    open to a message has ``message`` None and an ``error``: one bad reply
    does not hide the others. Rejected(unknown_report) if the state does not
    hold the report; LocalError if the receipt's key is not the report's."""
    report = reports.report(receipt.report_id)
    key = receipt.key
    if bytes(key.verify_key) != report.receipt:
        raise LocalError("this receipt's key is not the report's")
    private = key.to_curve25519_private_key()
    return [_read_reply(reply, private) for reply in report.replies]


def _read_reply(reply: Reply, private: PrivateKey) -> dict[str, Any]:
    message: dict[str, Any] | None = None
    error: str | None = None
    if reply.sealed is not None:
        try:
            message = open_sealed(reply.sealed, private)
        except (LocalError, Rejected) as exc:
            error = str(exc)
    return {
        "id": reply.id.hex(),
        "author": reply.author.hex(),
        "status": reply.status,
        "ts": reply.ts,
        "message": message,
        "error": error,
    }


# -- the state --


@dataclass(frozen=True, slots=True)
class ReportRing:
    """An applied ``report.ring``: a group's certified members at ``ts``."""

    id: bytes
    group: bytes
    ts: int
    keys: frozenset[bytes]


@dataclass(frozen=True, slots=True)
class Reply:
    """An applied reply: who answered, the status it set, and its message
    for the reporter, still sealed (only the receipt opens it)."""

    id: bytes
    author: bytes
    ts: int
    status: str
    sealed: bytes | None

    def describe(self) -> dict[str, Any]:
        return {
            "id": self.id.hex(),
            "author": self.author.hex(),
            "status": self.status,
            "ts": self.ts,
            "sealed": None if self.sealed is None else self.sealed.hex(),
        }


@dataclass(frozen=True, slots=True)
class Followup:
    """An applied follow-up; its message stays in its event, for O."""

    id: bytes
    ts: int
    box_key: bytes
    size: int

    def describe(self) -> dict[str, Any]:
        return {
            "id": self.id.hex(),
            "ts": self.ts,
            "box_key": self.box_key.hex(),
            "size": self.size,
        }


@dataclass(slots=True)
class Report:
    """A report as the state holds it: what its event shows, never its
    author. Mutable only by the fold."""

    id: bytes
    group: bytes
    ring: ReportRing
    ts: int
    box_key: bytes
    receipt: bytes
    #: The bucket of its padded message.
    size: int
    status: str = "received"
    replies: list[Reply] = field(default_factory=list)
    followups: list[Followup] = field(default_factory=list)


def _bucket(sealed: bytes) -> int:
    return len(sealed) - SEAL_OVERHEAD


class Reports:
    """Every oversight group's box keys, the report rings, and the reports
    with their replies and follow-ups."""

    def __init__(self, registry: Registry, groups: Groups) -> None:
        self.registry = registry
        self.groups = groups
        self.rings: dict[bytes, ReportRing] = {}
        self.reports: dict[bytes, Report] = {}
        #: group -> its box keys, each once, in order of last publication.
        self._box_keys: dict[bytes, list[bytes]] = {}
        #: (group, box key) -> member -> sealed share (every share published).
        self._shares: dict[tuple[bytes, bytes], dict[bytes, bytes]] = {}

    # -- queries --

    def certified_members(self, group_id: bytes, at_ms: int) -> tuple[bytes, ...]:
        """The group's subtree's members certified at ``at_ms``, sorted: who
        gets a share of a box key, and who a ring holds."""
        members = self.groups.members(group_id)
        return tuple(sorted(m for m in members if self.registry.is_certified(m, at_ms)))

    def box_keys(self, group_id: bytes) -> list[bytes]:
        """The box keys the group published, the current one last: a report
        or follow-up may be sealed to any of them, and SHOULD be sealed to
        the current one (the others may be held by former members)."""
        return list(self._box_keys.get(group_id, ()))

    def share(self, group_id: bytes, box_key: bytes, member: bytes) -> bytes | None:
        """The member's sealed share of the group's ``box_key``, if it got one."""
        return self._shares.get((group_id, box_key), {}).get(member)

    def ring_for(self, member: bytes, at_ms: int) -> bytes | None:
        """The ring a reporter should sign with at ``at_ms``: of the rings
        frozen in the last FRESH_RING_MS that hold ``member``, the largest
        (the most people it could be), then the newest. None if none."""
        fresh = [
            ring
            for ring in self.rings.values()
            if at_ms - FRESH_RING_MS <= ring.ts <= at_ms and member in ring.keys
        ]
        if not fresh:
            return None
        return max(fresh, key=lambda ring: (len(ring.keys), ring.ts, ring.id)).id

    def report(self, report_id: bytes) -> Report:
        found = self.reports.get(report_id)
        if found is None:
            raise Rejected(Reason.UNKNOWN_REPORT, f"no report {report_id.hex()}")
        return found

    def describe(self, report_id: bytes) -> dict[str, Any]:
        """A report as JSON-ready data, replies and follow-ups in key order."""
        report = self.report(report_id)
        return {
            "id": report.id.hex(),
            "group": report.group.hex(),
            "ring": report.ring.id.hex(),
            "ring_group": report.ring.group.hex(),
            "ring_size": len(report.ring.keys),
            "ts": report.ts,
            "status": report.status,
            "box_key": report.box_key.hex(),
            "receipt": report.receipt.hex(),
            "size": report.size,
            "replies": [reply.describe() for reply in report.replies],
            "followups": [followup.describe() for followup in report.followups],
        }

    def describe_all(self) -> list[dict[str, Any]]:
        """Every report, sorted by id: the reports' part of a state snapshot."""
        return [self.describe(report_id) for report_id in sorted(self.reports)]

    def describe_box_keys(self) -> dict[str, list[str]]:
        """Each oversight group's box keys (current last), by group id."""
        return {
            group.hex(): [key.hex() for key in keys]
            for group, keys in sorted(self._box_keys.items())
        }

    # -- the fold --

    def apply_box_key(self, event: SignedEvent) -> None:
        body = event.event.body
        group = self.groups.group(event.group).id
        self.groups.require_acting(group, event)
        members = tuple(share["member"] for share in body["shares"])
        eligible = self.certified_members(group, event.ts)
        if members != eligible:
            raise Rejected(
                Reason.BAD_SHARES,
                f"{len(set(members) - set(eligible))} shares for non-members, "
                f"{len(set(eligible) - set(members))} members without a share",
            )
        box_key = body["box_key"]
        keys = self._box_keys.setdefault(group, [])
        if box_key in keys:
            keys.remove(box_key)  # published again: current again
        keys.append(box_key)
        shares = self._shares.setdefault((group, box_key), {})
        shares.update((share["member"], share["sealed"]) for share in body["shares"])

    def apply_ring(self, event: SignedEvent) -> None:
        group = self.groups.group(event.group).id
        self.registry.require_certified(event.author, event.ts)
        if not (
            self.groups.in_subtree(event.author, group)
            or self.groups.acts_for(group, event.author, event.ts)
        ):
            raise Rejected(Reason.NOT_AUTHORIZED, "a ring is frozen by a member of the group")
        keys = tuple(event.event.body["keys"])
        eligible = self.certified_members(group, event.ts)
        if keys != eligible:
            raise Rejected(
                Reason.WRONG_RING,
                f"{len(set(keys) - set(eligible))} keys not eligible, "
                f"{len(set(eligible) - set(keys))} eligible members left out",
            )
        self.rings[event.id] = ReportRing(event.id, group, event.ts, frozenset(keys))

    def apply_report(self, event: SignedEvent) -> None:
        body = event.event.body
        group = self.groups.group(event.group).id
        ring = self.rings.get(body["ring"])
        if ring is None:
            # Standing checked the signature against the ring event's keys;
            # only an applied ring is its group's certified members.
            raise Rejected(Reason.WRONG_RING, "not a report.ring the fold applied")
        self._require_box_key(group, body["box_key"])
        self.reports[event.id] = Report(
            id=event.id,
            group=group,
            ring=ring,
            ts=event.ts,
            box_key=body["box_key"],
            receipt=body["receipt"],
            size=_bucket(body["sealed"]),
        )

    def apply_reply(self, event: SignedEvent) -> None:
        body = event.event.body
        report = self._report_in(body["report"], event.group)
        self.registry.require_certified(event.author, event.ts)
        if not (
            self.groups.in_subtree(event.author, report.group)
            or self.groups.acts_for(report.group, event.author, event.ts)
        ):
            raise Rejected(Reason.NOT_AUTHORIZED, "replies come from the oversight group")
        sealed = body.get("sealed")
        report.status = body["status"]
        report.replies.append(Reply(event.id, event.author, event.ts, body["status"], sealed))

    def apply_followup(self, event: SignedEvent) -> None:
        body = event.event.body
        report = self._report_in(body["report"], event.group)
        if event.author != report.receipt:
            # Standing already requires it; the fold does not rely on that.
            raise Rejected(Reason.NOT_AUTHORIZED, "a follow-up is signed by the report's receipt")
        self._require_box_key(report.group, body["box_key"])
        report.followups.append(
            Followup(event.id, event.ts, body["box_key"], _bucket(body["sealed"]))
        )

    def _report_in(self, report_id: bytes, group: bytes) -> Report:
        """The report, if it is one of ``group``'s: seen from another group,
        a report is no report."""
        report = self.reports.get(report_id)
        if report is None or report.group != group:
            raise Rejected(Reason.UNKNOWN_REPORT, f"no report {report_id.hex()} in {group.hex()}")
        return report

    def _require_box_key(self, group: bytes, box_key: bytes) -> None:
        if box_key not in self._box_keys.get(group, ()):
            raise Rejected(Reason.UNKNOWN_BOX_KEY, f"{group.hex()} never published {box_key.hex()}")
