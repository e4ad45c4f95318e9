"""``ayllu map``: the power map (specs/accountability.md section 5).

Acts are built by node/accountability.py (reports: node/protected_reports.py)
and stored as node/governance.py ``publish`` stores every act.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from nacl.signing import SigningKey

from node import accountability, governance
from node.cli_common import (
    acted,
    command_help,
    emit,
    node_dir,
    reader_options,
    run_act,
    signer_options,
    with_store,
)
from node.governance import Published
from protocol.map_schema import RELATIONS
from protocol.power_map import Graph, graphml
from storage.state import NetworkStore

# -- ayllu map --


@click.group(name="map")
def map_group() -> None:
    """The power map: sourced claims about who owns, funds or controls what,
    confirmed or disputed by members with their own sources."""


def _sources(urls: tuple[str, ...], hashes: tuple[str, ...]) -> list[dict[str, Any]]:
    sources: list[dict[str, Any]] = [{"url": url} for url in urls]
    for text in hashes:
        try:
            digest = bytes.fromhex(text)
        except ValueError:
            digest = b""
        if len(digest) != 32:
            raise click.BadParameter("must be 64 hex digits", param_hint="--source-hash")
        sources.append({"hash": digest})
    if not sources:
        raise click.UsageError("give at least one --source URL or --source-hash HEX")
    return sources


def _source_options(command: Any) -> Any:
    command = click.option(
        "--source-hash",
        "source_hashes",
        multiple=True,
        metavar="HEX",
        help="The SHA-256 of a document; repeatable.",
    )(command)
    return click.option(
        "--source",
        "source_urls",
        multiple=True,
        metavar="URL",
        help="An https:// or http:// link; repeatable.",
    )(command)


@map_group.command(name="claim")
@signer_options
@click.argument("group_ref", metavar="GROUP")
@click.option("--entity", required=True, help="Who holds power.")
@click.option(
    "--relation",
    required=True,
    type=click.Choice(RELATIONS),
    help="What the entity is to the target.",
)
@click.option("--target", required=True, help="Over what.")
@click.option("--date", "when", required=True, help="When it was true: YYYY-MM-DD.")
@click.option("--share-bp", type=click.IntRange(0, 10_000), help="Share, in basis points.")
@click.option("--amount", type=click.IntRange(min=0), help="A sum, in minor units.")
@click.option("--currency", help="The currency of --amount.")
@click.option("--lang", help="The language of the names.")
@_source_options
def map_claim(
    data_dir: Path | None,
    as_json: bool,
    key_file: Path,
    passphrase_file: Any,
    group_ref: str,
    entity: str,
    relation: str,
    target: str,
    when: str,
    share_bp: int | None,
    amount: int | None,
    currency: str | None,
    lang: str | None,
    source_urls: tuple[str, ...],
    source_hashes: tuple[str, ...],
) -> None:
    """Claim, in GROUP, that --entity --relation --target, with sources.

    \b
    JSON fields: {EVENT} (id: the claim's).
    {FAILURE}
    """
    body: dict[str, Any] = {
        "entity": entity,
        "relation": relation,
        "target": target,
        "date": when,
        "sources": _sources(source_urls, source_hashes),
    }
    optional = {"share_bp": share_bp, "amount": amount, "currency": currency, "lang": lang}
    body.update({name: value for name, value in optional.items() if value is not None})

    async def act(store: NetworkStore, key: SigningKey, now: int) -> Published:
        group = governance.resolve_group(store.state, group_ref)
        return await accountability.claim(store, key, group, body, now_ms=now)

    published = run_act(data_dir, key_file, passphrase_file, as_json, act)
    acted(published, as_json, f"claim {published.event.id.hex()}")


@map_group.command(name="review")
@signer_options
@click.argument("claim_ref", metavar="CLAIM")
@click.option(
    "--confirm/--dispute",
    "confirm",
    required=True,
    help="Whether the sources bear the claim out.",
)
@click.option("--note", help="1 to 1,000 characters.")
@click.option("--lang", help="The language of --note.")
@_source_options
def map_review(
    data_dir: Path | None,
    as_json: bool,
    key_file: Path,
    passphrase_file: Any,
    claim_ref: str,
    confirm: bool,
    note: str | None,
    lang: str | None,
    source_urls: tuple[str, ...],
    source_hashes: tuple[str, ...],
) -> None:
    """Confirm or dispute CLAIM with your own sources (your newest review
    of it counts).

    \b
    JSON fields: {EVENT}; standing (the claim's, now).
    {FAILURE}
    """
    body: dict[str, Any] = {
        "stance": "confirm" if confirm else "dispute",
        "sources": _sources(source_urls, source_hashes),
    }
    body.update({k: v for k, v in {"note": note, "lang": lang}.items() if v is not None})

    async def act(store: NetworkStore, key: SigningKey, now: int) -> dict[str, Any]:
        body["claim"] = accountability.resolve_claim(store.state, claim_ref)
        published = await accountability.review(store, key, body, now_ms=now)
        claimed = store.state.power_map.describe_claim(body["claim"])
        return {"published": published, "standing": claimed["standing"]}

    done = run_act(data_dir, key_file, passphrase_file, as_json, act)
    acted(done["published"], as_json, f"the claim is {done['standing']}", standing=done["standing"])


@map_group.command(name="show")
@reader_options
@click.argument("claim_ref", metavar="CLAIM")
def map_show(data_dir: Path | None, as_json: bool, at_ms: int | None, claim_ref: str) -> None:
    """CLAIM with its sources, standing and reviews (JSON: specs/accountability.md 5.5)."""

    async def read(store: NetworkStore) -> dict[str, Any]:
        claim = accountability.resolve_claim(store.state, claim_ref)
        return store.state.power_map.describe_claim(claim)

    document = with_store(node_dir(data_dir), read, as_json)
    if as_json:
        emit(document)
        return
    click.echo(
        f"{document['entity']} {document['relation']} {document['target']} ({document['date']})"
    )
    click.echo(
        f"{document['standing']}: {document['confirms']} confirm, {document['disputes']} dispute"
    )
    for source in document["sources"]:
        click.echo(f"source {source.get('url') or source.get('hash')}")


@map_group.command(name="graph")
@reader_options
@click.option("--entity", help="Only what is near this name.")
@click.option(
    "--depth",
    type=click.IntRange(min=0),
    default=1,
    show_default=True,
    help="With --entity: the claims within this many steps of it.",
)
@click.option(
    "--format",
    "form",
    type=click.Choice(["json", "graphml"]),
    default="json",
    show_default=True,
    help="JSON, or GraphML for graph tools (Gephi, yEd, networkx).",
)
def map_graph(
    data_dir: Path | None,
    as_json: bool,
    at_ms: int | None,
    entity: str | None,
    depth: int,
    form: str,
) -> None:
    """The power map as a graph (nodes: names; edges: claims), as JSON or
    GraphML (for Gephi, yEd, networkx)."""

    async def read(store: NetworkStore) -> Graph:
        return store.state.power_map.graph(entity, depth)

    graph = with_store(node_dir(data_dir), read, as_json)
    if form == "graphml":
        click.echo(graphml(graph), nl=False)
    else:
        emit(dict(graph))


for _command in (
    map_claim,
    map_review,
):
    _command.help = command_help(_command.help or "")

MAP_COMMANDS = (map_group,)
