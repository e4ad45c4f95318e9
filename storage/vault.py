"""The registrar's vault: Code 1 records (name, national ID), encrypted at rest.

Theory of operation
-------------------
A registrar checks a person's identity in person and certifies their Code 2
key; what it saw (the verified identity, Code 1) stays on the registrar's
node, in this vault, and nowhere else: never in an event, a log line or an
exception message. The vault is its own SQLite file (e.g.
``DIR/registry.sqlite3``), apart from the event store, created with mode
0600 (SQLite gives its -wal and -shm files the same mode) and marked with
``PRAGMA application_id = VAULT_APPLICATION_ID`` so that no other database
is ever mistaken for one.

One row per person. The member's key, the uniqueness tag and the
certificate event id are lookup columns in the clear: the certificate event
shows all three on the network anyway. Everything else (name, the ID as
typed, the registration time, notes) is one canonical CBOR map, padded to a
multiple of ``PAD_BLOCK`` bytes (ISO/IEC 7816-4 padding, so the length of a
name does not show), sealed with NaCl SecretBox (XSalsa20-Poly1305) under
the vault key with a fresh 24-byte nonce. The sealed map repeats the member
key and the tag, and opening checks them against the row, so sealed data
cannot be moved onto another row unnoticed. ``seal_record`` and
``open_record`` are pure; the nonce comes from the caller or, by default,
from ``nacl.utils.random`` at the edge, in ``Vault.add``. A nonce is never
used twice under one key (a UNIQUE column), since XSalsa20 with a repeated
nonce leaks the XOR of two plaintexts.

The vault key (32 bytes) is either derived from a passphrase with Argon2id
(salt and limits kept in ``vault_meta``, the limits capped on read as
protocol/keys.py caps a key file's), or read from a vault key file: 64 hex
digits and an optional newline (``encode_vault_key_file``). ``vault_meta``
also holds a *key check*: ``KEY_CHECK`` sealed under the vault key, so a
wrong passphrase or key file is refused on opening with VaultKeyError
instead of yielding garbage later.

SQLite is driven as storage/sqlite.py drives it (read its docstring): one
connection used only from worker threads through ``trio.to_thread.run_sync``
with a ``CapacityLimiter(1)``, WAL with ``synchronous=FULL``, every write one
``BEGIN IMMEDIATE`` transaction that rolls back whole on any failure. The
schema is a list of migrations applied by ``storage.schema.migrate`` (its
own ``schema_version`` table; a vault newer than this code is refused).
"""

from __future__ import annotations

import builtins
import contextlib
import os
import sqlite3
import tempfile
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import nacl.bindings
import nacl.exceptions
import nacl.pwhash
import nacl.secret
import nacl.utils
import trio

from protocol import cbor
from protocol.errors import LocalError, Rejected
from protocol.keys import KDF_MEMLIMIT, KDF_OPSLIMIT, check_kdf_limits, derive_key
from protocol.uniqueness import normalize_national_id
from storage.interface import StorageError
from storage.schema import Migration, migrate
from storage.worker import ConnectionThread, in_transaction

#: ``PRAGMA application_id`` of a vault: "AYLV".
VAULT_APPLICATION_ID = 0x41594C56
KEY_SIZE = nacl.secret.SecretBox.KEY_SIZE
NONCE_SIZE = nacl.secret.SecretBox.NONCE_SIZE
SALT_SIZE = nacl.pwhash.argon2id.SALTBYTES
#: The plaintext sealed in ``vault_meta`` to check the vault key.
KEY_CHECK = b"ayllu vault key check v1"
#: Sealed records are padded to a multiple of this many bytes.
PAD_BLOCK = 256
#: Largest encoded record (before padding); notes are meant to be short.
MAX_RECORD_SIZE = 16 * 1024
#: Version of the sealed record map (its ``v`` field).
RECORD_VERSION = 1
BUSY_TIMEOUT_S = 5.0

