"""The ``ayllu`` command line.

Every failure ends with a one-line message on stderr and a non-zero exit
status; rejected events also print their stable reason code, in JSON, so
scripts can act on it. Exit status: 0 success, 1 refused or invalid input,
2 wrong usage.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from importlib.metadata import version as package_version
from pathlib import Path
from typing import Any

import click
import trio
from click.core import ParameterSource

from bootstrap.cli import bootstrap_group
from node.cli_ballots import BALLOT_COMMANDS
from node.cli_bridge import bridge_group
from node.cli_common import charter_rules_options, data_dir_option, now_ms
from node.cli_common import emit as _emit
from node.cli_common import node_dir as _node
from node.cli_common import public_keys as _public_keys
from node.cli_demo import demo
from node.cli_governance import COMMAND_GROUPS
from node.cli_ledger import LEDGER_COMMANDS
from node.cli_map import MAP_COMMANDS
from node.cli_node import NODE_COMMANDS
from node.cli_recall import RECALL_COMMANDS
from node.cli_reports import REPORT_COMMANDS
from node.cli_run import run
from node.datadir import DataDir
from node.files import write_durably
from node.ingest import ingest_raw
from protocol.cbor import MAX_SIZE
from protocol.errors import AylluError, Rejected
from protocol.event import SignedEvent, parse_event, verify_signature
from protocol.genesis import MAX_GENESIS_SIZE, Genesis, make_genesis, parse_genesis
from protocol.keys import peer_id
from protocol.validation import KnownEvents, Verdict, check_clock, check_network, check_refs
from storage import IngestStatus, StoredEvent, open_sqlite_store
from storage.state import open_network_store


class _Group(click.Group):
    """Turns the project's own errors into a clean message and exit status 1."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except AylluError as exc:
            raise click.ClickException(str(exc)) from exc


genesis_file_type = click.Path(exists=True, dir_okay=False, path_type=Path)


@click.group(cls=_Group)
@click.version_option(package_version("ayllu"), prog_name="ayllu")
def main() -> None:
    """ayllu: the network of a direct-democracy movement.

    Each micro-group runs a node that keeps signed events (proposals,
    votes, results) and shares them along the fractal of groups.
    """


@main.command()
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    envvar="AYLLU_DATA_DIR",
    show_envvar=True,
    required=True,
    help="Where to create the node (made if absent).",
)
@click.option(
    "--genesis",
    "genesis_file",
    type=genesis_file_type,
    required=True,
    help="The genesis document of the network the node joins (see 'ayllu genesis').",
)
@click.option(
    "--passphrase-file",
    type=click.File("rb"),
    help="Seal the node key with the passphrase on this file's first line.",
)
@click.option("--seal", is_flag=True, help="Seal the node key with a passphrase asked for here.")
def init(data_dir: Path, genesis_file: Path, passphrase_file: Any, seal: bool) -> None:
    """Create a node of the network that --genesis defines: its key, a copy
    of the genesis document and an empty event store.

    Refuses to replace an existing key, since the key is the node's
    identity; refuses an invalid genesis document (with its reason code)
    before creating anything.

    \b
    Prints JSON: data_dir, key_file, sealed (bool), store, genesis (the
    copy in the data dir), network_id (hex), public_key (hex), peer_id.
    """
    network = _read_genesis(genesis_file)
    passphrase: bytes | None = None
    if passphrase_file is not None:
        passphrase = passphrase_file.readline().rstrip(b"\r\n")
    elif seal:
        passphrase = click.prompt("Passphrase", hide_input=True, confirmation_prompt=True).encode(
            "utf-8"
        )
    if passphrase is not None and not passphrase:
        raise click.UsageError("the passphrase is empty")
    directory = DataDir(data_dir)
    key = trio.run(lambda: directory.initialize(network, passphrase))
    _emit(
        {
            "data_dir": str(data_dir),
            "key_file": str(directory.key_path),
            "sealed": passphrase is not None,
            "store": str(directory.store_path),
            "genesis": str(directory.genesis_path),
            "network_id": network.network_id.hex(),
            "public_key": bytes(key.verify_key).hex(),
            "peer_id": peer_id(bytes(key.verify_key)),
        }
    )


