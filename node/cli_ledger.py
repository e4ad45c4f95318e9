"""``ayllu ledger``: a group's public accounts (specs/accountability.md
section 6). Amounts are integers in the currency's minor units (PEN 1250
is S/ 12.50), so nothing is rounded.

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
    document_of,
    document_options,
    emit,
    node_dir,
    public_keys,
    reader_options,
    run_act,
    short,
    signer_options,
    with_store,
)
from node.governance import Published
from storage.state import NetworkStore

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
    in_line_currency: bool = False,
    outcome: str = "",
) -> None:
    """Resolve the line, group or ballot named (and, ``in_line_currency``,
    take the line's currency unless the body names one), then write the
    entry."""

    async def act(store: NetworkStore, key: SigningKey, now: int) -> Published:
        state = store.state
        line = None if line_ref is None else accountability.resolve_line(state, line_ref)
        if in_line_currency and line is not None:
            body.setdefault("currency", state.ledger.lines[line].currency)
        if ballot_ref is not None:
            body["ballot"] = governance.resolve_ballot(state, ballot_ref)
        group = None if group_ref is None else governance.resolve_group(state, group_ref)
        return await accountability.ledger_entry(
            store, key, kind, body, line=line, group=group, now_ms=now
        )

    published = run_act(data_dir, key_file, passphrase_file, as_json, act)
    acted(published, as_json, f"{kind} {published.event.id.hex()}{outcome}")


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
@document_options
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
        "document": document_of(document_file, document_hash),
    }
    if payee_key is not None:
        body["payee_key"] = payee_key
    if currency is not None:
        body["currency"] = currency
    _ledger_act(
        data_dir,
        key_file,
        passphrase_file,
        as_json,
        "ledger.spend",
        body,
        line_ref=line_ref,
        in_line_currency=True,
    )


@ledger_group.command(name="grant")
@signer_options
@click.argument("line_ref", metavar="LINE")
@_amount_option
@click.option("--grantor", required=True, help="Who gives it, 1 to 200 characters.")
@document_options
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
        "document": document_of(document_file, document_hash),
    }
    _ledger_act(
        data_dir,
        key_file,
        passphrase_file,
        as_json,
        "ledger.grant",
        body,
        line_ref=line_ref,
        in_line_currency=True,
        outcome=": awaiting ratification",
    )


def _money_command(kind: str, name: str, summary: str, extra: tuple[str, str] | None) -> Any:
    """``ledger income``, ``surplus`` and ``treasury``: an amount in a
    currency, with its document (and a source or a period)."""

    @ledger_group.command(name=name, help=summary + "\n\n\b\nJSON fields: {EVENT}.\n{FAILURE}")
    @signer_options
    @click.argument("group_ref", metavar="GROUP")
    @_amount_option
    @_currency_option
    @document_options
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
            "document": document_of(document_file, document_hash),
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


for _command in (
    ledger_budget,
    ledger_allocate,
    ledger_spend,
    ledger_grant,
):
    _command.help = command_help(_command.help or "")

LEDGER_COMMANDS = (ledger_group,)
