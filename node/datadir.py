"""A node's data directory: where its identity, its network and its memory live.

    DIR/node.key        the node key (specs/keys.md), mode 0600
    DIR/genesis.cbor    the genesis document of the node's network
                        (specs/genesis.md), byte for byte as given, mode 0644
    DIR/events.sqlite3  the event store (plus SQLite's -wal and -shm files)

The directory itself is made 0700: the store holds nothing secret today, but
later issues keep a registrar's encrypted Code 1 records here. The genesis
document is public (every node of the network holds the same bytes), so it
stays readable for tools that run as another user.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from nacl.signing import SigningKey

from node.files import write_durably
from node.keyfile import create_key_file, load_key_file
from protocol.errors import LocalError
from protocol.genesis import MAX_GENESIS_SIZE, Genesis, parse_genesis
from storage import open_sqlite_store

KEY_FILE = "node.key"
GENESIS_FILE = "genesis.cbor"
STORE_FILE = "events.sqlite3"


@dataclass(frozen=True)
class DataDir:
    root: Path

    @property
    def key_path(self) -> Path:
        return self.root / KEY_FILE

    @property
    def genesis_path(self) -> Path:
        return self.root / GENESIS_FILE

    @property
    def store_path(self) -> Path:
        return self.root / STORE_FILE

    async def initialize(self, genesis: Genesis, passphrase: bytes | None = None) -> SigningKey:
        """Create the key (never over an existing one), the network's genesis
        document and an empty store.

        The key comes first: it is what makes a directory a node, so a
        directory that already has one is left untouched, genesis included.
        """
        self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
        key = create_key_file(self.key_path, passphrase)
        write_durably(self.genesis_path, genesis.raw, mode=0o644, replace=True)
        async with open_sqlite_store(self.store_path):
            pass
        return key

    def load_key(self, passphrase: bytes | None = None) -> SigningKey:
        return load_key_file(self.key_path, passphrase)

    def load_genesis(self) -> Genesis:
        """The node's network; Rejected if the file is not a genesis document."""
        try:
            with self.genesis_path.open("rb") as file:
                # One byte past the limit is enough to refuse an oversized file.
                raw = file.read(MAX_GENESIS_SIZE + 1)
        except FileNotFoundError:
            raise LocalError(
                f"no genesis document at {self.genesis_path}: "
                "create the node with 'ayllu init --genesis FILE'"
            ) from None
        return parse_genesis(raw)
