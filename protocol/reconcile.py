"""Range-based set reconciliation, sans-I/O (Negentropy's method).

Theory of operation
-------------------
Two nodes hold sets of events ordered by key (ts, id). To find what each
lacks without sending every id, they compare *ranges* of keys by their
fingerprint (protocol/fingerprint.py): a range both sides fingerprint
alike is settled; a range that differs is split into ``BUCKETS`` smaller
ranges, or, once it holds few keys, answered with its ids outright. Each
round halves nothing by luck: the differences are found in about
log_16(n / d) rounds, and the bytes sent grow with the number of
differences d, not with the size of the sets n.

The *initiator* opens with one fingerprint over everything; the *responder*
answers each range; they alternate until the initiator's next message would
say nothing. Only the initiator learns the result: ``have`` (keys it holds
and the responder lacks) and ``need`` (keys the responder holds and it
lacks); the I/O layer then fetches and offers the events themselves.

A message is canonical CBOR (specs/sync.md): ``[1, [[upper, mode, payload],
...]]``. Ranges are contiguous: the first starts at the lowest key, each
starts where the one before it ended, the keys after the last range are
settled, and null as an ``upper`` is past every key. ``upper`` is
``[ts, id]``, the exclusive end. Modes: 0 skip (nothing
to say), 1 fingerprint (16 bytes), 2 id list (the responder's ids in the
range, ascending; the initiator's carries none, since the responder
answers with its own whatever it is sent and learns nothing).

Everything here is pure: the keys come from a ``RangeSource`` the caller
supplies (the store runs it on its own thread), so a session is a
deterministic function of the two sets.
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from protocol import cbor
from protocol.errors import LocalError, Reason, Rejected
from protocol.fingerprint import FINGERPRINT_SIZE, fingerprint

#: The message format this implementation speaks.
SYNC_VERSION = 1
SKIP, FINGERPRINT, ID_LIST = 0, 1, 2
#: A differing range is split into this many buckets.
BUCKETS = 16
#: A differing range with at most this many keys is sent as an id list;
#: a larger one is split (an id costs 34 bytes, a bucket about 30).
ID_LIST_THRESHOLD = 8
#: The largest message a peer may send (the limit of the strict decoder).
MAX_MESSAGE_SIZE = cbor.MAX_SIZE
#: The most ranges one message may carry.
MAX_RANGES = 4096
#: The most ids a responder puts in one id list (about 34 KiB).
ID_CHUNK = 1024
#: Room kept for one more range's answer (``BUCKETS`` fingerprints and
#: bounds, or a short id list) before the rest is left to the next round.
ROOM = 2048
_ID_BYTES = 34
ID_SIZE = 32

Key = tuple[int, bytes]
#: A run of keys: (first key, last key, count, fingerprint).
Bucket = tuple[Key, Key, int, bytes]
#: A range's exclusive upper bound; None is past every key.
Bound = Key | None
LOWEST: Key = (0, b"")


class RangeSource(Protocol):
    """A node's set of keys, as reconciliation reads it. Ranges are
    [lower, upper): inclusive below, exclusive above; upper None is the end."""

    def summary(self, lower: Key, upper: Bound) -> tuple[int, bytes]:
        """How many keys the range holds, and their fingerprint."""
        ...

    def keys(self, lower: Key, upper: Bound) -> list[Key]:
        """The keys of the range, ascending."""
        ...

    def buckets(self, lower: Key, upper: Bound, size: int) -> list[Bucket]:
        """The range cut into runs of ``size`` consecutive keys (the last may
        be shorter), each with its first and last key, count and fingerprint:
        what a split needs, in one pass over the range."""
        ...


class SortedKeys:
    """A ``RangeSource`` over keys held in memory: for tests, and for nodes
    that reconcile a small subset they have already read."""

    def __init__(self, keys: Sequence[Key] = ()) -> None:
        self._keys = sorted(set(keys))

    def _slice(self, lower: Key, upper: Bound) -> list[Key]:
        start = bisect.bisect_left(self._keys, lower)
        end = len(self._keys) if upper is None else bisect.bisect_left(self._keys, upper)
        return self._keys[start:end]

    def summary(self, lower: Key, upper: Bound) -> tuple[int, bytes]:
        found = self._slice(lower, upper)
        return len(found), fingerprint(key[1] for key in found)

    def keys(self, lower: Key, upper: Bound) -> list[Key]:
        return self._slice(lower, upper)

    def buckets(self, lower: Key, upper: Bound, size: int) -> list[Bucket]:
        found = self._slice(lower, upper)
        runs = [found[at : at + size] for at in range(0, len(found), size)]
        return [(run[0], run[-1], len(run), fingerprint(k[1] for k in run)) for run in runs]


@dataclass(frozen=True, slots=True)
class Range:
    upper: Bound
    mode: int
    payload: Any = None  # fingerprint bytes, or a list of keys


def encode(ranges: Sequence[Range]) -> bytes:
    """A message, with consecutive skips merged and a trailing skip dropped
    (a message that says nothing is an empty list)."""
    merged: list[Range] = []
    for item in ranges:
        if merged and merged[-1].mode == SKIP and item.mode == SKIP:
            merged[-1] = Range(item.upper, SKIP)
        else:
            merged.append(item)
    if merged and merged[-1].mode == SKIP:
        merged.pop()
    return cbor.encode([SYNC_VERSION, [_range_value(item) for item in merged]])


def _range_value(item: Range) -> list[Any]:
    upper = None if item.upper is None else [item.upper[0], item.upper[1]]
    if item.mode == ID_LIST:
        return [upper, ID_LIST, list(item.payload)]
    if item.mode == FINGERPRINT:
        return [upper, FINGERPRINT, item.payload]
    return [upper, SKIP, None]


def decode(message: bytes) -> list[Range]:
    """Parse and check a peer's message; Rejected(bad_sync_message) if unfit.

    The ranges must be in strictly ascending order, so a peer cannot make us
    read a range twice; the key space after the last range is settled (a
    skip), which is why a message that says nothing is empty.
    """
    value = cbor.decode(message, max_size=MAX_MESSAGE_SIZE)
    if type(value) is not list or len(value) != 2 or value[0] != SYNC_VERSION:
        raise _bad("a sync message is [1, ranges]")
    items = value[1]
    if type(items) is not list or len(items) > MAX_RANGES:
        raise _bad(f"at most {MAX_RANGES} ranges")
    ranges: list[Range] = []
    previous: Key = LOWEST
    for index, item in enumerate(items):
        if type(item) is not list or len(item) != 3:
            raise _bad(f"range {index} is [upper, mode, payload]")
        raw_upper, mode, payload = item
        upper = _bound(raw_upper, index)
        if upper is not None and upper <= previous:
            raise _bad(f"range {index} does not end after the one before")
        if upper is None and index != len(items) - 1:
            raise _bad("only the last range ends at null")
        ranges.append(Range(upper, mode, _payload(mode, payload, previous, upper, index)))
        if upper is not None:
            previous = upper
    return ranges


def _bound(value: Any, index: int) -> Bound:
    if value is None:
        return None
    return _key(value, f"range {index}'s bound", max_id=ID_SIZE)


def _key(value: Any, what: str, *, max_id: int) -> Key:
    if (
        type(value) is not list
        or len(value) != 2
        or type(value[0]) is not int
        or not 0 <= value[0] < 2**63
        or type(value[1]) is not bytes
        or len(value[1]) > max_id
    ):
        raise _bad(f"{what} is [ts, id]")
    return (value[0], value[1])


def _payload(mode: Any, payload: Any, lower: Key, upper: Bound, index: int) -> Any:
    if mode == SKIP:
        if payload is not None:
            raise _bad(f"range {index}: a skip has no payload")
        return None
    if mode == FINGERPRINT:
        if type(payload) is not bytes or len(payload) != FINGERPRINT_SIZE:
            raise _bad(f"range {index}: a fingerprint is {FINGERPRINT_SIZE} bytes")
        return payload
    if mode == ID_LIST:
        if type(payload) is not list:
            raise _bad(f"range {index}: an id list is an array")
        if any(type(item) is not bytes or len(item) != ID_SIZE for item in payload):
            raise _bad(f"range {index}: ids are 32 bytes")
        if any(a >= b for a, b in itertools.pairwise(payload)):
            raise _bad(f"range {index}: ids ascending, no repeats")
        return list(payload)
    raise _bad(f"range {index}: unknown mode {mode!r}")


def _bad(detail: str) -> Rejected:
    return Rejected(Reason.BAD_SYNC_MESSAGE, detail)


@dataclass
class Reconciler:
    """One side of one session. The initiator calls ``initiate``, then
        ``reconcile`` on each answer until it returns None; the responder calls
        ``reconcile`` on each message and sends back what it returns. Each call
        reads the node's keys from the source it is given.
    ``have`` and ``need`` hold ids: events are fetched by id.

        ``max_rounds`` bounds a session: a peer that keeps it going forever is
        cut off with Rejected(too_many_rounds).
    """

    initiator: bool
    #: Enough for a new node to list 100,000 events in ID_CHUNKs.
    max_rounds: int = 512
    #: The bytes an answer may take (below MAX_MESSAGE_SIZE, for the
    #: message's own framing).
    frame_limit: int = MAX_MESSAGE_SIZE - 1024
    #: Ids the initiator holds and the responder lacks, and the reverse.
    have: set[bytes] = field(default_factory=set)
    need: set[bytes] = field(default_factory=set)
    rounds: int = 0

    def initiate(self, source: RangeSource) -> bytes:
        if not self.initiator:
            raise LocalError("only the initiator opens a session")
        return encode([_fingerprint(source, LOWEST, None)])

    def reconcile(self, source: RangeSource, message: bytes) -> bytes | None:
        """The answer to a peer's message, read from ``source`` (the node's
        keys, valid for this call: a store lends it on its own thread);
        None (initiator only) when the session is done."""
        self.rounds += 1
        if self.rounds > self.max_rounds:
            raise Rejected(Reason.TOO_MANY_ROUNDS, f"more than {self.max_rounds} rounds")
        ranges = decode(message)
        out: list[Range] = []
        size = 0
        lower = LOWEST
        for item in ranges:
            budget = self.frame_limit - size
            if budget < ROOM:
                # Too much to say this round: sum up the rest in one
                # fingerprint and go on next round (Negentropy's frame limit).
                out.append(_fingerprint(source, lower, None))
                break
            answer = self._answer(source, lower, item, budget)
            out.extend(answer)
            size += sum(_size(a) for a in answer)
            if item.upper is None:
                break
            lower = item.upper
        reply = encode(out)
        if self.initiator and reply == encode([]):
            return None
        return reply

    def _answer(self, source: RangeSource, lower: Key, item: Range, budget: int) -> list[Range]:
        """The answer to one range, in at most about ``budget`` bytes."""
        if item.mode == SKIP:
            return [Range(item.upper, SKIP)]
        if item.mode == FINGERPRINT:
            count, mine = source.summary(lower, item.upper)
            if mine == item.payload:
                return [Range(item.upper, SKIP)]
            return _split(source, lower, item.upper, count, list_ids=not self.initiator)
        # An id list: from the responder, its ids in the range; from the
        # initiator, a request for ours (empty: we would not read it).
        if self.initiator:
            mine_ids = [key_id for _, key_id in source.keys(lower, item.upper)]
            theirs = set(item.payload)
            self.need.update(theirs.difference(mine_ids))
            self.have.update(set(mine_ids) - theirs)
            return [Range(item.upper, SKIP)]
        keys = source.keys(lower, item.upper)
        chunk = min(ID_CHUNK, (budget - ROOM // 2) // _ID_BYTES)
        if len(keys) <= chunk:
            return [Range(item.upper, ID_LIST, sorted(key_id for _, key_id in keys))]
        # Many keys where the peer has few (a new node, say): send as many as
        # fit, and a fingerprint of the rest for the next round, which keeps
        # every answer within a frame.
        bound = _shortest_bound(keys[chunk - 1], keys[chunk])
        first = sorted(key_id for _, key_id in keys[:chunk])
        return [Range(bound, ID_LIST, first), _fingerprint(source, bound, item.upper)]


def _split(
    source: RangeSource, lower: Key, upper: Bound, count: int, *, list_ids: bool
) -> list[Range]:
    """Answer a differing range: an id list if we hold few keys there, else
    ``BUCKETS`` fingerprints over runs of about equal counts of our keys,
    each cut at the shortest bound between the runs.

    The list holds our ids if ``list_ids`` (the responder); the initiator's
    holds none: the responder answers any id list with all of its own, and
    only the initiator compares, so the initiator's ids would cross the wire
    for nothing (with differences spread at random, about a fifth of the
    reconciliation's bytes)."""
    if count <= ID_LIST_THRESHOLD:
        keys = source.keys(lower, upper) if list_ids else []
        return [Range(upper, ID_LIST, sorted(key_id for _, key_id in keys))]
    runs = source.buckets(lower, upper, -(-count // BUCKETS))
    out: list[Range] = []
    for (_, last, _, digest), (first, _, _, _) in itertools.pairwise(runs):
        out.append(Range(_shortest_bound(last, first), FINGERPRINT, digest))
    out.append(Range(upper, FINGERPRINT, runs[-1][3]))
    return out


def _fingerprint(source: RangeSource, lower: Key, upper: Bound) -> Range:
    _, digest = source.summary(lower, upper)
    return Range(upper, FINGERPRINT, digest)


def _shortest_bound(below: Key, key: Key) -> Key:
    """The shortest bound above ``below`` and at most ``key``: the timestamp
    alone when they differ in it, else the id's shortest distinguishing
    prefix. Bounds are most of a message's bytes (Negentropy does the same)."""
    if below[0] != key[0]:
        return (key[0], b"")
    common = 0
    while below[1][common] == key[1][common]:
        common += 1
    return (key[0], key[1][: common + 1])


def _size(item: Range) -> int:
    """About how many bytes a range takes in a message."""
    bound = 0 if item.upper is None else 12 + len(item.upper[1])
    if item.mode == ID_LIST:
        return 4 + bound + _ID_BYTES * len(item.payload)
    return 4 + bound + (FINGERPRINT_SIZE + 1 if item.mode == FINGERPRINT else 0)
