"""Helpers shared by the modules of the ``ayllu`` command line (node/cli.py,
node/cli_governance.py, node/cli_ballots.py): the clock, JSON output, the
data directory option, hex keys, the node a command works on, and the
plumbing of every act (sign with ``--key``, run on the node's store, report
the event or the refusal).

The clock: ``now_ms`` is the system clock, unless the environment variable
``AYLLU_NOW_MS`` holds a time in ms since the epoch; then every command
acts and reads as of that time. It is for tests and rehearsals (a ballot
that opens in an hour, tried in a second); nodes on the network must not set
it, since events stamped far from the real time are refused by peers.
"""

from __future__ import annotations

import functools
import hashlib
import inspect
import json
import os
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click
import trio
from nacl.signing import SigningKey

from node.datadir import DataDir
from node.governance import Published, Refused
from protocol.errors import Rejected
from protocol.keys import decode_keyfile, keyfile_is_sealed
from storage.state import NetworkStore, open_network_store

_T = TypeVar("_T")

#: The environment variable that fixes the clock of every command (tests).
NOW_ENV = "AYLLU_NOW_MS"


def now_ms() -> int:
    """The time, ms since the epoch: ``AYLLU_NOW_MS`` if set, else the clock."""
    fixed = os.environ.get(NOW_ENV)
    if fixed is None or not fixed.strip():
        return time.time_ns() // 1_000_000
    try:
        value = int(fixed)
    except ValueError:
        value = -1
    if value < 0:
        raise click.UsageError(f"{NOW_ENV} must be a time in ms since the epoch, not {fixed!r}")
    return value


def emit(document: dict[str, Any]) -> None:
    click.echo(json.dumps(document, ensure_ascii=False, indent=2))


def emit_line(row: dict[str, Any]) -> None:
    """One item of a listing: a JSON line, so that listings stream."""
    click.echo(json.dumps(row, ensure_ascii=False))


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


#: The optional rules of accountability (specs/accountability.md section 1):
#: left out of the charter unless given, so that their defaults apply.
_ACCOUNTABILITY_RULES: tuple[tuple[str, click.IntRange, str], ...] = (
    (
        "recall_days",
        click.IntRange(1, 30),
        "Days a recall motion gathers support, and its ballot lasts.  [default: 7]",
    ),
    (
        "ratify_days",
        click.IntRange(1, 60),
        "Days an external grant's ratification ballot lasts.  [default: 14]",
    ),
    (
        "steward_months",
        click.IntRange(1, 24),
        "A steward's term, in calendar months.  [default: 3]",
    ),
    (
        "auditor_months",
        click.IntRange(1, 24),
        "An auditor's term, in calendar months.  [default: 12]",
    ),
    (
        "treasury_pct",
        click.IntRange(0, 100),
        "Percent of a declared surplus owed to the solidarity treasury.  [default: 10]",
    ),
)


def charter_rules_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """Add the options of a charter's rules to ``command``, which receives
    them as one ``rules`` dict (the charter's ``rules`` map)."""

    @functools.wraps(command)
    def with_rules(*args: Any, **kwargs: Any) -> Any:
        rules = {name: kwargs.pop(name) for name, _, _ in _RULES}
        for name in [*(name for name, _, _ in _ACCOUNTABILITY_RULES), "steward_repeat"]:
            value = kwargs.pop(name)
            if value is not None:
                rules[name] = value
        kwargs["rules"] = rules
        return command(*args, **kwargs)

    with_rules = click.option(
        "--steward-repeat/--no-steward-repeat",
        default=None,
        help="Whether one person may be steward two terms in a row.  [default: yes]",
    )(with_rules)
    for name, kind, text in reversed(_ACCOUNTABILITY_RULES):
        with_rules = click.option("--" + name.replace("_", "-"), type=kind, help=text)(with_rules)
    for name, default, text in reversed(_RULES):
        flag = "--" + name.replace("_", "-")
        with_rules = click.option(flag, type=int, default=default, show_default=True, help=text)(
            with_rules
        )
    return with_rules


# -- the options and plumbing of the commands that act on a node's state --
# (node/cli_governance.py, node/cli_ballots.py)

json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON.")
key_option = click.option(
    "--key",
    "key_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    required=True,
    help="The key file (specs/keys.md) of whoever acts; it signs the event.",
)
passphrase_option = click.option(
    "--passphrase-file",
    type=click.File("rb"),
    help="The passphrase of a sealed --key, on this file's first line (else asked for).",
)
at_option = click.option(
    "--at", "at_ms", type=int, help="As of this time, ms since the epoch.  [default: now]"
)


def signer_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """The options of every command that signs: --data-dir, --key,
    --passphrase-file, --json."""
    for option in (passphrase_option, key_option, json_option, data_dir_option):
        command = option(command)
    return command


def reader_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """The options of every command that reads the state: --data-dir, --at, --json."""
    for option in (at_option, json_option, data_dir_option):
        command = option(command)
    return command


