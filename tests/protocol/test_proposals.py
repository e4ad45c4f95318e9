"""Proposals and deliberation as part of the state fold (specs/ballots.md)."""

from __future__ import annotations

import json
import random
from dataclasses import dataclass

import pytest
from ballot_factory import open_ballot
from event_factory import signing_key
from folding import fold
from hypothesis import given, settings
from hypothesis import strategies as st
from network_factory import RULES, Scenario, key_of

from protocol.errors import LocalError, Reason, Rejected
from protocol.event import SignedEvent
from protocol.proposals import MAX_THREAD_DEPTH, Proposals, Reply
from protocol.state import Governance

PEOPLE = [signing_key(f"person {i}") for i in range(12)]
#: Certified, in no group.
LONER = PEOPLE[9]
#: Never certified.
STRANGER = PEOPLE[10]


@dataclass
class Net:
    """Root (level 2) over base group A (PEOPLE[0..3], founded by PEOPLE[0])
    and base group B (PEOPLE[4..6]); LONER certified but in no group."""

    s: Scenario
    a: bytes
    b: bytes
    certs: dict[int, SignedEvent]

    @property
    def root(self) -> bytes:
        return self.s.net


def network() -> Net:
    s = Scenario(root_level=2)
    s.certify(s.founder, "99999999")
    certs: dict[int, SignedEvent] = {}

    def base(first: int, size: int) -> bytes:
        for i in range(first, first + size):
            certs[i] = s.certify(PEOPLE[i], f"{i:08d}")
        group = s.found(PEOPLE[first], f"base {first}", 1).id
        for person in PEOPLE[first + 1 : first + size]:
            s.join(person, group, PEOPLE[first])
        s.admit(s.founder, s.apply(PEOPLE[first], group, s.net))
        return group

    a, b = base(0, 4), base(4, 3)
    certs[9] = s.certify(LONER, "00000009")
    return Net(s, a, b, certs)


def proposals_of(governance: Governance) -> Proposals:
    found: Proposals = governance.state.proposals
    return found


def outcomes(governance: Governance, *events: SignedEvent) -> list[Reason | None]:
    found = []
    for event in events:
        refusal = governance.refusal(event.id)
        found.append(None if refusal is None else refusal.reason)
    return found


def rejected(call: object, *args: object) -> Reason:
    assert callable(call)
    with pytest.raises(Rejected) as excinfo:
        call(*args)
    return excinfo.value.reason


# -- proposals --


def test_a_member_proposes_in_any_group_of_their_path() -> None:
    n = network()
    s = n.s
    in_base = s.propose(PEOPLE[1], n.a, lang="qu")
    in_root = s.propose(PEOPLE[5], n.root, lang="es", title="Canal", text="Un canal.")
    other_base = s.propose(PEOPLE[4], n.a)
    loner = s.propose(LONER, n.root)
    stranger = s.propose(STRANGER, n.a)
    nowhere = s.propose(PEOPLE[1], bytes(32))
    governance = fold(s)
    assert outcomes(governance, in_base, in_root, other_base, loner, stranger, nowhere) == [
        None,
        None,
        Reason.NOT_MEMBER,
        Reason.NOT_MEMBER,
        Reason.NOT_CERTIFIED,
        Reason.UNKNOWN_GROUP,
    ]
    proposals = proposals_of(governance)
    assert set(proposals.proposals) == {in_base.id, in_root.id}
    proposal = proposals.proposal(in_root.id)
    assert (proposal.scope, proposal.author, proposal.ts) == (n.root, key_of(PEOPLE[5]), in_root.ts)
    assert (proposal.lang, proposal.title, proposal.text) == ("es", "Canal", "Un canal.")
    assert proposal.amendments == [] and proposal.supporters == set()
    assert proposal.closed_by is None
    assert rejected(proposals.proposal, loner.id) == Reason.UNKNOWN_PROPOSAL


def test_a_revoked_key_cannot_propose() -> None:
    n = network()
    s = n.s
    s.revoke(n.certs[2])
    revoked = s.propose(PEOPLE[2], n.a)
    assert outcomes(fold(s), revoked) == [Reason.KEY_REVOKED]


# -- amendments --


