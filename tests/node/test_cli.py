"""The ayllu command line, driven as a user would."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from node.cli import main

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "specs" / "vectors" / "note.cbor"
VECTORS = json.loads((REPO / "specs" / "vectors" / "events.json").read_text(encoding="utf-8"))


def run(*args: str, stdin: bytes | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args), input=stdin)
    return result.exit_code, result.output


def test_version_from_the_installed_script() -> None:
    script = Path(sys.executable).parent / "ayllu"
    done = subprocess.run([str(script), "--version"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0
    assert done.stdout.startswith("ayllu, version ")


def test_init_creates_key_and_store_and_refuses_to_redo(tmp_path: Path) -> None:
    node = tmp_path / "node"
    code, out = run("init", "--data-dir", str(node))
    assert code == 0, out
    info = json.loads(out)
    assert info["peer_id"].startswith("12D3KooW")
    assert (node / "node.key").exists() and (node / "events.sqlite3").exists()
    key_before = (node / "node.key").read_bytes()
    code, out = run("init", "--data-dir", str(node))
    assert code == 1
    assert "refusing to overwrite" in out
    assert (node / "node.key").read_bytes() == key_before


def test_init_sealed_with_a_passphrase_file(tmp_path: Path) -> None:
    secret = tmp_path / "pass"
    secret.write_text("jallalla\n")
    code, out = run("init", "--data-dir", str(tmp_path / "n"), "--passphrase-file", str(secret))
    assert code == 0, out
    assert json.loads(out)["sealed"] is True
    assert "sealed" in json.loads((tmp_path / "n" / "node.key").read_text())


def test_verify_valid_sample() -> None:
    code, out = run("event", "verify", str(SAMPLE))
    assert code == 0, out
    document = json.loads(out)
    expected = VECTORS["valid"][0]
    assert document["valid"] is True
    assert document["id"] == expected["id_hex"]
    assert document["kind"] == "note"
    assert document["author_peer_id"] == expected["author_peer_id"]


#: Without a store, `verify` checks everything but the refs rules.
STATELESS_INVALID = [
    vector
    for vector in VECTORS["invalid"]
    if vector["reason"] not in {"missing_refs", "ts_before_ref"}
]


@pytest.mark.parametrize("vector", STATELESS_INVALID, ids=lambda v: v["name"])
def test_verify_reports_reason_codes(vector: dict[str, str]) -> None:
    code, out = run(
        "event",
        "verify",
        "-",
        "--now-ms",
        str(vector["now_ms"]),
        stdin=bytes.fromhex(vector["input_hex"]),
    )
    assert code == 1
    document = json.loads(out)
    assert document == {**document, "valid": False, "reason": vector["reason"]}


def test_import_then_list(tmp_path: Path) -> None:
    node = str(tmp_path / "node")
    assert run("init", "--data-dir", node)[0] == 0
    code, out = run("event", "import", "--data-dir", node, str(SAMPLE))
    assert code == 0, out
    assert json.loads(out)["status"] == "accepted"
    code, out = run("event", "import", "--data-dir", node, str(SAMPLE))
    assert json.loads(out)["status"] == "duplicate"
    code, out = run("event", "list", "--data-dir", node, "--json")
    assert code == 0
    assert [json.loads(line)["id"] for line in out.splitlines()] == [VECTORS["valid"][0]["id_hex"]]


def test_refs_checked_against_a_store(tmp_path: Path) -> None:
    node = str(tmp_path / "node")
    reply = tmp_path / "reply.cbor"
    reply.write_bytes(bytes.fromhex(VECTORS["valid"][1]["input_hex"]))
    assert run("init", "--data-dir", node)[0] == 0
    code, out = run("event", "verify", str(reply))
    assert code == 0 and json.loads(out)["refs_checked"] is False
    code, out = run("event", "verify", "--data-dir", node, str(reply))
    assert code == 1 and json.loads(out)["reason"] == "missing_refs"
    code, out = run("event", "import", "--data-dir", node, str(reply))
    assert code == 1 and json.loads(out)["reason"] == "missing_refs"
    assert run("event", "import", "--data-dir", node, str(SAMPLE), str(reply))[0] == 0
    code, out = run("event", "verify", "--data-dir", node, str(reply))
    assert code == 0 and json.loads(out)["refs_checked"] is True


def test_import_needs_an_initialized_node(tmp_path: Path) -> None:
    code, out = run("event", "import", "--data-dir", str(tmp_path / "none"), str(SAMPLE))
    assert code == 1
    assert "ayllu init" in out
