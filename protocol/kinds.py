"""The registry of event kinds and the shape each kind's body must have.

A kind names what an event means; its body schema is part of the protocol
(specs/events.md, "Kinds"). Bodies are strict: a field that the schema does
not name is refused, so two implementations never disagree about whether an
extra field "counts". A kind that needs new fields becomes a new kind.

Later issues register their kinds here (group charters, ballots, votes, ...);
each registration is a rule change and comes with its spec section.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import nacl.bindings

from protocol.errors import Reason, Rejected
from protocol.ledger_schema import (
    ALLOCATE_SCHEMA,
    BUDGET_SCHEMA,
    GRANT_SCHEMA,
    INCOME_SCHEMA,
    SPEND_SCHEMA,
    SURPLUS_SCHEMA,
    TREASURY_SCHEMA,
)
from protocol.map_schema import CLAIM_SCHEMA, REVIEW_SCHEMA
from protocol.report_schema import (
    OVERSIGHT_KEY_SCHEMA,
    REPORT_FOLLOWUP_SCHEMA,
    REPORT_REPLY_SCHEMA,
    REPORT_RING_SCHEMA,
    REPORT_SCHEMA,
)
from protocol.schema import (
    BodySchema,
    array_of,
    boolean,
    byte_string,
    integer,
    lang_tag,
    nested,
    one_of,
    sorted_unique,
    text,
)


def _key(value: Any) -> str | None:
    """An Ed25519 public key (32 bytes); whether it is a valid point is the
    signature check's business where the key signs, and the state's where
    it is certified."""
    return byte_string(32, 32)(value)


def _member_key(value: Any) -> str | None:
    """A key to certify: a valid Ed25519 point of the prime-order subgroup,
    as a ring (specs/ring.md) requires of every member key."""
    problem = _key(value)
    if problem is None and not nacl.bindings.crypto_core_ed25519_is_valid_point(value):
        problem = "must be a valid Ed25519 public key"
    return problem


_event_id = _key  # an event or group id: also 32 bytes
_ts = integer(0, 2**53 - 1)
_index = integer(0, 2**32 - 1)

_title = text(1, 200)
_long_text = text(1, 20_000)
_count = integer(0, 2**32 - 1)
#: Options of a ballot, and keys of a ring (protocol/ring.py MAX_RING_SIZE).
MAX_OPTIONS = 16
MAX_RING_KEYS = 1024


def _ballot_subject(body: Mapping[str, Any]) -> str | None:
    """A ballot decides one thing: a proposal, or an election among
    candidates (one option per candidate, in order) to a role. (A recall
    ballot is opened by a recall motion, specs/accountability.md.)"""
    subjects = [name for name in ("proposal", "candidates") if name in body]
    if len(subjects) != 1:
        return "a ballot has exactly one of 'proposal', 'candidates'"
    if ("role" in body or "term" in body) and "candidates" not in body:
        return "'role' and 'term' belong to an election"
    if body["opens"] >= body["closes"]:
        return "'opens' must be before 'closes'"
    if len(set(body["options"])) != len(body["options"]):
        return "'options' must be distinct"
    candidates = body.get("candidates")
    if candidates is not None and (
        len(candidates) != len(body["options"]) or len(set(candidates)) != len(candidates)
    ):
        return "an election has one option per candidate, each candidate once"
    return None


#: The roles of a group (specs/accountability.md section 2).
ROLES = ("coordinator", "steward", "auditor")
_role = one_of(*ROLES)

#: A group's rules (specs/groups.md, "Charter"): percentages of the members
#: (support to put a proposal to ballot, quorum to make a ballot count,
#: threshold of the votes cast to pass), the coordinator's term and the
#: merit period; and, optional with the defaults of ``RULE_DEFAULTS``, the
#: rules of accountability (specs/accountability.md section 1).
RULES = BodySchema(
    required={
        "quorum_pct": integer(1, 100),
        "support_pct": integer(1, 100),
        "threshold_pct": integer(50, 100),
        "term_days": integer(1, 3650),
        "merit_days": integer(1, 3650),
    },
    optional={
        "recall_days": integer(1, 30),
        "ratify_days": integer(1, 60),
        "steward_months": integer(1, 24),
        "auditor_months": integer(1, 24),
        "steward_repeat": boolean,
        "treasury_pct": integer(0, 100),
    },
)
#: The rules a charter leaves out (specs/accountability.md section 1).
RULE_DEFAULTS: Mapping[str, int | bool] = {
    "recall_days": 7,
    "ratify_days": 14,
    "steward_months": 3,
    "auditor_months": 12,
    "steward_repeat": True,
    "treasury_pct": 10,
}
CHARTER = BodySchema(
    required={
        "name": text(1, 100),
        "langs": sorted_unique(lang_tag, 1, 8),
        "level": integer(1, 32),
        "rules": nested(RULES),
    }
)
APPROVAL = BodySchema(required={"key": _key, "sig": byte_string(64, 64)})

#: kind name -> body schema. The names are part of the protocol.
KINDS: dict[str, BodySchema] = {
    # A short free-text message to a group: announcements, minutes, notices.
    "note": BodySchema(required={"lang": lang_tag, "text": text(1, 10_000)}),
    # Where the author's node can be reached: binary multiaddrs (the libp2p
    # multiaddr byte form). The newest record of an author replaces older ones.
    "peer.record": BodySchema(
        required={"addrs": array_of(byte_string(2, 256), 1, 16)},
    ),
    # -- identity (specs/identity.md); envelope group: the network id --
    "registrar.change": BodySchema(
        required={
            "add": sorted_unique(_key, 0, 16),
            "epoch": _index,
            "quorum": integer(1, 64),
            "remove": sorted_unique(_key, 0, 16),
            "approvals": array_of(nested(APPROVAL), 1, 64),
        }
    ),
    "cert.issue": BodySchema(required={"tag": _key, "member": _member_key, "expires": _ts}),
    "cert.replace": BodySchema(
        required={"old": _event_id, "tag": _key, "member": _member_key, "expires": _ts}
    ),
    "cert.revoke": BodySchema(required={"why": text(1, 500), "cert": _event_id}),
    # -- groups (specs/groups.md) --
    "group.charter": CHARTER,  # envelope group: the network id
    "group.apply": BodySchema(required={"parent": _event_id}),  # group: the child
    "group.admit": BodySchema(  # group: the parent
        required={"child": _event_id, "application": _event_id}
    ),
    "group.leave": BodySchema(required={"parent": _event_id}),  # group: the child
    # The node keys serving the group (specs/groups.md 4.5); replaces the list.
    "group.nodes": BodySchema(required={"nodes": sorted_unique(_key, 0, 4)}),
    "member.apply": BodySchema(required={}, optional={"text": text(1, 500)}),
    "member.admit": BodySchema(required={"member": _key, "application": _event_id}),
    "member.leave": BodySchema(required={}),
    "coordinator.endorse": BodySchema(required={"term": _index, "candidate": _key}),
    "merit.attest": BodySchema(required={"text": text(1, 500), "member": _key, "period": _index}),
    # -- proposals and deliberation (specs/ballots.md); envelope group: the scope --
    "proposal": BodySchema(required={"lang": lang_tag, "text": _long_text, "title": _title}),
    "proposal.amend": BodySchema(
        required={"lang": lang_tag, "text": _long_text, "title": _title, "proposal": _event_id}
    ),
    "proposal.translate": BodySchema(
        required={"lang": lang_tag, "text": _long_text, "title": _title, "target": _event_id}
    ),
    "translation.confirm": BodySchema(required={"translation": _event_id}),
    "comment": BodySchema(required={"lang": lang_tag, "text": text(1, 5_000), "target": _event_id}),
    "proposal.support": BodySchema(required={"proposal": _event_id}),
    # -- ballots, votes and results (specs/ballots.md) --
    "ballot.open": BodySchema(  # group: the scope
        required={
            "lang": lang_tag,
            "opens": _ts,
            "closes": _ts,
            "method": one_of("single", "approval"),
            "options": array_of(text(1, 100), 2, MAX_OPTIONS),
            "question": text(1, 500),
            "quorum_pct": integer(1, 100),
            "threshold_pct": integer(50, 100),
            "counting_level": integer(1, 32),
        },
        optional={
            "proposal": _event_id,
            "candidates": array_of(_key, 2, MAX_OPTIONS),
            "role": _role,
            "term": _index,
        },
        across=_ballot_subject,
    ),
    "ballot.ring": BodySchema(  # group: the counting group
        required={"keys": sorted_unique(_key, 1, MAX_RING_KEYS), "ballot": _event_id}
    ),
    "vote": BodySchema(  # group: the counting group; author: a one-time key
        required={
            "sig": byte_string(96, 64 + 32 * MAX_RING_KEYS),
            "ring": _event_id,
            "ballot": _event_id,
            "choice": sorted_unique(integer(0, MAX_OPTIONS - 1), 0, MAX_OPTIONS),
        }
    ),
    "result.count": BodySchema(  # group: the counting group
        required={
            "ballot": _event_id,
            "counts": array_of(_count, 2, MAX_OPTIONS),
            "voters": _count,
            "eligible": _count,
            "ring_hash": _event_id,
            "votes_hash": _event_id,
        }
    ),
    "result.sum": BodySchema(  # group: a group above the counting level
        required={
            "parts": sorted_unique(_event_id, 1, 5),
            "ballot": _event_id,
            "counts": array_of(_count, 2, MAX_OPTIONS),
            "voters": _count,
            "eligible": _count,
        }
    ),
    # -- accountability (specs/accountability.md) --
    "recall.motion": BodySchema(  # group: the holder's group
        required={"lang": lang_tag, "role": _role, "holder": _key, "reason": text(1, 2000)}
    ),
    "recall.support": BodySchema(required={"motion": _event_id}),  # group: the motion's
    "recall.conviction": BodySchema(  # group: the oversight group
        required={
            "case": text(1, 200),
            "role": _role,
            "court": text(1, 200),
            "group": _event_id,
            "holder": _key,
            "document": byte_string(32, 32),
        }
    ),
    "oversight.appoint": BodySchema(required={"oversight": _event_id}),  # group: the overseen
    "map.claim": CLAIM_SCHEMA,  # group: where the claim is published
    "map.review": REVIEW_SCHEMA,  # group: the claim's
    # The ledger (protocol/ledger_schema.py); group: whose accounts.
    "ledger.budget": BUDGET_SCHEMA,
    "ledger.allocate": ALLOCATE_SCHEMA,
    "ledger.spend": SPEND_SCHEMA,
    "ledger.income": INCOME_SCHEMA,
    "ledger.grant": GRANT_SCHEMA,
    "ledger.surplus": SURPLUS_SCHEMA,
    "ledger.treasury": TREASURY_SCHEMA,
    # Protected reports (protocol/report_schema.py); group: the oversight group,
    # but a report.ring's: the group whose members it holds.
    "oversight.key": OVERSIGHT_KEY_SCHEMA,
    "report.ring": REPORT_RING_SCHEMA,
    "report": REPORT_SCHEMA,  # author: a one-time key
    "report.reply": REPORT_REPLY_SCHEMA,
    "report.followup": REPORT_FOLLOWUP_SCHEMA,  # author: the report's receipt key
}

#: Kinds whose envelope ``group`` must be the network id itself (the root
#: group's id): they create groups or act network-wide.
NETWORK_SCOPED_KINDS = frozenset(
    {"registrar.change", "cert.issue", "cert.replace", "cert.revoke", "group.charter"}
)
#: Kinds that change the network's state (registrars, certificates, groups,
#: roles, merit): the state is a fold over them in (ts, id) order.
GOVERNANCE_KINDS = frozenset(KINDS) - {"note", "peer.record"}


def check_placement(kind: str, group: bytes, net: bytes) -> None:
    """Raise Rejected(bad_field) if a network-scoped kind names another group."""
    if kind in NETWORK_SCOPED_KINDS and group != net:
        raise Rejected(Reason.BAD_FIELD, f"a {kind!r} event's group must be the network id")


def check_body(kind: str, body: Mapping[str, Any]) -> None:
    """Raise Rejected(unknown_kind | bad_body) unless ``body`` fits ``kind``."""
    schema = KINDS.get(kind)
    if schema is None:
        raise Rejected(Reason.UNKNOWN_KIND, f"kind {kind!r}")
    schema.check(body)