def test_amendment_rules() -> None:
    n = network()
    s = n.s
    proposal = s.propose(PEOPLE[0], n.a)
    first = s.amend(PEOPLE[1], proposal, lang="es", title="Enmienda", text="En dos años.")
    second = s.amend(PEOPLE[0], proposal)
    unknown = s.event(
        "proposal.amend",
        PEOPLE[1],
        {"lang": "qu", "text": "t", "title": "t", "proposal": bytes(32)},
        group=n.a,
    )
    elsewhere = s.amend(PEOPLE[4], proposal, group=n.b)  # a member of B, in B
    outsider = s.amend(PEOPLE[4], proposal)
    loner = s.amend(LONER, proposal)
    stranger = s.amend(STRANGER, proposal)
    governance = fold(s)
    assert outcomes(governance, first, second, unknown, elsewhere, outsider, loner, stranger) == [
        None,
        None,
        Reason.UNKNOWN_PROPOSAL,
        Reason.UNKNOWN_PROPOSAL,
        Reason.NOT_MEMBER,
        Reason.NOT_MEMBER,
        Reason.NOT_CERTIFIED,
    ]
    proposals = proposals_of(governance)
    assert proposals.proposal(proposal.id).amendments == [first.id, second.id]
    amendment = proposals.amendments[first.id]
    assert (amendment.proposal, amendment.scope, amendment.author) == (
        proposal.id,
        n.a,
        key_of(PEOPLE[1]),
    )
    assert (amendment.lang, amendment.title, amendment.text) == ("es", "Enmienda", "En dos años.")


def test_an_amendment_is_not_a_proposal() -> None:
    n = network()
    s = n.s
    proposal = s.propose(PEOPLE[0], n.a)
    amendment = s.amend(PEOPLE[1], proposal)
    of_amendment = s.amend(PEOPLE[2], amendment)
    support = s.support(PEOPLE[2], amendment)
    assert outcomes(fold(s), of_amendment, support) == [
        Reason.UNKNOWN_PROPOSAL,
        Reason.UNKNOWN_PROPOSAL,
    ]


# -- translations and confirmations --


def test_translation_rules() -> None:
    n = network()
    s = n.s
    proposal = s.propose(PEOPLE[0], n.a, lang="qu")
    amendment = s.amend(PEOPLE[1], proposal, lang="es")
    of_proposal = s.translate(PEOPLE[1], proposal, "es")
    of_amendment = s.translate(PEOPLE[2], amendment, "qu")
    by_author = s.translate(PEOPLE[0], proposal, "ay")
    same_lang = s.translate(PEOPLE[2], proposal, "qu")
    same_lang_amendment = s.translate(PEOPLE[2], amendment, "es")
    regional = s.translate(PEOPLE[2], proposal, "qu-PE")  # another variety: fine
    comment = s.comment(PEOPLE[3], proposal)
    of_comment = s.translate(PEOPLE[2], comment, "es")
    of_translation = s.translate(PEOPLE[2], of_proposal, "ay")
    unknown = s.event(
        "proposal.translate",
        PEOPLE[2],
        {"lang": "es", "text": "t", "title": "t", "target": bytes(32)},
        group=n.a,
    )
    elsewhere = s.translate(PEOPLE[4], proposal, "es", group=n.b)
    outsider = s.translate(PEOPLE[4], proposal, "es")
    stranger = s.translate(STRANGER, proposal, "es")
    governance = fold(s)
    assert outcomes(
        governance,
        of_proposal,
        of_amendment,
        by_author,
        same_lang,
        same_lang_amendment,
        regional,
        of_comment,
        of_translation,
        unknown,
        elsewhere,
        outsider,
        stranger,
    ) == [
        None,
        None,
        None,
        Reason.UNKNOWN_TARGET,
        Reason.UNKNOWN_TARGET,
        None,
        Reason.UNKNOWN_TARGET,
        Reason.UNKNOWN_TARGET,
        Reason.UNKNOWN_TARGET,
        Reason.UNKNOWN_TARGET,
        Reason.NOT_MEMBER,
        Reason.NOT_CERTIFIED,
    ]
    proposals = proposals_of(governance)
    assert {
        lang: [t.id for t in found] for lang, found in proposals.translations(proposal.id).items()
    } == {
        "ay": [by_author.id],
        "es": [of_proposal.id],
        "qu-pe": [regional.id],
    }
    assert [t.id for t in proposals.translations(amendment.id)["qu"]] == [of_amendment.id]
    translation = proposals.translation(of_proposal.id)
    assert (translation.target, translation.scope, translation.author) == (
        proposal.id,
        n.a,
        key_of(PEOPLE[1]),
    )
    assert translation.translator == n.certs[1].event.body["tag"]
    assert rejected(proposals.translations, comment.id) == Reason.UNKNOWN_TARGET
    assert rejected(proposals.translation, proposal.id) == Reason.UNKNOWN_TARGET


