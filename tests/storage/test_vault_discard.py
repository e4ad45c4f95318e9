"""Vault.discard: the one way a record leaves the vault (an interrupted
registration's, whose certificate never reached the event store)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from protocol.uniqueness import normalize_national_id, uniqueness_tag
from storage.vault import Code1Record, VaultError, VaultKey, create_vault, open_vault

KEY = VaultKey(bytes(range(32)))
NAME = "Rosa Quispe Mamani"


def record(i: int, cert: bytes | None) -> Code1Record:
    number = str(40123987 + i)
    return Code1Record(
        member=hashlib.sha256(b"member %d" % i).digest(),
        tag=uniqueness_tag(bytes(32), normalize_national_id("PE", "DNI", number)),
        name=NAME,
        country="PE",
        document="DNI",
        number=number,
        registered_ms=1_760_000_000_000,
        cert=cert,
    )


async def test_discard_removes_only_the_record_with_that_cert(tmp_path: Path) -> None:
    path = tmp_path / "registry.sqlite3"
    await create_vault(path, KEY)
    cert = hashlib.sha256(b"cert").digest()
    pending, other = record(0, cert), record(1, None)
    async with open_vault(path, KEY) as vault:
        await vault.add(pending)
        await vault.add(other)
        with pytest.raises(VaultError):
            await vault.discard(pending.member, bytes(32))  # another cert: kept
        with pytest.raises(VaultError):
            await vault.discard(pending.member, None)
        await vault.discard(pending.member, cert)
        await vault.discard(other.member, None)
        assert await vault.count() == 0
        with pytest.raises(VaultError):
            await vault.discard(pending.member, cert)
        # The person may be registered again, by the same tag and key.
        await vault.add(pending)
        assert await vault.get_by_tag(pending.tag) == pending