_KDF_ARGON2ID = "argon2id13"
_KDF_KEY_FILE = "key-file"
_RECORD_FIELDS = frozenset(
    {"v", "member", "tag", "name", "country", "document", "number", "registered_ms", "notes"}
)

_T = TypeVar("_T")

VAULT_MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "vault: key derivation and key check; sealed Code 1 records",
        (
            # One row. kdf is 'argon2id13' (salt and limits set) or
            # 'key-file' (the key is read from a file; they are NULL).
            """CREATE TABLE vault_meta (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    kdf TEXT NOT NULL CHECK (kdf IN ('argon2id13', 'key-file')),
    salt BLOB,
    opslimit INTEGER,
    memlimit INTEGER,
    check_nonce BLOB NOT NULL CHECK (length(check_nonce) = 24),
    check_box BLOB NOT NULL
)""",
            """CREATE TABLE records (
    seq INTEGER PRIMARY KEY,
    member BLOB NOT NULL UNIQUE CHECK (length(member) = 32),
    tag BLOB NOT NULL UNIQUE CHECK (length(tag) = 32),
    cert BLOB UNIQUE CHECK (cert IS NULL OR length(cert) = 32),
    nonce BLOB NOT NULL UNIQUE CHECK (length(nonce) = 24),
    box BLOB NOT NULL
)""",
        ),
    ),
)


class VaultError(LocalError):
    """The vault refuses: not a vault, already exists, no such member, ..."""


class VaultKeyError(VaultError):
    """The passphrase or key does not open this vault."""


class AlreadyRegistered(VaultError):
    """This person (same tag) or this member key already has a record here."""


class RecordDamaged(VaultError):
    """A sealed record does not open under the vault key, or not onto its row."""


@dataclass(frozen=True, slots=True, repr=False)
class Passphrase:
    """A vault passphrase (UTF-8 bytes); its repr never shows it."""

    value: bytes

    def __repr__(self) -> str:
        return "Passphrase(<hidden>)"


@dataclass(frozen=True, slots=True, repr=False)
class VaultKey:
    """A raw 32-byte vault key, as read from a vault key file."""

    value: bytes

    def __post_init__(self) -> None:
        if not isinstance(self.value, bytes) or len(self.value) != KEY_SIZE:
            raise VaultError(f"a vault key is {KEY_SIZE} bytes")

    def __repr__(self) -> str:
        return "VaultKey(<hidden>)"


VaultSecret = Passphrase | VaultKey


def encode_vault_key_file(key: VaultKey) -> bytes:
    """A vault key file: the 32-byte key as 64 lowercase hex digits and a newline."""
    return key.value.hex().encode("ascii") + b"\n"


def decode_vault_key_file(data: bytes) -> VaultKey:
    """The key in a vault key file: 64 hex digits (any case), ASCII
    whitespace around them ignored."""
    text = data.strip(b" \t\r\n")
    try:
        raw = bytes.fromhex(text.decode("ascii")) if len(text) == 2 * KEY_SIZE else None
    except (UnicodeDecodeError, ValueError):
        raw = None
    if raw is None:
        raise VaultError(f"a vault key file holds {2 * KEY_SIZE} hex digits")
    return VaultKey(raw)


