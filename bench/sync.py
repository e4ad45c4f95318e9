"""Two nodes, two processes, one sync session on loopback.

Node A holds N events; node B holds N - D of them and D of its own. A (this
process) opens a session with B (a child process) on /ayllu/sync/1.0.0:
reconciliation, fetching what A lacks, offering what B lacks. Prints JSON:

  rounds, bytes        the reconciliation rounds, and every byte of every
                       frame both ways;
  converge_s           from opening the stream until both hold the union
                       (A has ingested what it fetched, B has acknowledged
                       what A offered);
  bytes_ratio          bytes / the bytes of the 2D differing events
                       (goal <= 3);
  time_ratio           converge_s / the time to ingest those 2D events into
                       a store holding the rest, measured in the same run
                       (goal <= 5);
  phases_s             the session's reconcile, fetch (and ingest) and
                       offer times;
  prepare_s            what A spent, before the session, reading its store's
                       range index into memory, as a running node does once
                       when it starts (``SyncService.prepare``; B does too).

    python bench/sync.py [--n 100000] [--d 1000]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import multiaddr
import trio
from libp2p import new_host
from libp2p.crypto.ed25519 import create_new_key_pair
from libp2p.peer.peerinfo import info_from_p2p_addr

from node import progress
from node.ingest import ingest_raw
from node.sync import SyncService
from protocol.event import Event, SignedEvent, sign
from protocol.genesis import Genesis, make_genesis
from protocol.keys import key_from_seed
from storage.state import open_network_store

T0 = 1_767_225_600_000
AUTHORS = [key_from_seed(hashlib.sha256(b"bench author %d" % i).digest()) for i in range(64)]
GROUPS = [hashlib.sha256(b"bench group %d" % i).digest() for i in range(25)]


def genesis() -> Genesis:
    founder = bytes(AUTHORS[0].verify_key)
    return make_genesis(
        name="bench",
        ts=T0 - 86_400_000,
        root={
            "name": "bench",
            "langs": ["es"],
            "level": 3,
            "rules": {
                "quorum_pct": 50,
                "support_pct": 20,
                "threshold_pct": 50,
                "term_days": 90,
                "merit_days": 30,
            },
        },
        founder=founder,
        registrars=[founder],
        quorum=1,
    )


def events(count: int, net: bytes, salt: int) -> list[SignedEvent]:
    """Notes of 64 authors in 25 groups, about a second apart."""
    made = []
    for i in range(count):
        author = AUTHORS[i % len(AUTHORS)]
        event = Event(
            kind="note",
            group=GROUPS[i % len(GROUPS)],
            author=bytes(author.verify_key),
            net=net,
            ts=T0 + i * 997 + salt,
            body={"lang": "es", "text": f"acta {salt}.{i}: la asamblea acordó reunirse."},
        )
        made.append(sign(event, author))
    return made


async def fill(path: Path, doc: Genesis, raws: list[bytes]) -> float:
    async with open_network_store(path, doc) as store:
        started = time.perf_counter()
        await ingest_raw(store, raws, T0 + 10**9, doc.network_id)
        return time.perf_counter() - started


async def serve(path: Path, address_file: Path) -> None:
    """Node B: answer sync sessions until killed."""
    doc = genesis()
    host = new_host(key_pair=create_new_key_pair(b"b" * 32))
    async with open_network_store(path, doc) as store:
        service = SyncService(store, now_ms=lambda: T0 + 10**9)
        await service.prepare()  # as a running node does when it starts
        service.attach(host)
        async with host.run([multiaddr.Multiaddr("/ip4/127.0.0.1/tcp/0")]):
            address_file.write_text(str(host.get_addrs()[0]))
            await trio.sleep_forever()


async def initiate(path: Path, address: str) -> dict[str, Any]:
    doc = genesis()
    host = new_host(key_pair=create_new_key_pair(b"a" * 32))
    async with open_network_store(path, doc) as store:
        service = SyncService(store, now_ms=lambda: T0 + 10**9)
        prepared = time.perf_counter()
        await service.prepare()  # as a running node does when it starts
        prepare_s = time.perf_counter() - prepared
        async with host.run([multiaddr.Multiaddr("/ip4/127.0.0.1/tcp/0")]):
            info = info_from_p2p_addr(multiaddr.Multiaddr(address))
            await host.connect(info)
            started = time.perf_counter()
            report = await service.sync_with(host, info.peer_id)
            elapsed = time.perf_counter() - started
            await host.close()
    return {
        "rounds": report.rounds,
        "need": report.need,
        "have": report.have,
        "held": report.held,
        "bytes": report.bytes_sent + report.bytes_received,
        "converge_s": elapsed,
        "phases_s": report.phases,
        "prepare_s": round(prepare_s, 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--d", type=int, default=1_000)
    parser.add_argument("--serve", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--address-file", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve is not None:
        trio.run(serve, args.serve, args.address_file)
        return
    doc = genesis()
    with progress.step(f"signing {args.n + args.d} events"):
        common = events(args.n - args.d, doc.network_id, 0)
        only_a = events(args.d, doc.network_id, 1)
        only_b = events(args.d, doc.network_id, 2)
    with tempfile.TemporaryDirectory() as directory:
        root = Path(directory)
        trio.run(fill, root / "a.sqlite3", doc, [e.raw for e in common + only_a])
        trio.run(fill, root / "b.sqlite3", doc, [e.raw for e in common + only_b])
        # The baseline: ingest the 2D differing events into a store holding the rest.
        for suffix in ("", "-wal", "-shm"):
            if (root / f"b.sqlite3{suffix}").exists():
                shutil.copy(root / f"b.sqlite3{suffix}", root / f"c.sqlite3{suffix}")
        differing = [e.raw for e in only_a] + [e.raw for e in only_b]
        baseline_s = trio.run(fill, root / "c.sqlite3", doc, differing)
        address_file = root / "b.address"
        child = subprocess.Popen(
            [sys.executable, __file__, "--serve", str(root / "b.sqlite3"), "--address-file",
             str(address_file)],
            env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])},
        )  # fmt: skip
        try:
            deadline = time.monotonic() + 60
            while not address_file.exists() or not address_file.read_text():
                if time.monotonic() > deadline or child.poll() is not None:
                    raise SystemExit("node B did not start")
                time.sleep(0.05)
            figures = trio.run(initiate, root / "a.sqlite3", address_file.read_text())
        finally:
            child.terminate()
            child.wait(timeout=30)
    differing_bytes = sum(len(raw) for raw in differing)
    print(
        json.dumps(
            {
                "n": args.n,
                "d": args.d,
                **{k: round(v, 3) if isinstance(v, float) else v for k, v in figures.items()},
                "differing_bytes": differing_bytes,
                "bytes_ratio": round(figures["bytes"] / differing_bytes, 3),
                "ingest_differing_s": round(baseline_s, 3),
                "time_ratio": round(figures["converge_s"] / baseline_s, 3),
                "python": platform.python_version(),
            }
        )
    )


if __name__ == "__main__":
    main()
