"""The governance fold: registrars, certificates, groups, roles and merit."""

from __future__ import annotations

import random

import pytest
from event_factory import signing_key
from folding import fold, refused
from hypothesis import given, settings
from hypothesis import strategies as st
from network_factory import (
    DAY_MS,
    RULES,
    Scenario,
    build_fractal,
    key_of,
    tag_of,
)

from protocol.errors import Reason, Rejected
from protocol.kinds import GOVERNANCE_KINDS
from protocol.state import _HANDLERS, Governance

PEOPLE = [signing_key(f"person {i}") for i in range(12)]


def base_group(s: Scenario, size: int, first: int = 0) -> bytes:
    """A certified base group of ``size`` people, PEOPLE[first] founding it."""
    people = PEOPLE[first : first + size]
    for i, person in enumerate(people):
        s.certify(person, f"{first + i:08d}")
    group = s.found(people[0], f"base {first}", 1).id
    for person in people[1:]:
        s.join(person, group, people[0])
    return group


def test_every_governance_kind_has_a_handler() -> None:
    assert set(_HANDLERS) == GOVERNANCE_KINDS


# -- the fractal --


def test_three_level_fractal_from_signed_events_alone() -> None:
    s = Scenario(root_level=3)
    fractal = build_fractal(s)
    governance = fold(s)
    assert [e for e in s.events if governance.refusal(e.id)] == []
    groups = governance.state.groups
    regions = list(fractal.tree)
    assert groups.children(s.net) == regions
    assert groups.parent(s.net) is None
    total = 0
    for region, bases in fractal.tree.items():
        assert groups.parent(region) == s.net
        assert groups.children(region) == bases
        assert groups.siblings(region) == [r for r in regions if r != region]
        assert groups.group(region).level == 2
        for base in bases:
            people = fractal.members[base]
            total += len(people)
            assert groups.group(base).level == 1
            assert groups.members(base) == [key_of(p) for p in people]
            assert groups.status(base) == "active"
            assert groups.ancestors(base) == [region, s.net]
            assert groups.path(base) == [s.net, region, base]
            assert groups.siblings(base) == [b for b in bases if b != base]
            assert all(groups.group_of(key_of(p)) == base for p in people)
        assert groups.member_count(region) == sum(len(fractal.members[b]) for b in bases)
        assert groups.descendants(region) == bases
        assert groups.status(region) == "active"
    assert groups.member_count(s.net) == total
    assert groups.descendants(s.net) == regions + [b for bs in fractal.tree.values() for b in bs]
    assert len(groups.members(s.net)) == total


def test_a_base_group_forms_below_three_members_and_is_active_from_three() -> None:
    s = Scenario()
    group = base_group(s, 2)
    assert fold(s).state.groups.status(group) == "forming"
    s.certify(PEOPLE[5], "00000005")
    s.join(PEOPLE[5], group, PEOPLE[0])
    assert fold(s).state.groups.status(group) == "active"


def test_a_sixth_member_is_refused() -> None:
    s = Scenario()
    group = base_group(s, 5)
    s.certify(PEOPLE[5], "00000005")
    sixth = s.join(PEOPLE[5], group, PEOPLE[0])
    governance = fold(s)
    assert refused(governance, sixth) == Reason.GROUP_FULL
    assert len(governance.state.groups.members(group)) == 5
    assert governance.state.groups.group_of(key_of(PEOPLE[5])) is None


def test_a_sixth_child_is_refused() -> None:
    s = Scenario(root_level=2)
    s.certify(s.founder, "99999999")
    admissions = []
    for i in range(6):
        group = base_group(s, 1, first=i)
        admissions.append(s.admit(s.founder, s.apply(PEOPLE[i], group, s.net)))
    governance = fold(s)
    assert [refused(governance, a) for a in admissions] == [None] * 5 + [Reason.TOO_MANY_CHILDREN]
    assert len(governance.state.groups.children(s.net)) == 5


def test_levels_must_step_by_one() -> None:
    s = Scenario(root_level=3)
    base = base_group(s, 3)
    skip = s.apply(PEOPLE[0], base, s.net)  # level 1 under level 3
    too_high = s.found(PEOPLE[0], "level 3 below a level 3 root", 3)
    governance = fold(s)
    assert refused(governance, skip) == Reason.BAD_LEVEL
    assert refused(governance, too_high) == Reason.BAD_LEVEL


