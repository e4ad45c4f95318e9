"""The registrar's acts that touch Code 1: registering a person, replacing
their certificate; and the registrar's local secrets (tag key, vault key).

Theory of operation
-------------------
Registering writes in two places that cannot share a transaction: the
vault (the person's Code 1 record, DIR/registry.sqlite3, storage/vault.py)
and the event store (the ``cert.issue`` event). The order keeps one rule:

    a vault record is kept exactly when its certificate event is stored.

1. Everything that can refuse is checked before anything is written: the
   ID normalizes, the ``cert.issue`` is signed and previewed against the
   state (``duplicate_identity``, ``already_certified``, ``not_registrar``,
   ...), and the vault has neither this person nor this key.
2. The record is written to the vault *first*, with the id of the signed,
   not yet stored, certificate event (an event's id is known once it is
   signed).
3. The event is committed to the store.

A certificate that the store acknowledged therefore always has its Code 1
record: nothing acknowledged is lost. If step 3 fails (the store refuses
or fails, the user interrupts), the record is removed again (``undo``),
unless the event did reach the store. If the process dies between 2 and 3,
the record is left naming an event the store does not hold; the next
registration or replacement that touches that person or that key sees it
(``reconcile``) and repairs it: it removes the record of a person the
network holds no certificate for (an interrupted registration), or points
it back at the certificate the network holds (an interrupted replacement).
Running the same command again is therefore always the way to finish.

Replacing (a lost key, a renewal) is the same dance: the record moves to
the new key, naming the new certificate, before the ``cert.replace`` is
committed, and moves back if the commit fails.

The person's name and ID never leave this module other than sealed in the
vault: results carry the member key, the tag and certificate ids only, and
errors name a part of the ID at most, never its value.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import nacl.utils
import trio
from nacl.signing import SigningKey

from node.files import write_durably
from node.governance import Published, Refused, commit, next_ts, prepare_issue, prepare_replace
from node.keyfile import KeyExistsError
from protocol.errors import LocalError, Reason
from protocol.event import SignedEvent
from protocol.groups import DAY_MS
from protocol.keys import NONCE_SIZE, SALT_SIZE
from protocol.uniqueness import (
    TAG_KEY_SIZE,
    encode_tag_key_file,
    normalize_national_id,
    tag_key_id,
    uniqueness_tag,
)
from storage.state import NetworkStore
from storage.vault import (
    KEY_SIZE,
    AlreadyRegistered,
    Code1Record,
    Vault,
    VaultKey,
    VaultSecret,
    create_vault,
    encode_vault_key_file,
    open_vault,
)

#: The vault's file in a node's data directory (specs/identity.md).
VAULT_FILE = "registry.sqlite3"
DEFAULT_EXPIRES_DAYS = 730


def vault_path(data_dir: Path) -> Path:
    return data_dir / VAULT_FILE


@dataclass(frozen=True, slots=True, repr=False)
class Person:
    """A person's Code 1 as the registrar read it from their document.
    ``name`` may be empty only to replace a certificate whose record this
    vault holds already. The repr hides everything."""

    name: str
    country: str
    document: str
    number: str
    notes: str = ""

    def __repr__(self) -> str:
        return "Person(<personal data hidden>)"


@dataclass(frozen=True, slots=True)
class Registration:
    """What a registration or replacement did, without personal data."""

    published: Published
    member: bytes
    tag: bytes
    expires_ms: int
    #: For a replacement: the certificate replaced and its key.
    old_cert: bytes | None = None
    old_member: bytes | None = None

    @property
    def cert(self) -> bytes:
        return self.published.event.id


@contextlib.asynccontextmanager
async def open_or_create_vault(path: Path, secret: VaultSecret) -> AsyncIterator[Vault]:
    """The vault at ``path``, created (mode 0600) with ``secret`` on first use."""
    if not path.exists():
        await create_vault(path, secret)
    async with open_vault(path, secret) as vault:
        yield vault


def tag_of(tag_key: bytes, person: Person) -> bytes:
    """The person's uniqueness tag; InvalidNationalId names the bad part only."""
    normalized = normalize_national_id(person.country, person.document, person.number)
    return uniqueness_tag(tag_key, normalized)


async def register(
    store: NetworkStore,
    vault_at: Path,
    secret: VaultSecret,
    key: SigningKey,
    tag_key: bytes,
    person: Person,
    member: bytes,
    *,
    expires_days: int = DEFAULT_EXPIRES_DAYS,
    now_ms: int,
) -> Registration:
    """Record the person in the vault and certify ``member`` for them."""
    if not person.name.strip():
        raise LocalError("a registration needs the person's name")
    tag = tag_of(tag_key, person)
    ts = await next_ts(store, now_ms)
    expires = ts + expires_days * DAY_MS
    event = await prepare_issue(store, key, member=member, tag=tag, expires_ms=expires, ts=ts)
    async with open_or_create_vault(vault_at, secret) as vault:
        await reconcile(store, vault, tag=tag, member=member)
        if await vault.get_by_tag(tag) is not None:
            raise AlreadyRegistered("this person is already registered here")
        if await vault.get_by_member(member) is not None:
            raise AlreadyRegistered("this member key is already registered here")
        await vault.add(_record(person, member, tag, now_ms, cert=event.id))
        published = await _commit_or_undo(
            store, event, now_ms, lambda: vault.discard(member, event.id)
        )
    return Registration(published, member, tag, expires)


