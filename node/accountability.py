"""The acts and readings of accountability for a node's user
(specs/accountability.md): recall motions, oversight, the ledger and the
power map, built and previewed like every act (node/governance.py
``publish``: signed, checked against the state, stored only if the state
would apply it).
"""

from __future__ import annotations

from typing import Any

from nacl.signing import SigningKey

from node.governance import Published, publish, resolve_id
from protocol.errors import Reason
from protocol.state import NetworkState
from storage.state import NetworkStore


def resolve_motion(state: NetworkState, text: str) -> bytes:
    """The recall motion (or conviction) whose id is, or starts with, ``text``."""
    return resolve_id(text, state.recalls.motions, "motion", Reason.UNKNOWN_MOTION)


def resolve_line(state: NetworkState, text: str) -> bytes:
    """The budget line whose id is, or starts with, ``text``."""
    return resolve_id(text, state.ledger.lines, "budget line", Reason.UNKNOWN_LINE)


def resolve_claim(state: NetworkState, text: str) -> bytes:
    """The power-map claim whose id is, or starts with, ``text``."""
    return resolve_id(text, state.power_map.claims, "claim", Reason.UNKNOWN_CLAIM)


# -- recall and oversight --


async def put_motion(
    store: NetworkStore,
    key: SigningKey,
    group: bytes,
    *,
    role: str,
    holder: bytes,
    reason: str,
    lang: str,
    now_ms: int,
) -> Published:
    """``recall.motion`` against ``holder``'s ``role`` in ``group``."""
    body = {"lang": lang, "role": role, "holder": holder, "reason": reason}
    return await publish(store, key, "recall.motion", body, group=group, now_ms=now_ms)


async def support_motion(
    store: NetworkStore, key: SigningKey, motion: bytes, *, now_ms: int
) -> Published:
    """``recall.support`` of ``motion``, in its group."""
    group = store.state.recalls.motions[motion].group
    body = {"motion": motion}
    return await publish(
        store, key, "recall.support", body, group=group, refs=[motion], now_ms=now_ms
    )


async def convict(
    store: NetworkStore,
    key: SigningKey,
    overseer: bytes,
    *,
    group: bytes,
    role: str,
    holder: bytes,
    court: str,
    case: str,
    document: bytes,
    now_ms: int,
) -> Published:
    """``recall.conviction`` by the oversight group ``overseer``."""
    body = {
        "case": case,
        "role": role,
        "court": court,
        "group": group,
        "holder": holder,
        "document": document,
    }
    return await publish(store, key, "recall.conviction", body, group=overseer, now_ms=now_ms)


async def appoint_oversight(
    store: NetworkStore, key: SigningKey, group: bytes, overseer: bytes, *, now_ms: int
) -> Published:
    """``oversight.appoint``: ``overseer`` oversees ``group`` (and, unless
    they appoint their own, the groups below it)."""
    body = {"oversight": overseer}
    return await publish(store, key, "oversight.appoint", body, group=group, now_ms=now_ms)


def describe_motion(state: NetworkState, motion: bytes, at_ms: int) -> dict[str, Any]:
    """A motion with its recall ballot's schedule and outcome, if it has one."""
    document = state.recalls.motions[motion].describe()
    ballot = state.ballots.ballots.get(motion)
    document["ballot"] = None
    if ballot is not None:
        outcome = state.ballots.outcome(motion)
        document["ballot"] = {
            "opens": ballot.opens,
            "closes": ballot.closes,
            "status": "announced"
            if at_ms < ballot.opens
            else ("open" if at_ms < ballot.closes else "closed"),
            "stands": outcome["stands"],
            "decided_option": outcome.get("decided_option"),
        }
    return document


def describe_roles(state: NetworkState, group: bytes, at_ms: int) -> dict[str, Any]:
    """Who holds which role of ``group`` until when, and who oversees it."""
    overseer = state.oversight.oversight_of(group)
    return {
        "group": group.hex(),
        "name": state.groups.group(group).name,
        "roles": state.roles.describe(group, at_ms),
        "oversight": None if overseer is None else overseer.hex(),
        "at": at_ms,
    }


# -- the ledger --


async def ledger_entry(
    store: NetworkStore,
    key: SigningKey,
    kind: str,
    body: dict[str, Any],
    *,
    line: bytes | None = None,
    group: bytes | None = None,
    now_ms: int,
) -> Published:
    """A ``ledger.*`` entry: on budget ``line`` (in its group, which it
    refs, with the ballot it cites), or else in ``group``."""
    refs: list[bytes] = []
    if line is not None:
        body["line"] = line
        group = store.state.ledger.lines[line].group
        refs.append(line)
    ballot = body.get("ballot")
    if ballot is not None:
        refs.append(ballot)
    return await publish(store, key, kind, body, group=group, refs=refs, now_ms=now_ms)


# -- the power map --


async def claim(
    store: NetworkStore, key: SigningKey, group: bytes, body: dict[str, Any], *, now_ms: int
) -> Published:
    """``map.claim`` published in ``group``."""
    return await publish(store, key, "map.claim", body, group=group, now_ms=now_ms)


async def review(
    store: NetworkStore, key: SigningKey, body: dict[str, Any], *, now_ms: int
) -> Published:
    """``map.review`` of the claim ``body`` names, in its group."""
    group = store.state.power_map.claims[body["claim"]].group
    return await publish(
        store, key, "map.review", body, group=group, refs=[body["claim"]], now_ms=now_ms
    )
