"""The SQLite schema, as an ordered list of forward migrations.

Theory of operation
-------------------
``schema_version`` holds one row per migration applied (its number and what
it did); the database's version is the highest number there, 0 when empty.
Opening a database applies, in order, every migration above its version,
each in its own ``BEGIN IMMEDIATE`` transaction together with its row in
``schema_version``: a crash between two migrations leaves a database at the
earlier version, never half migrated, and the next open resumes. Each
transaction re-reads the version first, so two processes opening the same
file at once do not apply a migration twice.

A database whose version is above the last migration this code knows was
written by newer code; it is refused rather than misread.

Migrations are append-only: a released migration is never edited, a change
of schema is a new migration at the end of ``MIGRATIONS``.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial

from protocol.errors import LocalError
from protocol.fingerprint import LIMBS
from storage.interface import StorageError

#: The limb columns of an event id (protocol.fingerprint.id_limbs).
LIMB_COLUMNS = tuple(f"l{index}" for index in range(LIMBS))
_LIMBS_DDL = ",\n    ".join(f"{column} INTEGER NOT NULL" for column in LIMB_COLUMNS)


@dataclass(frozen=True, slots=True)
class Migration:
    """One step of the schema: SQL statements run in one transaction."""

    version: int
    description: str
    statements: tuple[str, ...]


MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "events by id and by (ts, id), group, kind and author; refs",
        (
            # A rowid table: raw can be 64 KiB, too big for WITHOUT ROWID's
            # b-tree pages. seq is the local arrival order, stable across
            # VACUUM because it is declared. The limbs make range
            # fingerprints a SQL aggregate (protocol/fingerprint.py).
            f"""CREATE TABLE events (
    seq INTEGER PRIMARY KEY,
    id BLOB NOT NULL UNIQUE,
    ts INTEGER NOT NULL,
    kind TEXT NOT NULL,
    grp BLOB NOT NULL,
    author BLOB NOT NULL,
    raw BLOB NOT NULL,
    {_LIMBS_DDL}
)""",
            # Covering index of range_summary and range_keys: a range scan
            # that never touches the table rows (and their big raw blobs).
            f"CREATE INDEX events_by_key ON events (ts, id, {', '.join(LIMB_COLUMNS)})",
            "CREATE INDEX events_by_group ON events (grp, ts, id)",
            "CREATE INDEX events_by_kind ON events (kind, ts, id)",
            "CREATE INDEX events_by_author ON events (author, ts, id)",
            # event -> each event it references, by seq: integer keys keep
            # the rows small and, as new events mostly reference recent
            # ones, the inserts near the end of both b-trees (keyed by the
            # random ids they would dirty a page per row). Both directions
            # are indexed: what an event depends on, what depends on it.
            """CREATE TABLE refs (
    event INTEGER NOT NULL REFERENCES events (seq),
    ref INTEGER NOT NULL REFERENCES events (seq),
    PRIMARY KEY (event, ref)
) WITHOUT ROWID""",
            "CREATE INDEX refs_by_ref ON refs (ref, event)",
        ),
    ),
    Migration(
        2,
        "events by group and key, covering the fingerprint limbs (scoped sync)",
        (
            # A sync session scoped to some groups (specs/sync.md section 6)
            # sums ranges of those groups' events from this index alone, as
            # events_by_key does for the whole store; it also serves every
            # query by group, so the narrower index goes.
            "DROP INDEX events_by_group",
            f"CREATE INDEX events_by_group_key ON events (grp, ts, id, {', '.join(LIMB_COLUMNS)})",
        ),
    ),
    Migration(
        3,
        "the peer cache: peers linked with, where, as what, when",
        (
            # The node's own, never synced (storage.interface.CachedPeer):
            # addrs are multiaddr strings one per line, roles comma-separated.
            """CREATE TABLE peers (
    peer_id TEXT PRIMARY KEY,
    addrs TEXT NOT NULL,
    roles TEXT NOT NULL,
    seen_ms INTEGER NOT NULL
) WITHOUT ROWID""",
        ),
    ),
)

_CREATE_VERSION_TABLE = """CREATE TABLE IF NOT EXISTS schema_version (
    version INTEGER PRIMARY KEY,
    description TEXT NOT NULL
)"""


def schema_version(connection: sqlite3.Connection) -> int:
    """The highest migration applied; 0 for a database without our tables."""
    exists = connection.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'"
    ).fetchone()
    if exists is None:
        return 0
    (version,) = connection.execute(
        "SELECT coalesce(max(version), 0) FROM schema_version"
    ).fetchone()
    return int(version)


def migrate(connection: sqlite3.Connection, migrations: Sequence[Migration] = MIGRATIONS) -> int:
    """Bring the database up to the last of ``migrations``; return its version.

    ``connection`` must be in autocommit mode (isolation_level None) and
    outside a transaction. StorageError if the database is newer than
    ``migrations`` or a migration fails (that migration is rolled back; those
    before it stay applied).
    """
    for index, migration in enumerate(migrations, start=1):
        if migration.version != index:
            raise LocalError(f"migration {index} is numbered {migration.version}")
    latest = len(migrations)
    try:
        _in_transaction(connection, partial(connection.execute, _CREATE_VERSION_TABLE))
        version = schema_version(connection)
    except sqlite3.Error as exc:
        raise StorageError(f"cannot read the schema version: {exc}") from exc
    if version > latest:
        raise StorageError(
            f"the database has schema version {version}, newer than this code's {latest}"
        )
    for migration in migrations[version:]:
        try:
            _in_transaction(connection, partial(_apply, connection, migration))
        except sqlite3.Error as exc:
            raise StorageError(
                f"migration {migration.version} ({migration.description}) failed: {exc}"
            ) from exc
    return latest


def _apply(connection: sqlite3.Connection, migration: Migration) -> None:
    if schema_version(connection) >= migration.version:
        return  # another process applied it since we looked
    for statement in migration.statements:
        connection.execute(statement)
    connection.execute(
        "INSERT INTO schema_version (version, description) VALUES (?, ?)",
        (migration.version, migration.description),
    )


def _in_transaction(connection: sqlite3.Connection, work: Callable[[], object]) -> None:
    """Run ``work()`` inside BEGIN IMMEDIATE .. COMMIT, rolling back on any error."""
    connection.execute("BEGIN IMMEDIATE")
    try:
        work()
        connection.execute("COMMIT")
    except BaseException:
        if connection.in_transaction:
            connection.execute("ROLLBACK")
        raise
