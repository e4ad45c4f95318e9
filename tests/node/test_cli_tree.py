"""The command line as a whole: every command of the tree documents
itself, answers ``--help``, and every command that reads can answer JSON
(``--json``), so that scripts never parse text meant for people."""

from __future__ import annotations

from collections.abc import Iterator

import click
import pytest
from click.testing import CliRunner

from node.cli import main

#: The verbs of reading: a command named so shows what is, and changes nothing.
READS = {"show", "list", "tree", "members", "rings", "graph", "status", "peers", "have"}
#: The verbs the issue names, at the top of the tree.
VERBS = {
    "group", "member", "propose", "amend", "comment", "support", "ballot", "vote", "results",
    "recall", "role", "ledger", "report", "map", "peers", "sync", "status", "bridge", "demo",
}  # fmt: skip


def commands(command: click.Command, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    yield path
    if isinstance(command, click.Group):
        for name, sub in sorted(command.commands.items()):
            yield from commands(sub, (*path, name))


def resolve(path: tuple[str, ...]) -> click.Command:
    command: click.Command = main
    for name in path:
        assert isinstance(command, click.Group)
        command = command.commands[name]
    return command


ALL = list(commands(main))


def test_the_tree_has_every_verb() -> None:
    assert set(main.commands) >= VERBS


@pytest.mark.parametrize("path", ALL, ids=lambda p: " ".join(p) or "ayllu")
def test_every_command_documents_itself(path: tuple[str, ...]) -> None:
    command = resolve(path)
    assert command.help and len(command.help.split()) >= 5, "a sentence at least"
    answer = CliRunner().invoke(main, [*path, "--help"])
    assert answer.exit_code == 0, answer.output
    assert "Usage: " in answer.output
    for param in command.params:
        if isinstance(param, click.Option) and not param.hidden:
            assert param.help, f"{param.opts[0]} has no help"


@pytest.mark.parametrize(
    "path", [p for p in ALL if p and p[-1] in READS], ids=lambda p: " ".join(p)
)
def test_every_read_answers_json(path: tuple[str, ...]) -> None:
    options = {o for p in resolve(path).params if isinstance(p, click.Option) for o in p.opts}
    assert "--json" in options
