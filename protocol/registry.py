"""Registrars and certificates: who is a real, unique member (Codes 1 and 2).

Theory of operation
-------------------
A registrar checks a person's identity (Code 1) in person and keeps it on
its own node; the network only ever sees a *certificate*: a registrar's
signed statement "this Ed25519 key (Code 2) belongs to one real person,
whose uniqueness tag is T, until time E". The tag is a keyed hash of the
normalized national ID (protocol/uniqueness.py) under a key all registrars
share, so any registrar computes the same tag for the same person, and a
second certificate with a tag already in use is refused whoever issues it.

Certificates end in three ways: they expire; a registrar revokes them
(``cert.revoke``: a stolen key, a fraud); or a registrar replaces them
(``cert.replace``: a lost key, a renewal). A replacement names the old
certificate and carries the same tag, which only a registrar that has seen
the person's ID again can compute; it revokes the old key and the person's
place in their group passes to the new key (protocol/groups.py).

The registrar set starts in the genesis document and changes only by a
``registrar.change`` event that carries the approvals (Ed25519 signatures
over the change) of at least a quorum of the current registrars. Each change
names the epoch it applies to (the number of changes applied before it), so
of two concurrent changes only the first in the fold's order applies, and an
approval can never be replayed onto a later registrar set.

This module is a part of the state fold (protocol/state.py): ``apply_*``
methods run in (ts, id) order and either change the state or raise Rejected
without changing anything.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from nacl.signing import SigningKey

from protocol import cbor
from protocol.errors import Reason, Rejected
from protocol.event import SignedEvent, signature_holds
from protocol.genesis import Genesis

#: Prepended to the hash of a registrar change to form what approvers sign.
APPROVAL_DOMAIN = b"ayllu/registrars/v1\x00"


def approval_message(
    net: bytes, add: Sequence[bytes], remove: Sequence[bytes], quorum: int, epoch: int
) -> bytes:
    """What each approving registrar signs: the change and the network it is for."""
    change = {
        "add": sorted(add),
        "net": net,
        "epoch": epoch,
        "quorum": quorum,
        "remove": sorted(remove),
    }
    return APPROVAL_DOMAIN + hashlib.sha256(cbor.encode(change)).digest()


def approve(
    key: SigningKey,
    net: bytes,
    add: Sequence[bytes],
    remove: Sequence[bytes],
    quorum: int,
    epoch: int,
) -> dict[str, bytes]:
    """One registrar's approval of a change, as the body's ``approvals`` holds it."""
    message = approval_message(net, add, remove, quorum, epoch)
    return {"key": bytes(key.verify_key), "sig": key.sign(message).signature}


@dataclass(slots=True)
class Certificate:
    """A certificate as the state holds it. Mutable only by the fold."""

    id: bytes
    member: bytes
    tag: bytes
    registrar: bytes
    issued: int
    expires: int
    #: When its key was revoked (by cert.revoke or a replacement to a new key).
    revoked: int | None = None
    #: The certificate that replaced this one, if any.
    replaced_by: bytes | None = None

    def describe(self, at_ms: int) -> dict[str, Any]:
        """JSON-ready data (bytes in hex), for the CLI and API."""
        return {
            "id": self.id.hex(),
            "member": self.member.hex(),
            "tag": self.tag.hex(),
            "registrar": self.registrar.hex(),
            "issued_ms": self.issued,
            "expires_ms": self.expires,
            "status": self.status(at_ms),
            "replaced_by": None if self.replaced_by is None else self.replaced_by.hex(),
        }

    def status(self, at_ms: int) -> str:
        if self.revoked is not None and self.revoked <= at_ms:
            return "revoked"
        if self.replaced_by is not None:
            return "replaced"
        if at_ms >= self.expires:
            return "expired"
        return "valid"


class Registry:
    """The registrar set and every certificate, as of the events folded so far."""

    def __init__(self, genesis: Genesis) -> None:
        self.network_id = genesis.network_id
        self.registrars: set[bytes] = set(genesis.registrars)
        self.quorum = genesis.quorum
        self.epoch = 0
        self.certificates: dict[bytes, Certificate] = {}
        #: member key -> its newest certificate (a renewal keeps the key).
        self.by_member: dict[bytes, Certificate] = {}
        #: uniqueness tag -> the person's current certificate.
        self.by_tag: dict[bytes, Certificate] = {}

    # -- queries --

    def certificate_of(self, member: bytes) -> Certificate | None:
        return self.by_member.get(member)

    def require_certified(self, member: bytes, at_ms: int) -> Certificate:
        """The member's valid certificate at ``at_ms``, or Rejected saying why not."""
        cert = self.by_member.get(member)
        if cert is None:
            raise Rejected(Reason.NOT_CERTIFIED, f"key {member.hex()} has no certificate")
        status = cert.status(at_ms)
        if status == "revoked":
            raise Rejected(Reason.KEY_REVOKED, f"key {member.hex()} was revoked")
        if status == "expired":
            raise Rejected(Reason.CERTIFICATE_EXPIRED, f"key {member.hex()}'s certificate expired")
        return cert

    def is_certified(self, member: bytes, at_ms: int) -> bool:
        try:
            self.require_certified(member, at_ms)
        except Rejected:
            return False
        return True

    def check_ring(self, keys: Iterable[bytes], at_ms: int) -> None:
        """Raise Rejected(uncertified_key) unless every key is certified at ``at_ms``.

        A ring (specs/ring.md) with an uncertified key would let a stranger's
        key, or one a registrar revoked, cast a vote nobody can trace.
        """
        for key in keys:
            try:
                self.require_certified(key, at_ms)
            except Rejected as exc:
                raise Rejected(Reason.UNCERTIFIED_KEY, exc.detail) from None

    # -- the fold --

    def _require_registrar(self, event: SignedEvent) -> None:
        if event.author not in self.registrars:
            raise Rejected(Reason.NOT_REGISTRAR, f"{event.author.hex()} is not a registrar")

    def apply_registrar_change(self, event: SignedEvent) -> None:
        body = event.event.body
        add, remove = list(body["add"]), list(body["remove"])
        quorum, epoch = body["quorum"], body["epoch"]
        self._require_registrar(event)
        if epoch != self.epoch:
            raise Rejected(Reason.STALE_EPOCH, f"epoch {epoch}, the registrars are at {self.epoch}")
        new_set = self._changed_set(add, remove, quorum)
        message = approval_message(self.network_id, add, remove, quorum, epoch)
        approvers: list[bytes] = []
        for approval in body["approvals"]:
            key, sig = approval["key"], approval["sig"]
            if approvers and key <= approvers[-1]:
                raise Rejected(Reason.BAD_APPROVALS, "approvals must be sorted by key, no repeats")
            if key not in self.registrars:
                raise Rejected(Reason.BAD_APPROVALS, f"{key.hex()} is not a registrar")
            if not signature_holds(key, message, sig):
                raise Rejected(Reason.BAD_APPROVALS, f"the approval of {key.hex()} does not verify")
            approvers.append(key)
        if event.author not in approvers:
            raise Rejected(Reason.BAD_APPROVALS, "the author must approve its own change")
        if len(approvers) < self.quorum:
            raise Rejected(
                Reason.BAD_APPROVALS, f"{len(approvers)} approvals, the quorum is {self.quorum}"
            )
        self.registrars = new_set
        self.quorum = quorum
        self.epoch += 1

    def _changed_set(self, add: list[bytes], remove: list[bytes], quorum: int) -> set[bytes]:
        for key in add:
            if key in self.registrars:
                raise Rejected(Reason.BAD_REGISTRAR_CHANGE, f"{key.hex()} is already a registrar")
        for key in remove:
            if key not in self.registrars:
                raise Rejected(Reason.BAD_REGISTRAR_CHANGE, f"{key.hex()} is not a registrar")
        new_set = (self.registrars - set(remove)) | set(add)
        if not new_set:
            raise Rejected(Reason.BAD_REGISTRAR_CHANGE, "the change would leave no registrar")
        if quorum > len(new_set):
            raise Rejected(
                Reason.BAD_REGISTRAR_CHANGE,
                f"quorum {quorum} exceeds the {len(new_set)} registrars after the change",
            )
        return new_set

    def apply_issue(self, event: SignedEvent) -> None:
        body = event.event.body
        self._require_registrar(event)
        self._check_expiry(event, body["expires"])
        self._check_new_key(body["member"])
        holder = self.by_tag.get(body["tag"])
        if holder is not None:
            raise Rejected(
                Reason.DUPLICATE_IDENTITY,
                f"this person already holds certificate {holder.id.hex()}",
            )
        self._add(event, body["member"], body["tag"], body["expires"])

    def apply_replace(self, event: SignedEvent) -> Certificate:
        """Replace a certificate; returns the old one (the caller moves roles)."""
        body = event.event.body
        self._require_registrar(event)
        old = self.certificates.get(body["old"])
        if old is None:
            raise Rejected(Reason.UNKNOWN_CERTIFICATE, f"no certificate {body['old'].hex()}")
        if old.replaced_by is not None:
            raise Rejected(
                Reason.UNKNOWN_CERTIFICATE,
                f"certificate {old.id.hex()} was already replaced by {old.replaced_by.hex()}",
            )
        if body["tag"] != old.tag:
            raise Rejected(Reason.TAG_MISMATCH, "a replacement carries the old certificate's tag")
        self._check_expiry(event, body["expires"])
        member = body["member"]
        if member != old.member:
            self._check_new_key(member)
        old.replaced_by = event.id
        if member != old.member and old.revoked is None:
            old.revoked = event.ts
        self._add(event, member, old.tag, body["expires"])
        return old

    def apply_revoke(self, event: SignedEvent) -> None:
        body = event.event.body
        self._require_registrar(event)
        cert = self.certificates.get(body["cert"])
        if cert is None:
            raise Rejected(Reason.UNKNOWN_CERTIFICATE, f"no certificate {body['cert'].hex()}")
        if cert.revoked is not None:
            raise Rejected(Reason.KEY_REVOKED, f"certificate {cert.id.hex()} is already revoked")
        cert.revoked = event.ts

    def _check_expiry(self, event: SignedEvent, expires: int) -> None:
        if expires <= event.ts:
            raise Rejected(Reason.CERTIFICATE_EXPIRED, "it expires before it is issued")

    def _check_new_key(self, member: bytes) -> None:
        """A key is certified once: a revoked key stays revoked, and a key
        already certified is renewed by a replacement, not a second issue."""
        existing = self.by_member.get(member)
        if existing is None:
            return
        if existing.revoked is not None:
            raise Rejected(Reason.KEY_REVOKED, f"key {member.hex()} was revoked")
        raise Rejected(
            Reason.ALREADY_CERTIFIED, f"key {member.hex()} holds certificate {existing.id.hex()}"
        )

    def _add(self, event: SignedEvent, member: bytes, tag: bytes, expires: int) -> None:
        cert = Certificate(
            id=event.id,
            member=member,
            tag=tag,
            registrar=event.author,
            issued=event.ts,
            expires=expires,
        )
        self.certificates[cert.id] = cert
        self.by_member[member] = cert
        self.by_tag[tag] = cert
