"""``ayllu member ...``, ``ayllu group ...``, ``ayllu registrar ...``: the
governance of a network from the command line.

Every act goes through node/governance.py: signed with the key of whoever
acts (``--key FILE``, a key file of specs/keys.md, sealed or not),
previewed against the node's state, then ingested as events from the
network are. An act the state would refuse is not stored: the command
prints its reason code and exits 1 (with ``--json``:
``{"status": "refused", "reason": ..., "detail": ...}``; ``"rejected"`` for
an event the ingest path itself rejects). Group ids may be given by a
unique prefix of at least 8 hex digits, and the root group as ``root``;
keys are 64 hex digits.
"""

from __future__ import annotations

import json
import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import click
from nacl.signing import SigningKey

from node import governance, registrar
from node.cli_common import (
    charter_rules_options,
    data_dir_option,
    emit,
    json_option,
    node_dir,
    now_ms,
    public_keys,
)
from node.cli_common import command_help as _doc
from node.cli_common import event_document as _event_document
from node.cli_common import load_key as _load_key
from node.cli_common import read_passphrase as _read_passphrase
from node.cli_common import reader_options as _reader
from node.cli_common import report as _report
from node.cli_common import run_act as _act
from node.cli_common import short as _short
from node.cli_common import signer_options as _signer
from node.cli_common import with_store as _with_store
from node.datadir import DataDir
from node.governance import Published
from node.keyfile import create_key_file
from protocol.keys import peer_id
from protocol.state import NetworkState
from protocol.uniqueness import decode_tag_key_file, tag_key_file_is_sealed
from storage.state import NetworkStore
from storage.vault import Passphrase, VaultSecret, decode_vault_key_file

APPROVAL_FORMAT = "ayllu-registrar-approval"
APPROVAL_VERSION = 1


# -- plumbing --


def _new_passphrase(file: Any | None, seal: bool) -> bytes | None:
    """The passphrase to seal a new secret with, if any (--passphrase-file or --seal)."""
    if file is None and not seal:
        return None
    return _read_passphrase(file, "Passphrase", confirm=True)


# -- ayllu member --


@click.group()
def member() -> None:
    """Members: keys, certificates (registrars), and membership of base groups.

    A GROUP is its id in hex, a unique prefix of it (8 digits or more), or
    'root'; keys are 64 hex digits.
    """


@member.command()
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="Where to write the key file (never over an existing file).",
)
@click.option(
    "--passphrase-file",
    type=click.File("rb"),
    help="Seal the key with the passphrase on this file's first line.",
)
@click.option("--seal", is_flag=True, help="Seal the key with a passphrase asked for here.")
@json_option
def keygen(out: Path, passphrase_file: Any, seal: bool, as_json: bool) -> None:
    """Create a member's key (Code 2): a new Ed25519 key file, mode 0600.

    Prints the public key in hex, which a registrar certifies.

    \b
    JSON fields: key_file, public_key (hex), peer_id, sealed (bool).
    """
    passphrase = _new_passphrase(passphrase_file, seal)
    key = create_key_file(out, passphrase)
    public = bytes(key.verify_key)
    document = {
        "key_file": str(out),
        "public_key": public.hex(),
        "peer_id": peer_id(public),
        "sealed": passphrase is not None,
    }
    _report(document, as_json, public.hex())


def _person_options(command: Callable[..., Any]) -> Callable[..., Any]:
    options = (
        click.option("--notes", default="", help="Free text kept in the vault (where, by whom)."),
        click.option(
            "--expires-days",
            type=click.IntRange(1, 36_500),
            default=registrar.DEFAULT_EXPIRES_DAYS,
            show_default=True,
            help="How long the certificate is valid.",
        ),
        click.option(
            "--member",
            "member_key",
            metavar="HEXKEY",
            callback=public_keys,
            required=True,
            help="The member's public key (ayllu member keygen).",
        ),
        click.option("--number", required=True, help="The document's number."),
        click.option("--document", required=True, help="The document type: DNI, CE, PASSPORT, ..."),
        click.option(
            "--country", required=True, help="The country that issued the document (PE, ...)."
        ),
        click.option(
            "--vault-key-file",
            type=click.Path(exists=True, dir_okay=False, path_type=Path),
            help="The vault's key file (ayllu registrar vault-key).",
        ),
        click.option(
            "--vault-passphrase-file",
            type=click.File("rb"),
            help="The vault's passphrase, on this file's first line.",
        ),
        click.option(
            "--tag-key-passphrase-file",
            type=click.File("rb"),
            help="The passphrase of a sealed --tag-key (else asked for).",
        ),
        click.option(
            "--tag-key",
            "tag_key_file",
            type=click.Path(exists=True, dir_okay=False, path_type=Path),
            required=True,
            help="The registrars' tag-key file (ayllu registrar tag-key).",
        ),
    )
    for option in options:
        command = option(command)
    return _signer(command)


