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

Proposals and ballots (specs/ballots.md) follow, built the same way, with
their own lookups (a proposal, translation, comment target or ballot by
prefix). One act is different: a ``vote`` is signed by a one-time key drawn
for it (``cast_vote``), refs only its counting group's ring, and carries
the member's ring signature, so that nothing in it names the voter.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import nacl.utils
from nacl.signing import SigningKey

from node.ingest import ingest_raw
from protocol.ballots import Ballot, prepare_ring, tally, vote_body
from protocol.errors import LocalError, Reason, Rejected
from protocol.event import Event, SignedEvent, parse_event, sign, signature_holds
from protocol.groups import Application, Group
from protocol.proposals import Amendment, Proposal, same_language
from protocol.registry import Certificate, approval_message, approve
from protocol.ring import NONCE_SEED_SIZE, POINT_SIZE, SEED_SIZE, RingSigner
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


async def name_nodes(
    store: NetworkStore, key: SigningKey, group: bytes, nodes: Iterable[bytes], *, now_ms: int
) -> Published:
    """``group.nodes``: whoever acts for ``group`` names the node keys that
    serve it, so that its neighbours know whom to link with."""
    refs = _charter_refs(store.state, group)
    body = {"nodes": sorted(set(nodes))}
    return await publish(store, key, "group.nodes", body, group=group, refs=refs, now_ms=now_ms)


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
    return resolve_id(text, state.groups.groups, "group", Reason.UNKNOWN_GROUP)


def resolve_certificate(state: NetworkState, text: str) -> bytes:
    """The certificate whose id is, or starts with, the hex ``text``."""
    return resolve_id(text, state.registry.certificates, "certificate", Reason.UNKNOWN_CERTIFICATE)


def resolve_id(text: str, ids: Iterable[bytes], what: str, unknown: Reason) -> bytes:
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


# -- proposals and deliberation (specs/ballots.md, Part I) --
#
# Every event about a proposal is written in the proposal's scope (its
# envelope group) and refs what it names, so that a node holds it until
# its target has arrived.


def _proposal(state: NetworkState, proposal_id: bytes) -> Proposal:
    found = state.proposals.proposals.get(proposal_id)
    if found is None:
        raise Refused(Reason.UNKNOWN_PROPOSAL, f"no proposal {proposal_id.hex()}")
    return found


def _original(state: NetworkState, target: bytes) -> Proposal | Amendment:
    """A proposal or an amendment: what a translation translates."""
    found = state.proposals.proposals.get(target) or state.proposals.amendments.get(target)
    if found is None:
        raise Refused(Reason.UNKNOWN_TARGET, f"no proposal or amendment {target.hex()}")
    return found


def target_scope(state: NetworkState, target: bytes) -> bytes:
    """The scope of a comment target: a proposal, an amendment, a
    translation, a comment or a ballot; Refused(unknown_target) otherwise."""
    proposals = state.proposals
    if target in proposals.proposals or target in proposals.amendments:
        return _original(state, target).scope
    comment = proposals.comments.get(target)
    if comment is not None:
        return comment.scope
    ballot = state.ballots.ballots.get(target)
    if ballot is not None:
        return ballot.scope
    try:
        return proposals.translation(target).scope
    except Rejected:
        raise Refused(Reason.UNKNOWN_TARGET, f"nothing to comment {target.hex()}") from None


async def propose(
    store: NetworkStore,
    key: SigningKey,
    scope: bytes,
    *,
    lang: str,
    title: str,
    text: str,
    now_ms: int,
) -> Published:
    """``proposal`` in ``scope``: the new proposal's id is the event's id."""
    body = {"lang": lang, "text": text, "title": title}
    refs = _charter_refs(store.state, scope)
    return await publish(store, key, "proposal", body, group=scope, refs=refs, now_ms=now_ms)


async def amend(
    store: NetworkStore,
    key: SigningKey,
    proposal: bytes,
    *,
    lang: str,
    title: str,
    text: str,
    now_ms: int,
) -> Published:
    """``proposal.amend`` of an open proposal, in its scope."""
    scope = _proposal(store.state, proposal).scope
    body = {"lang": lang, "text": text, "title": title, "proposal": proposal}
    return await publish(
        store, key, "proposal.amend", body, group=scope, refs=[proposal], now_ms=now_ms
    )


