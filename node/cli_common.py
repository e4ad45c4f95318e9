"""Helpers shared by the modules of the ``ayllu`` command line (node/cli.py,
node/cli_governance.py): the clock, JSON output, the data directory option,
hex keys, and the node a command works on."""

from __future__ import annotations

import functools
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from node.datadir import DataDir


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def emit(document: dict[str, Any]) -> None:
    click.echo(json.dumps(document, ensure_ascii=False, indent=2))


data_dir_option = click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    envvar="AYLLU_DATA_DIR",
    show_envvar=True,
    help="The node's data directory (key, genesis document and event store).",
)


def public_keys(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
    """Parse 32-byte public keys given in hex: one, or a tuple of them (a
    click callback)."""
    if value is None:
        return None
    if isinstance(value, tuple):
        return tuple(public_key(item, param) for item in value)
    return public_key(value, param)


def public_key(value: str, param: click.Parameter) -> bytes:
    try:
        key = bytes.fromhex(value)
    except ValueError:
        key = b""
    if len(key) != 32:
        raise click.BadParameter("must be 64 hex digits (a 32-byte public key)", param=param)
    return key


def node_dir(data_dir: Path | None) -> DataDir:
    """An initialized node's directory: checked first, since opening a
    missing store would create it."""
    if data_dir is None:
        raise click.UsageError("--data-dir (or AYLLU_DATA_DIR) is required")
    node = DataDir(data_dir)
    if not node.store_path.exists():
        raise click.ClickException(f"no node at {data_dir}: run 'ayllu init' first")
    return node


#: The rules of a charter (specs/groups.md section 3), as command-line
#: options with their defaults: (name, default, help).
_RULES: tuple[tuple[str, int, str], ...] = (
    ("support_pct", 20, "Percent of the members whose support puts a proposal to ballot."),
    ("quorum_pct", 50, "Percent of the members who must vote for a ballot to count."),
    ("threshold_pct", 50, "Percent of the votes cast that passes a ballot (50 to 100)."),
    ("term_days", 90, "A coordinator's term."),
    ("merit_days", 30, "The merit period."),
)


def charter_rules_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """Add the options of a charter's rules to ``command``, which receives
    them as one ``rules`` dict (the charter's ``rules`` map)."""

    @functools.wraps(command)
    def with_rules(*args: Any, **kwargs: Any) -> Any:
        kwargs["rules"] = {name: kwargs.pop(name) for name, _, _ in _RULES}
        return command(*args, **kwargs)

    for name, default, text in reversed(_RULES):
        flag = "--" + name.replace("_", "-")
        with_rules = click.option(flag, type=int, default=default, show_default=True, help=text)(
            with_rules
        )
    return with_rules
