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


def test_ring_bench_prints_its_figures() -> None:
    done = subprocess.run(
        [sys.executable, str(BENCH / "ring.py"), "--sizes", "2,5", "--runs", "2"],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    figures = json.loads(done.stdout)
    assert [ring["size"] for ring in figures["rings"]] == [2, 5]
    floor_ms, ed25519_ms = figures["floor_ms"], figures["ed25519_verify_ms"]
    assert floor_ms > 0 and ed25519_ms > 0
    blocks = figures["building_blocks_us"]
    assert {"base_mul_us", "var_mul_us", "add_us", "from_uniform_us"} <= blocks.keys()
    for ring in figures["rings"]:
        assert ring["signature_bytes"] == 64 + 32 * ring["size"]
        assert ring["sign_ms"] > 0 and ring["verify_ms"] > 0
        expected = ring["verify_ms"] / (ring["size"] * floor_ms)
        assert abs(ring["ratio_to_floor"] - expected) < 0.01 * max(1.0, expected)


def test_tally_bench_prints_its_figures() -> None:
    done = subprocess.run(
        [sys.executable, str(BENCH / "tally.py"), "--levels", "3", "--fanout", "2", "--size", "3"],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    figures = json.loads(done.stdout)
    assert figures["voters"] == 12 and figures["ring_size"] == [12]
    assert figures["total_s"] > 0 and figures["ring_verify_per_s"] > 0
    expected = figures["votes_per_s"] / figures["ring_verify_per_s"]
    assert abs(figures["ratio"] - expected) < 0.01 * max(1.0, expected)


def test_sync_bench_prints_its_figures() -> None:
    done = subprocess.run(
        [sys.executable, str(BENCH / "sync.py"), "--n", "600", "--d", "20"],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    figures = json.loads(done.stdout)
    assert (figures["need"], figures["have"], figures["held"]) == (20, 20, 0)
    assert figures["bytes"] > 0 and figures["converge_s"] > 0
    assert abs(figures["bytes_ratio"] - figures["bytes"] / figures["differing_bytes"]) < 0.01


def test_propagation_bench_prints_its_figures() -> None:
    done = subprocess.run(
        [sys.executable, str(BENCH / "propagation.py"), "--proposals", "2"],
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
    )
    figures = json.loads(done.stdout)
    assert figures["nodes"] == 31 and figures["proposals"] == 2
    spread, hop = figures["proposal_all_s"], figures["proposal_hop_s"]
    assert 0 < hop["median"] <= spread["median"] <= spread["p95"]
    assert (
        abs(figures["hops_ratio"] - spread["median"] / hop["median"])
        < 0.01 * figures["hops_ratio"] + 0.01
    )
    assert figures["result_to_root_s"] > 0


def test_accountability_bench_prints_its_figures() -> None:
    done = subprocess.run(
        [
            sys.executable,
            str(BENCH / "accountability.py"),
            "--spends",
            "200",
            "--reports",
            "3",
            "--ring",
            "6",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    figures = json.loads(done.stdout)
    assert (figures["spends"], figures["reports"], figures["ring_size"]) == (200, 3, 10)
    assert abs(figures["ledger_ratio"] - figures["spends_per_s"] / figures["verify_per_s"]) < 0.01
    assert figures["reports_per_s"] > 0 and figures["ring_checks_per_s"] > 0


def test_web_bench_prints_its_figures() -> None:
    done = subprocess.run(
        [sys.executable, str(BENCH / "web.py"), "--requests", "5", "--rounds", "1"],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    figures = json.loads(done.stdout)
    assert (figures["groups"], figures["voters"]) == (31, 125)
    assert figures["pages_per_s"] > 0 and figures["json_per_s"] > 0
    expected = figures["pages_per_s"] / figures["json_per_s"]
    assert abs(figures["render_ratio"] - expected) < 0.01 * max(1.0, expected)
    sizes = figures["bytes"]
    assert all(0 < size["gzip"] <= size["raw"] + 64 for size in sizes.values())
    static = ("/static/style.css", "/static/app.js", "/static/ayllu-crypto.js")
    page = next(path for path in sizes if path.startswith("/b/"))
    assert figures["first_visit_gzip_bytes"] == sum(sizes[p]["gzip"] for p in (page, *static))
