"""history add under process faults: killed mid-write, and several writers at once."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from history_helpers import REPO, cli, dump, write_run

RUNNER = REPO / "tests" / "history_runner.py"
A, B = ("fp16", 1), ("fp32", 8)


def start(mode: str, marker: Path, args: list[object]) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.Popen([sys.executable, str(RUNNER), mode, str(marker), *map(str, args)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)


def wait_for(path: Path, proc: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if proc.poll() is not None:
            raise AssertionError(f"runner ended early: {proc.communicate()}")
        if time.monotonic() > deadline:
            raise AssertionError("the runner never reached the transaction")
        time.sleep(0.02)


def integrity(db: Path) -> str:
    conn = sqlite3.connect(db)
    try:
        return conn.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        conn.close()


@pytest.mark.e2e
def test_add_killed_mid_write_leaves_the_database_as_it_was(tmp_path: Path) -> None:
    db = tmp_path / "h.sqlite"
    first = write_run(tmp_path / "r1", "2025-03-01", {A: [2.0], B: [10.0]})
    assert cli(["history", "add", first, "--db", db]).returncode == 0
    before = dump(db)
    values = {(p, b): [1.0 + b, 1.1 + b] for p in ("fp16", "fp32", "int8") for b in range(1, 41)}
    big = write_run(tmp_path / "r2", "2025-03-02", values, layers=20)
    marker = tmp_path / "in-tx"
    proc = start("hang", marker, ["history", "add", big, "--db", db])
    try:
        wait_for(marker, proc)
        # the transaction has written every row of the run; SIGKILL before it commits
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == -signal.SIGKILL
    assert integrity(db) == "ok"
    assert dump(db) == before
    listed = cli(["history", "list", "--db", db])
    assert listed.returncode == 0 and "20250302" not in listed.stdout
    # the lock died with the process: the same add now goes through, whole
    done = cli(["history", "add", big, "--db", db])
    assert done.returncode == 0 and "120 variant(s), 240 repeat(s)" in done.stdout, done.stdout + done.stderr


@pytest.mark.e2e
def test_two_processes_adding_at_once_both_succeed(tmp_path: Path) -> None:
    db = tmp_path / "h.sqlite"
    runs = [write_run(tmp_path / f"r{i}", f"2025-03-0{i}", {A: [2.0 + i], B: [10.0]}) for i in (1, 2)]
    markers = [tmp_path / "m1", tmp_path / "m2"]
    # the first holds its transaction open for a second; the second must wait for it, not fail
    p1 = start("slow", markers[0], ["history", "add", runs[0], "--db", db])
    wait_for(markers[0], p1)
    p2 = start("slow", markers[1], ["history", "add", runs[1], "--db", db])
    p3 = subprocess.Popen([sys.executable, "-m", "trtsweep", "history", "add", str(runs[0]), "--db", str(db)],
                          env={**os.environ, "PYTHONPATH": str(REPO)}, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True)
    outs = [p.communicate(timeout=120) for p in (p1, p2, p3)]
    assert [p.returncode for p in (p1, p2, p3)] == [0, 0, 0], outs
    assert markers[1].exists()
    assert "added run" in outs[0][0] and "added run" in outs[1][0]
    assert "nothing changed" in outs[2][0]  # the same run a second time, concurrently: one copy
    assert integrity(db) == "ok"
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("SELECT COUNT(*) FROM runs").fetchone()[0] == 2
        assert conn.execute("SELECT COUNT(*) FROM repeats").fetchone()[0] == 4
    finally:
        conn.close()