@dataclass(frozen=True, slots=True, repr=False)
class Code1Record:
    """One person's verified identity, as the registrar recorded it.

    ``country``, ``document`` and ``number`` are kept as typed; their
    normal form (``normalized()``) is what ``tag`` was computed from.
    ``cert`` is the id of the certificate event, once issued. The repr shows
    the public parts only, so a record in a traceback or a log leaks nothing.
    """

    member: bytes
    tag: bytes
    name: str
    country: str
    document: str
    number: str
    registered_ms: int
    notes: str = ""
    cert: bytes | None = None

    def __post_init__(self) -> None:
        for field, value in (("member", self.member), ("tag", self.tag)):
            if not isinstance(value, bytes) or len(value) != 32:
                raise VaultError(f"a record's {field} is 32 bytes")
        if self.cert is not None and (not isinstance(self.cert, bytes) or len(self.cert) != 32):
            raise VaultError("a record's cert is a 32-byte event id or None")
        if not isinstance(self.name, str) or not self.name.strip():
            raise VaultError("a record needs a name")
        for field, text in (
            ("country", self.country),
            ("document", self.document),
            ("number", self.number),
            ("notes", self.notes),
        ):
            if not isinstance(text, str):
                raise VaultError(f"a record's {field} is text")
        if (
            not isinstance(self.registered_ms, int)
            or isinstance(self.registered_ms, bool)
            or not 0 <= self.registered_ms < 2**63
        ):
            raise VaultError("a record's registered_ms is a non-negative ms timestamp")

    def normalized(self) -> bytes:
        """The normalized national ID (protocol.uniqueness), input of the tag."""
        return normalize_national_id(self.country, self.document, self.number)

    def __repr__(self) -> str:
        cert = "None" if self.cert is None else self.cert.hex()
        return (
            f"Code1Record(member={self.member.hex()}, tag={self.tag.hex()}, cert={cert}, "
            "<personal data hidden>)"
        )


def seal_record(key: bytes, record: Code1Record, nonce: bytes) -> bytes:
    """The ciphertext (SecretBox, without the nonce) of a record's sealed map."""
    if len(nonce) != NONCE_SIZE:
        raise VaultError(f"a record nonce is {NONCE_SIZE} bytes")
    payload = cbor.encode(
        {
            "v": RECORD_VERSION,
            "member": record.member,
            "tag": record.tag,
            "name": record.name,
            "country": record.country,
            "document": record.document,
            "number": record.number,
            "registered_ms": record.registered_ms,
            "notes": record.notes,
        }
    )
    if len(payload) > MAX_RECORD_SIZE:
        raise VaultError(f"the record is over {MAX_RECORD_SIZE} bytes: shorten the notes")
    padded = nacl.bindings.sodium_pad(payload, PAD_BLOCK)
    return nacl.secret.SecretBox(key).encrypt(padded, nonce).ciphertext


def open_record(
    key: bytes, member: bytes, tag: bytes, cert: bytes | None, nonce: bytes, box: bytes
) -> Code1Record:
    """The record sealed in ``box``; RecordDamaged unless it opens and names
    the row's member and tag."""
    try:
        padded = nacl.secret.SecretBox(key).decrypt(box, nonce)
        value = cbor.decode(nacl.bindings.sodium_unpad(padded, PAD_BLOCK))
    except (nacl.exceptions.CryptoError, ValueError, Rejected):
        raise RecordDamaged("a sealed record does not open: the vault is damaged") from None
    if (
        not isinstance(value, dict)
        or set(value) != _RECORD_FIELDS
        or value["v"] != RECORD_VERSION
        or value["member"] != member
        or value["tag"] != tag
    ):
        raise RecordDamaged("a sealed record does not belong to its row: the vault is damaged")
    try:
        return Code1Record(
            member=member,
            tag=tag,
            name=value["name"],
            country=value["country"],
            document=value["document"],
            number=value["number"],
            registered_ms=value["registered_ms"],
            notes=value["notes"],
            cert=cert,
        )
    except VaultError:
        raise RecordDamaged("a sealed record is malformed: the vault is damaged") from None


