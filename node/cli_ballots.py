"""``ayllu propose``, ``amend``, ``translate``, ``confirm``, ``comment``,
``support``, ``vote``, and ``ayllu proposal ...``, ``ayllu ballot ...``,
``ayllu results ...``: proposals and secret ballots from the command line
(specs/ballots.md).

The acts people do often are top-level verbs (``ayllu propose``, ``ayllu
vote``, ...); reading proposals and running ballots and results are command
groups. Every act goes through node/governance.py, as those of
node/cli_governance.py do: signed with ``--key``, previewed against the
node's state, stored only if the state would apply it; otherwise the
command prints the reason code and exits 1. Proposals, amendments,
translations, comments and ballots are named by their id or a unique prefix
of at least 8 hex digits; groups also as ``root``.

A vote is the exception to "signed with --key": ``--key`` makes only its
ring signature, and the event is signed by a one-time key drawn for it, so
that nothing in the vote names the voter (node/governance.py ``cast_vote``).
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
from nacl.signing import SigningKey

from node import governance
from node.cli_common import (
    command_help,
    emit,
    event_document,
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
from node.governance import Cast, Published
from protocol.kinds import ROLES
from protocol.state import NetworkState
from storage.state import NetworkStore

# -- options --

_UNITS_MS = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000, "w": 604_800_000}
_DURATION = re.compile(r"(\d+)(ms|s|m|h|d|w)")


def parse_duration(text: str) -> int:
    """A duration such as ``30m``, ``2h``, ``3d`` or ``1d12h`` in ms
    (units: ms, s, m, h, d, w); ValueError if it is not one, or is zero."""
    compact = text.strip().lower().replace(" ", "")
    parts = _DURATION.findall(compact)
    if not compact or "".join(n + u for n, u in parts) != compact:
        raise ValueError(f"{text!r} is not a duration such as 30m, 2h, 3d or 1d12h")
    total = sum(int(number) * _UNITS_MS[unit] for number, unit in parts)
    if total <= 0:
        raise ValueError("a duration is more than zero")
    return total


def duration(ctx: click.Context, param: click.Parameter, value: str | None) -> int | None:
    """A click callback: ``parse_duration`` of an option's value."""
    if value is None:
        return None
    try:
        return parse_duration(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc), ctx=ctx, param=param) from None


lang_option = click.option(
    "--lang", required=True, help="The language of what you write (es, qu, ay, qu-PE, ...)."
)
title_option = click.option("--title", required=True, help="The title, 1 to 200 characters.")


def text_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """--text or --text-file (exactly one), given to ``command`` as ``text``."""

    @functools.wraps(command)
    def with_text(*args: Any, **kwargs: Any) -> Any:
        text, text_file = kwargs.pop("text"), kwargs.pop("text_file")
        if (text is None) == (text_file is None):
            raise click.UsageError("give --text or --text-file (one of them)")
        kwargs["text"] = text if text_file is None else text_file.read().rstrip("\r\n")
        return command(*args, **kwargs)

    with_text = click.option(
        "--text-file",
        type=click.File("r", encoding="utf-8"),
        help="Read the text from this UTF-8 file ('-': standard input).",
    )(with_text)
    return click.option("--text", help="The text (or --text-file).")(with_text)


def _when(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).isoformat(timespec="seconds")


# -- deliberation: top-level acts --


@click.command()
@signer_options
@click.argument("group_ref", metavar="GROUP")
@lang_option
@title_option
@text_options
def propose(
    data_dir: Path | None,
    as_json: bool,
    key_file: Path,
    passphrase_file: Any,
    group_ref: str,
    lang: str,
    title: str,
    text: str,
) -> None:
    """Propose something to GROUP, the proposal's scope: its members
    deliberate on it and, once enough of them support it, vote on it.
    Write in your own language (--lang); others translate. Prints the
    proposal's id.

    \b
    JSON fields: {EVENT} (group: the scope); proposal (the new proposal's
    id, the event's), lang, title.
    {FAILURE}
    """

    async def act(store: NetworkStore, key: SigningKey, now: int) -> Published:
        scope = governance.resolve_group(store.state, group_ref)
        return await governance.propose(
            store, key, scope, lang=lang, title=title, text=text, now_ms=now
        )

    published = run_act(data_dir, key_file, passphrase_file, as_json, act)
    document = event_document(published, proposal=published.event.id.hex(), lang=lang, title=title)
    report(document, as_json, published.event.id.hex())


