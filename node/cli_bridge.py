"""``ayllu bridge``: events carried by hand between communities that are
offline (node/bridge.py, specs/bundle.md)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from node import bridge, governance, running_node
from node.cli_common import (
    command_help,
    data_dir_option,
    json_option,
    node_dir,
    now_ms,
    report,
    with_store,
)
from storage.state import NetworkStore

_bundle_path = click.Path(dir_okay=False, path_type=Path)
_existing = click.Path(exists=True, dir_okay=False, path_type=Path)


def _selection(command: Any) -> Any:
    """--group (repeatable) and --since: which events a bundle or id list holds."""
    command = click.option(
        "--since",
        type=click.DateTime(["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S"]),
        help="Only events from this date (UTC), e.g. 2026-11-01.",
    )(command)
    return click.option(
        "--group",
        "group_refs",
        multiple=True,
        metavar="GROUP",
        help="Events of this group as its node syncs them (its path from the root, "
        "its siblings, its subtree); repeatable; default: every event.",
    )(command)


def _since_ms(since: datetime | None) -> int | None:
    return None if since is None else int(since.replace(tzinfo=UTC).timestamp() * 1000)


def _groups(store: NetworkStore, refs: tuple[str, ...]) -> list[bytes]:
    return [governance.resolve_group(store.state, ref) for ref in refs]


@click.group(name="bridge")
def bridge_group() -> None:
    """Carry events by hand (USB stick, phone) to and from offline communities."""


@bridge_group.command(name="export")
@data_dir_option
@json_option
@_selection
@click.option("--out", required=True, type=_bundle_path, help="The bundle file to write.")
@click.option(
    "--have",
    "have_file",
    type=_existing,
    help="An id list from the other side ('ayllu bridge have'): leave out what it holds.",
)
def export_command(
    data_dir: Path | None,
    as_json: bool,
    group_refs: tuple[str, ...],
    since: datetime | None,
    out: Path,
    have_file: Path | None,
) -> None:
    """Write a bundle of the events of some groups (or all), and of every
    event they refer to, less what the other side holds.

    \b
    JSON fields: path, events, bytes.
    {FAILURE}
    """

    async def work(store: NetworkStore) -> bridge.Exported:
        have: set[bytes] = set()
        if have_file is not None:
            have = await bridge.read_ids(have_file, store.genesis.network_id)
        return await bridge.export(
            store,
            out,
            now_ms=now_ms(),
            groups=_groups(store, group_refs),
            since_ms=_since_ms(since),
            have=have,
        )

    _report_written(with_store(node_dir(data_dir), work, as_json), "events", as_json)


export_command.help = command_help(export_command.help or "")


@bridge_group.command(name="have")
@data_dir_option
@json_option
@_selection
@click.option("--out", required=True, type=_bundle_path, help="The id list file to write.")
def have_command(
    data_dir: Path | None,
    as_json: bool,
    group_refs: tuple[str, ...],
    since: datetime | None,
    out: Path,
) -> None:
    """Write the ids of the events this node holds (of some groups, since a
    date): carried to a node that has more, it exports only what this one
    lacks ('ayllu bridge export --have').

    \b
    JSON fields: path, events (ids written), bytes.
    {FAILURE}
    """

    async def work(store: NetworkStore) -> bridge.Exported:
        return await bridge.write_ids(
            store,
            out,
            now_ms=now_ms(),
            groups=_groups(store, group_refs),
            since_ms=_since_ms(since),
        )

    _report_written(with_store(node_dir(data_dir), work, as_json), "ids", as_json)


have_command.help = command_help(have_command.help or "")


#: Bundles from this size on show a progress bar while they are imported.
PROGRESS_FROM_BYTES = 1 << 20


@bridge_group.command(name="import")
@data_dir_option
@json_option
@click.argument("bundles", nargs=-1, required=True, type=_existing)
def import_command(data_dir: Path | None, as_json: bool, bundles: tuple[Path, ...]) -> None:
    """Ingest bundles through the same validation as every event. Whatever
    is intact is taken, even from a tampered or truncated bundle; the rest
    is reported, by reason code. Exit status 1 if a bundle had a problem.

    \b
    JSON fields, one line per bundle: path, made_ms, declared (the events
    its header announces), counts (by outcome: accepted, duplicate,
    refused, rejected, held), reasons (rejected and refused ones, by
    code), problem (what was wrong with the bundle itself, or null).
    {FAILURE}
    """
    node = node_dir(data_dir)
    troubled = False
    for path in bundles:
        size = path.stat().st_size
        with click.progressbar(
            length=size, label=path.name, hidden=as_json or size < PROGRESS_FROM_BYTES
        ) as bar:

            async def work(store: NetworkStore, path: Path = path) -> bridge.Imported:
                return await bridge.import_bundle(store, path, now_ms=now_ms(), progress=bar.update)

            done = with_store(node, work, as_json)
        troubled |= done.problem is not None
        counts = ", ".join(f"{n} {name}" for name, n in sorted(done.counts.items())) or "nothing"
        report(
            {"path": str(path), **done.describe()},
            as_json,
            f"{path}: {counts}" + (f"; {done.problem}" if done.problem else ""),
        )
    if troubled:
        raise SystemExit(1)


import_command.help = command_help(import_command.help or "")


@bridge_group.command(name="status")
@data_dir_option
@json_option
@click.option(
    "--group",
    "group_refs",
    multiple=True,
    metavar="GROUP",
    help="A group to report on (repeatable; default: those the node serves and their neighbours).",
)
def status_command(data_dir: Path | None, as_json: bool, group_refs: tuple[str, ...]) -> None:
    """What is stuck where, from the running node of DATA-DIR (it must run
    with --api): for each group, its nodes, whether this node reaches them,
    when it last synced with each, and what that session found missing
    here (need) and there (have), and left waiting for refs (held).

    \b
    JSON fields: groups: [{group, name, level, reachable, nodes: [{node_key,
    peer_id, self, state, peer_record_ms, last_sync_ms, last_sync}]}], at.
    """
    node = node_dir(data_dir)
    groups = with_store(node, lambda store: _resolved(store, group_refs), as_json)
    document = running_node.ask(node.root, "/v1/bridge", [("group", g.hex()) for g in groups])
    if as_json:
        report(document, as_json, "")
        return
    for row in document["groups"]:
        mark = "reachable" if row["reachable"] else "UNREACHABLE"
        click.echo(f"{row['group'][:16]} {row['name']} (level {row['level']}): {mark}")
        for entry in row["nodes"]:
            synced = entry["last_sync"]
            when = entry["last_sync_ms"]
            seen = "never synced" if when is None else f"synced at {when}: {synced}"
            click.echo(f"  {entry['peer_id']} {entry['state']}; {seen}")


def _report_written(done: bridge.Exported, what: str, as_json: bool) -> None:
    report(
        {"path": str(done.path), "events": done.events, "bytes": done.bytes},
        as_json,
        f"wrote {done.events} {what} ({done.bytes} bytes) to {done.path}",
    )


async def _resolved(store: NetworkStore, refs: tuple[str, ...]) -> list[bytes]:
    return _groups(store, refs)
