"""Fault-injection trials: a two-GPU sweep through the trtexec double with random write errors and
``kill -9`` of trtsweep, then a clean resume; every trial must end consistent (issue #12).

Used by ``tests/test_fault_injection.py`` (a few trials in CI) and ``benchmarks/fault_injection.py``
(50+ trials). Checks per trial:
- every run ends with exit 0 or 1 (never a traceback, never a hang: each run is bounded);
- every ``passed`` status has its record, and the record passed;
- ``results.csv`` equals what the records give;
- no step that had finished before the resume ran again (its status and log are untouched).
"""

from __future__ import annotations

import csv
import random
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from e2e_helpers import double_env, step_statuses, write_sweep

from trtsweep import store

RUNNER = Path(__file__).with_name("fault_runner.py")
MATRIX = {"precision": ["fp32", "fp16"], "batch": [1, 2], "streams": [1, 2]}
GPUS = [{"name": "NVIDIA H100 80GB HBM3", "uuid": "GPU-aaaaaaaa-0000-0000-0000-000000000000"},
        {"name": "NVIDIA H100 80GB HBM3", "uuid": "GPU-bbbbbbbb-1111-1111-1111-111111111111"}]
RUN_TIMEOUT_S = 120


@dataclass
class Trial:
    seed: int
    first_exit: int | None  # None: killed
    resume_exit: int
    problems: list[str]


def _run(args: list[str], env: dict[str, str], seed: int, rate: float,
         kill_after: float | None) -> int | None:
    proc = subprocess.Popen([sys.executable, str(RUNNER), str(seed), str(rate), *map(str, args)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if kill_after is not None:
        try:
            proc.wait(timeout=kill_after)
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGKILL)
            proc.communicate(timeout=30)
            return None
    out, err = proc.communicate(timeout=RUN_TIMEOUT_S)
    if "Traceback" in out + err:
        raise AssertionError(f"traceback (seed {seed}):\n{out}\n{err}")
    return proc.returncode


def _results_agree(run_dir: Path) -> list[str]:
    rows = store.results_rows(store.load_result_set(run_dir))
    with open(run_dir / "results.csv", newline="") as fh:
        written = list(csv.DictReader(fh))
    if len(rows) != len(written):
        return [f"results.csv has {len(written)} rows, the records give {len(rows)}"]
    problems = []
    for want, got in zip(rows, written, strict=True):
        for key in ("variant_id", "repeat", "status", "latency_ms.median", "throughput_qps"):
            a, b = want.get(key), got.get(key)
            same = (a is None and b in ("", None)) or str(a) == b or (
                isinstance(a, float) and b not in ("", None) and abs(float(b) - a) <= 1e-9 * abs(a))
            if not same:
                problems.append(f"results.csv {want['variant_id']}/{want['repeat']} {key}: {b} != {a}")
    return problems


def trial(tmp: Path, seed: int, rate: float = 0.08) -> Trial:
    tmp.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    env = double_env(tmp, {"gpus": GPUS, "perf": {"sleep_s": 0.05}})
    sweep = write_sweep(tmp / "s.yaml", MATRIX)
    out = tmp / "run"
    kill_after = rng.uniform(0.8, 3.0) if rng.random() < 0.5 else None
    first = _run(["run", sweep, "-o", out, "--gpus", "0,1", "-q"], env, seed, rate, kill_after)
    problems = []
    if first not in (None, 0, 1):
        problems.append(f"first run exited {first}")
    finished = {}
    for rel in (step_statuses(out) if out.is_dir() else {}):
        log = out / rel / ("build.log" if rel.startswith("engines") else "run.log")
        finished[rel] = ((out / rel / "status").read_bytes(), log.stat().st_mtime_ns if log.exists() else 0)
    resume = _run(["run", sweep, "-o", out, "--gpus", "0,1", "-q"], env, seed, 0.0, None)
    if resume not in (0, 1):
        problems.append(f"resume exited {resume}")
    for rel, (status_bytes, log_mtime) in finished.items():
        now = out / rel
        log = now / ("build.log" if rel.startswith("engines") else "run.log")
        ran_again = log.exists() and log.stat().st_mtime_ns != log_mtime
        if (now / "status").read_bytes() != status_bytes or ran_again:
            problems.append(f"{rel} had finished and ran again")
    for rel, doc in step_statuses(out).items():
        if doc.get("status") == "passed":
            rec = store.load_record(out / rel)
            if rec is None or rec.status != "passed":
                problems.append(f"{rel}: status passed without a passed record")
    if (out / "results.csv").is_file():
        problems += _results_agree(out)
    else:
        problems.append("no results.csv after the resume")
    return Trial(seed, first, resume if resume is not None else -1, problems)


def summarize(trials: list[Trial]) -> dict[str, object]:
    return {"trials": len(trials), "killed": sum(t.first_exit is None for t in trials),
            "inconsistent": [(t.seed, t.problems) for t in trials if t.problems],
            "exits": sorted({(t.first_exit, t.resume_exit) for t in trials}, key=str)}