@click.command()
@signer_options
@click.argument("proposal_ref", metavar="PROPOSAL")
@lang_option
@title_option
@text_options
def amend(
    data_dir: Path | None,
    as_json: bool,
    key_file: Path,
    passphrase_file: Any,
    proposal_ref: str,
    lang: str,
    title: str,
    text: str,
) -> None:
    """Propose an amendment to PROPOSAL, while it is open (not yet put to a
    ballot). Prints the amendment's id.

    \b
    JSON fields: {EVENT}; amendment (its id), proposal (hex).
    {FAILURE}
    """

    async def act(store: NetworkStore, key: SigningKey, now: int) -> Published:
        proposal = governance.resolve_proposal(store.state, proposal_ref)
        return await governance.amend(
            store, key, proposal, lang=lang, title=title, text=text, now_ms=now
        )

    published = run_act(data_dir, key_file, passphrase_file, as_json, act)
    document = event_document(
        published,
        amendment=published.event.id.hex(),
        proposal=published.event.event.body["proposal"].hex(),
    )
    report(document, as_json, published.event.id.hex())


@click.command()
@signer_options
@click.argument("target_ref", metavar="TARGET")
@click.option("--lang", required=True, help="The language you translate into.")
@title_option
@text_options
def translate(
    data_dir: Path | None,
    as_json: bool,
    key_file: Path,
    passphrase_file: Any,
    target_ref: str,
    lang: str,
    title: str,
    text: str,
) -> None:
    """Translate TARGET, a proposal or an amendment, into --lang (from its
    original, never from a translation). Others confirm translations with
    'ayllu confirm'; readers are shown the most confirmed one. Prints the
    translation's id.

    \b
    JSON fields: {EVENT}; translation (its id), target (hex), lang.
    {FAILURE}
    """

    async def act(store: NetworkStore, key: SigningKey, now: int) -> Published:
        target = governance.resolve_original(store.state, target_ref)
        return await governance.translate(
            store, key, target, lang=lang, title=title, text=text, now_ms=now
        )

    published = run_act(data_dir, key_file, passphrase_file, as_json, act)
    document = event_document(
        published,
        translation=published.event.id.hex(),
        target=published.event.event.body["target"].hex(),
        lang=lang,
    )
    report(document, as_json, published.event.id.hex())


@click.command()
@signer_options
@click.argument("translation_ref", metavar="TRANSLATION")
def confirm(
    data_dir: Path | None, as_json: bool, key_file: Path, passphrase_file: Any, translation_ref: str
) -> None:
    """Confirm that TRANSLATION says what its original says. Once per
    person, and never your own translation.

    \b
    JSON fields: {EVENT}; translation (hex), confirmations (its persons,
    after).
    {FAILURE}
    """

    async def act(store: NetworkStore, key: SigningKey, now: int) -> tuple[Published, int]:
        translation = governance.resolve_translation(store.state, translation_ref)
        published = await governance.confirm_translation(store, key, translation, now_ms=now)
        return published, len(store.state.proposals.translation(translation).confirmations)

    published, confirmations = run_act(data_dir, key_file, passphrase_file, as_json, act)
    translation = published.event.event.body["translation"].hex()
    report(
        event_document(published, translation=translation, confirmations=confirmations),
        as_json,
        f"confirmed {translation}: {confirmations} confirmations",
    )


@click.command()
@signer_options
@click.argument("target_ref", metavar="TARGET")
@lang_option
@text_options
def comment(
    data_dir: Path | None,
    as_json: bool,
    key_file: Path,
    passphrase_file: Any,
    target_ref: str,
    lang: str,
    text: str,
) -> None:
    """Comment on TARGET: a proposal, an amendment, a translation, a
    ballot, or another comment (a reply); 1 to 5,000 characters. Comments
    stay open after a proposal is put to a ballot. Prints the comment's id.

    \b
    JSON fields: {EVENT}; comment (its id), target (hex).
    {FAILURE}
    """

    async def act(store: NetworkStore, key: SigningKey, now: int) -> Published:
        target = governance.resolve_target(store.state, target_ref)
        return await governance.comment(store, key, target, lang=lang, text=text, now_ms=now)

    published = run_act(data_dir, key_file, passphrase_file, as_json, act)
    document = event_document(
        published,
        comment=published.event.id.hex(),
        target=published.event.event.body["target"].hex(),
    )
    report(document, as_json, published.event.id.hex())


@click.command()
@signer_options
@click.argument("proposal_ref", metavar="PROPOSAL")
def support(
    data_dir: Path | None, as_json: bool, key_file: Path, passphrase_file: Any, proposal_ref: str
) -> None:
    """Support PROPOSAL: ask for it to be put to a vote. Once per person;
    a ballot may open on it once its support reaches the scope charter's
    support_pct of the scope's members.

    \b
    JSON fields: {EVENT}; proposal (hex), support (persons, after),
    supporters_needed.
    {FAILURE}
    """

    async def act(store: NetworkStore, key: SigningKey, now: int) -> tuple[Published, int, int]:
        proposal = governance.resolve_proposal(store.state, proposal_ref)
        published = await governance.support(store, key, proposal, now_ms=now)
        proposals = store.state.proposals
        return (
            published,
            proposals.support_count(proposal),
            proposals.supporters_needed(proposal),
        )

    published, count, needed = run_act(data_dir, key_file, passphrase_file, as_json, act)
    proposal = published.event.event.body["proposal"].hex()
    report(
        event_document(published, proposal=proposal, support=count, supporters_needed=needed),
        as_json,
        f"supported {proposal}: {count} of the {needed} supporters needed",
    )


