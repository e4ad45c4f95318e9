"""Ingest throughput against its floor: raw Ed25519 verification.

Builds N signed events (many authors and groups, a share with refs to
earlier events), then measures in the same run:

  raw_verify_per_s  pynacl's crypto_sign_open over those events' signed
                    messages, nothing else: the cost no ingest path avoids;
  ingest_per_s      the whole path from wire bytes: decode, envelope and
                    body checks, network, signature, rules against state, commit to
                    a fresh SQLite store in batches (node/ingest.py).

ratio = ingest_per_s / raw_verify_per_s; the goal is >= 0.6, since the
signature check should be the only thing that costs. The two are measured
alternately, slice by slice, so both see the same machine. Prints one JSON
object.

    python bench/ingest.py [--n 50000] [--batch 1000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import platform
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import nacl.bindings
import trio

from node import progress
from node.ingest import DEFAULT_BATCH, ingest_raw
from protocol.event import Event, SignedEvent, sign, signed_message
from protocol.keys import key_from_seed
from storage import EventStore, IngestStatus, open_sqlite_store

BASE_TS = 1_767_225_600_000
#: Ingest only compares an event's network id with the node's, so any 32
#: bytes stand for a genesis document's hash here.
NETWORK_ID = hashlib.sha256(b"bench network").digest()


def build_events(n: int) -> list[SignedEvent]:
    keys = [key_from_seed(hashlib.sha256(b"bench key %d" % i).digest()) for i in range(64)]
    groups = [hashlib.sha256(b"bench group %d" % i).digest() for i in range(25)]
    events: list[SignedEvent] = []
    for index in range(n):
        key = keys[index % len(keys)]
        # One event in four refers to one of the 100 events before it.
        refs = (events[index - 1 - index % 100].id,) if index >= 100 and index % 4 == 0 else ()
        event = Event(
            kind="note",
            group=groups[index % len(groups)],
            author=bytes(key.verify_key),
            net=NETWORK_ID,
            ts=BASE_TS + index,
            refs=refs,
            body={"lang": "qu" if index % 3 else "es", "text": f"Willakuy {index}: huñunakuy."},
        )
        events.append(sign(event, key))
    return events


def measure_raw_verify(events: Sequence[SignedEvent]) -> float:
    """Seconds pynacl takes to verify ``events``' signatures, one core."""
    inputs = [(e.signature + signed_message(e.id), e.author) for e in events]
    started = time.perf_counter()
    for signed, author in inputs:
        nacl.bindings.crypto_sign_open(signed, author)
    return time.perf_counter() - started


async def measure_ingest(store: EventStore, events: Sequence[SignedEvent], batch: int) -> float:
    """Seconds the ingest path takes to take ``events`` from bytes to committed."""
    raws = [event.raw for event in events]
    before = await store.count()
    started = time.perf_counter()
    outcomes = await ingest_raw(store, raws, BASE_TS + 10**9, NETWORK_ID, batch_size=batch)
    elapsed = time.perf_counter() - started
    accepted = sum(outcome.status is IngestStatus.ACCEPTED for outcome in outcomes)
    stored = await store.count() - before
    if accepted != len(raws) or stored != len(raws):
        raise SystemExit(f"bench is broken: {accepted} accepted, {stored} stored of {len(raws)}")
    return elapsed


async def measure(events: list[SignedEvent], batch: int, rounds: int) -> dict[str, Any]:
    """Alternate the two measurements over ``rounds`` slices of the events, so
    that both see the same machine (a VM's speed drifts by tens of percent
    over a minute) and the store grows to N events as it would in use."""
    size = -(-len(events) // rounds)
    raw_s = ingest_s = 0.0
    ratios: list[float] = []
    with tempfile.TemporaryDirectory() as directory:
        async with open_sqlite_store(Path(directory) / "bench.sqlite3") as store:
            for start in range(0, len(events), size):
                part = events[start : start + size]
                raw = measure_raw_verify(part)
                ingest = await measure_ingest(store, part, batch)
                raw_s, ingest_s = raw_s + raw, ingest_s + ingest
                ratios.append(round(raw / ingest, 3))
    return {
        "raw_verify_per_s": round(len(events) / raw_s),
        "ingest_per_s": round(len(events) / ingest_s),
        "ratio": round(raw_s / ingest_s, 3),
        "ratio_per_round": ratios,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=50_000, help="events to build (default 50000)")
    parser.add_argument(
        "--batch", type=int, default=DEFAULT_BATCH, help="events per transaction (the node's)"
    )
    parser.add_argument("--rounds", type=int, default=5, help="alternations of the two measures")
    args = parser.parse_args()
    with progress.step(f"signing {args.n} events"):
        events = build_events(args.n)
    with progress.step(f"{args.rounds} rounds of verifying and ingesting"):
        figures = trio.run(measure, events, args.batch, args.rounds)
    json.dump(
        {"n": args.n, "batch": args.batch, **figures, "python": platform.python_version()},
        sys.stdout,
    )
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