def test_the_same_language_is_compared_without_case() -> None:
    n = network()
    s = n.s
    proposal = s.propose(PEOPLE[0], n.a, lang="es-PE")
    same = s.translate(PEOPLE[1], proposal, "es-pe")
    upper = s.translate(PEOPLE[1], proposal, "qu-PE")
    lower = s.translate(PEOPLE[2], proposal, "qu-pe")
    governance = fold(s)
    assert outcomes(governance, same, upper, lower) == [Reason.UNKNOWN_TARGET, None, None]
    by_lang = proposals_of(governance).translations(proposal.id)
    assert {lang: [t.id for t in found] for lang, found in by_lang.items()} == {
        "qu-pe": [upper.id, lower.id]
    }
    assert [t.lang for t in by_lang["qu-pe"]] == ["qu-PE", "qu-pe"]  # as signed


def test_confirmation_rules() -> None:
    n = network()
    s = n.s
    proposal = s.propose(PEOPLE[0], n.a)
    translation = s.translate(PEOPLE[1], proposal, "es")
    by_author = s.confirm(PEOPLE[0], translation)
    by_other = s.confirm(PEOPLE[2], translation)
    own = s.confirm(PEOPLE[1], translation)
    again = s.confirm(PEOPLE[2], translation)
    unknown = s.event("translation.confirm", PEOPLE[3], {"translation": bytes(32)}, group=n.a)
    not_a_translation = s.confirm(PEOPLE[3], proposal)
    elsewhere = s.confirm(PEOPLE[4], translation, group=n.b)
    outsider = s.confirm(PEOPLE[4], translation)
    loner = s.confirm(LONER, translation)
    stranger = s.confirm(STRANGER, translation)
    governance = fold(s)
    assert outcomes(
        governance,
        by_author,
        by_other,
        own,
        again,
        unknown,
        not_a_translation,
        elsewhere,
        outsider,
        loner,
        stranger,
    ) == [
        None,
        None,
        Reason.SELF_CONFIRMATION,
        Reason.DUPLICATE_CONFIRMATION,
        Reason.UNKNOWN_TARGET,
        Reason.UNKNOWN_TARGET,
        Reason.UNKNOWN_TARGET,
        Reason.NOT_MEMBER,
        Reason.NOT_MEMBER,
        Reason.NOT_CERTIFIED,
    ]
    confirmed = proposals_of(governance).translation(translation.id).confirmations
    assert confirmed == {n.certs[0].event.body["tag"], n.certs[2].event.body["tag"]}


def test_a_new_key_neither_confirms_twice_nor_confirms_its_own_translation() -> None:
    n = network()
    s = n.s
    proposal = s.propose(PEOPLE[0], n.a)
    translation = s.translate(PEOPLE[1], proposal, "es")
    s.confirm(PEOPLE[2], translation)
    translator_new = signing_key("person 1, new phone")
    confirmer_new = signing_key("person 2, new phone")
    s.replace(n.certs[1], translator_new)
    s.replace(n.certs[2], confirmer_new)
    own = s.confirm(translator_new, translation)
    twice = s.confirm(confirmer_new, translation)
    by_old_key = s.confirm(PEOPLE[2], translation)
    by_third = s.confirm(PEOPLE[3], translation)
    governance = fold(s)
    assert outcomes(governance, own, twice, by_old_key, by_third) == [
        Reason.SELF_CONFIRMATION,
        Reason.DUPLICATE_CONFIRMATION,
        Reason.KEY_REVOKED,
        None,
    ]
    assert len(proposals_of(governance).translation(translation.id).confirmations) == 2


