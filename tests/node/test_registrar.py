"""node/registrar.py: Code 1 in the vault and the certificate on the network,
kept together through failures: a vault record is kept exactly when its
certificate event is stored."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from event_factory import signing_key
from network_factory import TAG_KEY, Scenario, key_of

from node import registrar
from node.governance import Refused
from node.keyfile import KeyExistsError
from node.registrar import Person
from protocol.errors import LocalError, Reason
from protocol.uniqueness import InvalidNationalId, decode_tag_key_file
from storage import StorageError
from storage.state import NetworkStore, open_network_store
from storage.vault import Code1Record, VaultKey, decode_vault_key_file, open_vault

SECRET = VaultKey(bytes(range(32)))
ROSA = Person("Rosa Quispe Mamani", "PE", "DNI", "40123987", notes="local comunal")
JUAN = Person("Juan Mamani Condori", "PE", "DNI", "41234098")


@dataclass
class Registry:
    scenario: Scenario
    store: NetworkStore
    vault_at: Path

    @property
    def now(self) -> int:
        return self.scenario.now + 60_000

    async def register(self, person: Person, member: bytes) -> registrar.Registration:
        return await registrar.register(
            self.store, self.vault_at, SECRET, self.scenario.registrars[0], TAG_KEY, person,
            member, now_ms=self.now,
        )  # fmt: skip

    async def replace(self, person: Person, member: bytes) -> registrar.Registration:
        return await registrar.replace(
            self.store, self.vault_at, SECRET, self.scenario.registrars[0], TAG_KEY, person,
            member, now_ms=self.now,
        )  # fmt: skip

    async def records(self) -> dict[bytes, bytes | None]:
        if not self.vault_at.exists():
            return {}
        async with open_vault(self.vault_at, SECRET) as vault:
            return {r.member: r.cert for r in await vault.list()}


@pytest.fixture
async def registry(tmp_path: Path) -> AsyncIterator[Registry]:
    s = Scenario(root_level=2)
    async with open_network_store(tmp_path / "events.sqlite3", s.genesis) as store:
        yield Registry(s, store, tmp_path / registrar.VAULT_FILE)


ROSA_KEY = key_of(signing_key("rosa"))
ROSA_NEW_KEY = key_of(signing_key("rosa, new key"))
JUAN_KEY = key_of(signing_key("juan"))


async def test_register_writes_the_vault_then_the_certificate(registry: Registry) -> None:
    done = await registry.register(ROSA, ROSA_KEY)
    assert done.published.event.kind == "cert.issue"
    assert done.cert == done.published.event.id and done.member == ROSA_KEY
    cert = registry.store.state.registry.by_tag[done.tag]
    assert cert.id == done.cert and cert.expires == done.published.event.ts + 730 * 86_400_000
    assert await registry.records() == {ROSA_KEY: done.cert}
    async with open_vault(registry.vault_at, SECRET) as vault:
        record = await vault.get_by_member(ROSA_KEY)
    assert record is not None
    assert (record.name, record.number, record.notes) == (ROSA.name, ROSA.number, ROSA.notes)
    assert record.registered_ms == registry.now
    assert "Rosa" not in repr(done) and "40123987" not in repr(ROSA)


async def test_refusals_come_before_any_write(registry: Registry) -> None:
    retyped = Person("R. Quispe", "pe", "dni", "40.123.987")
    # Not even the vault is created for a refused registration.
    with pytest.raises(Refused) as refused:
        await registrar.register(
            registry.store, registry.vault_at, SECRET, signing_key("nobody"), TAG_KEY, ROSA,
            ROSA_KEY, now_ms=registry.now,
        )  # fmt: skip
    assert refused.value.reason is Reason.NOT_REGISTRAR and not registry.vault_at.exists()
    await registry.register(ROSA, ROSA_KEY)
    count = await registry.store.events.count()
    with pytest.raises(Refused) as refused:
        await registry.register(retyped, JUAN_KEY)
    assert refused.value.reason is Reason.DUPLICATE_IDENTITY
    with pytest.raises(Refused) as refused:
        await registry.register(JUAN, ROSA_KEY)
    assert refused.value.reason is Reason.ALREADY_CERTIFIED
    with pytest.raises(InvalidNationalId) as invalid:
        await registry.register(Person("Juan", "PER", "DNI", "1"), JUAN_KEY)
    assert invalid.value.field == "country"
    assert await registry.store.events.count() == count
    assert list(await registry.records()) == [ROSA_KEY]


async def test_a_failed_publication_removes_the_record(
    registry: Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(*args: Any, **kwargs: Any) -> Any:
        raise StorageError("disk full")

    monkeypatch.setattr(registrar, "commit", broken)
    with pytest.raises(StorageError):
        await registry.register(ROSA, ROSA_KEY)
    assert await registry.records() == {}
    assert await registry.store.events.count() == 0
    monkeypatch.undo()
    done = await registry.register(ROSA, ROSA_KEY)
    assert await registry.records() == {ROSA_KEY: done.cert}


async def test_an_interrupted_registration_is_finished_by_running_it_again(
    registry: Registry,
) -> None:
    # The process died after the vault write: the record names a certificate
    # the store never got. With the same person, or the same key for a
    # person typed wrong, the next registration clears it and proceeds.
    tag = registrar.tag_of(TAG_KEY, ROSA)
    ghost = hashlib.sha256(b"a certificate never stored").digest()
    async with registrar.open_or_create_vault(registry.vault_at, SECRET) as vault:
        await vault.add(_record(ROSA, ROSA_KEY, tag, ghost))
        wrong = Person("Juan", "PE", "DNI", "99999999")
        await vault.add(_record(wrong, JUAN_KEY, registrar.tag_of(TAG_KEY, wrong), ghost[::-1]))
    done = await registry.register(ROSA, ROSA_NEW_KEY)
    assert await registry.records() == {JUAN_KEY: ghost[::-1], ROSA_NEW_KEY: done.cert}
    juan = await registry.register(JUAN, JUAN_KEY)
    assert await registry.records() == {ROSA_NEW_KEY: done.cert, JUAN_KEY: juan.cert}


async def test_replace_moves_the_record_and_undoes_on_failure(
    registry: Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = await registry.register(ROSA, ROSA_KEY)
    replacing_rosa = Person("", ROSA.country, ROSA.document, "40 123 987")

    async def broken(*args: Any, **kwargs: Any) -> Any:
        raise StorageError("disk full")

    monkeypatch.setattr(registrar, "commit", broken)
    with pytest.raises(StorageError):
        await registry.replace(replacing_rosa, ROSA_NEW_KEY)
    assert await registry.records() == {ROSA_KEY: first.cert}
    with pytest.raises(StorageError):
        await registry.replace(replacing_rosa, ROSA_KEY)  # a renewal
    assert await registry.records() == {ROSA_KEY: first.cert}
    monkeypatch.undo()

    moved = await registry.replace(replacing_rosa, ROSA_NEW_KEY)
    assert moved.old_cert == first.cert and moved.old_member == ROSA_KEY
    assert await registry.records() == {ROSA_NEW_KEY: moved.cert}
    state = registry.store.state.registry
    assert state.by_tag[first.tag].id == moved.cert
    assert state.certificates[first.cert].status(registry.now + 1) == "revoked"
    renewed = await registry.replace(replacing_rosa, ROSA_NEW_KEY)
    assert await registry.records() == {ROSA_NEW_KEY: renewed.cert}


async def test_an_interrupted_replacement_is_pointed_back(registry: Registry) -> None:
    first = await registry.register(ROSA, ROSA_KEY)
    ghost = hashlib.sha256(b"a replacement never stored").digest()
    async with open_vault(registry.vault_at, SECRET) as vault:
        await vault.replace_member(ROSA_KEY, JUAN_KEY, cert_id=ghost)
    # JUAN_KEY is now free for Juan: the leftover goes back to Rosa's key first.
    juan = await registry.register(JUAN, JUAN_KEY)
    assert await registry.records() == {ROSA_KEY: first.cert, JUAN_KEY: juan.cert}


async def test_replace_needs_a_certificate_and_a_name_for_a_stranger(registry: Registry) -> None:
    with pytest.raises(Refused) as refused:
        await registry.replace(ROSA, ROSA_KEY)
    assert refused.value.reason is Reason.UNKNOWN_CERTIFICATE
    # Rosa registered by another registrar, whose vault this is not.
    s = registry.scenario
    issued = s.event(
        "cert.issue",
        s.registrars[1],
        {
            "tag": registrar.tag_of(TAG_KEY, ROSA),
            "member": ROSA_KEY,
            "expires": registry.now + 86_400_000,
        },
    )
    await registry.store.ingest([issued], registry.now)
    with pytest.raises(LocalError, match="give their name"):
        await registry.replace(Person("", "PE", "DNI", ROSA.number), ROSA_NEW_KEY)
    moved = await registry.replace(ROSA, ROSA_NEW_KEY)
    assert await registry.records() == {ROSA_NEW_KEY: moved.cert}


def test_secret_files_are_private_and_never_overwritten(tmp_path: Path) -> None:
    key_id = registrar.create_tag_key_file(tmp_path / "tag.json")
    data = (tmp_path / "tag.json").read_bytes()
    assert (tmp_path / "tag.json").stat().st_mode & 0o777 == 0o600
    assert len(decode_tag_key_file(data)) == 32 and len(key_id) == 16
    registrar.create_vault_key_file(tmp_path / "vault.key")
    assert len(decode_vault_key_file((tmp_path / "vault.key").read_bytes()).value) == 32
    with pytest.raises(KeyExistsError, match="refusing to overwrite"):
        registrar.create_vault_key_file(tmp_path / "vault.key")
    assert (tmp_path / "tag.json").read_bytes() == data


def _record(person: Person, member: bytes, tag: bytes, cert: bytes) -> Code1Record:
    return Code1Record(
        member=member,
        tag=tag,
        name=person.name,
        country=person.country,
        document=person.document,
        number=person.number,
        registered_ms=1,
        cert=cert,
    )
