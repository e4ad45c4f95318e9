"""``ayllu status``, ``ayllu peers``, ``ayllu sync``: the running node of a
data directory, asked through its local API (node/running_node.py), for
the operator at a terminal."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import click

from node import running_node
from node.cli_common import data_dir_option, emit, emit_line, json_option, node_dir, short

#: Seconds between looks at the node's counters while ``sync --wait`` waits.
POLL_S = 0.2


@click.command()
@data_dir_option
@json_option
def status(data_dir: Path | None, as_json: bool) -> None:
    """The running node: who it is, what it serves, its links and counters.

    \b
    JSON fields: those of GET /v1/status (README, "The local API").
    """
    document = running_node.ask(node_dir(data_dir).root, "/v1/status")
    if as_json:
        emit(document)
        return
    groups = ", ".join(f"{g['name']} (level {g['level']})" for g in document["groups"])
    links = document["links"]
    up = sum(1 for link in links if link["state"] == "connected")
    counters = document["counters"]
    click.echo(f"peer id   {document['peer_id']}")
    click.echo(f"serves    {groups or 'no group'}")
    click.echo(f"links     {up} of {len(links)} up")
    click.echo(f"events    {document['events']}")
    click.echo(
        f"sync      {counters['sync_sessions']} sessions, {counters['sync_failures']} failed"
    )
    refused = document.get("rejected") or {}
    if refused:
        click.echo("refused   " + ", ".join(f"{n} {reason}" for reason, n in refused.items()))


@click.command()
@data_dir_option
@json_option
def peers(data_dir: Path | None, as_json: bool) -> None:
    """The peers the running node wants links with: roles, state, where it
    found them, its last sync with each.

    \b
    JSON lines: peer_id, roles, addrs, found_by, reached_by, state,
    failures, last_error, last_sync_ms, last_sync.
    """
    document = running_node.ask(node_dir(data_dir).root, "/v1/status")
    for link in document["links"]:
        if as_json:
            emit_line(link)
            continue
        roles = ",".join(link["roles"])
        synced = "never synced" if link["last_sync_ms"] is None else f"synced {link['last_sync']}"
        error = f" ({link['last_error']})" if link["last_error"] else ""
        click.echo(f"{link['peer_id']} [{roles}] {link['state']}{error}; {synced}")


@click.command()
@data_dir_option
@json_option
@click.argument("peer_ids", metavar="[PEER]...", nargs=-1)
@click.option(
    "--wait",
    type=click.FloatRange(min=0),
    default=0,
    show_default=True,
    help="Seconds to wait for the sessions to end, with a progress bar.",
)
def sync(data_dir: Path | None, as_json: bool, peer_ids: tuple[str, ...], wait: float) -> None:
    """Sync the running node now with PEER... (peer ids; default: every link
    that is up), instead of at its next interval: after a human bridge
    brought a bundle, or to check a link.

    \b
    JSON fields: requested (peer ids), done (sessions that ended while
    waiting), failed (of those, how many failed).
    """
    root = node_dir(data_dir).root
    before = running_node.ask(root, "/v1/status")["counters"]
    body: dict[str, Any] = {} if not peer_ids else {"peers": list(peer_ids)}
    requested = running_node.ask(root, "/v1/sync", body=body)["requested"]
    done, failed = _wait_for_sessions(root, before, len(requested), wait, show=not as_json)
    document = {"requested": requested, "done": done, "failed": failed}
    if as_json:
        emit(document)
        return
    click.echo(f"asked {len(requested)} peers: " + ", ".join(short(p) for p in requested))
    if wait:
        click.echo(f"{done} sessions ended, {failed} failed")


def _wait_for_sessions(
    root: Path, before: dict[str, int], wanted: int, wait: float, *, show: bool
) -> tuple[int, int]:
    """Until ``wanted`` more sessions ended than ``before`` counted, or
    ``wait`` seconds: how many ended, and how many of those failed."""
    done = failed = 0
    if not wait or not wanted:
        return done, failed
    deadline = time.monotonic() + wait
    with click.progressbar(length=wanted, label="syncing", hidden=not show) as bar:
        while done < wanted and time.monotonic() < deadline:
            time.sleep(POLL_S)
            counters = running_node.ask(root, "/v1/status")["counters"]
            ended = counters["sync_ended"] - before["sync_ended"]
            bar.update(min(ended, wanted) - done)
            done = min(ended, wanted)
            failed = counters["sync_failures"] - before["sync_failures"]
    return done, failed


NODE_COMMANDS = (status, peers, sync)