def test_translations_rank_by_confirmations_then_key_order() -> None:
    n = network()
    s = n.s
    proposal = s.propose(PEOPLE[0], n.a, lang="qu")
    early = s.translate(PEOPLE[1], proposal, "es", text="Primera versión.")
    middle = s.translate(PEOPLE[2], proposal, "es", text="Segunda versión.")
    late = s.translate(PEOPLE[3], proposal, "es", text="Tercera versión.")
    aymara = s.translate(PEOPLE[1], proposal, "ay", text="Aymar aru.")
    governance = fold(s)
    by_lang = proposals_of(governance).translations(proposal.id)
    assert list(by_lang) == ["ay", "es"]
    assert [t.id for t in by_lang["es"]] == [early.id, middle.id, late.id]  # no confirmation yet
    assert [t.id for t in by_lang["ay"]] == [aymara.id]
    s.confirm(PEOPLE[0], late)
    s.confirm(PEOPLE[1], late)
    s.confirm(PEOPLE[0], middle)
    s.confirm(PEOPLE[3], middle)
    s.confirm(PEOPLE[0], early)
    by_lang = proposals_of(fold(s)).translations(proposal.id)
    # late and middle have 2 each: middle is earlier; early has 1.
    assert [t.id for t in by_lang["es"]] == [middle.id, late.id, early.id]
    assert [len(t.confirmations) for t in by_lang["es"]] == [2, 2, 1]


def test_translations_and_comments_stay_open_after_the_ballot() -> None:
    n = network()
    s = n.s
    proposal = s.propose(PEOPLE[0], n.a)
    s.support(PEOPLE[1], proposal)
    ballot = open_ballot(s, PEOPLE[0], n.a, counting_level=1, proposal=proposal.id)
    amend = s.amend(PEOPLE[1], proposal)
    support = s.support(PEOPLE[2], proposal)
    translation = s.translate(PEOPLE[2], proposal, "es")
    confirmation = s.confirm(PEOPLE[3], translation)
    comment = s.comment(PEOPLE[3], proposal)
    governance = fold(s)
    assert outcomes(governance, ballot, amend, support, translation, confirmation, comment) == [
        None,
        Reason.PROPOSAL_CLOSED,
        Reason.PROPOSAL_CLOSED,
        None,
        None,
        None,
    ]
    proposals = proposals_of(governance)
    assert proposals.proposal(proposal.id).closed_by == ballot.id
    assert proposals.support_count(proposal.id) == 1


# -- comments and threads --


def test_comment_targets_and_rules() -> None:
    n = network()
    s = n.s
    proposal = s.propose(PEOPLE[0], n.a)
    amendment = s.amend(PEOPLE[1], proposal)
    translation = s.translate(PEOPLE[1], proposal, "es")
    confirmation = s.confirm(PEOPLE[2], translation)
    on_proposal = s.comment(PEOPLE[1], proposal, "Allinmi.")
    on_amendment = s.comment(PEOPLE[2], amendment, "Mana.", lang="qu")
    on_translation = s.comment(PEOPLE[3], translation, "Falta una palabra.", lang="es")
    reply = s.comment(PEOPLE[0], on_proposal, "Arí.")
    on_confirmation = s.comment(PEOPLE[2], confirmation)
    unknown = s.event(
        "comment", PEOPLE[2], {"lang": "es", "text": "?", "target": bytes(32)}, group=n.a
    )
    on_group = s.event("comment", PEOPLE[2], {"lang": "es", "text": "?", "target": n.a}, group=n.a)
    elsewhere = s.comment(PEOPLE[4], proposal, group=n.b)
    outsider = s.comment(PEOPLE[4], proposal)
    loner = s.comment(LONER, proposal)
    stranger = s.comment(STRANGER, proposal)
    governance = fold(s)
    assert outcomes(
        governance,
        on_proposal,
        on_amendment,
        on_translation,
        reply,
        on_confirmation,
        unknown,
        on_group,
        elsewhere,
        outsider,
        loner,
        stranger,
    ) == [None] * 4 + [Reason.UNKNOWN_TARGET] * 4 + [
        Reason.NOT_MEMBER,
        Reason.NOT_MEMBER,
        Reason.NOT_CERTIFIED,
    ]
    proposals = proposals_of(governance)
    comment = proposals.comments[on_translation.id]
    assert (comment.target, comment.scope, comment.author) == (
        translation.id,
        n.a,
        key_of(PEOPLE[3]),
    )
    assert (comment.lang, comment.text) == ("es", "Falta una palabra.")
    assert rejected(proposals.thread, confirmation.id) == Reason.UNKNOWN_TARGET


