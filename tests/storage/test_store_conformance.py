"""The EventStore contract, checked on both stores (the ``store`` fixture)."""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable
from functools import partial
from typing import Any

import pytest
import trio
import trio.testing
from event_factory import (
    ALICE,
    BOB,
    GROUP_A,
    GROUP_B,
    NOW_MS,
    author_of,
    note,
    peer_record,
)

import storage.ingest
from protocol.errors import LocalError, Reason
from protocol.event import SignedEvent
from protocol.fingerprint import fingerprint
from protocol.reconcile import RangeSource, Reconciler, SortedKeys
from protocol.validation import MAX_CLOCK_SKEW_MS, StateView, check_against_state
from storage import (
    MAX_LIMIT,
    CachedPeer,
    EventStore,
    IngestResult,
    IngestStatus,
    Key,
    RangeSummary,
    StoredEvent,
)
from storage.interface import CACHED_PEER_TTL_MS, MAX_CACHED_PEERS

ACCEPTED = IngestStatus.ACCEPTED
DUPLICATE = IngestStatus.DUPLICATE
REJECTED = IngestStatus.REJECTED
UNKNOWN_ID = bytes(range(32))

#: Which events of the corpus a query should return.
Keep = Callable[[SignedEvent], bool]


def statuses(results: list[IngestResult]) -> list[IngestStatus]:
    return [result.status for result in results]


def key(event: SignedEvent) -> Key:
    return (event.ts, event.id)


# -- ingest -------------------------------------------------------------------


async def test_accept_then_duplicate(store: EventStore) -> None:
    event = note(NOW_MS - 1000)
    assert await store.ingest([event], NOW_MS) == [IngestResult(event.id, ACCEPTED)]
    assert await store.ingest([event], NOW_MS) == [IngestResult(event.id, DUPLICATE)]
    assert await store.count() == 1
    assert await store.get(event.id) == event.raw


async def test_duplicates_within_one_batch_are_stored_once(store: EventStore) -> None:
    a, b = note(NOW_MS - 2000), note(NOW_MS - 1000)
    results = await store.ingest([a, a, b, a, b], NOW_MS)
    assert [r.id for r in results] == [a.id, a.id, b.id, a.id, b.id]
    assert statuses(results) == [ACCEPTED, DUPLICATE, ACCEPTED, DUPLICATE, DUPLICATE]
    assert await store.count() == 2


async def test_empty_batch(store: EventStore) -> None:
    assert await store.ingest([], NOW_MS) == []
    assert await store.count() == 0


async def test_ref_to_an_event_stored_earlier(store: EventStore) -> None:
    parent = note(NOW_MS - 2000)
    child = note(NOW_MS - 1000, refs=[parent.id])
    await store.ingest([parent], NOW_MS)
    assert statuses(await store.ingest([child], NOW_MS)) == [ACCEPTED]
    assert await store.has([parent.id, child.id]) == {parent.id, child.id}


async def test_ref_to_an_event_earlier_in_the_same_batch(store: EventStore) -> None:
    parent = note(NOW_MS - 3000)
    child = note(NOW_MS - 2000, refs=[parent.id])
    grandchild = note(NOW_MS - 1000, key=BOB, refs=[parent.id, child.id])
    results = await store.ingest([parent, child, grandchild], NOW_MS)
    assert statuses(results) == [ACCEPTED, ACCEPTED, ACCEPTED]
    assert await store.count() == 3


async def test_ref_to_an_event_later_in_the_batch_is_missing(store: EventStore) -> None:
    parent = note(NOW_MS - 2000)
    child = note(NOW_MS - 1000, refs=[parent.id])
    results = await store.ingest([child, parent], NOW_MS)
    assert statuses(results) == [REJECTED, ACCEPTED]
    assert results[0].reason is Reason.MISSING_REFS
    assert await store.has([child.id, parent.id]) == {parent.id}


async def test_missing_refs_are_rejected_and_not_stored(store: EventStore) -> None:
    stored = note(NOW_MS - 3000)
    await store.ingest([stored], NOW_MS)
    orphan = note(NOW_MS - 1000, refs=[stored.id, UNKNOWN_ID])
    [result] = await store.ingest([orphan], NOW_MS)
    assert result.status is REJECTED
    assert result.reason is Reason.MISSING_REFS
    assert result.detail == UNKNOWN_ID.hex()  # only the missing one is named
    assert await store.get(orphan.id) is None
    assert await store.has([orphan.id]) == set()
    assert await store.count() == 1
    assert [e.id for e in await store.query()] == [stored.id]


