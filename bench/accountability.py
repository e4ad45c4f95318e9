"""The accountability paths through a node's ingest, each against the cost
of its signatures alone, measured in the same run.

ledger   a steward's expenditures (``ledger.spend``, spread over lines and
         payees, with split thresholds, so that flags are derived), ingested
         in batches through ``ingest_raw`` into a ``NetworkStore`` on SQLite
         (decoding, the Ed25519 envelope, standing, the commit, the fold with
         its flags); baseline: ``verify_signature`` of the same events, one
         thread. ratio = spends_per_s / verify_per_s.
reports  protected reports, each ring-signed over a ring of the region
         (``--ring`` members) and sealed, ingested one by one (a report comes
         alone); baseline: preparing the report's ring (its scope is its
         receipt, so each report has its own) and verifying its ring
         signature, one thread. ratio = reports_per_s / ring_checks_per_s.
         (The region has ``--ring`` members rounded up to base groups of
         5, and its ring holds them all.)

Prints JSON with both; no speed is asserted anywhere.

    python bench/accountability.py [--spends 5000] [--reports 40] [--ring 25]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import platform
import sys
import tempfile
import time
from pathlib import Path

import trio

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "helpers"))

from accountability_factory import budget, elect
from event_factory import signing_key
from nacl.public import PrivateKey
from network_factory import Scenario, build_fractal, key_of

from node import progress
from node.ingest import ingest_raw
from protocol.event import SignedEvent, verify_signature
from protocol.reports import (
    check_report,
    make_box_shares,
    prepare_report_ring,
    seal_report,
)
from storage import IngestStatus
from storage.state import open_network_store

PAYEES = 50
LINES = 10


def build(
    spends: int, reports: int, ring: int
) -> tuple[Scenario, int, list[SignedEvent], list[SignedEvent]]:
    """The network, its steward and oversight group (untimed), then the
    timed spends and reports."""
    s = Scenario(root_level=3)
    bases = -(-ring // 5)
    fractal = build_fractal(s, [5] * bases, regions=1, bases=bases)
    region = next(iter(fractal.tree))
    base = fractal.tree[region][0]
    people = fractal.members[base]
    steward = people[1]
    elect(s, people[0], base, people, people[1:3], [0] * len(people), role="steward")
    lines = [budget(s, steward, base, f"Línea {n}", split_threshold=5_000) for n in range(LINES)]
    overseers = fractal.members[fractal.tree[region][-1]]
    box = PrivateKey(hashlib.sha256(b"bench box").digest())
    oversight = fractal.tree[region][-1]
    shares = make_box_shares(box, [key_of(p) for p in overseers])
    s.event("oversight.key", overseers[0], {"box_key": bytes(box.public_key), "shares": shares},
            group=oversight)  # fmt: skip
    members = sorted(key_of(p) for group in fractal.members.values() for p in group)
    ring_event = s.event("report.ring", people[0], {"keys": members}, group=region)
    first_timed = len(s.events)
    for n in range(spends):
        line = lines[n % LINES]
        body = {
            "line": line.id,
            "payee": f"Proveedor {n % PAYEES}",
            "amount": 1_000 + n % 4_500,
            "purpose": "Materiales",
            "currency": "PEN",
            "document": hashlib.sha256(b"factura %d" % n).digest(),
        }
        s.event("ledger.spend", steward, body, group=base, refs=[line.id], ts=s.tick(10))
    spent = s.events[first_timed:]
    reporter = next(p for group in fractal.members.values() for p in group if key_of(p) in members)
    filed = []
    for n in range(reports):
        one_time, receipt = signing_key(f"one-time {n}"), signing_key(f"receipt {n}")
        message = {"text": "Cobran comisiones. " * 10, "lang": "es"}
        body = seal_report(
            ring_event, reporter, one_time, oversight, bytes(box.public_key), receipt, message,
            hashlib.sha256(b"nonce %d" % n).digest(),
        )  # fmt: skip
        filed.append(s.event("report", one_time, body, group=oversight, refs=[ring_event.id]))
    return s, first_timed, spent, filed


def verify_rate(events: list[SignedEvent]) -> float:
    started = time.perf_counter()
    for event in events:
        verify_signature(event)
    return len(events) / (time.perf_counter() - started)


def ring_check_rate(reports: list[SignedEvent], ring_event: SignedEvent) -> float:
    started = time.perf_counter()
    for report in reports:
        check_report(report, ring_event, prepare_report_ring(ring_event, report))
    return len(reports) / (time.perf_counter() - started)


async def ingest(
    s: Scenario, setup: list[SignedEvent], spends: list[SignedEvent], reports: list[SignedEvent]
) -> tuple[float, float]:
    """Seconds to ingest the spends (in batches) and the reports (one by one)."""
    with tempfile.TemporaryDirectory() as directory:
        async with open_network_store(Path(directory) / "events.sqlite3", s.genesis) as store:
            done = await ingest_raw(store, [e.raw for e in setup], s.now, s.net)
            assert all(r.status is IngestStatus.ACCEPTED for r in done), "setup refused"
            started = time.perf_counter()
            done = await ingest_raw(store, [e.raw for e in spends], s.now, s.net)
            spending = time.perf_counter() - started
            assert all(r.status is IngestStatus.ACCEPTED for r in done), "a spend refused"
            started = time.perf_counter()
            for report in reports:
                [result] = await ingest_raw(store, [report.raw], s.now, s.net)
                assert result.status is IngestStatus.ACCEPTED, result
            reporting = time.perf_counter() - started
            return spending, reporting


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spends", type=int, default=5_000)
    parser.add_argument("--reports", type=int, default=40)
    parser.add_argument("--ring", type=int, default=25)
    args = parser.parse_args()
    with progress.step(f"building {args.spends} ledger entries and {args.reports} reports"):
        s, first_timed, spends, reports = build(args.spends, args.reports, args.ring)
    ring_event = next(e for e in s.events if e.kind == "report.ring")
    setup = s.events[:first_timed]
    with progress.step("measuring the baselines, the ingest, the baselines again"):
        verify_before, ring_before = verify_rate(spends), ring_check_rate(reports, ring_event)
        spending, reporting = trio.run(ingest, s, setup, spends, reports)
        verify_after, ring_after = verify_rate(spends), ring_check_rate(reports, ring_event)
    verify_per_s = (verify_before + verify_after) / 2
    ring_per_s = (ring_before + ring_after) / 2
    spends_per_s = len(spends) / spending
    reports_per_s = len(reports) / reporting
    print(
        json.dumps(
            {
                "spends": len(spends),
                "spends_per_s": round(spends_per_s, 1),
                "verify_per_s": round(verify_per_s, 1),
                "ledger_ratio": round(spends_per_s / verify_per_s, 3),
                "reports": len(reports),
                "ring_size": len(ring_event.event.body["keys"]),
                "reports_per_s": round(reports_per_s, 2),
                "ring_checks_per_s": round(ring_per_s, 2),
                "reports_ratio": round(reports_per_s / ring_per_s, 3),
                "python": platform.python_version(),
            }
        )
    )


if __name__ == "__main__":
    main()
