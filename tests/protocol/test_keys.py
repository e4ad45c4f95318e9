"""Key derivation, the key file format, and peer ids."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from libp2p.crypto.ed25519 import Ed25519PublicKey
from libp2p.peer.id import ID

from protocol.errors import LocalError
from protocol.keys import (
    KeyFileError,
    decode_keyfile,
    encode_keyfile,
    key_from_seed,
    keyfile_is_sealed,
    keyfile_public,
    peer_id,
)

KEY = key_from_seed(bytes(range(32)))
SALT = bytes(16)
NONCE = bytes(24)
#: The lowest Argon2id cost libsodium allows, so these tests stay fast.
FAST = {"opslimit": 1, "memlimit": 8192}


def test_peer_id_matches_libp2p() -> None:
    public = bytes(KEY.verify_key)
    expected = ID.from_pubkey(Ed25519PublicKey.from_bytes(public)).to_base58()
    assert peer_id(public) == expected
    assert expected.startswith("12D3KooW")


def test_plain_keyfile_round_trip() -> None:
    data = encode_keyfile(KEY)
    assert not keyfile_is_sealed(data)
    assert keyfile_public(data) == bytes(KEY.verify_key)
    assert bytes(decode_keyfile(data)) == bytes(KEY)
    assert json.loads(data)["peer_id"] == peer_id(bytes(KEY.verify_key))


def test_sealed_keyfile_round_trip_and_hides_the_seed() -> None:
    data = encode_keyfile(KEY, b"kawsay", salt=SALT, nonce=NONCE, **FAST)
    assert keyfile_is_sealed(data)
    assert bytes(KEY).hex() not in data.decode()
    assert keyfile_public(data) == bytes(KEY.verify_key)
    assert bytes(decode_keyfile(data, b"kawsay")) == bytes(KEY)


def test_sealed_keyfile_needs_the_right_passphrase() -> None:
    data = encode_keyfile(KEY, b"kawsay", salt=SALT, nonce=NONCE, **FAST)
    with pytest.raises(KeyFileError, match="passphrase is needed"):
        decode_keyfile(data)
    with pytest.raises(KeyFileError, match="wrong passphrase"):
        decode_keyfile(data, b"wrong")


def test_sealing_needs_salt_and_nonce() -> None:
    with pytest.raises(LocalError, match="salt"):
        encode_keyfile(KEY, b"kawsay")


@pytest.mark.parametrize(
    "edit",
    [
        lambda d: d.update(public="00" * 32),
        lambda d: d.update(seed="zz"),
        lambda d: d.update(format="other"),
        lambda d: d.update(version=2),
        lambda d: d.pop("seed"),
    ],
)
def test_damaged_plain_keyfile_is_refused(edit: Callable[[dict[str, Any]], object]) -> None:
    document = json.loads(encode_keyfile(KEY))
    edit(document)
    with pytest.raises(KeyFileError):
        decode_keyfile(json.dumps(document).encode())


def test_hostile_kdf_cost_is_refused() -> None:
    document = json.loads(encode_keyfile(KEY, b"kawsay", salt=SALT, nonce=NONCE, **FAST))
    document["sealed"]["memlimit"] = 2**40
    with pytest.raises(KeyFileError, match="memlimit"):
        decode_keyfile(json.dumps(document).encode(), b"kawsay")


@pytest.mark.parametrize("data", [b"", b"\xff\xfe", b"[]", b"{}", b"not json"])
def test_garbage_is_refused(data: bytes) -> None:
    with pytest.raises(KeyFileError):
        decode_keyfile(data)
