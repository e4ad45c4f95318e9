"""Proposals and secret ballots through the command line only, as users
would drive them: ``ayllu propose``, ``translate``, ``confirm``, ``amend``,
``comment``, ``support``, ``ballot ...``, ``vote``, ``results ...``.

The clock is ``AYLLU_NOW_MS`` (node/cli_common.py), so that a ballot that
opens in an hour and closes an hour later runs in a second."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_factory import CLOSES, HOUR, OPENS, Cli, build_network

from node.cli_ballots import parse_duration
from node.governance import default_options


def test_a_proposal_from_quechua_to_a_decision(tmp_path: Path) -> None:
    cli = Cli(tmp_path)
    network = build_network(cli)
    keys, certs, group, net = network["keys"], network["certs"], network["group"], network["net"]

    # -- deliberation, in the root's scope --
    text_file = tmp_path / "yaku.txt"
    text_file.write_text("Ayllupaq musuq yaku ñanta ruwasun.\n", encoding="utf-8")
    proposal = cli.text(
        "propose", "--key", cli.key("p0"), "root", "--lang", "qu", "--title", "Yaku ñan",
        "--text-file", str(text_file),
    ).strip()  # fmt: skip
    assert len(proposal) == 64
    outsider = ["propose", "--key", cli.key("founder"), "root", "--lang", "es"]
    outsider += ["--title", "x", "--text", "y"]
    assert cli.refused(*outsider) == "not_member"  # the network's founder is in no base group

    translated = cli.json(
        "translate", "--key", cli.key("p1"), proposal[:8], "--lang", "es",
        "--title", "Canal de agua", "--text", "Construiremos un nuevo canal de agua.",
    )  # fmt: skip
    translation = translated["translation"]
    assert translated["group"] == net and proposal in translated["refs"]
    assert certs["p1"] in translated["refs"]  # the author's standing
    assert cli.refused("confirm", "--key", cli.key("p1"), translation) == "self_confirmation"
    assert cli.json("confirm", "--key", cli.key("p2"), translation[:12])["confirmations"] == 1
    assert cli.refused("confirm", "--key", cli.key("p2"), translation) == "duplicate_confirmation"

    amendment = cli.json(
        "amend", "--key", cli.key("p3"), proposal, "--lang", "qu",
        "--title", "Yaku ñan, iskay kaq", "--text", "Iskay watapi ruwasun.",
    )["amendment"]  # fmt: skip
    first = cli.json(
        "comment", "--key", cli.key("p2"), proposal, "--lang", "es", "--text", "¿Cuánto cuesta?"
    )["comment"]
    reply = cli.text(
        "comment", "--key", cli.key("p0"), first, "--lang", "es", "--text", "Lo calculamos."
    ).strip()

    supported = cli.json("support", "--key", cli.key("p0"), proposal)
    assert (supported["support"], supported["supporters_needed"]) == (1, 2)  # 50 % of 4
    ballot_args = [
        "ballot", "open", "--key", cli.key("founder"), "root", "--proposal", proposal[:10],
        "--question", "¿Construimos el canal?", "--lang", "es",
        "--opens", str(OPENS), "--closes", str(CLOSES), "--counting-level", "1",
    ]  # fmt: skip
    assert cli.refused(*ballot_args) == "not_enough_support"
    assert "2 of the 2 supporters needed" in cli.text("support", "--key", cli.key("p1"), proposal)
    assert cli.refused("support", "--key", cli.key("p1"), proposal) == "duplicate_support"

    # Read in Spanish: the confirmed translation, and it says so.
    shown = cli.text("proposal", "show", proposal, "--lang", "es")
    assert "Canal de agua" in shown and "Construiremos" in shown
    assert f"translation {translation[:16]} (1 confirmations); original in qu" in shown
    assert "Yaku ñan" in cli.text("proposal", "show", proposal)
    assert "no translation into ay" in cli.text("proposal", "show", proposal, "--lang", "ay")
    described = cli.json("proposal", "show", proposal, "--lang", "es")
    assert described["shown"]["source"] == "translation"
    assert described["shown"]["translation"] == translation
    assert described["translations"]["es"][0]["confirmations"] == 1
    assert [a["id"] for a in described["amendments"]] == [amendment]
    assert described["amendments"][0]["shown"]["source"] == "original"  # not translated
    [thread] = described["comments"]
    assert thread["id"] == first and [r["id"] for r in thread["replies"]] == [reply]
    assert (described["support"], described["closed_by"]) == (2, None)
    [listed] = cli.lines("proposal", "list", "root", "--lang", "es")
    assert listed["id"] == proposal and listed["shown"]["title"] == "Canal de agua"
    assert cli.lines("proposal", "list", group) == []

    # -- the ballot: opened by whoever acts for the root --
    opened = cli.json(*ballot_args)
    ballot = opened["ballot"]
    assert opened["options"] == ["sí", "no"] and opened["counting_groups"] == [group]
    assert proposal in opened["refs"] and (opened["opens"], opened["closes"]) == (OPENS, CLOSES)
    assert cli.json("proposal", "show", proposal)["closed_by"] == ballot
    late = ["amend", "--key", cli.key("p3"), proposal, "--lang", "qu", "--title", "t"]
    assert cli.refused(*late, "--text", "t") == "proposal_closed"
    assert cli.refused(*ballot_args) == "proposal_closed"
    on_ballot = cli.json(
        "comment", "--key", cli.key("p3"), ballot, "--lang", "qu", "--text", "Allinmi."
    )
    assert on_ballot["target"] == ballot and on_ballot["group"] == net

    # Too early to vote: refused before anything is signed.
    assert cli.refused("vote", "--key", cli.key("p0"), ballot, "--choice", "sí") == (
        "vote_outside_window"
    )

    # The base group's ring: by whoever acts for it, once.
    assert cli.refused("ballot", "rings", "--key", cli.key("founder"), ballot) == "not_authorized"
    frozen = cli.json("ballot", "rings", "--key", cli.key("p0"), ballot[:8])
    [ring] = frozen["rings"]
    assert ring["group"] == group and ring["keys"] == sorted(
        keys[name] for name in ("p0", "p1", "p2", "p3")
    )
    assert cli.refused("ballot", "ring", "--key", cli.key("p0"), ballot, group) == "wrong_ring"
    assert cli.refused("ballot", "rings", "--key", cli.key("p0"), ballot) == "wrong_ring"

    # Someone who joins after the ring froze is not in it: no vote.
    late_key = cli.keygen("p4")
    cli.json(
        "member", "register", "--key", cli.key("registrar"), "--tag-key",
        str(cli.root / "tag.json"), "--vault-key-file", str(cli.root / "vault.key"),
        "--name", "Florencia Choque Tito", "--country", "PE", "--document", "DNI",
        "--number", "44567321", "--member", late_key,
    )  # fmt: skip
    cli.json("member", "apply", "--key", cli.key("p4"), group)
    cli.json("member", "admit", "--key", cli.key("p0"), group, late_key)

    # -- voting: four members, one changes their vote --
    cli.now = OPENS + 60_000
    assert cli.refused("vote", "--key", cli.key("p4"), ballot, "--choice", "sí") == "not_member"
    assert cli.refused("results", "count", "--key", cli.key("p0"), ballot, group) == "too_early"
    assert cli.refused("vote", "--key", cli.key("p0"), ballot, "--choice", "quizás") == "bad_choice"
    votes = {
        "p0": cli.json("vote", "--key", cli.key("p0"), ballot, "--choice", "sí"),
        "p1": cli.json("vote", "--key", cli.key("p1"), ballot, "--choice", "0"),
        "p2": cli.json("vote", "--key", cli.key("p2"), ballot, "--choice", "no"),
        "p3": cli.json("vote", "--key", cli.key("p3"), ballot, "--abstain"),
    }
    assert votes["p0"]["chosen"] == ["sí"] and votes["p3"]["choice"] == []
    # p2 changes their mind (options by text ignore case); the last vote counts.
    again = cli.text("vote", "--key", cli.key("p2"), ballot, "--choice", "SÍ")
    assert again.startswith(f"voted in ballot {ballot[:16]} (counting group {group[:16]}): sí")
    revote = cli.json("vote", "--key", cli.key("p2"), ballot, "--choice", "Sí")
    assert revote["key_image"] == votes["p2"]["key_image"]  # the same voter, linkable
    assert len({v["key_image"] for v in votes.values()}) == 4
    ring_id = ring["id"]
    for vote in [*votes.values(), revote]:
        assert vote["refs"] == [ring_id] and vote["group"] == group

    # Nothing in a vote names its voter: neither key nor certificate.
    stored = cli.stored("vote")
    assert len(stored) == 6
    voters = {bytes.fromhex(keys[name]) for name in ("p0", "p1", "p2", "p3")}
    voter_certs = {bytes.fromhex(certs[name]) for name in ("p0", "p1", "p2", "p3")}
    for event in stored:
        assert event.author not in voters and event.refs == (bytes.fromhex(ring_id),)
        for secret in voters | voter_certs:
            assert secret not in event.raw and secret.hex().encode() not in event.raw
    for name, vote in votes.items():
        assert keys[name] not in json.dumps(vote) and certs[name] not in json.dumps(vote)

    showing = cli.json("ballot", "show", ballot)
    assert showing["status"] == "open" and showing["counting_groups"][0]["votes_held"] == 4

    # -- results: the base group counts at the close, the root sums --
    cli.now = CLOSES
    assert cli.refused("vote", "--key", cli.key("p3"), ballot, "--choice", "no") == (
        "vote_outside_window"
    )
    assert cli.refused("results", "sum", "--key", cli.key("founder"), ballot, "root") == (
        "bad_result"  # the base group has not counted yet
    )
    counted = cli.json("results", "count", "--key", cli.key("p0"), ballot, group)
    assert (counted["counts"], counted["voters"], counted["eligible"]) == ([3, 0], 4, 4)
    assert cli.refused("results", "count", "--key", cli.key("p0"), ballot, group) == "equivocation"
    assert cli.json("results", "show", ballot)["stands"] is False
    summed = cli.json("results", "sum", "--key", cli.key("founder"), ballot, "root")
    assert summed["parts"] == [counted["id"]] and summed["counts"] == [3, 0]

    outcome = cli.json("results", "show", ballot)
    assert outcome["stands"] and outcome["quorum_met"]
    assert (outcome["decided"], outcome["decided_option"]) == (0, "sí")
    assert outcome["results"][group]["verified"] is True and outcome["evidence"] == []
    assert [level["level"] for level in outcome["levels"]] == [1, 2]
    shown = cli.text("results", "show", ballot)
    assert "sí 3, no 0; 4 voters of 4 eligible; verified" in shown
    assert "decided: sí" in shown
    [row] = cli.lines("ballot", "list", "root")
    assert row["id"] == ballot and row["status"] == "closed" and row["decided_option"] == "sí"
    assert "decided: sí" in cli.text("ballot", "show", ballot)


def test_usage_errors(tmp_path: Path) -> None:
    cli = Cli(tmp_path)
    build_network(cli)
    base = ["ballot", "open", "--key", cli.key("founder"), "root", "--question", "?"]
    result = cli.run(*base, "--lang", "es", "--opens-in", "1h")
    assert result.exit_code == 2 and "exactly one of --proposal" in result.output
    result = cli.run(*base, "--lang", "de", "--proposal", "00" * 32)
    assert result.exit_code == 2 and "no default options in 'de'" in result.output
    result = cli.run(*base, "--lang", "es", "--proposal", "00" * 32, "--opens-in", "soon")
    assert result.exit_code == 2 and "not a duration" in result.output
    result = cli.run(*base, "--lang", "es", "--proposal", "00" * 32, "--role", "steward")
    assert result.exit_code == 2 and "belong to an election" in result.output
    result = cli.run("propose", "--key", cli.key("p0"), "root", "--lang", "qu", "--title", "t")
    assert result.exit_code == 2 and "--text or --text-file" in result.output
    result = cli.run("vote", "--key", cli.key("p0"), "0" * 8)
    assert result.exit_code == 2 and "--choice" in result.output
    result = cli.run("vote", "--key", cli.key("p0"), "0" * 8, "--abstain", "--json")
    assert result.exit_code == 1 and json.loads(result.stdout)["reason"] == "unknown_ballot"
    result = cli.run("proposal", "show", "abc")
    assert result.exit_code == 1 and "at least 8 hex digits" in result.output


def test_durations_and_default_options() -> None:
    assert parse_duration("30m") == 30 * 60_000
    assert parse_duration("2h") == 2 * HOUR
    assert parse_duration("1d12h") == 36 * HOUR
    assert parse_duration("500ms") == 500
    for bad in ("", "10", "1x", "0h", "h", "1h-"):
        with pytest.raises(ValueError):
            parse_duration(bad)
    assert default_options("es") == ["sí", "no"]
    assert default_options("qu-PE") == ["arí", "manam"]
    assert default_options("ay") == ["jisa", "janiwa"]
    assert default_options("EN") == ["yes", "no"]
    assert default_options("de") is None
    assert default_options("es", [b"\x01" * 32, b"\x02" * 32]) == ["01" * 8, "02" * 8]