# -- ayllu proposal --


@click.group(name="proposal")
def proposal_group() -> None:
    """Read proposals and their deliberation (to write them: ayllu propose,
    amend, translate, confirm, comment, support)."""


@proposal_group.command(name="show")
@reader_options
@click.argument("proposal_ref", metavar="PROPOSAL")
@click.option("--lang", help="Show the title and text in this language, if translated.")
def proposal_show(
    data_dir: Path | None, as_json: bool, at_ms: int | None, proposal_ref: str, lang: str | None
) -> None:
    """PROPOSAL with its amendments, translations, support and comments.

    With --lang, the title and text are shown in that language: the
    original if it is written in it, else the best-ranked translation into
    it (most confirmed, then earliest), else the original; the output says
    which.

    \b
    JSON fields: id, scope, scope_name, author, ts, lang, title, text (the original),
    amendments (each: id, author, ts, lang, title, text, translations,
    comments, shown), translations (language -> list, best first: id,
    author, ts, lang, title, text, confirmations, comments), support,
    supporters_needed, closed_by (the ballot's id or null), comments
    (each: id, target, author, ts, lang, text, replies); shown (what
    --lang selects: lang, title, text, source (original or translation),
    translation (id or null), confirmations, wanted).
    """
    at = now_ms() if at_ms is None else at_ms

    async def read(store: NetworkStore) -> dict[str, Any]:
        state = store.state
        pid = governance.resolve_proposal(state, proposal_ref)
        document = state.proposals.describe(pid, at)
        document["shown"] = governance.text_in(state, pid, lang)
        for amendment in document["amendments"]:
            amendment["shown"] = governance.text_in(state, bytes.fromhex(amendment["id"]), lang)
        document["scope_name"] = state.groups.groups[state.proposals.proposal(pid).scope].name
        return document

    document = with_store(node_dir(data_dir), read, as_json)
    if as_json:
        emit(document)
        return
    shown = document["shown"]
    click.echo(f"proposal      {document['id']}")
    click.echo(f"scope         {document['scope_name']} ({document['scope']})")
    click.echo(f"author        {document['author']}, {_when(document['ts'])}")
    click.echo(f"language      {_language(shown, document['lang'])}")
    click.echo(f"support       {document['support']} of {document['supporters_needed']} needed")
    closed = document["closed_by"]
    click.echo(f"status        {'open' if closed is None else f'put to ballot {closed}'}")
    click.echo("")
    click.echo(shown["title"])
    click.echo("")
    click.echo(shown["text"])
    for amendment in document["amendments"]:
        text = amendment["shown"]
        click.echo("")
        click.echo(
            f"amendment {short(amendment['id'])} by {short(amendment['author'])}: "
            f"{text['title']}  [{_language(text, amendment['lang'])}]"
        )
        click.echo(f"  {text['text']}")
    for code, translations in document["translations"].items():
        best = translations[0]
        click.echo(
            f"translations into {code}: {len(translations)}; best {short(best['id'])} "
            f"({best['confirmations']} confirmations)"
        )
    if document["comments"]:
        click.echo("")
        click.echo("comments:")
        _print_thread(document["comments"], 1)


def _language(shown: dict[str, Any], original: str) -> str:
    """Which text the reader sees, in words."""
    if shown["source"] == "translation":
        return (
            f"{shown['lang']}, translation {short(shown['translation'])} "
            f"({shown['confirmations']} confirmations); original in {original}"
        )
    wanted = shown["wanted"]
    if wanted is not None and wanted.lower() != original.lower():
        return f"{original} (the original: no translation into {wanted} yet)"
    return f"{original} (the original)"


def _print_thread(comments: list[dict[str, Any]], depth: int) -> None:
    for item in comments:
        click.echo(
            f"{'  ' * depth}{short(item['id'])} {short(item['author'])} [{item['lang']}]: "
            f"{item['text']}"
        )
        _print_thread(item["replies"], depth + 1)


