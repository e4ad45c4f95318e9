"""``ayllu report``: protected reports (specs/accountability.md section 7).

Acts are built by node/accountability.py (reports: node/protected_reports.py)
and stored as node/governance.py ``publish`` stores every act.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import click
from nacl.signing import SigningKey

from node import governance, protected_reports
from node.cli_common import (
    acted,
    command_help,
    data_dir_option,
    emit,
    emit_line,
    json_option,
    node_dir,
    now_ms,
    reader_options,
    run_act,
    signer_options,
    with_store,
)
from node.files import write_durably
from node.governance import Published
from protocol.errors import LocalError
from protocol.report_schema import STATUSES
from protocol.reports import Receipt, receipt_from_text, receipt_to_text
from storage.state import NetworkStore

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
    acted(
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
    acted(published, as_json, f"ring of {size} members", size=size)


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
    acted(
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
    acted(published, as_json, f"follow-up {published.event.id.hex()}")


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
@click.option(
    "--status",
    "new_status",
    required=True,
    type=click.Choice(STATUSES),
    help="Where the report stands after this reply.",
)
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
    acted(published, as_json, f"report is {new_status}", status=new_status)


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

REPORT_COMMANDS = (report_group,)