def test_only_who_acts_for_a_group_places_it() -> None:
    s = Scenario(root_level=2)
    s.certify(s.founder, "99999999")
    base = base_group(s, 3)
    by_member = s.apply(PEOPLE[1], base, s.net)  # not the founder, no coordinator
    application = s.apply(PEOPLE[0], base, s.net)
    by_stranger = s.admit(PEOPLE[1], application)
    governance = fold(s)
    assert refused(governance, by_member) == Reason.NOT_AUTHORIZED
    assert refused(governance, by_stranger) == Reason.NOT_AUTHORIZED
    admitted = s.admit(s.founder, application)
    again = s.admit(s.founder, application)
    second_parent = s.apply(PEOPLE[0], base, s.net)
    governance = fold(s)
    assert refused(governance, admitted) is None
    assert refused(governance, again) == Reason.ALREADY_PLACED
    assert refused(governance, second_parent) == Reason.ALREADY_PLACED
    leave = s.event("group.leave", PEOPLE[0], {"parent": s.net}, group=base)
    governance = fold(s)
    assert refused(governance, leave) is None
    assert governance.state.groups.parent(base) is None
    assert governance.state.groups.children(s.net) == []


def test_an_admission_needs_a_matching_application() -> None:
    s = Scenario()
    group = base_group(s, 3)
    other = base_group(s, 3, first=3)
    s.certify(PEOPLE[6], "00000006")
    application = s.event("member.apply", PEOPLE[6], {}, group=other)
    wrong_group = s.event(
        "member.admit",
        PEOPLE[0],
        {"member": key_of(PEOPLE[6]), "application": application.id},
        group=group,
    )
    governance = fold(s)
    assert refused(governance, wrong_group) == Reason.UNKNOWN_APPLICATION


def test_one_base_group_per_person() -> None:
    s = Scenario()
    first = base_group(s, 3)
    second = base_group(s, 3, first=3)
    double = s.join(PEOPLE[1], second, PEOPLE[3])
    founding_twice = s.found(PEOPLE[2], "another", 1)
    governance = fold(s)
    assert refused(governance, double) == Reason.ALREADY_MEMBER
    assert refused(governance, founding_twice) == Reason.ALREADY_MEMBER
    s.leave(PEOPLE[1], first)
    moved = s.join(PEOPLE[1], second, PEOPLE[3])
    governance = fold(s)
    assert refused(governance, moved) is None
    assert governance.state.groups.group_of(key_of(PEOPLE[1])) == second


def test_members_join_base_groups_only() -> None:
    s = Scenario(root_level=3)
    s.certify(PEOPLE[0], "00000000")
    s.certify(PEOPLE[1], "00000001")
    region = s.found(PEOPLE[0], "region", 2).id
    join = s.event("member.apply", PEOPLE[1], {}, group=region)
    unknown = s.event("member.apply", PEOPLE[1], {}, group=bytes(32))
    governance = fold(s)
    assert refused(governance, join) == Reason.NOT_BASE_GROUP
    assert refused(governance, unknown) == Reason.UNKNOWN_GROUP


def test_uncertified_people_cannot_found_or_join() -> None:
    s = Scenario()
    uncertified = s.found(PEOPLE[0], "base", 1)
    governance = fold(s)
    assert refused(governance, uncertified) == Reason.NOT_CERTIFIED
    group = base_group(s, 3, first=1)
    stranger_join = s.event("member.apply", PEOPLE[9], {}, group=group)
    assert refused(fold(s), stranger_join) == Reason.NOT_CERTIFIED


# -- certificates and registrars --


def test_certificates_from_non_registrars_are_refused() -> None:
    s = Scenario()
    forged = s.certify(PEOPLE[0], "00000000", registrar=PEOPLE[1])
    assert refused(fold(s), forged) == Reason.NOT_REGISTRAR


def test_one_certificate_per_person_from_any_registrar() -> None:
    s = Scenario()
    first = s.certify(PEOPLE[0], "00000000", registrar=s.registrars[0])
    same_person = s.certify(PEOPLE[1], "00000000", registrar=s.registrars[1])
    same_key = s.certify(PEOPLE[0], "00000001", registrar=s.registrars[1])
    governance = fold(s)
    assert refused(governance, first) is None
    assert refused(governance, same_person) == Reason.DUPLICATE_IDENTITY
    assert refused(governance, same_key) == Reason.ALREADY_CERTIFIED


