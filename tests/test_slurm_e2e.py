"""End to end on a real single-node Slurm (tests/slurm/cluster.sh): sweeps through the trtexec double
with the Slurm executor, a job cancelled with scancel mid-sweep, a coordinator killed with -9.

The coordinator is ``trtsweep run`` with ``executor: slurm`` in its own process, so it can be killed; the
jobs run ``run_one`` on the "compute node" (this host).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from e2e_helpers import (
    REPO,
    call_counts,
    counting_trtexec,
    double_env,
    lock,
    step_statuses,
    trtsweep,
    write_sweep,
)
from e2e_helpers import wait_for as _wait_for
from slurm_cluster import slurm_cluster  # noqa: F401 - the fixture

pytestmark = pytest.mark.cluster

GPUS = [{"name": "NVIDIA H100 80GB HBM3", "uuid": "GPU-aaaaaaaa-0000-0000-0000-000000000000"},
        {"name": "NVIDIA H100 80GB HBM3", "uuid": "GPU-bbbbbbbb-1111-1111-1111-111111111111"}]
# 2 precisions x 3 batches x 2 streams = 12 variants on 6 engines (streams share an engine).
MATRIX = {"precision": ["fp32", "fp16"], "batch": [1, 2, 4], "streams": [1, 2]}


def _env(tmp: Path, cluster: dict[str, str], sleep_s: float, name: str = "double-config.json"
         ) -> tuple[dict[str, str], Path]:
    bindir, calls = counting_trtexec(tmp / "bin")
    env = double_env(tmp, {"gpus": GPUS, "perf": {"sleep_s": sleep_s}}, path_first=bindir, name=name)
    env.update(cluster)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")])
    return env, calls


def _coordinator(sweep: Path, run_dir: Path, options: dict[str, Any], env: dict[str, str],
                 log: Path) -> subprocess.Popen[bytes]:
    """``trtsweep run`` itself, as a user starts it: ``executor: slurm`` and the ``slurm:`` settings in the
    sweep file (written beside it, the same file for a restart), in its own process (for kill -9)."""
    with_slurm = sweep.with_name(f"{sweep.stem}-slurm.yaml")
    with_slurm.write_text(sweep.read_text() + f"executor: slurm\nslurm: {json.dumps(options)}\n")
    fh = open(log, "ab")  # noqa: SIM115 - the child owns it; a file, not a pipe, so nothing blocks
    return subprocess.Popen([sys.executable, "-m", "trtsweep", "run", str(with_slurm), "-o", str(run_dir)],
                            env=env, stdout=fh, stderr=subprocess.STDOUT)


def _book(run_dir: Path) -> dict[str, Any]:
    path = run_dir / "slurm" / "jobs.json"
    return json.loads(path.read_text())["units"] if path.is_file() else {}


def _attempts(step_dir: Path) -> list[dict[str, Any]]:
    return json.loads((step_dir / "slurm-attempts.json").read_text())


def _squeue(env: dict[str, str]) -> dict[str, str]:
    out = subprocess.run(["squeue", "-h", "-r", "-o", "%i|%T"], env=env, capture_output=True, text=True,
                         check=True).stdout
    return dict(line.split("|", 1) for line in out.split())


def _overlap(spans: list[tuple[float, float]]) -> int:
    events = sorted([(s, 1) for s, _ in spans] + [(e, -1) for _, e in spans])
    best = level = 0
    for _, delta in events:
        level += delta
        best = max(best, level)
    return best


def test_slurm_sweep_builds_each_engine_once_and_matches_a_local_run(tmp_path: Path,
                                                                      slurm_cluster: dict[str, str]) -> None:  # noqa: F811
    env, calls = _env(tmp_path, slurm_cluster, sleep_s=0.0)
    sweep = write_sweep(tmp_path / "s.yaml", MATRIX, run={"repeats": 2})
    out = tmp_path / "slurm-run"
    log = tmp_path / "coordinator.log"
    proc = _coordinator(sweep, out, {"poll_s": 0.3, "max_parallel": 3}, env, log)
    assert proc.wait(timeout=150) == 0, log.read_text()

    entries = lock(out)["variants"]
    assert len(entries) == 12
    build_ids = {e["build_id"] for e in entries}
    assert len(build_ids) == 6
    counts = call_counts(calls)
    builds = {line: n for line, n in counts.items() if "--saveEngine=" in line}
    runs = {line: n for line, n in counts.items() if "--loadEngine=" in line}
    # Each engine built by exactly one trtexec call; each variant and repeat timed exactly once.
    assert len(builds) == 6 and set(builds.values()) == {1}
    assert len(runs) == 24 and set(runs.values()) == {1}
    docs = step_statuses(out)
    assert len(docs) == 6 + 24 and {d["status"] for d in docs.values()} == {"passed"}
    # Slurm handed out both (fake) GPUs: each step ran with the CUDA_VISIBLE_DEVICES of its job.
    assert {d["gpu"] for d in docs.values()} == {"0", "1"}
    for rel in docs:
        attempts = _attempts(out / rel)
        assert len(attempts) == 1 and attempts[0]["job_id"]

    book = _book(out)
    assert len(book) == 6 + 12  # one unit per build, one per variant (its two repeats together)
    for key, unit in book.items():
        assert [a["ended"] for a in unit["attempts"]] == ["COMPLETED"], (key, unit)
    # Units ready together went out as one job array (ids ARRAY_TASK sharing the array id).
    arrays = {a["job_id"].split("_")[0] for u in book.values() for a in u["attempts"] if "_" in a["job_id"]}
    assert arrays and any(sum(a["job_id"].startswith(f"{arr}_") for u in book.values()
                              for a in u["attempts"]) > 1 for arr in arrays)
    # max_parallel 3: never more than 3 jobs in the queue at once.
    spans = [(a["submitted"], a["ended_at"]) for u in book.values() for a in u["attempts"]]
    assert 2 <= _overlap(spans) <= 3
    # A variant's repeats ran in the same job.
    for e in entries:
        first = _attempts(out / "runs" / e["id"])[0]["job_id"]
        assert _attempts(out / "runs" / e["id"] / "repeat-1")[0]["job_id"] == first

    # The same sweep with the local backend: the results table has the same shape.
    local = tmp_path / "local-run"
    done = trtsweep(["run", sweep, "-o", local, "-q"], {k: v for k, v in env.items() if k != "SLURM_CONF"})
    assert done.returncode == 0, done.stdout + done.stderr
    import pandas as pd

    a, b = pd.read_csv(out / "results.csv"), pd.read_csv(local / "results.csv")
    assert list(a.columns) == list(b.columns)
    assert len(a) == len(b) == 24
    key = [c for c in ("variant_id", "repeat") if c in a.columns]
    assert key, list(a.columns)
    assert sorted(map(tuple, a[key].values.tolist())) == sorted(map(tuple, b[key].values.tolist()))
    assert set(a["status"]) == set(b["status"]) == {"passed"}


def test_scancel_reruns_the_variant_and_a_killed_coordinator_duplicates_nothing(
        tmp_path: Path, slurm_cluster: dict[str, str]) -> None:  # noqa: F811
    # Each trtexec sleeps 1 s, so a run is caught in the middle and the coordinator killed mid-sweep.
    env, calls = _env(tmp_path, slurm_cluster, sleep_s=1.0)
    sweep = write_sweep(tmp_path / "k.yaml", MATRIX)
    out = tmp_path / "run"
    log = tmp_path / "coordinator.log"
    options = {"poll_s": 0.3, "max_parallel": 2}
    first = _coordinator(sweep, out, options, env, log)
    try:
        # 1. scancel the job of a variant whose trtexec has started (cmd.json) but not finished.
        victim: dict[str, str] = {}

        def running_variant() -> bool:
            queue = _squeue(env)
            for key, unit in _book(out).items():
                vdir = out / "runs" / key.removeprefix("variant/")
                if (key.startswith("variant/") and queue.get(unit.get("job_id") or "") == "RUNNING"
                        and (vdir / "cmd.json").is_file() and not (vdir / "status").is_file()):
                    victim.update(key=key, job=unit["job_id"])
                    return True
            return first.poll() is not None

        _wait_for(running_variant, 120, "a variant's job running its trtexec")
        assert first.poll() is None, log.read_text()
        subprocess.run(["scancel", victim["job"]], env=env, check=True)
        _wait_for(lambda: len(_book(out).get(victim["key"], {}).get("attempts", [])) == 2, 60,
                  "the cancelled variant to be resubmitted")
        assert _book(out)[victim["key"]]["attempts"][0]["ended"] == "CANCELLED"

        # 2. kill -9 the coordinator while jobs are in the queue (between two of its submissions the
        # queue can be empty for a moment: wait for a moment when it is not).
        in_queue: dict[str, str] = {}

        def mid_sweep() -> bool:
            in_queue.clear()
            in_queue.update(_squeue(env))
            return (len(step_statuses(out)) >= 8 and bool(in_queue)) or first.poll() is not None

        _wait_for(mid_sweep, 120, "8 steps done and jobs in the queue")
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
        assert first.returncode == -signal.SIGKILL, "the sweep ended before the kill: " + log.read_text()
    finally:
        if first.poll() is None:
            first.kill()
    before = {rel: (out / rel / "status").read_bytes() for rel in step_statuses(out)}

    second = _coordinator(sweep, out, options, env, log)
    assert second.wait(timeout=150) == 0, log.read_text()

    docs = step_statuses(out)
    assert len(docs) == 6 + 12 and {d["status"] for d in docs.values()} == {"passed"}
    # What had finished before the kill was neither rerun nor rewritten.
    for rel, text in before.items():
        assert (out / rel / "status").read_bytes() == text, rel
    book = _book(out)
    # One job per unit (reattached, not resubmitted), except the cancelled variant: two, the retry.
    for key, unit in book.items():
        assert len(unit["attempts"]) == (2 if key == victim["key"] else 1), (key, unit)
        # Every job's end is recorded, those that ended while no coordinator watched included.
        assert all(a["ended"] == "COMPLETED" for a in unit["attempts"][-1:]), (key, unit)
    victim_dir = out / "runs" / victim["key"].removeprefix("variant/")
    assert [a["job_id"] for a in _attempts(victim_dir)][-1] == book[victim["key"]]["attempts"][1]["job_id"]
    counts = call_counts(calls)
    victim_line = next(line for line in counts if str(victim_dir / "times.json") in line)
    assert counts[victim_line] == 2  # cancelled mid-run, then run again
    assert all(n == 1 for line, n in counts.items() if line != victim_line), counts
    for rel in docs:
        if rel != str(victim_dir.relative_to(out)):
            assert len(_attempts(out / rel)) == 1, rel
    # The jobs in the queue at the kill were the book's (nothing unrecorded), each its unit's only job.
    owned = {u["attempts"][-1]["job_id"] for u in book.values()}
    assert set(in_queue) <= owned