@proposal_group.command(name="list")
@reader_options
@click.argument("group_ref", metavar="[GROUP]", required=False)
@click.option("--lang", help="Show titles in this language, where translated.")
def proposal_list(
    data_dir: Path | None, as_json: bool, at_ms: int | None, group_ref: str | None, lang: str | None
) -> None:
    """The proposals of GROUP (of every group if not given), oldest first.

    \b
    With --json, one JSON object per line and proposal: id, scope, author,
    ts, lang, title (the original's), support, supporters_needed,
    closed_by (hex or null), shown (as in 'ayllu proposal show', without
    the text).
    """

    async def read(store: NetworkStore) -> list[dict[str, Any]]:
        state = store.state
        scope = None if group_ref is None else governance.resolve_group(state, group_ref)
        rows = []
        for found in governance.proposals_of(state, scope):
            shown = governance.text_in(state, found.id, lang)
            del shown["text"]
            rows.append(
                {
                    "id": found.id.hex(),
                    "scope": found.scope.hex(),
                    "author": found.author.hex(),
                    "ts": found.ts,
                    "lang": found.lang,
                    "title": found.title,
                    "support": len(found.supporters),
                    "supporters_needed": state.proposals.supporters_needed(found.id),
                    "closed_by": None if found.closed_by is None else found.closed_by.hex(),
                    "shown": shown,
                }
            )
        return rows

    for row in with_store(node_dir(data_dir), read, as_json):
        if as_json:
            click.echo(_json_line(row))
        else:
            status = "open" if row["closed_by"] is None else "balloted"
            click.echo(
                f"{row['id'][:16]}  {status:<8}  {row['support']}/{row['supporters_needed']}  "
                f"[{row['shown']['lang']}] {row['shown']['title']}"
            )


def _json_line(row: dict[str, Any]) -> str:
    return json.dumps(row, ensure_ascii=False)


# -- ayllu ballot --


@click.group(name="ballot")
def ballot_group() -> None:
    """Open ballots, freeze their rings, read them (to vote: ayllu vote; to
    count: ayllu results).

    A ballot is opened in its scope GROUP and counted in the groups of its
    counting level below it; each counting group freezes its ring (its
    members certified at the opening) before voting opens.
    """


@ballot_group.command(name="open")
@signer_options
@click.argument("group_ref", metavar="GROUP")
@click.option("--proposal", "proposal_ref", help="Decide this proposal (it must have the support).")
@click.option(
    "--candidate",
    "candidates",
    metavar="HEXKEY",
    multiple=True,
    callback=public_keys,
    help="An election: a candidate's key; repeat for each (2 to 16).",
)
@click.option(
    "--role",
    type=click.Choice(ROLES),
    help="An election's role.  [default: coordinator]",
)
@click.option(
    "--term",
    type=click.IntRange(0, 2**32 - 1),
    help="An election's term: that of the close or the next ('ayllu role show' lists them).  "
    "[default: the term of the close]",
)
@click.option("--question", required=True, help="The question, 1 to 500 characters.")
@click.option("--lang", required=True, help="The language of the question and options.")
@click.option(
    "--option",
    "options",
    multiple=True,
    help="An option, 1 to 100 characters; repeat for each (2 to 16).  [default: yes and no "
    "in --lang (es: sí/no, qu: arí/manam, ay: jisa/janiwa, en: yes/no); for an election, "
    "each candidate's first 16 hex digits]",
)
@click.option(
    "--method",
    type=click.Choice(["single", "approval"]),
    default="single",
    show_default=True,
    help="single: at most one option per vote; approval: any number.",
)
@click.option(
    "--opens-in",
    metavar="DURATION",
    callback=duration,
    help="Voting opens this long from now (30m, 2h, 3d, ...).  [default: 1d]",
)
@click.option(
    "--opens", "opens_ms", type=int, help="Voting opens at this time (ms since the epoch)."
)
@click.option(
    "--lasts",
    metavar="DURATION",
    callback=duration,
    help="Voting lasts this long after it opens.  [default: 7d]",
)
@click.option(
    "--closes", "closes_ms", type=int, help="Voting closes at this time (ms since the epoch)."
)
@click.option(
    "--counting-level",
    type=click.IntRange(1, 32),
    help="The level of the groups that count.  [default: min(GROUP's level, 3)]",
)
def ballot_open(
    data_dir: Path | None,
    as_json: bool,
    key_file: Path,
    passphrase_file: Any,
    group_ref: str,
    proposal_ref: str | None,
    candidates: tuple[bytes, ...],
    role: str | None,
    term: int | None,
    question: str,
    lang: str,
    options: tuple[str, ...],
    method: str,
    opens_in: int | None,
    opens_ms: int | None,
    lasts: int | None,
    closes_ms: int | None,
    counting_level: int | None,
) -> None:
    """Open a ballot in GROUP (by whoever acts for it; an election to a
    vacant role, by any elector of GROUP) on exactly one of --proposal or
    --candidate... (an election to --role for --term). Its quorum and
    threshold are GROUP's charter's. An election's options are its
    candidates, in order. (A recall ballot opens by itself once its motion
    has the support: ayllu recall.) Prints the ballot's
    id; then each counting group freezes its ring before voting opens
    (ayllu ballot ring / rings).

    \b
    JSON fields: {EVENT} (group: the scope); ballot (its id), question,
    options, method, opens, closes (ms), counting_level, counting_groups
    (hex).
    {FAILURE}
    """
    if (proposal_ref is not None) == bool(candidates):
        raise click.UsageError("give exactly one of --proposal or --candidate")
    if not candidates and (role is not None or term is not None):
        raise click.UsageError("--role and --term belong to an election (--candidate)")
    if opens_in is not None and opens_ms is not None:
        raise click.UsageError("give --opens-in or --opens, not both")
    if lasts is not None and closes_ms is not None:
        raise click.UsageError("give --lasts or --closes, not both")
    chosen = list(options) or governance.default_options(lang, candidates)
    if not chosen:
        raise click.UsageError(f"no default options in {lang!r}: give them with --option")
    now = now_ms()
    opens = opens_ms if opens_ms is not None else now + (opens_in or 86_400_000)
    closes = closes_ms if closes_ms is not None else opens + (lasts or 7 * 86_400_000)

    async def act(store: NetworkStore, key: SigningKey, now: int) -> tuple[Published, list[bytes]]:
        state = store.state
        scope = governance.resolve_group(state, group_ref)
        proposal = (
            None if proposal_ref is None else governance.resolve_proposal(state, proposal_ref)
        )
        published = await governance.open_ballot(
            store,
            key,
            scope,
            question=question,
            lang=lang,
            options=chosen,
            opens=opens,
            closes=closes,
            method=method,
            counting_level=counting_level,
            proposal=proposal,
            candidates=candidates or None,
            role=role,
            term=term,
            now_ms=now,
        )
        return published, governance.counting_groups(store.state, published.event.id)

    published, counting = run_act(data_dir, key_file, passphrase_file, as_json, act)
    body = published.event.event.body
    document = event_document(
        published,
        ballot=published.event.id.hex(),
        question=question,
        options=body["options"],
        method=method,
        opens=opens,
        closes=closes,
        counting_level=body["counting_level"],
        counting_groups=[g.hex() for g in counting],
    )
    report(document, as_json, published.event.id.hex())


