"""Node key files on disk: created once, private to their owner, never replaced.

The format lives in protocol/keys.py (and specs/keys.md); this module only
adds the file system's part: fresh randomness, mode 0600 from the moment
the file exists, an exclusive create so an existing identity is never
overwritten, and an fsync so a key reported as created survives a crash.
"""

from __future__ import annotations

from pathlib import Path

import nacl.utils
from nacl.signing import SigningKey

from node.files import write_durably
from protocol.errors import LocalError
from protocol.keys import (
    NONCE_SIZE,
    SALT_SIZE,
    SEED_SIZE,
    decode_keyfile,
    encode_keyfile,
    key_from_seed,
)


class KeyExistsError(LocalError):
    """A key file is already there; replacing it would change the identity."""


def generate_key() -> SigningKey:
    return key_from_seed(nacl.utils.random(SEED_SIZE))


def create_key_file(path: Path, passphrase: bytes | None = None) -> SigningKey:
    """Write a new key to ``path`` (sealed when a passphrase is given)."""
    key = generate_key()
    if passphrase is None:
        data = encode_keyfile(key)
    else:
        data = encode_keyfile(
            key, passphrase, salt=nacl.utils.random(SALT_SIZE), nonce=nacl.utils.random(NONCE_SIZE)
        )
    try:
        write_durably(path, data, mode=0o600, replace=False)
    except FileExistsError:
        raise KeyExistsError(f"refusing to overwrite the existing key file {path}") from None
    return key


def load_key_file(path: Path, passphrase: bytes | None = None) -> SigningKey:
    return decode_keyfile(path.read_bytes(), passphrase)