def _registrar_act(
    operation: Callable[..., Awaitable[registrar.Registration]],
    data_dir: Path | None,
    as_json: bool,
    signer: tuple[Path, Any],
    secrets: tuple[Path, Any, Any, Path | None],
    person: registrar.Person,
    member_key: bytes,
    expires_days: int,
) -> tuple[registrar.Registration, Path]:
    """Run a registrar's act on a person (``registrar.register`` or
    ``registrar.replace``) with the node's store, vault and secrets."""
    node = node_dir(data_dir)
    key = _load_key(*signer)
    tag_key, secret = _registrar_secrets(node, *secrets)
    vault_at = registrar.vault_path(node.root)

    async def act(store: NetworkStore) -> registrar.Registration:
        return await operation(
            store,
            vault_at,
            secret,
            key,
            tag_key,
            person,
            member_key,
            expires_days=expires_days,
            now_ms=now_ms(),
        )

    return _with_store(node, act, as_json), vault_at


def _registrar_secrets(
    node: DataDir,
    tag_key_file: Path,
    tag_key_passphrase_file: Any | None,
    vault_passphrase_file: Any | None,
    vault_key_file: Path | None,
) -> tuple[bytes, VaultSecret]:
    data = tag_key_file.read_bytes()
    passphrase = None
    if tag_key_file_is_sealed(data):
        passphrase = _read_passphrase(tag_key_passphrase_file, f"Passphrase of {tag_key_file}")
    tag_key = decode_tag_key_file(data, passphrase)
    secret: VaultSecret
    if vault_key_file is not None:
        if vault_passphrase_file is not None:
            raise click.UsageError("give --vault-key-file or --vault-passphrase-file, not both")
        secret = decode_vault_key_file(vault_key_file.read_bytes())
    else:
        new = not registrar.vault_path(node.root).exists()
        secret = Passphrase(
            _read_passphrase(vault_passphrase_file, "Vault passphrase", confirm=new)
        )
    return tag_key, secret


@member.command()
@_person_options
@click.option("--name", required=True, help="The person's name as on the document.")
def register(
    data_dir: Path | None,
    as_json: bool,
    key_file: Path,
    passphrase_file: Any,
    tag_key_file: Path,
    tag_key_passphrase_file: Any,
    vault_passphrase_file: Any,
    vault_key_file: Path | None,
    country: str,
    document: str,
    number: str,
    member_key: bytes,
    expires_days: int,
    notes: str,
    name: str,
) -> None:
    """Register a person (a registrar's act): record their verified
    identity (Code 1) in the vault and certify their key (cert.issue).

    The vault is DIR/registry.sqlite3, created on first use (mode 0600)
    under --vault-key-file or a passphrase. Refuses, before writing
    anything, a person the network already certified (duplicate_identity)
    or this vault already holds, and a key certified already. The vault
    record is written first, then the certificate is published; if
    publishing fails, the record is removed, and running the same command
    again finishes an interrupted registration. The name and the document
    are never printed.

    \b
    JSON fields: {EVENT}; member (hex), tag (hex), cert (the certificate's
    id, hex: the event's), expires_ms, vault (path).
    {FAILURE}
    """
    done, vault_at = _registrar_act(
        registrar.register,
        data_dir,
        as_json,
        (key_file, passphrase_file),
        (tag_key_file, tag_key_passphrase_file, vault_passphrase_file, vault_key_file),
        registrar.Person(name, country, document, number, notes),
        member_key,
        expires_days,
    )
    _report(
        _event_document(
            done.published,
            member=done.member.hex(),
            tag=done.tag.hex(),
            cert=done.cert.hex(),
            expires_ms=done.expires_ms,
            vault=str(vault_at),
        ),
        as_json,
        f"certified {done.member.hex()}\ncert      {done.cert.hex()}\ntag       {done.tag.hex()}",
    )


register.help = _doc(register.help or "")


@member.command()
@_person_options
@click.option(
    "--name", default="", help="The person's name: needed only if this vault has no record of them."
)
def replace(
    data_dir: Path | None,
    as_json: bool,
    key_file: Path,
    passphrase_file: Any,
    tag_key_file: Path,
    tag_key_passphrase_file: Any,
    vault_passphrase_file: Any,
    vault_key_file: Path | None,
    country: str,
    document: str,
    number: str,
    member_key: bytes,
    expires_days: int,
    notes: str,
    name: str,
) -> None:
    """Replace a person's certificate (a registrar's act): a lost or stolen
    key (--member is the new key), or a renewal (--member is the same key).

    The person is found by their document (its uniqueness tag), after
    checking it again in person. Publishes cert.replace: the old key is
    revoked and the new one takes its seat in the person's base group;
    their merit stays. The vault record moves to the new key (first, and
    back again if publishing fails).

    \b
    JSON fields: {EVENT}; member (the new key, hex), old_member, tag, cert
    (the new certificate's id), old_cert, expires_ms, vault (path).
    {FAILURE}
    """
    done, vault_at = _registrar_act(
        registrar.replace,
        data_dir,
        as_json,
        (key_file, passphrase_file),
        (tag_key_file, tag_key_passphrase_file, vault_passphrase_file, vault_key_file),
        registrar.Person(name, country, document, number, notes),
        member_key,
        expires_days,
    )
    assert done.old_cert is not None and done.old_member is not None
    _report(
        _event_document(
            done.published,
            member=done.member.hex(),
            old_member=done.old_member.hex(),
            tag=done.tag.hex(),
            cert=done.cert.hex(),
            old_cert=done.old_cert.hex(),
            expires_ms=done.expires_ms,
            vault=str(vault_at),
        ),
        as_json,
        f"certified {done.member.hex()}\ncert      {done.cert.hex()}\n"
        f"replaces  {done.old_cert.hex()}",
    )