async def translate(
    store: NetworkStore,
    key: SigningKey,
    target: bytes,
    *,
    lang: str,
    title: str,
    text: str,
    now_ms: int,
) -> Published:
    """``proposal.translate`` of a proposal or an amendment into ``lang``."""
    scope = _original(store.state, target).scope
    body = {"lang": lang, "text": text, "title": title, "target": target}
    return await publish(
        store, key, "proposal.translate", body, group=scope, refs=[target], now_ms=now_ms
    )


async def confirm_translation(
    store: NetworkStore, key: SigningKey, translation: bytes, *, now_ms: int
) -> Published:
    """``translation.confirm``: the author vouches for someone else's translation."""
    scope = target_scope(store.state, translation)
    if translation not in store.state.proposals.translation_ids():
        raise Refused(Reason.UNKNOWN_TARGET, f"{translation.hex()} is not a translation")
    return await publish(
        store,
        key,
        "translation.confirm",
        {"translation": translation},
        group=scope,
        refs=[translation],
        now_ms=now_ms,
    )


async def comment(
    store: NetworkStore, key: SigningKey, target: bytes, *, lang: str, text: str, now_ms: int
) -> Published:
    """``comment`` answering ``target`` (see ``target_scope``), in its scope."""
    scope = target_scope(store.state, target)
    body = {"lang": lang, "text": text, "target": target}
    return await publish(store, key, "comment", body, group=scope, refs=[target], now_ms=now_ms)


async def support(
    store: NetworkStore, key: SigningKey, proposal: bytes, *, now_ms: int
) -> Published:
    """``proposal.support``: the author's person asks for a ballot on it."""
    scope = _proposal(store.state, proposal).scope
    return await publish(
        store,
        key,
        "proposal.support",
        {"proposal": proposal},
        group=scope,
        refs=[proposal],
        now_ms=now_ms,
    )


def text_in(state: NetworkState, target: bytes, lang: str | None) -> dict[str, Any]:
    """The title and text of a proposal or amendment for a reader of
    ``lang``: the original if it is written in ``lang`` (or ``lang`` is
    None), else the best-ranked translation into ``lang`` (specs/ballots.md
    section 4.3), else the original. JSON-ready: lang, title, text, source
    (``original`` or ``translation``), translation (its id, hex, or null),
    confirmations (the translation's, or null), wanted (``lang``)."""
    original = _original(state, target)
    shown: dict[str, Any] = {
        "lang": original.lang,
        "title": original.title,
        "text": original.text,
        "source": "original",
        "translation": None,
        "confirmations": None,
        "wanted": lang,
    }
    if lang is None or same_language(lang, original.lang):
        return shown
    ranked = state.proposals.translations(target).get(lang.lower())
    if not ranked:
        return shown
    best = ranked[0]
    shown.update(
        lang=best.lang,
        title=best.title,
        text=best.text,
        source="translation",
        translation=best.id.hex(),
        confirmations=len(best.confirmations),
    )
    return shown


def proposals_of(state: NetworkState, scope: bytes | None = None) -> list[Proposal]:
    """The proposals of ``scope`` (all if None), oldest first."""
    found = state.proposals.proposals.values()
    return sorted(
        (p for p in found if scope is None or p.scope == scope), key=lambda p: (p.ts, p.id)
    )


# -- ballots, secret votes and results (specs/ballots.md, Part II) --

#: The options of a yes/no ballot (a decision) by language:
#: the primary subtag of the ballot's ``lang``.
YES_NO: dict[str, tuple[str, str]] = {
    "ay": ("jisa", "janiwa"),
    "en": ("yes", "no"),
    "es": ("sí", "no"),
    "qu": ("arí", "manam"),
}
#: Counting groups of level 3 make anonymity sets of about 125 people
#: (specs/ballots.md section 11): the default, below a scope of that level.
DEFAULT_COUNTING_LEVEL = 3


@dataclass(frozen=True, slots=True)
class Cast:
    """A secret vote that reached the store, with the counting group it is
    in and its key image (the same for every vote of this voter in this
    ballot: the last one counts)."""

    published: Published
    group: bytes
    key_image: bytes


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).isoformat(timespec="milliseconds")


