"""The network state kept beside the SQLite store: folded on ingest, rebuilt on open."""

from __future__ import annotations

from pathlib import Path

from event_factory import note, signing_key
from network_factory import Scenario, build_fractal

from protocol.errors import Reason
from storage import IngestStatus
from storage.state import open_network_store


async def test_ingest_folds_reports_refusals_and_reopening_rebuilds(tmp_path: Path) -> None:
    s = Scenario(root_level=3)
    fractal = build_fractal(s)
    base, people = next(iter(fractal.members.items()))
    if len(people) < 5:
        for i in range(5 - len(people)):
            newcomer = signing_key(f"newcomer {i}")
            s.certify(newcomer, f"7777777{i}")
            s.join(newcomer, base, people[0])
    sixth = signing_key("sixth")
    s.certify(sixth, "88888888")
    refused = s.join(sixth, base, people[0])
    now = s.now
    path = tmp_path / "events.sqlite3"
    async with open_network_store(path, s.genesis) as store:
        results = await store.ingest(s.events, now)
        by_id = {r.id: r for r in results}
        assert by_id[refused.id].status is IngestStatus.REFUSED
        assert by_id[refused.id].reason == Reason.GROUP_FULL
        assert [r for r in results if r.status is not IngestStatus.ACCEPTED] == [by_id[refused.id]]
        again = await store.ingest([refused, s.events[0]], now)
        assert [r.status for r in again] == [IngestStatus.DUPLICATE] * 2
        chat = await store.ingest([note(now, group=base, net=s.net)], now)
        assert chat[0].status is IngestStatus.ACCEPTED
        snapshot = store.state.snapshot(now)
        assert await store.events.count() == len(s.events) + 1
    async with open_network_store(path, s.genesis) as reopened:
        assert reopened.state.snapshot(now) == snapshot
        assert reopened.governance.refusal(refused.id) is not None
        assert reopened.governance.refolds == 0


async def test_a_late_event_refolds_and_can_displace_an_applied_one(tmp_path: Path) -> None:
    s = Scenario(root_level=2)
    founder = signing_key("person 0")
    s.certify(founder, "00000000")
    group = s.found(founder, "base", 1).id
    people = [signing_key(f"p{i}") for i in range(5)]
    for i, person in enumerate(people):
        s.certify(person, f"1000000{i}")
    admissions = [s.join(person, group, founder) for person in people]
    last_seat_early, last_seat_late = admissions[3], admissions[4]
    async with open_network_store(tmp_path / "events.sqlite3", s.genesis) as store:
        # Everything but the earlier of the two competitors for the last seat:
        held_back = {last_seat_early.id}
        first = await store.ingest([e for e in s.events if e.id not in held_back], s.now)
        assert all(r.status is IngestStatus.ACCEPTED for r in first)
        # The earlier one arrives (carried from an offline community): it takes
        # the seat, and the later one is refused from then on.
        [late] = await store.ingest([last_seat_early], s.now)
        assert late.status is IngestStatus.ACCEPTED
        assert store.governance.refolds == 1
        refusal = store.governance.refusal(last_seat_late.id)
        assert refusal is not None and refusal.reason == Reason.GROUP_FULL
        members = store.state.groups.members(group)
        assert len(members) == 5 and bytes(people[4].verify_key) not in members


async def test_standing_is_checked_after_the_stores_rules(tmp_path: Path) -> None:
    s = Scenario(root_level=2)
    stranger = signing_key("stranger")
    s.certify(signing_key("member"), "10000001")
    forged = s.certify(stranger, "10000002", registrar=stranger)  # no standing
    base = s.found(stranger, "base", 1)  # refs the forged certificate, never stored
    future = s.certify(stranger, "10000003", registrar=stranger)
    async with open_network_store(tmp_path / "events.sqlite3", s.genesis) as store:
        results = await store.ingest(s.events[:3], s.now)
        assert [(r.status, r.reason) for r in results] == [
            (IngestStatus.ACCEPTED, None),
            (IngestStatus.REJECTED, Reason.NO_STANDING),
            (IngestStatus.REJECTED, Reason.MISSING_REFS),
        ]
        bare = s.event("group.charter", stranger, base.event.body, evidence=False)
        [result] = await store.ingest([bare], s.now)
        assert (result.status, result.reason) == (IngestStatus.REJECTED, Reason.NO_STANDING)
        assert await store.events.has([forged.id, base.id, bare.id]) == set()
        # The store's own rules come first: a future timestamp is ts_in_future.
        [early] = await store.ingest([future], future.ts - 3_600_000)
        assert (early.status, early.reason) == (IngestStatus.REJECTED, Reason.TS_IN_FUTURE)
        # An event whose evidence is missing is held (missing_refs), not rejected.
        s2 = Scenario(root_level=2)
        person = signing_key("person")
        certificate = s2.certify(person, "10000004")
        founding = s2.found(person, "base", 1)
        [held] = await store.ingest([founding], s2.now)
        assert (held.status, held.reason) == (IngestStatus.REJECTED, Reason.MISSING_REFS)
        # Evidence earlier in the same batch counts.
        results = await store.ingest([certificate, founding], s2.now)
        assert [r.status for r in results] == [IngestStatus.ACCEPTED] * 2
