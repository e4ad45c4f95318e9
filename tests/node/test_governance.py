"""node/governance.py: a user's act is signed, previewed, then ingested."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from event_factory import signing_key
from nacl.signing import SigningKey
from network_factory import RULES, Scenario, key_of

from node import governance
from node.governance import BadReference, Refused
from protocol.errors import Reason, Rejected
from protocol.registry import approve
from storage import IngestStatus
from storage.state import NetworkStore, open_network_store


@dataclass
class Network:
    scenario: Scenario
    store: NetworkStore
    group: bytes
    people: list[SigningKey]

    @property
    def now(self) -> int:
        """The users' clock: a little after the scenario's last event."""
        return self.scenario.now + 60_000

    async def count(self) -> int:
        return await self.store.events.count()


@pytest.fixture
async def network(tmp_path: Path) -> AsyncIterator[Network]:
    """A root of level 2 and a base group with its founder and two members;
    three more people certified (one of them has applied)."""
    s = Scenario(root_level=2)
    s.certify(s.founder, "00000001")
    people = [signing_key(f"person {i}") for i in range(6)]
    for i, person in enumerate(people):
        s.certify(person, f"1000000{i}")
    group = s.found(people[0], "Ayllu Sonqo", 1).id
    for person in people[1:3]:
        s.join(person, group, people[0])
    s.event("member.apply", people[3], {}, group=group)
    async with open_network_store(tmp_path / "events.sqlite3", s.genesis) as store:
        results = await store.ingest(s.events, s.now)
        assert {r.status for r in results} == {IngestStatus.ACCEPTED}
        yield Network(s, store, group, people)


async def test_an_act_is_signed_with_its_refs_and_ingested(network: Network) -> None:
    store, group, people = network.store, network.group, network.people
    before = await network.count()
    applied = await governance.apply_for_membership(
        store, people[4], group, text="allin p'unchaw", now_ms=network.now
    )
    event = applied.event
    assert applied.result.status is IngestStatus.ACCEPTED
    assert event.ts == network.now and event.author == key_of(people[4])
    assert event.net == event.event.net == network.scenario.net
    # The author's certificate (standing) and the group's charter.
    cert = store.state.registry.certificate_of(key_of(people[4]))
    assert cert is not None and set(event.refs) == {cert.id, group}
    admitted = await governance.admit_member(
        store, people[1], group, key_of(people[4]), now_ms=network.now
    )
    assert admitted.event.event.body["application"] == event.id
    assert event.id in admitted.event.refs
    assert admitted.event.ts == network.now + 1  # after the act it answers
    assert key_of(people[4]) in store.state.groups.groups[group].members
    assert await network.count() == before + 2


async def test_a_refused_act_stores_nothing(network: Network) -> None:
    store, group, people = network.store, network.group, network.people
    for person in people[3:5]:
        if person is not people[3]:
            await governance.apply_for_membership(store, person, group, now_ms=network.now)
        await governance.admit_member(store, people[0], group, key_of(person), now_ms=network.now)
    await governance.apply_for_membership(store, people[5], group, now_ms=network.now)
    assert len(store.state.groups.groups[group].members) == 5
    before, folded = await network.count(), len(store.governance)
    with pytest.raises(Refused) as refused:
        await governance.admit_member(
            store, people[0], group, key_of(people[5]), now_ms=network.now
        )
    assert refused.value.reason is Reason.GROUP_FULL and refused.value.event_id is None
    assert await network.count() == before and len(store.governance) == folded
    # Not a member: not_authorized; no application: unknown_application.
    with pytest.raises(Refused) as refused:
        await governance.admit_member(
            store, people[5], group, key_of(people[5]), now_ms=network.now
        )
    assert refused.value.reason is Reason.NOT_AUTHORIZED
    stranger = signing_key("stranger")
    with pytest.raises(Refused) as refused:
        await governance.admit_member(store, people[0], group, key_of(stranger), now_ms=network.now)
    assert refused.value.reason is Reason.UNKNOWN_APPLICATION
    with pytest.raises(Refused) as refused:
        await governance.apply_for_membership(store, stranger, group, now_ms=network.now)
    assert refused.value.reason is Reason.NOT_CERTIFIED
    assert await network.count() == before


async def test_what_the_ingest_rejects_is_not_stored_either(network: Network) -> None:
    store, group, people = network.store, network.group, network.people
    before = await network.count()
    with pytest.raises(Rejected) as rejected:
        await governance.apply_for_membership(
            store, people[4], group, text="x" * 501, now_ms=network.now
        )
    assert rejected.value.reason is Reason.BAD_BODY and not isinstance(rejected.value, Refused)
    with pytest.raises(Rejected) as rejected:
        await governance.publish(
            store, people[4], "member.apply", {}, group=group, refs=[b"\x07" * 32],
            now_ms=network.now,
        )  # fmt: skip
    assert rejected.value.reason is Reason.MISSING_REFS
    assert await network.count() == before


async def test_timestamps_sort_after_everything_held(network: Network) -> None:
    store = network.store
    assert await governance.next_ts(store, network.now) == network.now
    # A clock behind the newest event: the act still sorts after it.
    behind = network.scenario.now - 5_000
    assert await governance.next_ts(store, behind) == network.scenario.now + 1
    first = await governance.apply_for_membership(
        store, network.people[4], network.group, now_ms=behind
    )
    second = await governance.apply_for_membership(
        store, network.people[5], network.group, now_ms=behind
    )
    assert first.event.ts == network.scenario.now + 1 and second.event.ts == first.event.ts + 1
    assert store.governance.refolds == 0


async def test_terms_and_periods_come_from_the_act_and_the_group(network: Network) -> None:
    store, group, people = network.store, network.group, network.people
    endorsed = await governance.endorse(
        store, people[1], group, key_of(people[0]), now_ms=network.now
    )
    term_ms = RULES["term_days"] * 86_400_000
    assert endorsed.event.event.body["term"] == network.now // term_ms
    following = await governance.endorse(
        store, people[2], group, key_of(people[0]), next_term=True, now_ms=network.now
    )
    assert following.event.event.body["term"] == network.now // term_ms + 1
    attested = await governance.attest(
        store, people[1], group, key_of(people[0]), text="qillqan", now_ms=network.now
    )
    assert attested.event.event.body["period"] == attested.event.ts // (
        RULES["merit_days"] * 86_400_000
    )
    assert store.state.groups.merit(key_of(people[0])) == 1


async def test_groups_placed_through_their_applications(network: Network) -> None:
    s, store, group = network.scenario, network.store, network.group
    applied = await governance.apply_to_parent(
        store, network.people[0], group, s.net, now_ms=network.now
    )
    assert group in applied.event.refs and s.net not in applied.event.refs
    with pytest.raises(Refused) as refused:
        await governance.admit_child(store, network.people[0], s.net, group, now_ms=network.now)
    assert refused.value.reason is Reason.NOT_AUTHORIZED  # the founder acts for the root
    admitted = await governance.admit_child(store, s.founder, s.net, group, now_ms=network.now)
    assert admitted.event.event.body["application"] == applied.event.id
    assert store.state.groups.parent(group) == s.net
    left = await governance.leave_parent(store, s.founder, group, s.net, now_ms=network.now)
    assert left.result.status is IngestStatus.ACCEPTED
    assert store.state.groups.parent(group) is None


async def test_lookups(network: Network) -> None:
    state, group, people = network.store.state, network.group, network.people
    assert governance.resolve_group(state, group.hex()) == group
    assert governance.resolve_group(state, group.hex()[:8].upper()) == group
    assert governance.resolve_group(state, state.groups.root_id.hex()[:12]) == state.groups.root_id
    with pytest.raises(BadReference, match="at least 8"):
        governance.resolve_group(state, group.hex()[:7])
    with pytest.raises(BadReference, match="not a group id"):
        governance.resolve_group(state, "zz" * 8)
    unknown = ("0" if group.hex()[0] != "0" else "1") * 8
    with pytest.raises(Refused) as refused:
        governance.resolve_group(state, unknown)
    assert refused.value.reason is Reason.UNKNOWN_GROUP
    # Two groups sharing a prefix: ambiguous until more digits are given.
    twin = group[:5] + bytes(27)
    state.groups.groups[twin] = copy.copy(state.groups.groups[group])
    with pytest.raises(BadReference, match="ambiguous"):
        governance.resolve_group(state, group.hex()[:8])
    assert governance.resolve_group(state, group.hex()[:20]) == group
    del state.groups.groups[twin]

    # The newest application counts.
    first = [a for a, app in state.groups.member_applications.items() if app.target == group]
    store = network.store
    again = await governance.apply_for_membership(store, people[3], group, now_ms=network.now)
    assert governance.member_application(state, group, key_of(people[3])) == again.event.id
    assert again.event.id not in first
    with pytest.raises(Refused):
        governance.group_application(state, state.groups.root_id, group)
    cert = state.registry.certificate_of(key_of(people[3]))
    assert cert is not None
    assert governance.resolve_certificate(state, cert.id.hex()[:8]) == cert.id


async def test_registrars_added_later_show_the_change(network: Network) -> None:
    s, store = network.scenario, network.store
    newcomer = signing_key("new registrar")
    first = s.registrars[0]
    changed = await governance.change_registrars(
        store, first, add=[key_of(newcomer)], remove=[], quorum=1, epoch=0, approvals=[],
        now_ms=network.now,
    )  # fmt: skip
    assert store.state.registry.epoch == 1 and changed.event.refs == ()
    cert = store.state.registry.certificate_of(key_of(network.people[5]))
    assert cert is not None
    revoked = await governance.revoke_certificate(
        store, newcomer, cert.id, why="llave robada", now_ms=network.now
    )
    assert set(revoked.event.refs) == {changed.event.id, cert.id}
    # The next change refs the one that made its epoch; a foreign approval
    # (another quorum) is refused before signing.
    wrong = approve(newcomer, s.net, [], [key_of(first)], 2, 1)
    with pytest.raises(BadReference, match="not for this change"):
        await governance.change_registrars(
            store, first, add=[], remove=[key_of(first)], quorum=1, epoch=1,
            approvals=[wrong], now_ms=network.now,
        )  # fmt: skip
    right = approve(newcomer, s.net, [], [key_of(first)], 1, 1)
    again = await governance.change_registrars(
        store, first, add=[], remove=[key_of(first)], quorum=1, epoch=1,
        approvals=[right, right], now_ms=network.now,
    )  # fmt: skip
    assert changed.event.id in again.event.refs
    assert [a["key"] for a in again.event.event.body["approvals"]] == sorted(
        [key_of(first), key_of(newcomer)]
    )
    assert store.state.registry.registrars == {key_of(newcomer), key_of(s.registrars[1])}
