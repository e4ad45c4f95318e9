"""Builds specs/vectors/groups.json: governance scenarios and their fold.

Each scenario is a story told in signed events (tests/helpers/
network_factory.py): its genesis document, its events in key order with the
outcome each must have, and the state they must fold to
(specs/groups.md section 9, specs/identity.md). The test next to it checks
the committed file is exactly what this script makes, and that folding the
events in any arrival order gives those outcomes and that state.

Run ``python tests/vectors/groups_vector_builder.py`` to rewrite the file
after a rule change (and change the specs in the same commit).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "helpers"))

from event_factory import signing_key
from network_factory import (
    DAY_MS,
    RULES,
    Scenario,
    build_fractal,
    key_of,
    tag_of,
)
from scenario_vectors import scenario_file

VECTORS_PATH = Path(__file__).resolve().parents[2] / "specs" / "vectors" / "groups.json"
PEOPLE = [signing_key(f"person {i}") for i in range(12)]


def _base_group(s: Scenario, size: int, first: int = 0) -> bytes:
    people = PEOPLE[first : first + size]
    for i, person in enumerate(people):
        s.certify(person, f"{first + i:08d}", registrar=s.registrars[i % len(s.registrars)])
    group = s.found(people[0], f"base {first}", 1).id
    for person in people[1:]:
        s.join(person, group, people[0])
    return group


def small_fractal() -> Scenario:
    """Root of level 3, 2 level-2 groups, each with 2 base groups of 3 to 5 people."""
    s = Scenario(root_level=3)
    build_fractal(s, [3, 4, 5, 3], regions=2, bases=2)
    return s


def membership() -> Scenario:
    """Forming to active; a sixth member; one base group per person; leaving."""
    s = Scenario(root_level=2)
    group = _base_group(s, 2)
    s.certify(PEOPLE[2], "00000002")
    s.join(PEOPLE[2], group, PEOPLE[1])
    _base_group(s, 3, first=5)
    s.certify(PEOPLE[3], "00000003")
    s.certify(PEOPLE[4], "00000004")
    s.join(PEOPLE[3], group, PEOPLE[0])
    s.join(PEOPLE[4], group, PEOPLE[0])
    s.join(PEOPLE[5], group, PEOPLE[0])  # a sixth; and already in a group
    s.certify(PEOPLE[9], "00000009")
    s.join(PEOPLE[9], group, PEOPLE[0])  # group_full
    s.join(PEOPLE[9], group, PEOPLE[9])  # not_authorized: not a member
    s.leave(PEOPLE[4], group)
    s.join(PEOPLE[9], group, PEOPLE[3])
    s.event(
        "member.admit",
        PEOPLE[0],
        {"member": key_of(PEOPLE[10]), "application": s.events[-1].id},
        group=group,
    )  # unknown_application
    s.event("member.apply", PEOPLE[10], {}, group=group)  # no_standing: nobody vouched
    s.certify(PEOPLE[10], "00000000")  # duplicate_identity, yet it names the key
    s.event("member.apply", PEOPLE[10], {}, group=group)  # not_certified
    s.event("member.apply", PEOPLE[4], {}, group=s.net)  # not_base_group
    s.leave(PEOPLE[4], group)  # not_member
    return s


def hierarchy() -> Scenario:
    """Placing groups: authority, levels, a sixth child, leaving a parent."""
    s = Scenario(root_level=2)
    s.certify(s.founder, "99999999")
    bases = [_base_group(s, 1, first=i) for i in range(6)]
    s.apply(PEOPLE[1], bases[0], s.net)  # not_authorized: not its founder
    applications = [s.apply(PEOPLE[i], base, s.net) for i, base in enumerate(bases)]
    s.admit(PEOPLE[0], applications[0])  # not_authorized: not the root's founder
    for application in applications:
        s.admit(s.founder, application)  # the sixth: too_many_children
    s.admit(s.founder, applications[0])  # already_placed
    s.found(PEOPLE[6], "as high as the root", 2)  # not_certified
    s.certify(PEOPLE[6], "00000006")
    s.found(PEOPLE[6], "as high as the root", 2)  # bad_level
    s.event("group.leave", PEOPLE[2], {"parent": s.net}, group=bases[2])
    s.admit(s.founder, applications[5])  # now there is room
    s.event("group.apply", PEOPLE[0], {"parent": bytes(32)}, group=bases[0])  # unknown_group
    nodes = sorted(key_of(signing_key(f"node {i}")) for i in range(2))
    s.name_nodes(PEOPLE[1], bases[0], nodes)  # not_authorized
    s.name_nodes(PEOPLE[0], bases[0], nodes)
    s.name_nodes(s.founder, s.net, nodes[:1])
    return s


def certificates() -> Scenario:
    """Valid, expired, duplicated and forged certificates; replacement, revocation."""
    s = Scenario(registrar_count=2)
    first = s.certify(PEOPLE[0], "00000000", registrar=s.registrars[0])
    s.certify(PEOPLE[1], "00000000", registrar=s.registrars[1])  # duplicate_identity
    s.certify(PEOPLE[0], "00000001")  # already_certified
    s.certify(PEOPLE[2], "00000002", registrar=PEOPLE[3])  # not_registrar
    s.certify(PEOPLE[4], "00000004", expires=s.now)  # certificate_expired
    short = s.certify(PEOPLE[5], "00000005", expires=s.now + 10 * DAY_MS)
    s.tick(11 * DAY_MS)
    s.found(PEOPLE[5], "after expiry", 1)  # certificate_expired
    s.replace(short, PEOPLE[5])  # a renewal, same key
    s.found(PEOPLE[5], "after renewal", 1)
    new_key = PEOPLE[6]
    lost = s.replace(first, new_key, registrar=s.registrars[1])  # lost key
    s.found(PEOPLE[0], "with the lost key", 1)  # key_revoked
    s.certify(PEOPLE[0], "00000010")  # key_revoked
    s.replace(first, PEOPLE[7])  # unknown_certificate: already replaced
    s.event(
        "cert.replace",
        s.registrars[0],
        {
            "old": lost.id,
            "tag": tag_of("12345678"),
            "member": key_of(PEOPLE[8]),
            "expires": s.now + 400 * DAY_MS,
        },
    )  # tag_mismatch
    stolen = s.certify(PEOPLE[9], "00000009")
    s.revoke(stolen)
    s.revoke(stolen)  # key_revoked
    s.replace(stolen, PEOPLE[10])  # recovery after revocation
    s.rings.append(sorted(key_of(p) for p in (PEOPLE[5], PEOPLE[6], PEOPLE[10])))
    s.rings.append(sorted(key_of(p) for p in (PEOPLE[5], PEOPLE[6], PEOPLE[9])))  # revoked
    s.rings.append(sorted(key_of(p) for p in (PEOPLE[5], PEOPLE[11])))  # never certified
    return s


def registrars() -> Scenario:
    """Registrars added and removed by a quorum; stale and forged changes."""
    s = Scenario(registrar_count=3, quorum=2)
    newcomer = signing_key("registrar 3")
    s.change_registrars(s.registrars[:1], add=[key_of(newcomer)], quorum=2, epoch=0)
    s.change_registrars(s.registrars[:2], add=[key_of(newcomer)], quorum=3, epoch=0)
    s.change_registrars(s.registrars[:2], add=[key_of(newcomer)], quorum=3, epoch=0)
    s.change_registrars(s.registrars, remove=[key_of(newcomer)], quorum=4, epoch=1)
    s.change_registrars([s.registrars[0], PEOPLE[0]], quorum=1, epoch=1)
    s.certify(PEOPLE[0], "00000000", registrar=newcomer)
    s.change_registrars(
        [newcomer, *s.registrars[1:]], remove=[key_of(s.registrars[0])], quorum=2, epoch=1
    )
    s.certify(PEOPLE[1], "00000001", registrar=s.registrars[0])  # not_registrar
    return s


def coordinators_and_merit() -> Scenario:
    """A coordinator by majority, recalled by a new majority; merit points."""
    s = Scenario(root_level=2)
    group = _base_group(s, 5)
    _base_group(s, 3, first=5)
    s.attest(PEOPLE[0], group, PEOPLE[2])
    s.attest(PEOPLE[1], group, PEOPLE[2])
    s.attest(PEOPLE[0], group, PEOPLE[2])  # duplicate_attestation
    s.attest(PEOPLE[2], group, PEOPLE[2])  # self_attestation
    s.attest(PEOPLE[5], group, PEOPLE[2])  # not_member
    s.attest(PEOPLE[3], group, PEOPLE[1])
    for endorser in PEOPLE[:3]:
        s.endorse(endorser, group, PEOPLE[2])
    s.endorse(PEOPLE[5], group, PEOPLE[2])  # not_authorized
    s.endorse(PEOPLE[3], group, PEOPLE[6])  # not_member
    ts = s.tick()
    s.event(
        "coordinator.endorse",
        PEOPLE[3],
        {"term": ts // (RULES["term_days"] * DAY_MS) + 2, "candidate": key_of(PEOPLE[1])},
        group=group,
        ts=ts,
    )  # wrong_period
    for endorser in (PEOPLE[0], PEOPLE[3], PEOPLE[4]):
        s.endorse(endorser, group, PEOPLE[1])  # the recall
    return s


def last_seat() -> Scenario:
    """Two admissions for the last seat: the first in key order takes it."""
    s = Scenario(root_level=2)
    group = _base_group(s, 4)
    for i in (4, 5):
        s.certify(PEOPLE[i], f"{i:08d}")
    s.join(PEOPLE[4], group, PEOPLE[1])
    s.join(PEOPLE[5], group, PEOPLE[2])  # group_full
    return s


SCENARIOS: dict[str, Callable[[], Scenario]] = {
    "small_fractal": small_fractal,
    "membership": membership,
    "hierarchy": hierarchy,
    "certificates": certificates,
    "registrars": registrars,
    "coordinators_and_merit": coordinators_and_merit,
    "last_seat": last_seat,
}


def render() -> str:
    return scenario_file(
        (
            "Governance scenarios (specs/groups.md section 9, specs/identity.md): fold the "
            "events in key order (ts, id), or in any arrival order, and get each event's "
            "outcome and the expected state at now_ms."
        ),
        ["groups.md", "identity.md"],
        SCENARIOS,
    )


if __name__ == "__main__":
    VECTORS_PATH.write_text(render(), encoding="utf-8")
    print(f"wrote {VECTORS_PATH}")
