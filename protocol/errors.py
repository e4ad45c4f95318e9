"""One error hierarchy for the whole protocol, with stable reason codes.

Errors split the way h11 splits them: a ``LocalError`` means *we* misused the
API (a bug to fix here); a ``Rejected`` means *the remote side* sent something
the protocol refuses. A rejection carries a stable reason code (listed in
``specs/events.md`` and ``specs/ring.md``; other implementations return the
same codes for the same test vectors) and what a node should do about the
sender, in the terms of gossipsub v1.1 validators: penalize it, ignore the
message quietly, or hold the message until what it depends on arrives.
"""

from __future__ import annotations

import enum


class Action(enum.StrEnum):
    """What a node does with a rejected message and its sender."""

    #: The sender is at fault: drop the message and lower the sender's score.
    REJECT = "reject"
    #: Drop the message without blaming the sender (it may be right later,
    #: e.g. our clock is behind theirs).
    IGNORE = "ignore"
    #: Keep the message aside and fetch what it depends on; retry afterwards.
    HOLD = "hold"


class Reason(enum.StrEnum):
    """Stable reason codes. The string values are part of the protocol."""

    # -- decoding (specs/events.md, "Encoding") --
    TOO_LARGE = "too_large"
    TRUNCATED = "truncated"
    TRAILING_BYTES = "trailing_bytes"
    TOO_DEEP = "too_deep"
    MALFORMED = "malformed"
    INDEFINITE_LENGTH = "indefinite_length"
    NON_MINIMAL_WIDTH = "non_minimal_width"
    UNSORTED_KEYS = "unsorted_keys"
    DUPLICATE_KEY = "duplicate_key"
    BAD_MAP_KEY = "bad_map_key"
    FLOAT_NOT_ALLOWED = "float_not_allowed"
    TAG_NOT_ALLOWED = "tag_not_allowed"
    SIMPLE_NOT_ALLOWED = "simple_not_allowed"
    INT_OUT_OF_RANGE = "int_out_of_range"
    INVALID_UTF8 = "invalid_utf8"
    # -- envelope (specs/events.md, "Envelope") --
    BAD_ENVELOPE = "bad_envelope"
    MISSING_FIELD = "missing_field"
    UNKNOWN_FIELD = "unknown_field"
    UNKNOWN_VERSION = "unknown_version"
    BAD_FIELD = "bad_field"
    BAD_REFS = "bad_refs"
    UNKNOWN_KIND = "unknown_kind"
    BAD_BODY = "bad_body"
    # -- network binding (specs/events.md, "Network") --
    WRONG_NETWORK = "wrong_network"
    BAD_GENESIS = "bad_genesis"
    # -- signature --
    BAD_SIGNATURE = "bad_signature"
    # -- rules against state --
    TS_IN_FUTURE = "ts_in_future"
    MISSING_REFS = "missing_refs"
    TS_BEFORE_REF = "ts_before_ref"
    # -- ring signatures --
    BAD_RING = "bad_ring"
    BAD_RING_SIGNATURE = "bad_ring_signature"
    BAD_KEY_IMAGE = "bad_key_image"
    NON_CANONICAL_SCALAR = "non_canonical_scalar"
    # -- identity: registrars and certificates (specs/identity.md) --
    NOT_REGISTRAR = "not_registrar"
    BAD_APPROVALS = "bad_approvals"
    BAD_REGISTRAR_CHANGE = "bad_registrar_change"
    STALE_EPOCH = "stale_epoch"
    DUPLICATE_IDENTITY = "duplicate_identity"
    ALREADY_CERTIFIED = "already_certified"
    UNKNOWN_CERTIFICATE = "unknown_certificate"
    TAG_MISMATCH = "tag_mismatch"
    NOT_CERTIFIED = "not_certified"
    CERTIFICATE_EXPIRED = "certificate_expired"
    KEY_REVOKED = "key_revoked"
    UNCERTIFIED_KEY = "uncertified_key"
    NO_STANDING = "no_standing"
    # -- groups (specs/groups.md) --
    UNKNOWN_GROUP = "unknown_group"
    NOT_AUTHORIZED = "not_authorized"
    BAD_LEVEL = "bad_level"
    NOT_BASE_GROUP = "not_base_group"
    GROUP_FULL = "group_full"
    TOO_MANY_CHILDREN = "too_many_children"
    ALREADY_MEMBER = "already_member"
    ALREADY_PLACED = "already_placed"
    UNKNOWN_APPLICATION = "unknown_application"
    NOT_MEMBER = "not_member"
    SELF_ATTESTATION = "self_attestation"
    DUPLICATE_ATTESTATION = "duplicate_attestation"
    WRONG_PERIOD = "wrong_period"
    # -- sync sessions (specs/sync.md) --
    BAD_SYNC_MESSAGE = "bad_sync_message"
    TOO_MANY_ROUNDS = "too_many_rounds"
    # -- bundles (specs/bundle.md): bytes that are not a bundle --
    BAD_BUNDLE = "bad_bundle"
    # -- proposals and deliberation (specs/ballots.md) --
    UNKNOWN_PROPOSAL = "unknown_proposal"
    UNKNOWN_TARGET = "unknown_target"
    PROPOSAL_CLOSED = "proposal_closed"
    DUPLICATE_SUPPORT = "duplicate_support"
    DUPLICATE_CONFIRMATION = "duplicate_confirmation"
    SELF_CONFIRMATION = "self_confirmation"
    # -- ballots, votes and results (specs/ballots.md) --
    UNKNOWN_BALLOT = "unknown_ballot"
    BAD_BALLOT = "bad_ballot"
    NOT_ENOUGH_SUPPORT = "not_enough_support"
    WRONG_RING = "wrong_ring"
    VOTE_OUTSIDE_WINDOW = "vote_outside_window"
    BAD_CHOICE = "bad_choice"
    TOO_EARLY = "too_early"
    BAD_RESULT = "bad_result"
    EQUIVOCATION = "equivocation"
    # -- accountability (specs/accountability.md) --
    NOT_ROLE_HOLDER = "not_role_holder"
    CONSECUTIVE_TERM = "consecutive_term"
    UNKNOWN_MOTION = "unknown_motion"
    DUPLICATE_MOTION = "duplicate_motion"
    MOTION_EXPIRED = "motion_expired"
    NOT_OVERSIGHT = "not_oversight"
    BAD_OVERSIGHT = "bad_oversight"
    UNKNOWN_CLAIM = "unknown_claim"
    SELF_REVIEW = "self_review"
    NOT_STEWARD = "not_steward"
    UNKNOWN_LINE = "unknown_line"
    DUPLICATE_LINE = "duplicate_line"
    WRONG_CURRENCY = "wrong_currency"
    NOT_DECIDED = "not_decided"
    NOT_RATIFIED = "not_ratified"
    UNKNOWN_REPORT = "unknown_report"
    UNKNOWN_BOX_KEY = "unknown_box_key"
    BAD_SHARES = "bad_shares"


