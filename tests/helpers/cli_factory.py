"""``ayllu`` driven as a user would, in-process: a node's data directory,
the clock as ``AYLLU_NOW_MS`` (node/cli_common.py), and a small network
built by the commands alone."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import trio
from click.testing import CliRunner, Result

from node.cli import main
from node.datadir import DataDir
from protocol.event import SignedEvent, parse_event
from storage import open_sqlite_store

T0 = 1_767_225_600_000  # 2026-01-01T00:00:00Z
HOUR = 3_600_000
OPENS, CLOSES = T0 + HOUR, T0 + 2 * HOUR
PEOPLE = [
    ("Rosa Quispe Mamani", "40123987"),
    ("Juan Mamani Condori", "41234098"),
    ("Lucía Huamán Ccori", "42345109"),
    ("Teodoro Apaza Layme", "43456210"),
]
FOUNDER = ("Tomasa Condori Yupanqui", "46789543")


class Cli:
    """``ayllu`` on one node, at the time ``now`` (ms since the epoch)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.node = root / "node"
        self.now = T0

    def run(self, *args: str) -> Result:
        env = {"AYLLU_DATA_DIR": str(self.node), "AYLLU_NOW_MS": str(self.now)}
        return CliRunner().invoke(main, list(args), env=env)

    def text(self, *args: str) -> str:
        """Run a command that succeeds; its human output."""
        result = self.run(*args)
        assert result.exit_code == 0, result.output
        return result.stdout

    def json(self, *args: str) -> Any:
        result = self.run(*args, "--json")
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)

    def lines(self, *args: str) -> list[Any]:
        return [json.loads(line) for line in self.text(*args, "--json").splitlines()]

    def refused(self, *args: str) -> str:
        """Run an act the state refuses: exit 1, nothing stored; its reason."""
        before = self.event_count()
        result = self.run(*args, "--json")
        assert result.exit_code == 1, result.output
        document = json.loads(result.stdout)
        assert document["status"] == "refused" and "id" not in document, document
        assert self.event_count() == before
        return str(document["reason"])

    def key(self, name: str) -> str:
        return str(self.root / f"{name}.key")

    def keygen(self, name: str) -> str:
        return str(self.json("member", "keygen", "--out", self.key(name))["public_key"])

    def event_count(self) -> int:
        listed = self.run("event", "list", "--json", "--limit", "10000")
        assert listed.exit_code == 0, listed.output
        return len(listed.stdout.splitlines())

    def stored(self, kind: str) -> list[SignedEvent]:
        async def read() -> list[SignedEvent]:
            async with open_sqlite_store(DataDir(self.node).store_path) as store:
                return [parse_event(row.raw) for row in await store.query(kind=kind)]

        return trio.run(read)


def build_network(cli: Cli) -> dict[str, Any]:
    """A level-2 root (support 50 %) over one base group of four registered
    members, p0 its founder; the network's founder acts for the root."""
    keys = {name: cli.keygen(name) for name in ("registrar", "founder", "p0", "p1", "p2", "p3")}
    genesis = str(cli.root / "genesis.cbor")
    created = cli.run(
        "genesis", "create", "--out", genesis, "--name", "Ayllu Qullasuyu", "--level", "2",
        "--lang", "qu", "--lang", "es", "--founder", keys["founder"],
        "--registrar", keys["registrar"], "--quorum", "1", "--support-pct", "50",
    )  # fmt: skip
    assert created.exit_code == 0, created.output
    assert json.loads(created.stdout)["ts"] == T0  # AYLLU_NOW_MS is the clock
    assert cli.run("init", "--data-dir", str(cli.node), "--genesis", genesis).exit_code == 0
    cli.json("registrar", "tag-key", "--out", str(cli.root / "tag.json"))
    cli.json("registrar", "vault-key", "--out", str(cli.root / "vault.key"))
    certs = {}
    registered = [("founder", FOUNDER), *zip(["p0", "p1", "p2", "p3"], PEOPLE, strict=True)]
    for name, (person, number) in registered:
        certs[name] = cli.json(
            "member", "register", "--key", cli.key("registrar"), "--tag-key",
            str(cli.root / "tag.json"), "--vault-key-file", str(cli.root / "vault.key"),
            "--name", person, "--country", "PE", "--document", "DNI", "--number", number,
            "--member", keys[name],
        )["cert"]  # fmt: skip
    group = cli.text(
        "group", "found", "--key", cli.key("p0"), "--name", "Ayllu Sonqo", "--level", "1",
        "--lang", "qu", "--lang", "es",
    ).strip()  # fmt: skip
    for name in ("p1", "p2", "p3"):
        cli.json("member", "apply", "--key", cli.key(name), group)
        cli.json("member", "admit", "--key", cli.key("p0"), group, keys[name])
    cli.json("group", "apply", "--key", cli.key("p0"), group, "root")
    cli.json("group", "admit", "--key", cli.key("founder"), "root", group)
    return {"keys": keys, "certs": certs, "group": group, "net": cli.json("group", "tree")["id"]}