replace.help = _doc(replace.help or "")


@member.command()
@_signer
@click.argument("cert_ref", metavar="CERT_ID")
@click.option("--why", required=True, help="The reason, 1 to 500 characters (public).")
def revoke(
    data_dir: Path | None,
    as_json: bool,
    key_file: Path,
    passphrase_file: Any,
    cert_ref: str,
    why: str,
) -> None:
    """Revoke the certificate CERT_ID (hex, or a prefix of 8 digits or
    more): a registrar's act, for a stolen key or a fraud. The person keeps
    their seat until 'ayllu member replace' gives them a new key.

    \b
    JSON fields: {EVENT}; cert (hex), member (the revoked key, hex).
    {FAILURE}
    """

    async def act(store: NetworkStore, key: SigningKey, now: int) -> tuple[Published, bytes]:
        cert = governance.resolve_certificate(store.state, cert_ref)
        published = await governance.revoke_certificate(store, key, cert, why=why, now_ms=now)
        return published, store.state.registry.certificates[cert].member

    published, revoked = _act(data_dir, key_file, passphrase_file, as_json, act)
    cert = published.event.event.body["cert"]
    _report(
        _event_document(published, cert=cert.hex(), member=revoked.hex()),
        as_json,
        f"revoked {cert.hex()} (key {revoked.hex()})",
    )


revoke.help = _doc(revoke.help or "")


@member.command()
@_reader
@click.argument("member_key", metavar="KEYHEX", callback=public_keys)
def show(data_dir: Path | None, as_json: bool, at_ms: int | None, member_key: bytes) -> None:
    """What the network says of the member key KEYHEX: its certificate,
    base group and merit.

    \b
    JSON fields: member (hex), certificate (null, or id, member, tag,
    registrar, issued_ms, expires_ms, status: valid, expired, revoked or
    replaced, replaced_by), certified (bool, at --at), base_group (hex or
    null), base_group_name, merit (attestations to the person), at (ms).
    """
    at = now_ms() if at_ms is None else at_ms

    async def read(store: NetworkStore) -> dict[str, Any]:
        state = store.state
        cert = state.registry.certificate_of(member_key)
        base = state.groups.group_of(member_key)
        return {
            "member": member_key.hex(),
            "certificate": None if cert is None else cert.describe(at),
            "certified": state.registry.is_certified(member_key, at),
            "base_group": None if base is None else base.hex(),
            "base_group_name": None if base is None else state.groups.groups[base].name,
            "merit": state.groups.merit(member_key),
            "at": at,
        }

    document = _with_store(node_dir(data_dir), read, as_json)
    if as_json:
        emit(document)
        return
    cert = document["certificate"]
    click.echo(f"member       {document['member']}")
    if cert is None:
        click.echo("certificate  none")
    else:
        click.echo(f"certificate  {cert['id']} ({cert['status']}, expires {cert['expires_ms']})")
    base = document["base_group"]
    group_text = "none" if base is None else f"{document['base_group_name']} ({base})"
    click.echo(f"base group   {group_text}")
    click.echo(f"merit        {document['merit']}")


@member.command(name="apply")
@_signer
@click.argument("group_ref", metavar="GROUP")
@click.option("--text", help="A word to the group, 1 to 500 characters.")
def member_apply(
    data_dir: Path | None,
    as_json: bool,
    key_file: Path,
    passphrase_file: Any,
    group_ref: str,
    text: str | None,
) -> None:
    """Ask to join the base group GROUP (signed with your key): a member
    then admits you with 'ayllu member admit'.

    \b
    JSON fields: {EVENT}.
    {FAILURE}
    """

    async def act(store: NetworkStore, key: SigningKey, now: int) -> Published:
        group = governance.resolve_group(store.state, group_ref)
        return await governance.apply_for_membership(store, key, group, text=text, now_ms=now)

    published = _act(data_dir, key_file, passphrase_file, as_json, act)
    _report(
        _event_document(published),
        as_json,
        f"applied to {published.event.group.hex()} ({published.event.id.hex()})",
    )


member_apply.help = _doc(member_apply.help or "")