def shape(replies: list[Reply]) -> list[tuple[bytes, list[object]]]:
    return [(r.comment.id, shape(r.replies)) for r in replies]


def test_threads_nest_replies_in_key_order() -> None:
    n = network()
    s = n.s
    proposal = s.propose(PEOPLE[0], n.a)
    first = s.comment(PEOPLE[1], proposal, "first")
    second = s.comment(PEOPLE[2], proposal, "second")
    reply_1 = s.comment(PEOPLE[0], first, "reply to first")
    reply_2 = s.comment(PEOPLE[3], second, "reply to second")
    reply_1_1 = s.comment(PEOPLE[1], reply_1, "reply to the reply")
    reply_1b = s.comment(PEOPLE[2], first, "another reply to first")
    third = s.comment(PEOPLE[3], proposal, "third")
    proposals = proposals_of(fold(s))
    assert shape(proposals.thread(proposal.id)) == [
        (first.id, [(reply_1.id, [(reply_1_1.id, [])]), (reply_1b.id, [])]),
        (second.id, [(reply_2.id, [])]),
        (third.id, []),
    ]
    assert shape(proposals.thread(first.id)) == [
        (reply_1.id, [(reply_1_1.id, [])]),
        (reply_1b.id, []),
    ]
    assert proposals.thread(third.id) == []
    assert rejected(proposals.thread, bytes(32)) == Reason.UNKNOWN_TARGET


def test_deep_threads_are_flattened_below_the_maximum_depth() -> None:
    n = network()
    s = n.s
    proposal = s.propose(PEOPLE[0], n.a)
    chain = [s.comment(PEOPLE[1], proposal, "0")]
    for depth in range(1, MAX_THREAD_DEPTH + 3):
        chain.append(s.comment(PEOPLE[depth % 4], chain[-1], str(depth)))
    sibling = s.comment(PEOPLE[2], chain[MAX_THREAD_DEPTH - 2], "beside the deepest")
    proposals = proposals_of(fold(s))
    level = proposals.thread(proposal.id)
    for expected in chain[: MAX_THREAD_DEPTH - 1]:
        assert level[0].comment.id == expected.id
        level = level[0].replies
    # Depth MAX_THREAD_DEPTH holds the last of the chain (each answering the
    # one before it) and, after them in key order, the sibling.
    assert [r.comment.id for r in level] == [
        *(e.id for e in chain[MAX_THREAD_DEPTH - 1 :]),
        sibling.id,
    ]
    assert all(r.replies == [] for r in level)
    described = proposals.describe(proposal.id, s.now)["comments"]
    json.dumps(described)
    for _ in range(MAX_THREAD_DEPTH - 1):
        described = described[0]["replies"]
    assert [c["target"] for c in described] == [
        *(e.event.body["target"].hex() for e in chain[MAX_THREAD_DEPTH - 1 :]),
        chain[MAX_THREAD_DEPTH - 2].id.hex(),
    ]


def test_other_targets_are_registered_by_the_rest_of_the_fold() -> None:
    n = network()
    s = n.s
    governance = fold(s)
    proposals = proposals_of(governance)
    ballot_id = bytes(range(32))
    proposals.add_target(ballot_id, n.a)
    assert proposals.is_target(ballot_id)
    with pytest.raises(LocalError):
        proposals.add_target(ballot_id, n.a)
    on_ballot = s.event(
        "comment", PEOPLE[1], {"lang": "es", "text": "¿Cuándo?", "target": ballot_id}, group=n.a
    )
    in_other_scope = s.event(
        "comment", PEOPLE[4], {"lang": "es", "text": "?", "target": ballot_id}, group=n.b
    )
    governance.add([on_ballot, in_other_scope])  # in key order: no refold
    assert governance.refolds == 0
    assert outcomes(governance, on_ballot, in_other_scope) == [None, Reason.UNKNOWN_TARGET]
    assert shape(proposals.thread(ballot_id)) == [(on_ballot.id, [])]


