"""The hypothesis strategies of the fuzz scenario (faults_fuzz.py): corpus
entries damaged the ways links and attackers do (bit flips, byte edits,
splices, truncation), reshaped at the CBOR level (a node replaced by a
value of any CBOR type, floats and tags included, re-encoded canonically
or not), or bytes from nothing; and events of the forgery world, where
every key is known, reshaped and *re-signed*, so that a validly signed
event with an arbitrary body gets past the signature.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import cbor2
from forgery_cases import altered_values, wire
from forgery_world import World
from hypothesis import strategies as st

from protocol import cbor
from protocol.event import event_id, signed_message
from protocol.kinds import KINDS

_OPS = ("flip", "set", "insert", "delete", "truncate", "splice", "repeat")
#: What cbor2 raises on a value it cannot write.
UNENCODABLE = (cbor2.CBOREncodeError, TypeError, ValueError, OverflowError)


@st.composite
def mutated(draw: st.DrawFn, seeds: Sequence[bytes]) -> bytes:
    """A corpus entry damaged the ways links and attackers do, 1 to 4 times."""
    data = bytearray(draw(st.sampled_from(seeds)))
    for _ in range(draw(st.integers(1, 4))):
        where = draw(st.integers(0, len(data)))
        how = draw(st.sampled_from(_OPS))
        if how == "flip" and where < len(data):
            data[where] ^= 1 << draw(st.integers(0, 7))
        elif how == "set" and where < len(data):
            data[where] = draw(
                st.sampled_from(
                    [0, 0x18, 0x1F, 0x5F, 0x7F, 0x9F, 0xBF, 0xFF, draw(st.integers(0, 255))]
                )
            )
        elif how == "insert":
            data[where:where] = draw(st.binary(min_size=1, max_size=9))
        elif how == "delete":
            del data[where : where + draw(st.integers(1, 9))]
        elif how == "truncate":
            del data[where:]
        elif how == "splice":
            other = draw(st.sampled_from(seeds))
            start = draw(st.integers(0, len(other)))
            data[where:where] = other[start : start + draw(st.integers(1, 64))]
        elif how == "repeat" and where < len(data):
            data[where:where] = data[where : where + draw(st.integers(1, 16))]
    return bytes(data)


def _cbor_leaves() -> st.SearchStrategy[Any]:
    return st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-(2**64), 2**64 - 1),
        st.sampled_from([0, 23, 24, 255, 256, 2**32, 2**53, 2**63 - 1, 2**63, -(2**63) - 1]),
        st.binary(max_size=40),
        st.sampled_from([bytes(32), b"\xff" * 32, bytes(64), bytes(31), bytes(33)]),
        st.text(max_size=20),
        st.floats(allow_nan=True),
        st.just(cbor2.undefined),
        st.integers(0, 19).map(cbor2.CBORSimpleValue),
    )


CBOR_VALUES = st.recursive(
    _cbor_leaves(),
    lambda children: st.one_of(
        st.lists(children, max_size=5),
        st.dictionaries(st.text(max_size=8), children, max_size=5),
        st.dictionaries(st.integers(-3, 3), children, max_size=2),
        st.builds(cbor2.CBORTag, st.integers(0, 300), children),
    ),
    max_leaves=12,
)


def replaced(
    draw: st.DrawFn, value: Any, candidates: st.SearchStrategy[Any], depth: int = 0
) -> Any:
    """``value`` with one node (maybe itself) replaced, removed or added to."""
    descend = isinstance(value, (list, dict)) and value and depth < 8
    if descend and draw(st.integers(0, 3)):
        if isinstance(value, list):
            index = draw(st.integers(0, len(value) - 1))
            items = list(value)
            items[index] = replaced(draw, value[index], candidates, depth + 1)
            return items
        key = draw(st.sampled_from(sorted(value, key=repr)))
        how = draw(st.sampled_from(["replace", "replace", "drop", "add"]))
        mapping = dict(value)
        if how == "drop":
            del mapping[key]
        elif how == "add":
            mapping[draw(st.text(min_size=1, max_size=8))] = draw(candidates)
        else:
            mapping[key] = replaced(draw, value[key], candidates, depth + 1)
        return mapping
    return draw(candidates)


def reshaped(seeds: Sequence[bytes]) -> st.SearchStrategy[bytes]:
    """A corpus entry with one CBOR node replaced by any value, re-encoded
    canonically or not (cbor2 writes floats, tags, simple values); entries
    that are no CBOR item at all are left to ``mutated``."""
    values = []
    for seed in seeds:
        with contextlib.suppress(Exception):
            values.append(cbor2.loads(seed))

    @st.composite
    def reshape(draw: st.DrawFn) -> bytes:
        value = draw(st.sampled_from(values))
        changed = replaced(draw, value, CBOR_VALUES)
        try:
            return bytes(cbor2.dumps(changed, canonical=draw(st.booleans())))
        except UNENCODABLE:
            return bytes(cbor2.dumps(value))

    return reshape() if values else st.binary(max_size=64)


def corpus_bytes(seeds: Sequence[bytes], *, max_size: int = 300) -> st.SearchStrategy[bytes]:
    """A corpus entry mutated or reshaped, or bytes from nothing."""
    return st.one_of(mutated(seeds), reshaped(seeds), st.binary(max_size=max_size))


@dataclass(frozen=True)
class Resigner:
    """Events of the forgery world re-shaped and re-signed by their author
    (or another known key): validly signed, anything inside."""

    world: World

    @property
    def known_bytes(self) -> list[bytes]:
        """Ids, groups and keys of the world: the values a field most
        usefully takes."""
        events = self.world.events
        return sorted(
            {e.id for e in events}
            | {e.group for e in events}
            | set(self.world.keys)
            | {self.world.net}
        )

    def strategy(self) -> st.SearchStrategy[bytes]:
        known = self.known_bytes
        plausible = st.one_of(
            st.sampled_from(known),
            st.sampled_from(known).map(lambda b: b[:-1] + bytes([b[-1] ^ 1])),
            st.lists(st.sampled_from(known), max_size=4).map(lambda xs: sorted(set(xs))),
            st.integers(-2, 2**53 + 1),
            st.sampled_from([0, 1, 2, 100, 2**32 - 1, self.world.scenario.now]),
            st.text(max_size=12),
            st.sampled_from(sorted(KINDS)),
            CBOR_VALUES,
        )

        @st.composite
        def resigned(draw: st.DrawFn) -> bytes:
            original = draw(st.sampled_from(self.world.events))
            value = original.event.to_value()
            where = draw(st.sampled_from(["body"] * 6 + ["ts", "refs", "group", "kind", "all"]))
            changed: Any
            if where == "all":
                changed = replaced(draw, value, plausible)
            elif where == "body":
                body = dict(value["body"])
                field = draw(st.sampled_from(sorted(body) or ["x"]))
                how = draw(st.sampled_from(["alter", "alter", "replace", "drop", "add"]))
                if field not in body:
                    how = "add"
                if how == "alter":
                    body[field] = draw(st.sampled_from(altered_values(body[field]) or [None]))
                elif how == "replace":
                    body[field] = replaced(draw, body[field], plausible)
                elif how == "drop":
                    del body[field]
                else:
                    body[draw(st.text(min_size=1, max_size=8))] = draw(plausible)
                changed = {**value, "body": body}
            else:
                nearby = st.one_of(
                    st.sampled_from(altered_values(value[where]) or [value[where]]), plausible
                )
                changed = {**value, where: draw(nearby)}
            key = self.world.keys[original.author]
            if isinstance(changed, dict) and draw(st.integers(0, 9)) == 0:
                key = self.world.keys[draw(st.sampled_from(sorted(self.world.keys)))]
                changed["author"] = bytes(key.verify_key)
            try:
                unsigned = bytes(cbor2.dumps(changed, canonical=True))
            except UNENCODABLE:
                unsigned = cbor.encode(value)
            return wire(unsigned, key.sign(signed_message(event_id(unsigned))).signature)

        return resigned()
