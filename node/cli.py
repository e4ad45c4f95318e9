"""The ``ayllu`` command line.

Every failure ends with a one-line message on stderr and a non-zero exit
status; rejected events also print their stable reason code, in JSON, so
scripts can act on it. Exit status: 0 success, 1 refused or invalid input,
2 wrong usage.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from importlib.metadata import version as package_version
from pathlib import Path
from typing import Any

import click
import trio

from node.datadir import DataDir
from node.ingest import ingest_raw
from protocol.cbor import MAX_SIZE
from protocol.errors import AylluError, Rejected
from protocol.event import SignedEvent, parse_event, verify_signature
from protocol.keys import peer_id
from protocol.validation import KnownEvents, Verdict, check_clock, check_refs
from storage import IngestStatus, StoredEvent, open_sqlite_store


def now_ms() -> int:
    return time.time_ns() // 1_000_000


class _Group(click.Group):
    """Turns the project's own errors into a clean message and exit status 1."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except AylluError as exc:
            raise click.ClickException(str(exc)) from exc


def _emit(document: dict[str, Any]) -> None:
    click.echo(json.dumps(document, ensure_ascii=False, indent=2))


data_dir_option = click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    envvar="AYLLU_DATA_DIR",
    show_envvar=True,
    help="The node's data directory (key and event store).",
)


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
    "--passphrase-file",
    type=click.File("rb"),
    help="Seal the node key with the passphrase on this file's first line.",
)
@click.option("--seal", is_flag=True, help="Seal the node key with a passphrase asked for here.")
def init(data_dir: Path, passphrase_file: Any, seal: bool) -> None:
    """Create a node: its key and an empty event store.

    Refuses to replace an existing key, since the key is the node's identity.
    """
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
    key = trio.run(lambda: directory.initialize(passphrase))
    _emit(
        {
            "data_dir": str(data_dir),
            "key_file": str(directory.key_path),
            "sealed": passphrase is not None,
            "store": str(directory.store_path),
            "public_key": bytes(key.verify_key).hex(),
            "peer_id": peer_id(bytes(key.verify_key)),
        }
    )


@main.group()
def event() -> None:
    """Check, import and list signed events."""


@event.command()
@click.argument("file", type=click.File("rb"))
@data_dir_option
@click.option("--now-ms", "at_ms", type=int, help="Validate as of this time (ms since the epoch).")
def verify(file: Any, data_dir: Path | None, at_ms: int | None) -> None:
    """Check one CBOR-encoded event from FILE ('-' for standard input).

    Prints JSON with the event's id, kind and author, or its reason code;
    exits 1 when it is invalid. References to earlier events are checked
    only against a node's store (--data-dir); without one they are reported
    as unchecked.
    """
    # One byte past the limit is enough to know the event is too large.
    raw = file.read(MAX_SIZE + 1)
    at = now_ms() if at_ms is None else at_ms
    store_path = None if data_dir is None else _node_store(data_dir)
    verdict, event, refs_checked = trio.run(lambda: _verify(raw, store_path, at))
    document: dict[str, Any] = {"valid": verdict.accepted}
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
    raw: bytes, store_path: Path | None, at: int
) -> tuple[Verdict, SignedEvent | None, bool]:
    event: SignedEvent | None = None
    refs_checked = False
    try:
        event = parse_event(raw)
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

    Each goes through the full validation path; prints one JSON line per
    file with its outcome, and exits 1 if any was rejected.
    """
    store_path = _node_store(data_dir)
    raws = [file.read() for file in files]

    async def ingest() -> list[Any]:
        async with open_sqlite_store(store_path) as store:
            return await ingest_raw(store, raws, now_ms())

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
@click.option("--limit", type=click.IntRange(1, 10_000), default=100, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
def list_(
    data_dir: Path | None,
    group_hex: str | None,
    kind: str | None,
    author_hex: str | None,
    limit: int,
    as_json: bool,
) -> None:
    """List the events a node holds, oldest first."""
    store_path = _node_store(data_dir)
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


def _node_store(data_dir: Path | None) -> Path:
    """The store of an initialized node; opening a missing one would create it."""
    if data_dir is None:
        raise click.UsageError("--data-dir (or AYLLU_DATA_DIR) is required")
    store_path = DataDir(data_dir).store_path
    if not store_path.exists():
        raise click.ClickException(f"no node at {data_dir}: run 'ayllu init' first")
    return store_path


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
        "group": event.group.hex(),
        "author": event.author.hex(),
        "author_peer_id": peer_id(event.author),
        "ts": event.ts,
        "refs": [ref.hex() for ref in event.refs],
        "size": len(event.raw),
    }