#: The action for each reason. Everything not listed is the sender's fault.
_ACTIONS: dict[Reason, Action] = {
    Reason.TS_IN_FUTURE: Action.IGNORE,
    Reason.MISSING_REFS: Action.HOLD,
}
#: The refusals of identity and groups (specs/identity.md, specs/groups.md).
GROUP_REASONS = frozenset(
    {
        Reason.NOT_REGISTRAR,
        Reason.BAD_APPROVALS,
        Reason.BAD_REGISTRAR_CHANGE,
        Reason.STALE_EPOCH,
        Reason.DUPLICATE_IDENTITY,
        Reason.ALREADY_CERTIFIED,
        Reason.UNKNOWN_CERTIFICATE,
        Reason.TAG_MISMATCH,
        Reason.NOT_CERTIFIED,
        Reason.CERTIFICATE_EXPIRED,
        Reason.KEY_REVOKED,
        Reason.UNKNOWN_GROUP,
        Reason.NOT_AUTHORIZED,
        Reason.BAD_LEVEL,
        Reason.NOT_BASE_GROUP,
        Reason.GROUP_FULL,
        Reason.TOO_MANY_CHILDREN,
        Reason.ALREADY_MEMBER,
        Reason.ALREADY_PLACED,
        Reason.UNKNOWN_APPLICATION,
        Reason.NOT_MEMBER,
        Reason.SELF_ATTESTATION,
        Reason.DUPLICATE_ATTESTATION,
        Reason.WRONG_PERIOD,
    }
)
#: The refusals of proposals, ballots and results (specs/ballots.md).
BALLOT_REASONS = frozenset(
    {
        Reason.UNKNOWN_PROPOSAL,
        Reason.UNKNOWN_TARGET,
        Reason.PROPOSAL_CLOSED,
        Reason.DUPLICATE_SUPPORT,
        Reason.DUPLICATE_CONFIRMATION,
        Reason.SELF_CONFIRMATION,
        Reason.UNKNOWN_BALLOT,
        Reason.BAD_BALLOT,
        Reason.NOT_ENOUGH_SUPPORT,
        Reason.WRONG_RING,
        Reason.VOTE_OUTSIDE_WINDOW,
        Reason.BAD_CHOICE,
        Reason.TOO_EARLY,
        Reason.BAD_RESULT,
        Reason.EQUIVOCATION,
    }
)
#: Reasons the state fold refuses an event for (specs/groups.md section 1).
#: Whether they apply depends on what else a node holds, so they never
#: blame the sender; the event is stored all the same.
#: Refusals of the accountability rules (specs/accountability.md).
ACCOUNTABILITY_REASONS = frozenset(
    {
        Reason.NOT_ROLE_HOLDER,
        Reason.CONSECUTIVE_TERM,
        Reason.UNKNOWN_MOTION,
        Reason.DUPLICATE_MOTION,
        Reason.MOTION_EXPIRED,
        Reason.NOT_OVERSIGHT,
        Reason.BAD_OVERSIGHT,
        Reason.UNKNOWN_CLAIM,
        Reason.SELF_REVIEW,
        Reason.NOT_STEWARD,
        Reason.UNKNOWN_LINE,
        Reason.DUPLICATE_LINE,
        Reason.WRONG_CURRENCY,
        Reason.NOT_DECIDED,
        Reason.NOT_RATIFIED,
        Reason.UNKNOWN_REPORT,
        Reason.UNKNOWN_BOX_KEY,
        Reason.BAD_SHARES,
    }
)
STATE_REASONS = GROUP_REASONS | BALLOT_REASONS | ACCOUNTABILITY_REASONS
_ACTIONS.update(dict.fromkeys(STATE_REASONS, Action.IGNORE))


def action_for(reason: Reason) -> Action:
    """What to do with the sender of a message rejected for ``reason``."""
    return _ACTIONS.get(reason, Action.REJECT)


class AylluError(Exception):
    """Base of every error this project raises on purpose."""


class LocalError(AylluError):
    """The caller misused an API: a bug on this side, never the peer's fault."""


class Rejected(AylluError):
    """The input breaks a protocol rule; ``reason`` says which, stably."""

    def __init__(self, reason: Reason, detail: str = "") -> None:
        super().__init__(f"{reason.value}: {detail}" if detail else reason.value)
        self.reason = reason
        self.detail = detail

    @property
    def action(self) -> Action:
        return action_for(self.reason)