def test_expired_certificates() -> None:
    s = Scenario()
    born_expired = s.certify(PEOPLE[0], "00000000", expires=s.now)
    short = s.certify(PEOPLE[1], "00000001", expires=s.now + 10 * DAY_MS)
    governance = fold(s)
    assert refused(governance, born_expired) == Reason.CERTIFICATE_EXPIRED
    assert governance.state.registry.is_certified(key_of(PEOPLE[1]), s.now)
    s.tick(11 * DAY_MS)
    late_charter = s.found(PEOPLE[1], "too late", 1)
    governance = fold(s)
    assert refused(governance, late_charter) == Reason.CERTIFICATE_EXPIRED
    assert short.id in {c.id for c in governance.state.registry.certificates.values()}


def test_lost_key_replacement_revokes_the_old_key_and_keeps_the_place() -> None:
    s = Scenario()
    group = base_group(s, 3)
    old_cert = s.events[1]  # PEOPLE[1]'s certificate
    assert old_cert.event.body["member"] == key_of(PEOPLE[1])
    new_key = signing_key("person 1, new phone")
    replacement = s.replace(old_cert, new_key, registrar=s.registrars[1])
    governance = fold(s)
    assert refused(governance, replacement) is None
    state = governance.state
    assert state.groups.members(group) == [key_of(PEOPLE[0]), key_of(new_key), key_of(PEOPLE[2])]
    with pytest.raises(Rejected) as excinfo:
        state.registry.require_certified(key_of(PEOPLE[1]), s.now)
    assert excinfo.value.reason == Reason.KEY_REVOKED
    by_old_key = s.found(PEOPLE[1], "with the lost key", 1)
    twice = s.replace(old_cert, signing_key("person 1, third phone"))
    wrong_tag = s.event(
        "cert.replace",
        s.registrars[0],
        {
            "old": replacement.id,
            "tag": tag_of("12345678"),
            "member": key_of(PEOPLE[9]),
            "expires": s.now + DAY_MS * 400,
        },
    )
    reuse_revoked = s.certify(PEOPLE[1], "55555555")
    governance = fold(s)
    assert refused(governance, by_old_key) == Reason.KEY_REVOKED
    assert refused(governance, twice) == Reason.UNKNOWN_CERTIFICATE
    assert refused(governance, wrong_tag) == Reason.TAG_MISMATCH
    assert refused(governance, reuse_revoked) == Reason.KEY_REVOKED


def test_revocation_then_recovery() -> None:
    s = Scenario()
    cert = s.certify(PEOPLE[0], "00000000")
    revocation = s.revoke(cert)
    again = s.revoke(cert)
    unknown = s.event("cert.revoke", s.registrars[0], {"why": "?", "cert": bytes(32)})
    recovery = s.replace(cert, PEOPLE[1])
    governance = fold(s)
    assert [refused(governance, e) for e in (revocation, again, unknown, recovery)] == [
        None,
        Reason.KEY_REVOKED,
        Reason.UNKNOWN_CERTIFICATE,
        None,
    ]
    assert governance.state.registry.is_certified(key_of(PEOPLE[1]), s.now)


def test_registrars_change_by_quorum() -> None:
    s = Scenario(registrar_count=3, quorum=2)
    newcomer = signing_key("registrar 3")
    alone = s.change_registrars(s.registrars[:1], add=[key_of(newcomer)], quorum=2, epoch=0)
    added = s.change_registrars(s.registrars[:2], add=[key_of(newcomer)], quorum=3, epoch=0)
    replayed = s.change_registrars(s.registrars[:2], add=[key_of(newcomer)], quorum=3, epoch=0)
    governance = fold(s)
    assert refused(governance, alone) == Reason.BAD_APPROVALS
    assert refused(governance, added) is None
    assert refused(governance, replayed) == Reason.STALE_EPOCH
    registry = governance.state.registry
    assert key_of(newcomer) in registry.registrars and registry.quorum == 3
    by_newcomer = s.certify(PEOPLE[0], "00000000", registrar=newcomer)
    removed = s.registrars[0]
    removal = s.change_registrars(
        [newcomer, *s.registrars[1:3]], remove=[key_of(removed)], quorum=2, epoch=1
    )
    by_removed = s.certify(PEOPLE[1], "00000001", registrar=removed)
    governance = fold(s)
    assert refused(governance, by_newcomer) is None
    assert refused(governance, removal) is None
    assert refused(governance, by_removed) == Reason.NOT_REGISTRAR


