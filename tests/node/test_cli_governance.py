"""Groups, members and registrars through the command line only, as users
would drive it: ``ayllu member ...``, ``ayllu group ...``, ``ayllu registrar ...``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import trio
from click.testing import CliRunner, Result

from node.cli import main
from node.cli_common import now_ms
from protocol.event import Event, sign
from protocol.keys import decode_keyfile
from storage.vault import decode_vault_key_file, open_vault

#: People the registrar registers: name and DNI number. Names and numbers
#: must never show in any output, nor in the vault's bytes.
PEOPLE = [
    ("Rosa Quispe Mamani", "40123987"),
    ("Juan Mamani Condori", "41234098"),
    ("Lucía Huamán Ccori", "42345109"),
    ("Teodoro Apaza Layme", "43456210"),
    ("Florencia Choque Tito", "44567321"),
    ("Santiago Ticona Puma", "45678432"),
]
FOUNDER = ("Tomasa Condori Yupanqui", "46789543")


class Cli:
    """``ayllu`` on one node, with key files in a temporary directory."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.node = root / "node"

    def run(self, *args: str, stdin: str | None = None) -> Result:
        return CliRunner().invoke(
            main, list(args), input=stdin, env={"AYLLU_DATA_DIR": str(self.node)}
        )

    def json(self, *args: str) -> Any:
        """Run a command that succeeds, with --json unless it prints JSON anyway."""
        result = self.run(*args) if args[:2] == ("genesis", "create") else self.run(*args, "--json")
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)

    def refused(self, *args: str) -> dict[str, Any]:
        """Run an act the state refuses: exit 1, the reason in JSON."""
        result = self.run(*args, "--json")
        assert result.exit_code == 1, result.output
        document: dict[str, Any] = json.loads(result.stdout)
        assert document["status"] == "refused"
        return document

    def keygen(self, name: str) -> str:
        return str(self.json("member", "keygen", "--out", str(self.key(name)))["public_key"])

    def key(self, name: str) -> Path:
        return self.root / f"{name}.key"

    def event_count(self) -> int:
        result = self.run("event", "list", "--json", "--limit", "10000")
        assert result.exit_code == 0, result.output
        return len(result.stdout.splitlines())

    def vault_records(self) -> dict[str, str | None]:
        """member -> cert of every vault record (hex), opened with the vault key."""
        secret = decode_vault_key_file((self.root / "vault.key").read_bytes())

        async def read() -> dict[str, str | None]:
            async with open_vault(self.node / "registry.sqlite3", secret) as vault:
                return {
                    r.member.hex(): None if r.cert is None else r.cert.hex()
                    for r in await vault.list()
                }

        return trio.run(read)


def registration(cli: Cli, person: tuple[str, str], member: str, *extra: str) -> list[str]:
    name, number = person
    return [
        "member", "register", "--key", str(cli.key("registrar")),
        "--tag-key", str(cli.root / "tag.json"), "--vault-key-file", str(cli.root / "vault.key"),
        "--name", name, "--country", "PE", "--document", "DNI", "--number", number,
        "--member", member, *extra,
    ]  # fmt: skip


def start_network(cli: Cli, *, level: int = 2) -> dict[str, str]:
    """Keys for a registrar and a founder, the genesis, the node, and the
    registrar's tag key and vault key: all through the command line."""
    keys = {"registrar": cli.keygen("registrar"), "founder": cli.keygen("founder")}
    genesis = cli.root / "genesis.cbor"
    network = cli.json(
        "genesis", "create", "--out", str(genesis), "--name", "Ayllu Qullasuyu",
        "--level", str(level), "--lang", "qu", "--lang", "es", "--founder", keys["founder"],
        "--registrar", keys["registrar"], "--quorum", "1",
    )  # fmt: skip
    result = cli.run("init", "--data-dir", str(cli.node), "--genesis", str(genesis))
    assert result.exit_code == 0, result.output
    assert cli.json("registrar", "tag-key", "--out", str(cli.root / "tag.json"))["sealed"] is False
    cli.json("registrar", "vault-key", "--out", str(cli.root / "vault.key"))
    keys["net"] = network["network_id"]
    return keys