async def test_a_rejected_event_is_not_a_ref_for_later_ones(store: EventStore) -> None:
    orphan = note(NOW_MS - 2000, refs=[UNKNOWN_ID])
    child = note(NOW_MS - 1000, refs=[orphan.id])
    results = await store.ingest([orphan, child], NOW_MS)
    assert [(r.status, r.reason) for r in results] == [
        (REJECTED, Reason.MISSING_REFS),
        (REJECTED, Reason.MISSING_REFS),
    ]
    assert await store.count() == 0


async def test_a_rejected_copy_is_checked_again_later_in_the_batch(store: EventStore) -> None:
    # The batch behaves as if ingested one event at a time: the second copy
    # of ``child`` comes after its parent, so it is accepted, not a duplicate.
    parent = note(NOW_MS - 2000)
    child = note(NOW_MS - 1000, refs=[parent.id])
    results = await store.ingest([child, parent, child, child], NOW_MS)
    assert statuses(results) == [REJECTED, ACCEPTED, ACCEPTED, DUPLICATE]
    assert await store.count() == 2


async def test_ts_before_ref(store: EventStore) -> None:
    parent = note(NOW_MS - 1000)
    older_child = note(NOW_MS - 2000, refs=[parent.id])
    same_ts_child = note(NOW_MS - 1000, key=BOB, refs=[parent.id])
    younger_child = note(NOW_MS - 999, refs=[parent.id])
    results = await store.ingest([parent, older_child, same_ts_child, younger_child], NOW_MS)
    assert statuses(results) == [ACCEPTED, REJECTED, REJECTED, ACCEPTED]
    assert results[1].reason is results[2].reason is Reason.TS_BEFORE_REF
    assert parent.id.hex() in results[1].detail
    assert await store.has([older_child.id, same_ts_child.id]) == set()


async def test_ts_in_future_depends_on_now(store: EventStore) -> None:
    edge = note(NOW_MS + MAX_CLOCK_SKEW_MS)
    beyond = note(NOW_MS + MAX_CLOCK_SKEW_MS + 1)
    results = await store.ingest([edge, beyond], NOW_MS)
    assert statuses(results) == [ACCEPTED, REJECTED]
    assert results[1].reason is Reason.TS_IN_FUTURE
    assert await store.has([beyond.id]) == set()
    # The same event is fine once the clock has moved on.
    assert statuses(await store.ingest([beyond], NOW_MS + 1)) == [ACCEPTED]


async def test_results_follow_the_input_order(store: EventStore) -> None:
    events = [note(NOW_MS - 1000 * i, text=f"n{i}") for i in range(1, 8)]
    orphan = note(NOW_MS - 500, refs=[UNKNOWN_ID])
    batch = [events[3], orphan, *events, orphan]
    results = await store.ingest(batch, NOW_MS)
    assert [r.id for r in results] == [e.id for e in batch]
    assert statuses(results) == [ACCEPTED, REJECTED] + [ACCEPTED] * 3 + [DUPLICATE] + [
        ACCEPTED
    ] * 3 + [REJECTED]
    assert all(r.reason is None and r.detail == "" for r in results if r.status != REJECTED)


