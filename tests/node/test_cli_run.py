"""``ayllu run`` as a process: its node.json, its API, a clean stop on
SIGTERM, nothing acknowledged lost to SIGKILL, and its usage errors."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import trio
from event_factory import note
from network_factory import Scenario

from node.cli_run import _shift
from node.datadir import DataDir
from node.loopback import LOOPBACK, child_env
from storage.state import open_network_store


def _start(data_dir: DataDir, *extra: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-c", "from node.cli import main; main()", "run",
         "--data-dir", str(data_dir.root), "--listen", LOOPBACK, "--api", "127.0.0.1:0",
         "--no-mdns", *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=child_env(),
    )  # fmt: skip


async def _runtime(data_dir: DataDir, process: subprocess.Popen[bytes]) -> dict[str, str]:
    """The process's node.json (one left by a killed process names another pid)."""
    path = data_dir.root / "node.json"
    with trio.fail_after(30):
        while not path.exists() or json.loads(path.read_text())["pid"] != process.pid:
            assert process.poll() is None, process.communicate()
            await trio.sleep(0.05)
    document: dict[str, str] = json.loads(path.read_text())
    return document


async def test_acknowledged_events_survive_kill_9_and_sigterm_stops_cleanly(
    tmp_path: Path,
) -> None:
    s = Scenario()
    data_dir = DataDir(tmp_path / "node")
    await data_dir.initialize(s.genesis)
    process = _start(data_dir)
    try:
        runtime = await _runtime(data_dir, process)
        assert runtime["peer_id"].startswith("12D3KooW") and runtime["pid"] == process.pid
        event = note(s.now, group=s.net, net=s.net, text="kamachiy")
        async with httpx.AsyncClient() as client:
            answer = await client.post(
                f"{runtime['api']}/v1/events",
                content=event.raw,
                headers={"content-type": "application/cbor"},
            )
            assert answer.status_code == 201, answer.text
            status = (await client.get(f"{runtime['api']}/v1/status")).json()
            assert status["peer_id"] == runtime["peer_id"]
        # A bridge asks the running node what is stuck where.
        bridge = subprocess.run(
            [sys.executable, "-c", "from node.cli import main; main()", "bridge", "status",
             "--data-dir", str(data_dir.root), "--group", s.net.hex()[:12], "--json"],
            capture_output=True, env=child_env(), timeout=60,
        )  # fmt: skip
        assert bridge.returncode == 0, bridge.stderr
        [row] = json.loads(bridge.stdout)["groups"]
        assert row["group"] == s.net.hex() and row["reachable"] is False
        process.kill()  # SIGKILL: no chance to flush anything
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate()
    async with open_network_store(data_dir.store_path, s.genesis) as store:
        assert await store.events.get(event.id) == event.raw

    process = _start(data_dir)
    try:
        await _runtime(data_dir, process)
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, stderr.decode()
    assert not (data_dir.root / "node.json").exists()
    logs = [json.loads(line) for line in stderr.decode().splitlines()]
    assert {"node up", "stopping"} <= {line["message"] for line in logs}
    assert next(line for line in logs if line["message"] == "stopping")["signal"] == "SIGTERM"


def test_usage_errors(tmp_path: Path) -> None:
    data_dir = tmp_path / "none"
    for extra, complaint in (
        (["--api", "localhost"], "HOST:PORT"),
        (["--listen", "/ip4/127.0.0.1/udp/1"], "--listen"),
    ):
        done = subprocess.run(
            [sys.executable, "-c", "from node.cli import main; main()", "run",
             "--data-dir", str(data_dir), *extra],
            capture_output=True, env=child_env(), timeout=60,
        )  # fmt: skip
        assert done.returncode == 2 and complaint in done.stderr.decode(), done.stderr


def test_ports_shift_for_each_node_of_a_process() -> None:
    assert _shift("/ip4/0.0.0.0/tcp/4001", 2) == "/ip4/0.0.0.0/tcp/4003"
    assert _shift("/ip4/127.0.0.1/tcp/0", 3) == "/ip4/127.0.0.1/tcp/0"


def test_a_config_file_sets_the_options(tmp_path: Path) -> None:
    config = tmp_path / "ayllu.toml"
    config.write_text(f'data-dir = ["{tmp_path / "nowhere"}"]\nsync-interval = 5\nmdns = false\n')
    done = subprocess.run(
        [sys.executable, "-c", "from node.cli import main; main()", "run", "--config", str(config)],
        capture_output=True, env=child_env(), timeout=60,
    )  # fmt: skip
    assert done.returncode == 1 and "no node at" in done.stderr.decode()
    assert str(tmp_path / "nowhere") in done.stderr.decode()
    config.write_text("sync_interval = 5\n")
    done = subprocess.run(
        [sys.executable, "-c", "from node.cli import main; main()", "run", "--config", str(config)],
        capture_output=True, env=child_env(), timeout=60,
    )  # fmt: skip
    assert done.returncode == 2 and "unknown setting 'sync_interval'" in done.stderr.decode()