@member.command(name="admit")
@_signer
@click.argument("group_ref", metavar="GROUP")
@click.argument("member_key", metavar="MEMBERHEX", callback=public_keys)
def member_admit(
    data_dir: Path | None,
    as_json: bool,
    key_file: Path,
    passphrase_file: Any,
    group_ref: str,
    member_key: bytes,
) -> None:
    """Admit MEMBERHEX into the base group GROUP (a member's act), answering
    their newest application. At most 5 members (group_full).

    \b
    JSON fields: {EVENT}; member (hex), application (hex), members (the
    group's members after, hex).
    {FAILURE}
    """

    async def act(store: NetworkStore, key: SigningKey, now: int) -> tuple[Published, list[bytes]]:
        group = governance.resolve_group(store.state, group_ref)
        published = await governance.admit_member(store, key, group, member_key, now_ms=now)
        return published, list(store.state.groups.groups[group].members)

    published, members = _act(data_dir, key_file, passphrase_file, as_json, act)
    body = published.event.event.body
    _report(
        _event_document(
            published,
            member=member_key.hex(),
            application=body["application"].hex(),
            members=[m.hex() for m in members],
        ),
        as_json,
        f"admitted {member_key.hex()}: {len(members)} members",
    )


member_admit.help = _doc(member_admit.help or "")


@member.command(name="leave")
@_signer
@click.argument("group_ref", metavar="GROUP")
def member_leave(
    data_dir: Path | None, as_json: bool, key_file: Path, passphrase_file: Any, group_ref: str
) -> None:
    """Leave the base group GROUP (signed with your key).

    \b
    JSON fields: {EVENT}.
    {FAILURE}
    """

    async def act(store: NetworkStore, key: SigningKey, now: int) -> Published:
        group = governance.resolve_group(store.state, group_ref)
        return await governance.leave_group(store, key, group, now_ms=now)

    published = _act(data_dir, key_file, passphrase_file, as_json, act)
    _report(_event_document(published), as_json, f"left {published.event.group.hex()}")


member_leave.help = _doc(member_leave.help or "")


@member.command()
@_signer
@click.argument("group_ref", metavar="GROUP")
@click.argument("member_key", metavar="MEMBERHEX", callback=public_keys)
@click.option("--text", required=True, help="The contribution, 1 to 500 characters.")
def attest(
    data_dir: Path | None,
    as_json: bool,
    key_file: Path,
    passphrase_file: Any,
    group_ref: str,
    member_key: bytes,
    text: str,
) -> None:
    """Attest to a contribution of MEMBERHEX, both of you in GROUP's subtree:
    one merit point, at most one per person and merit period (the group's
    merit_days, counted from the epoch).

    \b
    JSON fields: {EVENT}; member (hex), period, merit (the member's after).
    {FAILURE}
    """

    async def act(store: NetworkStore, key: SigningKey, now: int) -> tuple[Published, int]:
        group = governance.resolve_group(store.state, group_ref)
        published = await governance.attest(store, key, group, member_key, text=text, now_ms=now)
        return published, store.state.groups.merit(member_key)

    published, merit = _act(data_dir, key_file, passphrase_file, as_json, act)
    period = published.event.event.body["period"]
    _report(
        _event_document(published, member=member_key.hex(), period=period, merit=merit),
        as_json,
        f"attested {member_key.hex()}: merit {merit}",
    )


attest.help = _doc(attest.help or "")


@member.command()
@_signer
@click.argument("group_ref", metavar="GROUP")
@click.argument("candidate", metavar="CANDIDATEHEX", callback=public_keys)
@click.option("--next-term", is_flag=True, help="Endorse for the next term instead of this one.")
def endorse(
    data_dir: Path | None,
    as_json: bool,
    key_file: Path,
    passphrase_file: Any,
    group_ref: str,
    candidate: bytes,
    next_term: bool,
) -> None:
    """Endorse CANDIDATEHEX (in GROUP's subtree) as GROUP's coordinator. You
    must be of GROUP's electorate: a base group's members, or above, its
    children's coordinators. More than half the electorate makes a
    coordinator; moving endorsements recalls them.

    \b
    JSON fields: {EVENT}; candidate (hex), term, coordinator (GROUP's now,
    hex or null).
    {FAILURE}
    """

    async def act(store: NetworkStore, key: SigningKey, now: int) -> tuple[Published, bytes | None]:
        group = governance.resolve_group(store.state, group_ref)
        published = await governance.endorse(
            store, key, group, candidate, next_term=next_term, now_ms=now
        )
        return published, store.state.groups.coordinator(group, published.event.ts)

    published, coordinator = _act(data_dir, key_file, passphrase_file, as_json, act)
    term = published.event.event.body["term"]
    _report(
        _event_document(
            published,
            candidate=candidate.hex(),
            term=term,
            coordinator=None if coordinator is None else coordinator.hex(),
        ),
        as_json,
        f"endorsed {candidate.hex()} for term {term}; coordinator {_short(coordinator)}",
    )


endorse.help = _doc(endorse.help or "")


# -- ayllu group --


@click.group()
def group() -> None:
    """Groups: found them, place them in the fractal, read the tree.

    A GROUP is its id in hex, a unique prefix of it (8 digits or more), or
    'root' (the root group, whose id is the network id).
    """