@main.group()
def genesis() -> None:
    """Create and read genesis documents: what defines a network.

    A network's id is the SHA-256 of its genesis document's bytes; every
    event carries it, and every node of the network is created with the
    same document (specs/genesis.md).
    """


@genesis.command()
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="Where to write the document (never over an existing file).",
)
@click.option("--name", required=True, help="The network's name, also its root group's name.")
@click.option("--level", type=int, required=True, help="The root group's level (1 to 32).")
@click.option(
    "--lang",
    "langs",
    multiple=True,
    required=True,
    help="A language of the root group (a tag such as es, qu, ay); repeat for each.",
)
@click.option(
    "--founder",
    metavar="HEXKEY",
    callback=_public_keys,
    required=True,
    help="The founder's public key.",
)
@click.option(
    "--registrar",
    "registrars",
    metavar="HEXKEY",
    callback=_public_keys,
    multiple=True,
    required=True,
    help="An initial registrar's public key; repeat for each.",
)
@click.option(
    "--quorum",
    type=int,
    required=True,
    help="How many registrars must approve a registrar change.",
)
@click.option("--ts", type=int, help="Creation time, ms since the epoch.  [default: now]")
@click.option(
    "--bootstrap",
    multiple=True,
    metavar="MULTIADDR",
    help="A default bootstrap peer of the network, with /p2p/ (repeatable; at most 16).",
)
@charter_rules_options
def create(
    out: Path,
    name: str,
    level: int,
    langs: tuple[str, ...],
    founder: bytes,
    registrars: tuple[bytes, ...],
    quorum: int,
    ts: int | None,
    bootstrap: tuple[str, ...],
    rules: dict[str, int],
) -> None:
    """Write a new genesis document (specs/genesis.md).

    The root group's charter takes the network's name, --level, the
    languages and the rules (specs/groups.md). The same options give the
    same bytes, so the same network id; refuses a document that a node
    would refuse, with its reason code.

    \b
    Prints the document as 'ayllu genesis show --json' does.
    """
    document = make_genesis(
        name=name,
        ts=now_ms() if ts is None else ts,
        root={
            "name": name,
            "langs": sorted(set(langs)),
            "level": level,
            "rules": rules,
        },
        founder=founder,
        registrars=registrars,
        quorum=quorum,
        bootstrap=bootstrap,
    )
    try:
        write_durably(out, document.raw, mode=0o644, replace=False)
    except FileExistsError:
        raise click.ClickException(f"refusing to overwrite {out}") from None
    except OSError as exc:
        raise click.ClickException(f"cannot write {out}: {exc.strerror}") from None
    _emit(_describe_genesis(out, document))


@genesis.command()
@click.argument("file", type=genesis_file_type)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def show(file: Path, as_json: bool) -> None:
    """Check the genesis document FILE and print what it says.

    Exits 1, with its reason code, if FILE is not a valid genesis document.

    \b
    JSON fields: file, network_id (hex), name, ts (ms since the epoch),
    root (the root group's charter: name, langs, level, rules), founder
    (hex), registrars (hex, ascending), quorum, bootstrap (the network's
    default bootstrap peers), size (bytes).
    """
    document = _describe_genesis(file, _read_genesis(file))
    if as_json:
        _emit(document)
        return
    root = document["root"]
    rules = ", ".join(f"{name} {value}" for name, value in root["rules"].items())
    created = datetime.fromtimestamp(document["ts"] / 1000, tz=UTC).isoformat(timespec="seconds")
    click.echo(f"network id  {document['network_id']}")
    click.echo(f"name        {document['name']}")
    click.echo(f"created     {created}")
    click.echo(
        f"root        {root['name']}, level {root['level']}, languages {' '.join(root['langs'])}"
    )
    click.echo(f"rules       {rules}")
    click.echo(f"founder     {document['founder']}")
    registrars = document["registrars"]
    click.echo(f"registrars  {len(registrars)}, quorum {document['quorum']}")
    for registrar in registrars:
        click.echo(f"            {registrar}")
    for address in document["bootstrap"]:
        click.echo(f"bootstrap   {address}")


