"""Run-folder store: atomic writes, resume markers, result sets and the results table."""

from __future__ import annotations

import json

import pandas as pd

from trtsweep import store
from trtsweep.records import RunRecord, Stats


def _record(median: float) -> RunRecord:
    stats = Stats(min=1.0, max=3.0, mean=2.0, median=median, percentiles={"p99": 2.9})
    return RunRecord(source="run.log", kind="trtexec_log", status="passed", throughput_qps=100.0,
                     gpu_compute_ms=stats)


def _make_run(tmp_path):
    store.atomic_write_json(tmp_path / store.LOCK_FILE, {
        "variants": [
            {"id": "fp16-b1", "axes": {"precision": "fp16", "batch": 1}, "build_id": "e1", "repeats": 2},
            {"id": "fp32-b1", "axes": {"precision": "fp32", "batch": 1}, "build_id": "e2"},
        ],
        "baseline": {"label": "PyTorch", "latency_ms": {"1": 40}},
    })
    store.write_step(store.variant_dir(tmp_path, "fp16-b1"), _record(2.0), "passed")
    store.write_step(store.variant_dir(tmp_path, "fp16-b1", 1), _record(2.2), "passed")
    store.write_step(store.engine_dir(tmp_path, "e2"), None, "failed", reason="oom")
    store.write_step(store.variant_dir(tmp_path, "fp32-b1"), None, "skipped", reason="engine e2 failed: oom")


def test_atomic_write_leaves_no_temp_files(tmp_path):
    store.atomic_write_json(tmp_path / "a.json", {"x": 1})
    store.atomic_write_json(tmp_path / "a.json", {"x": 2})
    assert json.loads((tmp_path / "a.json").read_text()) == {"x": 2}
    assert [p.name for p in tmp_path.iterdir()] == ["a.json"]


def test_step_without_status_is_incomplete(tmp_path):
    step = store.variant_dir(tmp_path, "v")
    step.mkdir(parents=True)
    (step / "record.json").write_text("{}")
    assert store.step_status(step) is None
    store.write_step(step, None, "passed")
    assert store.step_status(step) == {"status": "passed"}


def test_load_result_set_joins_repeats_and_reasons(tmp_path):
    _make_run(tmp_path)
    rs = store.load_result_set(tmp_path)
    by_id = {v.variant_id: v for v in rs.variants}
    assert [r.gpu_compute_ms.median for r in by_id["fp16-b1"].records] == [2.0, 2.2]
    assert by_id["fp16-b1"].status == "passed"
    assert by_id["fp32-b1"].status == "skipped"
    assert by_id["fp32-b1"].reason == "engine e2 failed: oom"
    assert rs.baseline == {"label": "PyTorch", "latency_ms": {"1": 40}}


def test_results_table_has_a_row_per_repeat(tmp_path):
    _make_run(tmp_path)
    rs = store.load_result_set(tmp_path)
    csv_path, pq_path = store.write_results(rs)
    frame = pd.read_csv(csv_path)
    assert list(frame["variant_id"]) == ["fp16-b1", "fp16-b1", "fp32-b1"]
    assert list(frame["gpu_compute_ms.median"][:2]) == [2.0, 2.2]
    assert frame["gpu_compute_ms.p99"][0] == 2.9
    assert pd.read_parquet(pq_path).shape[0] == 3


def test_not_a_run_folder(tmp_path):
    try:
        store.load_result_set(tmp_path)
    except FileNotFoundError as exc:
        assert "not a trtsweep run folder" in str(exc)
    else:
        raise AssertionError("expected FileNotFoundError")


def test_flatten_record_carries_failure_phase_and_notes() -> None:
    from trtsweep.records import NoteRecord

    rec = RunRecord(source="b.log", kind="trtexec_log", status="failed", failure="oom", failure_phase="build",
                    notes=[NoteRecord("inference_skipped", "Skipped inference phase since --skipInference")])
    row = store.flatten_record(rec)
    assert (row["failure"], row["failure_phase"], row["notes"]) == ("oom", "build", "inference_skipped")
    assert store.flatten_record(_record(2.0))["notes"] is None
