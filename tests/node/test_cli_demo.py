"""``ayllu demo`` end to end, as a newcomer runs it (a smaller fractal: 1 +
2 + 4 nodes): the story's outcome as every node agrees on it, its refusal
of a bad directory, and ``--keep`` stopped by Ctrl-C with nothing left
running."""

from __future__ import annotations

import json
import signal
import subprocess
from pathlib import Path

import httpx

from node.loopback import AYLLU, child_env

#: Seconds a small demo may take, at most, on a slow CI machine.
DEMO_TIMEOUT_S = 240


def demo(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*AYLLU, "demo", "--fanout", "2", *args],
        capture_output=True,
        text=True,
        env=child_env(),
        timeout=DEMO_TIMEOUT_S,
    )


def test_the_demo_tells_its_story_and_cleans_up(tmp_path: Path) -> None:
    where = tmp_path / "demo"
    done = demo("--json", "--nodes-per-process", "2", "--dir", str(where))
    assert done.returncode == 0, done.stderr[-3000:]
    summary = json.loads(done.stdout)
    assert (summary["nodes"], summary["processes"]) == (7, 4)
    # 3, 5, 4 and 3 members in the four base groups; one in eleven stays home.
    assert summary["members"] == 15
    levels = summary["ballot"]
    assert [level["level"] for level in levels] == [1, 2, 3]
    assert [level["groups"] for level in levels] == [4, 2, 1]
    # Every level adds up to the same votes: the sums are of the counts.
    assert all(level["counts"] == levels[0]["counts"] for level in levels)
    assert all(level["eligible"] == 15 for level in levels)
    assert levels[0]["voters"] == sum(levels[0]["counts"]) == 14
    assert summary["options"] == ["sí", "no"]
    assert summary["decided_option"] == "sí"
    assert sorted(summary["flags"]) == ["no_allocation", "payee_is_steward"]
    assert summary["recall"]["decided_option"] == "recall"
    assert summary["report"]["status"] == "investigating"
    assert [step["name"].split()[0] for step in summary["steps"]] == [
        "registering", "starting", "deliberating", "voting", "counting", "electing", "recalling",
        "an",
    ]  # fmt: skip
    # What the progress said, on stderr.
    assert "starting 7 nodes on 127.0.0.1" in done.stderr
    # --dir keeps the data (member key files included); no node runs on it.
    assert len(list((where / "members").glob("member-*.key"))) == 15
    assert not list(where.glob("nodes/*/node.json"))


def test_the_demo_refuses_a_directory_that_exists(tmp_path: Path) -> None:
    done = demo("--dir", str(tmp_path))
    assert done.returncode == 2
    assert "exists already" in done.stderr


def test_keep_serves_until_ctrl_c(tmp_path: Path) -> None:
    where = tmp_path / "demo"
    with (tmp_path / "progress.log").open("w") as progress, subprocess.Popen(
        [*AYLLU, "demo", "--fanout", "2", "--levels", "2", "--keep", "--dir", str(where)],
        stdout=subprocess.PIPE,
        stderr=progress,
        text=True,
        env=child_env(),
    ) as process:
        try:
            assert process.stdout is not None
            lines = []
            for line in process.stdout:
                lines.append(line)
                if line.startswith("Web app: "):
                    break
            web = lines[-1].removeprefix("Web app: ").strip()
            status = httpx.get(f"{web}v1/status", timeout=10).json()
            # The web app's node serves the first base group, which ran the recall.
            assert [group["level"] for group in status["groups"]] == [1]
            assert any(line.startswith("Recall of the steward") for line in lines)
            assert len(list(where.glob("nodes/*/node.json"))) == 3
            process.send_signal(signal.SIGINT)
            process.wait(timeout=60)
        finally:
            if process.poll() is None:
                process.kill()
    progress_log = (tmp_path / "progress.log").read_text()[-3000:]
    assert process.returncode == 0, progress_log
    assert not list(where.glob("nodes/*/node.json")), progress_log
