"""``ayllu recall``, ``ayllu role``, ``ayllu ledger``, ``ayllu map``: the
accountability of a group from the command line (specs/accountability.md).

Every act goes through node/accountability.py and so node/governance.py
``publish``: signed with ``--key``, previewed against the node's state,
stored only if the state would apply it, else the reason code and exit 1.
Motions, budget lines and claims are named by their id or a unique prefix
of at least 8 hex digits; groups also as ``root``. Amounts are integers in
the currency's minor units (PEN 1250 is S/ 12.50), so nothing is rounded.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import click
from nacl.signing import SigningKey

from node import accountability, governance, protected_reports
from node.cli_common import (
    command_help,
    data_dir_option,
    emit,
    emit_line,
    event_document,
    json_option,
    node_dir,
    now_ms,
    public_keys,
    reader_options,
    report,
    run_act,
    short,
    signer_options,
    with_store,
)
from node.files import write_durably
from node.governance import Published
from protocol.errors import LocalError
from protocol.kinds import ROLES
from protocol.map_schema import RELATIONS
from protocol.power_map import Graph, graphml
from protocol.report_schema import STATUSES
from protocol.reports import Receipt, receipt_from_text, receipt_to_text
from storage.state import NetworkStore

_role_option = click.option(
    "--role", type=click.Choice(ROLES), default="coordinator", show_default=True
)


def _document_options(command: Any) -> Any:
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


def _document(document_file: Any, document_hash: str | None) -> bytes:
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


def _acted(published: Published, as_json: bool, text: str, **extra: Any) -> None:
    report(event_document(published, **extra), as_json, text)


# -- ayllu recall --


@click.group(name="recall")
def recall_group() -> None:
    """Recall whoever holds a role, at any time: put a motion, gather the
    support the charter asks of the group's electorate, and its recall
    ballot opens by itself an hour later (vote with 'ayllu vote MOTION')."""


@recall_group.command(name="propose")
@signer_options
@click.argument("group_ref", metavar="GROUP")
@click.argument("holder", metavar="HOLDERHEX", callback=public_keys)
@_role_option
@click.option("--reason", required=True, help="Why, 1 to 2,000 characters.")
@click.option("--lang", required=True, help="The language of --reason (es, qu, ay, en, ...).")
def recall_propose(
    data_dir: Path | None,
    as_json: bool,
    key_file: Path,
    passphrase_file: Any,
    group_ref: str,
    holder: bytes,
    role: str,
    reason: str,
    lang: str,
) -> None:
    """Put a motion to recall HOLDERHEX from GROUP's --role. You must be of
    GROUP's electorate (its members; above the base, its children's
    coordinators). You are its first supporter.

    \b
    JSON fields: {EVENT}; motion (its id), needed (supporters), qualified
    (bool: its ballot is open or announced).
    {FAILURE}
    """

    async def act(store: NetworkStore, key: SigningKey, now: int) -> dict[str, Any]:
        group = governance.resolve_group(store.state, group_ref)
        published = await accountability.put_motion(
            store, key, group, role=role, holder=holder, reason=reason, lang=lang, now_ms=now
        )
        motion = store.state.recalls.motions[published.event.id]
        return {"published": published, "needed": motion.needed, "qualified": motion.qualified}

    done = run_act(data_dir, key_file, passphrase_file, as_json, act)
    published = done["published"]
    _acted(
        published,
        as_json,
        f"motion {published.event.id.hex()}: needs {done['needed']} supporters"
        + ("; its ballot opens in an hour" if done["qualified"] is not None else ""),
        motion=published.event.id.hex(),
        needed=done["needed"],
        qualified=done["qualified"] is not None,
    )


@recall_group.command(name="support")
@signer_options
@click.argument("motion_ref", metavar="MOTION")
def recall_support(
    data_dir: Path | None, as_json: bool, key_file: Path, passphrase_file: Any, motion_ref: str
) -> None:
    """Support MOTION (you must be one of the electors it was put to).

    \b
    JSON fields: {EVENT}; motion, supporters, needed, qualified (bool).
    {FAILURE}
    """

    async def act(store: NetworkStore, key: SigningKey, now: int) -> dict[str, Any]:
        motion_id = accountability.resolve_motion(store.state, motion_ref)
        published = await accountability.support_motion(store, key, motion_id, now_ms=now)
        motion = store.state.recalls.motions[motion_id]
        return {"published": published, "motion": motion.describe()}

    done = run_act(data_dir, key_file, passphrase_file, as_json, act)
    motion = done["motion"]
    _acted(
        done["published"],
        as_json,
        f"{len(motion['supporters'])} of {motion['needed']} supporters"
        + ("; the recall ballot is on" if motion["qualified_ms"] is not None else ""),
        motion=motion["id"],
        supporters=len(motion["supporters"]),
        needed=motion["needed"],
        qualified=motion["qualified_ms"] is not None,
    )


@recall_group.command(name="convict")
@signer_options
@click.argument("overseer_ref", metavar="OVERSIGHT_GROUP")
@click.option("--group", "group_ref", required=True, help="The group whose role it is.")
@click.option("--holder", required=True, metavar="HEX", callback=public_keys)
@_role_option
@click.option("--court", required=True, help="The court, 1 to 200 characters.")
@click.option("--case", required=True, help="The case's reference, 1 to 200 characters.")
@_document_options
def recall_convict(
    data_dir: Path | None,
    as_json: bool,
    key_file: Path,
    passphrase_file: Any,
    overseer_ref: str,
    group_ref: str,
    holder: bytes,
    role: str,
    court: str,
    case: str,
    document_file: Any,
    document_hash: str | None,
) -> None:
    """Record a final conviction for corruption of --holder, as
    OVERSIGHT_GROUP (you must act for it, and it must oversee --group): the
    recall ballot opens at once, with no support needed.

    \b
    JSON fields: {EVENT}; motion (the conviction's id, its ballot's).
    {FAILURE}
    """
    document = _document(document_file, document_hash)

    async def act(store: NetworkStore, key: SigningKey, now: int) -> Published:
        state = store.state
        return await accountability.convict(
            store,
            key,
            governance.resolve_group(state, overseer_ref),
            group=governance.resolve_group(state, group_ref),
            role=role,
            holder=holder,
            court=court,
            case=case,
            document=document,
            now_ms=now,
        )

    published = run_act(data_dir, key_file, passphrase_file, as_json, act)
    motion = published.event.id.hex()
    _acted(published, as_json, f"conviction {motion}: the recall ballot is on", motion=motion)


@recall_group.command(name="show")
@reader_options
@click.argument("motion_ref", metavar="MOTION")
def recall_show(data_dir: Path | None, as_json: bool, at_ms: int | None, motion_ref: str) -> None:
    """MOTION: against whom, its supporters, and its ballot.

    \b
    JSON fields: id, group, role, holder, conviction (bool), opened_ms,
    supporters (hex), needed, qualified_ms (or null), ballot (null, or
    opens, closes, status, stands, decided_option).
    """
    at = now_ms() if at_ms is None else at_ms

    async def read(store: NetworkStore) -> dict[str, Any]:
        motion = accountability.resolve_motion(store.state, motion_ref)
        return accountability.describe_motion(store.state, motion, at)

    document = with_store(node_dir(data_dir), read, as_json)
    if as_json:
        emit(document)
        return
    kind = "conviction" if document["conviction"] else "motion"
    click.echo(f"{kind} {document['id']}: recall the {document['role']} {document['holder']}")
    click.echo(f"support     {len(document['supporters'])} of {document['needed']}")
    ballot = document["ballot"]
    if ballot is None:
        click.echo("ballot      none yet")
    else:
        click.echo(
            f"ballot      {ballot['status']}, opens {ballot['opens']}, closes {ballot['closes']}"
        )
        if ballot["stands"]:
            click.echo(f"outcome     {ballot['decided_option'] or 'nothing decided'}")


# -- ayllu role --


@click.group(name="role")
def role_group() -> None:
    """Roles: who holds which role of a group until when (custody, not
    ownership), and who oversees it. Elect a steward or auditor with
    'ayllu ballot open GROUP --candidate ... --role steward'."""


@role_group.command(name="show")
@reader_options
@click.argument("group_ref", metavar="GROUP")
def role_show(data_dir: Path | None, as_json: bool, at_ms: int | None, group_ref: str) -> None:
    """GROUP's coordinator, steward and auditor (or vacant), each with its
    term, and its oversight group.

    \b
    JSON fields: group, name, roles (coordinator, steward, auditor: each
    holder (hex or null: vacant), term, since_ms, until_ms), oversight
    (hex or null), at.
    """
    at = now_ms() if at_ms is None else at_ms

    async def read(store: NetworkStore) -> dict[str, Any]:
        group = governance.resolve_group(store.state, group_ref)
        return accountability.describe_roles(store.state, group, at)

    document = with_store(node_dir(data_dir), read, as_json)
    if as_json:
        emit(document)
        return
    click.echo(f"{document['name']} ({document['group']})")
    for role, held in document["roles"].items():
        holder = held["holder"] or "vacant"
        click.echo(f"{role:<12}{holder}  (term {held['term']}, until {held['until_ms']})")
    click.echo(f"{'oversight':<12}{document['oversight'] or 'none'}")


@role_group.command(name="appoint-oversight")
@signer_options
@click.argument("group_ref", metavar="GROUP")
@click.argument("overseer_ref", metavar="OVERSIGHT_GROUP")
def role_appoint_oversight(
    data_dir: Path | None,
    as_json: bool,
    key_file: Path,
    passphrase_file: Any,
    group_ref: str,
    overseer_ref: str,
) -> None:
    """Name OVERSIGHT_GROUP as GROUP's oversight group (you must act for
    GROUP); it also oversees the groups below that name none of their own.

    \b
    JSON fields: {EVENT}; oversight (hex).
    {FAILURE}
    """

    async def act(store: NetworkStore, key: SigningKey, now: int) -> Published:
        state = store.state
        group = governance.resolve_group(state, group_ref)
        overseer = governance.resolve_group(state, overseer_ref)
        return await accountability.appoint_oversight(store, key, group, overseer, now_ms=now)

    published = run_act(data_dir, key_file, passphrase_file, as_json, act)
    overseer = published.event.event.body["oversight"].hex()
    _acted(published, as_json, f"oversight group {overseer}", oversight=overseer)


# -- ayllu ledger --


@click.group(name="ledger")
def ledger_group() -> None:
    """The group's public accounts, written by its steward: budget lines,
    allocations decided by ballot, expenditures, income, grants (frozen
    until the group ratifies them), surplus and the solidarity treasury.
    Amounts are in minor units (PEN 1250 is S/ 12.50)."""


_amount_option = click.option(
    "--amount", type=click.IntRange(min=1), required=True, help="In minor units."
)
_currency_option = click.option("--currency", required=True, help="PEN, USD, BOB, ...")


def _ledger_act(
    data_dir: Path | None,
    key_file: Path,
    passphrase_file: Any,
    as_json: bool,
    kind: str,
    body: dict[str, Any],
    *,
    line_ref: str | None = None,
    group_ref: str | None = None,
    ballot_ref: str | None = None,
) -> None:
    """Resolve the line, group or ballot named, then write the entry."""

    async def act(store: NetworkStore, key: SigningKey, now: int) -> Published:
        state = store.state
        line = None if line_ref is None else accountability.resolve_line(state, line_ref)
        if ballot_ref is not None:
            body["ballot"] = governance.resolve_ballot(state, ballot_ref)
        group = None if group_ref is None else governance.resolve_group(state, group_ref)
        return await accountability.ledger_entry(
            store, key, kind, body, line=line, group=group, now_ms=now
        )

    published = run_act(data_dir, key_file, passphrase_file, as_json, act)
    _acted(published, as_json, f"{kind} {published.event.id.hex()}")


@ledger_group.command(name="budget")
@signer_options
@click.argument("group_ref", metavar="GROUP")
@click.option("--line", required=True, help="The line's name, 1 to 100 characters.")
@_currency_option
@click.option(
    "--split-threshold",
    type=click.IntRange(min=1),
    help="Flag payments to one payee split under this amount within 30 days.",
)
def ledger_budget(
    data_dir: Path | None,
    as_json: bool,
    key_file: Path,
    passphrase_file: Any,
    group_ref: str,
    line: str,
    currency: str,
    split_threshold: int | None,
) -> None:
    """Open a budget line of GROUP (you must be its steward).

    \b
    JSON fields: {EVENT} (id: the line's).
    {FAILURE}
    """
    body: dict[str, Any] = {"line": line, "currency": currency}
    if split_threshold is not None:
        body["split_threshold"] = split_threshold
    _ledger_act(
        data_dir, key_file, passphrase_file, as_json, "ledger.budget", body, group_ref=group_ref
    )


@ledger_group.command(name="allocate")
@signer_options
@click.argument("line_ref", metavar="LINE")
@_amount_option
@click.option("--ballot", "ballot_ref", required=True, help="The ballot that decided it.")
@click.option(
    "--option",
    type=click.IntRange(0, 15),
    default=0,
    show_default=True,
    help="The option of the ballot that decided the allocation.",
)
def ledger_allocate(
    data_dir: Path | None,
    as_json: bool,
    key_file: Path,
    passphrase_file: Any,
    line_ref: str,
    amount: int,
    ballot_ref: str,
    option: int,
) -> None:
    """Allocate to LINE what a ballot of its group decided.

    \b
    JSON fields: {EVENT}.
    {FAILURE}
    """
    body = {"amount": amount, "option": option}
    _ledger_act(
        data_dir,
        key_file,
        passphrase_file,
        as_json,
        "ledger.allocate",
        body,
        line_ref=line_ref,
        ballot_ref=ballot_ref,
    )


@ledger_group.command(name="spend")
@signer_options
@click.argument("line_ref", metavar="LINE")
@_amount_option
@click.option("--currency", help="The payment's currency.  [default: the line's]")
@click.option("--payee", required=True, help="Who was paid, 1 to 200 characters.")
@click.option(
    "--payee-key", metavar="HEX", callback=public_keys, help="The payee's key, if a member."
)
@click.option("--purpose", required=True, help="What for, 1 to 500 characters.")
@_document_options
def ledger_spend(
    data_dir: Path | None,
    as_json: bool,
    key_file: Path,
    passphrase_file: Any,
    line_ref: str,
    amount: int,
    currency: str | None,
    payee: str,
    payee_key: bytes | None,
    purpose: str,
    document_file: Any,
    document_hash: str | None,
) -> None:
    """Record an expenditure from LINE. Overspending, spending with nothing
    allocated, payments split under the line's threshold and payments to
    the steward are flagged for everyone to see ('ayllu ledger show').

    \b
    JSON fields: {EVENT}.
    {FAILURE}
    """
    body: dict[str, Any] = {
        "payee": payee,
        "amount": amount,
        "purpose": purpose,
        "document": _document(document_file, document_hash),
    }
    if payee_key is not None:
        body["payee_key"] = payee_key

    async def act(store: NetworkStore, key: SigningKey, now: int) -> Published:
        line = accountability.resolve_line(store.state, line_ref)
        body["currency"] = currency or store.state.ledger.lines[line].currency
        return await accountability.ledger_entry(
            store, key, "ledger.spend", body, line=line, now_ms=now
        )

    published = run_act(data_dir, key_file, passphrase_file, as_json, act)
    _acted(published, as_json, f"ledger.spend {published.event.id.hex()}")


@ledger_group.command(name="grant")
@signer_options
@click.argument("line_ref", metavar="LINE")
@_amount_option
@click.option("--grantor", required=True, help="Who gives it, 1 to 200 characters.")
@_document_options
def ledger_grant(
    data_dir: Path | None,
    as_json: bool,
    key_file: Path,
    passphrase_file: Any,
    line_ref: str,
    amount: int,
    grantor: str,
    document_file: Any,
    document_hash: str | None,
) -> None:
    """Record an external grant to LINE: its ratification ballot opens by
    itself (vote with 'ayllu vote GRANT'), and LINE cannot be spent from
    until the group ratifies it.

    \b
    JSON fields: {EVENT} (id: the grant's, and its ballot's).
    {FAILURE}
    """
    body: dict[str, Any] = {
        "amount": amount,
        "grantor": grantor,
        "document": _document(document_file, document_hash),
    }

    async def act(store: NetworkStore, key: SigningKey, now: int) -> Published:
        line = accountability.resolve_line(store.state, line_ref)
        body["currency"] = store.state.ledger.lines[line].currency
        return await accountability.ledger_entry(
            store, key, "ledger.grant", body, line=line, now_ms=now
        )

    published = run_act(data_dir, key_file, passphrase_file, as_json, act)
    _acted(published, as_json, f"grant {published.event.id.hex()}: awaiting ratification")


def _money_command(kind: str, name: str, summary: str, extra: tuple[str, str] | None) -> Any:
    """``ledger income``, ``surplus`` and ``treasury``: an amount in a
    currency, with its document (and a source or a period)."""

    @ledger_group.command(name=name, help=summary + "\n\n\b\nJSON fields: {EVENT}.\n{FAILURE}")
    @signer_options
    @click.argument("group_ref", metavar="GROUP")
    @_amount_option
    @_currency_option
    @_document_options
    def command(
        data_dir: Path | None,
        as_json: bool,
        key_file: Path,
        passphrase_file: Any,
        group_ref: str,
        amount: int,
        currency: str,
        document_file: Any,
        document_hash: str | None,
        **fields: str,
    ) -> None:
        body: dict[str, Any] = {
            "amount": amount,
            "currency": currency,
            "document": _document(document_file, document_hash),
            **fields,
        }
        _ledger_act(data_dir, key_file, passphrase_file, as_json, kind, body, group_ref=group_ref)

    if extra is not None:
        field, help_text = extra
        command = click.option(f"--{field}", field, required=True, help=help_text)(command)
    command.help = command_help(command.help or "")
    return command


_money_command(
    "ledger.income",
    "income",
    "Record income of GROUP (you must be its steward).",
    ("source", "From whom, 1 to 200 characters."),
)
_money_command(
    "ledger.surplus",
    "surplus",
    "Declare GROUP's cooperative surplus for a period: the charter's share of it "
    "is owed to the solidarity treasury.",
    ("period", "The period it closes (2026, 2026-Q1, ...)."),
)
_money_command(
    "ledger.treasury",
    "treasury",
    "Record a payment of GROUP to the solidarity treasury.",
    None,
)


@ledger_group.command(name="show")
@reader_options
@click.argument("group_ref", metavar="GROUP")
def ledger_show(data_dir: Path | None, as_json: bool, at_ms: int | None, group_ref: str) -> None:
    """GROUP's accounts: lines, balances, the treasury's share and flags.

    \b
    JSON fields: group, lines (each id, name, currency, split_threshold,
    allocated, granted, spent, available, grants (id, ratified)), balances
    (by currency), treasury (by currency: surplus, owed, paid, unpaid),
    flags (kind, event, group, line, and its facts).
    """

    async def read(store: NetworkStore) -> dict[str, Any]:
        group = governance.resolve_group(store.state, group_ref)
        return store.state.ledger.describe(group)

    document = with_store(node_dir(data_dir), read, as_json)
    if as_json:
        emit(document)
        return
    for line in document["lines"]:
        frozen = [g["id"] for g in line["grants"] if not g["ratified"]]
        click.echo(
            f"{line['name']} ({short(line['id'])}): allocated {line['allocated']}, granted "
            f"{line['granted']}, spent {line['spent']}, available {line['available']} "
            f"{line['currency']}"
            + (f"; grant awaiting ratification {short(frozen[0])}" if frozen else "")
        )
    for currency, balance in document["balances"].items():
        click.echo(f"balance {balance} {currency}")
    for currency, share in document["treasury"].items():
        click.echo(
            f"treasury: owed {share['owed']}, paid {share['paid']}, "
            f"unpaid {share['unpaid']} {currency}"
        )
    for flag in document["flags"]:
        click.echo(f"FLAG {flag['kind']}: {short(flag['event'])} on line {short(flag['line'])}")


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
@click.option("--relation", required=True, type=click.Choice(RELATIONS))
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
    _acted(published, as_json, f"claim {published.event.id.hex()}")


@map_group.command(name="review")
@signer_options
@click.argument("claim_ref", metavar="CLAIM")
@click.option("--confirm/--dispute", "confirm", required=True)
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
    _acted(
        done["published"], as_json, f"the claim is {done['standing']}", standing=done["standing"]
    )


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
@click.option("--depth", type=click.IntRange(min=0), default=1, show_default=True)
@click.option(
    "--format", "form", type=click.Choice(["json", "graphml"]), default="json", show_default=True
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
    recall_propose,
    recall_support,
    recall_convict,
    role_appoint_oversight,
    ledger_budget,
    ledger_allocate,
    ledger_spend,
    ledger_grant,
    map_claim,
    map_review,
):
    _command.help = command_help(_command.help or "")


# -- ayllu report --


@click.group(name="report")
def report_group() -> None:
    """Protected reports: tell a group's oversight group of corruption
    without anyone learning who you are, and follow the report with its
    receipt. The report is ring-signed (you are one of a ring's members,
    no more) and sealed so that only the oversight group's members read it."""


def _receipt_options(command: Any) -> Any:
    command = click.option(
        "--receipt-file", type=click.File("r"), help="A file holding the receipt."
    )(command)
    return click.option("--receipt", "receipt_text", help="The receipt (ayllu-receipt-1:...).")(
        command
    )


def _receipt(receipt_text: str | None, receipt_file: Any) -> Receipt:
    if (receipt_text is None) == (receipt_file is None):
        raise click.UsageError("give --receipt TEXT or --receipt-file FILE")
    text = receipt_text if receipt_text is not None else receipt_file.read()
    try:
        return receipt_from_text(text)
    except LocalError as exc:
        raise click.BadParameter(str(exc), param_hint="--receipt") from None


def _message_options(command: Any) -> Any:
    command = click.option("--lang", required=True, help="The language of --text.")(command)
    return click.option("--text", required=True, help="What to say, 1 to 20,000 characters.")(
        command
    )


@report_group.command(name="key")
@signer_options
@click.argument("group_ref", metavar="OVERSIGHT_GROUP")
def report_key(
    data_dir: Path | None, as_json: bool, key_file: Path, passphrase_file: Any, group_ref: str
) -> None:
    """Publish a new box key for OVERSIGHT_GROUP (you must act for it): its
    private half goes, sealed, to each certified member, and nowhere else.
    Publish a new one when the members change.

    \b
    JSON fields: {EVENT}; box_key (hex), members (how many shares).
    {FAILURE}
    """

    async def act(store: NetworkStore, key: SigningKey, now: int) -> Published:
        group = governance.resolve_group(store.state, group_ref)
        return await protected_reports.publish_box_key(store, key, group, now_ms=now)

    published = run_act(data_dir, key_file, passphrase_file, as_json, act)
    body = published.event.event.body
    _acted(
        published,
        as_json,
        f"box key {body['box_key'].hex()}, shared with {len(body['shares'])} members",
        box_key=body["box_key"].hex(),
        members=len(body["shares"]),
    )


@report_group.command(name="ring")
@signer_options
@click.argument("group_ref", metavar="GROUP")
def report_ring(
    data_dir: Path | None, as_json: bool, key_file: Path, passphrase_file: Any, group_ref: str
) -> None:
    """Freeze a report ring of GROUP (you must be a member of it): its
    certified members, among whom a reporter hides. The larger the group,
    the better; a ring stays fresh for 90 days.

    \b
    JSON fields: {EVENT}; size (keys in the ring).
    {FAILURE}
    """

    async def act(store: NetworkStore, key: SigningKey, now: int) -> Published:
        group = governance.resolve_group(store.state, group_ref)
        return await protected_reports.freeze_ring(store, key, group, now_ms=now)

    published = run_act(data_dir, key_file, passphrase_file, as_json, act)
    size = len(published.event.event.body["keys"])
    _acted(published, as_json, f"ring of {size} members", size=size)


@report_group.command(name="file")
@signer_options
@click.argument("group_ref", metavar="OVERSIGHT_GROUP")
@_message_options
@click.option("--about", "about_ref", help="The group the report is about.")
@click.option(
    "--document", "documents", type=click.File("rb"), multiple=True,
    help="A document backing the report (only its SHA-256 goes in); repeatable.",
)  # fmt: skip
@click.option(
    "--receipt-out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write the receipt to this file (mode 0600).",
)
def report_file(
    data_dir: Path | None,
    as_json: bool,
    key_file: Path,
    passphrase_file: Any,
    group_ref: str,
    text: str,
    lang: str,
    about_ref: str | None,
    documents: tuple[Any, ...],
    receipt_out: Path | None,
) -> None:
    """File a protected report to OVERSIGHT_GROUP. Your --key makes only the
    ring signature: the event is signed by a one-time key and names nobody.
    KEEP THE RECEIPT it prints: it is the only way to read the replies and
    add to the report, and whoever holds it can do both. (The node you
    publish from sees the report arrive first: for the most protection,
    publish from a node that is not your group's.)

    \b
    JSON fields: {EVENT} (author: the one-time key); receipt, ring_size.
    {FAILURE}
    """
    hashes = [hashlib.sha256(document.read()).digest() for document in documents]

    async def act(store: NetworkStore, key: SigningKey, now: int) -> tuple[Published, Receipt]:
        state = store.state
        group = governance.resolve_group(state, group_ref)
        about = None if about_ref is None else governance.resolve_group(state, about_ref)
        message = protected_reports.message_of(text, lang, about, hashes)
        return await protected_reports.file_report(store, key, group, message, now_ms=now)

    published, receipt = run_act(data_dir, key_file, passphrase_file, as_json, act)
    written = receipt_to_text(receipt)
    if receipt_out is not None:
        write_durably(receipt_out, (written + "\n").encode(), mode=0o600, replace=False)
    _acted(
        published,
        as_json,
        f"report {published.event.id.hex()}\nreceipt (keep it secret): {written}",
        receipt=written,
    )


@report_group.command(name="status")
@data_dir_option
@json_option
@_receipt_options
def report_status(
    data_dir: Path | None, as_json: bool, receipt_text: str | None, receipt_file: Any
) -> None:
    """The status of your report and the replies to you, from its receipt.

    \b
    JSON fields: id, group, status, replies (each id, author, status, ts,
    message (text, lang, ... or null)), followups (how many).
    """
    receipt = _receipt(receipt_text, receipt_file)

    async def read(store: NetworkStore) -> dict[str, Any]:
        return protected_reports.status(store.state, receipt)

    document = with_store(node_dir(data_dir), read, as_json)
    if as_json:
        emit(document)
        return
    click.echo(f"report {document['id']}: {document['status']}")
    for answer in document["replies"]:
        message = answer["message"]
        click.echo(f"- {answer['status']}" + (f": {message['text']}" if message else ""))


@report_group.command(name="follow-up")
@data_dir_option
@json_option
@_receipt_options
@_message_options
def report_follow_up(
    data_dir: Path | None,
    as_json: bool,
    receipt_text: str | None,
    receipt_file: Any,
    text: str,
    lang: str,
) -> None:
    """Add to your report, signed with its receipt alone.

    \b
    JSON fields: {EVENT} (author: the receipt key).
    {FAILURE}
    """
    receipt = _receipt(receipt_text, receipt_file)

    async def act(store: NetworkStore) -> Published:
        message = protected_reports.message_of(text, lang, None, ())
        return await protected_reports.add_followup(store, receipt, message, now_ms=now_ms())

    published = with_store(node_dir(data_dir), act, as_json)
    _acted(published, as_json, f"follow-up {published.event.id.hex()}")


@report_group.command(name="read")
@signer_options
@click.argument("report_ref", metavar="REPORT")
def report_read(
    data_dir: Path | None, as_json: bool, key_file: Path, passphrase_file: Any, report_ref: str
) -> None:
    """Open REPORT and its follow-ups, as a member of its oversight group
    (your --key opens your share of the group's box key).

    \b
    JSON fields: report (id), messages (the report's, then each
    follow-up's: text, lang, about, documents).
    """

    async def act(store: NetworkStore, key: SigningKey, now: int) -> dict[str, Any]:
        report_id = protected_reports.resolve_report(store.state, report_ref)
        messages = await protected_reports.read_report(store, key, report_id)
        return {"report": report_id.hex(), "messages": messages}

    document = run_act(data_dir, key_file, passphrase_file, as_json, act)
    if as_json:
        emit(_hexed(document))
        return
    for message in document["messages"]:
        click.echo(f"[{message['lang']}] {message['text']}")


@report_group.command(name="reply")
@signer_options
@click.argument("report_ref", metavar="REPORT")
@click.option("--status", "new_status", required=True, type=click.Choice(STATUSES))
@click.option("--text", help="A message only the reporter can read.")
@click.option("--lang", help="The language of --text.")
def report_reply(
    data_dir: Path | None,
    as_json: bool,
    key_file: Path,
    passphrase_file: Any,
    report_ref: str,
    new_status: str,
    text: str | None,
    lang: str | None,
) -> None:
    """Answer REPORT as a member of its oversight group: a status everyone
    sees, and a message sealed to the report's receipt.

    \b
    JSON fields: {EVENT}; status.
    {FAILURE}
    """
    if (text is None) != (lang is None):
        raise click.UsageError("--text and --lang go together")
    message = None if text is None or lang is None else {"text": text, "lang": lang}

    async def act(store: NetworkStore, key: SigningKey, now: int) -> Published:
        report_id = protected_reports.resolve_report(store.state, report_ref)
        return await protected_reports.reply(store, key, report_id, new_status, message, now_ms=now)

    published = run_act(data_dir, key_file, passphrase_file, as_json, act)
    _acted(published, as_json, f"report is {new_status}", status=new_status)


@report_group.command(name="list")
@reader_options
@click.argument("group_ref", metavar="OVERSIGHT_GROUP", required=False)
def report_list(
    data_dir: Path | None, as_json: bool, at_ms: int | None, group_ref: str | None
) -> None:
    """The reports (of OVERSIGHT_GROUP): what anyone sees, never who.

    \b
    JSON lines: as the state's reports (specs/accountability.md 7.10).
    """

    async def read(store: NetworkStore) -> list[dict[str, Any]]:
        state = store.state
        group = None if group_ref is None else governance.resolve_group(state, group_ref)
        return [
            state.reports.describe(report_id)
            for report_id in sorted(state.reports.reports)
            if group is None or state.reports.reports[report_id].group == group
        ]

    for document in with_store(node_dir(data_dir), read, as_json):
        if as_json:
            emit_line(document)
        else:
            click.echo(f"{document['id'][:16]} {document['status']} ({document['size']} bytes)")


def _hexed(value: Any) -> Any:
    """``value`` with byte strings as hex, for JSON."""
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, dict):
        return {k: _hexed(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_hexed(v) for v in value]
    return value


for _command in (report_key, report_ring, report_file, report_follow_up, report_reply):
    _command.help = command_help(_command.help or "")

ACCOUNTABILITY_COMMANDS = (recall_group, role_group, ledger_group, map_group, report_group)
