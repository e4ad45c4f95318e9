"""Builds specs/vectors/ring.json from fixed seeds, scopes and messages.

The vectors are normative (specs/ring.md, "Test vectors"); this script only
saves writing hex by hand. The test next to it checks that the committed file
is exactly what this script produces and that this implementation passes
every vector, so the spec, the vectors and the code cannot drift apart.

Run ``python tests/vectors/ring_vector_builder.py`` to rewrite the file after
a rule change (and say so in specs/ring.md in the same commit).
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path
from typing import Any

import nacl.bindings

from protocol.errors import Reason
from protocol.keys import key_from_seed
from protocol.ring import (
    GROUP_ORDER,
    IDENTITY,
    PreparedRing,
    RingSigner,
    _sign_with_nonces,
    ring_scalar,
    sign,
    verify,
)

VECTORS_PATH = Path(__file__).resolve().parents[2] / "specs" / "vectors" / "ring.json"

#: Members 0..24 make the rings; member 25 is the foreign key of no ring.
MEMBERS = 26
FOREIGN = 25
SCOPE_A = hashlib.sha256(b"ayllu ring vector ballot A").digest()
SCOPE_B = hashlib.sha256(b"ayllu ring vector ballot B").digest()
SCOPE_SHORT = b"\x07"
SCOPE_LONG = bytes(range(64))
MESSAGE = "Arí: sí a la propuesta 3.".encode()
MESSAGE_2 = b"Mana: no a la propuesta 4."

#: A point of order 4 (x = sqrt(-1), y = 0), on libsodium's small-order list.
ORDER_4 = bytes.fromhex("0000000000000000000000000000000000000000000000000000000000000080")
#: A point of order 8, also on libsodium's list.
ORDER_8 = bytes.fromhex("c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a")
#: y = p + 3 with p = 2**255 - 19: a non-canonical encoding of a curve point.
#: (No point of the prime-order subgroup has y < 19, so none has two
#: encodings; a decoder that reduced y mod p would still be wrong.)
NON_CANONICAL = (2**255 - 19 + 3).to_bytes(32, "little")
#: y = 2: no x satisfies the curve equation.
NOT_ON_CURVE = (2).to_bytes(32, "little")


def seed(i: int) -> bytes:
    return hashlib.sha256(b"ayllu ring vector key " + str(i).encode()).digest()


def nonce_seed(name: str) -> bytes:
    return hashlib.sha256(b"ayllu ring vector nonce " + name.encode()).digest()


def scalar(label: bytes) -> bytes:
    """A fixed scalar, for nonces chosen by hand."""
    return nacl.bindings.crypto_core_ed25519_scalar_reduce(hashlib.sha512(label).digest())


def signer(i: int) -> RingSigner:
    return RingSigner.from_key(key_from_seed(seed(i)))


SIGNERS = [signer(i) for i in range(MEMBERS)]


def ring_of(members: range | list[int]) -> list[RingSigner]:
    """The members' signers in ring order (ascending public key)."""
    return sorted((SIGNERS[i] for i in members), key=lambda s: s.public)


def keys_of(signers: list[RingSigner]) -> list[bytes]:
    return [s.public for s in signers]


def mixed_order(point: bytes) -> bytes:
    """``point`` plus a point of order 8: on the curve, outside the subgroup."""
    return nacl.bindings.crypto_core_ed25519_add(point, ORDER_8)


def replace_image(signature: bytes, image: bytes) -> bytes:
    return image + signature[32:]


def replace_scalar(signature: bytes, position: int, value: int) -> bytes:
    """Scalar ``position`` (0 = c_0, 1 + i = r_i) set to ``value``, 32 bytes LE."""
    at = 32 + 32 * position
    return signature[:at] + value.to_bytes(32, "little") + signature[at + 32 :]


def scalar_at(signature: bytes, position: int) -> int:
    at = 32 + 32 * position
    return int.from_bytes(signature[at : at + 32], "little")


def flip_bit(data: bytes, byte: int, bit: int = 0) -> bytes:
    changed = bytearray(data)
    changed[byte] ^= 1 << bit
    return bytes(changed)