async def replace(
    store: NetworkStore,
    vault_at: Path,
    secret: VaultSecret,
    key: SigningKey,
    tag_key: bytes,
    person: Person,
    member: bytes,
    *,
    expires_days: int = DEFAULT_EXPIRES_DAYS,
    now_ms: int,
) -> Registration:
    """Replace the person's current certificate by one for ``member`` (a new
    key, or the same one to renew it), moving their vault record along.

    A person registered by another registrar gets a record here, which
    needs ``person.name``; this vault's record of the person keeps its name.
    """
    tag = tag_of(tag_key, person)
    old = store.state.registry.by_tag.get(tag)
    if old is None:
        raise Refused(
            Reason.UNKNOWN_CERTIFICATE,
            "no certificate holds this person's tag: register them (ayllu member register)",
        )
    ts = await next_ts(store, now_ms)
    expires = ts + expires_days * DAY_MS
    event = await prepare_replace(store, key, old=old, member=member, expires_ms=expires, ts=ts)
    async with open_or_create_vault(vault_at, secret) as vault:
        await reconcile(store, vault, tag=tag, member=member)
        record = await vault.get_by_tag(tag)
        undo: Callable[[], Awaitable[None]]
        if record is None:
            if not person.name.strip():
                raise LocalError("this vault has no record of the person: give their name")
            if await vault.get_by_member(member) is not None:
                raise AlreadyRegistered("this member key is already registered here")
            await vault.add(_record(person, member, tag, now_ms, cert=event.id))

            def undo() -> Awaitable[None]:
                return vault.discard(member, event.id)

        else:
            previous_member, previous_cert = record.member, record.cert
            assert previous_cert is not None  # reconcile points every record at a certificate
            if previous_member == member:
                await vault.set_cert(member, event.id)

                def undo() -> Awaitable[None]:
                    return vault.set_cert(member, previous_cert)

            else:
                await vault.replace_member(previous_member, member, cert_id=event.id)

                def undo() -> Awaitable[None]:
                    return vault.replace_member(member, previous_member, cert_id=previous_cert)

        published = await _commit_or_undo(store, event, now_ms, undo)
    return Registration(published, member, tag, expires, old_cert=old.id, old_member=old.member)


async def reconcile(store: NetworkStore, vault: Vault, *, tag: bytes, member: bytes) -> None:
    """Repair the vault records of ``tag`` and of ``member`` that name a
    certificate the store does not hold: the trace of a registration or
    replacement interrupted between its vault write and its commit.

    A record for a person the network holds no certificate for is removed
    (the registration never happened); any other is pointed back at the
    person's certificate on the network, and its key.
    """
    records = [await vault.get_by_tag(tag), await vault.get_by_member(member)]
    seen: set[bytes] = set()
    for record in records:
        if record is None or record.member in seen:
            continue
        seen.add(record.member)
        if record.cert is not None and await store.events.has([record.cert]):
            continue
        current = store.state.registry.by_tag.get(record.tag)
        if current is None:
            await vault.discard(record.member, record.cert)
        elif current.member == record.member:
            await vault.set_cert(record.member, current.id)
        else:
            await vault.replace_member(record.member, current.member, cert_id=current.id)


async def _commit_or_undo(
    store: NetworkStore,
    event: SignedEvent,
    now_ms: int,
    undo: Callable[[], Awaitable[None]],
) -> Published:
    """Commit ``event``; if that fails and the event is not in the store,
    undo the vault write that came before. If even that fails (or the store
    cannot say), ``reconcile`` repairs the record on the next attempt."""
    try:
        return await commit(store, event, now_ms)
    except BaseException:
        # Shielded, so that an interrupted commit still undoes; the original
        # failure is what the user must see, not one of this clean-up's.
        with trio.CancelScope(shield=True), contextlib.suppress(Exception):
            if event.id not in await store.events.has([event.id]):
                await undo()
        raise


def _record(person: Person, member: bytes, tag: bytes, now_ms: int, *, cert: bytes) -> Code1Record:
    return Code1Record(
        member=member,
        tag=tag,
        name=person.name.strip(),
        country=person.country,
        document=person.document,
        number=person.number,
        registered_ms=now_ms,
        notes=person.notes,
        cert=cert,
    )


# -- the registrar's local secrets --


def create_tag_key_file(path: Path, passphrase: bytes | None = None) -> bytes:
    """A new random tag key (specs/identity.md), written to ``path`` (never
    over an existing file), sealed if a passphrase is given; its key id."""
    tag_key = nacl.utils.random(TAG_KEY_SIZE)
    if passphrase is None:
        data = encode_tag_key_file(tag_key)
    else:
        data = encode_tag_key_file(
            tag_key,
            passphrase,
            salt=nacl.utils.random(SALT_SIZE),
            nonce=nacl.utils.random(NONCE_SIZE),
        )
    write_private_file(path, data)
    return tag_key_id(tag_key)


def create_vault_key_file(path: Path) -> None:
    """A new random vault key, written to ``path`` (never over an existing file)."""
    write_private_file(path, encode_vault_key_file(VaultKey(nacl.utils.random(KEY_SIZE))))


def write_private_file(path: Path, data: bytes) -> None:
    """Write a secret durably, mode 0600 from the start, never over a file."""
    try:
        write_durably(path, data, mode=0o600, replace=False)
    except FileExistsError:
        raise KeyExistsError(f"refusing to overwrite {path}") from None
    except OSError as exc:
        raise LocalError(f"cannot write {path}: {exc.strerror}") from None
