"""The body schemas of protected reports (specs/accountability.md, "Protected
reports"): ``oversight.key``, ``report.ring``, ``report``, ``report.reply``
and ``report.followup``, and the schema of the *message* sealed inside a
report, a reply or a follow-up, which only its readers ever decode.

Everything sealed is padded to one of a few sizes (``BUCKETS``), so that a
relay learns which size bucket a report fell in and nothing finer. The
state these kinds make, and the cryptography, are protocol/reports.py's.

Imports only protocol.schema, so that protocol/kinds.py can register these
schemas without an import cycle.
"""

from __future__ import annotations

import itertools
from typing import Any

from protocol.schema import (
    BodySchema,
    array_of,
    byte_string,
    lang_tag,
    nested,
    one_of,
    sorted_unique,
    text,
)

#: The sizes a padded message may have, in bytes: a short note, a page, a
#: long statement, a dossier. Few and far apart, so a size says little.
BUCKETS = (512, 2_048, 8_192, 24_576)
#: What ``crypto_box_seal`` adds: the ephemeral public key (32) and the
#: Poly1305 tag (16).
SEAL_OVERHEAD = 48
#: The lengths a sealed field may have.
SEALED_SIZES = frozenset(bucket + SEAL_OVERHEAD for bucket in BUCKETS)
#: A share: the 32-byte X25519 private box key, sealed (32 + 48 bytes).
SHARE_SIZE = 32 + SEAL_OVERHEAD
#: Shares of one box key: one per certified member of the oversight group.
MAX_SHARES = 64
#: Keys of a ring (protocol/ring.py MAX_RING_SIZE, as protocol/kinds.py's).
MAX_RING_KEYS = 1_024
MIN_SIGNATURE = 64 + 32
MAX_SIGNATURE = 64 + 32 * MAX_RING_KEYS
#: A report's status, as the oversight group's replies set it.
STATUSES = ("received", "investigating", "referred", "resolved", "dismissed")
MAX_TEXT = 20_000
MAX_DOCUMENTS = 16

#: Curve25519's field prime, and the u-coordinates of the points of small
#: order below it (libsodium's blacklist, canonical ones): sealing to such a
#: key would fail, or protect nothing.
_P = 2**255 - 19
_SMALL_ORDER = frozenset(
    {
        0,
        1,
        325606250916557431795983626356110631294008115727848805560023387167927233504,
        39382357235489614581723060781553021112529911719440698176882885853963445705823,
        _P - 1,
    }
)

_id = byte_string(32, 32)
_ed25519_key = byte_string(32, 32)

#: One member's copy of the private box key, sealed to the member's key.
SHARE_SCHEMA = BodySchema(
    required={"member": _ed25519_key, "sealed": byte_string(SHARE_SIZE, SHARE_SIZE)}
)


def box_public_key(value: Any) -> str | None:
    """An X25519 public key, canonical and not of small order: one encoding
    per key (the top bit clear, u below p), and a key a message can really
    be sealed to. Pure arithmetic, so decoding needs no cryptography."""
    problem = byte_string(32, 32)(value)
    if problem:
        return problem
    u = int.from_bytes(value, "little")
    if u >= _P:
        return "must be a canonical X25519 public key"
    if u in _SMALL_ORDER:
        return "must not be a point of small order"
    return None


def sealed(value: Any) -> str | None:
    """A sealed, padded message: its length gives away its bucket only."""
    if type(value) is not bytes:
        return "must be a byte string"
    if len(value) not in SEALED_SIZES:
        sizes = ", ".join(str(size) for size in sorted(SEALED_SIZES))
        return f"must have one of {sizes} bytes"
    return None


def _members_ascending(value: Any) -> str | None:
    """1 to 64 shares, strictly ascending by member: one share per member,
    one encoding per set of shares."""
    problem = array_of(nested(SHARE_SCHEMA), 1, MAX_SHARES)(value)
    if problem:
        return problem
    if any(a["member"] >= b["member"] for a, b in itertools.pairwise(value)):
        return "must be strictly ascending by 'member'"
    return None


def _distinct_documents(value: Any) -> str | None:
    """1 to 16 SHA-256 hashes, each once, in the writer's order."""
    problem = array_of(byte_string(32, 32), 1, MAX_DOCUMENTS)(value)
    if problem:
        return problem
    if len(set(value)) != len(value):
        return "must be distinct"
    return None


# -- the kinds (envelope group in the comment) --

#: group: the oversight group, by whoever acts for it.
OVERSIGHT_KEY_SCHEMA = BodySchema(
    required={"box_key": box_public_key, "shares": _members_ascending}
)
#: group: the group whose certified members the ring holds.
REPORT_RING_SCHEMA = BodySchema(required={"keys": sorted_unique(_ed25519_key, 1, MAX_RING_KEYS)})
#: group: the oversight group; author: a one-time key.
REPORT_SCHEMA = BodySchema(
    required={
        "sig": byte_string(MIN_SIGNATURE, MAX_SIGNATURE),
        "ring": _id,
        "sealed": sealed,
        "box_key": box_public_key,
        "receipt": _ed25519_key,
    }
)
#: group: the report's; by a member of the oversight group.
REPORT_REPLY_SCHEMA = BodySchema(
    required={"report": _id, "status": one_of(*STATUSES)},
    optional={"sealed": sealed},
)
#: group: the report's; author: the report's receipt key.
REPORT_FOLLOWUP_SCHEMA = BodySchema(
    required={"report": _id, "sealed": sealed, "box_key": box_public_key}
)

#: What a report, a reply or a follow-up says, inside its box: never seen by
#: nodes, checked by whoever opens it.
MESSAGE_SCHEMA = BodySchema(
    required={"lang": lang_tag, "text": text(1, MAX_TEXT)},
    optional={"about": _id, "documents": _distinct_documents},
)