def _ballot(state: NetworkState, ballot_id: bytes) -> Ballot:
    found = state.ballots.ballots.get(ballot_id)
    if found is None:
        raise Refused(Reason.UNKNOWN_BALLOT, f"no ballot {ballot_id.hex()}")
    return found


def default_options(lang: str, candidates: Sequence[bytes] = ()) -> list[str] | None:
    """The options of a ballot when none are given: one per candidate (the
    first 16 hex digits of its key) for an election, else yes and no in
    ``lang``; None when there is no default in that language."""
    if candidates:
        return [candidate.hex()[:16] for candidate in candidates]
    pair = YES_NO.get(lang.split("-", 1)[0].lower())
    return None if pair is None else list(pair)


async def open_ballot(
    store: NetworkStore,
    key: SigningKey,
    scope: bytes,
    *,
    question: str,
    lang: str,
    options: Sequence[str],
    opens: int,
    closes: int,
    method: str = "single",
    counting_level: int | None = None,
    proposal: bytes | None = None,
    candidates: Sequence[bytes] | None = None,
    role: str | None = None,
    term: int | None = None,
    now_ms: int,
) -> Published:
    """``ballot.open`` in ``scope`` on exactly one of ``proposal`` or
    ``candidates`` (an election, to ``role`` for ``term``: by default the
    coordinator, for the term of the close). The quorum and threshold are
    the scope's charter's; the counting level defaults to min(scope's
    level, 3). (A recall ballot opens by itself when its motion qualifies,
    specs/accountability.md.)"""
    if (proposal is None) == (candidates is None):
        raise LocalError("a ballot decides one proposal or one election")
    if candidates is None and (role is not None or term is not None):
        raise LocalError("a role and a term belong to an election")
    group = _group(store.state, scope)
    body: dict[str, Any] = {
        "lang": lang,
        "opens": opens,
        "closes": closes,
        "method": method,
        "options": list(options),
        "question": question,
        "quorum_pct": group.rules["quorum_pct"],
        "threshold_pct": group.rules["threshold_pct"],
        "counting_level": (
            min(group.level, DEFAULT_COUNTING_LEVEL) if counting_level is None else counting_level
        ),
    }
    refs = _charter_refs(store.state, scope)
    if proposal is not None:
        body["proposal"] = proposal
        refs.append(proposal)
    if candidates is not None:
        body["candidates"] = list(candidates)
    if role is not None:
        body["role"] = role
    if term is not None:
        body["term"] = term
    return await publish(store, key, "ballot.open", body, group=scope, refs=refs, now_ms=now_ms)


def counting_groups(state: NetworkState, ballot_id: bytes) -> list[bytes]:
    """The groups of the counting level in the scope's subtree, breadth first."""
    ballot = _ballot(state, ballot_id)
    groups = state.groups
    subtree = [ballot.scope, *groups.descendants(ballot.scope)]
    return [g for g in subtree if groups.groups[g].level == ballot.counting_level]


async def freeze_ring(
    store: NetworkStore, key: SigningKey, ballot_id: bytes, group: bytes, *, now_ms: int
) -> Published:
    """``ballot.ring``: ``group``'s members certified at the opening, frozen
    for the ballot (by any member of ``group``'s subtree, before the opening)."""
    state = store.state
    ballot = _ballot(state, ballot_id)
    _group(state, group)
    keys = state.ballots.eligible(group, ballot.opens)
    if not keys:
        raise Refused(
            Reason.WRONG_RING,
            f"group {group.hex()} has no member certified at the opening: no ring to freeze",
        )
    body = {"keys": list(keys), "ballot": ballot_id}
    refs = [ballot_id, *_charter_refs(state, group)]
    return await publish(store, key, "ballot.ring", body, group=group, refs=refs, now_ms=now_ms)


