"""Helpers for the end-to-end tests of ``trtsweep plan``/``run`` against the trtexec test double."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
DOUBLE_DIR = REPO / "tests" / "trtexec_double"
MODEL = REPO / "examples" / "models" / "tracker.onnx"
MODEL_FP16 = REPO / "examples" / "models" / "tracker_fp16.onnx"

# trtexec stops after `iterations` when `duration_s` is 0: every run step is a few tens of ms of double.
FAST_RUN: dict[str, Any] = {"warmup_ms": 0, "iterations": 5, "duration_s": 0, "avg_runs": 1,
                            "percentiles": [50, 99], "timeout_s": 60, "build_timeout_s": 60}
FAST_PERF: dict[str, Any] = {"latency_scale": 0, "max_samples": 10}


def write_sweep(path: Path, matrix: dict[str, Any], run: dict[str, Any] | None = None,
                model: Path = MODEL, fp16_model: Path | None = MODEL_FP16, **extra: Any) -> Path:
    """Write a one-model sweep file. Values are written as JSON, which is valid YAML flow style and
    quotes any path (spaces, quotes, ';') correctly."""
    lines = ["models:", "  - name: tracker", f"    onnx: {json.dumps(str(model))}"]
    if fp16_model is not None:
        lines.append(f"    precision_onnx: {{fp16: {json.dumps(str(fp16_model))}}}")
    lines += ["    inputs:", "      images: {shape: [batch, 3, 128, 64]}", "matrix:"]
    lines += [f"  {k}: {json.dumps(v)}" for k, v in matrix.items()]
    lines.append(f"run: {json.dumps({**FAST_RUN, **(run or {})})}")
    lines += [f"{k}: {json.dumps(v)}" for k, v in extra.items()]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")
    return path


def double_env(workdir: Path, config: dict[str, Any] | None = None, version: str | None = None,
               path_first: Path | None = None, name: str = "double-config.json") -> dict[str, str]:
    """Environment that puts the trtexec (and nvidia-smi) double first on PATH with this config.

    The config is written to ``workdir/name``. A test that changes the double's behaviour between two
    runs gives the second config another ``name``: a double still running from the first run (an orphan,
    or one still starting) keeps reading its own file.
    """
    cfg_path = workdir / name
    cfg = dict(config or {})
    cfg["perf"] = {**FAST_PERF, **cfg.get("perf", {})}
    cfg_path.write_text(json.dumps(cfg))
    unset = ("TRTEXEC", "TRTEXEC_DOUBLE_VERSION", "CUDA_VISIBLE_DEVICES", "NVIDIA_SMI_DOUBLE_FIXTURE")
    env = {k: v for k, v in os.environ.items() if k not in unset}
    first = [str(path_first)] if path_first else []
    env["PATH"] = os.pathsep.join([*first, str(DOUBLE_DIR), env.get("PATH", "")])
    env["TRTEXEC_DOUBLE_CONFIG"] = str(cfg_path)
    if version:
        env["TRTEXEC_DOUBLE_VERSION"] = version
    return env


def counting_trtexec(folder: Path) -> tuple[Path, Path]:
    """A ``trtexec`` wrapper in ``folder`` that appends each invocation's arguments (one line, NUL-free)
    to a calls file and then execs the double; returns (folder, calls file). Lines are single small
    O_APPEND writes, so concurrent steps cannot interleave them."""
    folder.mkdir(parents=True, exist_ok=True)
    calls = folder / "calls.txt"
    wrapper = folder / "trtexec"
    wrapper.write_text(f'#!/bin/sh\nprintf "%s\\n" "$*" >> "{calls}"\nexec "{DOUBLE_DIR / "trtexec"}" "$@"\n')
    wrapper.chmod(0o755)
    return folder, calls


def call_counts(calls: Path) -> Counter[str]:
    """Invocations per argument line, without the ``--help`` probes trtsweep makes to learn the version."""
    lines = calls.read_text().splitlines() if calls.is_file() else []
    return Counter(line for line in lines if line.strip() and line.strip() != "--help")


def trtsweep(args: list[str], env: dict[str, str], timeout: float = 120,
             cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run the real CLI in a new process (as a user would) and capture its output."""
    return subprocess.run([sys.executable, "-m", "trtsweep.cli", *map(str, args)], env=env, cwd=cwd,
                          capture_output=True, text=True, timeout=timeout, check=False)


def start_trtsweep(args: list[str], env: dict[str, str]) -> subprocess.Popen[str]:
    """Start the CLI without waiting (for kill tests); its output goes to pipes the caller may read."""
    return subprocess.Popen([sys.executable, "-m", "trtsweep.cli", *map(str, args)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def step_statuses(run_dir: Path) -> dict[str, dict[str, Any]]:
    """Every finished step's ``status`` document by its folder relative to the run folder."""
    out = {}
    for status in sorted([*run_dir.glob("engines/*/status"), *run_dir.glob("runs/**/status")]):
        out[str(status.parent.relative_to(run_dir))] = json.loads(status.read_text())
    return out


def lock(run_dir: Path) -> dict[str, Any]:
    return json.loads((run_dir / "spec.lock.json").read_text())


def variant_statuses(run_dir: Path) -> dict[str, str]:
    """Status of repeat 0 of every variant of the lock ('missing' when it has no status file)."""
    out = {}
    for entry in lock(run_dir)["variants"]:
        status = run_dir / "runs" / entry["id"] / "status"
        out[entry["id"]] = json.loads(status.read_text())["status"] if status.is_file() else "missing"
    return out


def variant_id(run_dir: Path, **axes: Any) -> str:
    """The id of the one variant of the lock whose axes have these values."""
    found = [e["id"] for e in lock(run_dir)["variants"]
             if all(e["axes"].get(k) == v for k, v in axes.items())]
    assert len(found) == 1, (axes, found)
    return found[0]


def intervals(run_dir: Path) -> list[tuple[float, float, str | None]]:
    """(start, end, gpu) of every step that ran: ``cmd.json`` is written just before the process starts
    and ``status`` just after it ends."""
    out = []
    for rel, doc in step_statuses(run_dir).items():
        cmd = run_dir / rel / "cmd.json"
        if cmd.is_file():
            out.append((cmd.stat().st_mtime, (run_dir / rel / "status").stat().st_mtime, doc.get("gpu")))
    return out


def max_concurrency(spans: list[tuple[float, float, str | None]]) -> int:
    """Largest number of steps running at the same instant."""
    # At equal times an end sorts before a start: back-to-back steps on one GPU do not overlap.
    events = sorted([(s, 1) for s, _, _ in spans] + [(e, -1) for _, e, _ in spans])
    best = level = 0
    for _, delta in events:
        level += delta
        best = max(best, level)
    return best


def wait_for(predicate, timeout: float, what: str) -> None:  # noqa: ANN001 - any callable
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.05)


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is dead for our purpose (its parent, the killed trtsweep, is gone; init reaps it).
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False