def test_the_whole_story(tmp_path: Path) -> None:
    cli = Cli(tmp_path)
    keys = start_network(cli)
    net = keys["net"]
    people = [cli.keygen(f"p{i}") for i in range(len(PEOPLE))]

    # The registrar registers the founder and four people: the vault gets
    # their Code 1, the network a certificate; no output shows who they are.
    certs: dict[str, str] = {}
    for person, member in [(FOUNDER, keys["founder"]), *zip(PEOPLE[:4], people, strict=False)]:
        result = cli.run(*registration(cli, person, member), "--json")
        assert result.exit_code == 0, result.output
        for secret in person:
            assert secret not in result.output
        done = json.loads(result.stdout)
        assert done["status"] == "accepted" and done["kind"] == "cert.issue"
        assert done["member"] == member and done["cert"] == done["id"]
        assert done["group"] == net and len(done["tag"]) == 64
        certs[member] = done["cert"]
    assert cli.vault_records() == certs
    vault_bytes = b"".join(p.read_bytes() for p in cli.node.glob("registry.sqlite3*"))
    for name, number in [FOUNDER, *PEOPLE]:
        assert name.encode() not in vault_bytes and number.encode() not in vault_bytes

    # The same person again (the number typed otherwise), with another key:
    # refused before anything is written, and still nobody is named.
    before = cli.event_count()
    result = cli.run(*registration(cli, (PEOPLE[0][0], "40.123.987"), people[4]), "--json")
    assert result.exit_code == 1
    assert json.loads(result.stdout)["reason"] == "duplicate_identity"
    assert PEOPLE[0][0] not in result.output and "40123987" not in result.output
    assert cli.event_count() == before and cli.vault_records() == certs
    # A key certified already, for another person: refused too.
    refusal = cli.refused(*registration(cli, PEOPLE[4], people[0]))
    assert refusal["reason"] == "already_certified"
    for person, member in zip(PEOPLE[4:], people[4:], strict=True):
        certs[member] = cli.json(*registration(cli, person, member))["cert"]

    # A person founds a base group; its id is what the command prints.
    result = cli.run(
        "group", "found", "--key", str(cli.key("p0")), "--name", "Ayllu Sonqo",
        "--level", "1", "--lang", "qu", "--lang", "es",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    group = result.stdout.strip()
    assert len(group) == 64
    short = group[:8]  # a unique prefix is enough

    # Three apply and are admitted (by any member); a fifth seat; a sixth is refused.
    for i in range(1, 6):
        applied = cli.json("member", "apply", "--key", str(cli.key(f"p{i}")), short)
        assert applied["kind"] == "member.apply" and applied["group"] == group
        assert certs[people[i]] in applied["refs"]  # the author's standing
    admitters = ["p0", "p1", "p0", "p2"]
    for i, admitter in enumerate(admitters, start=1):
        admitted = cli.json("member", "admit", "--key", str(cli.key(admitter)), short, people[i])
        assert admitted["application"] in admitted["refs"]
        assert len(admitted["members"]) == i + 1
    before = cli.event_count()
    full = cli.refused("member", "admit", "--key", str(cli.key("p0")), short, people[5])
    assert full["reason"] == "group_full" and "id" not in full
    assert cli.event_count() == before
    result = cli.run("member", "admit", "--key", str(cli.key("p0")), short, people[5])
    assert result.exit_code == 1 and "refused: group_full" in result.output

    # The group applies to the root, and the founder of the network admits it.
    placed = cli.json("group", "apply", "--key", str(cli.key("p0")), short, net[:8])
    assert placed["parent"] == net and group in placed["refs"]
    admitted = cli.json("group", "admit", "--key", str(cli.key("founder")), net, short)
    assert admitted["children"] == [group]

    # The founder names the nodes that serve the group; another member may not.
    nodes = sorted([people[4], people[3]])
    named = cli.json("group", "nodes", "--key", str(cli.key("p0")), short, *reversed(nodes))
    assert named["nodes"] == nodes
    denied = cli.refused("group", "nodes", "--key", str(cli.key("p1")), short, people[1])
    assert denied["reason"] == "not_authorized"
    assert cli.json("group", "show", short)["nodes"] == nodes

    # Three of five endorse p0: a coordinator. Attestations give merit.
    coordinators = [
        cli.json("member", "endorse", "--key", str(cli.key(f"p{i}")), short, people[0])[
            "coordinator"
        ]
        for i in (1, 2, 3)
    ]
    assert coordinators == [None, None, people[0]]
    for i in (1, 2):
        attested = cli.json(
            "member", "attest", "--key", str(cli.key(f"p{i}")), short, people[0],
            "--text", "organizó la faena comunal",
        )  # fmt: skip
    assert attested["merit"] == 2
    again = cli.refused(
        "member", "attest", "--key", str(cli.key("p1")), short, people[0], "--text", "otra vez"
    )
    assert again["reason"] == "duplicate_attestation"

    shown = cli.json("group", "show", short)
    assert shown["id"] == group and shown["status"] == "active"
    assert shown["members"] == people[:5] and shown["member_count"] == 5
    assert shown["coordinator"] == people[0]
    assert shown["candidates"] == [{"key": people[0], "endorsements": 3, "merit": 2}]
    assert shown["path"] == [net, group] and shown["ancestors"] == [net]
    assert shown["siblings"] == []

    tree = cli.json("group", "tree")
    assert tree["id"] == net and tree["status"] == "active" and tree["unplaced"] == []
    assert tree["member_count"] == 5
    [child] = tree["children"]
    assert child["id"] == group and child["coordinator"] == people[0]
    assert child["member_count"] == 5 and child["children"] == []
    result = cli.run("group", "tree")
    assert result.exit_code == 0
    assert result.stdout.splitlines()[1].startswith("  Ayllu Sonqo  (level 1, active, 5 members")
    listed = [json.loads(line) for line in cli.run("group", "list", "--json").stdout.splitlines()]
    assert [(g["id"], g["level"], g["parent"]) for g in listed] == [(net, 2, None), (group, 1, net)]
    member_view = cli.json("member", "show", people[0])
    assert member_view["certificate"]["status"] == "valid" and member_view["certified"]
    assert member_view["base_group"] == group and member_view["merit"] == 2

    # p3 lost their key: the registrar checks the document again and
    # certifies a new key, which takes p3's seat; the vault record moves.
    new_key = cli.keygen("p3-new")
    replacement = [
        *registration(cli, PEOPLE[3], new_key)[:-2], "--member", new_key,
    ]  # fmt: skip
    replacement[1] = "replace"
    replaced = cli.json(*replacement)
    assert replaced["old_member"] == people[3] and replaced["old_cert"] == certs[people[3]]
    assert replaced["member"] == new_key and certs[people[3]] in replaced["refs"]
    members = cli.json("group", "members", short)
    assert [m["key"] for m in members["members"]] == [*people[:3], new_key, people[4]]
    old_view = cli.json("member", "show", people[3])
    assert old_view["certificate"]["status"] == "revoked" and old_view["base_group"] is None
    assert not old_view["certified"]
    records = cli.vault_records()
    assert people[3] not in records and records[new_key] == replaced["cert"]

    # The registrar set grows: first alone (quorum 1), then with a second
    # registrar's approval, handed over as a file.
    second, third = cli.keygen("registrar2"), cli.keygen("registrar3")
    changed = cli.json(
        "registrar", "change", "--key", str(cli.key("registrar")), "--add", second, "--quorum", "2"
    )
    assert changed["epoch"] == 1 and changed["quorum"] == 2
    approval_file = tmp_path / "approval.json"
    approval = cli.json(
        "registrar", "approve", "--key", str(cli.key("registrar2")), "--add", third,
        "--quorum", "2", "--out", str(approval_file),
    )  # fmt: skip
    assert approval["epoch"] == 1 and approval["key"] == second and approval["net"] == net
    changed = cli.json(
        "registrar", "change", "--key", str(cli.key("registrar")), "--add", third,
        "--quorum", "2", "--approval", str(approval_file),
    )  # fmt: skip
    assert changed["epoch"] == 2
    registrars = cli.json("registrar", "list")
    assert registrars == {
        "registrars": sorted([keys["registrar"], second, third]),
        "quorum": 2,
        "epoch": 2,
    }
    # A registrar added by a change acts, showing the change as its standing.
    revoked = cli.json(
        "member", "revoke", "--key", str(cli.key("registrar2")), certs[people[5]][:10],
        "--why", "llave robada",
    )  # fmt: skip
    assert revoked["cert"] == certs[people[5]] and revoked["member"] == people[5]
    assert cli.json("member", "show", people[5])["certificate"]["status"] == "revoked"


def test_a_refused_import_is_stored_and_not_an_error(tmp_path: Path) -> None:
    cli = Cli(tmp_path)
    keys = start_network(cli)
    registrar = decode_keyfile(cli.key("registrar").read_bytes())
    net = bytes.fromhex(keys["net"])
    # A certificate that expires before it is issued: well formed and signed
    # by a registrar, so stored, but the state gives it no effect.
    ts = now_ms() - 60_000
    expired = sign(
        Event(
            kind="cert.issue",
            group=net,
            author=bytes(registrar.verify_key),
            net=net,
            ts=ts,
            body={"tag": bytes(32), "member": bytes.fromhex(keys["founder"]), "expires": ts - 1},
        ),
        registrar,
    )
    path = tmp_path / "expired.cbor"
    path.write_bytes(expired.raw)
    result = cli.run("event", "import", str(path))
    assert result.exit_code == 0, result.output
    line = json.loads(result.stdout)
    assert line["status"] == "refused" and line["reason"] == "certificate_expired"
    assert cli.event_count() == 1
    assert cli.json("member", "show", keys["founder"])["certificate"] is None


def test_keys_sealed_prefixes_and_errors(tmp_path: Path) -> None:
    cli = Cli(tmp_path)
    keys = start_network(cli)
    secret = tmp_path / "passphrase"
    secret.write_text("jallalla\n")
    sealed = cli.json(
        "member", "keygen", "--out", str(cli.key("sealed")), "--passphrase-file", str(secret)
    )
    assert sealed["sealed"] is True
    cli.json(*registration(cli, FOUNDER, sealed["public_key"]))
    act = ["group", "found", "--key", str(cli.key("sealed")), "--name", "Wasi", "--level", "1"]
    act += ["--lang", "ay"]
    founded = cli.json(*act, "--passphrase-file", str(secret))
    assert founded["group"] == founded["id"] and founded["author"] == sealed["public_key"]
    # Asked for when no file is given.
    result = cli.run("member", "leave", "--key", str(cli.key("sealed")), founded["id"], stdin="x\n")
    assert result.exit_code == 1 and "wrong passphrase" in result.output

    # Group ids: too short a prefix, an unknown one, a malformed one.
    result = cli.run("group", "show", founded["id"][:6])
    assert result.exit_code == 1 and "at least 8 hex digits" in result.output
    unknown = "0" * 8 if not founded["id"].startswith("0" * 8) else "f" * 8
    result = cli.run("group", "show", unknown, "--json")
    assert result.exit_code == 1
    assert json.loads(result.stdout)["reason"] == "unknown_group"
    result = cli.run("group", "show", "not-hex!")
    assert result.exit_code == 1 and "not a group id" in result.output

    # Level 2 is the root's: no group founded at it.
    refusal = cli.refused(*act[:-3], "2", "--lang", "ay", "--passphrase-file", str(secret))
    assert refusal["reason"] == "bad_level"
    # A text over 500 characters never makes an event: rejected, bad_body.
    result = cli.run(
        "member", "apply", "--key", str(cli.key("sealed")), founded["id"],
        "--text", "a" * 501, "--passphrase-file", str(secret), "--json",
    )  # fmt: skip
    assert result.exit_code == 1
    assert json.loads(result.stdout)["status"] == "rejected"
    assert json.loads(result.stdout)["reason"] == "bad_body"
    # An existing key file is never overwritten.
    result = cli.run("member", "keygen", "--out", str(cli.key("sealed")))
    assert result.exit_code == 1 and "refusing to overwrite" in result.output
    assert keys["net"] == cli.json("group", "tree")["id"]