async def freeze_rings(
    store: NetworkStore, key: SigningKey, ballot_id: bytes, *, now_ms: int
) -> tuple[list[Published], list[bytes]]:
    """Freeze the ring of every counting group of the ballot that the key
    acts for and that has none yet: the rings frozen, and the groups left
    out for want of certified members. Refused(not_authorized) if the key
    acts for no counting group, Refused(wrong_ring) if all its rings are
    frozen already. Each ring is its own event: a refusal midway keeps the
    rings frozen before it."""
    state = store.state
    ballot = _ballot(state, ballot_id)
    author = bytes(key.verify_key)
    ts = await next_ts(store, now_ms)
    counting = counting_groups(state, ballot_id)
    mine = [g for g in counting if state.groups.acts_for(g, author, ts)]
    if not mine:
        raise Refused(
            Reason.NOT_AUTHORIZED,
            f"{author.hex()} acts for none of the ballot's {len(counting)} counting groups",
        )
    todo = [g for g in mine if g not in ballot.rings]
    if not todo:
        raise Refused(
            Reason.WRONG_RING, f"the {len(mine)} rings this key would freeze are frozen already"
        )
    frozen: list[Published] = []
    empty: list[bytes] = []
    for group in todo:
        if not state.ballots.eligible(group, ballot.opens):
            empty.append(group)
            continue
        frozen.append(await freeze_ring(store, key, ballot_id, group, now_ms=now_ms))
    return frozen, empty


def voter_counting_group(state: NetworkState, ballot_id: bytes, voter: bytes) -> bytes:
    """The counting group a member votes in: the ancestor-or-self of their
    base group at the ballot's counting level, in the ballot's scope;
    Refused(not_member) if there is none."""
    ballot = _ballot(state, ballot_id)
    groups = state.groups
    base = groups.group_of(voter)
    if base is None:
        raise Refused(Reason.NOT_MEMBER, f"{voter.hex()} is a member of no base group")
    for group in [base, *groups.ancestors(base)]:
        if groups.groups[group].level == ballot.counting_level:
            if group == ballot.scope or ballot.scope in groups.ancestors(group):
                return group
            break
    raise Refused(Reason.NOT_MEMBER, f"{voter.hex()} is not in the subtree of {ballot.scope.hex()}")


def resolve_choice(state: NetworkState, ballot_id: bytes, text: str) -> int:
    """An option of the ballot given by its index or its text (exactly, or
    ignoring case); Refused(bad_choice) if there is no such option."""
    options = _ballot(state, ballot_id).options
    wanted = text.strip()
    if wanted.isdigit() and int(wanted) < len(options):
        return int(wanted)
    for fold in (False, True):
        found = [
            i
            for i, option in enumerate(options)
            if (option.casefold() == wanted.casefold() if fold else option == wanted)
        ]
        if len(found) == 1:
            return found[0]
    listed = ", ".join(f"{i} {option}" for i, option in enumerate(options))
    raise Refused(Reason.BAD_CHOICE, f"no option {text!r}; the options are {listed}")


async def cast_vote(
    store: NetworkStore,
    key: SigningKey,
    ballot_id: bytes,
    choice: Iterable[int],
    *,
    now_ms: int,
    random: Callable[[int], bytes] = nacl.utils.random,
) -> Cast:
    """A secret ``vote`` by the member whose key is ``key`` (an empty
    ``choice`` abstains).

    The vote is in the member's counting group, refs only that group's
    ring, and is signed by a one-time key drawn from ``random``: neither
    the member's key nor their certificate appears in it; the member signs
    only the ring signature (protocol/ballots.py), with a nonce seed drawn
    from ``random`` too. Refused(vote_outside_window), before anything is
    signed, unless the act's time is within [opens, closes).
    """
    state = store.state
    ballot = _ballot(state, ballot_id)
    ts = await next_ts(store, now_ms)
    if not ballot.opens <= ts < ballot.closes:
        raise Refused(
            Reason.VOTE_OUTSIDE_WINDOW,
            f"voting is open from {_iso(ballot.opens)} to {_iso(ballot.closes)} (close "
            f"excluded; {ballot.opens} to {ballot.closes} ms since the epoch); it is "
            f"{_iso(ts)} ({ts})",
        )
    voter = bytes(key.verify_key)
    group = voter_counting_group(state, ballot_id, voter)
    ring = ballot.rings.get(group)
    if ring is None:
        raise Refused(
            Reason.WRONG_RING,
            f"group {group.hex()} froze no ring for this ballot: nobody can vote in it",
        )
    raw = await store.events.get(ring.id)
    if raw is None:  # the fold applied it, so the store holds it
        raise LocalError(f"ring {ring.id.hex()} is not stored")
    prepared = prepare_ring(parse_event(raw))
    if prepared.index(voter) is None:
        raise Refused(
            Reason.NOT_MEMBER,
            f"{voter.hex()} is not in the ring of {group.hex()} (its members certified at the "
            "opening)",
        )
    one_time = SigningKey(random(SEED_SIZE))
    body = vote_body(
        prepared, ring.id, RingSigner.from_key(key), sorted(set(choice)), one_time,
        random(NONCE_SEED_SIZE),
    )  # fmt: skip
    event = await prepare(store, one_time, "vote", body, ts=ts, group=group, refs=[ring.id])
    cert = state.registry.certificate_of(voter)
    named = voter in event.raw or (cert is not None and cert.id in event.raw)
    if event.refs != (ring.id,) or named:
        raise LocalError("a vote must not name its voter")
    published = await commit(store, event, now_ms)
    return Cast(published, group, body["sig"][:POINT_SIZE])


