"""``ayllu bootstrap run``: the bootstrap peer operators run."""

from __future__ import annotations

from typing import Any

import click

from bootstrap.peer import bootstrap_peer
from node.cli_run import launch, node_options

#: A bootstrap peer is every new node's first contact.
BOOTSTRAP_MAX_CONNECTIONS = 1024


@click.group(name="bootstrap")
def bootstrap_group() -> None:
    """Run a bootstrap peer: first contact, discovery, an archive."""


@bootstrap_group.command(name="run")
@node_options(dht=True, max_connections=BOOTSTRAP_MAX_CONNECTIONS)
@click.option(
    "--archive/--no-archive",
    default=True,
    show_default=True,
    help="Keep and serve every event; --no-archive runs a directory, the DHT and "
    "rendezvous only, for an operator with little disk.",
)
def run(archive: bool, **options: Any) -> None:
    """Run a bootstrap peer until SIGINT or SIGTERM: a Kademlia DHT server
    (which peers serve which group), a rendezvous point, and an archive
    that syncs every event with every peer that connects and answers
    anyone's sync. It joins no gossip topic and holds no authority: every
    event it serves is signed by its author and checked by its receiver.
    Give it an 'ayllu init' data directory of the network it serves (a
    directory keeps its key there, and no event)."""
    launch(bootstrap_peer, relay=False, archive=archive, sync=archive, **options)
