"""Issue #21: run's machine-readable summary, the resume hint, plan's --trt-version precedence."""

from __future__ import annotations

import csv
import json
import signal
import statistics
from pathlib import Path

import pytest
from e2e_helpers import double_env, start_trtsweep, trtsweep, wait_for, write_sweep

pytestmark = pytest.mark.e2e

SMALL = {"precision": ["fp32", "fp16"], "batch": [1, 2]}


def test_run_json_prints_and_keeps_the_summary(tmp_path: Path) -> None:
    env = double_env(tmp_path)
    sweep = write_sweep(tmp_path / "s.yaml", SMALL)
    out = tmp_path / "run"
    res = trtsweep(["run", str(sweep), "-o", str(out), "--json"], env)
    assert res.returncode == 0, res.stdout + res.stderr
    doc = json.loads(res.stdout)  # stdout is the JSON alone; progress went to stderr
    assert doc == json.loads((out / "summary.json").read_text())
    assert doc["exit_code"] == 0 and doc["folder"] == {"passed": 4} and doc["this_run"]["passed"] >= 4
    # The best variant, recomputed from results.csv: samples/s = qps x batch (explicit batch: one query is
    # one batch), the median over repeats; one stream, so the time per batch is the latency median.
    rows = list(csv.DictReader((out / "results.csv").open()))
    per_variant: dict[str, list[float]] = {}
    for r in rows:
        per_variant.setdefault(r["variant_id"], []).append(float(r["throughput_qps"]) * int(r["axis.batch"]))
    best_id = max(per_variant, key=lambda v: statistics.median(per_variant[v]))
    assert doc["best"]["variant_id"] == best_id
    assert doc["best"]["samples_per_s"] == pytest.approx(statistics.median(per_variant[best_id]))
    assert sorted(b["batch"] for b in doc["best_by_batch"]) == [1, 2]


def test_interrupted_run_names_the_command_that_resumes_it(tmp_path: Path) -> None:
    env = double_env(tmp_path, {"fail": {"mode": "hang", "when": {"phase": "run", "batch": 2}}})
    sweep = write_sweep(tmp_path / "s.yaml", SMALL)
    out = tmp_path / "run"
    proc = start_trtsweep(["run", str(sweep), "-o", str(out), "--fresh"], env)
    wait_for(lambda: any(p.read_text().strip() for p in out.glob("runs/*b2*/pid")), 60, "the hanging step")
    proc.send_signal(signal.SIGTERM)
    output, _ = proc.communicate(timeout=30)
    assert proc.returncode == 128 + signal.SIGTERM, output
    hint = next(line for line in output.splitlines() if line.startswith("stopped:"))
    # Rerun with --fresh, the "resume" would delete what was just measured: the hint leaves it out.
    assert hint.endswith(f"trtsweep run {sweep} -o {out}"), hint
    assert json.loads((out / "summary.json").read_text())["interrupted"] is True


def test_plan_trt_version_wins_over_the_installed_trtexec(tmp_path: Path) -> None:
    env = double_env(tmp_path)  # the double reports 10.8.0
    sweep = write_sweep(tmp_path / "s.yaml", {"precision": ["fp32"], "batch": [1]})
    res = trtsweep(["plan", str(sweep), "--trt-version", "11.0"], env)
    assert res.returncode == 0, res.stderr
    assert "for trtexec 11.0.0" in res.stdout and "-v11.0.0" in res.stdout
    assert "planning for TensorRT 11.0 as --trt-version asks" in res.stderr and "is 10.8.0" in res.stderr
    bad = trtsweep(["plan", str(sweep), "--trt-version", "eleven"], env)
    assert bad.returncode == 2 and "--trt-version must look like" in bad.stderr


@pytest.mark.corpus
def test_diagnosis_of_imported_logs_gives_advice_that_applies_to_imported_logs(tmp_path: Path) -> None:
    import shutil

    from corpus_location import CORPUS

    from trtsweep import diagnose, store
    from trtsweep.orchestrate.importer import import_folder

    logs = tmp_path / "logs"
    logs.mkdir()
    for name in ("hackcn__trt10.16.1_result-01.log", "hackcn__trt10.16.1_result-03.log"):
        shutil.copy(CORPUS / name, logs / name)
    import_folder(logs, tmp_path / "run")
    findings = diagnose.diagnose(store.load_result_set(tmp_path / "run"), None, None)
    check = next(f for f in findings if f.code == "input_check")
    assert "trtsweep run" not in check.next_step and "axes read from the logs" in check.next_step
    assert all("no sweep axes" not in e.text for e in check.evidence)
