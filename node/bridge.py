"""Human bridges: events carried between networks' islands in bundles.

Many communities are offline for days. A person carries what they lack
on a USB stick or a phone: ``export`` writes a bundle (protocol/bundle.py,
specs/bundle.md) of the events of some groups, or all, optionally since a
date and minus what the other side already holds (an id list it made with
``write_ids``), with every event those events refer to that the other side
may lack; ``import`` ingests a bundle through the same validation path as
every event, so a tampered or truncated bundle loses nothing that is
intact, and the report says what was not taken and why.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import trio

from node.files import write_atomically
from node.ingest import ingest_settling
from protocol.bundle import EVENTS_FORMAT, IDS_FORMAT, BundleReader, Header, write_bundle
from protocol.errors import LocalError, Reason, Rejected
from protocol.event import parse_event
from protocol.topics import sync_scope
from storage.interface import MAX_LIMIT, Key, StoredEvent
from storage.state import NetworkStore

#: Bytes read from a bundle file at a time, and events ingested at a time.
READ_CHUNK = 1 << 16
IMPORT_BATCH = 500
#: Groups a selection may name (each brings its path, siblings and subtree).
MAX_SELECTED_GROUPS = 1 << 20


@dataclass
class Exported:
    path: Path
    events: int
    bytes: int


@dataclass
class Imported:
    """What an import did: counts by outcome and by reason code, and what
    was wrong with the bundle as a whole (cut short, not a bundle), if
    anything."""

    header: Header | None = None
    counts: dict[str, int] = field(default_factory=dict)
    reasons: dict[str, int] = field(default_factory=dict)
    problem: str | None = None

    def describe(self) -> dict[str, Any]:
        header = self.header
        return {
            "made_ms": None if header is None else header.made_ms,
            "declared": None if header is None else header.count,
            "counts": self.counts,
            "reasons": self.reasons,
            "problem": self.problem,
        }


async def select(
    store: NetworkStore,
    *,
    groups: Collection[bytes] = (),
    since_ms: int | None = None,
    have: Collection[bytes] = frozenset(),
) -> list[bytes]:
    """The events a bridge carries, in key order (what an event refers to
    comes before it): those of ``groups`` as their nodes sync them (each
    group's path, siblings and subtree; all events if none is named), from
    ``since_ms``, and every event they refer to, less what ``have`` holds."""
    state = store.state
    unknown = [g for g in groups if g not in state.groups.groups]
    if unknown:
        raise Rejected(Reason.UNKNOWN_GROUP, f"no group {unknown[0].hex()}")
    scope = sync_scope(state.groups, groups, MAX_SELECTED_GROUPS) if groups else None
    wanted = None if scope is None else set(scope)
    chosen: dict[bytes, StoredEvent] = {}
    after: Key | None = None
    while page := await store.events.query(since_ts=since_ms, after=after, limit=MAX_LIMIT):
        for row in page:
            if (wanted is None or row.group in wanted) and row.id not in have:
                chosen[row.id] = row
        after = page[-1].key
    # Close over refs: an event is of no use to a node lacking what it refers to.
    frontier = list(chosen.values())
    while frontier:
        refs = {
            ref
            for row in frontier
            for ref in parse_event(row.raw).refs
            if ref not in chosen and ref not in have
        }
        found = await store.events.get_many(refs)
        frontier = []
        for ref, raw in found.items():
            event = parse_event(raw)
            row = StoredEvent(ref, event.ts, event.kind, event.group, event.author, raw)
            chosen[ref] = row
            frontier.append(row)
    return [row.raw for row in sorted(chosen.values(), key=lambda row: row.key)]


async def export(
    store: NetworkStore,
    path: Path,
    *,
    now_ms: int,
    groups: Collection[bytes] = (),
    since_ms: int | None = None,
    have: Collection[bytes] = frozenset(),
) -> Exported:
    """Write the bundle ``select`` gives to ``path`` (all of it, or nothing)."""
    raws = await select(store, groups=groups, since_ms=since_ms, have=have)
    return await _write(store, path, EVENTS_FORMAT, raws, groups, since_ms, now_ms)


async def write_ids(
    store: NetworkStore,
    path: Path,
    *,
    now_ms: int,
    groups: Collection[bytes] = (),
    since_ms: int | None = None,
) -> Exported:
    """An id list of what this node holds (of ``groups``, since ``since_ms``),
    for the other side to export only what this one lacks."""
    raws = await select(store, groups=groups, since_ms=since_ms)
    ids = [parse_event(raw).id for raw in raws]
    return await _write(store, path, IDS_FORMAT, ids, groups, since_ms, now_ms)


async def read_ids(path: Path, network_id: bytes) -> set[bytes]:
    """The ids of an id list made by ``write_ids`` on a node of this network."""
    reader = BundleReader()
    ids: set[bytes] = set()
    async with await trio.open_file(path, "rb") as file:
        while chunk := await file.read(READ_CHUNK):
            ids.update(reader.feed(chunk))
    _check_header(reader.header, IDS_FORMAT, network_id)
    problem = reader.finish()
    if problem is not None:
        raise Rejected(Reason.BAD_BUNDLE, f"{path}: {problem}")
    return ids


async def import_bundle(
    store: NetworkStore,
    path: Path,
    *,
    now_ms: int,
    progress: Callable[[int], None] | None = None,
) -> Imported:
    """Ingest every intact event of the bundle at ``path``, in batches;
    ``progress`` hears of each chunk of bytes read (a progress bar)."""
    reader = BundleReader()
    report = Imported()
    pending: list[bytes] = []
    net = store.genesis.network_id
    try:
        async with await trio.open_file(path, "rb") as file:
            while chunk := await file.read(READ_CHUNK):
                if progress is not None:
                    progress(len(chunk))
                pending.extend(reader.feed(chunk))
                if reader.header is not None and report.header is None:
                    _check_header(reader.header, EVENTS_FORMAT, net)
                    report.header = reader.header
                if len(pending) >= IMPORT_BATCH:
                    pending = await _ingest(store, pending, now_ms, net, report)
        report.problem = reader.finish()
    except Rejected as exc:
        if exc.reason is not Reason.BAD_BUNDLE:
            raise
        report.problem = exc.detail
    held = await _ingest(store, pending, now_ms, net, report)
    if held:
        report.counts["held"] = report.counts.get("held", 0) + len(held)
    return report


async def _ingest(
    store: NetworkStore, raws: list[bytes], now_ms: int, net: bytes, report: Imported
) -> list[bytes]:
    """Ingest a batch; what waits for refs is carried to the next batch."""
    if not raws:
        return []
    settled = await ingest_settling(store, raws, now_ms, net)
    for name, number in settled.counts.items():
        if name != "held":
            report.counts[name] = report.counts.get(name, 0) + number
    for reason, number in [*settled.rejected.items(), *settled.refused.items()]:
        report.reasons[reason] = report.reasons.get(reason, 0) + number
    return settled.held


def _check_header(header: Header | None, form: str, network_id: bytes) -> None:
    if header is None:
        raise Rejected(Reason.BAD_BUNDLE, "no header: not a bundle")
    if header.format != form:
        raise LocalError(f"this file is an {header.format!r} file, not an {form!r} one")
    if header.net != network_id:
        raise Rejected(
            Reason.WRONG_NETWORK, f"the bundle is of network {header.net.hex()}, not this node's"
        )


async def _write(
    store: NetworkStore,
    path: Path,
    form: str,
    items: list[bytes],
    groups: Collection[bytes],
    since_ms: int | None,
    now_ms: int,
) -> Exported:
    """A bundle or id list of ``items``, written whole or not at all."""
    net = store.genesis.network_id
    header = Header(form, net, now_ms, len(items), tuple(sorted(groups)), since_ms)
    chunks = write_bundle(header, items)
    written = await trio.to_thread.run_sync(partial(write_atomically, path, chunks, mode=0o644))
    return Exported(path, len(items), written)