def _read_genesis(path: Path) -> Genesis:
    with path.open("rb") as file:
        # One byte past the limit is enough to know the document is too large.
        raw = file.read(MAX_GENESIS_SIZE + 1)
    try:
        return parse_genesis(raw)
    except Rejected as exc:
        raise click.ClickException(f"{path} is not a valid genesis document: {exc}") from None


def _describe_genesis(path: Path, document: Genesis) -> dict[str, Any]:
    return {
        "file": str(path),
        "network_id": document.network_id.hex(),
        "name": document.name,
        "ts": document.ts,
        "root": dict(document.root),
        "founder": document.founder.hex(),
        "registrars": [key.hex() for key in document.registrars],
        "quorum": document.quorum,
        "bootstrap": list(document.bootstrap),
        "size": len(document.raw),
    }


@main.group()
def event() -> None:
    """Check, import and list signed events."""


@event.command()
@click.argument("file", type=click.File("rb"))
@data_dir_option
@click.option(
    "--genesis",
    "genesis_file",
    type=genesis_file_type,
    help="Check against the network of this genesis document instead of a node's.",
)
@click.option("--now-ms", "at_ms", type=int, help="Validate as of this time (ms since the epoch).")
@click.pass_context
def verify(
    ctx: click.Context,
    file: Any,
    data_dir: Path | None,
    genesis_file: Path | None,
    at_ms: int | None,
) -> None:
    """Check one CBOR-encoded event from FILE ('-' for standard input).

    An event belongs to one network, so the network must be known: a
    node's (--data-dir, whose store also serves to check the references
    to earlier events) or a genesis document's (--genesis; references are
    then reported as unchecked). --genesis overrides a data directory
    given by AYLLU_DATA_DIR; giving both options is a usage error. Exits 1
    when the event is invalid.

    \b
    Prints JSON: valid (bool), network_id (hex, the network checked
    against); if the event decoded: id, kind, net (its network id), group,
    author (hex), author_peer_id, ts, refs (hex ids), size (bytes),
    refs_checked (bool); if invalid: reason (a stable code), action
    (reject, ignore or hold), detail.
    """
    if genesis_file is not None:
        if ctx.get_parameter_source("data_dir") is ParameterSource.COMMANDLINE:
            raise click.UsageError("give --data-dir or --genesis, not both")
        network, store_path = _read_genesis(genesis_file), None
    elif data_dir is not None:
        node = _node(data_dir)
        network, store_path = node.load_genesis(), node.store_path
    else:
        raise click.UsageError(
            "the event's network must be known: give --data-dir (or AYLLU_DATA_DIR) or --genesis"
        )
    # One byte past the limit is enough to know the event is too large.
    raw = file.read(MAX_SIZE + 1)
    at = now_ms() if at_ms is None else at_ms
    verdict, event, refs_checked = trio.run(
        lambda: _verify(raw, network.network_id, store_path, at)
    )
    document: dict[str, Any] = {"valid": verdict.accepted, "network_id": network.network_id.hex()}
    if event is not None:
        document.update(_describe(event))
        document["refs_checked"] = refs_checked
    if not verdict.accepted:
        assert verdict.reason is not None and verdict.action is not None
        document.update(reason=verdict.reason.value, action=verdict.action.value)
        document["detail"] = verdict.detail
    _emit(document)
    if not verdict.accepted:
        raise SystemExit(1)


async def _verify(
    raw: bytes, network_id: bytes, store_path: Path | None, at: int
) -> tuple[Verdict, SignedEvent | None, bool]:
    """The checks of protocol/validation.py in their order, with the refs
    read from the store only when there is one."""
    event: SignedEvent | None = None
    refs_checked = False
    try:
        event = parse_event(raw)
        check_network(event, network_id)
        verify_signature(event)
        check_clock(event, at)
        if store_path is not None:
            async with open_sqlite_store(store_path) as store:
                held = await store.get_many(event.refs)
            refs_checked = True
            check_refs(event, KnownEvents({eid: parse_event(r).ts for eid, r in held.items()}))
    except Rejected as exc:
        return Verdict.of(exc), event, refs_checked
    return Verdict(), event, refs_checked


