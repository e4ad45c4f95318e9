"""Range-based set reconciliation (protocol/reconcile.py): two sets converge,
in few rounds and bytes, and bad messages are refused with a reason."""

from __future__ import annotations

import hashlib
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from protocol import cbor
from protocol.errors import Reason, Rejected
from protocol.reconcile import (
    BUCKETS,
    ID_LIST,
    LOWEST,
    Key,
    Reconciler,
    SortedKeys,
    decode,
)


def key(n: int) -> Key:
    return (1_700_000_000_000 + n * 7 % 1000, hashlib.sha256(b"%d" % n).digest())


def ids(keys: set[Key]) -> set[bytes]:
    return {key_id for _, key_id in keys}


def run(mine: set[Key], theirs: set[Key], **limits: int) -> tuple[Reconciler, int, int]:
    """A whole session; the initiator's reconciler, rounds and bytes sent."""
    mine_keys, theirs_keys = SortedKeys(list(mine)), SortedKeys(list(theirs))
    initiator = Reconciler(initiator=True, **limits)
    responder = Reconciler(initiator=False, **limits)
    message: bytes | None = initiator.initiate(mine_keys)
    sent = 0
    rounds = 0
    while message is not None:
        sent += len(message)
        answer = responder.reconcile(theirs_keys, message)
        assert answer is not None
        sent += len(answer)
        message = initiator.reconcile(mine_keys, answer)
        rounds += 1
    return initiator, rounds, sent


@settings(max_examples=60, deadline=None)
@given(
    st.sets(st.integers(0, 3000), max_size=400),
    st.sets(st.integers(0, 3000), max_size=400),
)
def test_the_initiator_learns_exactly_the_differences(a: set[int], b: set[int]) -> None:
    mine, theirs = {key(n) for n in a}, {key(n) for n in b}
    initiator, _, _ = run(mine, theirs)
    assert initiator.have == ids(mine - theirs)
    assert initiator.need == ids(theirs - mine)


def test_equal_sets_settle_in_one_round_trip() -> None:
    keys = {key(n) for n in range(5000)}
    initiator, rounds, sent = run(keys, set(keys))
    assert (initiator.have, initiator.need, rounds) == (set(), set(), 1)
    assert sent < 100


def test_few_differences_in_a_large_set_cost_few_bytes() -> None:
    common = {key(n) for n in range(20_000)}
    extra_a = {key(n) for n in range(20_000, 20_010)}
    extra_b = {key(n) for n in range(30_000, 30_010)}
    initiator, rounds, sent = run(common | extra_a, common | extra_b)
    assert initiator.have == ids(extra_a) and initiator.need == ids(extra_b)
    assert rounds <= 6
    # Bytes grow with the differences, not the 20,000 keys in common.
    assert sent < 20 * 2_000


def test_the_initiator_lists_no_ids_for_the_responder() -> None:
    """The responder answers any id list with all of its own ids and never
    learns the difference, so the initiator's id lists are empty
    (specs/sync.md section 3, revision 2). With 1 % of 20,000 keys only on
    each side, spread at random, the initiator's ids were a fifth of the
    bytes: 626 per difference, now 482."""
    rnd = random.Random(1)
    keys = [key(n) for n in range(20_000)]
    rnd.shuffle(keys)
    only_mine, only_theirs, common = keys[:200], keys[200:400], keys[400:]
    mine, theirs = SortedKeys(common + only_mine), SortedKeys(common + only_theirs)
    initiator, responder = Reconciler(initiator=True), Reconciler(initiator=False)
    message: bytes | None = initiator.initiate(mine)
    sent = 0
    lists = 0
    while message is not None:
        listed = [item.payload for item in decode(message) if item.mode == ID_LIST]
        assert listed == [[]] * len(listed)
        lists += len(listed)
        answer = responder.reconcile(theirs, message)
        assert answer is not None
        sent += len(message) + len(answer)
        message = initiator.reconcile(mine, answer)
    assert initiator.have == ids(set(only_mine)) and initiator.need == ids(set(only_theirs))
    assert lists > 100  # the initiator asked for many short ranges' ids
    assert sent < 500 * 400


