"""``ayllu run``: the long-running node process.

One process may run several nodes (one data directory each): a community
centre's one small machine can serve the nodes of several micro-groups,
and a local test network fits on a laptop's cores. Each node has its own
key, store, host and port.

While a node runs, ``DIR/node.json`` says where: the process id, the peer
id, the addresses with ``/p2p/``, and the API's address. It is written
when the node is up and removed when it stops cleanly, so a script can
wait for it, and an operator can see which nodes of a machine are up.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
import tomllib
from collections.abc import Callable
from contextlib import AsyncExitStack
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Any

import click
import trio
from multiaddr import Multiaddr
from nacl.signing import SigningKey
from pythonjsonlogger.json import JsonFormatter

from node.api import create_app, serve_api
from node.cli_common import load_key, node_dir
from node.datadir import DataDir
from node.files import write_durably
from node.host import MAX_CONNECTIONS
from node.runtime import Node, NodeConfig
from storage.state import NetworkStore, open_network_store

logger = logging.getLogger("ayllu")

RUNTIME_FILE = "node.json"
DEFAULT_LISTEN = "/ip4/0.0.0.0/tcp/4001"


#: Makes the node of a data directory: a community node, or an archive.
NodeMaker = Callable[[SigningKey, NetworkStore, NodeConfig], Node]


def _read_config(ctx: click.Context, param: click.Parameter, path: Path | None) -> None:
    """Load a TOML config file into the command's defaults: its keys are the
    command's long option names (``listen``, ``sync-interval``, ``mdns``,
    ...), and the command line still overrides them."""
    if path is None:
        return
    try:
        with path.open("rb") as file:
            document = tomllib.load(file)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise click.BadParameter(f"{path}: {exc}", ctx=ctx, param=param) from None
    names = {
        opt.lstrip("-"): option.name
        for option in ctx.command.params
        if isinstance(option, click.Option) and option.name != "config"
        for opt in option.opts
        if opt.startswith("--")
    }
    unknown = sorted(set(document) - set(names))
    if unknown:
        raise click.BadParameter(
            f"{path}: unknown setting {unknown[0]!r}; known: {', '.join(sorted(names))}",
            ctx=ctx,
            param=param,
        )
    ctx.default_map = {**(ctx.default_map or {}), **{names[k]: v for k, v in document.items()}}


def node_options(
    *, dht: bool, max_connections: int
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """The options of every command that runs nodes (``ayllu run``,
    ``ayllu bootstrap run``), with their defaults for that kind of node."""

    def decorate(command: Callable[..., Any]) -> Callable[..., Any]:
        for option in reversed(_node_options(dht, max_connections)):
            command = option(command)
        return command

    return decorate


def _node_options(
    dht_default: bool, max_connections: int
) -> list[Callable[[Callable[..., Any]], Callable[..., Any]]]:
    return [
        click.option(
            "--config",
            type=click.Path(exists=True, dir_okay=False, path_type=Path),
            is_eager=True,
            expose_value=False,
            callback=_read_config,
            help="A TOML file of settings, named as these options are (README, "
            "'Operating a node'); options given here override it.",
        ),
        click.option(
            "--data-dir",
            "data_dirs",
            type=click.Path(file_okay=False, path_type=Path),
            multiple=True,
            required=True,
            envvar="AYLLU_DATA_DIR",
            show_envvar=True,
            help="A node's data directory (made by 'ayllu init'); repeat to run several nodes.",
        ),
        click.option(
            "--listen",
            multiple=True,
            default=(DEFAULT_LISTEN,),
            show_default=True,
            metavar="MULTIADDR",
            help="Where to listen (repeatable). The n-th node of the process (from 0) "
            "listens on the port plus n; port 0 picks a free one.",
        ),
        click.option(
            "--bootstrap",
            multiple=True,
            metavar="MULTIADDR",
            help="A peer to link with and sync from, with its /p2p/ peer id (repeatable).",
        ),
        click.option(
            "--api",
            "api_address",
            metavar="HOST:PORT",
            help="Serve the local HTTP API here (port plus n for the n-th node); off if not "
            "given. It has no authentication: keep it on 127.0.0.1.",
        ),
        click.option(
            "--sync-interval",
            type=click.FloatRange(min=0.5),
            default=30.0,
            show_default=True,
            help="Seconds between syncs with each neighbour and bootstrap peer.",
        ),
        click.option(
            "--dht/--no-dht",
            default=dht_default,
            show_default=True,
            help="Announce the groups served in the Kademlia DHT and look up there the "
            "neighbours with no peer record yet (for bootstrap peers that keep no archive).",
        ),
        click.option(
            "--max-connections",
            type=click.IntRange(min=8),
            default=max_connections,
            show_default=True,
            help="Connections kept at most, beyond which the least useful are closed.",
        ),
        click.option(
            "--deny-file",
            type=click.Path(dir_okay=False, path_type=Path),
            help="Peers to refuse, one peer id per line ('#' comments), read again "
            "whenever it changes: not dialled, disconnected, nothing taken from them.",
        ),
        click.option(
            "--passphrase-file",
            type=click.File("rb"),
            help="The passphrase of sealed node keys, on this file's first line (else asked for).",
        ),
        click.option(
            "--log-level",
            type=click.Choice(["debug", "info", "warning", "error"]),
            default="info",
            show_default=True,
            help="The least severe log records written.",
        ),
        click.option(
            "--log-format",
            type=click.Choice(["json", "text"]),
            default="json",
            show_default=True,
            help="json: one object per line on stderr, for log collectors.",
        ),
    ]


@click.command()
@node_options(dht=False, max_connections=MAX_CONNECTIONS)
@click.option(
    "--sync-only",
    is_flag=True,
    help="Join no gossip topic: relay nothing and learn of events by sync alone "
    "(for a metered or slow link).",
)
@click.option(
    "--mdns/--no-mdns",
    default=True,
    show_default=True,
    help="Find this network's nodes on the local network (mDNS), with no bootstrap.",
)
def run(sync_only: bool, mdns: bool, **options: Any) -> None:
    """Run the node(s) until SIGINT or SIGTERM: link with the neighbouring
    groups' nodes, gossip and sync events, serve the local API.

    Every event is committed to the store before it is acknowledged or
    gossiped, so killing the process loses nothing acknowledged."""
    launch(Node, relay=not sync_only, mdns=mdns, **options)


def launch(
    make: NodeMaker,
    *,
    data_dirs: tuple[Path, ...],
    listen: tuple[str, ...],
    bootstrap: tuple[str, ...],
    api_address: str | None,
    sync_interval: float,
    dht: bool,
    max_connections: int,
    passphrase_file: Any,
    log_level: str,
    log_format: str,
    **config: Any,
) -> None:
    """Check the options, load the keys, then run ``make``'s nodes (with
    the rest of ``config``) until a signal."""
    api = _host_port(api_address) if api_address is not None else None
    shifted = [[_shift(address, n) for address in listen] for n in range(len(data_dirs))]
    dirs = [node_dir(path) for path in data_dirs]
    keys = [load_key(d.key_path, passphrase_file) for d in dirs]
    _configure_logging(log_level, log_format)
    base = NodeConfig(bootstrap=list(bootstrap), sync_interval_s=sync_interval, dht=dht, **config)
    configs = [replace(base, listen=addresses) for addresses in shifted]
    apis = [None if api is None else (api[0], api[1] and api[1] + n) for n in range(len(dirs))]
    trio.run(partial(_run_nodes, make, dirs, keys, configs, apis))


async def _run_nodes(
    make: NodeMaker,
    dirs: list[DataDir],
    keys: list[Any],
    configs: list[NodeConfig],
    apis: list[tuple[str, int] | None],
) -> None:
    shutdown = trio.Event()
    # Listen for signals before anything starts: a SIGTERM that comes while
    # the nodes start still stops them cleanly.
    with trio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
        async with AsyncExitStack() as stack, trio.open_nursery() as nursery:
            nodes: list[Node] = []
            for data_dir, key, config, api in zip(dirs, keys, configs, apis, strict=True):
                genesis = data_dir.load_genesis()
                store = await stack.enter_async_context(
                    open_network_store(data_dir.store_path, genesis)
                )
                node = make(key, store, config)
                await nursery.start(node.run)
                nodes.append(node)
                bound = None
                if api is not None:
                    bound = await nursery.start(
                        partial(serve_api, create_app(node), api[0], api[1], shutdown=shutdown)
                    )
                _write_runtime_file(data_dir, node, bound)
                stack.callback(_remove_runtime_file, data_dir)
            async for signum in signals:
                logger.info("stopping", extra={"signal": signal.Signals(signum).name})
                break
            shutdown.set()
            for node in nodes:
                node.stop()


def _write_runtime_file(data_dir: DataDir, node: Node, api: tuple[str, int] | None) -> None:
    document = {
        "pid": os.getpid(),
        "peer_id": str(node.peer_id),
        "node_key": node.public_key.hex(),
        "addrs": node.addresses(),
        "api": None if api is None else f"http://{api[0]}:{api[1]}",
    }
    write_durably(
        data_dir.root / RUNTIME_FILE,
        (json.dumps(document, indent=2) + "\n").encode(),
        mode=0o644,
        replace=True,
    )
    logger.info("node up", extra=document)


def _remove_runtime_file(data_dir: DataDir) -> None:
    (data_dir.root / RUNTIME_FILE).unlink(missing_ok=True)


def _shift(address: str, n: int) -> str:
    """``address`` with its TCP port plus ``n`` (0 stays 0)."""
    try:
        multiaddr = Multiaddr(address)
        port = int(multiaddr.value_for_protocol("tcp"))
    except Exception as exc:
        raise click.BadParameter(f"{address}: {exc}", param_hint="--listen") from None
    if port == 0 or n == 0:
        return address
    return address.replace(f"/tcp/{port}", f"/tcp/{port + n}", 1)


def _host_port(text: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or int(port) > 65535:
        raise click.BadParameter("must be HOST:PORT, e.g. 127.0.0.1:8321", param_hint="--api")
    return host, int(port)


def _configure_logging(level: str, form: str) -> None:
    handler = logging.StreamHandler(sys.stderr)
    if form == "json":
        handler.setFormatter(
            JsonFormatter("{asctime}{levelname}{name}{message}", style="{", timestamp=True)
        )
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    if level != "debug":
        # py-libp2p narrates every dial and stream at INFO, and warns each
        # time it drops a message it queued for a connected peer outside the
        # message's topic (a sync-only link), which is every message.
        logging.getLogger("libp2p").setLevel(logging.WARNING)
        logging.getLogger("libp2p.pubsub.gossipsub").setLevel(logging.ERROR)
        # And the DHT warns of every stream a peer closes after its answer.
        logging.getLogger("libp2p.kad_dht").setLevel(logging.ERROR)
        # One line per API request is for debugging.
        logging.getLogger("node.api.access").setLevel(logging.WARNING)