# -- support --


def test_support_rules_and_counting() -> None:
    n = network()
    s = n.s
    proposal = s.propose(PEOPLE[0], n.a)
    own = s.support(PEOPLE[0], proposal)
    other = s.support(PEOPLE[1], proposal)
    again = s.support(PEOPLE[1], proposal)
    unknown = s.event("proposal.support", PEOPLE[2], {"proposal": bytes(32)}, group=n.a)
    elsewhere = s.support(PEOPLE[4], proposal, group=n.b)
    outsider = s.support(PEOPLE[4], proposal)
    loner = s.support(LONER, proposal)
    stranger = s.support(STRANGER, proposal)
    governance = fold(s)
    assert outcomes(
        governance, own, other, again, unknown, elsewhere, outsider, loner, stranger
    ) == [
        None,
        None,
        Reason.DUPLICATE_SUPPORT,
        Reason.UNKNOWN_PROPOSAL,
        Reason.UNKNOWN_PROPOSAL,
        Reason.NOT_MEMBER,
        Reason.NOT_MEMBER,
        Reason.NOT_CERTIFIED,
    ]
    proposals = proposals_of(governance)
    assert proposals.support_count(proposal.id) == 2
    assert proposals.proposal(proposal.id).supporters == {
        n.certs[0].event.body["tag"],
        n.certs[1].event.body["tag"],
    }
    assert rejected(proposals.support_count, bytes(32)) == Reason.UNKNOWN_PROPOSAL


def test_a_person_supports_once_whatever_key_they_hold() -> None:
    n = network()
    s = n.s
    proposal = s.propose(PEOPLE[4], n.root)
    first = s.support(PEOPLE[1], proposal)
    new_key = signing_key("person 1, new phone")
    s.replace(n.certs[1], new_key)
    with_new_key = s.support(new_key, proposal)
    with_old_key = s.support(PEOPLE[1], proposal)
    governance = fold(s)
    assert outcomes(governance, first, with_new_key, with_old_key) == [
        None,
        Reason.DUPLICATE_SUPPORT,
        Reason.KEY_REVOKED,
    ]
    assert proposals_of(governance).support_count(proposal.id) == 1
    # The new key holds the person's seat: it takes part in other proposals.
    other = s.propose(PEOPLE[0], n.a)
    support_other = s.support(new_key, other)
    governance = fold(s)
    assert outcomes(governance, support_other) == [None]


def test_supporters_needed_follows_the_scope_charter_rounded_up() -> None:
    n = network()
    s = n.s
    in_a = s.propose(PEOPLE[0], n.a)  # 4 members: 20 % is 0.8, so 1
    in_root = s.propose(PEOPLE[0], n.root)  # 7 members: 1.4, so 2
    proposals = proposals_of(fold(s))
    assert RULES["support_pct"] == 20
    assert proposals.supporters_needed(in_a.id) == 1
    assert proposals.supporters_needed(in_root.id) == 2
    # A charter asking for a third of 4 members: 1.36 rounds up to 2.
    rules = dict(RULES, support_pct=34)
    s.certify(PEOPLE[11], "00000011")
    demanding = s.event(
        "group.charter",
        PEOPLE[11],
        {"name": "demanding", "langs": ["es"], "level": 1, "rules": rules},
    ).id
    in_demanding = s.propose(PEOPLE[11], demanding)
    assert proposals_of(fold(s)).supporters_needed(in_demanding.id) == 1  # 0.34 -> 1
    s.certify(PEOPLE[8], "00000008")
    s.join(PEOPLE[8], demanding, PEOPLE[11])
    s.leave(LONER, demanding)  # not a member: refused, changes nothing
    for i in (2, 3):
        s.join(PEOPLE[i], demanding, PEOPLE[11])  # already in A: refused
    assert proposals_of(fold(s)).supporters_needed(in_demanding.id) == 1  # 0.68 -> 1
    s.certify(PEOPLE[7], "00000007")
    s.join(PEOPLE[7], demanding, PEOPLE[11])
    assert proposals_of(fold(s)).supporters_needed(in_demanding.id) == 2  # 1.02 -> 2
    # Everyone leaves: still at least one supporter.
    for person in (PEOPLE[7], PEOPLE[8], PEOPLE[11]):
        s.leave(person, demanding)
    assert proposals_of(fold(s)).supporters_needed(in_demanding.id) == 1


