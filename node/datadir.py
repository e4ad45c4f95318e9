"""A node's data directory: where its identity and its memory live.

    DIR/node.key        the node key (specs/keys.md), mode 0600
    DIR/events.sqlite3  the event store (plus SQLite's -wal and -shm files)

The directory itself is made 0700: the store holds nothing secret today, but
later issues keep a registrar's encrypted Code 1 records here.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from nacl.signing import SigningKey

from node.keyfile import create_key_file, load_key_file
from storage import open_sqlite_store

KEY_FILE = "node.key"
STORE_FILE = "events.sqlite3"


@dataclass(frozen=True)
class DataDir:
    root: Path

    @property
    def key_path(self) -> Path:
        return self.root / KEY_FILE

    @property
    def store_path(self) -> Path:
        return self.root / STORE_FILE

    async def initialize(self, passphrase: bytes | None = None) -> SigningKey:
        """Create the key (never over an existing one) and an empty store."""
        self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
        key = create_key_file(self.key_path, passphrase)
        async with open_sqlite_store(self.store_path):
            pass
        return key

    def load_key(self, passphrase: bytes | None = None) -> SigningKey:
        return load_key_file(self.key_path, passphrase)
