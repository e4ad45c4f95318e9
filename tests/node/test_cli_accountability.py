"""Accountability through the command line only, as people would drive it:
``ayllu role``, ``ayllu ledger``, ``ayllu recall``, ``ayllu map``, with the
ballots they need (``ayllu ballot ...``, ``ayllu vote``, ``ayllu results``)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from cli_factory import CLOSES, HOUR, OPENS, Cli, build_network


def _decide(
    cli: Cli, ballot: str, group: str, choices: dict[str, str], counter: str = "p0"
) -> None:
    """Freeze the group's ring, vote, count: a ballot of one base group."""
    cli.json("ballot", "rings", "--key", cli.key("p0"), ballot)
    ballot_document = cli.json("ballot", "show", ballot)
    cli.now = ballot_document["opens"]
    for name, choice in choices.items():
        cli.json("vote", "--key", cli.key(name), ballot, "--choice", choice)
    cli.now = ballot_document["closes"]
    cli.json("results", "count", "--key", cli.key(counter), ballot, group)


def _elect_steward(cli: Cli, network: dict[str, Any]) -> str:
    keys, group = network["keys"], network["group"]
    opened = cli.json(
        "ballot", "open", "--key", cli.key("p0"), group, "--role", "steward",
        "--candidate", keys["p1"], "--candidate", keys["p2"],
        "--question", "¿Quién lleva las cuentas?", "--lang", "es",
        "--opens", str(OPENS), "--closes", str(CLOSES), "--counting-level", "1",
    )  # fmt: skip
    ballot = opened["ballot"]
    first = keys["p1"][:16]
    _decide(cli, ballot, group, dict.fromkeys(("p0", "p1", "p2", "p3"), first))
    return ballot


def test_a_steward_overspends_is_flagged_and_recalled(tmp_path: Path) -> None:
    cli = Cli(tmp_path)
    network = build_network(cli)
    keys, group = network["keys"], network["group"]
    _elect_steward(cli, network)
    roles = cli.json("role", "show", group)
    assert roles["roles"]["steward"]["holder"] == keys["p1"]
    assert "steward     " + keys["p1"] in cli.text("role", "show", group)

    assert (
        cli.refused(
            "ledger",
            "budget",
            "--key",
            cli.key("p0"),
            group,
            "--line",
            "Canal",
            "--currency",
            "PEN",
        )
        == "not_steward"
    )
    line = cli.json(
        "ledger", "budget", "--key", cli.key("p1"), group, "--line", "Canal", "--currency", "PEN"
    )["id"]
    invoice = tmp_path / "factura.pdf"
    invoice.write_bytes(b"%PDF factura 001-123")
    spend = ["ledger", "spend", "--key", cli.key("p1"), line[:10], "--payee", "Ferretería"]
    spend += ["--purpose", "Tubos", "--document", str(invoice)]
    assert cli.refused(*spend, "--amount", "500", "--currency", "USD") == "wrong_currency"
    paid = cli.json(*spend, "--amount", "500")
    assert paid["kind"] == "ledger.spend"
    ledger = cli.json("ledger", "show", group)
    assert [(f["kind"], f["event"]) for f in ledger["flags"]] == [("no_allocation", paid["id"])]
    assert "FLAG no_allocation" in cli.text("ledger", "show", group)

    # The members recall the steward: a motion, support, the ballot it opened.
    motion = cli.json(
        "recall", "propose", "--key", cli.key("p3"), group, keys["p1"], "--role", "steward",
        "--reason", "Gastó sin asignación.", "--lang", "es",
    )  # fmt: skip
    # The group's charter asks 20 % of its 4 electors: one, the mover.
    assert (motion["needed"], motion["qualified"]) == (1, True)
    supported = cli.json("recall", "support", "--key", cli.key("p2"), motion["motion"][:10])
    assert (supported["supporters"], supported["qualified"]) == (2, True)
    again = ["recall", "propose", "--key", cli.key("p0"), group, keys["p1"], "--role", "steward"]
    assert cli.refused(*again, "--reason", "Otra vez.", "--lang", "es") == "duplicate_motion"
    shown = cli.json("recall", "show", motion["motion"])
    assert shown["ballot"]["status"] == "announced"
    _decide(
        cli,
        motion["motion"],
        group,
        {"p0": "recall", "p1": "keep", "p2": "recall", "p3": "recall"},
        counter="p2",  # any elector counts a recall: the holder cannot stall it
    )
    assert cli.json("recall", "show", motion["motion"])["ballot"]["decided_option"] == "recall"
    assert cli.json("role", "show", group)["roles"]["steward"]["holder"] is None
    assert cli.refused(*spend, "--amount", "1") == "not_steward"