@ballot_group.command(name="ring")
@signer_options
@click.argument("ballot_ref", metavar="BALLOT")
@click.argument("group_ref", metavar="GROUP")
def ballot_ring(
    data_dir: Path | None,
    as_json: bool,
    key_file: Path,
    passphrase_file: Any,
    ballot_ref: str,
    group_ref: str,
) -> None:
    """Freeze the ring of GROUP, a counting group of BALLOT: the keys of its
    members certified at the opening. By any member of GROUP's subtree (the
    keys are fixed by the rules, so nobody can stall a ballot by not
    freezing them), once, before voting opens.

    \b
    JSON fields: {EVENT} (group: GROUP); ballot (hex), keys (hex,
    ascending), ring_hash (hex).
    {FAILURE}
    """

    async def act(store: NetworkStore, key: SigningKey, now: int) -> tuple[Published, str]:
        ballot = governance.resolve_ballot(store.state, ballot_ref)
        group = governance.resolve_group(store.state, group_ref)
        published = await governance.freeze_ring(store, key, ballot, group, now_ms=now)
        return published, store.state.ballots.ballots[ballot].rings[group].ring_hash.hex()

    published, ring_hash = run_act(data_dir, key_file, passphrase_file, as_json, act)
    document = _ring_document(published, ring_hash)
    report(document, as_json, _ring_text(document))


def _ring_document(published: Published, ring_hash: str) -> dict[str, Any]:
    body = published.event.event.body
    return event_document(
        published,
        ballot=body["ballot"].hex(),
        keys=[k.hex() for k in body["keys"]],
        ring_hash=ring_hash,
    )


def _ring_text(document: dict[str, Any]) -> str:
    return (
        f"froze the ring of {document['group']} for ballot {short(document['ballot'])}: "
        f"{len(document['keys'])} members"
    )


