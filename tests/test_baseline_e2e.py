"""Measured baselines through the real code path on a CPU: the runner process with ONNX Runtime, the
preflight checks (exit 2 before anything runs), and ``trtsweep run`` with a BASELINE step per batch and
repeat against the trtexec double (resume, speedups on the stated basis, diagnose's baseline_method)."""

from __future__ import annotations

import importlib.util
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

import pytest
from e2e_helpers import double_env, trtsweep, write_sweep

from trtsweep.baselines.folder import collect
from trtsweep.parsers.exports import parse_export
from trtsweep.records import record_from_dict
from trtsweep.trtexec.runner import StepOutcome

if os.environ.get("CI") == "true":
    import onnxruntime  # noqa: F401 - in the dev extra: CI must have it, a missing one is an error
else:
    pytest.importorskip("onnxruntime", reason="onnxruntime is in the dev extra: pip install -e '.[dev]'")

REPO = Path(__file__).resolve().parent.parent
MODEL = REPO / "examples" / "models" / "tracker.onnx"
CPU = {"providers": ["CPUExecutionProvider"]}


def _runner(args: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "trtsweep.baselines.runner", *args], capture_output=True,
                          text=True, timeout=120, check=False)


def test_runner_measures_onnxruntime_on_cpu(tmp_path: Path) -> None:
    done = _runner(["--framework", "onnxruntime", "--model", str(MODEL), "--input", "images=2x3x128x64",
                    "--providers", "CPUExecutionProvider", "--warmup-ms", "20", "--iterations", "15",
                    "--duration-s", "0", "--percentiles", "50,99", "--out", str(tmp_path)])
    assert done.returncode == 0, done.stderr
    rec = record_from_dict(json.loads((tmp_path / "baseline.json").read_text()))
    assert rec.kind == "baseline_onnxruntime" and rec.status == "passed"
    assert rec.gpu_compute_ms is None  # no CUDA events on a CPU: never a host time under that name
    n = rec.options["timed_inferences"]
    assert n >= 15 and rec.options["warmup_inferences"] >= 1 and rec.options["batch"] == 2
    assert set(rec.end_to_end_ms.percentiles) == {"p50", "p99"}
    samples = json.loads((tmp_path / "times.json").read_text())
    assert len(samples) == n
    # The samples file read by the exportTimes parser: its end-to-end statistics are the record's.
    [parsed] = parse_export(tmp_path / "times.json", "export_times")
    assert parsed.end_to_end_ms.median == pytest.approx(rec.end_to_end_ms.median, rel=1e-5)
    e2e = sorted(s["endToEndMs"] for s in samples)
    assert rec.end_to_end_ms.max == pytest.approx(e2e[-1], rel=1e-6)
    assert rec.throughput_qps == pytest.approx(n / rec.host_walltime_s, rel=1e-5)


@pytest.mark.parametrize(("args", "key", "words"), [
    (["--input", "x=1x3x128x64"], "onnxruntime.model", "do not match the model's (images)"),
    (["--input", "images=1x3x64x64"], "onnxruntime.model", "does not fit the model's"),
    (["--input", "images=1x3x128x64", "--providers", "NoSuchExecutionProvider"], "onnxruntime.providers",
     "provider NoSuchExecutionProvider is not available"),
])
def test_runner_check_reports_setup_problems(args: list[str], key: str, words: str) -> None:
    base = ["--framework", "onnxruntime", "--model", str(MODEL), "--check"]
    if "--providers" not in args:
        base += ["--providers", "CPUExecutionProvider"]
    done = _runner([*base, *args])
    assert done.returncode == 2
    problem = json.loads(done.stdout.splitlines()[0])
    assert problem["key"] == key and words in problem["message"], problem


@pytest.mark.skipif(importlib.util.find_spec("torch") is not None, reason="torch is installed here")
def test_runner_without_torch_names_the_extra() -> None:
    done = _runner(["--framework", "pytorch", "--model", "examples.models.tracker_torch:make_tracker",
                    "--base", str(REPO), "--input", "images=1x3x128x64", "--check"])
    assert done.returncode == 2
    assert "pip install 'trtsweep[torch]'" in json.loads(done.stdout.splitlines()[0])["message"]


def test_collect_timeout_and_failure(tmp_path: Path) -> None:
    log = tmp_path / "run.log"
    log.write_text("measuring\nRuntimeError: CUDA out of memory. Tried to allocate 2 GiB\n")
    got = collect(tmp_path, log, StepOutcome(None, "timeout", 5.0, 9), 5.0)
    assert got.status == "timeout" and got.record.failure == "timeout"
    got = collect(tmp_path, log, StepOutcome(1, "failed", 1.0), 5.0)
    assert got.status == "failed" and got.record.failure == "oom"
    got = collect(tmp_path, log, StepOutcome(0, "passed", 1.0), 5.0)  # passed but wrote no record
    assert got.status == "failed"