@group.command()
@_signer
@click.option("--name", required=True, help="The group's name, 1 to 100 characters.")
@click.option("--level", type=int, required=True, help="1 for a base group, 2 above it, ...")
@click.option(
    "--lang",
    "langs",
    multiple=True,
    required=True,
    help="A language of the group (es, qu, ay, ...); repeat for each.",
)
@charter_rules_options
def found(
    data_dir: Path | None,
    as_json: bool,
    key_file: Path,
    passphrase_file: Any,
    name: str,
    level: int,
    langs: tuple[str, ...],
    rules: dict[str, int],
) -> None:
    """Found a group (group.charter); its rules default as in 'ayllu genesis
    create'. The founder of a base group is its first member, and acts for
    the group while it has no coordinator. Prints the new group's id.

    \b
    JSON fields: {EVENT} (group: the new group's id, which is the event's
    id); name, level.
    {FAILURE}
    """

    async def act(store: NetworkStore, key: SigningKey, now: int) -> Published:
        return await governance.found_group(
            store, key, name=name, level=level, langs=langs, rules=rules, now_ms=now
        )

    published = _act(data_dir, key_file, passphrase_file, as_json, act)
    document = _event_document(published, name=name, level=level)
    document["group"] = published.event.id.hex()
    _report(document, as_json, published.event.id.hex())


found.help = _doc(found.help or "")


@group.command(name="apply")
@_signer
@click.argument("child_ref", metavar="CHILD")
@click.argument("parent_ref", metavar="PARENT")
def group_apply(
    data_dir: Path | None,
    as_json: bool,
    key_file: Path,
    passphrase_file: Any,
    child_ref: str,
    parent_ref: str,
) -> None:
    """Ask to place the group CHILD under PARENT, one level up (by whoever
    acts for CHILD: its coordinator, or its founder while it has none).

    \b
    JSON fields: {EVENT} (group: CHILD); parent (hex).
    {FAILURE}
    """

    async def act(store: NetworkStore, key: SigningKey, now: int) -> Published:
        child = governance.resolve_group(store.state, child_ref)
        parent = governance.resolve_group(store.state, parent_ref)
        return await governance.apply_to_parent(store, key, child, parent, now_ms=now)

    published = _act(data_dir, key_file, passphrase_file, as_json, act)
    parent = published.event.event.body["parent"]
    _report(
        _event_document(published, parent=parent.hex()),
        as_json,
        f"{published.event.group.hex()} applied to join {parent.hex()}",
    )


group_apply.help = _doc(group_apply.help or "")


@group.command(name="admit")
@_signer
@click.argument("parent_ref", metavar="PARENT")
@click.argument("child_ref", metavar="CHILD")
def group_admit(
    data_dir: Path | None,
    as_json: bool,
    key_file: Path,
    passphrase_file: Any,
    parent_ref: str,
    child_ref: str,
) -> None:
    """Admit the group CHILD under PARENT (by whoever acts for PARENT),
    answering CHILD's newest application. At most 5 children.

    \b
    JSON fields: {EVENT} (group: PARENT); child (hex), application (hex),
    children (PARENT's after, hex).
    {FAILURE}
    """

    async def act(store: NetworkStore, key: SigningKey, now: int) -> tuple[Published, list[bytes]]:
        parent = governance.resolve_group(store.state, parent_ref)
        child = governance.resolve_group(store.state, child_ref)
        published = await governance.admit_child(store, key, parent, child, now_ms=now)
        return published, store.state.groups.children(parent)

    published, children = _act(data_dir, key_file, passphrase_file, as_json, act)
    body = published.event.event.body
    _report(
        _event_document(
            published,
            child=body["child"].hex(),
            application=body["application"].hex(),
            children=[c.hex() for c in children],
        ),
        as_json,
        f"admitted {body['child'].hex()}: {len(children)} children",
    )


group_admit.help = _doc(group_admit.help or "")


@group.command(name="leave")
@_signer
@click.argument("child_ref", metavar="CHILD")
@click.argument("parent_ref", metavar="PARENT")
def group_leave(
    data_dir: Path | None,
    as_json: bool,
    key_file: Path,
    passphrase_file: Any,
    child_ref: str,
    parent_ref: str,
) -> None:
    """End the placement of CHILD under PARENT (by whoever acts for either).

    \b
    JSON fields: {EVENT} (group: CHILD); parent (hex).
    {FAILURE}
    """

    async def act(store: NetworkStore, key: SigningKey, now: int) -> Published:
        child = governance.resolve_group(store.state, child_ref)
        parent = governance.resolve_group(store.state, parent_ref)
        return await governance.leave_parent(store, key, child, parent, now_ms=now)

    published = _act(data_dir, key_file, passphrase_file, as_json, act)
    parent = published.event.event.body["parent"]
    _report(
        _event_document(published, parent=parent.hex()),
        as_json,
        f"{published.event.group.hex()} left {parent.hex()}",
    )


group_leave.help = _doc(group_leave.help or "")


