"""The benchmarks still run and print their figures (no speed is asserted)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[1] / "bench"


def test_ingest_bench_prints_its_figures() -> None:
    done = subprocess.run(
        [sys.executable, str(BENCH / "ingest.py"), "--n", "400", "--batch", "100", "--rounds", "2"],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    figures = json.loads(done.stdout)
    assert figures["n"] == 400
    assert len(figures["ratio_per_round"]) == 2
    assert figures["raw_verify_per_s"] > 0 and figures["ingest_per_s"] > 0
    assert abs(figures["ratio"] - figures["ingest_per_s"] / figures["raw_verify_per_s"]) < 0.01
