"""The body schemas of the power map's kinds, ``map.claim`` and
``map.review`` (specs/accountability.md, "The power map"): what a claim
may say, and what counts as a source. The state they make is
protocol/power_map.py's.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Mapping
from typing import Any

from protocol.schema import (
    MAX_AMOUNT,
    BodySchema,
    array_of,
    byte_string,
    currency,
    integer,
    lang_tag,
    nested,
    one_of,
    text,
)

#: What a claim says the entity does to the target. Part of the protocol.
RELATIONS = ("owns", "funds", "controls", "advertises_in", "employs", "supplies", "lobbies")
#: Relations that a share of the target describes.
SHARE_RELATIONS = frozenset({"owns", "controls"})
#: Relations that a sum of money describes.
AMOUNT_RELATIONS = frozenset({"funds", "advertises_in", "supplies"})
STANCES = ("confirm", "dispute")
MAX_SOURCES = 16

#: Unicode White_Space: the code points a name's runs of white space are made of.
_WHITE_SPACE = "\t\n\v\f\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
WHITE_SPACE_RUN = re.compile(f"[{_WHITE_SPACE}]+")
_ALL_WHITE_SPACE = re.compile(f"[{_WHITE_SPACE}]*")
_ANY_WHITE_SPACE = re.compile(f"[{_WHITE_SPACE}]")
#: Control characters (C0, DEL, C1) and noncharacters: nothing a name or a
#: link needs, and some of them cannot be carried in XML (GraphML) at all.
_NOT_IN_NAMES = re.compile(
    "[\x00-\x1f\x7f-\x9f\ufdd0-\ufdef\ufffe\uffff"
    + "".join(f"{chr(plane << 16 | 0xFFFE)}{chr(plane << 16 | 0xFFFF)}" for plane in range(1, 17))
    + "]"
)
_URL_SCHEMES = ("https://", "http://")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


# -- body schemas (specs/accountability.md, "map.claim" and "map.review") --


def _name(value: Any) -> str | None:
    """Who holds power, or over what: 1 to 200 code points, not only white
    space (a name that normalizes to nothing names no node), and no
    control character or noncharacter."""
    problem = text(1, 200)(value)
    if problem:
        return problem
    if _ALL_WHITE_SPACE.fullmatch(value):
        return "must not be only white space"
    if _NOT_IN_NAMES.search(value):
        return "must not contain control characters or noncharacters"
    return None


def _url(value: Any) -> str | None:
    """An http(s) link: other schemes (javascript:, file:) are no evidence a
    reader can open safely. Scheme in lower case, something after it, and
    no white space or control character (they never belong in a URL)."""
    problem = text(1, 2000)(value)
    if problem:
        return problem
    scheme = next((s for s in _URL_SCHEMES if value.startswith(s)), None)
    if scheme is None or len(value) == len(scheme):
        return "must start with 'https://' or 'http://' and name something"
    if _NOT_IN_NAMES.search(value) or _ANY_WHITE_SPACE.search(value):
        return "must not contain white space, control characters or noncharacters"
    return None


def _one_kind_of_source(source: Mapping[str, Any]) -> str | None:
    if len(source) != 1:
        return "a source has exactly one of 'url', 'hash'"
    return None


#: A source: a link, or the SHA-256 of a document (a scan kept offline, a
#: file shared by hand) that whoever holds the document can check.
SOURCE_SCHEMA = BodySchema(
    required={},
    optional={"url": _url, "hash": byte_string(32, 32)},
    across=_one_kind_of_source,
)


def _sources(value: Any) -> str | None:
    """1 to 16 distinct sources: the same source twice is no more evidence."""
    problem = array_of(nested(SOURCE_SCHEMA), 1, MAX_SOURCES)(value)
    if problem:
        return problem
    if len({tuple(source.items()) for source in value}) != len(value):
        return "must be distinct"
    return None


def _date(value: Any) -> str | None:
    """A calendar date ``YYYY-MM-DD`` of the proleptic Gregorian calendar,
    years 0001 to 9999: one spelling per day, so dates sort as text."""
    if type(value) is not str or not _DATE.fullmatch(value):
        return "must be a date 'YYYY-MM-DD'"
    try:
        datetime.date(int(value[0:4]), int(value[5:7]), int(value[8:10]))
    except ValueError:
        return "must be a valid calendar date"
    return None


def _claim_figures(body: Mapping[str, Any]) -> str | None:
    """A figure means something only with its unit and for its relation: a
    share of what is owned or controlled, a sum of money that is paid."""
    if ("amount" in body) != ("currency" in body):
        return "'amount' and 'currency' go together"
    if "share_bp" in body and body["relation"] not in SHARE_RELATIONS:
        return "'share_bp' belongs to " + " and ".join(sorted(SHARE_RELATIONS))
    if "amount" in body and body["relation"] not in AMOUNT_RELATIONS:
        return "'amount' belongs to " + ", ".join(sorted(AMOUNT_RELATIONS))
    return None


CLAIM_SCHEMA = BodySchema(
    required={
        "date": _date,
        "entity": _name,
        "target": _name,
        "sources": _sources,
        "relation": one_of(*RELATIONS),
    },
    optional={
        "lang": lang_tag,
        "amount": integer(0, MAX_AMOUNT),
        "currency": currency,
        "share_bp": integer(0, 10_000),
    },
    across=_claim_figures,
)
REVIEW_SCHEMA = BodySchema(
    required={"claim": byte_string(32, 32), "stance": one_of(*STANCES), "sources": _sources},
    optional={"lang": lang_tag, "note": text(1, 1000)},
)