@group.command(name="nodes")
@_signer
@click.argument("group_ref", metavar="GROUP")
@click.argument("node_keys", metavar="[NODEKEY]...", nargs=-1, callback=public_keys)
def group_nodes(
    data_dir: Path | None,
    as_json: bool,
    key_file: Path,
    passphrase_file: Any,
    group_ref: str,
    node_keys: tuple[bytes, ...],
) -> None:
    """Name the nodes that serve GROUP (by whoever acts for it): each
    NODEKEY is a node's public key in hex, as 'ayllu init' and 'ayllu
    status' show it. The list replaces the group's earlier one; none empties
    it. Neighbouring groups' nodes link with these (specs/network.md).

    \b
    JSON fields: {EVENT} (group: GROUP); nodes (hex).
    {FAILURE}
    """

    async def act(store: NetworkStore, key: SigningKey, now: int) -> Published:
        group_id = governance.resolve_group(store.state, group_ref)
        return await governance.name_nodes(store, key, group_id, node_keys, now_ms=now)

    published = _act(data_dir, key_file, passphrase_file, as_json, act)
    nodes = [node.hex() for node in published.event.event.body["nodes"]]
    _report(
        _event_document(published, nodes=nodes),
        as_json,
        f"{published.event.group.hex()} is served by {len(nodes)} node(s)",
    )


group_nodes.help = _doc(group_nodes.help or "")


@group.command(name="show")
@_reader
@click.argument("group_ref", metavar="GROUP")
def group_show(data_dir: Path | None, as_json: bool, at_ms: int | None, group_ref: str) -> None:
    """A group as the network's state has it.

    \b
    JSON fields: id, name, level, langs, rules, founder (hex), founded_ms,
    status (active or forming), parent (hex or null), children (hex),
    members (a base group's own, hex), member_count (the subtree's),
    coordinator (hex or null), candidates (key, endorsements, merit; most
    endorsed first), path (hex ids from the top down to the group),
    ancestors (parent first), siblings (hex), at (ms).
    """
    at = now_ms() if at_ms is None else at_ms

    async def read(store: NetworkStore) -> dict[str, Any]:
        groups = store.state.groups
        gid = governance.resolve_group(store.state, group_ref)
        return {
            **groups.describe(gid, at),
            "path": [g.hex() for g in groups.path(gid)],
            "ancestors": [g.hex() for g in groups.ancestors(gid)],
            "siblings": [g.hex() for g in groups.siblings(gid)],
            "at": at,
        }

    document = _with_store(node_dir(data_dir), read, as_json)
    if as_json:
        emit(document)
        return
    click.echo(f"group        {document['name']} ({document['id']})")
    click.echo(f"level        {document['level']}, {document['status']}")
    click.echo(f"parent       {document['parent'] or 'none'}")
    click.echo(f"members      {document['member_count']}")
    for key in document["members"]:
        click.echo(f"             {key}")
    click.echo(f"children     {len(document['children'])}")
    click.echo(f"coordinator  {document['coordinator'] or 'none'}")
    for candidate in document["candidates"]:
        click.echo(
            f"candidate    {candidate['key']}: {candidate['endorsements']} endorsements, "
            f"merit {candidate['merit']}"
        )


@group.command(name="list")
@_reader
def group_list(data_dir: Path | None, as_json: bool, at_ms: int | None) -> None:
    """Every group the node knows, from the top level down.

    \b
    With --json, one JSON object per line and group: id, name, level,
    status, parent (hex or null), member_count (the subtree's),
    coordinator (hex or null).
    """
    at = now_ms() if at_ms is None else at_ms

    async def read(store: NetworkStore) -> list[dict[str, Any]]:
        groups = store.state.groups
        ordered = sorted(groups.groups.values(), key=lambda g: (-g.level, g.founded, g.id))
        return [_summary(store.state, g.id, at) for g in ordered]

    for row in _with_store(node_dir(data_dir), read, as_json):
        if as_json:
            click.echo(json.dumps(row, ensure_ascii=False))
        else:
            click.echo(
                f"{row['id'][:16]}  L{row['level']}  {row['status']:<8} "
                f"{row['member_count']:>5}  {row['name']}"
            )


def _summary(state: NetworkState, gid: bytes, at: int) -> dict[str, Any]:
    groups = state.groups
    found = groups.groups[gid]
    coordinator = groups.coordinator(gid, at)
    return {
        "id": gid.hex(),
        "name": found.name,
        "level": found.level,
        "status": groups.status(gid),
        "parent": None if found.parent is None else found.parent.hex(),
        "member_count": groups.member_count(gid),
        "coordinator": None if coordinator is None else coordinator.hex(),
    }


@group.command()
@_reader
@click.argument("group_ref", metavar="[GROUP]", required=False)
def tree(data_dir: Path | None, as_json: bool, at_ms: int | None, group_ref: str | None) -> None:
    """The fractal under GROUP (the root by default), as an indented tree:
    name, level, status, members of the subtree, coordinator. Without
    GROUP, groups not placed under anything follow.

    \b
    JSON: the nested tree, each node with id, name, level, status, parent,
    member_count, coordinator, children (nodes); the top node also has
    unplaced (the trees of groups without a parent, other than the root,
    when GROUP is not given; else empty).
    """
    at = now_ms() if at_ms is None else at_ms

    async def read(store: NetworkStore) -> dict[str, Any]:
        state = store.state
        groups = state.groups
        if group_ref is None:
            top = groups.root_id
            unplaced = [
                _subtree(state, g.id, at)
                for g in sorted(groups.groups.values(), key=lambda g: (-g.level, g.founded, g.id))
                if g.parent is None and g.id != top
            ]
        else:
            top, unplaced = governance.resolve_group(state, group_ref), []
        return {**_subtree(state, top, at), "unplaced": unplaced}

    document = _with_store(node_dir(data_dir), read, as_json)
    if as_json:
        emit(document)
        return
    _print_tree(document, 0)
    if document["unplaced"]:
        click.echo("not placed:")
        for node in document["unplaced"]:
            _print_tree(node, 1)


