"""Governance acts of the node's own users: signed, previewed, then ingested.

Theory of operation
-------------------
A user's act (found a group, apply, admit, attest, certify a key, ...)
becomes a signed governance event by one path, ``publish``:

1. **Build and sign.** The event names the node's network, the signer as
   author, and a timestamp from ``next_ts``: now, or one millisecond after
   the newest event the store holds if that is not older (a peer's clock a
   little ahead, or two acts in the same millisecond). The act then sorts
   after everything the user saw, in the fold's key order (ts, id), so it
   means what it meant when it was made, and the preview below is cheap.
2. **Refs.** They make the causal history explicit, so that a node that
   receives the act holds it until what it depends on has arrived: a
   member's act refs the author's certificate (their *standing*), an act on
   a group refs the group's charter, an admission refs the application, a
   replacement or revocation the certificate, a registrar added by a
   change refs that change, and a registrar change refs the change that
   made the current epoch.
3. **Preview.** The event is folded into a copy of the state
   (``Governance.preview``). If the state would refuse it, ``Refused`` is
   raised with the state's reason code and *nothing is stored*: a refused
   event would be stored and spread by every node for nothing
   (specs/groups.md section 1).
4. **Ingest.** Otherwise its wire bytes go through ``node.ingest.ingest_raw``
   into the ``NetworkStore``: the very path, and the very checks, of an
   event from the network, so no act of a local user skips a rule.

``prepare`` (steps 1 to 3) and ``commit`` (step 4) are separate for the
registrar (node/registrar.py), who writes the vault between the two.

The lookups at the end spare users the ids they do not have: a group by a
prefix of its id, the application an admission answers, a certificate by
prefix.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from nacl.signing import SigningKey

from node.ingest import ingest_raw
from protocol.errors import LocalError, Reason, Rejected
from protocol.event import Event, SignedEvent, parse_event, sign, signature_holds
from protocol.groups import Application, Group
from protocol.registry import Certificate, approval_message, approve
from protocol.standing import REGISTRAR_KINDS
from protocol.state import NetworkState
from storage import MAX_LIMIT, IngestResult, IngestStatus, Key
from storage.state import NetworkStore

#: The shortest prefix of a group or certificate id the command line accepts.
MIN_PREFIX = 8
#: What names the root group (whose id is the network id) on the command line.
ROOT = "root"
_HEX = re.compile(r"[0-9a-f]+")


class Refused(Rejected):
    """The network's state refuses the act (specs/groups.md section 1).

    Raised by the preview, before anything is stored (``event_id`` None);
    or, rarely, by the ingest itself (the state changed between preview
    and commit): then the event *is* stored, without effect, and
    ``event_id`` names it.
    """

    def __init__(self, reason: Reason, detail: str = "", *, event_id: bytes | None = None) -> None:
        super().__init__(reason, detail)
        self.event_id = event_id


class BadReference(LocalError):
    """A group or certificate named on the command line is malformed or ambiguous."""


@dataclass(frozen=True, slots=True)
class Published:
    """An act that reached the store: the event and its ingest outcome
    (``accepted``, or ``duplicate`` if the very same event was there)."""

    event: SignedEvent
    result: IngestResult


# -- the one path --


async def next_ts(store: NetworkStore, now_ms: int) -> int:
    """The timestamp of a new act: ``now_ms``, or one past the newest event
    held if that is at or after ``now_ms``."""
    newest: int | None = None
    after: Key | None = None
    while page := await store.events.query(since_ts=now_ms, after=after, limit=MAX_LIMIT):
        newest, after = page[-1].ts, page[-1].key
    return now_ms if newest is None else newest + 1


async def prepare(
    store: NetworkStore,
    key: SigningKey,
    kind: str,
    body: Mapping[str, Any],
    *,
    ts: int,
    group: bytes | None = None,
    refs: Iterable[bytes] = (),
) -> SignedEvent:
    """Build and sign the event (adding the author's standing to ``refs``)
    and preview it: Refused, with nothing stored, if the state would refuse
    it; Rejected if the event itself is malformed (``bad_body``: a text too
    long, ...)."""
    network_id = store.genesis.network_id
    author = bytes(key.verify_key)
    all_refs = {*refs, *await standing_refs(store, author, kind)}
    try:
        event = sign(
            Event(
                kind=kind,
                group=network_id if group is None else group,
                author=author,
                net=network_id,
                ts=ts,
                body=dict(body),
                refs=tuple(sorted(all_refs)),
            ),
            key,
        )
    except LocalError as exc:
        cause = exc.__cause__
        if isinstance(cause, Rejected):
            raise Rejected(cause.reason, cause.detail) from None
        raise
    refusal = store.governance.preview(event)
    if refusal is not None:
        raise Refused(refusal.reason, refusal.detail)
    return event


async def commit(store: NetworkStore, event: SignedEvent, now_ms: int) -> Published:
    """Ingest a prepared event as the network's events are ingested.

    Rejected if the ingest rejects it (not stored); Refused with its id if
    the state refused it after all (stored, without effect).
    """
    [result] = await ingest_raw(store, [event.raw], now_ms, store.genesis.network_id)
    if result.status in (IngestStatus.REJECTED, IngestStatus.REFUSED):
        assert result.reason is not None
        if result.status is IngestStatus.REFUSED:
            raise Refused(result.reason, result.detail, event_id=event.id)
        raise Rejected(result.reason, result.detail)
    return Published(event, result)


async def publish(
    store: NetworkStore,
    key: SigningKey,
    kind: str,
    body: Mapping[str, Any],
    *,
    now_ms: int,
    ts: int | None = None,
    group: bytes | None = None,
    refs: Iterable[bytes] = (),
) -> Published:
    """``prepare`` then ``commit``: the one way a user's act is stored."""
    if ts is None:
        ts = await next_ts(store, now_ms)
    event = await prepare(store, key, kind, body, ts=ts, group=group, refs=refs)
    return await commit(store, event, now_ms)


async def standing_refs(store: NetworkStore, author: bytes, kind: str) -> list[bytes]:
    """What shows the author may write ``kind``: for a member's act, the
    author's certificate; for a registrar's act by a registrar that is not
    one of the genesis document's, the change that added it."""
    if kind in REGISTRAR_KINDS:
        if author in store.genesis.registrars:
            return []
        adding = [c for c in await registrar_changes(store) if author in c.event.body["add"]]
        return [adding[-1].id] if adding else []
    cert = store.state.registry.certificate_of(author)
    return [] if cert is None else [cert.id]


async def registrar_changes(store: NetworkStore) -> list[SignedEvent]:
    """The registrar changes the state applied, in key order."""
    found: list[SignedEvent] = []
    after: Key | None = None
    while page := await store.events.query(kind="registrar.change", after=after, limit=MAX_LIMIT):
        found.extend(parse_event(row.raw) for row in page)
        after = page[-1].key
    return [event for event in found if store.governance.refusal(event.id) is None]


def _charter_refs(state: NetworkState, *groups: bytes) -> list[bytes]:
    """The charters of ``groups`` (a group's id is its charter's; the root has none)."""
    return [group for group in groups if group != state.groups.root_id]


def _group(state: NetworkState, group_id: bytes) -> Group:
    found = state.groups.groups.get(group_id)
    if found is None:
        raise Refused(Reason.UNKNOWN_GROUP, f"no group {group_id.hex()}")
    return found


# -- groups --


async def found_group(
    store: NetworkStore,
    key: SigningKey,
    *,
    name: str,
    level: int,
    langs: Iterable[str],
    rules: Mapping[str, int],
    now_ms: int,
) -> Published:
    """``group.charter``: the new group's id is the event's id."""
    body = {"name": name, "langs": sorted(set(langs)), "level": level, "rules": dict(rules)}
    return await publish(store, key, "group.charter", body, now_ms=now_ms)


async def apply_to_parent(
    store: NetworkStore, key: SigningKey, child: bytes, parent: bytes, *, now_ms: int
) -> Published:
    """``group.apply``: whoever acts for ``child`` asks to place it under ``parent``."""
    refs = _charter_refs(store.state, child, parent)
    return await publish(
        store, key, "group.apply", {"parent": parent}, group=child, refs=refs, now_ms=now_ms
    )


async def admit_child(
    store: NetworkStore, key: SigningKey, parent: bytes, child: bytes, *, now_ms: int
) -> Published:
    """``group.admit`` of ``child``'s newest application to ``parent``."""
    application = group_application(store.state, parent, child)
    return await publish(
        store,
        key,
        "group.admit",
        {"child": child, "application": application},
        group=parent,
        refs=[application],
        now_ms=now_ms,
    )


async def leave_parent(
    store: NetworkStore, key: SigningKey, child: bytes, parent: bytes, *, now_ms: int
) -> Published:
    """``group.leave``: ends ``child``'s placement under ``parent``."""
    refs = _charter_refs(store.state, child, parent)
    return await publish(
        store, key, "group.leave", {"parent": parent}, group=child, refs=refs, now_ms=now_ms
    )


# -- members --


async def apply_for_membership(
    store: NetworkStore, key: SigningKey, group: bytes, *, text: str | None = None, now_ms: int
) -> Published:
    body = {} if text is None else {"text": text}
    refs = _charter_refs(store.state, group)
    return await publish(store, key, "member.apply", body, group=group, refs=refs, now_ms=now_ms)


async def admit_member(
    store: NetworkStore, key: SigningKey, group: bytes, member: bytes, *, now_ms: int
) -> Published:
    """``member.admit`` of ``member``'s newest application to ``group``."""
    application = member_application(store.state, group, member)
    return await publish(
        store,
        key,
        "member.admit",
        {"member": member, "application": application},
        group=group,
        refs=[application],
        now_ms=now_ms,
    )


async def leave_group(
    store: NetworkStore, key: SigningKey, group: bytes, *, now_ms: int
) -> Published:
    refs = _charter_refs(store.state, group)
    return await publish(store, key, "member.leave", {}, group=group, refs=refs, now_ms=now_ms)


async def attest(
    store: NetworkStore, key: SigningKey, group: bytes, member: bytes, *, text: str, now_ms: int
) -> Published:
    """``merit.attest`` for the merit period of the act's timestamp."""
    ts = await next_ts(store, now_ms)
    body = {"text": text, "member": member, "period": _group(store.state, group).period_at(ts)}
    refs = _charter_refs(store.state, group)
    return await publish(
        store, key, "merit.attest", body, group=group, refs=refs, ts=ts, now_ms=now_ms
    )


async def endorse(
    store: NetworkStore,
    key: SigningKey,
    group: bytes,
    candidate: bytes,
    *,
    next_term: bool = False,
    now_ms: int,
) -> Published:
    """``coordinator.endorse`` for the term of the act's timestamp (or the next)."""
    ts = await next_ts(store, now_ms)
    term = _group(store.state, group).term_at(ts) + (1 if next_term else 0)
    body = {"term": term, "candidate": candidate}
    refs = _charter_refs(store.state, group)
    return await publish(
        store, key, "coordinator.endorse", body, group=group, refs=refs, ts=ts, now_ms=now_ms
    )


# -- registrars and certificates --


async def prepare_issue(
    store: NetworkStore, key: SigningKey, *, member: bytes, tag: bytes, expires_ms: int, ts: int
) -> SignedEvent:
    """A previewed ``cert.issue``, not yet stored."""
    body = {"tag": tag, "member": member, "expires": expires_ms}
    return await prepare(store, key, "cert.issue", body, ts=ts)


async def prepare_replace(
    store: NetworkStore,
    key: SigningKey,
    *,
    old: Certificate,
    member: bytes,
    expires_ms: int,
    ts: int,
) -> SignedEvent:
    """A previewed ``cert.replace`` of ``old`` (same tag), not yet stored."""
    body = {"old": old.id, "tag": old.tag, "member": member, "expires": expires_ms}
    return await prepare(store, key, "cert.replace", body, ts=ts, refs=[old.id])


async def revoke_certificate(
    store: NetworkStore, key: SigningKey, cert: bytes, *, why: str, now_ms: int
) -> Published:
    return await publish(
        store, key, "cert.revoke", {"why": why, "cert": cert}, refs=[cert], now_ms=now_ms
    )


def own_approval(
    store: NetworkStore,
    key: SigningKey,
    *,
    add: Sequence[bytes],
    remove: Sequence[bytes],
    quorum: int,
    epoch: int,
) -> dict[str, bytes]:
    """One registrar's approval of a change (protocol/registry.py)."""
    return approve(key, store.genesis.network_id, sorted(add), sorted(remove), quorum, epoch)


async def change_registrars(
    store: NetworkStore,
    key: SigningKey,
    *,
    add: Sequence[bytes],
    remove: Sequence[bytes],
    quorum: int,
    epoch: int,
    approvals: Iterable[Mapping[str, bytes]],
    now_ms: int,
) -> Published:
    """``registrar.change`` with the given approvals and the author's own.

    BadReference if an approval is not a signature of this very change
    (another quorum, epoch or network), naming its key; repeated approvals
    of one key count once.
    """
    add, remove = sorted(add), sorted(remove)
    message = approval_message(store.genesis.network_id, add, remove, quorum, epoch)
    by_key: dict[bytes, dict[str, bytes]] = {}
    for approval in approvals:
        approver, signature = approval["key"], approval["sig"]
        if not signature_holds(approver, message, signature):
            raise BadReference(
                f"the approval of {approver.hex()} is not for this change "
                f"(add, remove, quorum {quorum}, epoch {epoch}, this network)"
            )
        by_key[approver] = {"key": approver, "sig": signature}
    mine = own_approval(store, key, add=add, remove=remove, quorum=quorum, epoch=epoch)
    by_key[mine["key"]] = mine
    body = {
        "add": add,
        "epoch": epoch,
        "quorum": quorum,
        "remove": remove,
        "approvals": [by_key[approver] for approver in sorted(by_key)],
    }
    applied = await registrar_changes(store)
    refs = [applied[-1].id] if applied else []
    return await publish(store, key, "registrar.change", body, refs=refs, now_ms=now_ms)


# -- lookups --


def resolve_group(state: NetworkState, text: str) -> bytes:
    """The group whose id is, or starts with, the hex ``text`` (at least
    ``MIN_PREFIX`` digits), or the root group for ``root``;
    Refused(unknown_group) if none, BadReference if several."""
    if text.strip().lower() == ROOT:
        return state.groups.root_id
    return _resolve(text, state.groups.groups, "group", Reason.UNKNOWN_GROUP)


def resolve_certificate(state: NetworkState, text: str) -> bytes:
    """The certificate whose id is, or starts with, the hex ``text``."""
    return _resolve(text, state.registry.certificates, "certificate", Reason.UNKNOWN_CERTIFICATE)


def _resolve(text: str, ids: Iterable[bytes], what: str, unknown: Reason) -> bytes:
    prefix = text.strip().lower()
    if not _HEX.fullmatch(prefix) or len(prefix) > 64:
        raise BadReference(f"{text!r} is not a {what} id: give its hex digits")
    if len(prefix) < MIN_PREFIX:
        raise BadReference(f"give at least {MIN_PREFIX} hex digits of a {what} id")
    matches = sorted(i for i in ids if i.hex().startswith(prefix))
    if not matches:
        raise Refused(unknown, f"no {what} {prefix}")
    if len(matches) > 1:
        shown = ", ".join(m.hex()[:16] for m in matches[:5])
        raise BadReference(
            f"{prefix} is ambiguous: {len(matches)} {what}s start with it ({shown}); "
            "give more digits"
        )
    return matches[0]


def member_application(state: NetworkState, group: bytes, member: bytes) -> bytes:
    """The id of ``member``'s newest ``member.apply`` to ``group``;
    Refused(unknown_application) if they never applied."""
    wanted = Application(group, member)
    found = [aid for aid, app in state.groups.member_applications.items() if app == wanted]
    if not found:
        raise Refused(
            Reason.UNKNOWN_APPLICATION,
            f"{member.hex()} has not applied to join {group.hex()} (ayllu member apply)",
        )
    return found[-1]  # the fold records applications in key order


def group_application(state: NetworkState, parent: bytes, child: bytes) -> bytes:
    """The id of ``child``'s newest ``group.apply`` to ``parent``."""
    wanted = Application(parent, child)
    found = [aid for aid, app in state.groups.group_applications.items() if app == wanted]
    if not found:
        raise Refused(
            Reason.UNKNOWN_APPLICATION,
            f"group {child.hex()} has not applied to join {parent.hex()} (ayllu group apply)",
        )
    return found[-1]