@event.command(name="import")
@click.argument("files", nargs=-1, required=True, type=click.File("rb"))
@data_dir_option
def import_(files: tuple[Any, ...], data_dir: Path | None) -> None:
    """Ingest CBOR-encoded events (one per FILE) into a node's store.

    Each goes through the full validation path, against the node's
    network, and governance events are folded into the node's state. An
    event the state refuses (specs/groups.md: a sixth member, ...) is
    stored all the same and reported refused; exits 1 if any was rejected
    (not stored).

    \b
    Prints one JSON object per line and file: file, status (accepted,
    duplicate, refused or rejected), id (hex, if the event decoded); if
    refused or rejected: reason (a stable code), detail.
    """
    node = _node(data_dir)
    genesis = node.load_genesis()
    raws = [file.read() for file in files]

    async def ingest() -> list[Any]:
        async with open_network_store(node.store_path, genesis) as store:
            # ingest_raw calls only ``ingest``, which the NetworkStore has.
            return await ingest_raw(store, raws, now_ms(), genesis.network_id)

    rejected = False
    for file, outcome in zip(files, trio.run(ingest), strict=True):
        line: dict[str, Any] = {"file": file.name, "status": outcome.status.value}
        if outcome.id is not None:
            line["id"] = outcome.id.hex()
        if outcome.reason is not None:
            line.update(reason=outcome.reason.value, detail=outcome.detail)
        rejected |= outcome.status is IngestStatus.REJECTED
        click.echo(json.dumps(line, ensure_ascii=False))
    if rejected:
        raise SystemExit(1)


@event.command(name="list")
@data_dir_option
@click.option("--group", "group_hex", help="Only this group (hex id).")
@click.option("--kind", help="Only this kind.")
@click.option("--author", "author_hex", help="Only this author (hex public key).")
@click.option(
    "--limit",
    type=click.IntRange(1, 10_000),
    default=100,
    show_default=True,
    help="At most this many events.",
)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
def list_(
    data_dir: Path | None,
    group_hex: str | None,
    kind: str | None,
    author_hex: str | None,
    limit: int,
    as_json: bool,
) -> None:
    """List the events a node holds, oldest first.

    \b
    With --json, one JSON object per event: id, kind, net, group, author
    (hex), author_peer_id, ts (ms since the epoch), refs (hex ids), size.
    """
    store_path = _node(data_dir).store_path
    group = _hex_option("--group", group_hex)
    author = _hex_option("--author", author_hex)

    async def query() -> list[StoredEvent]:
        async with open_sqlite_store(store_path) as store:
            return await store.query(group=group, kind=kind, author=author, limit=limit)

    for stored in trio.run(query):
        described = _describe(parse_event(stored.raw))
        if as_json:
            click.echo(json.dumps(described, ensure_ascii=False))
        else:
            when = datetime.fromtimestamp(stored.ts / 1000, tz=UTC).isoformat(timespec="seconds")
            click.echo(
                f"{when}  {described['id'][:16]}  {described['kind']:<12} "
                f"{described['author_peer_id']}"
            )


def _hex_option(name: str, value: str | None) -> bytes | None:
    if value is None:
        return None
    try:
        return bytes.fromhex(value)
    except ValueError:
        raise click.BadParameter("must be hexadecimal", param_hint=name) from None


def _describe(event: SignedEvent) -> dict[str, Any]:
    return {
        "id": event.id.hex(),
        "kind": event.kind,
        "net": event.net.hex(),
        "group": event.group.hex(),
        "author": event.author.hex(),
        "author_peer_id": peer_id(event.author),
        "ts": event.ts,
        "refs": [ref.hex() for ref in event.refs],
        "size": len(event.raw),
    }


for _command in (
    *COMMAND_GROUPS,
    *BALLOT_COMMANDS,
    *RECALL_COMMANDS,
    *LEDGER_COMMANDS,
    *REPORT_COMMANDS,
    *MAP_COMMANDS,
    *NODE_COMMANDS,
    run,
    demo,
    bridge_group,
    bootstrap_group,
):
    main.add_command(_command)