@ballot_group.command(name="rings")
@signer_options
@click.argument("ballot_ref", metavar="BALLOT")
def ballot_rings(
    data_dir: Path | None, as_json: bool, key_file: Path, passphrase_file: Any, ballot_ref: str
) -> None:
    """Freeze the rings of every counting group of BALLOT that --key acts
    for and that has none yet (for coordinators of several groups). A
    group with no certified member is left out. Each ring is its own
    event: if one is refused, those frozen before it stay.

    \b
    JSON fields: ballot (hex), rings (one per ring frozen: the fields of
    'ayllu ballot ring'), left_out (hex ids of groups with no member to
    freeze).
    {FAILURE}
    """

    async def act(
        store: NetworkStore, key: SigningKey, now: int
    ) -> tuple[bytes, list[dict[str, Any]], list[bytes]]:
        ballot = governance.resolve_ballot(store.state, ballot_ref)
        frozen, empty = await governance.freeze_rings(store, key, ballot, now_ms=now)
        rings = store.state.ballots.ballots[ballot].rings
        documents = [_ring_document(p, rings[p.event.group].ring_hash.hex()) for p in frozen]
        return ballot, documents, empty

    ballot, documents, empty = run_act(data_dir, key_file, passphrase_file, as_json, act)
    document = {"ballot": ballot.hex(), "rings": documents, "left_out": [g.hex() for g in empty]}
    lines = [_ring_text(d) for d in documents]
    lines += [f"left out {g.hex()}: no member certified at the opening" for g in empty]
    report(document, as_json, "\n".join(lines))


@ballot_group.command(name="show")
@reader_options
@click.argument("ballot_ref", metavar="BALLOT")
def ballot_show(data_dir: Path | None, as_json: bool, at_ms: int | None, ballot_ref: str) -> None:
    """BALLOT: its question, options, schedule, counting groups (ring,
    votes this node holds, result) and outcome.

    \b
    JSON fields: id, scope, scope_name, opener (hex), ts, lang, question,
    options, method, opens, closes (ms), counting_level, quorum_pct,
    threshold_pct, proposal, candidates, recall (the subject, the others
    null: a recall ballot, opened by its motion, has no lang or question),
    role (of an election or recall; null for a proposal), status
    (announced, open or closed, at --at), counting_groups (each: group,
    name, ring (id or null), ring_size, ring_hash, votes_held, result (id
    or null)), stands (bool), decided (the option's index or null),
    decided_option, at.
    """
    at = now_ms() if at_ms is None else at_ms

    async def read(store: NetworkStore) -> dict[str, Any]:
        ballot = governance.resolve_ballot(store.state, ballot_ref)
        return governance.describe_ballot(store.state, ballot, at)

    document = with_store(node_dir(data_dir), read, as_json)
    if as_json:
        emit(document)
        return
    options = ", ".join(f"{i} {o}" for i, o in enumerate(document["options"]))
    click.echo(f"ballot      {document['id']}")
    click.echo(f"scope       {document['scope_name']} ({document['scope']})")
    if document["question"] is not None:
        click.echo(f"question    {document['question']}  [{document['lang']}]")
    click.echo(f"options     {options}  ({document['method']})")
    click.echo(f"subject     {_subject(document)}")
    click.echo(f"opens       {_when(document['opens'])} ({document['opens']})")
    click.echo(f"closes      {_when(document['closes'])} ({document['closes']})")
    click.echo(f"status      {document['status']}")
    click.echo(
        f"rules       quorum {document['quorum_pct']} %, threshold {document['threshold_pct']} %,"
        f" counted at level {document['counting_level']}"
    )
    for row in document["counting_groups"]:
        ring = "no ring yet" if row["ring"] is None else f"ring of {row['ring_size']}"
        result = "no result" if row["result"] is None else f"result {short(row['result'])}"
        click.echo(
            f"  {row['name']} ({short(row['group'])}): {ring}, {row['votes_held']} votes held, "
            f"{result}"
        )
    click.echo(f"outcome     {_outcome_text(document)}")


def _subject(document: dict[str, Any]) -> str:
    if document["proposal"] is not None:
        return f"proposal {document['proposal']}"
    if document["candidates"] is not None:
        return f"election of the {document['role']} among {len(document['candidates'])} candidates"
    return f"recall of the {document['role']} {document['recall']}"


def _outcome_text(document: dict[str, Any]) -> str:
    if not document["stands"]:
        return "not yet: the scope has published no result"
    if document["decided"] is None:
        return "the result stands and decides nothing (no quorum, threshold or single winner)"
    return f"decided: {document['decided_option']} (option {document['decided']})"


@ballot_group.command(name="list")
@reader_options
@click.argument("group_ref", metavar="[GROUP]", required=False)
def ballot_list(
    data_dir: Path | None, as_json: bool, at_ms: int | None, group_ref: str | None
) -> None:
    """The ballots opened in GROUP (in every group if not given), oldest first.

    \b
    With --json, one JSON object per line and ballot: id, scope, question,
    options, opens, closes, status (at --at), stands, decided_option.
    """
    at = now_ms() if at_ms is None else at_ms

    async def read(store: NetworkStore) -> list[dict[str, Any]]:
        state = store.state
        scope = None if group_ref is None else governance.resolve_group(state, group_ref)
        return [_ballot_row(state, found.id, at) for found in governance.ballots_of(state, scope)]

    for row in with_store(node_dir(data_dir), read, as_json):
        if as_json:
            click.echo(_json_line(row))
        else:
            decided = "" if row["decided_option"] is None else f"  -> {row['decided_option']}"
            click.echo(f"{row['id'][:16]}  {row['status']:<9}  {row['question']}{decided}")


