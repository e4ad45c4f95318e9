"""The checks body schemas are made of, and ``BodySchema`` itself: strict
maps whose every field has a rule (specs/events.md section 4).

Separate from the registry of kinds (protocol/kinds.py) so that the
modules defining the schemas of a part of the protocol (the power map's,
protocol/map_schema.py) can build on them without importing the state.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from protocol.errors import Reason, Rejected

#: A check returns an error message, or None when the value is fine.
Check = Callable[[Any], str | None]

#: BCP 47, simplified: a 2-3 letter primary language subtag, then subtags of
#: 1-8 letters or digits ("es", "qu", "ay", "en", "es-PE", "qu-Latn-PE").
_LANG_TAG = re.compile(r"[a-z]{2,3}(?:-[A-Za-z0-9]{1,8})*")


def text(min_chars: int, max_chars: int) -> Check:
    """A text string of ``min_chars`` to ``max_chars`` Unicode code points."""

    def check(value: Any) -> str | None:
        if type(value) is not str:
            return "must be a text string"
        if not min_chars <= len(value) <= max_chars:
            return f"must have {min_chars} to {max_chars} characters"
        return None

    return check


def lang_tag(value: Any) -> str | None:
    """A language tag in the simplified BCP 47 form above, at most 35 chars."""
    if type(value) is not str or len(value) > 35 or not _LANG_TAG.fullmatch(value):
        return "must be a language tag such as 'es', 'qu' or 'ay-PE'"
    return None


def byte_string(min_len: int, max_len: int) -> Check:
    def check(value: Any) -> str | None:
        if type(value) is not bytes:
            return "must be a byte string"
        if not min_len <= len(value) <= max_len:
            return f"must have {min_len} to {max_len} bytes"
        return None

    return check


def array_of(item: Check, min_items: int, max_items: int) -> Check:
    def check(value: Any) -> str | None:
        if type(value) is not list:
            return "must be an array"
        if not min_items <= len(value) <= max_items:
            return f"must have {min_items} to {max_items} items"
        for index, element in enumerate(value):
            problem = item(element)
            if problem:
                return f"item {index} {problem}"
        return None

    return check


def one_of(*values: str) -> Check:
    def check(value: Any) -> str | None:
        if type(value) is not str or value not in values:
            return "must be one of " + ", ".join(repr(v) for v in values)
        return None

    return check


def integer(low: int, high: int) -> Check:
    def check(value: Any) -> str | None:
        if type(value) is not int or not low <= value <= high:
            return f"must be an integer in [{low}, {high}]"
        return None

    return check


def boolean(value: Any) -> str | None:
    if type(value) is not bool:
        return "must be true or false"
    return None


def sorted_unique(item: Check, min_items: int, max_items: int) -> Check:
    """An array whose items are strictly ascending: one encoding per set."""
    as_array = array_of(item, min_items, max_items)

    def check(value: Any) -> str | None:
        problem = as_array(value)
        if problem:
            return problem
        if any(a >= b for a, b in itertools.pairwise(value)):
            return "must be strictly ascending (sorted, no repeats)"
        return None

    return check


def nested(schema: BodySchema) -> Check:
    """A map with the fields of ``schema``, checked as strictly as a body."""

    def check(value: Any) -> str | None:
        if type(value) is not dict:
            return "must be a map"
        try:
            schema.check(value)
        except Rejected as exc:
            return f"is invalid ({exc.detail})"
        return None

    return check


@dataclass(frozen=True)
class BodySchema:
    """Required and optional fields of a body, each with its check."""

    required: Mapping[str, Check]
    optional: Mapping[str, Check] = field(default_factory=dict)
    #: A rule across fields, checked once every field is fine.
    across: Callable[[Mapping[str, Any]], str | None] | None = None

    def check(self, body: Mapping[str, Any]) -> None:
        """Raise Rejected(bad_body) for the first field, in key order, that
        fails, then for a missing one, then for the rule across fields."""
        for name in sorted(body, key=_canonical_key_order):
            rule = self.required.get(name) or self.optional.get(name)
            if rule is None:
                raise Rejected(Reason.BAD_BODY, f"unknown field {name!r}")
            problem = rule(body[name])
            if problem:
                raise Rejected(Reason.BAD_BODY, f"{name!r} {problem}")
        for name in sorted(self.required, key=_canonical_key_order):
            if name not in body:
                raise Rejected(Reason.BAD_BODY, f"missing field {name!r}")
        problem = self.across(body) if self.across is not None else None
        if problem:
            raise Rejected(Reason.BAD_BODY, problem)


def _canonical_key_order(key: str) -> tuple[int, bytes]:
    encoded = key.encode("utf-8")
    return (len(encoded), encoded)


#: An amount of money in minor units, at most what a double holds exactly
#: (so that JSON readers in any language read it right).
MAX_AMOUNT = 2**53 - 1
_CURRENCY = re.compile(r"[A-Z]{3}")


def currency(value: Any) -> str | None:
    """ISO 4217 style: three uppercase ASCII letters (PEN, USD, BOB); a
    community currency takes a code of its own of the same shape."""
    if type(value) is not str or not _CURRENCY.fullmatch(value):
        return "must be 3 uppercase ASCII letters (ISO 4217)"
    return None
