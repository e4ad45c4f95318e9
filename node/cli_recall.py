"""``ayllu recall`` and ``ayllu role``: power taken back and handed on
(specs/accountability.md sections 2 to 4).

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
    now_ms,
    public_keys,
    reader_options,
    run_act,
    signer_options,
    with_store,
)
from node.governance import Published
from protocol.kinds import ROLES
from storage.state import NetworkStore

_role_option = click.option(
    "--role",
    type=click.Choice(ROLES),
    default="coordinator",
    show_default=True,
    help="The role whose holder is recalled.",
)


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
    acted(
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
    acted(
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
@click.option(
    "--holder",
    required=True,
    metavar="HEX",
    callback=public_keys,
    help="The member key of the one convicted.",
)
@_role_option
@click.option("--court", required=True, help="The court, 1 to 200 characters.")
@click.option("--case", required=True, help="The case's reference, 1 to 200 characters.")
@document_options
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
    document = document_of(document_file, document_hash)

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
    acted(published, as_json, f"conviction {motion}: the recall ballot is on", motion=motion)


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
    acted(published, as_json, f"oversight group {overseer}", oversight=overseer)


for _command in (
    recall_propose,
    recall_support,
    recall_convict,
    role_appoint_oversight,
):
    _command.help = command_help(_command.help or "")

RECALL_COMMANDS = (recall_group, role_group)