async def create_vault(
    path: str | os.PathLike[str],
    secret: VaultSecret,
    *,
    salt: bytes | None = None,
    check_nonce: bytes | None = None,
    opslimit: int = KDF_OPSLIMIT,
    memlimit: int = KDF_MEMLIMIT,
) -> None:
    """Create an empty vault at ``path``, which must not exist.

    With a Passphrase the key is Argon2id of it (``salt``, ``opslimit``,
    ``memlimit``); with a VaultKey it is that key. ``salt`` and
    ``check_nonce`` default to fresh random bytes. On any failure the file
    is removed: there is no half-created vault.
    """
    salt = nacl.utils.random(SALT_SIZE) if salt is None else salt
    check_nonce = nacl.utils.random(NONCE_SIZE) if check_nonce is None else check_nonce
    if len(salt) != SALT_SIZE or len(check_nonce) != NONCE_SIZE:
        raise VaultError(f"a vault needs a {SALT_SIZE}-byte salt and a {NONCE_SIZE}-byte nonce")
    if isinstance(secret, Passphrase):
        _check_limits(opslimit, memlimit)
    elif not isinstance(secret, VaultKey):
        raise VaultError("a vault is created with a Passphrase or a VaultKey")
    await trio.to_thread.run_sync(
        _create, os.fspath(path), secret, salt, check_nonce, opslimit, memlimit
    )


@contextlib.asynccontextmanager
async def open_vault(path: str | os.PathLike[str], secret: VaultSecret) -> AsyncIterator[Vault]:
    """Open the vault at ``path`` (it must exist) with its passphrase or key; close on exit."""
    vault = await Vault.open(path, secret)
    try:
        yield vault
    finally:
        await vault.close()


