"""Key files on disk: private, never overwritten, readable back."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from node.keyfile import KeyExistsError, create_key_file, load_key_file
from protocol.keys import KeyFileError


def test_created_private_and_loadable(tmp_path: Path) -> None:
    path = tmp_path / "node.key"
    key = create_key_file(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert bytes(load_key_file(path)) == bytes(key)


def test_sealed_needs_its_passphrase(tmp_path: Path) -> None:
    path = tmp_path / "node.key"
    key = create_key_file(path, b"sumaq kawsay")
    assert bytes(key).hex() not in path.read_text()
    assert bytes(load_key_file(path, b"sumaq kawsay")) == bytes(key)
    with pytest.raises(KeyFileError):
        load_key_file(path, b"wrong")


def test_never_overwrites(tmp_path: Path) -> None:
    path = tmp_path / "node.key"
    first = create_key_file(path)
    before = path.read_bytes()
    with pytest.raises(KeyExistsError):
        create_key_file(path)
    assert path.read_bytes() == before
    assert bytes(load_key_file(path)) == bytes(first)


def test_two_keys_differ(tmp_path: Path) -> None:
    assert bytes(create_key_file(tmp_path / "a")) != bytes(create_key_file(tmp_path / "b"))