def build() -> dict[str, Any]:
    ring1, ring5, ring25 = ring_of([0]), ring_of(range(5)), ring_of(range(25))
    valid: list[dict[str, Any]] = []
    by_name: dict[str, dict[str, Any]] = {}

    def add_valid(
        name: str,
        description: str,
        members: list[RingSigner],
        index: int,
        scope: bytes,
        message: bytes,
        crafted: list[bytes] | None = None,
    ) -> bytes:
        """Sign with the member at ``index``; ``crafted`` nonces instead of derived ones."""
        ring = PreparedRing(keys_of(members), scope)
        who = members[index]
        vector: dict[str, Any] = {
            "name": name,
            "description": description,
            "ring_hex": [key.hex() for key in ring.keys],
            "ring_hash_hex": ring.ring_hash.hex(),
            "scope_hex": scope.hex(),
            "scope_point_hex": ring.scope_point.hex(),
            "message_hex": message.hex(),
            "signer_index": index,
            "signer_seed_hex": seed(SIGNERS.index(who)).hex(),
        }
        if crafted is None:
            vector["nonce_seed_hex"] = nonce_seed(name).hex()
            signature = sign(ring, who, message, nonce_seed(name))
        else:
            digest = hashlib.sha256(message).digest()
            signature = _sign_with_nonces(ring, who, index, digest, crafted)
        image = verify(ring, message, signature)
        vector["key_image_hex"] = image.hex()
        vector["signature_hex"] = signature.hex()
        valid.append(vector)
        by_name[name] = vector
        return signature

    add_valid("ring1", "A ring of one: no anonymity, but valid.", ring1, 0, SCOPE_A, MESSAGE)
    first = add_valid("ring5_first", "Signer at index 0.", ring5, 0, SCOPE_A, MESSAGE)
    middle = add_valid("ring5_middle", "Signer at index 2.", ring5, 2, SCOPE_A, MESSAGE)
    add_valid("ring5_last", "Signer at index 4 (the walk wraps).", ring5, 4, SCOPE_A, MESSAGE)
    add_valid("ring25", "A ring of 25, signer at index 17.", ring25, 17, SCOPE_A, MESSAGE)
    add_valid(
        "ring5_middle_second_vote",
        "The index-2 member signs another message in the same scope.",
        ring5,
        2,
        SCOPE_A,
        MESSAGE_2,
    )
    add_valid(
        "ring5_middle_other_scope",
        "The index-2 member signs the same message in another scope.",
        ring5,
        2,
        SCOPE_B,
        MESSAGE,
    )
    add_valid("empty_message", "The empty message.", ring5, 1, SCOPE_A, b"")
    add_valid("scope_1_byte", "The shortest scope, 1 byte.", ring5, 3, SCOPE_SHORT, MESSAGE)
    add_valid("scope_64_bytes", "The longest scope, 64 bytes.", ring5, 3, SCOPE_LONG, MESSAGE)
    # r_0 = 0 (a non-signer's response): 0·B and 0·H_p are the identity,
    # which libsodium will not return from a multiplication.
    crafted = [bytes(32), scalar(b"r 1"), b"", scalar(b"r 3"), scalar(b"r 4"), scalar(b"alpha")]
    add_valid(
        "zero_response",
        "r_0 = 0, chosen by the signer at index 2: 0·P is the identity.",
        ring5,
        2,
        SCOPE_A,
        MESSAGE,
        crafted,
    )

    links = [
        {
            "a": "ring5_middle",
            "b": "ring5_middle_second_vote",
            "linked": True,
            "description": "Same member, same scope: same key image (a second vote).",
        },
        {
            "a": "ring5_middle",
            "b": "ring5_middle_other_scope",
            "linked": False,
            "description": "Same member, two scopes: unlinkable key images.",
        },
        {
            "a": "ring5_middle",
            "b": "ring25",
            "linked": False,
            "description": "Two members, same scope: different key images.",
        },
        {
            "a": "ring5_middle",
            "b": "zero_response",
            "linked": True,
            "description": "The image depends on the key and scope, not on the nonces.",
        },
    ]
    for link in links:
        same = by_name[str(link["a"])]["key_image_hex"] == by_name[str(link["b"])]["key_image_hex"]
        assert same == link["linked"], link

    invalid: list[dict[str, Any]] = []

    def add(
        name: str,
        description: str,
        signature: bytes,
        reason: Reason,
        keys: list[bytes] | None = None,
        scope: bytes = SCOPE_A,
        message: bytes = MESSAGE,
    ) -> None:
        invalid.append(
            {
                "name": name,
                "description": description,
                "ring_hex": [key.hex() for key in (keys_of(ring5) if keys is None else keys)],
                "scope_hex": scope.hex(),
                "message_hex": message.hex(),
                "signature_hex": signature.hex(),
                "reason": reason.value,
            }
        )

    # -- the ring (checked before any signature) --
    keys5 = keys_of(ring5)
    add("ring_empty", "No keys.", middle, Reason.BAD_RING, keys=[])
    too_many = sorted(bytes(key_from_seed(seed(i)).verify_key) for i in range(1025))
    add("ring_too_big", "1025 valid keys, one over the limit.", middle, Reason.BAD_RING, too_many)
    add("ring_unsorted", "The ring in descending order.", middle, Reason.BAD_RING, keys5[::-1])
    add(
        "ring_duplicate",
        "Key 1 twice (sorted, not strictly).",
        middle,
        Reason.BAD_RING,
        sorted([*keys5, keys5[1]]),
    )
    add("ring_short_key", "A 31-byte key.", middle, Reason.BAD_RING, [keys5[0][:31], *keys5[1:]])
    for name, point, what in (
        ("ring_small_order_key", ORDER_4, "a point of order 4"),
        ("ring_mixed_order_key", mixed_order(keys5[3]), "a key plus a point of order 8"),
        ("ring_key_not_on_curve", NOT_ON_CURVE, "y = 2, not on the curve"),
        ("ring_identity_key", IDENTITY, "the identity"),
    ):
        add(name, f"A ring holding {what}.", middle, Reason.BAD_RING, sorted([*keys5, point]))
    # -- the length --
    add("empty_signature", "No bytes.", b"", Reason.BAD_RING_SIGNATURE)
    add("truncated", "The last byte missing.", middle[:-1], Reason.BAD_RING_SIGNATURE)
    add("extra_scalar", "32 bytes too many.", middle + bytes(32), Reason.BAD_RING_SIGNATURE)
    add(
        "first_defect_length",
        "Truncated, and the identity as key image: the length is checked first.",
        replace_image(middle, IDENTITY)[:-32],
        Reason.BAD_RING_SIGNATURE,
    )
    # -- the key image --
    image = middle[:32]
    for name, point, what in (
        ("key_image_identity", IDENTITY, "the identity"),
        ("key_image_order_4", ORDER_4, "a point of order 4"),
        ("key_image_order_8", ORDER_8, "a point of order 8"),
        ("key_image_mixed_order", mixed_order(image), "the true image plus a point of order 8"),
        ("key_image_non_canonical", NON_CANONICAL, "y = p + 3, a non-canonical encoding"),
        ("key_image_not_on_curve", NOT_ON_CURVE, "y = 2, not on the curve"),
    ):
        add(name, f"Key image: {what}.", replace_image(middle, point), Reason.BAD_KEY_IMAGE)
    add(
        "first_defect_key_image",
        "A small-order key image and a non-canonical r_0: the image is checked first.",
        replace_scalar(replace_image(middle, ORDER_8), 1, scalar_at(middle, 1) + GROUP_ORDER),
        Reason.BAD_KEY_IMAGE,
    )
    # -- the scalars --
    add(
        "non_canonical_response",
        "r_1 replaced by r_1 + L (the same value mod L).",
        replace_scalar(middle, 2, scalar_at(middle, 2) + GROUP_ORDER),
        Reason.NON_CANONICAL_SCALAR,
    )
    add(
        "non_canonical_challenge",
        "c_0 replaced by c_0 + L (the same value mod L).",
        replace_scalar(middle, 0, scalar_at(middle, 0) + GROUP_ORDER),
        Reason.NON_CANONICAL_SCALAR,
    )
    add(
        "response_all_ones",
        "r_4 = 2**256 - 1.",
        replace_scalar(middle, 5, 2**256 - 1),
        Reason.NON_CANONICAL_SCALAR,
    )
    # -- the ring equation --
    add(
        "tampered_message",
        "A valid signature, another message.",
        middle,
        Reason.BAD_RING_SIGNATURE,
        message=MESSAGE_2,
    )
    add(
        "tampered_response",
        "The low bit of r_3 flipped.",
        flip_bit(middle, 32 + 32 * 4),
        Reason.BAD_RING_SIGNATURE,
    )
    add(
        "tampered_challenge",
        "The low bit of c_0 flipped.",
        flip_bit(middle, 32),
        Reason.BAD_RING_SIGNATURE,
    )
    add(
        "wrong_scope",
        "A valid signature checked in another scope.",
        middle,
        Reason.BAD_RING_SIGNATURE,
        scope=SCOPE_B,
    )
    add(
        "swapped_key_image",
        "The key image of another member of the ring (a valid point).",
        replace_image(middle, first[:32]),
        Reason.BAD_RING_SIGNATURE,
    )
    add(
        "other_ring",
        "A valid signature checked against five other members.",
        middle,
        Reason.BAD_RING_SIGNATURE,
        keys=keys_of(ring_of(range(5, 10))),
    )
    # The foreign key signs over a ring where it stands in for member 2.
    stand_in = ring_of([*[i for i in range(5) if SIGNERS[i] is not ring5[2]], FOREIGN])
    foreign = PreparedRing(keys_of(stand_in), SCOPE_A)
    add(
        "foreign_key",
        "Signed by a key outside the ring (over a ring where it replaces a member).",
        sign(foreign, SIGNERS[FOREIGN], MESSAGE, nonce_seed("foreign_key")),
        Reason.BAD_RING_SIGNATURE,
    )

    return {
        "description": "ayllu ring signature (bLSAG) test vectors; see specs/ring.md.",
        "spec": "specs/ring.md",
        "version": 1,
        "group_order": str(GROUP_ORDER),
        "keys": [
            {
                "name": f"k{i}",
                "seed_hex": seed(i).hex(),
                "public_hex": SIGNERS[i].public.hex(),
                "scalar_hex": ring_scalar(seed(i)).hex(),
            }
            for i in range(MEMBERS)
        ],
        "valid": valid,
        "links": links,
        "invalid": invalid,
    }


def render() -> str:
    return json.dumps(build(), indent=2, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    VECTORS_PATH.write_text(render(), encoding="utf-8")
    sys.stdout.write(f"wrote {VECTORS_PATH}\n")