def test_registrar_change_approvals_are_checked() -> None:
    s = Scenario(registrar_count=2, quorum=2)
    change = s.change_registrars(s.registrars, remove=[key_of(s.registrars[1])], quorum=1, epoch=0)
    body = dict(change.event.body)
    forged = [dict(a) for a in body["approvals"]]
    forged[1]["sig"] = bytes(64)
    bad_sig = s.event("registrar.change", s.registrars[0], {**body, "approvals": forged})
    too_big_quorum = s.change_registrars(
        s.registrars, remove=[key_of(s.registrars[1])], quorum=2, epoch=0
    )
    outsider = s.change_registrars([s.registrars[0], PEOPLE[0]], quorum=1, epoch=0)
    governance = Governance(s.genesis)
    governance.add([bad_sig, too_big_quorum, outsider])
    assert refused(governance, bad_sig) == Reason.BAD_APPROVALS
    assert refused(governance, too_big_quorum) == Reason.BAD_REGISTRAR_CHANGE
    assert refused(governance, outsider) == Reason.BAD_APPROVALS


def test_rings_of_uncertified_keys_are_refused() -> None:
    s = Scenario()
    base_group(s, 3)
    registry = fold(s).state.registry
    ring = sorted(key_of(p) for p in PEOPLE[:3])
    registry.check_ring(ring, s.now)
    with pytest.raises(Rejected) as excinfo:
        registry.check_ring([*ring, key_of(PEOPLE[7])], s.now)
    assert excinfo.value.reason == Reason.UNCERTIFIED_KEY


# -- coordinators and merit --


def test_a_majority_of_endorsements_makes_the_coordinator_and_can_recall_them() -> None:
    s = Scenario()
    group = base_group(s, 5)
    s.endorse(PEOPLE[0], group, PEOPLE[2])
    s.endorse(PEOPLE[1], group, PEOPLE[2])
    groups = fold(s).state.groups
    assert groups.coordinator(group, s.now) is None  # 2 of 5
    assert groups.acts_for(group, key_of(PEOPLE[0]), s.now)  # the founder, meanwhile
    s.endorse(PEOPLE[3], group, PEOPLE[2])
    groups = fold(s).state.groups
    assert groups.coordinator(group, s.now) == key_of(PEOPLE[2])
    assert groups.acts_for(group, key_of(PEOPLE[2]), s.now)
    assert not groups.acts_for(group, key_of(PEOPLE[0]), s.now)
    # Recall: two endorsers change their minds.
    s.endorse(PEOPLE[0], group, PEOPLE[4])
    s.endorse(PEOPLE[1], group, PEOPLE[4])
    groups = fold(s).state.groups
    assert groups.coordinator(group, s.now) is None
    s.endorse(PEOPLE[3], group, PEOPLE[4])
    groups = fold(s).state.groups
    assert groups.coordinator(group, s.now) == key_of(PEOPLE[4])
    # The term ends: endorsements do not carry over.
    later = s.now + RULES["term_days"] * DAY_MS
    assert groups.coordinator(group, later) is None