def _ballot_row(state: NetworkState, ballot_id: bytes, at: int) -> dict[str, Any]:
    described = governance.describe_ballot(state, ballot_id, at)
    fields = ("id", "scope", "question", "options", "opens", "closes", "status", "stands")
    return {name: described[name] for name in (*fields, "decided_option")}


# -- ayllu vote --


@click.command()
@signer_options
@click.argument("ballot_ref", metavar="BALLOT")
@click.option(
    "--choice",
    "choices",
    multiple=True,
    help="An option, by its index (0, 1, ...) or its text; repeat for an approval ballot.",
)
@click.option("--abstain", is_flag=True, help="Vote, choosing no option.")
def vote(
    data_dir: Path | None,
    as_json: bool,
    key_file: Path,
    passphrase_file: Any,
    ballot_ref: str,
    choices: tuple[str, ...],
    abstain: bool,
) -> None:
    """Vote in secret on BALLOT, in your counting group, between its opening
    and its close. You may vote again until the close: your last vote
    counts, and nobody can tell that you voted again.

    --key makes only the vote's ring signature ("one of the members of
    this ring"); the event is signed by a one-time key drawn for this vote,
    and neither your key nor your certificate appears in it.

    \b
    JSON fields: {EVENT} (author: the one-time key; group: your counting
    group); ballot (hex), choice (indexes), chosen (the options' texts),
    key_image (hex: the same in every vote of yours in this ballot).
    {FAILURE}
    """
    if abstain == bool(choices):
        raise click.UsageError("give --choice (one or more) or --abstain")

    async def act(store: NetworkStore, key: SigningKey, now: int) -> tuple[Cast, list[str]]:
        state = store.state
        ballot = governance.resolve_ballot(state, ballot_ref)
        indexes = [governance.resolve_choice(state, ballot, text) for text in choices]
        cast = await governance.cast_vote(store, key, ballot, indexes, now_ms=now)
        return cast, _options(store, ballot)

    cast, options = run_act(data_dir, key_file, passphrase_file, as_json, act)
    body = cast.published.event.event.body
    chosen = [options[i] for i in body["choice"]]
    document = event_document(
        cast.published,
        ballot=body["ballot"].hex(),
        choice=list(body["choice"]),
        chosen=chosen,
        key_image=cast.key_image.hex(),
    )
    what = ", ".join(chosen) if chosen else "no option (abstention)"
    report(
        document,
        as_json,
        f"voted in ballot {short(body['ballot'])} (counting group {short(cast.group)}): {what}",
    )


def _options(store: NetworkStore, ballot: bytes) -> list[str]:
    return list(store.state.ballots.ballots[ballot].options)


# -- ayllu results --


@click.group(name="results")
def results_group() -> None:
    """Count a ballot's votes and add up its results along the fractal.

    After the close, each counting group publishes its count (results
    count), then each group above, up to the scope, the sum of its
    children's results (results sum); the decision stands once the scope's
    own result is applied.
    """


@results_group.command(name="count")
@signer_options
@click.argument("ballot_ref", metavar="BALLOT")
@click.argument("group_ref", metavar="GROUP")
def results_count(
    data_dir: Path | None,
    as_json: bool,
    key_file: Path,
    passphrase_file: Any,
    ballot_ref: str,
    group_ref: str,
) -> None:
    """Publish the count of GROUP, a counting group of BALLOT, after the
    close (by whoever acts for GROUP; for a recall, also by any of its
    electors): the votes of its ring this node
    holds, each voter's last vote once.

    \b
    JSON fields: {EVENT}; ballot (hex), counts (per option), voters,
    eligible (the ring's size), ring_hash, votes_hash (hex).
    {FAILURE}
    """

    async def act(store: NetworkStore, key: SigningKey, now: int) -> tuple[Published, list[str]]:
        ballot = governance.resolve_ballot(store.state, ballot_ref)
        group = governance.resolve_group(store.state, group_ref)
        published = await governance.count_result(store, key, ballot, group, now_ms=now)
        return published, _options(store, ballot)

    published, options = run_act(data_dir, key_file, passphrase_file, as_json, act)
    body = published.event.event.body
    document = event_document(
        published,
        ballot=body["ballot"].hex(),
        counts=list(body["counts"]),
        voters=body["voters"],
        eligible=body["eligible"],
        ring_hash=body["ring_hash"].hex(),
        votes_hash=body["votes_hash"].hex(),
    )
    report(document, as_json, f"counted {short(published.event.group)}: {_counts(body, options)}")