async def count_result(
    store: NetworkStore, key: SigningKey, ballot_id: bytes, group: bytes, *, now_ms: int
) -> Published:
    """``result.count`` of a counting group, after the close: the tally of
    the votes of its ring that the node holds (each key image's last)."""
    state = store.state
    ballot = _ballot(state, ballot_id)
    _group(state, group)
    ring = ballot.rings.get(group)
    if ring is None:
        raise Refused(
            Reason.WRONG_RING,
            f"group {group.hex()} froze no ring for this ballot: nothing to count",
        )
    counts, voters, digest = tally(ring, len(ballot.options))
    body = {
        "ballot": ballot_id,
        "counts": list(counts),
        "voters": voters,
        "eligible": len(ring.keys),
        "ring_hash": ring.ring_hash,
        "votes_hash": digest,
    }
    refs = [ballot_id, ring.id]
    return await publish(store, key, "result.count", body, group=group, refs=refs, now_ms=now_ms)


async def sum_result(
    store: NetworkStore, key: SigningKey, ballot_id: bytes, group: bytes, *, now_ms: int
) -> Published:
    """``result.sum`` of a group above the counting level: the sum of the
    applied results of all its children (Refused(bad_result) if one is
    missing)."""
    state = store.state
    ballot = _ballot(state, ballot_id)
    level = _group(state, group).level
    if level <= ballot.counting_level:
        raise Refused(
            Reason.BAD_RESULT,
            f"group {group.hex()} is at level {level}, not above the counting level "
            f"{ballot.counting_level}: a counting group counts its votes (results count)",
        )
    children = state.groups.children(group)
    missing = [child for child in children if child not in ballot.results]
    if not children or missing:
        shown = ", ".join(child.hex()[:16] for child in missing)
        raise Refused(
            Reason.BAD_RESULT,
            f"a sum needs the applied result of each of the {len(children)} children of "
            f"{group.hex()}; missing: {shown or 'there are no children'}",
        )
    parts = [ballot.results[child] for child in children]
    body = {
        "parts": sorted(part.id for part in parts),
        "ballot": ballot_id,
        "counts": [sum(part.counts[i] for part in parts) for i in range(len(ballot.options))],
        "voters": sum(part.voters for part in parts),
        "eligible": sum(part.eligible for part in parts),
    }
    refs = [ballot_id, *(part.id for part in parts)]
    return await publish(store, key, "result.sum", body, group=group, refs=refs, now_ms=now_ms)


def ballots_of(state: NetworkState, scope: bytes | None = None) -> list[Ballot]:
    """The ballots of ``scope`` (all if None), oldest first."""
    found = state.ballots.ballots.values()
    return sorted(
        (b for b in found if scope is None or b.scope == scope), key=lambda b: (b.ts, b.id)
    )


def ballot_status(ballot: Ballot, at_ms: int) -> str:
    """``announced`` before the opening, ``open`` until the close, then ``closed``."""
    if at_ms < ballot.opens:
        return "announced"
    return "open" if at_ms < ballot.closes else "closed"


