"""Ed25519 keys: derivation, the key file format, and libp2p peer ids.

Sans-I/O: the caller supplies random bytes (seed, salt, nonce) and does the
file I/O (node/keyfile.py), so the format is testable byte for byte.

Key file (specs/keys.md): UTF-8 JSON. The public key and peer id stay in the
clear so a node can say who it is without its passphrase; the 32-byte seed is
either in the clear (``"seed"``) or sealed (``"sealed"``): Argon2id derives a
key from the passphrase, and XSalsa20-Poly1305 (NaCl SecretBox) encrypts the
seed. The public key is checked against the opened seed, so a file edited by
hand is caught rather than silently yielding another identity.
"""

from __future__ import annotations

import json
from typing import Any

import base58
import nacl.exceptions
import nacl.pwhash
import nacl.secret
from nacl.signing import SigningKey

from protocol.errors import LocalError

KEYFILE_FORMAT = "ayllu-key"
KEYFILE_VERSION = 1
SEED_SIZE = 32
SALT_SIZE = nacl.pwhash.argon2id.SALTBYTES
NONCE_SIZE = nacl.secret.SecretBox.NONCE_SIZE
#: Argon2id cost. "Interactive" keeps unsealing under a second on a
#: Raspberry Pi while still costing an attacker 64 MiB per guess.
KDF_OPSLIMIT = nacl.pwhash.argon2id.OPSLIMIT_INTERACTIVE
KDF_MEMLIMIT = nacl.pwhash.argon2id.MEMLIMIT_INTERACTIVE
#: A key file cannot make us spend more than libsodium's "sensitive" cost.
MAX_OPSLIMIT = nacl.pwhash.argon2id.OPSLIMIT_SENSITIVE
MAX_MEMLIMIT = nacl.pwhash.argon2id.MEMLIMIT_SENSITIVE


class KeyFileError(LocalError):
    """The key file cannot be read: wrong passphrase, damaged, or foreign."""


def key_from_seed(seed: bytes) -> SigningKey:
    if len(seed) != SEED_SIZE:
        raise LocalError("an Ed25519 seed is 32 bytes")
    return SigningKey(seed)


def peer_id(public_key: bytes) -> str:
    """The libp2p peer id of an Ed25519 public key, in base58btc.

    libp2p peer-ids spec: the protobuf ``PublicKey{Type: Ed25519 (1), Data}``
    is 36 bytes, short enough to be embedded with the identity multihash
    (code 0x00, length 0x24) instead of being hashed.
    """
    if len(public_key) != 32:
        raise LocalError("an Ed25519 public key is 32 bytes")
    protobuf = b"\x08\x01\x12\x20" + public_key
    return base58.b58encode(b"\x00" + bytes([len(protobuf)]) + protobuf).decode("ascii")


def encode_keyfile(
    key: SigningKey,
    passphrase: bytes | None = None,
    *,
    salt: bytes | None = None,
    nonce: bytes | None = None,
    opslimit: int = KDF_OPSLIMIT,
    memlimit: int = KDF_MEMLIMIT,
) -> bytes:
    """The key file bytes; with a passphrase, ``salt`` and ``nonce`` are required."""
    public = bytes(key.verify_key)
    document: dict[str, Any] = {
        "format": KEYFILE_FORMAT,
        "version": KEYFILE_VERSION,
        "type": "ed25519",
        "public": public.hex(),
        "peer_id": peer_id(public),
    }
    seed = bytes(key)
    if passphrase is None:
        document["seed"] = seed.hex()
    else:
        document["sealed"] = seal_secret(
            seed, passphrase, salt=salt, nonce=nonce, opslimit=opslimit, memlimit=memlimit
        )
    return (json.dumps(document, indent=2) + "\n").encode("utf-8")


def seal_secret(
    secret: bytes,
    passphrase: bytes,
    *,
    salt: bytes | None,
    nonce: bytes | None,
    opslimit: int = KDF_OPSLIMIT,
    memlimit: int = KDF_MEMLIMIT,
) -> dict[str, Any]:
    """The "sealed" object of specs/keys.md for any secret: Argon2id derives
    a SecretBox key from the passphrase. Every file that keeps a secret
    under a passphrase (key files, tag-key files) seals it this one way."""
    if salt is None or len(salt) != SALT_SIZE or nonce is None or len(nonce) != NONCE_SIZE:
        raise LocalError(f"sealing needs a {SALT_SIZE}-byte salt and a {NONCE_SIZE}-byte nonce")
    box = nacl.secret.SecretBox(derive_key(passphrase, salt, opslimit, memlimit))
    return {
        "kdf": "argon2id13",
        "opslimit": opslimit,
        "memlimit": memlimit,
        "salt": salt.hex(),
        "nonce": nonce.hex(),
        "ciphertext": box.encrypt(secret, nonce).ciphertext.hex(),
    }