def test_the_frame_limit_spreads_a_large_difference_over_rounds() -> None:
    a = {key(n) for n in range(0, 6000, 2)}
    b = {key(n) for n in range(0, 6000, 3)}
    unlimited, rounds, _ = run(a, b)
    limited, limited_rounds, _ = run(a, b, frame_limit=4_000)
    assert limited.have == unlimited.have == ids(a - b) and limited.need == ids(b - a)
    assert limited_rounds > rounds


def test_sessions_are_bounded_in_rounds() -> None:
    a = {key(n) for n in range(3000)}
    with pytest.raises(Rejected) as excinfo:
        run(a, {key(n) for n in range(1500, 4500)}, max_rounds=1, frame_limit=2_000)
    assert excinfo.value.reason == Reason.TOO_MANY_ROUNDS


@pytest.mark.parametrize(
    ("value", "detail"),
    [
        ([2, []], "[1, ranges]"),
        ([1, [[None, 7, None]]], "unknown mode"),
        ([1, [[None, 1, b"short"]]], "16 bytes"),
        ([1, [[[5, b""], 0, None], [[4, b""], 0, None], [None, 0, None]]], "after"),
        ([1, [[None, 0, None], [None, 0, None]]], "only the last"),
        ([1, [[None, ID_LIST, [b"x" * 31]]]], "32 bytes"),
        ([1, [[None, ID_LIST, [b"b" * 32, b"a" * 32]]]], "ascending"),
        ([1, [[None, 0, b"payload"]]], "no payload"),
        ([1, [[[-1, b""], 0, None], [None, 0, None]]], "[ts, id]"),
    ],
)
def test_bad_messages_are_refused(value: object, detail: str) -> None:
    with pytest.raises(Rejected) as excinfo:
        decode(cbor.encode(value))
    assert excinfo.value.reason == Reason.BAD_SYNC_MESSAGE
    assert detail in excinfo.value.detail


def test_non_canonical_bytes_keep_their_decoding_reason() -> None:
    with pytest.raises(Rejected) as excinfo:
        decode(b"\x82\x01\x9f\xff")  # an indefinite-length array
    assert excinfo.value.reason == Reason.INDEFINITE_LENGTH


def test_a_responder_splits_into_buckets() -> None:
    keys = [key(n) for n in range(1000)]
    opening = Reconciler(initiator=True).initiate(SortedKeys(keys[:10]))
    answer = Reconciler(initiator=False).reconcile(SortedKeys(keys), opening)
    assert answer is not None
    ranges = decode(answer)
    assert len(ranges) == BUCKETS and ranges[-1].upper is None
    first = ranges[0].upper
    assert first is not None and first > LOWEST


def test_a_new_node_lists_a_large_set_within_frames_and_rounds() -> None:
    theirs = {key(n) for n in range(20_000)}
    initiator, rounds, sent = run(set(), theirs)
    assert initiator.need == ids(theirs) and initiator.have == set()
    assert rounds < initiator.max_rounds
    assert sent < 34 * 20_000 * 1.1  # about the ids themselves


@settings(max_examples=20, deadline=None)
@given(
    st.sets(st.integers(0, 5000), max_size=1500),
    st.sets(st.integers(0, 5000), max_size=1500),
    st.integers(3_000, 20_000),
)
def test_small_frames_change_rounds_not_results(a: set[int], b: set[int], frame: int) -> None:
    mine, theirs = {key(n) for n in a}, {key(n) for n in b}
    initiator, _, _ = run(mine, theirs, frame_limit=frame)
    assert initiator.have == ids(mine - theirs) and initiator.need == ids(theirs - mine)
