"""The ayllu command line, driven as a user would."""

from __future__ import annotations

import json
import shlex
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from node.cli import main

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "specs" / "vectors" / "note.cbor"
VECTORS = json.loads((REPO / "specs" / "vectors" / "events.json").read_text(encoding="utf-8"))
GENESIS_VECTORS = json.loads(
    (REPO / "specs" / "vectors" / "genesis.json").read_text(encoding="utf-8")
)
KEY_A = VECTORS["keys"][0]["public_hex"]
KEY_B = VECTORS["keys"][1]["public_hex"]


def run(*args: str, stdin: bytes | None = None, data_dir_env: str | None = None) -> tuple[int, str]:
    """Run ``ayllu ARGS``; AYLLU_DATA_DIR is unset unless given."""
    result = CliRunner().invoke(main, list(args), input=stdin, env={"AYLLU_DATA_DIR": data_dir_env})
    return result.exit_code, result.output


@pytest.fixture
def genesis(tmp_path: Path) -> str:
    """The vectors' network's genesis document, as a file."""
    path = tmp_path / "genesis.cbor"
    path.write_bytes(bytes.fromhex(VECTORS["genesis_hex"]))
    return str(path)


@pytest.fixture
def node(tmp_path: Path, genesis: str) -> str:
    """A node of the vectors' network."""
    directory = str(tmp_path / "node")
    code, out = run("init", "--data-dir", directory, "--genesis", genesis)
    assert code == 0, out
    return directory


def create_genesis(out: Path, *extra: str) -> tuple[int, str]:
    return run(
        "genesis", "create", "--out", str(out), "--name", "Ayllu Qullasuyu", "--level", "4",
        "--lang", "qu", "--lang", "es", "--lang", "ay", "--lang", "es",
        "--founder", KEY_A, "--registrar", KEY_B, "--registrar", KEY_A, *extra,
    )  # fmt: skip