def test_a_grant_waits_for_its_ratification(tmp_path: Path) -> None:
    cli = Cli(tmp_path)
    network = build_network(cli)
    group = network["group"]
    _elect_steward(cli, network)
    line = cli.json(
        "ledger", "budget", "--key", cli.key("p1"), group, "--line", "Posta", "--currency", "PEN"
    )["id"]
    granted = cli.json(
        "ledger", "grant", "--key", cli.key("p1"), line, "--amount", "200000",
        "--grantor", "Fundación Andina", "--document-hash", "ab" * 32,
    )  # fmt: skip
    spend = ["ledger", "spend", "--key", cli.key("p1"), line, "--payee", "Farmacia"]
    spend += ["--purpose", "Vacunas", "--document-hash", "cd" * 32, "--amount", "1000"]
    assert cli.refused(*spend) == "not_ratified"
    assert "awaiting ratification" in cli.text("ledger", "show", group)
    _decide(cli, granted["id"], group, dict.fromkeys(("p0", "p1", "p2", "p3"), "ratify"))
    cli.json(*spend)
    [row] = cli.json("ledger", "show", group)["lines"]
    assert (row["granted"], row["available"]) == (200_000, 199_000)
    cli.now += HOUR
    income = ["ledger", "income", "--key", cli.key("p1"), group, "--amount", "5000"]
    income += ["--currency", "PEN", "--source", "Venta de papa", "--document-hash", "ef" * 32]
    cli.json(*income)
    assert cli.json("ledger", "show", group)["balances"] == {"PEN": 204_000}


def test_the_power_map_from_the_command_line(tmp_path: Path) -> None:
    cli = Cli(tmp_path)
    build_network(cli)
    claim = cli.json(
        "map", "claim", "--key", cli.key("p0"), "root", "--entity", "Familia Andrade",
        "--relation", "owns", "--target", "Minera Sur", "--date", "2024-03-01",
        "--share-bp", "6000", "--source", "https://example.org/registro",
    )["id"]  # fmt: skip
    no_source = ["map", "claim", "--key", cli.key("p0"), "root", "--entity", "A"]
    no_source += ["--relation", "owns", "--target", "B", "--date", "2024-03-01"]
    assert cli.run(*no_source).exit_code == 2  # a claim needs a source
    review = ["map", "review", claim[:10], "--source-hash", "12" * 32]
    assert cli.refused(*review, "--key", cli.key("p0"), "--confirm") == "self_review"
    assert cli.json(*review, "--key", cli.key("p1"), "--confirm")["standing"] == "unconfirmed"
    assert cli.json(*review, "--key", cli.key("p2"), "--confirm")["standing"] == "confirmed"
    assert cli.json(*review, "--key", cli.key("p3"), "--dispute")["standing"] == "confirmed"
    assert cli.json("map", "show", claim)["confirms"] == 2
    graph = cli.json("map", "graph", "--entity", "minera sur")
    assert [node["label"] for node in graph["nodes"]] == ["Familia Andrade", "Minera Sur"]
    exported = cli.text("map", "graph", "--format", "graphml")
    ns = {"g": "http://graphml.graphdrawing.org/xmlns"}
    [edge] = ET.fromstring(exported).findall("g:graph/g:edge", ns)
    assert edge.get("id") == claim


def test_a_group_founded_with_rules_of_accountability(tmp_path: Path) -> None:
    cli = Cli(tmp_path)
    build_network(cli)
    found = ["group", "found", "--key", cli.key("founder"), "--name", "Mink'a", "--level", "1"]
    found += [
        "--lang",
        "ay",
        "--steward-months",
        "6",
        "--no-steward-repeat",
        "--treasury-pct",
        "15",
    ]
    group = cli.text(*found).strip()
    rules = cli.json("group", "show", group)["rules"]
    assert (rules["steward_months"], rules["steward_repeat"], rules["treasury_pct"]) == (
        6,
        False,
        15,
    )
    assert (rules["recall_days"], rules["auditor_months"]) == (7, 12)  # the defaults


