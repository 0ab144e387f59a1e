"""End to end: `trtsweep run` through the trtexec double with the fake NVML (``tests/fake_nvml`` first on
PYTHONPATH, as ``pynvml``): every step folder gets ``telemetry.json``, the summary lands in the record and
in ``results.csv``, the double's own process is ours, a process started beside the sweep is foreign, and
``diagnose`` reports it. Without NVML the sweep runs as before and says telemetry was not available."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from e2e_helpers import REPO, double_env, write_sweep

pytestmark = pytest.mark.e2e
STREAMS = REPO / "tests" / "fixtures" / "telemetry"


def _timed_stream(tmp: Path) -> Path:
    doc = json.loads((STREAMS / "h200_powercap.json").read_text())
    doc["gpus"][0]["stream"].update(advance="time", loop=True)
    out = tmp / "stream.json"
    out.write_text(json.dumps(doc))
    return out


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "trtsweep.cli", *args], capture_output=True, text=True,
                          env=env, timeout=240, check=False)


def test_sweep_records_telemetry_ours_and_foreign(tmp_path: Path) -> None:
    sweep = write_sweep(tmp_path / "sweep.yaml", {"precision": ["fp32"], "batch": [1, 2]})
    env = double_env(tmp_path)
    procs = tmp_path / "procs"
    procs.write_text("")
    env.update(PYTHONPATH=os.pathsep.join([str(REPO / "tests" / "fake_nvml"), str(REPO)]),
               FAKE_NVML_STREAM=str(_timed_stream(tmp_path)), FAKE_NVML_PROCS=str(procs),
               TRTEXEC_DOUBLE_GPU_LOAD="1", TRTEXEC_DOUBLE_GPU_LOAD_S="0.8", TRTSWEEP_TELEMETRY_HZ="20")
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"], start_new_session=True)
    procs.write_text(f"{other.pid}\n")
    try:
        res = _run(["run", str(sweep), "-o", str(tmp_path / "out")], env)
    finally:
        other.kill()
        other.wait()
    assert res.returncode == 0, res.stdout + res.stderr
    assert "doctor: gpu_busy" in res.stderr  # the short doctor saw the other process before the sweep
    out = tmp_path / "out"
    steps = [p.parent for p in out.glob("*/*/status")]
    assert len(steps) == 4  # two static-shape builds, two runs
    doubles = {int(x) for x in procs.read_text().split()} - {other.pid}
    assert len(doubles) == 2  # each run step's double registered itself
    for step in steps:
        doc = json.loads((step / "telemetry.json").read_text())
        summary = json.loads((step / "record.json").read_text())["telemetry"]
        assert summary == doc["summary"] and summary["available"], step
        assert summary["device"]["uuid"] == "GPU-5e1f0c7a-0000-4000-8000-000000000000"
        assert len(doc["samples"]) == summary["samples"] > 0
        assert [p["pid"] for p in summary["foreign_processes"]] == [other.pid]
        ours = {p["pid"] for p in doc["processes"] if p["kind"] == "ours"}
        if step.parent.name == "runs":
            assert ours and ours <= doubles  # the double's own pid, seen as ours, never as foreign
            assert json.loads((step / "gpuload.json").read_text())["pid"] in ours
    with open(out / "results.csv") as fh:
        rows = list(csv.DictReader(fh))
    assert all(r["telemetry.status"] == "ok" and r["telemetry.foreign_pids"] == str(other.pid) for r in rows)
    assert all(float(r["telemetry.max_sm_clock_mhz"]) == 1980 for r in rows)
    diag = _run(["diagnose", str(out), "--format", "json"], env)
    codes = {f["code"] for f in json.loads(diag.stdout)["findings"]}
    assert "gpu_shared" in codes


def test_without_nvml_the_sweep_runs_and_says_not_available(tmp_path: Path) -> None:
    sweep = write_sweep(tmp_path / "sweep.yaml", {"precision": ["fp32"], "batch": [1]})
    env = double_env(tmp_path)
    env.update(PYTHONPATH=os.pathsep.join([str(REPO / "tests" / "fake_nvml"), str(REPO)]))
    env.pop("FAKE_NVML_STREAM", None)  # the fake then fails nvmlInit, like pynvml without a driver
    res = _run(["run", str(sweep), "-o", str(tmp_path / "out")], env)
    assert res.returncode == 0, res.stdout + res.stderr
    rec = json.loads(next((tmp_path / "out" / "runs").glob("*/record.json")).read_text())
    assert rec["telemetry"]["status"] == "not available"
    assert "NVML did not start" in rec["telemetry"]["reason"]
    with open(tmp_path / "out" / "results.csv") as fh:
        row = next(csv.DictReader(fh))
    assert row["telemetry.status"] == "not available"


def test_gpu_verify_script_cpu_path(tmp_path: Path) -> None:
    """benchmarks/gpu_verify_telemetry.sh --fake: the script the lead runs on an H200, on the fake NVML."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "CUDA_VISIBLE_DEVICES")}
    env.update(OUT=str(tmp_path / "out"), LOAD_S="1", IDLE_S="0", PYTHON=sys.executable)
    res = subprocess.run(["bash", str(REPO / "benchmarks" / "gpu_verify_telemetry.sh"), "--fake"],
                         capture_output=True, text=True, env=env, timeout=300, check=False)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-2000:]
    for check in ("our load process seen as ours", "software power cap", "the second process reported"):
        assert f"PASS {check}" in res.stdout
    kept = json.loads((tmp_path / "out" / "telemetry.json").read_text())
    assert kept["summary"]["available"]
    assert json.loads((tmp_path / "out" / "doctor.json").read_text())["findings"]