def test_version_from_the_installed_script() -> None:
    script = Path(sys.executable).parent / "ayllu"
    done = subprocess.run([str(script), "--version"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0
    assert done.stdout.startswith("ayllu, version ")


def test_init_creates_key_genesis_and_store_and_refuses_to_redo(
    tmp_path: Path, genesis: str
) -> None:
    node = tmp_path / "node"
    code, out = run("init", "--data-dir", str(node), "--genesis", genesis)
    assert code == 0, out
    info = json.loads(out)
    assert info["peer_id"].startswith("12D3KooW")
    assert info["network_id"] == VECTORS["network_id_hex"]
    assert info["genesis"] == str(node / "genesis.cbor")
    assert (node / "node.key").exists() and (node / "events.sqlite3").exists()
    assert (node / "genesis.cbor").read_bytes() == Path(genesis).read_bytes()
    assert stat.S_IMODE((node / "genesis.cbor").stat().st_mode) == 0o644
    key_before = (node / "node.key").read_bytes()
    code, out = run("init", "--data-dir", str(node), "--genesis", genesis)
    assert code == 1
    assert "refusing to overwrite" in out
    assert (node / "node.key").read_bytes() == key_before


def test_init_needs_a_genesis(tmp_path: Path) -> None:
    code, out = run("init", "--data-dir", str(tmp_path / "node"))
    assert code == 2 and "--genesis" in out
    assert not (tmp_path / "node").exists()


@pytest.mark.parametrize(
    "vector",
    GENESIS_VECTORS["invalid"][:3] + GENESIS_VECTORS["invalid"][-3:],
    ids=lambda v: v["name"],
)
def test_init_refuses_a_bad_genesis_and_creates_nothing(
    tmp_path: Path, vector: dict[str, str]
) -> None:
    bad = tmp_path / "bad.cbor"
    bad.write_bytes(bytes.fromhex(vector["input_hex"]))
    code, out = run("init", "--data-dir", str(tmp_path / "node"), "--genesis", str(bad))
    assert code == 1
    assert vector["reason"] in out
    assert not (tmp_path / "node").exists()


def test_init_sealed_with_a_passphrase_file(tmp_path: Path, genesis: str) -> None:
    secret = tmp_path / "pass"
    secret.write_text("jallalla\n")
    code, out = run(
        "init", "--data-dir", str(tmp_path / "n"), "--genesis", genesis,
        "--passphrase-file", str(secret),
    )  # fmt: skip
    assert code == 0, out
    assert json.loads(out)["sealed"] is True
    assert "sealed" in json.loads((tmp_path / "n" / "node.key").read_text())


def test_genesis_create_then_show(tmp_path: Path) -> None:
    out_file = tmp_path / "g.cbor"
    code, out = create_genesis(out_file, "--quorum", "2", "--ts", "1767225600000")
    assert code == 0, out
    created = json.loads(out)
    assert created["root"] == {
        "name": "Ayllu Qullasuyu",
        "langs": ["ay", "es", "qu"],
        "level": 4,
        "rules": {
            "quorum_pct": 50,
            "support_pct": 20,
            "threshold_pct": 50,
            "term_days": 90,
            "merit_days": 30,
        },
    }
    assert created["registrars"] == sorted([KEY_A, KEY_B])
    assert created["founder"] == KEY_A and created["quorum"] == 2
    assert created["ts"] == 1_767_225_600_000
    assert created["size"] == out_file.stat().st_size

    code, out = run("genesis", "show", str(out_file), "--json")
    assert code == 0 and json.loads(out) == created
    code, out = run("genesis", "show", str(out_file))
    assert code == 0
    assert created["network_id"] in out and "Ayllu Qullasuyu" in out and KEY_B in out

    # The same options give the same document; an existing file stays.
    again = tmp_path / "again.cbor"
    assert create_genesis(again, "--quorum", "2", "--ts", "1767225600000")[0] == 0
    assert again.read_bytes() == out_file.read_bytes()
    code, out = create_genesis(out_file, "--quorum", "1")
    assert code == 1 and "refusing to overwrite" in out
    assert again.read_bytes() == out_file.read_bytes()


def test_genesis_create_refuses_what_parse_would_refuse(tmp_path: Path) -> None:
    out_file = tmp_path / "g.cbor"
    code, out = create_genesis(out_file, "--quorum", "3")
    assert code == 1 and "bad_genesis" in out
    code, out = create_genesis(out_file, "--quorum", "1", "--threshold-pct", "40")
    assert code == 1 and "bad_genesis" in out
    assert not out_file.exists()
    code, out = run(
        "genesis", "create", "--out", str(out_file), "--name", "x", "--level", "1",
        "--lang", "es", "--founder", KEY_A[:-2], "--registrar", KEY_A, "--quorum", "1",
    )  # fmt: skip
    assert code == 2 and "--founder" in out
    assert not out_file.exists()


def test_genesis_show_refuses_a_bad_document(tmp_path: Path) -> None:
    vector = next(v for v in GENESIS_VECTORS["invalid"] if v["name"] == "quorum_above_registrars")
    bad = tmp_path / "bad.cbor"
    bad.write_bytes(bytes.fromhex(vector["input_hex"]))
    code, out = run("genesis", "show", str(bad), "--json")
    assert code == 1 and "bad_genesis" in out


def test_the_readme_quickstart_creates_the_vectors_network(tmp_path: Path) -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    quickstart = next(
        line
        for line in readme.splitlines()
        if line.startswith("python3 ") and "ayllu genesis create" in line
    )
    command = next(part for part in quickstart.split(" && ") if "genesis create" in part)
    args = shlex.split(command)[1:]
    args[args.index("--out") + 1] = str(tmp_path / "g.cbor")
    code, out = run(*args)
    assert code == 0, out
    assert json.loads(out)["network_id"] == VECTORS["network_id_hex"]
    assert (tmp_path / "g.cbor").read_bytes().hex() == VECTORS["genesis_hex"]


def test_verify_valid_sample(genesis: str) -> None:
    code, out = run("event", "verify", "--genesis", genesis, str(SAMPLE))
    assert code == 0, out
    document = json.loads(out)
    expected = VECTORS["valid"][0]
    assert document["valid"] is True
    assert document["id"] == expected["id_hex"]
    assert document["kind"] == "note"
    assert document["author_peer_id"] == expected["author_peer_id"]
    assert document["network_id"] == document["net"] == VECTORS["network_id_hex"]


def test_verify_needs_a_network(tmp_path: Path, genesis: str, node: str) -> None:
    code, out = run("event", "verify", str(SAMPLE))
    assert code == 2 and "--genesis" in out
    code, out = run("event", "verify", "--data-dir", node, "--genesis", genesis, str(SAMPLE))
    assert code == 2 and "not both" in out
    # --genesis overrides a data directory from the environment.
    code, out = run(
        "event", "verify", "--genesis", genesis, str(SAMPLE), data_dir_env=str(tmp_path / "none")
    )
    assert code == 0 and json.loads(out)["refs_checked"] is False


def test_verify_on_another_network(tmp_path: Path) -> None:
    other = tmp_path / "other.cbor"
    assert create_genesis(other, "--quorum", "1")[0] == 0
    code, out = run("event", "verify", "--genesis", str(other), str(SAMPLE))
    assert code == 1
    document = json.loads(out)
    assert document["reason"] == "wrong_network" and document["action"] == "reject"
    assert document["net"] == VECTORS["network_id_hex"]
    assert (
        document["network_id"]
        == json.loads(run("genesis", "show", str(other), "--json")[1])["network_id"]
    )


#: Without a store, `verify` checks everything but the refs rules.
STATELESS_INVALID = [
    vector
    for vector in VECTORS["invalid"]
    if vector["reason"] not in {"missing_refs", "ts_before_ref"}
]


@pytest.mark.parametrize("vector", STATELESS_INVALID, ids=lambda v: v["name"])
def test_verify_reports_reason_codes(vector: dict[str, str], genesis: str) -> None:
    code, out = run(
        "event", "verify", "-", "--genesis", genesis, "--now-ms", str(vector["now_ms"]),
        stdin=bytes.fromhex(vector["input_hex"]),
    )  # fmt: skip
    assert code == 1
    document = json.loads(out)
    assert document == {**document, "valid": False, "reason": vector["reason"]}


def test_import_then_list(node: str) -> None:
    code, out = run("event", "import", "--data-dir", node, str(SAMPLE))
    assert code == 0, out
    assert json.loads(out)["status"] == "accepted"
    code, out = run("event", "import", "--data-dir", node, str(SAMPLE))
    assert json.loads(out)["status"] == "duplicate"
    code, out = run("event", "list", "--data-dir", node, "--json")
    assert code == 0
    listed = [json.loads(line) for line in out.splitlines()]
    assert [event["id"] for event in listed] == [VECTORS["valid"][0]["id_hex"]]
    assert listed[0]["net"] == VECTORS["network_id_hex"]


def test_import_into_a_node_of_another_network(tmp_path: Path) -> None:
    other = tmp_path / "other.cbor"
    assert create_genesis(other, "--quorum", "1")[0] == 0
    node = str(tmp_path / "node")
    assert run("init", "--data-dir", node, "--genesis", str(other))[0] == 0
    code, out = run("event", "import", "--data-dir", node, str(SAMPLE))
    assert code == 1 and json.loads(out)["reason"] == "wrong_network"
    code, out = run("event", "list", "--data-dir", node)
    assert code == 0 and out == ""


def test_refs_checked_against_a_store(tmp_path: Path, genesis: str, node: str) -> None:
    reply = tmp_path / "reply.cbor"
    reply.write_bytes(bytes.fromhex(VECTORS["valid"][1]["input_hex"]))
    code, out = run("event", "verify", "--genesis", genesis, str(reply))
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


def test_a_node_without_its_genesis_document_says_so(node: str) -> None:
    (Path(node) / "genesis.cbor").unlink()
    code, out = run("event", "import", "--data-dir", node, str(SAMPLE))
    assert code == 1 and "--genesis" in out