def test_accountability_end_to_end(tmp_path: Path) -> None:
    """Issue 7's end to end, through the commands alone: a steward spends
    more than a ballot allocated and the flag appears; an external grant
    waits for its ratification; a recall of the steward opens and succeeds
    and the role is vacant; a protected report is filed, answered, and
    followed through its receipt."""
    cli = Cli(tmp_path)
    network = build_network(cli)
    keys, group = network["keys"], network["group"]
    _elect_steward(cli, network)

    # A proposal decided by ballot allocates 10,000 to a line; 11,000 are spent.
    proposal = cli.text(
        "propose", "--key", cli.key("p0"), group, "--lang", "es", "--title", "Canal",
        "--text", "Arreglar el canal de riego.",
    ).strip()  # fmt: skip
    cli.json("support", "--key", cli.key("p0"), proposal)
    cli.now += HOUR
    decision = cli.json(
        "ballot", "open", "--key", cli.key("p0"), group, "--proposal", proposal,
        "--question", "¿Arreglamos el canal?", "--lang", "es", "--opens-in", "1h",
        "--lasts", "1h", "--counting-level", "1",
    )["ballot"]  # fmt: skip
    _decide(cli, decision, group, dict.fromkeys(("p0", "p1", "p2", "p3"), "sí"))
    steward = cli.key("p1")
    line = cli.json(
        "ledger", "budget", "--key", steward, group, "--line", "Canal", "--currency", "PEN"
    )["id"]
    cli.json(
        "ledger", "allocate", "--key", steward, line, "--amount", "10000", "--ballot", decision
    )
    spend = ["ledger", "spend", "--key", steward, line, "--payee", "Ferretería"]
    spend += ["--purpose", "Tubos", "--document-hash", "aa" * 32]
    cli.json(*spend, "--amount", "8000")
    beyond = cli.json(*spend, "--amount", "3000")["id"]
    flags = cli.json("ledger", "show", group)["flags"]
    assert flags == [
        {
            "kind": "over_allocation",
            "event": beyond,
            "group": group,
            "line": line,
            "spent": 11_000,
            "funded": 10_000,
        }
    ]

    # An external grant: frozen until the group ratifies it.
    clinic = cli.json(
        "ledger", "budget", "--key", steward, group, "--line", "Posta", "--currency", "PEN"
    )["id"]
    grant = cli.json(
        "ledger", "grant", "--key", steward, clinic, "--amount", "50000",
        "--grantor", "Minera Sur", "--document-hash", "bb" * 32,
    )["id"]  # fmt: skip
    medicine = ["ledger", "spend", "--key", steward, clinic, "--payee", "Botica"]
    medicine += ["--purpose", "Vacunas", "--document-hash", "cc" * 32, "--amount", "100"]
    assert cli.refused(*medicine) == "not_ratified"
    _decide(cli, grant, group, {"p0": "ratify", "p1": "ratify", "p2": "reject", "p3": "ratify"})
    cli.json(*medicine)

    # The members recall the steward: the role is vacant at once.
    motion = cli.json(
        "recall", "propose", "--key", cli.key("p3"), group, keys["p1"], "--role", "steward",
        "--reason", "Gastó más de lo asignado.", "--lang", "es",
    )["motion"]  # fmt: skip
    _decide(
        cli,
        motion,
        group,
        {"p0": "recall", "p1": "keep", "p2": "recall", "p3": "recall"},
        counter="p3",
    )
    assert cli.json("role", "show", group)["roles"]["steward"]["holder"] is None

    # A protected report to the oversight group, answered and followed up.
    cli.json("role", "appoint-oversight", "--key", cli.key("founder"), "root", group)
    assert cli.json("role", "show", "root")["oversight"] == group
    cli.json("report", "key", "--key", cli.key("p0"), group)
    assert cli.json("report", "ring", "--key", cli.key("p3"), "root")["size"] == 4
    receipt_file = tmp_path / "recibo.txt"
    filed = cli.json(
        "report", "file", "--key", cli.key("p2"), group, "--about", group, "--lang", "es",
        "--text", "El ex tesorero cobra comisiones a la ferretería.",
        "--receipt-out", str(receipt_file),
    )  # fmt: skip
    assert filed["author"] not in keys.values()  # a one-time key: nobody is named
    assert receipt_file.stat().st_mode & 0o777 == 0o600
    receipt = receipt_file.read_text().strip()
    assert receipt == filed["receipt"]
    [opened] = cli.json("report", "read", "--key", cli.key("p0"), filed["id"])["messages"]
    assert opened["text"].startswith("El ex tesorero"), opened
    assert opened["about"] == group, opened
    cli.json(
        "report", "reply", "--key", cli.key("p1"), filed["id"], "--status", "investigating",
        "--text", "Gracias. ¿Tiene la boleta?", "--lang", "es",
    )  # fmt: skip
    followed = cli.json("report", "status", "--receipt", receipt)
    assert followed["status"] == "investigating"
    assert [r["message"]["text"] for r in followed["replies"]] == ["Gracias. ¿Tiene la boleta?"]
    cli.json(
        "report", "follow-up", "--receipt-file", str(receipt_file), "--lang", "es",
        "--text", "Sí, la boleta 001-456.",
    )  # fmt: skip
    messages = cli.json("report", "read", "--key", cli.key("p3"), filed["id"])["messages"]
    assert [m["text"] for m in messages][1] == "Sí, la boleta 001-456."
    assert cli.json("report", "status", "--receipt", receipt)["followups"] == 1