async def test_the_view_sees_committed_and_batch_events(
    store: EventStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Validation may ask about any id, not only the refs the store prefetches.
    committed = note(NOW_MS - 3000)
    await store.ingest([committed], NOW_MS)
    first, second = note(NOW_MS - 2000, key=BOB), note(NOW_MS - 1000, key=BOB)
    seen: list[tuple[int | None, int | None, int | None]] = []

    def spying_check(event: SignedEvent, view: StateView, now_ms: int) -> None:
        seen.append(
            (view.event_ts(committed.id), view.event_ts(first.id), view.event_ts(UNKNOWN_ID))
        )
        check_against_state(event, view, now_ms)

    monkeypatch.setattr(storage.ingest, "check_against_state", spying_check)
    assert statuses(await store.ingest([first, second], NOW_MS)) == [ACCEPTED, ACCEPTED]
    assert seen == [(committed.ts, None, None), (committed.ts, first.ts, None)]


async def test_concurrent_ingests_store_each_event_once(store: EventStore) -> None:
    events = [note(NOW_MS - 1000 * i, text=f"c{i}") for i in range(1, 21)]
    outcomes: list[list[IngestResult]] = []

    async def ingest(batch: list[SignedEvent]) -> None:
        outcomes.append(await store.ingest(batch, NOW_MS))

    async with trio.open_nursery() as nursery:
        nursery.start_soon(ingest, events[:15])
        nursery.start_soon(ingest, events[5:])
        nursery.start_soon(ingest, events[::-1])
    accepted = [r.id for results in outcomes for r in results if r.status is ACCEPTED]
    assert sorted(accepted) == sorted(e.id for e in events)  # each accepted exactly once
    assert await store.count() == len(events)


# -- reads --------------------------------------------------------------------


async def test_get_get_many_has(store: EventStore) -> None:
    a, b = note(NOW_MS - 2000), note(NOW_MS - 1000, key=BOB)
    await store.ingest([a, b], NOW_MS)
    assert await store.get(a.id) == a.raw
    assert await store.get(UNKNOWN_ID) is None
    assert await store.get_many([a.id, UNKNOWN_ID, b.id, a.id]) == {a.id: a.raw, b.id: b.raw}
    assert await store.get_many([]) == {}
    assert await store.has([UNKNOWN_ID, b.id, b.id]) == {b.id}
    assert await store.has(iter([a.id])) == {a.id}
    assert await store.has([]) == set()


async def test_get_many_beyond_one_sql_chunk(store: EventStore) -> None:
    events = [note(NOW_MS - i, text=f"m{i}") for i in range(1, 1201)]
    await store.ingest(events, NOW_MS)
    unknown = [i.to_bytes(32, "big") for i in range(300)]
    wanted = [e.id for e in events] + unknown
    assert await store.get_many(wanted) == {e.id: e.raw for e in events}
    assert await store.has(wanted) == {e.id for e in events}
    assert await store.count() == 1200


def _corpus() -> list[SignedEvent]:
    """Events over two groups, two authors and two kinds, with ts ties."""
    events = []
    for i in range(24):
        ts = NOW_MS - 100_000 + (i // 3) * 1000  # three events per timestamp
        key_ = ALICE if i % 2 else BOB
        group = GROUP_A if i % 3 else GROUP_B
        if i % 5 == 0:
            events.append(peer_record(ts, key=key_, group=group))
        else:
            events.append(note(ts, key=key_, group=group, text=f"corpus {i}"))
    return events


CORPUS = _corpus()
BY_KEY = sorted(CORPUS, key=key)


@pytest.mark.parametrize(
    ("filters", "keep"),
    [
        ({}, lambda e: True),
        ({"group": GROUP_A}, lambda e: e.group == GROUP_A),
        ({"group": GROUP_B}, lambda e: e.group == GROUP_B),
        ({"kind": "peer.record"}, lambda e: e.kind == "peer.record"),
        ({"kind": "note"}, lambda e: e.kind == "note"),
        ({"author": author_of(ALICE)}, lambda e: e.author == author_of(ALICE)),
        (
            {"group": GROUP_A, "author": author_of(BOB), "kind": "note"},
            lambda e: e.group == GROUP_A and e.author == author_of(BOB) and e.kind == "note",
        ),
        ({"since_ts": NOW_MS - 97_000}, lambda e: e.ts >= NOW_MS - 97_000),
        ({"until_ts": NOW_MS - 97_000}, lambda e: e.ts < NOW_MS - 97_000),
        (
            {"since_ts": NOW_MS - 98_000, "until_ts": NOW_MS - 95_000, "group": GROUP_A},
            lambda e: NOW_MS - 98_000 <= e.ts < NOW_MS - 95_000 and e.group == GROUP_A,
        ),
        ({"kind": "absent.kind"}, lambda e: False),
        ({"since_ts": NOW_MS}, lambda e: False),
    ],
)
async def test_query_filters(store: EventStore, filters: dict[str, Any], keep: Keep) -> None:
    await store.ingest(CORPUS, NOW_MS)
    expected = [e for e in BY_KEY if keep(e)]
    found = await store.query(**filters)
    assert [s.id for s in found] == [e.id for e in expected]
    assert found == [StoredEvent(e.id, e.ts, e.kind, e.group, e.author, e.raw) for e in expected]


async def test_query_orders_by_ts_then_id(store: EventStore) -> None:
    await store.ingest(CORPUS[::-1], NOW_MS)
    keys = [s.key for s in await store.query()]
    assert keys == sorted(keys) == [key(e) for e in BY_KEY]
    assert len({ts for ts, _ in keys}) < len(keys)  # the corpus does have ties


@pytest.mark.parametrize("page", [1, 2, 5, 24, 100])
@pytest.mark.parametrize(
    ("filters", "keep"),
    [
        ({}, lambda e: True),
        ({"group": GROUP_A}, lambda e: e.group == GROUP_A),
        ({"since_ts": NOW_MS - 95_000}, lambda e: e.ts >= NOW_MS - 95_000),
        (
            {"author": author_of(ALICE), "until_ts": NOW_MS - 93_000},
            lambda e: e.author == author_of(ALICE) and e.ts < NOW_MS - 93_000,
        ),
    ],
)
async def test_query_cursor_pagination(
    store: EventStore, page: int, filters: dict[str, Any], keep: Keep
) -> None:
    await store.ingest(CORPUS, NOW_MS)
    collected: list[StoredEvent] = []
    cursor: Key | None = None
    for _ in range(len(CORPUS) + 2):
        batch = await store.query(**filters, after=cursor, limit=page)
        assert len(batch) <= page
        collected.extend(batch)
        if len(batch) < page:
            break
        cursor = batch[-1].key
    assert [s.id for s in collected] == [e.id for e in BY_KEY if keep(e)]


async def test_query_cursor_with_since_ts(store: EventStore) -> None:
    await store.ingest(CORPUS, NOW_MS)
    middle = BY_KEY[10]
    # A cursor below since_ts: since_ts bounds.
    found = await store.query(since_ts=middle.ts, after=key(BY_KEY[2]))
    assert [s.id for s in found] == [e.id for e in BY_KEY if e.ts >= middle.ts]
    # A cursor above since_ts: the cursor bounds, exclusively.
    found = await store.query(since_ts=BY_KEY[2].ts, after=key(middle))
    assert [s.id for s in found] == [e.id for e in BY_KEY[11:]]
    # A cursor between ids of one timestamp.
    found = await store.query(after=(middle.ts, b""), until_ts=middle.ts + 1)
    assert [s.id for s in found] == [e.id for e in BY_KEY if e.ts == middle.ts]


@pytest.mark.parametrize("limit", [0, -1, MAX_LIMIT + 1, True, 2.0])
async def test_query_limit_out_of_range(store: EventStore, limit: int) -> None:
    with pytest.raises(LocalError):
        await store.query(limit=limit)
    with pytest.raises(LocalError):
        await store.range_keys((0, b""), None, limit)


async def test_query_limit(store: EventStore) -> None:
    await store.ingest(CORPUS, NOW_MS)
    assert [s.id for s in await store.query(limit=4)] == [e.id for e in BY_KEY[:4]]
    assert len(await store.query(limit=MAX_LIMIT)) == len(CORPUS)


# -- ranges -------------------------------------------------------------------


def _in_range(keys: list[Key], lower: Key, upper: Key | None) -> list[Key]:
    return [k for k in keys if lower <= k and (upper is None or k < upper)]


async def test_range_summary_matches_the_fingerprint_definition(store: EventStore) -> None:
    rng = random.Random(20240601)
    events = [
        note(NOW_MS - rng.randrange(0, 60) * 1000, key=rng.choice([ALICE, BOB]), text=f"r{i}")
        for i in range(150)
    ]
    await store.ingest(events, NOW_MS)
    keys = sorted({key(e) for e in events})
    assert len(keys) == 150
    probes: list[tuple[Key, Key | None]] = [
        ((0, b""), None),
        ((0, b""), (0, b"")),
        (keys[0], None),
        (keys[0], keys[-1]),
        (keys[-1], None),
        ((keys[-1][0] + 1, b""), None),
        (keys[40], keys[10]),  # lower above upper: empty
        ((keys[20][0], b""), (keys[20][0], b"\xff" * 33)),  # one whole timestamp
    ]
    for _ in range(40):
        lower = rng.choice(keys) if rng.random() < 0.5 else (rng.choice(keys)[0], b"")
        upper = None if rng.random() < 0.2 else rng.choice(keys)
        probes.append((lower, upper))
    for lower, upper in probes:
        expected = _in_range(keys, lower, upper)
        summary = await store.range_summary(lower, upper)
        assert summary.count == len(expected), (lower, upper)
        assert summary.fingerprint == fingerprint(eid for _, eid in expected), (lower, upper)
        assert await store.range_keys(lower, upper, MAX_LIMIT) == expected


async def test_range_summary_of_an_empty_store(store: EventStore) -> None:
    summary = await store.range_summary((0, b""), None)
    assert summary.count == 0
    assert summary.fingerprint == fingerprint([])


async def test_range_summary_wraps_modulo_2_256(store: EventStore) -> None:
    # Every limb sum carries: the SQL aggregate must fold carries like the
    # definition does. Ids are hashes, so pick events whose ids are large.
    events = [note(NOW_MS - i, text=f"w{i}") for i in range(400)]
    big = [e for e in events if e.id[-1] >= 0xC0][:40]
    assert len(big) >= 20
    await store.ingest(big, NOW_MS)
    summary = await store.range_summary((0, b""), None)
    assert summary == RangeSummary(len(big), fingerprint(e.id for e in big))
    assert sum(int.from_bytes(e.id, "little") for e in big) >= 2**256  # it did wrap


async def test_range_keys_limit_and_bounds(store: EventStore) -> None:
    await store.ingest(CORPUS, NOW_MS)
    keys = [key(e) for e in BY_KEY]
    assert await store.range_keys((0, b""), None, 5) == keys[:5]
    assert await store.range_keys(keys[3], keys[9], 100) == keys[3:9]  # lower in, upper out
    assert await store.range_keys(keys[3], keys[9], 2) == keys[3:5]
    assert await store.range_keys(keys[9], keys[3], 100) == []


# -- lifecycle ----------------------------------------------------------------


async def test_closed_store_refuses_calls(store: EventStore) -> None:
    await store.close()
    await store.close()  # idempotent
    with pytest.raises(LocalError):
        await store.count()
    with pytest.raises(LocalError):
        await store.ingest([note(NOW_MS)], NOW_MS)


async def test_close_lets_the_calls_made_before_it_finish(store: EventStore) -> None:
    first = [note(NOW_MS - i, text=f"f{i}") for i in range(1, 201)]
    second = [note(NOW_MS - i, key=BOB, text=f"s{i}") for i in range(1, 201)]
    results: list[IngestResult] = []

    async def ingest(batch: list[SignedEvent]) -> None:
        results.extend(await store.ingest(batch, NOW_MS))

    async with trio.open_nursery() as nursery:
        nursery.start_soon(ingest, first)
        await trio.testing.wait_all_tasks_blocked()  # SQLite: on the thread
        nursery.start_soon(ingest, second)
        await trio.testing.wait_all_tasks_blocked()  # SQLite: waiting its turn
        await store.close()
    assert statuses(results) == [ACCEPTED] * 400
    with pytest.raises(LocalError):
        await store.get(first[0].id)


async def test_calls_run_in_the_order_they_are_made(store: EventStore) -> None:
    # Readers that call while a batch is being written wait for its commit.
    events = [note(NOW_MS - i, text=f"q{i}") for i in range(1, 301)]
    counts: list[int] = []

    async def read() -> None:
        counts.append(await store.count())

    async with trio.open_nursery() as nursery:
        nursery.start_soon(store.ingest, events, NOW_MS)
        await trio.testing.wait_all_tasks_blocked()
        for _ in range(5):
            nursery.start_soon(read)
    assert counts == [len(events)] * 5
    assert await store.count() == len(events)


async def test_a_store_reconciles_through_with_ranges(store: EventStore) -> None:
    """A reconciliation session against the store, each step one call of
    ``with_ranges``, finds exactly what the store and a peer each lack;
    prefix bounds (shorter than an id) compare as the protocol says."""
    rng = random.Random(7)
    events = [
        note(NOW_MS - rng.randrange(0, 40) * 1000, key=rng.choice([ALICE, BOB]), text=f"s{i}")
        for i in range(300)
    ]
    await store.ingest(events[:250], NOW_MS)
    peer = SortedKeys([key(e) for e in events[50:]])
    initiator = Reconciler(initiator=True)
    responder = Reconciler(initiator=False)  # its keys: the store's
    message: bytes | None = initiator.initiate(peer)
    while message is not None:
        answer = await store.with_ranges(partial(responder.reconcile, message=message))
        assert answer is not None
        message = initiator.reconcile(peer, answer)
    assert initiator.need == {e.id for e in events[:50]}
    assert initiator.have == {e.id for e in events[250:]}
    assert responder.rounds >= 1
    summary = await store.with_ranges(lambda source: source.summary((0, b""), None))
    expected = await store.range_summary((0, b""), None)
    assert summary == (expected.count, expected.fingerprint)


async def test_buckets_agree_with_their_definition(store: EventStore) -> None:
    events = [note(NOW_MS - i * 10, text=f"b{i}") for i in range(103)]
    await store.ingest(events, NOW_MS)
    keys = sorted(key(e) for e in events)
    reference = SortedKeys(keys)
    for lower, upper, size in [((0, b""), None, 7), (keys[5], keys[90], 16), (keys[3], None, 200)]:
        got = await store.with_ranges(lambda source: source.buckets(lower, upper, size))  # noqa: B023
        assert got == reference.buckets(lower, upper, size)


async def test_a_scope_holds_only_its_groups_events(store: EventStore) -> None:
    """``with_ranges(groups=...)``: every range operation sees the events of
    those groups only, exactly as a store holding only them would."""
    rng = random.Random(11)
    groups = [bytes([n]) * 32 for n in range(4)]
    events = [
        note(NOW_MS - rng.randrange(0, 60) * 1000, group=rng.choice(groups), text=f"g{i}")
        for i in range(200)
    ]
    await store.ingest(events, NOW_MS)
    scope = groups[1:3]
    inside = SortedKeys(sorted(key(e) for e in events if e.group in scope))
    keys = sorted(key(e) for e in events)
    for lower, upper in [((0, b""), None), (keys[20], keys[150]), (keys[99], None)]:

        def read(source: RangeSource, lower: Key = lower, upper: Key | None = upper) -> object:
            return (
                source.summary(lower, upper),
                source.keys(lower, upper),
                source.buckets(lower, upper, 9),
            )

        got = await store.with_ranges(read, groups=scope)
        assert got == (
            inside.summary(lower, upper),
            inside.keys(lower, upper),
            inside.buckets(lower, upper, 9),
        )
    assert (await store.with_ranges(lambda source: source.summary((0, b""), None), []))[0] == 0


async def test_commits_are_read_back_in_commit_order(store: EventStore) -> None:
    """``committed_after``: what was committed after a sequence number, in
    the order it was, however the keys sort."""
    assert await store.last_committed() == 0
    first = [note(NOW_MS - i * 1000, text=f"c{i}") for i in range(5)]
    later = [note(NOW_MS - 99_000, text="older but later"), note(NOW_MS, text="last")]
    await store.ingest(first, NOW_MS)
    seen = await store.committed_after(0, 100)
    assert [row.id for _, row in seen] == [e.id for e in first]
    mark = seen[-1][0]
    await store.ingest([*later, first[0]], NOW_MS)  # a duplicate is not committed again
    after = await store.committed_after(mark, 100)
    assert [row.id for _, row in after] == [e.id for e in later]
    assert [row.raw for _, row in after] == [e.raw for e in later]
    assert all(a < b for (a, _), (b, _) in itertools.pairwise([*seen, *after]))
    assert await store.committed_after(after[-1][0], 100) == []
    assert await store.last_committed() == after[-1][0]
    assert await store.count_by_kind() == {"note": len(first) + len(later)}
    assert len(await store.committed_after(0, 2)) == 2


DAY_MS = 24 * 3600 * 1000


def _peer(n: int, seen_ms: int, *addrs: str) -> CachedPeer:
    return CachedPeer(
        f"peer-{n:04d}", addrs or (f"/ip4/10.0.0.{n % 250}/tcp/4001",), ("parent",), seen_ms
    )


async def test_the_peer_cache_keeps_the_latest_of_each_peer(store: EventStore) -> None:
    now = 1_000 * DAY_MS
    assert await store.cached_peers(now) == []
    first = _peer(1, now - 10, "/ip4/10.0.0.1/tcp/4001", "/ip6/::1/tcp/4001")
    await store.remember_peers([first, _peer(2, now - 5)], now)
    moved = CachedPeer("peer-0001", ("/ip4/10.0.0.9/tcp/4002",), ("bootstrap", "parent"), now)
    await store.remember_peers([moved], now)
    assert await store.cached_peers(now) == [moved, _peer(2, now - 5)]


async def test_the_peer_cache_forgets_the_stale_and_the_surplus(store: EventStore) -> None:
    now = 1_000 * DAY_MS
    stale = _peer(0, now - CACHED_PEER_TTL_MS - 1)
    peers = [_peer(n, now - n) for n in range(1, MAX_CACHED_PEERS + 11)]
    await store.remember_peers([stale, *peers], now)
    assert await store.cached_peers(now) == peers[:MAX_CACHED_PEERS]
    # What ages past the limit later is no longer listed.
    later = now + CACHED_PEER_TTL_MS - 5
    assert await store.cached_peers(later) == peers[:5]
