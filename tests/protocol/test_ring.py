"""Ring signatures: round trips, linkability, key derivation, and hostile input."""

from __future__ import annotations

import hashlib

import nacl.bindings
import pytest
from hypothesis import given
from hypothesis import strategies as st

from protocol.errors import LocalError, Reason, Rejected
from protocol.keys import key_from_seed
from protocol.ring import (
    GROUP_ORDER,
    MAX_RING_SIZE,
    PreparedRing,
    RingSigner,
    _sign_with_nonces,
    ring_scalar,
    sign,
    signature_size,
    verify,
)

SEEDS = [hashlib.sha256(b"test ring key %d" % i).digest() for i in range(20)]
#: Twenty members in ring order (ascending public key).
SIGNERS = sorted(
    (RingSigner.from_key(key_from_seed(seed)) for seed in SEEDS), key=lambda s: s.public
)
SCOPE = hashlib.sha256(b"ballot 1").digest()
OTHER_SCOPE = hashlib.sha256(b"ballot 2").digest()
MESSAGE = b"option 2"
NONCE = bytes(range(32))


def ring_of(signers: list[RingSigner], scope: bytes = SCOPE) -> PreparedRing:
    return PreparedRing([s.public for s in signers], scope)


RING5 = ring_of(SIGNERS[:5])
SIGNATURE5 = sign(RING5, SIGNERS[2], MESSAGE, NONCE)