class Vault:
    """An open vault. Open it with ``open_vault``."""

    def __init__(self, connection: sqlite3.Connection, key: bytes) -> None:
        self._thread = ConnectionThread(connection, VaultError("the vault is closed"), "vault: ")
        self._run = self._thread.run
        self._key = key

    def __repr__(self) -> str:
        return "Vault(<open>)" if self._thread.is_open else "Vault(<closed>)"

    @classmethod
    async def open(cls, path: str | os.PathLike[str], secret: VaultSecret) -> Vault:
        """Open the vault at ``path``; the caller must ``close`` it.

        VaultKeyError for a wrong passphrase or key, VaultError for a file
        that is not a vault, StorageError for a damaged or newer one.
        """
        if not isinstance(secret, Passphrase | VaultKey):
            raise VaultError("a vault is opened with a Passphrase or a VaultKey")
        connection, key = await trio.to_thread.run_sync(_open, os.fspath(path), secret)
        return cls(connection, key)

    async def close(self) -> None:
        """Close after the calls queued before this one (storage/worker.py)."""
        await self._thread.close()

    async def add(self, record: Code1Record, *, nonce: bytes | None = None) -> None:
        """Store a new person's record.

        AlreadyRegistered if a record with the same tag (this person is
        already registered here), the same member key or the same cert
        exists; InvalidNationalId if the ID does not normalize. Nothing is
        written unless everything is.
        """
        record.normalized()  # refuses an ID no tag could have been computed from
        nonce = nacl.utils.random(NONCE_SIZE) if nonce is None else nonce
        box = seal_record(self._key, record, nonce)

        def work(db: sqlite3.Connection) -> None:
            if _exists(db, "tag", record.tag):
                raise AlreadyRegistered(
                    "this person is already registered here (a record has the same uniqueness tag)"
                )
            if _exists(db, "member", record.member):
                raise AlreadyRegistered("this member key is already registered here")
            if record.cert is not None and _exists(db, "cert", record.cert):
                raise AlreadyRegistered("this certificate is already recorded for another member")
            _check_fresh_nonce(db, nonce)
            db.execute(
                "INSERT INTO records (member, tag, cert, nonce, box) VALUES (?, ?, ?, ?, ?)",
                (record.member, record.tag, record.cert, nonce, box),
            )

        await self._write(work)

    async def set_cert(self, member: bytes, cert_id: bytes) -> None:
        """Record (or replace, on renewal) the certificate event id of a member."""
        if not isinstance(cert_id, bytes) or len(cert_id) != 32:
            raise VaultError("a certificate id is 32 bytes")

        def work(db: sqlite3.Connection) -> None:
            row = db.execute("SELECT member FROM records WHERE cert = ?", (cert_id,)).fetchone()
            if row is not None and row[0] != member:
                raise AlreadyRegistered("this certificate is already recorded for another member")
            updated = db.execute("UPDATE records SET cert = ? WHERE member = ?", (cert_id, member))
            if updated.rowcount != 1:
                raise VaultError("no record for this member key")

        await self._write(work)

    async def replace_member(
        self,
        old_member: bytes,
        new_member: bytes,
        *,
        cert_id: bytes | None = None,
        nonce: bytes | None = None,
    ) -> None:
        """Move a person's record to a new member key (a lost key: the
        network's ``cert.replace``), resealed under a fresh nonce; the cert
        becomes ``cert_id`` (None until the new certificate is issued)."""
        if cert_id is not None and (not isinstance(cert_id, bytes) or len(cert_id) != 32):
            raise VaultError("a certificate id is 32 bytes")
        nonce = nacl.utils.random(NONCE_SIZE) if nonce is None else nonce
        key = self._key

        def work(db: sqlite3.Connection) -> None:
            old = _read_one(db, key, "member", old_member)
            if old is None:
                raise VaultError("no record for this member key")
            if _exists(db, "member", new_member):
                raise AlreadyRegistered("this member key is already registered here")
            if cert_id is not None and _exists(db, "cert", cert_id):
                raise AlreadyRegistered("this certificate is already recorded for another member")
            _check_fresh_nonce(db, nonce)
            moved = Code1Record(
                member=new_member,
                tag=old.tag,
                name=old.name,
                country=old.country,
                document=old.document,
                number=old.number,
                registered_ms=old.registered_ms,
                notes=old.notes,
                cert=cert_id,
            )
            db.execute(
                "UPDATE records SET member = ?, cert = ?, nonce = ?, box = ? WHERE member = ?",
                (new_member, cert_id, nonce, seal_record(key, moved, nonce), old_member),
            )

        await self._write(work)

    async def discard(self, member: bytes, cert: bytes | None) -> None:
        """Remove the record of ``member`` if, and only if, its cert is ``cert``.

        For the one record that may be removed: a registration's, written
        before its certificate was published, whose certificate never
        reached the event store (the publication failed, or the process
        died in between). The caller checks that; the condition on ``cert``
        makes sure it removes the record it checked and no newer one.
        ``secure_delete`` overwrites the sealed bytes. VaultError if there
        is no such record.
        """

        def work(db: sqlite3.Connection) -> None:
            deleted = db.execute(
                "DELETE FROM records WHERE member = ? AND cert IS ?", (member, cert)
            )
            if deleted.rowcount != 1:
                raise VaultError("no record for this member key and certificate")

        await self._write(work)

    async def get_by_member(self, member: bytes) -> Code1Record | None:
        key = self._key
        return await self._run(lambda db: _read_one(db, key, "member", member))

    async def get_by_tag(self, tag: bytes) -> Code1Record | None:
        key = self._key
        return await self._run(lambda db: _read_one(db, key, "tag", tag))

    async def count(self) -> int:
        return await self._run(
            lambda db: int(db.execute("SELECT count(*) FROM records").fetchone()[0])
        )

    async def list(self) -> builtins.list[Code1Record]:
        """Every record, decrypted, in the order they were added."""
        key = self._key

        def work(db: sqlite3.Connection) -> builtins.list[Code1Record]:
            rows = db.execute(f"SELECT {_ROW} FROM records ORDER BY seq")
            return [open_record(key, *row) for row in rows]

        return await self._run(work)

    async def _write(self, work: Callable[[sqlite3.Connection], None]) -> None:
        await self._run(lambda db: in_transaction(db, work))


_ROW = "member, tag, cert, nonce, box"


def _read_one(db: sqlite3.Connection, key: bytes, column: str, value: bytes) -> Code1Record | None:
    row = db.execute(f"SELECT {_ROW} FROM records WHERE {column} = ?", (value,)).fetchone()
    return None if row is None else open_record(key, *row)