@results_group.command(name="sum")
@signer_options
@click.argument("ballot_ref", metavar="BALLOT")
@click.argument("group_ref", metavar="GROUP")
def results_sum(
    data_dir: Path | None,
    as_json: bool,
    key_file: Path,
    passphrase_file: Any,
    ballot_ref: str,
    group_ref: str,
) -> None:
    """Publish the sum of GROUP, above BALLOT's counting level, after the
    close (by whoever acts for GROUP; for a recall, also by any of its
    electors): the results of all its children, which must be applied
    first (else refused, bad_result, naming those missing).

    \b
    JSON fields: {EVENT}; ballot (hex), parts (the children's results,
    hex), counts, voters, eligible.
    {FAILURE}
    """

    async def act(store: NetworkStore, key: SigningKey, now: int) -> tuple[Published, list[str]]:
        ballot = governance.resolve_ballot(store.state, ballot_ref)
        group = governance.resolve_group(store.state, group_ref)
        published = await governance.sum_result(store, key, ballot, group, now_ms=now)
        return published, _options(store, ballot)

    published, options = run_act(data_dir, key_file, passphrase_file, as_json, act)
    body = published.event.event.body
    document = event_document(
        published,
        ballot=body["ballot"].hex(),
        parts=[p.hex() for p in body["parts"]],
        counts=list(body["counts"]),
        voters=body["voters"],
        eligible=body["eligible"],
    )
    report(document, as_json, f"summed {short(published.event.group)}: {_counts(body, options)}")


def _counts(result: Mapping[str, Any], options: list[str]) -> str:
    counts = ", ".join(f"{o} {c}" for o, c in zip(options, result["counts"], strict=True))
    return f"{counts}; {result['voters']} voters of {result['eligible']} eligible"


@results_group.command(name="show")
@reader_options
@click.argument("ballot_ref", metavar="BALLOT")
def results_show(data_dir: Path | None, as_json: bool, at_ms: int | None, ballot_ref: str) -> None:
    """Where BALLOT stands: the results published at each level, from the
    counting level up to the scope, whether each was verified, whether the
    decision stands and what it decided, and any evidence of false results.

    \b
    JSON fields: ballot, scope (hex), options, stands (bool), results (by
    group: id, counts, voters, eligible, verified: true, or null when this
    node holds none of the votes or parts), rings (by group: ring hash);
    when it stands: counts, voters, eligible, quorum_met, decided (the
    option's index or null), decided_option; levels (from the counting
    level up: level, groups (each: group, name, result or null)); evidence
    (each: kind, ballot, group, events, detail).
    """

    async def read(store: NetworkStore) -> dict[str, Any]:
        ballot = governance.resolve_ballot(store.state, ballot_ref)
        return governance.describe_results(store.state, ballot)

    document = with_store(node_dir(data_dir), read, as_json)
    if as_json:
        emit(document)
        return
    options = document["options"]
    click.echo(f"ballot  {document['ballot']}")
    for level in document["levels"]:
        click.echo(f"level {level['level']}:")
        for row in level["groups"]:
            result = row["result"]
            if result is None:
                click.echo(f"  {row['name']} ({short(row['group'])}): no result yet")
                continue
            verified = (
                "verified"
                if result["verified"]
                else "unverified (this node holds none of its votes or parts)"
            )
            click.echo(
                f"  {row['name']} ({short(row['group'])}): {_counts(result, options)}; {verified}"
            )
    for piece in document["evidence"]:
        click.echo(
            f"evidence: {piece['kind']} by {short(piece['group'])}: {piece['detail']} "
            f"(events {', '.join(short(e) for e in piece['events'])})"
        )
    if not document["stands"]:
        click.echo("the decision does not stand yet: the scope has published no result")
        return
    quorum = "met" if document["quorum_met"] else "not met"
    click.echo(
        f"the result stands: {document['voters']} voters of {document['eligible']} eligible, "
        f"quorum {quorum}"
    )
    if document["decided"] is None:
        click.echo("decided: nothing (no quorum, no single winner, or below the threshold)")
    else:
        click.echo(f"decided: {document['decided_option']} (option {document['decided']})")


#: The commands and command groups of this module, for node/cli.py.
BALLOT_COMMANDS = (
    propose,
    amend,
    translate,
    confirm,
    comment,
    support,
    proposal_group,
    ballot_group,
    vote,
    results_group,
)

for _command in (
    propose,
    amend,
    translate,
    confirm,
    comment,
    support,
    ballot_open,
    ballot_ring,
    ballot_rings,
    vote,
    results_count,
    results_sum,
):
    _command.help = command_help(_command.help or "")