# -- closing --


def test_closing_refuses_amendments_and_support() -> None:
    n = network()
    s = n.s
    proposal = s.propose(PEOPLE[0], n.a)
    s.support(PEOPLE[0], proposal)
    governance = fold(s)
    proposals = proposals_of(governance)
    assert proposals.require_open(proposal.id, n.a) is proposals.proposal(proposal.id)
    assert rejected(proposals.require_open, proposal.id, n.b) == Reason.UNKNOWN_PROPOSAL
    ballot_id = bytes(range(32))
    proposals.close(proposal.id, ballot_id)
    assert rejected(proposals.close, proposal.id, bytes(32)) == Reason.PROPOSAL_CLOSED
    assert rejected(proposals.close, bytes(32), ballot_id) == Reason.UNKNOWN_PROPOSAL
    assert rejected(proposals.require_open, proposal.id, n.a) == Reason.PROPOSAL_CLOSED
    assert proposals.proposal(proposal.id).closed_by == ballot_id
    late = [
        s.amend(PEOPLE[1], proposal),
        s.support(PEOPLE[1], proposal),
        s.support(PEOPLE[0], proposal),  # closed comes before duplicate
        s.translate(PEOPLE[1], proposal, "es"),
        s.comment(PEOPLE[1], proposal),
    ]
    governance.add(late)
    assert governance.refolds == 0
    assert outcomes(governance, *late) == [
        Reason.PROPOSAL_CLOSED,
        Reason.PROPOSAL_CLOSED,
        Reason.PROPOSAL_CLOSED,
        None,
        None,
    ]
    assert proposals.describe(proposal.id, s.now)["closed_by"] == ballot_id.hex()


# -- describe --


def test_describe_is_json_ready() -> None:
    n = network()
    s = n.s
    proposal = s.propose(PEOPLE[0], n.a, lang="qu", title="Yaku", text="Yaku ñan.")
    amendment = s.amend(PEOPLE[1], proposal, lang="es", title="Enmienda", text="Dos años.")
    amendment_translation = s.translate(PEOPLE[2], amendment, "qu", title="T", text="Iskay wata.")
    translation = s.translate(PEOPLE[1], proposal, "es", title="Agua", text="Canal.")
    s.confirm(PEOPLE[3], translation)
    comment = s.comment(PEOPLE[2], proposal, "Allinmi.")
    reply = s.comment(PEOPLE[3], comment, "Arí.")
    on_amendment = s.comment(PEOPLE[3], amendment, "¿Por qué?", lang="es")
    on_translation = s.comment(PEOPLE[0], translation, "Chiqa.")
    s.support(PEOPLE[0], proposal)
    s.support(PEOPLE[2], proposal)
    described = proposals_of(fold(s)).describe(proposal.id, s.now)

    def comment_of(event: SignedEvent, replies: list[object]) -> dict[str, object]:
        body = event.event.body
        return {
            "id": event.id.hex(),
            "target": body["target"].hex(),
            "author": event.author.hex(),
            "ts": event.ts,
            "lang": body["lang"],
            "text": body["text"],
            "replies": replies,
        }

    assert described == {
        "id": proposal.id.hex(),
        "scope": n.a.hex(),
        "author": key_of(PEOPLE[0]).hex(),
        "ts": proposal.ts,
        "lang": "qu",
        "title": "Yaku",
        "text": "Yaku ñan.",
        "amendments": [
            {
                "id": amendment.id.hex(),
                "author": key_of(PEOPLE[1]).hex(),
                "ts": amendment.ts,
                "lang": "es",
                "title": "Enmienda",
                "text": "Dos años.",
                "translations": {
                    "qu": [
                        {
                            "id": amendment_translation.id.hex(),
                            "author": key_of(PEOPLE[2]).hex(),
                            "ts": amendment_translation.ts,
                            "lang": "qu",
                            "title": "T",
                            "text": "Iskay wata.",
                            "confirmations": 0,
                            "comments": [],
                        }
                    ]
                },
                "comments": [comment_of(on_amendment, [])],
            }
        ],
        "translations": {
            "es": [
                {
                    "id": translation.id.hex(),
                    "author": key_of(PEOPLE[1]).hex(),
                    "ts": translation.ts,
                    "lang": "es",
                    "title": "Agua",
                    "text": "Canal.",
                    "confirmations": 1,
                    "comments": [comment_of(on_translation, [])],
                }
            ]
        },
        "support": 2,
        "supporters_needed": 1,
        "closed_by": None,
        "comments": [comment_of(comment, [comment_of(reply, [])])],
    }
    assert json.loads(json.dumps(described)) == described


