"""Hostile conditions for the node's memory: kills and failing writes.

``crash_safety``: a node SIGKILLed at random moments of a heavy ingest
keeps every event it acknowledged, and its store passes SQLite's
``integrity_check`` and ``foreign_key_check``. Three kinds of process are
killed (tests/helpers/crash_kills.py):

- the real node (``ayllu run``), fed through ``POST /v1/events`` by several
  clients at once (governance events and chains of notes), killed at a
  random moment after it came up, or while it starts; an answer 200, 201
  or 202 acknowledges;
- for kills aimed at commits (a node spends most of its life elsewhere),
  tests/helpers/crash_worker.py, which ingests batches of random sizes
  through ``node.ingest.ingest_raw`` into ``open_network_store`` (the
  API's own path) and prints each batch once the call returned, killed a
  random delay after it is ready (or while it opens the store), mostly in
  a commit;
- processes registering people (``node.registrar.register``: the Code 1
  record in the vault, then the certificate in the store, two files no
  transaction spans), the first kills aimed at the vault's creation.

After each kill: every acknowledged event is stored, the batch in flight
is stored whole or not at all, nothing else is stored, the databases check
clean, the next process opens them; each acknowledged registration has its
certificate and its record, every stored certificate has its record, and
a record naming a certificate never stored is only ever that of the
registration in flight, which the next run repairs.

``storage_faults``: for each operation that writes (a mixed ingest batch
with governance events, a first registration that creates the vault, a
registration, a replacement of a member's key, the peer cache, creating a
store), the k-th write fails for k = 1, 2, ... until the operation writes
no more, once failing only write k and once failing every write from k on
(tests/helpers/faulty_sqlite.py, tests/helpers/write_faults.py). Each
attempt must raise StorageError and nothing else; leave the databases
clean, the folded state equal to a fresh fold of the store, the
reconciliation index equal to the store, and the vault agreeing with the
certificates (node/registrar.py: a record is kept exactly when its
certificate is stored, but for the trace of an interrupted act, which the
next attempt repairs, when even the undo could not be written); and the
same operation retried on the same open store, with the fault lifted, must
give what a run without fault gives.
"""

from __future__ import annotations

import random
import tempfile
import time
from pathlib import Path
from typing import Any

import crash_kills
import trio
import write_faults
from faulty_sqlite import FaultPlan, faulty_sqlite


def crash_safety(*, full: bool, seed: int = 1) -> dict[str, Any]:
    """SIGKILL during heavy ingest, then check what was acknowledged."""
    node_kills, worker_kills, registrar_kills = (200, 200, 20) if full else (3, 15, 3)
    rng = random.Random(seed)
    figures = crash_kills.CrashFigures()
    start = time.monotonic()
    elapsed: dict[str, float] = {}
    parts = (
        ("node", crash_kills.node_kills, node_kills),
        ("worker", crash_kills.worker_kills, worker_kills),
        ("registrar", crash_kills.registrar_kills, registrar_kills),
    )
    with tempfile.TemporaryDirectory(prefix="ayllu-crash-") as tmp:
        for name, part, count in parts:
            began = time.monotonic()
            trio.run(part, Path(tmp) / name, count, rng, figures)
            elapsed[f"{name}_elapsed_s"] = round(time.monotonic() - began, 1)
    f = figures
    kills = f.node_kills + f.worker_kills + f.registrar_kills
    passed = (
        kills >= node_kills + worker_kills + registrar_kills
        and f.lost == f.integrity_failures == f.partial_batches == f.phantoms == 0
        and f.vault_inconsistencies == 0
        and f.restart_failures == f.unexpected_answers == 0
        and f.final_stop_clean
        and f.node_acknowledged > 0
        and f.worker_acknowledged > 0
        and f.registrar_acknowledged > 0
    )
    figures_json = {k: v for k, v in vars(f).items() if k != "problems"}
    return {
        "passed": passed,
        "criterion": (
            "after every SIGKILL (of `ayllu run` under API load, of a process "
            "ingesting through the API's ingest path, of registrations writing the "
            "vault and the store): 0 acknowledged events or registrations lost, "
            "0 vault records naming a certificate never stored (but the one in flight), "
            "0 integrity_check or foreign_key_check failures, 0 batches stored in part, "
            "0 events stored that were never sent, every restart opens the store, "
            "and the node stops cleanly at the end"
        ),
        "kills": kills,
        "acknowledged": f.node_acknowledged + f.worker_acknowledged + f.registrar_acknowledged,
        **figures_json,
        "problems": "; ".join(f.problems[:5]),
        **elapsed,
        "elapsed_s": round(time.monotonic() - start, 1),
    }


def storage_faults(*, full: bool, seed: int = 1) -> dict[str, Any]:
    """Fail the k-th write of each operation that writes, for every k."""
    plan = FaultPlan(random.Random(seed))
    figures = write_faults.FaultFigures()
    start = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="ayllu-faults-") as tmp, faulty_sqlite(plan):
        trio.run(write_faults.attempt_all, Path(tmp), full, plan, figures)
    f = figures
    passed = (
        f.wrong_errors == f.inconsistencies == 0
        and f.retries == f.retries_converged == f.attempts
        and f.faults_injected >= f.attempts
    )
    return {
        "passed": passed,
        "criterion": (
            "every failed write (k = 1.. until the operation completes; once, and from k "
            "on) makes the operation raise StorageError and nothing else; the databases "
            "check clean, the state equals a fresh fold of the store, the vault agrees "
            "with the certificates; and the retry with the fault lifted gives what a run "
            "without fault gives"
        ),
        "operations": len(f.writes),
        **{f"writes.{name}": count for name, count in f.writes.items()},
        **{k: v for k, v in vars(f).items() if k not in ("writes", "problems")},
        "problems": "; ".join(f.problems[:5]),
        "elapsed_s": round(time.monotonic() - start, 1),
    }


SCENARIOS = {"crash_safety": crash_safety, "storage_faults": storage_faults}