def _sweep(tmp_path: Path, baseline: dict, fixed: str = "", **run) -> Path:
    path = write_sweep(tmp_path / "sweep.yaml", {"batch": [1, 8]}, {"repeats": 2, **run},
                       fp16_model=None, expect_speedup=3)
    # JSON flow style for the baseline, with the fixed figures' batch keys as YAML integers.
    text = json.dumps(baseline)
    if fixed:
        text = text[:-1] + f", latency_ms: {fixed}}}"
    path.write_text(path.read_text() + f"baseline: {text}\n")
    return path


@pytest.mark.e2e
def test_run_with_measured_onnxruntime_baseline(tmp_path: Path) -> None:
    sweep = _sweep(tmp_path, {"label": "ORT", "onnxruntime": CPU, "basis": "end_to_end"}, "{1: 40, 8: 160}",
                   warmup_ms=10, iterations=8)
    env = double_env(tmp_path)
    out = tmp_path / "run"
    done = trtsweep(["run", sweep, "-o", out, "-q"], env, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    lock = json.loads((out / "spec.lock.json").read_text())
    entries = {e["batch"]: e for e in lock["baselines"]}
    assert sorted(entries) == [1, 8] and all(e["repeats"] == 2 for e in entries.values())
    for e in entries.values():
        for k in (0, 1):
            sdir = out / "baselines" / e["id"] / ("" if k == 0 else f"repeat-{k}")
            assert json.loads((sdir / "status").read_text())["status"] == "passed"
            assert (sdir / "times.json").is_file() and (sdir / "run.log").is_file()
    # The speedup at batch 1 by hand: the median over repeats of the records' end-to-end medians.
    recs = [record_from_dict(json.loads((out / "baselines" / entries[1]["id"] / sub / "record.json")
                                        .read_text())) for sub in ("", "repeat-1")]
    base_ms = statistics.median(r.end_to_end_ms.median for r in recs)
    from trtsweep import store
    from trtsweep.analysis.model import build_model

    model = build_model(store.load_result_set(out))
    view = next(v for v in model.views if v.batch == 1)
    assert view.speedup.basis == "end_to_end" and view.speedup.baseline_ms == pytest.approx(base_ms)
    assert view.speedup.ratio == pytest.approx(base_ms / view.time_per_batch_ms)
    # diagnose: the fixed 40 ms is put next to the measured figure.
    diag = trtsweep(["diagnose", out, "--format", "json"], env)
    found = {f["code"]: f for f in json.loads(diag.stdout)["findings"]}
    ev = found["baseline_method"]["evidence"][0]["values"]
    assert ev["batch"] == 1 and ev["fixed_ms"] == 40 and ev["measured_ms"] == pytest.approx(base_ms, rel=1e-5)
    # Resume: nothing left to do, the baselines included.
    again = trtsweep(["run", sweep, "-o", out], env, timeout=300)
    assert again.returncode == 0 and "nothing to do" in again.stdout, again.stdout
    # A failed baseline counts in the folder's exit status.
    status = out / "baselines" / entries[8]["id"] / "status"
    status.write_text(json.dumps({**json.loads(status.read_text()), "status": "failed"}))
    assert trtsweep(["run", sweep, "-o", out, "-q"], env, timeout=300).returncode == 1


@pytest.mark.e2e
@pytest.mark.parametrize(("baseline", "words"), [
    ({"onnxruntime": {"providers": ["NoSuchExecutionProvider"]}}, "provider NoSuchExecutionProvider"),
    ({"pytorch": {"model": "nosuchpkg.mod:make"}}, "trtsweep[torch]" if importlib.util.find_spec("torch")
     is None else "cannot import 'nosuchpkg.mod'"),
])
def test_run_refuses_a_baseline_that_cannot_be_measured(tmp_path: Path, baseline: dict, words: str) -> None:
    sweep = _sweep(tmp_path, baseline)
    out = tmp_path / "run"
    done = trtsweep(["run", sweep, "-o", out], double_env(tmp_path), timeout=300)
    assert done.returncode == 2, done.stdout + done.stderr
    [line] = [x for x in done.stderr.splitlines() if x.strip()]
    assert f"{sweep}:" in line and words in line, line
    assert not out.exists()  # nothing ran, nothing was written