def open_sealed(sealed: object, passphrase: bytes, size: int) -> bytes:
    """The ``size``-byte secret in a "sealed" object; KeyFileError on any problem.

    The KDF limits come from the file, so they are capped: a planted file
    must not make us spend more than libsodium's "sensitive" cost.
    """
    if not isinstance(sealed, dict) or sealed.get("kdf") != "argon2id13":
        raise KeyFileError("unknown sealing in the key file")
    opslimit, memlimit = check_kdf_limits(sealed.get("opslimit"), sealed.get("memlimit"))
    salt = hex_field(sealed, "salt", SALT_SIZE)
    box = nacl.secret.SecretBox(derive_key(passphrase, salt, opslimit, memlimit))
    try:
        return box.decrypt(
            hex_field(sealed, "ciphertext", size + box.MACBYTES),
            hex_field(sealed, "nonce", NONCE_SIZE),
        )
    except nacl.exceptions.CryptoError:
        raise KeyFileError("wrong passphrase, or the key file is damaged") from None


def keyfile_is_sealed(data: bytes) -> bool:
    return "sealed" in _load(data)


def keyfile_public(data: bytes) -> bytes:
    """The public key a key file claims, readable without the passphrase."""
    return hex_field(_load(data), "public", 32)


def decode_keyfile(data: bytes, passphrase: bytes | None = None) -> SigningKey:
    """The signing key in a key file; KeyFileError on any problem."""
    document = _load(data)
    if "sealed" in document:
        if passphrase is None:
            raise KeyFileError("the key file is sealed: a passphrase is needed")
        seed = open_sealed(document["sealed"], passphrase, SEED_SIZE)
    else:
        seed = hex_field(document, "seed", SEED_SIZE)
    key = SigningKey(seed)
    if bytes(key.verify_key) != hex_field(document, "public", 32):
        raise KeyFileError("the key file's public key does not match its seed")
    return key


def check_kdf_limits(opslimit: object, memlimit: object) -> tuple[int, int]:
    """Argon2id limits read from a file, refused above libsodium's
    "sensitive" cost so that a planted file cannot exhaust the node."""
    if not isinstance(opslimit, int) or not 0 < opslimit <= MAX_OPSLIMIT:
        raise KeyFileError("the Argon2id opslimit is out of range")
    if not isinstance(memlimit, int) or not 0 < memlimit <= MAX_MEMLIMIT:
        raise KeyFileError("the Argon2id memlimit is out of range")
    return opslimit, memlimit


def derive_key(passphrase: bytes, salt: bytes, opslimit: int, memlimit: int) -> bytes:
    try:
        return nacl.pwhash.argon2id.kdf(
            nacl.secret.SecretBox.KEY_SIZE, passphrase, salt, opslimit=opslimit, memlimit=memlimit
        )
    except (nacl.exceptions.CryptoError, ValueError, TypeError) as exc:
        raise KeyFileError(f"cannot derive the sealing key: {exc}") from None


def _load(data: bytes) -> dict[str, Any]:
    try:
        document = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise KeyFileError("not a key file: not UTF-8 JSON") from None
    if (
        not isinstance(document, dict)
        or document.get("format") != KEYFILE_FORMAT
        or document.get("version") != KEYFILE_VERSION
        or document.get("type") != "ed25519"
    ):
        raise KeyFileError(f"not an {KEYFILE_FORMAT} version {KEYFILE_VERSION} ed25519 key file")
    return document


def hex_field(document: dict[str, Any], name: str, size: int) -> bytes:
    value = document.get(name)
    try:
        raw = bytes.fromhex(value) if isinstance(value, str) else None
    except ValueError:
        raw = None
    if raw is None or len(raw) != size:
        raise KeyFileError(f"the key file's {name!r} must be {size} bytes in hex")
    return raw
