"""specs/vectors/ring.json: every vector passes, here and in a second implementation.

The second implementation (``Reference`` below) is plain Python integers,
written from specs/ring.md alone, with no libsodium: it checks that the spec
says enough to rebuild every byte of the vectors, the hash to the curve
included, which libsodium's documentation does not spell out.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from typing import Any

import nacl.bindings
import pytest
import ring_vector_builder

from protocol.errors import Rejected
from protocol.keys import key_from_seed
from protocol.ring import PreparedRing, RingSigner, ring_scalar, sign, verify

VECTORS: dict[str, Any] = json.loads(ring_vector_builder.VECTORS_PATH.read_text(encoding="utf-8"))


def test_committed_vectors_are_what_the_builder_makes() -> None:
    assert ring_vector_builder.VECTORS_PATH.read_text(encoding="utf-8") == (
        ring_vector_builder.render()
    )


@pytest.mark.parametrize("key", VECTORS["keys"], ids=lambda k: k["name"])
def test_keys(key: dict[str, str]) -> None:
    seed = bytes.fromhex(key["seed_hex"])
    assert ring_scalar(seed).hex() == key["scalar_hex"]
    assert RingSigner.from_key(key_from_seed(seed)).public.hex() == key["public_hex"]


@pytest.mark.parametrize("vector", VECTORS["valid"], ids=lambda v: v["name"])
def test_valid(vector: dict[str, Any]) -> None:
    ring = PreparedRing(
        [bytes.fromhex(k) for k in vector["ring_hex"]], bytes.fromhex(vector["scope_hex"])
    )
    assert ring.ring_hash.hex() == vector["ring_hash_hex"]
    assert ring.scope_point.hex() == vector["scope_point_hex"]
    message = bytes.fromhex(vector["message_hex"])
    signature = bytes.fromhex(vector["signature_hex"])
    assert verify(ring, message, signature).hex() == vector["key_image_hex"]
    signer = RingSigner.from_key(key_from_seed(bytes.fromhex(vector["signer_seed_hex"])))
    assert ring.keys[vector["signer_index"]] == signer.public
    assert ring.key_image(signer).hex() == vector["key_image_hex"]
    if "nonce_seed_hex" in vector:
        # The nonce derivation is fixed too, so signing is reproducible.
        nonce_seed = bytes.fromhex(vector["nonce_seed_hex"])
        assert sign(ring, signer, message, nonce_seed) == signature


@pytest.mark.parametrize("link", VECTORS["links"], ids=lambda v: f"{v['a']}-{v['b']}")
def test_links(link: dict[str, Any]) -> None:
    images = {v["name"]: v["key_image_hex"] for v in VECTORS["valid"]}
    assert (images[link["a"]] == images[link["b"]]) is link["linked"]


@pytest.mark.parametrize("vector", VECTORS["invalid"], ids=lambda v: v["name"])
def test_invalid(vector: dict[str, Any]) -> None:
    keys = [bytes.fromhex(k) for k in vector["ring_hex"]]
    with pytest.raises(Rejected) as caught:
        ring = PreparedRing(keys, bytes.fromhex(vector["scope_hex"]))
        verify(ring, bytes.fromhex(vector["message_hex"]), bytes.fromhex(vector["signature_hex"]))
    assert caught.value.reason.value == vector["reason"]


# -- a second implementation, from specs/ring.md alone --

P = 2**255 - 19
L = int(VECTORS["group_order"])
D = -121665 * pow(121666, P - 2, P) % P
SQRT_M1 = pow(2, (P - 1) // 4, P)
MONTGOMERY_A = 486662
Point = tuple[int, int, int, int]  # extended coordinates (X, Y, Z, T), x = X/Z, y = Y/Z
IDENTITY: Point = (0, 1, 1, 0)
BASE_Y = 4 * pow(5, P - 2, P) % P


def inverse(value: int) -> int:
    return pow(value, P - 2, P)  # 0 for 0, as in the spec


def point_add(a: Point, b: Point) -> Point:
    """RFC 8032 section 5.1.4."""
    x1, y1, z1, t1 = a
    x2, y2, z2, t2 = b
    e1, f1 = (y1 - x1) * (y2 - x2) % P, (y1 + x1) * (y2 + x2) % P
    g1, h1 = 2 * D * t1 * t2 % P, 2 * z1 * z2 % P
    e, f, g, h = f1 - e1, h1 - g1, h1 + g1, f1 + e1
    return (e * f % P, g * h % P, f * g % P, e * h % P)


def point_mul(scalar: int, point: Point) -> Point:
    result = IDENTITY
    while scalar:
        if scalar & 1:
            result = point_add(result, point)
        point = point_add(point, point)
        scalar >>= 1
    return result


def recover_x(y: int, sign: int) -> int | None:
    """RFC 8032 section 5.1.3, steps 2 to 4."""
    x2 = (y * y - 1) * inverse(D * y * y + 1) % P
    x = pow(x2, (P + 3) // 8, P)
    if (x * x - x2) % P:
        x = x * SQRT_M1 % P
    if (x * x - x2) % P:
        return None
    return P - x if x & 1 != sign and x else x


def decode(data: bytes) -> Point | None:
    encoded = int.from_bytes(data, "little")
    y, sign = encoded & (2**255 - 1), encoded >> 255
    if y >= P:
        return None
    x = recover_x(y, sign)
    if x is None or (x == 0 and sign):
        return None
    return (x, y, 1, x * y % P)


def encode(point: Point) -> bytes:
    x, y, z, _ = point
    zi = inverse(z)
    x, y = x * zi % P, y * zi % P
    return (y | (x & 1) << 255).to_bytes(32, "little")


def is_valid(data: bytes) -> bool:
    """specs/ring.md "Points": canonical, on the curve, in the subgroup, not the identity."""
    point = decode(data)
    return (
        point is not None
        and encode(point) != encode(IDENTITY)
        and encode(point_mul(L, point)) == encode(IDENTITY)
    )


BASE = decode(BASE_Y.to_bytes(32, "little"))
assert BASE is not None


def from_uniform(uniform: bytes) -> bytes:
    """specs/ring.md "Hash to the curve", step by step."""
    sign = uniform[31] >> 7
    r = int.from_bytes(uniform, "little") & (2**255 - 1)
    x = -MONTGOMERY_A * inverse(1 + 2 * r * r) % P
    e = pow((x * x * x + MONTGOMERY_A * x * x + x) % P, (P - 1) // 2, P)
    if e == P - 1:
        x = (-x - MONTGOMERY_A) % P
    y = (x - 1) * inverse(x + 1) % P
    edwards_x = recover_x(y, sign)
    assert edwards_x is not None  # Elligator 2 lands on the curve
    return encode(point_mul(8, (edwards_x, y, 1, edwards_x * y % P)))


def reduce64(digest: bytes) -> int:
    return int.from_bytes(digest, "little") % L


def reference_check(keys: list[bytes], scope: bytes, message: bytes, signature: bytes) -> str:
    """specs/ring.md "Ring" and "Verifying": "valid" or the reason code."""
    n = len(keys)
    if not 1 <= n <= 1024 or any(len(key) != 32 for key in keys):
        return "bad_ring"
    if any(a >= b for a, b in itertools.pairwise(keys)) or not all(is_valid(key) for key in keys):
        return "bad_ring"
    if len(signature) != 64 + 32 * n:
        return "bad_ring_signature"
    if not is_valid(signature[:32]):
        return "bad_key_image"
    scalars = [
        int.from_bytes(signature[at : at + 32], "little") for at in range(32, 64 + 32 * n, 32)
    ]
    if any(scalar >= L for scalar in scalars):
        return "non_canonical_scalar"
    ring_hash = hashlib.sha256(
        b"ayllu/ring/v1/ring" + n.to_bytes(4, "big") + b"".join(keys)
    ).digest()
    scope_point = decode(from_uniform(hashlib.sha256(b"ayllu/ring/v1/scope" + scope).digest()))
    image = decode(signature[:32])
    assert scope_point is not None and image is not None
    prefix = (
        b"ayllu/ring/v1/challenge"
        + ring_hash
        + bytes([len(scope)])
        + scope
        + signature[:32]
        + hashlib.sha256(message).digest()
    )
    challenge = scalars[0]
    for key, response in zip(keys, scalars[1:], strict=True):
        member = decode(key)
        assert member is not None
        left = point_add(point_mul(response, BASE), point_mul(challenge, member))
        right = point_add(point_mul(response, scope_point), point_mul(challenge, image))
        challenge = reduce64(hashlib.sha512(prefix + encode(left) + encode(right)).digest())
    return "valid" if challenge == scalars[0] else "bad_ring_signature"


def test_reference_hash_to_curve_is_libsodiums() -> None:
    for i in range(64):
        uniform = hashlib.sha256(b"uniform %d" % i).digest()
        assert from_uniform(uniform) == nacl.bindings.crypto_core_ed25519_from_uniform(uniform)


@pytest.mark.parametrize("key", VECTORS["keys"][:3], ids=lambda k: k["name"])
def test_reference_key_derivation(key: dict[str, str]) -> None:
    h = bytearray(hashlib.sha512(bytes.fromhex(key["seed_hex"])).digest()[:32])
    h[0] &= 248
    h[31] = h[31] & 127 | 64
    x = int.from_bytes(h, "little") % L
    assert x.to_bytes(32, "little").hex() == key["scalar_hex"]
    assert encode(point_mul(x, BASE)).hex() == key["public_hex"]


@pytest.mark.parametrize("vector", VECTORS["valid"] + VECTORS["invalid"], ids=lambda v: v["name"])
def test_reference_agrees_with_every_vector(vector: dict[str, Any]) -> None:
    keys = [bytes.fromhex(k) for k in vector["ring_hex"]]
    scope = bytes.fromhex(vector["scope_hex"])
    signature = bytes.fromhex(vector["signature_hex"])
    verdict = reference_check(keys, scope, bytes.fromhex(vector["message_hex"]), signature)
    assert verdict == vector.get("reason", "valid")
    if verdict == "valid":
        assert signature[:32].hex() == vector["key_image_hex"]
        point = from_uniform(hashlib.sha256(b"ayllu/ring/v1/scope" + scope).digest())
        assert point.hex() == vector["scope_point_hex"]