# -- order independence --


def _deliberation() -> Scenario:
    """Deliberation with conflicts that key order settles: support and
    confirmations before and after joining or a key replacement, competing
    translations, threads, and a ballot that closes a proposal."""
    n = network()
    s = n.s
    proposal = s.propose(PEOPLE[0], n.a)
    in_root = s.propose(PEOPLE[4], n.root, lang="es")
    s.certify(PEOPLE[8], "00000008")
    s.support(PEOPLE[8], proposal)  # not a member yet
    s.leave(PEOPLE[3], n.a)
    s.join(PEOPLE[8], n.a, PEOPLE[0])
    s.support(PEOPLE[8], proposal)
    s.support(PEOPLE[3], proposal)  # left
    s.support(PEOPLE[1], in_root)
    amendment = s.amend(PEOPLE[1], proposal, lang="es")
    translations = [s.translate(PEOPLE[i], proposal, "es", text=f"v{i}") for i in (1, 2)]
    s.translate(PEOPLE[0], amendment, "qu")
    s.translate(PEOPLE[5], in_root, "qu")
    s.confirm(PEOPLE[0], translations[1])
    s.confirm(PEOPLE[2], translations[1])  # self
    s.confirm(PEOPLE[2], translations[0])
    new_key = signing_key("person 2, new phone")
    s.replace(n.certs[2], new_key)
    s.confirm(new_key, translations[0])  # the same person again
    s.confirm(new_key, translations[1])  # their own translation
    s.confirm(PEOPLE[8], translations[1])
    comment = s.comment(PEOPLE[1], proposal)
    reply = s.comment(new_key, comment)
    s.comment(PEOPLE[8], reply)
    s.comment(PEOPLE[0], translations[0])
    s.comment(PEOPLE[6], in_root)
    open_ballot(s, PEOPLE[0], n.a, counting_level=1, proposal=proposal.id)
    s.amend(PEOPLE[8], proposal)  # closed
    s.support(PEOPLE[1], proposal)  # closed
    s.support(new_key, in_root)
    s.support(PEOPLE[1], in_root)  # twice
    s.comment(PEOPLE[1], comment)
    return s


@settings(max_examples=40, deadline=None)
@given(st.randoms(use_true_random=False))
def test_every_arrival_order_gives_the_same_deliberation(rnd: random.Random) -> None:
    s = _deliberation()
    reference = fold(s)
    expected_refusals = {e.id: reference.refusal(e.id) for e in s.events}
    reasons = {r.reason for r in expected_refusals.values() if r is not None}
    assert {
        Reason.NOT_MEMBER,
        Reason.DUPLICATE_SUPPORT,
        Reason.SELF_CONFIRMATION,
        Reason.DUPLICATE_CONFIRMATION,
        Reason.PROPOSAL_CLOSED,
    } <= reasons  # the conflicts are real
    expected = proposals_of(reference).describe_all(s.now)
    shuffled = list(s.events)
    rnd.shuffle(shuffled)
    governance = Governance(s.genesis)
    cut = rnd.randrange(len(shuffled) + 1)
    governance.add(shuffled[:cut])
    for event in shuffled[cut:]:
        governance.add([event])
    assert proposals_of(governance).describe_all(s.now) == expected
    got = {e.id: governance.refusal(e.id) for e in s.events}
    assert {k: None if v is None else v.reason for k, v in got.items()} == {
        k: None if v is None else v.reason for k, v in expected_refusals.items()
    }