def _subtree(state: NetworkState, gid: bytes, at: int) -> dict[str, Any]:
    return {
        **_summary(state, gid, at),
        "children": [_subtree(state, child, at) for child in state.groups.children(gid)],
    }


def _print_tree(node: dict[str, Any], depth: int) -> None:
    click.echo(
        f"{'  ' * depth}{node['name']}  (level {node['level']}, {node['status']}, "
        f"{node['member_count']} members, coordinator {_short(node['coordinator'])})  "
        f"{node['id'][:16]}"
    )
    for child in node["children"]:
        _print_tree(child, depth + 1)


@group.command()
@_reader
@click.argument("group_ref", metavar="GROUP")
def members(data_dir: Path | None, as_json: bool, at_ms: int | None, group_ref: str) -> None:
    """The members of GROUP's subtree: every base group's, breadth first.

    \b
    JSON fields: group (hex), member_count, members (each: key, base_group
    (hex), certified (bool, at --at), merit).
    """
    at = now_ms() if at_ms is None else at_ms

    async def read(store: NetworkStore) -> dict[str, Any]:
        state = store.state
        gid = governance.resolve_group(state, group_ref)
        keys = state.groups.members(gid)
        return {
            "group": gid.hex(),
            "member_count": len(keys),
            "members": [
                {
                    "key": key.hex(),
                    "base_group": _hex_or_none(state.groups.group_of(key)),
                    "certified": state.registry.is_certified(key, at),
                    "merit": state.groups.merit(key),
                }
                for key in keys
            ],
        }

    document = _with_store(node_dir(data_dir), read, as_json)
    if as_json:
        emit(document)
        return
    for row in document["members"]:
        flag = "" if row["certified"] else "  (not certified)"
        click.echo(f"{row['key']}  {_short(row['base_group'])}  merit {row['merit']}{flag}")


def _hex_or_none(value: bytes | None) -> str | None:
    return None if value is None else value.hex()


# -- ayllu registrar --


@click.group(name="registrar")
def registrar_group() -> None:
    """Registrars: their shared tag key, their vault key, and changes of the
    registrar set (each approved by a quorum of the current registrars)."""


@registrar_group.command(name="tag-key")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="Where to write the tag-key file (never over an existing file).",
)
@click.option(
    "--passphrase-file",
    type=click.File("rb"),
    help="Seal the tag key with the passphrase on this file's first line.",
)
@click.option("--seal", is_flag=True, help="Seal the tag key with a passphrase asked for here.")
@json_option
def tag_key(out: Path, passphrase_file: Any, seal: bool, as_json: bool) -> None:
    """Create the registrars' tag key (specs/identity.md): once per network,
    by its first registrars, then carried to each registrar in person. It
    is what makes a person's uniqueness tag; whoever holds it can test IDs
    against every tag, so keep it sealed.

    \b
    JSON fields: file, key_id (hex: compare it between registrars), sealed.
    """
    passphrase = _new_passphrase(passphrase_file, seal)
    key_id = registrar.create_tag_key_file(out, passphrase)
    document = {"file": str(out), "key_id": key_id.hex(), "sealed": passphrase is not None}
    _report(document, as_json, key_id.hex())


@registrar_group.command(name="vault-key")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="Where to write the vault key file (never over an existing file).",
)
@json_option
def vault_key(out: Path, as_json: bool) -> None:
    """Create a vault key file: 32 random bytes that seal a registrar's
    vault instead of a passphrase. Keep it on another medium than the
    vault (a USB key kept by another member of the verification group).

    \b
    JSON fields: file.
    """
    registrar.create_vault_key_file(out)
    _report({"file": str(out)}, as_json, str(out))


def _change_options(command: Callable[..., Any]) -> Callable[..., Any]:
    options = (
        click.option(
            "--epoch",
            type=click.IntRange(0, 2**32 - 1),
            help="The registrar epoch the change applies to.  [default: the current one]",
        ),
        click.option(
            "--quorum",
            type=click.IntRange(1, 64),
            required=True,
            help="The quorum after the change.",
        ),
        click.option(
            "--remove",
            metavar="HEXKEY",
            multiple=True,
            callback=public_keys,
            help="A registrar to remove; repeat for each.",
        ),
        click.option(
            "--add",
            metavar="HEXKEY",
            multiple=True,
            callback=public_keys,
            help="A registrar to add; repeat for each.",
        ),
    )
    for option in options:
        command = option(command)
    return _signer(command)