def _exists(db: sqlite3.Connection, column: str, value: bytes) -> bool:
    return db.execute(f"SELECT 1 FROM records WHERE {column} = ?", (value,)).fetchone() is not None


def _check_fresh_nonce(db: sqlite3.Connection, nonce: bytes) -> None:
    if len(nonce) != NONCE_SIZE:
        raise VaultError(f"a record nonce is {NONCE_SIZE} bytes")
    used = db.execute(
        "SELECT 1 FROM records WHERE nonce = ?1"
        " UNION ALL SELECT 1 FROM vault_meta WHERE check_nonce = ?1",
        (nonce,),
    ).fetchone()
    if used is not None:
        raise VaultError("this nonce was already used in this vault: nonces must be fresh")


def _check_limits(opslimit: object, memlimit: object) -> tuple[int, int]:
    """The vault's Argon2id limits, capped as in a key file (protocol/keys.py)."""
    try:
        return check_kdf_limits(opslimit, memlimit)
    except LocalError as exc:
        raise VaultError(f"the vault's {exc}") from None


def _derive_key(passphrase: bytes, salt: bytes, opslimit: int, memlimit: int) -> bytes:
    try:
        return derive_key(passphrase, salt, opslimit, memlimit)
    except LocalError as exc:
        raise VaultError(str(exc)) from None


def _configure(db: sqlite3.Connection) -> None:
    (mode,) = db.execute("PRAGMA journal_mode = WAL").fetchone()
    if str(mode).lower() != "wal":
        raise StorageError(f"the vault cannot use the WAL journal (got {mode!r})")
    db.execute("PRAGMA synchronous = FULL")
    # Deleted records are overwritten with zeros, not left in free pages.
    db.execute("PRAGMA secure_delete = ON")


def _create(
    path: str,
    secret: VaultSecret,
    salt: bytes,
    check_nonce: bytes,
    opslimit: int,
    memlimit: int,
) -> None:
    """Create, configure, migrate and initialize the vault; on a worker thread.

    The vault is built in a file of its own beside ``path`` (mode 0600 from
    the start, its name unique to this attempt), written back from its WAL
    and fsynced, and only then linked to ``path``, which fails if anything
    is there. So a vault appears whole or not at all, even to a process
    killed half way or a power cut: built in place, such a death left a file
    that was not yet a vault, which every later registration refused. A
    killed attempt leaves at most its hidden ``.NAME.*.creating`` file.
    """
    if os.path.lexists(path):
        raise VaultError(f"{path} already exists: a vault is never overwritten")
    directory, name = os.path.split(os.path.abspath(path))
    try:
        fd, staging = tempfile.mkstemp(prefix=f".{name}.", suffix=".creating", dir=directory)
    except OSError as exc:
        raise VaultError(f"cannot create {path}: {exc.strerror}") from None
    os.close(fd)
    db: sqlite3.Connection | None = None
    try:
        if isinstance(secret, Passphrase):
            key = _derive_key(secret.value, salt, opslimit, memlimit)
            meta: tuple[Any, ...] = (_KDF_ARGON2ID, salt, opslimit, memlimit)
        else:
            key = secret.value
            meta = (_KDF_KEY_FILE, None, None, None)
        check_box = nacl.secret.SecretBox(key).encrypt(KEY_CHECK, check_nonce).ciphertext
        db = sqlite3.connect(
            staging, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False
        )
        _configure(db)
        migrate(db, VAULT_MIGRATIONS)

        def initialize(db: sqlite3.Connection) -> None:
            db.execute(f"PRAGMA application_id = {VAULT_APPLICATION_ID}")
            db.execute(
                "INSERT INTO vault_meta (id, kdf, salt, opslimit, memlimit, check_nonce, check_box)"
                " VALUES (1, ?, ?, ?, ?, ?, ?)",
                (*meta, check_nonce, check_box),
            )

        in_transaction(db, initialize)
        (busy, _, _) = db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        if busy:
            raise StorageError(f"cannot create the vault {path}: its WAL was not written back")
        db.close()
        db = None
        _fsync(staging)
        _link_new(staging, path)
        _fsync(directory)
    except BaseException as exc:
        if db is not None:
            db.close()
        if isinstance(exc, sqlite3.Error | OSError):
            raise StorageError(f"cannot create the vault {path}: {exc}") from exc
        raise
    finally:
        for leftover in (staging, staging + "-wal", staging + "-shm", staging + "-journal"):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(leftover)


