"""The issue's acceptance test: a 3-level fractal (1 + 5 + 25 groups of 3 to
5 certified members) built purely from signed events, through the node's
real ingest path (wire bytes, decoding, network, signature, SQLite, fold),
with every rule of specs/groups.md and specs/identity.md exercised on it."""

from __future__ import annotations

from pathlib import Path

import pytest
from event_factory import signing_key
from network_factory import YEAR_MS, Fractal, Scenario, build_fractal, key_of

from node.ingest import ingest_raw
from protocol.errors import Reason, Rejected
from protocol.event import SignedEvent
from storage import IngestResult, IngestStatus
from storage.state import NetworkStore, open_network_store


async def _ingest(
    store: NetworkStore, s: Scenario, events: list[SignedEvent]
) -> list[IngestResult]:
    return await ingest_raw(store, [e.raw for e in events], s.now, s.net)


def _outcome(results: list[IngestResult], event: SignedEvent) -> str:
    [result] = [r for r in results if r.id == event.id]
    if result.reason is None:
        return result.status.value
    return f"{result.status.value} {result.reason.value}"


async def test_a_three_level_fractal_and_every_rule_on_it(tmp_path: Path) -> None:
    s = Scenario(root_level=3, registrar_count=3, quorum=2)
    fractal: Fractal = build_fractal(s)
    regions = list(fractal.tree)
    path = tmp_path / "events.sqlite3"
    async with open_network_store(path, s.genesis) as store:
        built = await _ingest(store, s, s.events)
        assert {r.status for r in built} == {IngestStatus.ACCEPTED}
        state = store.state
        groups = state.groups
        assert len(groups.groups) == 1 + 5 + 25
        assert groups.children(s.net) == regions
        assert all(len(groups.children(r)) == 5 for r in regions)
        sizes = [len(people) for people in fractal.members.values()]
        assert set(sizes) == {3, 4, 5}
        assert groups.member_count(s.net) == sum(sizes)
        assert all(groups.status(g) == "active" for g in groups.groups)

        # Queries along one branch.
        region = regions[2]
        base = fractal.tree[region][3]
        assert groups.path(base) == [s.net, region, base]
        assert groups.ancestors(base) == [region, s.net]
        assert groups.siblings(base) == [b for b in fractal.tree[region] if b != base]
        assert groups.descendants(region) == fractal.tree[region]
        assert groups.member_count(region) == sum(
            len(fractal.members[b]) for b in fractal.tree[region]
        )

        # Every refusal, each on the fractal's own groups.
        full_base = next(b for b, people in fractal.members.items() if len(people) == 5)
        small_base = next(b for b, people in fractal.members.items() if len(people) == 3)
        newcomer, impostor, stranger = (signing_key(f"late {i}") for i in range(3))
        probes: dict[str, SignedEvent] = {}
        mark = len(s.events)  # probes name the event whose outcome counts; ingest all
        probes["newcomer certified"] = s.certify(newcomer, "50000001")
        probes["sixth member"] = s.join(newcomer, full_base, fractal.members[full_base][0])
        probes["fourth member"] = s.join(newcomer, small_base, fractal.members[small_base][0])
        probes["second group"] = s.join(
            fractal.members[small_base][1], full_base, fractal.members[full_base][0]
        )
        extra_base = s.found(stranger, "uncertified founder", 1)
        probes["uncertified founder"] = extra_base
        probes["non-registrar certificate"] = s.certify(impostor, "50000002", registrar=newcomer)
        probes["same person twice"] = s.certify(impostor, "50000001", registrar=s.registrars[1])
        probes["born expired"] = s.certify(impostor, "50000003", expires=s.now - 1)
        # The impostor's refused certificates give it standing (a registrar
        # did name its key), not a certificate:
        probes["refused certificate, then acting"] = s.found(impostor, "no", 1)
        sixth_region_founder = fractal.members[small_base][2]
        sixth_region = s.found(sixth_region_founder, "a sixth region", 2)
        probes["sixth child"] = s.admit(
            s.founder, s.apply(sixth_region_founder, sixth_region.id, s.net)
        )
        probes["level skipped"] = s.apply(fractal.members[small_base][0], small_base, s.net)
        probes["not the founder"] = s.apply(fractal.members[small_base][1], small_base, regions[0])
        results = await _ingest(store, s, s.events[mark:])
        expected = {
            "newcomer certified": "accepted",
            "sixth member": "refused group_full",
            "fourth member": "accepted",
            "second group": "refused already_member",
            "uncertified founder": "rejected no_standing",
            "non-registrar certificate": "rejected no_standing",
            "same person twice": "refused duplicate_identity",
            "born expired": "refused certificate_expired",
            "refused certificate, then acting": "refused not_certified",
            "sixth child": "refused too_many_children",
            "level skipped": "refused bad_level",
            "not the founder": "refused not_authorized",
        }
        assert {name: _outcome(results, e) for name, e in probes.items()} == expected
        no_standing = [probes["uncertified founder"].id, probes["non-registrar certificate"].id]
        assert await store.events.has(no_standing) == set()  # rejected: never stored
        assert len(groups.members(small_base)) == 4

        # Coordinators at every level: base groups elect among their members,
        # regions among their base groups' coordinators, the root among the
        # regions' coordinators; then the root's coordinator acts for it.
        endorsements: list[SignedEvent] = []
        for region_id, bases in fractal.tree.items():
            for base_id in bases:
                people = fractal.members[base_id]
                for person in people:
                    endorsements.append(s.endorse(person, base_id, people[1]))
            for base_id in bases[:3]:
                endorsements.append(
                    s.endorse(fractal.members[base_id][1], region_id, fractal.members[bases[0]][1])
                )
        root_candidate = fractal.members[fractal.tree[regions[0]][0]][1]
        for region_id in regions[:3]:
            endorsements.append(
                s.endorse(fractal.members[fractal.tree[region_id][0]][1], s.net, root_candidate)
            )
        results = await _ingest(store, s, endorsements)
        assert {r.status for r in results} == {IngestStatus.ACCEPTED}
        state = store.state
        groups = state.groups
        assert groups.coordinator(s.net, s.now) == key_of(root_candidate)
        for region_id, bases in fractal.tree.items():
            assert groups.coordinator(region_id, s.now) == key_of(fractal.members[bases[0]][1])
        assert not groups.acts_for(s.net, key_of(s.founder), s.now)
        late_region = s.found(fractal.members[small_base][0], "another region", 2)
        by_founder = s.admit(
            s.founder, s.apply(fractal.members[small_base][0], late_region.id, s.net)
        )
        results = await _ingest(store, s, [late_region, *s.events[-2:]])
        assert _outcome(results, by_founder) == "refused not_authorized"

        # Merit beside the candidates.
        people = fractal.members[full_base]
        attestations = [s.attest(p, full_base, people[1]) for p in people if p != people[1]]
        results = await _ingest(store, s, attestations)
        assert {r.status for r in results} == {IngestStatus.ACCEPTED}
        [top] = store.state.groups.candidates(full_base, s.now)
        assert (top.key, top.endorsements, top.merit) == (key_of(people[1]), 5, 4)

        # Lost key: replacement keeps the seat and the merit; the old key is dead.
        old_cert = next(
            e
            for e in s.events
            if e.kind == "cert.issue" and e.event.body["member"] == key_of(people[1])
        )
        new_key = signing_key("new phone")
        replacement = s.replace(old_cert, new_key, registrar=s.registrars[2])
        results = await _ingest(store, s, [replacement])
        assert _outcome(results, replacement) == "accepted"
        groups = store.state.groups
        assert key_of(new_key) in groups.members(full_base)
        assert key_of(people[1]) not in groups.members(full_base)
        assert groups.merit(key_of(new_key)) == 4
        stale = s.attest(people[0], full_base, people[1])
        results = await _ingest(store, s, [stale])
        assert _outcome(results, stale) == "refused key_revoked"

        # Registrars change by quorum; a removed registrar certifies no more.
        removed = s.registrars[0]
        change = s.change_registrars(s.registrars[1:], remove=[key_of(removed)], quorum=2, epoch=0)
        after = s.certify(signing_key("after removal"), "50000009", registrar=removed)
        results = await _ingest(store, s, [change, after])
        assert [_outcome(results, e) for e in (change, after)] == [
            "accepted",
            "refused not_registrar",
        ]

        # Rings: the certified members of a base group are eligible; a revoked
        # or uncertified key is not.
        registry = store.state.registry
        ring = [key_of(p) for p in people if p != people[1]] + [key_of(new_key)]
        registry.check_ring(sorted(ring), s.now)
        for intruder in (people[1], stranger):
            with pytest.raises(Rejected) as excinfo:
                registry.check_ring(sorted([*ring, key_of(intruder)]), s.now)
            assert excinfo.value.reason == Reason.UNCERTIFIED_KEY
        # Certificates expire.
        assert not registry.is_certified(key_of(newcomer), s.now + 3 * YEAR_MS)

        snapshot = store.state.snapshot(s.now)
    async with open_network_store(path, s.genesis) as reopened:
        assert reopened.state.snapshot(s.now) == snapshot
