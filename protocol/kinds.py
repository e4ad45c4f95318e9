"""The registry of event kinds and the shape each kind's body must have.

A kind names what an event means; its body schema is part of the protocol
(specs/events.md, "Kinds"). Bodies are strict: a field that the schema does
not name is refused, so two implementations never disagree about whether an
extra field "counts". A kind that needs new fields becomes a new kind.

Later issues register their kinds here (group charters, ballots, votes, ...);
each registration is a rule change and comes with its spec section.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import nacl.bindings

from protocol.errors import Reason, Rejected

#: A check returns an error message, or None when the value is fine.
Check = Callable[[Any], str | None]

#: BCP 47, simplified: a 2-3 letter primary language subtag, then subtags of
#: 1-8 letters or digits ("es", "qu", "ay", "en", "es-PE", "qu-Latn-PE").
_LANG_TAG = re.compile(r"[a-z]{2,3}(?:-[A-Za-z0-9]{1,8})*")


def text(min_chars: int, max_chars: int) -> Check:
    """A text string of ``min_chars`` to ``max_chars`` Unicode code points."""

    def check(value: Any) -> str | None:
        if type(value) is not str:
            return "must be a text string"
        if not min_chars <= len(value) <= max_chars:
            return f"must have {min_chars} to {max_chars} characters"
        return None

    return check


def lang_tag(value: Any) -> str | None:
    """A language tag in the simplified BCP 47 form above, at most 35 chars."""
    if type(value) is not str or len(value) > 35 or not _LANG_TAG.fullmatch(value):
        return "must be a language tag such as 'es', 'qu' or 'ay-PE'"
    return None


def byte_string(min_len: int, max_len: int) -> Check:
    def check(value: Any) -> str | None:
        if type(value) is not bytes:
            return "must be a byte string"
        if not min_len <= len(value) <= max_len:
            return f"must have {min_len} to {max_len} bytes"
        return None

    return check


def array_of(item: Check, min_items: int, max_items: int) -> Check:
    def check(value: Any) -> str | None:
        if type(value) is not list:
            return "must be an array"
        if not min_items <= len(value) <= max_items:
            return f"must have {min_items} to {max_items} items"
        for index, element in enumerate(value):
            problem = item(element)
            if problem:
                return f"item {index} {problem}"
        return None

    return check


def one_of(*values: str) -> Check:
    def check(value: Any) -> str | None:
        if type(value) is not str or value not in values:
            return "must be one of " + ", ".join(repr(v) for v in values)
        return None

    return check


def integer(low: int, high: int) -> Check:
    def check(value: Any) -> str | None:
        if type(value) is not int or not low <= value <= high:
            return f"must be an integer in [{low}, {high}]"
        return None

    return check


def boolean(value: Any) -> str | None:
    if type(value) is not bool:
        return "must be true or false"
    return None


def sorted_unique(item: Check, min_items: int, max_items: int) -> Check:
    """An array whose items are strictly ascending: one encoding per set."""
    as_array = array_of(item, min_items, max_items)

    def check(value: Any) -> str | None:
        problem = as_array(value)
        if problem:
            return problem
        if any(a >= b for a, b in itertools.pairwise(value)):
            return "must be strictly ascending (sorted, no repeats)"
        return None

    return check


def nested(schema: BodySchema) -> Check:
    """A map with the fields of ``schema``, checked as strictly as a body."""

    def check(value: Any) -> str | None:
        if type(value) is not dict:
            return "must be a map"
        try:
            schema.check(value)
        except Rejected as exc:
            return f"is invalid ({exc.detail})"
        return None

    return check


@dataclass(frozen=True)
class BodySchema:
    """Required and optional fields of a body, each with its check."""

    required: Mapping[str, Check]
    optional: Mapping[str, Check] = field(default_factory=dict)
    #: A rule across fields, checked once every field is fine.
    across: Callable[[Mapping[str, Any]], str | None] | None = None

    def check(self, body: Mapping[str, Any]) -> None:
        """Raise Rejected(bad_body) for the first field, in key order, that
        fails, then for a missing one, then for the rule across fields."""
        for name in sorted(body, key=_canonical_key_order):
            rule = self.required.get(name) or self.optional.get(name)
            if rule is None:
                raise Rejected(Reason.BAD_BODY, f"unknown field {name!r}")
            problem = rule(body[name])
            if problem:
                raise Rejected(Reason.BAD_BODY, f"{name!r} {problem}")
        for name in sorted(self.required, key=_canonical_key_order):
            if name not in body:
                raise Rejected(Reason.BAD_BODY, f"missing field {name!r}")
        problem = self.across(body) if self.across is not None else None
        if problem:
            raise Rejected(Reason.BAD_BODY, problem)


def _canonical_key_order(key: str) -> tuple[int, bytes]:
    encoded = key.encode("utf-8")
    return (len(encoded), encoded)


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