@pytest.mark.parametrize("size", [1, 2, 3, 7, 16])
def test_round_trip_at_every_kind_of_position(size: int) -> None:
    ring = ring_of(SIGNERS[:size])
    for index in sorted({0, size // 2, size - 1}):
        signer = SIGNERS[index]
        signature = sign(ring, signer, MESSAGE, NONCE)
        assert len(signature) == signature_size(size) == 64 + 32 * size
        assert verify(ring, MESSAGE, signature) == ring.key_image(signer)


def test_signing_is_deterministic_and_the_nonces_follow_the_message() -> None:
    assert sign(RING5, SIGNERS[2], MESSAGE, NONCE) == SIGNATURE5
    again = sign(RING5, SIGNERS[2], b"option 3", NONCE)
    # Same nonce seed, another message: another alpha, so other challenges.
    assert again[32:64] != SIGNATURE5[32:64]
    assert sign(RING5, SIGNERS[2], MESSAGE, bytes(32))[32:] != SIGNATURE5[32:]


def test_same_key_same_scope_links() -> None:
    first = verify(RING5, MESSAGE, SIGNATURE5)
    second = verify(RING5, b"option 3", sign(RING5, SIGNERS[2], b"option 3", bytes(32)))
    assert first == second == RING5.key_image(SIGNERS[2])


def test_the_image_depends_on_the_key_and_scope_not_on_the_ring() -> None:
    bigger = ring_of(SIGNERS[:9])
    image = verify(bigger, MESSAGE, sign(bigger, SIGNERS[2], MESSAGE, NONCE))
    assert image == verify(RING5, MESSAGE, SIGNATURE5)


def test_other_scope_does_not_link() -> None:
    other = ring_of(SIGNERS[:5], OTHER_SCOPE)
    image = verify(other, MESSAGE, sign(other, SIGNERS[2], MESSAGE, NONCE))
    assert image != verify(RING5, MESSAGE, SIGNATURE5)


def test_different_members_have_different_images() -> None:
    images = {verify(RING5, MESSAGE, sign(RING5, s, MESSAGE, NONCE)) for s in SIGNERS[:5]}
    assert len(images) == 5


@pytest.mark.parametrize("seed", SEEDS[:5])
def test_the_ring_scalar_is_the_ed25519_secret_scalar(seed: bytes) -> None:
    x = ring_scalar(seed)
    public = bytes(key_from_seed(seed).verify_key)
    assert nacl.bindings.crypto_scalarmult_ed25519_base_noclamp(x) == public
    # libsodium's clamping variant applied to SHA-512(seed)[:32] agrees.
    clamped = hashlib.sha512(seed).digest()[:32]
    assert nacl.bindings.crypto_scalarmult_ed25519_base(clamped) == public
    assert int.from_bytes(x, "little") < GROUP_ORDER


def test_a_signer_must_match_its_public_key() -> None:
    good = SIGNERS[0]
    with pytest.raises(LocalError, match="does not match"):
        RingSigner(public=SIGNERS[1].public, scalar=good.scalar)
    with pytest.raises(LocalError):
        RingSigner(public=good.public, scalar=bytes(32))
    with pytest.raises(LocalError):
        RingSigner(public=good.public, scalar=GROUP_ORDER.to_bytes(32, "little"))
    assert good.scalar.hex() not in repr(good)


def test_local_errors() -> None:
    with pytest.raises(LocalError, match="not in the ring"):
        sign(RING5, SIGNERS[7], MESSAGE, NONCE)
    with pytest.raises(LocalError, match="nonce seed"):
        sign(RING5, SIGNERS[2], MESSAGE, bytes(31))
    for scope in (b"", bytes(65)):
        with pytest.raises(LocalError, match="scope"):
            ring_of(SIGNERS[:5], scope)


@pytest.mark.parametrize(
    ("keys", "detail"),
    [
        ([], "1 to"),
        ([SIGNERS[0].public] * (MAX_RING_SIZE + 1), "1 to"),
        ([s.public for s in SIGNERS[:5]][::-1], "sorts before"),
        ([SIGNERS[0].public, SIGNERS[0].public], "repeats"),
        ([SIGNERS[0].public[:31]], "32 bytes"),
        ([bytes([1]) + bytes(31), SIGNERS[0].public], "not a valid point"),
    ],
)
def test_bad_rings(keys: list[bytes], detail: str) -> None:
    with pytest.raises(Rejected, match=detail) as caught:
        PreparedRing(keys, SCOPE)
    assert caught.value.reason is Reason.BAD_RING


def test_no_verification_under_a_ring_without_the_signer() -> None:
    others = ring_of(SIGNERS[5:10])
    with pytest.raises(Rejected) as caught:
        verify(others, MESSAGE, SIGNATURE5)
    assert caught.value.reason is Reason.BAD_RING_SIGNATURE
    # The signer swapped for an outsider: the outsider's signature over that
    # ring is good there, and neither signature crosses to the other ring.
    swapped = ring_of([*SIGNERS[:2], *SIGNERS[3:5], SIGNERS[10]])
    outsider = sign(swapped, SIGNERS[10], MESSAGE, NONCE)
    assert verify(swapped, MESSAGE, outsider) == swapped.key_image(SIGNERS[10])
    for ring, signature in ((swapped, SIGNATURE5), (RING5, outsider)):
        with pytest.raises(Rejected) as caught:
            verify(ring, MESSAGE, signature)
        assert caught.value.reason is Reason.BAD_RING_SIGNATURE


def test_zero_scalars_follow_the_algebra() -> None:
    """0·P is the identity: a zero r_i verifies, a zero alpha signs, c_0 = 0 is refused."""
    digest = hashlib.sha256(MESSAGE).digest()
    reduce = nacl.bindings.crypto_core_ed25519_scalar_reduce
    nonces = [reduce(hashlib.sha512(b"%d" % i).digest()) for i in range(6)]
    nonces[4] = bytes(32)  # r_4 = 0, a non-signer's response
    signature = _sign_with_nonces(RING5, SIGNERS[2], 2, digest, nonces)
    assert signature[-32:] == bytes(32)
    assert verify(RING5, MESSAGE, signature) == RING5.key_image(SIGNERS[2])
    nonces[5] = bytes(32)  # alpha = 0
    assert verify(RING5, MESSAGE, _sign_with_nonces(RING5, SIGNERS[2], 2, digest, nonces))
    forged = SIGNATURE5[:32] + bytes(32) + SIGNATURE5[64:]
    with pytest.raises(Rejected) as caught:
        verify(RING5, MESSAGE, forged)
    assert caught.value.reason is Reason.BAD_RING_SIGNATURE


def test_verify_takes_any_bytes_like() -> None:
    assert verify(RING5, MESSAGE, bytearray(SIGNATURE5)) == SIGNATURE5[:32]
    assert verify(RING5, memoryview(MESSAGE), memoryview(SIGNATURE5)) == SIGNATURE5[:32]


def test_every_single_bit_flip_is_rejected() -> None:
    reasons = set()
    for bit in range(len(SIGNATURE5) * 8):
        flipped = bytearray(SIGNATURE5)
        flipped[bit // 8] ^= 1 << (bit % 8)
        with pytest.raises(Rejected) as caught:
            verify(RING5, MESSAGE, bytes(flipped))
        reasons.add(caught.value.reason)
    assert reasons == {
        Reason.BAD_KEY_IMAGE,
        Reason.NON_CANONICAL_SCALAR,
        Reason.BAD_RING_SIGNATURE,
    }


@st.composite
def mutations(draw: st.DrawFn) -> bytes:
    """Damage a valid signature the ways links and attackers do."""
    data = bytearray(SIGNATURE5)
    for _ in range(draw(st.integers(1, 4))):
        where = draw(st.integers(0, len(data)))
        how = draw(st.sampled_from(["flip", "set", "insert", "delete", "truncate", "scalar"]))
        if how == "flip" and where < len(data):
            data[where] ^= 1 << draw(st.integers(0, 7))
        elif how == "set" and where < len(data):
            data[where] = draw(st.integers(0, 255))
        elif how == "insert":
            data[where:where] = draw(st.binary(min_size=1, max_size=40))
        elif how == "delete":
            del data[where : where + draw(st.integers(1, 40))]
        elif how == "truncate":
            del data[where:]
        elif how == "scalar" and len(data) >= 64:
            # A chosen 32-byte block: zero, L, L - 1, 2**256 - 1, another image.
            block = draw(
                st.sampled_from(
                    [
                        bytes(32),
                        GROUP_ORDER.to_bytes(32, "little"),
                        (GROUP_ORDER - 1).to_bytes(32, "little"),
                        b"\xff" * 32,
                        RING5.key_image(SIGNERS[0]),
                    ]
                )
            )
            at = 32 * draw(st.integers(0, len(data) // 32 - 1))
            data[at : at + 32] = block
    return bytes(data)


@given(st.one_of(mutations(), st.binary(max_size=300)))
def test_nothing_but_a_rejection_escapes(data: bytes) -> None:
    try:
        image = verify(RING5, MESSAGE, data)
    except Rejected as exc:
        assert isinstance(exc.reason, Reason)
        return
    # Only the signature itself gets through (no second encoding of it).
    assert data == SIGNATURE5
    assert image == RING5.key_image(SIGNERS[2])
