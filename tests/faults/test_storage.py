"""Crash safety and storage faults at CI size (tests/helpers/faults_storage.py;
``python bench/faults.py --only crash_safety storage_faults`` runs them at
full size)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from faults_storage import crash_safety, storage_faults
from faulty_sqlite import FaultPlan, faulty_sqlite


def test_crash_safety() -> None:
    figures = crash_safety(full=False)
    assert figures["passed"], figures
    kinds = ("node_kills", "worker_kills", "registrar_kills")
    assert all(figures[kind] >= least for kind, least in zip(kinds, (3, 15, 3), strict=True))
    assert figures["kills"] == sum(figures[kind] for kind in kinds)
    for part in ("node", "worker", "registrar"):
        assert figures[f"{part}_acknowledged"] > 0
    assert figures["lost"] == figures["integrity_failures"] == 0
    assert figures["vault_inconsistencies"] == 0
    assert figures["partial_batches"] == figures["phantoms"] == 0
    assert figures["restart_failures"] == figures["unexpected_answers"] == 0
    assert figures["final_stop_clean"] is True


def test_storage_faults() -> None:
    figures = storage_faults(full=False)
    assert figures["passed"], figures
    operations = [key.removeprefix("writes.") for key in figures if key.startswith("writes.")]
    assert operations == [
        "ingest_batch",
        "register_creating_vault",
        "register",
        "replace_key",
        "remember_peers",
        "create_store",
    ]
    # Every write of every operation failed once alone and once for good.
    assert figures["attempts"] == 2 * sum(figures[f"writes.{name}"] for name in operations)
    assert figures["faults_injected"] >= figures["attempts"]
    assert figures["wrong_errors"] == figures["inconsistencies"] == 0
    assert figures["completed_despite_fault"] == 0
    assert figures["retries_converged"] == figures["retries"] == figures["attempts"]
    # A registration or replacement whose undo could not be written either
    # leaves a trace, which the retry repaired.
    assert figures["traces_left"] > 0


def test_the_injector_fails_the_write_it_is_told_to(tmp_path: Path) -> None:
    plan = FaultPlan()
    with faulty_sqlite(plan):
        db = sqlite3.connect(tmp_path / "t.db", isolation_level=None)
    db.execute("CREATE TABLE t (x INTEGER)")
    plan.arm(4)  # BEGIN, rows 1 and 2 of the executemany, then row 3 fails
    db.execute("BEGIN")
    with pytest.raises(sqlite3.Error, match="injected"):
        db.executemany("INSERT INTO t VALUES (?)", [(1,), (2,), (3,), (4,)])
    assert db.execute("SELECT count(*) FROM t").fetchone() == (2,)  # part of the batch
    db.execute("ROLLBACK")  # never failed
    db.execute("INSERT INTO t VALUES (5)")  # once: the writes after it go through
    plan.arm(2, persistent=True)
    db.execute("INSERT INTO t VALUES (6)")
    for _ in range(2):
        with pytest.raises(sqlite3.Error, match="injected"):
            db.execute("INSERT INTO t VALUES (7)")
    plan.disarm()
    db.execute("INSERT INTO t VALUES (8)")
    assert [row[0] for row in db.execute("SELECT x FROM t ORDER BY x")] == [5, 6, 8]
    assert (plan.writes, plan.faults) == (3, 2)
    db.close()