def test_endorsement_rules() -> None:
    s = Scenario()
    group = base_group(s, 3)
    base_group(s, 3, first=3)
    outsider = s.endorse(PEOPLE[3], group, PEOPLE[0])
    foreign_candidate = s.endorse(PEOPLE[0], group, PEOPLE[4])
    ts = s.tick()
    stale = s.event(
        "coordinator.endorse",
        PEOPLE[0],
        {"term": ts // (RULES["term_days"] * DAY_MS) - 1, "candidate": key_of(PEOPLE[1])},
        group=group,
        ts=ts,
    )
    governance = fold(s)
    assert refused(governance, outsider) == Reason.NOT_AUTHORIZED
    assert refused(governance, foreign_candidate) == Reason.NOT_MEMBER
    assert refused(governance, stale) == Reason.WRONG_PERIOD


def test_coordinators_of_children_elect_the_parents_coordinator() -> None:
    s = Scenario(root_level=3)
    fractal = build_fractal(s, sizes=[3] * 25)
    region, bases = next(iter(fractal.tree.items()))
    chosen = []
    for base in bases[:3]:
        people = fractal.members[base]
        for person in people[:2]:
            s.endorse(person, base, people[1])
        chosen.append(people[1])
    groups = fold(s).state.groups
    assert groups.electorate(region, s.now) == {key_of(k) for k in chosen}
    candidate = fractal.members[bases[4]][2]
    for coordinator in chosen[:2]:
        s.endorse(coordinator, region, candidate)
    groups = fold(s).state.groups
    assert groups.coordinator(region, s.now) == key_of(candidate)
    assert groups.candidates(region, s.now)[0].endorsements == 2


def test_merit_attestations_one_per_attester_member_and_period() -> None:
    s = Scenario()
    group = base_group(s, 4)
    first = s.attest(PEOPLE[0], group, PEOPLE[1])
    again = s.attest(PEOPLE[0], group, PEOPLE[1])
    s.attest(PEOPLE[2], group, PEOPLE[1])
    self_praise = s.attest(PEOPLE[1], group, PEOPLE[1])
    s.endorse(PEOPLE[0], group, PEOPLE[1])
    governance = fold(s)
    assert refused(governance, first) is None
    assert refused(governance, again) == Reason.DUPLICATE_ATTESTATION
    assert refused(governance, self_praise) == Reason.SELF_ATTESTATION
    groups = governance.state.groups
    assert groups.merit(key_of(PEOPLE[1])) == 2
    assert groups.candidates(group, s.now)[0].merit == 2
    s.tick(RULES["merit_days"] * DAY_MS)
    next_period = s.attest(PEOPLE[0], group, PEOPLE[1])
    governance = fold(s)
    assert refused(governance, next_period) is None
    assert governance.state.groups.merit(key_of(PEOPLE[1])) == 3


# -- order independence --


def _scenario_with_conflicts() -> Scenario:
    """A small network with concurrent conflicts: more applicants than
    seats, two registrars certifying one person, recalls and attestations."""
    s = Scenario(root_level=2)
    s.certify(s.founder, "99999999")
    group = base_group(s, 4)
    for i in (4, 5, 6):
        s.certify(PEOPLE[i], f"{i:08d}", registrar=s.registrars[i % 2])
        s.join(PEOPLE[i], group, PEOPLE[i % 4])
    s.certify(PEOPLE[7], "00000004", registrar=s.registrars[1])
    s.admit(s.founder, s.apply(PEOPLE[0], group, s.net))
    for i in range(4):
        s.endorse(PEOPLE[i], group, PEOPLE[(i // 2) + 1])
        s.attest(PEOPLE[i], group, PEOPLE[(i + 1) % 4])
    s.leave(PEOPLE[3], group)
    return s


@settings(max_examples=60, deadline=None)
@given(st.randoms(use_true_random=False))
def test_every_arrival_order_gives_the_same_state(rnd: random.Random) -> None:
    s = _scenario_with_conflicts()
    reference = fold(s)
    assert any(reference.refusal(e.id) for e in s.events)  # the conflicts are real
    shuffled = list(s.events)
    rnd.shuffle(shuffled)
    governance = Governance(s.genesis)
    cut = rnd.randrange(len(shuffled) + 1)
    governance.add(shuffled[:cut])
    for event in shuffled[cut:]:
        governance.add([event])
    assert governance.state.snapshot(s.now) == reference.state.snapshot(s.now)
    assert {e.id: refused(governance, e) for e in s.events} == {
        e.id: refused(reference, e) for e in s.events
    }


def test_in_order_arrivals_never_refold() -> None:
    s = _scenario_with_conflicts()
    governance = Governance(s.genesis)
    for event in s.events:
        governance.add([event])
    assert governance.refolds == 0
    governance.add([s.events[0]])  # a duplicate changes nothing
    assert governance.refolds == 0 and len(governance) == len(s.events)


def test_preview_tells_the_outcome_without_folding() -> None:
    s = _scenario_with_conflicts()
    governance = fold(s)
    before = governance.state.snapshot(s.now)
    for event in s.events:
        assert governance.preview(event) is governance.refusal(event.id)
    s.certify(PEOPLE[8], "00000008")
    s.certify(PEOPLE[9], "00000008")  # the same person again
    certified, duplicate = s.events[-2:]
    assert governance.preview(certified) is None
    governance.add([certified])
    before = governance.state.snapshot(s.now)
    refusal = governance.preview(duplicate)
    assert refusal is not None and refusal.reason == Reason.DUPLICATE_IDENTITY
    early = s.event(
        "member.apply", PEOPLE[8], {}, group=s.events[5].id, ts=s.events[5].ts + 1
    )  # sorts among folded events, before PEOPLE[8] is certified
    late_refusal = governance.preview(early)
    assert late_refusal is not None and late_refusal.reason == Reason.NOT_CERTIFIED
    assert governance.state.snapshot(s.now) == before and len(governance) == len(s.events) - 2
