"""protocol/key_index.py: a growing index answers every range exactly as
the definition (``SortedKeys`` over the same keys) does."""

from __future__ import annotations

import hashlib

from hypothesis import given, settings
from hypothesis import strategies as st

from protocol.key_index import KeyIndex
from protocol.reconcile import Key, SortedKeys


def _key(ts: int, n: int) -> Key:
    return (ts, hashlib.sha256(b"key %d" % n).digest())


keys = st.lists(st.tuples(st.integers(0, 50), st.integers(0, 10_000)), max_size=80).map(
    lambda pairs: [_key(ts, n) for ts, n in pairs]
)
bounds = st.tuples(st.integers(0, 52), st.binary(max_size=32))


@settings(max_examples=150, deadline=None)
@given(
    batches=st.lists(keys, min_size=1, max_size=5),
    probes=st.lists(st.tuples(bounds, bounds), max_size=6),
    size=st.integers(1, 9),
)
def test_ranges_match_the_definition_as_keys_arrive(
    batches: list[list[Key]], probes: list[tuple[Key, Key]], size: int
) -> None:
    index = KeyIndex(batches[0])
    held = set(batches[0])
    for batch in [*batches[1:], []]:
        reference = SortedKeys(sorted(held))
        assert len(index) == len(held)
        for lower, upper in [((0, b""), None), *probes]:
            for top in (upper, None):
                assert index.summary(lower, top) == reference.summary(lower, top)
                assert index.keys(lower, top) == reference.keys(lower, top)
                assert index.buckets(lower, top, size) == reference.buckets(lower, top, size)
        index.add(batch)
        held.update(batch)