def _link_new(staging: str, path: str) -> None:
    """Give the built vault its name, never over an existing file."""
    try:
        os.link(staging, path)
        return
    except FileExistsError:
        raise VaultError(f"{path} already exists: a vault is never overwritten") from None
    except OSError:
        pass
    # A file system without hard links (FAT): rename, once the name is seen
    # free; only another creator of this very vault could slip in between.
    if os.path.lexists(path):
        raise VaultError(f"{path} already exists: a vault is never overwritten")
    try:
        os.rename(staging, path)
    except OSError as exc:
        raise VaultError(f"cannot create {path}: {exc.strerror}") from None


def _fsync(path: str) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _open(path: str, secret: VaultSecret) -> tuple[sqlite3.Connection, bytes]:
    """Open, check, migrate and unlock the vault; on a worker thread."""
    if not os.path.exists(path):
        raise VaultError(f"no vault at {path}")
    uri = Path(path).resolve().as_uri() + "?mode=rw"
    try:
        db = sqlite3.connect(
            uri, uri=True, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False
        )
    except sqlite3.Error as exc:
        raise StorageError(f"cannot open the vault {path}: {exc}") from exc
    try:
        (application_id,) = db.execute("PRAGMA application_id").fetchone()
        if application_id != VAULT_APPLICATION_ID:
            raise VaultError(f"{path} is not an ayllu vault")
        _configure(db)
        migrate(db, VAULT_MIGRATIONS)
        meta = db.execute(
            "SELECT kdf, salt, opslimit, memlimit, check_nonce, check_box FROM vault_meta"
        ).fetchone()
        if meta is None:
            raise VaultError(f"{path} is not an initialized vault")
        key = _unlock(secret, *meta)
    except sqlite3.Error as exc:
        db.close()
        raise StorageError(f"cannot open the vault {path}: {exc}") from exc
    except BaseException:
        db.close()
        raise
    return db, key


def _unlock(
    secret: VaultSecret,
    kdf: str,
    salt: bytes | None,
    opslimit: int | None,
    memlimit: int | None,
    check_nonce: bytes,
    check_box: bytes,
) -> bytes:
    """The vault key, once the key check opens under it."""
    if kdf == _KDF_ARGON2ID:
        if not isinstance(secret, Passphrase):
            raise VaultKeyError("this vault is opened with its passphrase, not a key file")
        if not isinstance(salt, bytes) or len(salt) != SALT_SIZE:
            raise VaultError("the vault's Argon2id salt is damaged")
        key = _derive_key(secret.value, salt, *_check_limits(opslimit, memlimit))
    elif kdf == _KDF_KEY_FILE:
        if not isinstance(secret, VaultKey):
            raise VaultKeyError("this vault is opened with its key file, not a passphrase")
        key = secret.value
    else:
        raise VaultError("the vault's key derivation is unknown")
    try:
        opened = nacl.secret.SecretBox(key).decrypt(check_box, check_nonce)
    except nacl.exceptions.CryptoError:
        opened = None
    if opened != KEY_CHECK:
        what = "passphrase" if kdf == _KDF_ARGON2ID else "key"
        raise VaultKeyError(f"wrong {what} for this vault (or its key check is damaged)")
    return key