def read_passphrase(file: Any | None, prompt: str, *, confirm: bool = False) -> bytes:
    if file is not None:
        passphrase: bytes = file.readline().rstrip(b"\r\n")
    else:
        passphrase = click.prompt(prompt, hide_input=True, confirmation_prompt=confirm).encode(
            "utf-8"
        )
    if not passphrase:
        raise click.UsageError("the passphrase is empty")
    return passphrase


def load_key(path: Path, passphrase_file: Any | None) -> SigningKey:
    data = path.read_bytes()
    passphrase = None
    if keyfile_is_sealed(data):
        passphrase = read_passphrase(passphrase_file, f"Passphrase of {path}")
    return decode_keyfile(data, passphrase)


def fail(exc: Rejected, as_json: bool) -> NoReturn:
    """Report a refusal or rejection (reason code and detail) and exit 1."""
    status = "refused" if isinstance(exc, Refused) else "rejected"
    document: dict[str, Any] = {"status": status, "reason": exc.reason.value, "detail": exc.detail}
    if isinstance(exc, Refused) and exc.event_id is not None:
        document["id"] = exc.event_id.hex()  # stored, without effect
    if as_json:
        emit(document)
    else:
        click.echo(
            f"{status}: {exc.reason.value}" + (f": {exc.detail}" if exc.detail else ""), err=True
        )
    raise SystemExit(1)


def with_store(node: DataDir, work: Callable[[NetworkStore], Awaitable[_T]], as_json: bool) -> _T:
    """Run ``work`` on the node's store and state; a Rejected ends the command."""
    genesis = node.load_genesis()

    async def run() -> _T:
        async with open_network_store(node.store_path, genesis) as store:
            return await work(store)

    try:
        return trio.run(run)
    except Rejected as exc:
        fail(exc, as_json)


def run_act(
    data_dir: Path | None,
    key_file: Path,
    passphrase_file: Any | None,
    as_json: bool,
    act: Callable[[NetworkStore, SigningKey, int], Awaitable[_T]],
) -> _T:
    """Load the node and the signing key, then ``act(store, key, now_ms)``."""
    node = node_dir(data_dir)
    key = load_key(key_file, passphrase_file)
    return with_store(node, lambda store: act(store, key, now_ms()), as_json)


def event_document(published: Published, **extra: Any) -> dict[str, Any]:
    event = published.event
    return {
        "status": published.result.status.value,
        "id": event.id.hex(),
        "kind": event.kind,
        "group": event.group.hex(),
        "author": event.author.hex(),
        "ts": event.ts,
        "refs": [ref.hex() for ref in event.refs],
        **extra,
    }


def report(document: dict[str, Any], as_json: bool, text: str) -> None:
    if as_json:
        emit(document)
    else:
        click.echo(text)


EVENT_FIELDS = (
    "status (accepted; duplicate for the very same event), id (the\n"
    "event's, hex), kind, group (hex), author (hex), ts (ms since the\n"
    "epoch), refs (hex ids)"
)
FAILURE = (
    'A refusal exits 1 and prints, with --json, {"status": "refused" (by\n'
    "the state: nothing stored; or, with an id, stored without effect) or\n"
    '"rejected" (by the ingest path: not stored), "reason": a stable code,\n'
    '"detail": ...}; else a line on stderr.'
)


def command_help(text: str) -> str:
    """A command's help: its text, with {EVENT} and {FAILURE} replaced by
    the fields common to every act."""
    cleaned = inspect.cleandoc(text)
    return cleaned.replace("{EVENT}", EVENT_FIELDS).replace("{FAILURE}", FAILURE)


def short(value: bytes | str | None) -> str:
    """The first 16 hex digits of an id or key, or 'none'."""
    if value is None:
        return "none"
    text = value.hex() if isinstance(value, bytes) else value
    return text[:16]


def document_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """--document FILE (hashed here) or --document-hash HEX: the paper
    behind an act, which whoever holds it can check against the hash."""
    command = click.option(
        "--document-hash", metavar="HEX", help="The SHA-256 of the document, in hex."
    )(command)
    return click.option(
        "--document",
        "document_file",
        type=click.File("rb"),
        help="The document (invoice, contract, judgment); only its SHA-256 is published.",
    )(command)


def document_of(document_file: Any, document_hash: str | None) -> bytes:
    """The SHA-256 that ``document_options`` gave."""
    if (document_file is None) == (document_hash is None):
        raise click.UsageError("give --document FILE or --document-hash HEX")
    if document_file is not None:
        return hashlib.sha256(document_file.read()).digest()
    assert document_hash is not None
    try:
        digest = bytes.fromhex(document_hash)
    except ValueError:
        digest = b""
    if len(digest) != 32:
        raise click.BadParameter("must be 64 hex digits", param_hint="--document-hash")
    return digest


def acted(published: Published, as_json: bool, text: str, **extra: Any) -> None:
    """Report an act: its event document (with ``extra``), or ``text``."""
    report(event_document(published, **extra), as_json, text)
