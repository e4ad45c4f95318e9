"""Range fingerprints for set reconciliation (Negentropy's construction).

Two nodes compare a range of their (timestamp, id) keys by a 16-byte
fingerprint instead of the ids themselves, and only split ranges whose
fingerprints differ. The fingerprint is Negentropy's: the sum of the ids,
each read as a little-endian 256-bit integer, modulo 2**256, followed by the
count as a varint, hashed with SHA-256 and cut to 16 bytes. The sum is
additive, so a store can compute it with SQL aggregates: each id is kept as
eight 32-bit little-endian limbs, the database sums each limb column (a sum
of 2**31 limbs still fits SQLite's 64-bit integers) and ``from_limb_sums``
folds the carries.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Iterable, Sequence

FINGERPRINT_SIZE = 16
LIMBS = 8
_MOD = 1 << 256
_LIMBS_LE = struct.Struct("<8I")


def id_limbs(event_id: bytes) -> tuple[int, ...]:
    """The eight little-endian 32-bit limbs of an id, least significant first."""
    return _LIMBS_LE.unpack(event_id)


def from_limb_sums(limb_sums: Sequence[int], count: int) -> bytes:
    total = sum(value << (32 * index) for index, value in enumerate(limb_sums))
    return from_sum(total, count)


def from_sum(total: int, count: int) -> bytes:
    """The fingerprint of ``count`` ids whose little-endian values add up
    to ``total`` (any non-negative integer: reduced here)."""
    return _finish(total % _MOD, count)


def fingerprint(ids: Iterable[bytes]) -> bytes:
    """The fingerprint of a set of ids, straight from its definition."""
    total = 0
    count = 0
    for event_id in ids:
        total += int.from_bytes(event_id, "little")
        count += 1
    return _finish(total % _MOD, count)


def varint(value: int) -> bytes:
    """Negentropy's varint: base-128 digits, most significant first, the
    high bit set on every byte but the last."""
    digits = [value & 0x7F]
    value >>= 7
    while value:
        digits.append(0x80 | (value & 0x7F))
        value >>= 7
    return bytes(reversed(digits))


def _finish(total: int, count: int) -> bytes:
    digest = hashlib.sha256(total.to_bytes(32, "little") + varint(count)).digest()
    return digest[:FINGERPRINT_SIZE]