@registrar_group.command()
@_change_options
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="Where to write the approval (never over an existing file).",
)
def approve(
    data_dir: Path | None,
    as_json: bool,
    key_file: Path,
    passphrase_file: Any,
    add: tuple[bytes, ...],
    remove: tuple[bytes, ...],
    quorum: int,
    epoch: int | None,
    out: Path,
) -> None:
    """Approve a change of the registrar set, as one registrar: writes the
    signed approval to --out, to be handed to the registrar who publishes
    the change with 'ayllu registrar change --approval FILE'. An approval
    is good for this network, this exact change and this epoch only.

    \b
    JSON fields (also the file's): format, version, net (hex), add, remove
    (hex keys, ascending), quorum, epoch, key (the approver's, hex), sig
    (hex); plus file.
    """
    node = node_dir(data_dir)
    key = _load_key(key_file, passphrase_file)

    async def sign(store: NetworkStore) -> dict[str, Any]:
        chosen = store.state.registry.epoch if epoch is None else epoch
        approval = governance.own_approval(
            store, key, add=add, remove=remove, quorum=quorum, epoch=chosen
        )
        return {
            "format": APPROVAL_FORMAT,
            "version": APPROVAL_VERSION,
            "net": store.genesis.network_id.hex(),
            "add": sorted(k.hex() for k in add),
            "remove": sorted(k.hex() for k in remove),
            "quorum": quorum,
            "epoch": chosen,
            "key": approval["key"].hex(),
            "sig": approval["sig"].hex(),
        }

    document = _with_store(node, sign, as_json)
    data = (json.dumps(document, indent=2) + "\n").encode("utf-8")
    try:
        fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except FileExistsError:
        raise click.ClickException(f"refusing to overwrite {out}") from None
    except OSError as exc:
        raise click.ClickException(f"cannot write {out}: {exc.strerror}") from None
    with os.fdopen(fd, "wb") as file:
        file.write(data)
    _report({**document, "file": str(out)}, as_json, str(out))


def _read_approval(path: Path) -> dict[str, bytes]:
    """An approval file's key and signature (their change is checked by
    node/governance.py against the change being made)."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        if document.get("format") != APPROVAL_FORMAT or document.get("version") != 1:
            raise ValueError
        key, sig = bytes.fromhex(document["key"]), bytes.fromhex(document["sig"])
        if len(key) != 32 or len(sig) != 64:
            raise ValueError
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError, AttributeError):
        raise click.BadParameter(
            f"{path} is not an approval file (ayllu registrar approve)", param_hint="--approval"
        ) from None
    return {"key": key, "sig": sig}


@registrar_group.command()
@_change_options
@click.option(
    "--approval",
    "approval_files",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    multiple=True,
    help="An approval of this change by another registrar (ayllu registrar approve); repeat.",
)
def change(
    data_dir: Path | None,
    as_json: bool,
    key_file: Path,
    passphrase_file: Any,
    add: tuple[bytes, ...],
    remove: tuple[bytes, ...],
    quorum: int,
    epoch: int | None,
    approval_files: tuple[Path, ...],
) -> None:
    """Publish a change of the registrar set (registrar.change): add and
    remove registrars and set the quorum, with the approvals of at least a
    quorum of the current registrars (yours is added).

    \b
    JSON fields: {EVENT}; registrars (after, hex), quorum, epoch (after).
    {FAILURE}
    """
    approvals = [_read_approval(path) for path in approval_files]

    async def act(
        store: NetworkStore, key: SigningKey, now: int
    ) -> tuple[Published, dict[str, Any]]:
        published = await governance.change_registrars(
            store,
            key,
            add=add,
            remove=remove,
            quorum=quorum,
            epoch=store.state.registry.epoch if epoch is None else epoch,
            approvals=approvals,
            now_ms=now,
        )
        return published, _registrars(store.state)

    published, after = _act(data_dir, key_file, passphrase_file, as_json, act)
    _report(
        _event_document(published, **after),
        as_json,
        f"registrars {len(after['registrars'])}, quorum {after['quorum']}, epoch {after['epoch']}",
    )


change.help = _doc(change.help or "")


def _registrars(state: NetworkState) -> dict[str, Any]:
    registry = state.registry
    return {
        "registrars": sorted(k.hex() for k in registry.registrars),
        "quorum": registry.quorum,
        "epoch": registry.epoch,
    }


@registrar_group.command(name="list")
@data_dir_option
@json_option
def registrar_list(data_dir: Path | None, as_json: bool) -> None:
    """The current registrars, their quorum and the epoch (the number of
    changes applied).

    \b
    JSON fields: registrars (hex, ascending), quorum, epoch.
    """

    async def read(store: NetworkStore) -> dict[str, Any]:
        return _registrars(store.state)

    document = _with_store(node_dir(data_dir), read, as_json)
    if as_json:
        emit(document)
        return
    click.echo(f"registrars  {len(document['registrars'])}, quorum {document['quorum']}")
    click.echo(f"epoch       {document['epoch']}")
    for key in document["registrars"]:
        click.echo(f"            {key}")


COMMAND_GROUPS = (member, group, registrar_group)
