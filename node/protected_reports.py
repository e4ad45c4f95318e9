"""Protected reports for a node's user (specs/accountability.md section 7):
an oversight group's box key, report rings, filing a report and keeping
its receipt, reading it as the oversight group, replying, and following it
with the receipt alone.

Filing draws three fresh secrets (the one-time key that signs the
envelope, the receipt key, the ring signature's nonce seed) from the
system's randomness; the reporter's own key only makes the ring signature
and is never in the event.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from nacl.public import PrivateKey
from nacl.signing import SigningKey

from node.governance import Published, Refused, next_ts, publish, resolve_id
from protocol.errors import LocalError, Reason
from protocol.event import SignedEvent, parse_event
from protocol.reports import (
    Receipt,
    follow_up,
    make_box_shares,
    open_report,
    open_share,
    read_replies,
    reply_body,
    seal_report,
)
from protocol.state import NetworkState
from storage.state import NetworkStore


def resolve_report(state: NetworkState, text: str) -> bytes:
    """The report whose id is, or starts with, ``text``."""
    return resolve_id(text, state.reports.reports, "report", Reason.UNKNOWN_REPORT)


async def publish_box_key(
    store: NetworkStore, key: SigningKey, group: bytes, *, now_ms: int
) -> Published:
    """A new box key for ``group`` (by whoever acts for it), its private half
    sealed to each certified member of the group and kept nowhere else."""
    private = PrivateKey.generate()
    members = store.state.reports.certified_members(group, now_ms)
    body = {"box_key": bytes(private.public_key), "shares": make_box_shares(private, members)}
    return await publish(store, key, "oversight.key", body, group=group, now_ms=now_ms)


async def freeze_ring(
    store: NetworkStore, key: SigningKey, group: bytes, *, now_ms: int
) -> Published:
    """A report ring of ``group``: its subtree's certified members, now."""
    keys = list(store.state.reports.certified_members(group, now_ms))
    return await publish(store, key, "report.ring", {"keys": keys}, group=group, now_ms=now_ms)


async def file_report(
    store: NetworkStore,
    reporter: SigningKey,
    group: bytes,
    message: dict[str, Any],
    *,
    now_ms: int,
) -> tuple[Published, Receipt]:
    """A report to the oversight group ``group``, ring-signed with the
    largest fresh ring that holds the reporter and sealed to the group's
    current box key; the receipt to keep."""
    reports = store.state.reports
    boxes = reports.box_keys(group)
    if not boxes:
        raise Refused(Reason.UNKNOWN_BOX_KEY, "the group has published no box key yet")
    ts = await next_ts(store, now_ms)  # the report's, which the ring must precede
    ring_id = reports.ring_for(bytes(reporter.verify_key), ts)
    if ring_id is None:
        raise LocalError("no fresh report ring holds your key: freeze one ('ayllu report ring')")
    ring_event = await _event(store, ring_id)
    one_time, receipt_key = SigningKey.generate(), SigningKey.generate()
    body = seal_report(
        ring_event, reporter, one_time, group, boxes[-1], receipt_key, message, os.urandom(32)
    )
    published = await publish(
        store, one_time, "report", body, group=group, refs=[ring_id], ts=ts, now_ms=now_ms
    )
    return published, Receipt(published.event.id, bytes(receipt_key))


async def reply(
    store: NetworkStore,
    key: SigningKey,
    report_id: bytes,
    status: str,
    message: dict[str, Any] | None,
    *,
    now_ms: int,
) -> Published:
    """A reply of the oversight group: a status, and a message only the
    reporter (holding the receipt) can read."""
    report = store.state.reports.report(report_id)
    body = reply_body(report_id, status, report.receipt, message)
    return await publish(
        store, key, "report.reply", body, group=report.group, refs=[report_id], now_ms=now_ms
    )


async def read_report(
    store: NetworkStore, key: SigningKey, report_id: bytes
) -> list[dict[str, Any]]:
    """The report and its follow-ups opened, for a member of the oversight
    group: their share of each box key opened with their key."""
    state = store.state
    report = state.reports.report(report_id)
    member = bytes(key.verify_key)
    opened = []
    for event_id in (report_id, *(followup.id for followup in report.followups)):
        body = (await _event(store, event_id)).event.body
        share = state.reports.share(report.group, body["box_key"], member)
        if share is None:
            raise Refused(Reason.NOT_AUTHORIZED, "you hold no share of the group's box key")
        opened.append(open_report(body, open_share(share, key, body["box_key"])))
    return opened


async def add_followup(
    store: NetworkStore, receipt: Receipt, message: dict[str, Any], *, now_ms: int
) -> Published:
    """A follow-up signed by the receipt key, sealed to the group's current
    box key."""
    report = store.state.reports.report(receipt.report_id)
    box_key = store.state.reports.box_keys(report.group)[-1]
    body = follow_up(receipt, box_key, message)
    return await publish(
        store,
        receipt.key,
        "report.followup",
        body,
        group=report.group,
        refs=[receipt.report_id],
        now_ms=now_ms,
    )


def status(state: NetworkState, receipt: Receipt) -> dict[str, Any]:
    """What the reporter sees with the receipt: the report's status, and
    the replies opened for them."""
    document = state.reports.describe(receipt.report_id)
    return {
        "id": document["id"],
        "group": document["group"],
        "status": document["status"],
        "replies": read_replies(state.reports, receipt),
        "followups": len(document["followups"]),
    }


def message_of(
    text: str, lang: str, about: bytes | None, documents: Sequence[bytes]
) -> dict[str, Any]:
    """A message of a report, reply or follow-up (MESSAGE_SCHEMA)."""
    message: dict[str, Any] = {"text": text, "lang": lang}
    if about is not None:
        message["about"] = about
    if documents:
        message["documents"] = list(documents)
    return message


async def _event(store: NetworkStore, event_id: bytes) -> SignedEvent:
    raw = await store.events.get(event_id)
    if raw is None:
        raise LocalError(f"the store lacks event {event_id.hex()}")
    return parse_event(raw)
