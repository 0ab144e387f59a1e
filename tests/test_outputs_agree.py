"""Every output shows the same numbers: the run summary, summary.md, the HTML page, results.csv and
``diagnose --format json`` agree with each other and with ``analysis`` (issue #11).

Two result sets: the seed sweep (sweep.example.yaml, batches 1 and 8, 3 repeats) run through the trtexec
double, and real H100 logs imported from the corpus. For each, the best variant per batch, its time per
batch, samples/s and speedup are looked up in every output, and every variant's time per batch is
recomputed from results.csv by the documented definition (docs/metrics.md).
"""

from __future__ import annotations

import csv
import json
import re
import statistics
from pathlib import Path

import pytest
from e2e_helpers import REPO, double_env, trtsweep
from example_sets import materialise

from trtsweep import store
from trtsweep.analysis.model import ResultModel, build_model
from trtsweep.reports.tables import fmt


def _seed_sweep(tmp_path: Path) -> Path:
    text = (REPO / "sweep.example.yaml").read_text()
    text = text.replace("examples/models/", f"{REPO / 'examples' / 'models'}/")
    path = tmp_path / "seed.yaml"
    path.write_text(text)
    return path


def _html_text(path: Path) -> str:
    """The page's visible text, one cell per line-ish (tags dropped, entities kept as written)."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", path.read_text()))


def _csv_time_per_batch(run_dir: Path) -> dict[str, float]:
    """Time per batch of every variant from results.csv alone: per repeat, the latency median with one
    stream, else 1000 / qps (explicit batch); the variant's value is the median over its repeats."""
    per_repeat: dict[str, list[float]] = {}
    with open(run_dir / "results.csv", newline="") as fh:
        for row in csv.DictReader(fh):
            if row["status"] != "passed":
                continue
            streams = int(float(row.get("axis.streams") or 1))
            lat = float(row["latency_ms.median"]) if row.get("latency_ms.median") else None
            qps = float(row["throughput_qps"]) if row.get("throughput_qps") else None
            t = lat if streams <= 1 and lat else (1000.0 / qps if qps else lat)
            if t is not None:
                per_repeat.setdefault(row["variant_id"], []).append(t)
    return {vid: statistics.median(ts) for vid, ts in per_repeat.items()}


def _check_agree(model: ResultModel, run_dir: Path, report_dir: Path, diag: dict,
                 summary_out: str | None) -> int:
    """Assert every output shows the model's figures; returns the number of figures checked."""
    md = (report_dir / "summary.md").read_text()
    page = _html_text(report_dir / "index.html")
    checked = 0
    best = model.best
    assert best is not None
    # The best variant overall: one rule (samples/s), the same everywhere.
    assert f"Most samples/s: **{fmt(best.samples_per_s)}** with `{best.variant_id}`" in md
    assert f"Most samples/s: {fmt(best.samples_per_s)} samples/s {best.variant_id}" in page
    if summary_out is not None:
        assert f"most samples/s: {best.variant_id} at {fmt(best.samples_per_s)} samples/s" in summary_out
    # The best variant of each batch, with its time per batch, samples/s and speedup.
    for view in model.best_by_batch.values():
        figures = [fmt(view.time_per_batch_ms), fmt(view.samples_per_s)]
        md_row = next(line for line in md.splitlines() if f"| {view.variant_id} |" in line)
        assert all(f in md_row for f in figures), (md_row, figures)
        assert f"{view.variant_id} {figures[0]}" in page
        if view.speedup is not None:
            assert f"{fmt(view.speedup.ratio)}× ({view.speedup.basis})" in md_row
            assert f"{fmt(view.speedup.ratio)}× ({view.speedup.basis})" in page
        if summary_out is not None:
            line = next(x for x in summary_out.splitlines() if f"batch {view.batch}: {view.variant_id}" in x)
            assert f"{figures[0]} ms per batch, {figures[1]} samples/s" in line
            if view.speedup is not None:
                assert f"{fmt(view.speedup.ratio)}x vs" in line and f"({view.speedup.basis})" in line
        checked += 1
    # diagnose: the verdict's per-batch evidence is the same best variant, time and speedup.
    verdict = next((f for f in diag["findings"] if f["code"] in ("speedup_shortfall", "expectation_met")
                    and f["status"] == "found"), None)
    if model.expect_speedup and model.baseline is not None:
        assert verdict is not None
        for e in verdict["evidence"]:
            view = model.view(e["variant_id"])
            assert view is not None and model.best_by_batch[(view.model, view.batch)] is view
            assert e["values"]["trt_ms"] == pytest.approx(view.time_per_batch_ms, rel=1e-5)
            assert e["values"]["speedup"] == pytest.approx(view.speedup.ratio, rel=1e-5)
            checked += 1
    # Every sized finding is sized on a best variant of a batch (one basis).
    for f in diag["findings"]:
        if f["explained_at"] and f["code"] != "speedup_shortfall":
            at = f["explained_at"]
            view = model.view(at["variant_id"])
            assert view is not None and model.best_by_batch[(view.model, view.batch)] is view
            assert at["time_per_batch_ms"] == pytest.approx(view.time_per_batch_ms, rel=1e-5)
    # Every variant: the table shows the model's figures, and results.csv gives the same time per batch.
    from_csv = _csv_time_per_batch(run_dir)
    for view in model.views:
        assert from_csv[view.variant_id] == pytest.approx(view.time_per_batch_ms, rel=1e-9)
        assert f"{view.variant_id} " in page
        checked += 1
    return checked


@pytest.mark.e2e
def test_seed_sweep_outputs_agree(tmp_path: Path) -> None:
    env = double_env(tmp_path, {"perf": {"latency_scale": 1.0, "max_samples": 40}})
    run = tmp_path / "run"
    res = trtsweep(["run", _seed_sweep(tmp_path), "-o", run, "--only", "batch=1,8", "-q"], env, timeout=300)
    assert res.returncode == 0, res.stdout + res.stderr
    rep = trtsweep(["report", run, "-o", tmp_path / "rep"], env)
    assert rep.returncode == 0, rep.stderr
    diag = trtsweep(["diagnose", run, "--format", "json"], env)
    assert diag.returncode == 0, diag.stderr
    md = trtsweep(["report", run, "--format", "md"], env)
    # --format md is summary.md without the chart gaps (it draws no chart).
    written = (tmp_path / "rep" / "summary.md").read_text()
    assert md.stdout.split("## Missing data")[0].rstrip() == written.split("## Missing data")[0].rstrip()
    model = build_model(store.load_result_set(run))
    assert {v.batch for v in model.views} == {1, 8} and all(len(v.repeats) == 3 for v in model.views)
    assert _check_agree(model, run, tmp_path / "rep", json.loads(diag.stdout), res.stdout) >= 34


@pytest.mark.corpus
def test_imported_real_logs_outputs_agree(tmp_path: Path) -> None:
    env = double_env(tmp_path)
    run = tmp_path / "h100"
    assert trtsweep(["import", materialise(tmp_path, "h100-model-trained"), "-o", run], env).returncode == 0
    assert trtsweep(["report", run, "-o", tmp_path / "rep"], env).returncode == 0
    diag = trtsweep(["diagnose", run, "--format", "json"], env)
    model = build_model(store.load_result_set(run))
    assert model.views and _check_agree(model, run, tmp_path / "rep", json.loads(diag.stdout), None) >= 4
