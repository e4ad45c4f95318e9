"""The node's memory: a content-addressed event store behind a narrow interface.

``EventStore`` is the contract; ``open_sqlite_store`` gives the real store,
``MemoryEventStore`` the fake for tests. Nothing outside this package
writes SQL.
"""

from storage.interface import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    CachedPeer,
    EventStore,
    IngestResult,
    IngestStatus,
    Key,
    RangeSummary,
    StorageError,
    StoredEvent,
)
from storage.memory import MemoryEventStore
from storage.sqlite import SqliteEventStore, open_sqlite_store

__all__ = [
    "DEFAULT_LIMIT",
    "MAX_LIMIT",
    "CachedPeer",
    "EventStore",
    "IngestResult",
    "IngestStatus",
    "Key",
    "MemoryEventStore",
    "RangeSummary",
    "SqliteEventStore",
    "StorageError",
    "StoredEvent",
    "open_sqlite_store",
]