def describe_ballot(state: NetworkState, ballot_id: bytes, at_ms: int) -> dict[str, Any]:
    """A ballot as JSON-ready data (bytes in hex), for the CLI and API: what
    it asks, when, how it is counted, each counting group's ring and result,
    and where it stands at ``at_ms``."""
    ballot = _ballot(state, ballot_id)
    body = ballot.body
    groups = state.groups
    outcome = state.ballots.outcome(ballot_id)
    counting = []
    for group in counting_groups(state, ballot_id):
        ring = ballot.rings.get(group)
        result = ballot.results.get(group)
        counting.append(
            {
                "group": group.hex(),
                "name": groups.groups[group].name,
                "ring": None if ring is None else ring.id.hex(),
                "ring_size": None if ring is None else len(ring.keys),
                "ring_hash": None if ring is None else ring.ring_hash.hex(),
                "votes_held": 0 if ring is None else len(ring.votes),
                "result": None if result is None else result.id.hex(),
            }
        )
    proposal = body.get("proposal")
    recall = body.get("recall")
    return {
        "id": ballot.id.hex(),
        "scope": ballot.scope.hex(),
        "scope_name": groups.groups[ballot.scope].name,
        "opener": ballot.opener.hex(),
        "ts": ballot.ts,
        # A recall ballot, opened by its motion, has no text of its own.
        "lang": body.get("lang"),
        "question": body.get("question"),
        "options": list(ballot.options),
        "method": body["method"],
        "opens": ballot.opens,
        "closes": ballot.closes,
        "counting_level": ballot.counting_level,
        "quorum_pct": body["quorum_pct"],
        "threshold_pct": body["threshold_pct"],
        "proposal": None if proposal is None else proposal.hex(),
        "candidates": [c.hex() for c in body["candidates"]] if "candidates" in body else None,
        "recall": None if recall is None else recall.hex(),
        "role": body.get("role", "coordinator") if "proposal" not in body else None,
        "status": ballot_status(ballot, at_ms),
        "counting_groups": counting,
        "stands": outcome["stands"],
        "decided": outcome.get("decided"),
        "decided_option": outcome.get("decided_option"),
        "at": at_ms,
    }


def describe_results(state: NetworkState, ballot_id: bytes) -> dict[str, Any]:
    """``Ballots.outcome`` with the evidence about this ballot and, from the
    counting level up to the scope, each level's groups in the scope's
    subtree with their result (or null): JSON-ready."""
    ballot = _ballot(state, ballot_id)
    groups = state.groups
    outcome = state.ballots.outcome(ballot_id)
    subtree = [ballot.scope, *groups.descendants(ballot.scope)]
    levels = []
    for level in range(ballot.counting_level, groups.groups[ballot.scope].level + 1):
        levels.append(
            {
                "level": level,
                "groups": [
                    {
                        "group": g.hex(),
                        "name": groups.groups[g].name,
                        "result": outcome["results"].get(g.hex()),
                    }
                    for g in subtree
                    if groups.groups[g].level == level
                ],
            }
        )
    evidence = [e.describe() for e in state.ballots.evidence if e.ballot == ballot_id]
    return {**outcome, "levels": levels, "evidence": evidence}


# -- lookups of proposals and ballots --


def resolve_proposal(state: NetworkState, text: str) -> bytes:
    """The proposal whose id is, or starts with, the hex ``text``."""
    return resolve_id(text, state.proposals.proposals, "proposal", Reason.UNKNOWN_PROPOSAL)


def resolve_original(state: NetworkState, text: str) -> bytes:
    """The proposal or amendment whose id is, or starts with, ``text``."""
    proposals = state.proposals
    ids = [*proposals.proposals, *proposals.amendments]
    return resolve_id(text, ids, "proposal or amendment", Reason.UNKNOWN_TARGET)


def resolve_translation(state: NetworkState, text: str) -> bytes:
    """The translation whose id is, or starts with, ``text``."""
    return resolve_id(text, state.proposals.translation_ids(), "translation", Reason.UNKNOWN_TARGET)


def resolve_target(state: NetworkState, text: str) -> bytes:
    """The comment target (proposal, amendment, translation, comment or
    ballot) whose id is, or starts with, ``text``."""
    proposals = state.proposals
    ids = [
        *proposals.proposals,
        *proposals.amendments,
        *state.proposals.translation_ids(),
        *proposals.comments,
        *state.ballots.ballots,
    ]
    return resolve_id(text, ids, "comment target", Reason.UNKNOWN_TARGET)


def resolve_ballot(state: NetworkState, text: str) -> bytes:
    """The ballot whose id is, or starts with, the hex ``text``."""
    return resolve_id(text, state.ballots.ballots, "ballot", Reason.UNKNOWN_BALLOT)
