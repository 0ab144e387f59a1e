"""``trtsweep compare``: golden tables for every verdict, exit codes, bad input, environment gate, JSON.

Run folders are written here record by record, so every expected figure follows from the input by hand:
B = factor x A repeat by repeat gives a Hodges-Lehmann ratio of exactly ``factor`` (the pairwise ratios
a_j/a_i are symmetric in log), and the 5-vs-5 interval is [d_(3), d_(23)] of the 25 pairwise ratios
(Moses, 96.8 % confidence).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from json_schema_subset import validate

from trtsweep.analysis.compare import compare_runs, cov_threshold_pct
from trtsweep.cli import main
from trtsweep.records import RunRecord, Stats, WarningRecord
from trtsweep.store import load_result_set

A5 = [9.9, 9.95, 10.0, 10.05, 10.1]  # log spread 0.79 %: threshold max(3 %, 1.6 %) = 3 %


def record(
    gpu_ms: float,
    trt: str = "10.8.0",
    gpu: str = "Test GPU",
    cv: float | None = None,
    qps: float | None = None,
    unstable: bool = False,
    telemetry: dict[str, Any] | None = None,
) -> RunRecord:
    return RunRecord(
        source="x.log",
        kind="trtexec_log",
        status="passed",
        trt_version=trt,
        gpu_compute_ms=Stats(median=gpu_ms, mean=gpu_ms),
        latency_ms=Stats(median=gpu_ms + 1, percentiles={"p99": gpu_ms + 2}),
        throughput_qps=qps if qps is not None else 1000.0 / gpu_ms,
        gpu_compute_cv_pct=cv,
        warnings=[WarningRecord("unstable_gpu_compute", "unstable")] if unstable else [],
        telemetry=telemetry,
    )


def make_run(
    root: Path, variants: dict[str, dict[str, Any]], env: dict[str, Any] | None = None, trt: str = "10.8.0"
) -> Path:
    """A run folder: ``variants`` maps an id to {"axes": {...}, "values": [ms per repeat], record kwargs}."""
    root.mkdir(parents=True)
    entries = []
    for vid, spec in variants.items():
        values = spec["values"]
        entries.append(
            {"id": vid, "model": spec.get("model", "m"), "axes": spec["axes"], "repeats": len(values)}
        )
        for k, ms in enumerate(values):
            d = root / "runs" / vid / (f"repeat-{k}" if k else "")
            d.mkdir(parents=True, exist_ok=True)
            extra = {x: spec[x] for x in ("cv", "qps", "unstable", "gpu", "telemetry") if x in spec}
            (d / "record.json").write_text(json.dumps(record(ms, trt=trt, **extra).to_dict()))
            (d / "status").write_text(json.dumps({"status": "passed"}))
    (root / "spec.lock.json").write_text(json.dumps({"variants": entries}))
    base_env = {
        "host": "box",
        "driver_version": "550.1",
        "cuda_version": "12.4",
        "gpus": [{"name": "Test GPU", "uuid": "GPU-1", "power_limit_w": 300}],
        "trtexec": {"version": trt},
    }
    (root / "env.json").write_text(json.dumps({**base_env, **(env or {})}))
    return root


def cli(*args: Any) -> Any:
    return CliRunner().invoke(main, ["compare", *map(str, args)])


def scaled(values: list[float], factor: float) -> list[float]:
    return [v * factor for v in values]


@pytest.fixture
def two_runs(tmp_path: Path) -> tuple[Path, Path]:
    a = {
        "slow": {"axes": {"batch": 1}, "values": A5},
        "fast": {"axes": {"batch": 2}, "values": A5},
        "same": {"axes": {"batch": 4}, "values": A5},
        "unsure": {"axes": {"batch": 8}, "values": A5},
        "gone": {"axes": {"batch": 16}, "values": A5},
    }
    b = {
        "x1": {"axes": {"batch": 1}, "values": scaled(A5, 1.10)},
        "x2": {"axes": {"batch": 2}, "values": scaled(A5, 0.90)},
        "x4": {"axes": {"batch": 4}, "values": list(A5)},
        "x8": {"axes": {"batch": 8}, "values": scaled(A5, 1.03)},
        "new": {"axes": {"batch": 32}, "values": A5},
    }
    return make_run(tmp_path / "a", a), make_run(tmp_path / "b", b)


def test_golden_two_run_table(two_runs: tuple[Path, Path]) -> None:
    res = cli(*two_runs)
    assert res.exit_code == 0, res.output
    lines = res.output.splitlines()
    # Pairwise ratios of A5: smallest 9.9/10.1, 9.9/10.05, 9.95/10.1 -> d_(3) = 0.98515, d_(23) = 1.01508.
    lo, hi = 9.95 / 10.1, 10.1 / 9.95
    expect = {
        "batch=1": (10.0, 11.0, 10.0, 1.10, "slower"),
        "batch=2": (10.0, 9.0, -10.0, 0.90, "faster"),
        "batch=4": (10.0, 10.0, 0.0, 1.00, "same"),
        "batch=8": (10.0, 10.3, 3.0, 1.03, "inconclusive"),
    }
    for key, (a, b, chg, f, verdict) in expect.items():
        row = next(x for x in lines if x.startswith(key + " "))
        ivl = f"[{(f * lo - 1) * 100:+.1f} %, {(f * hi - 1) * 100:+.1f} %]"
        assert row.split() == [
            key,
            f"{a:.4g}",
            f"{b:.4g}",
            f"{chg:+.1f}",
            "%",
            *ivl.split(),
            "5/5",
            verdict,
        ], row
    assert "threshold 3.0 % = max(3 %, 2 x pooled between-repeat spread 0.79 %)" in res.output.replace(
        "\n   ", ""
    )
    assert "Only in A: batch=16 (gone)" in lines
    assert "Only in B: batch=32 (new)" in lines
    assert "batch=8: interval [+1.5 %, +4.6 %] straddles ±3.0 %" in res.output
    assert lines[-1] == "Summary: 1 slower, 1 faster, 1 same, 1 inconclusive -> REGRESSION: 1 slower"
    assert max(len(x) for x in lines) <= 100


def test_exit_codes(two_runs: tuple[Path, Path], tmp_path: Path) -> None:
    assert cli(*two_runs, "--fail-on-regression").exit_code == 3
    assert cli(*two_runs, "--fail-on-regression", "--fail-on-inconclusive").exit_code == 3
    assert cli(*two_runs, "--fail-on-inconclusive").exit_code == 4
    same_a = make_run(tmp_path / "sa", {"v": {"axes": {"batch": 1}, "values": A5}})
    same_b = make_run(tmp_path / "sb", {"v": {"axes": {"batch": 1}, "values": A5}})
    assert cli(same_a, same_b, "--fail-on-regression", "--fail-on-inconclusive").exit_code == 0
    unsure = make_run(tmp_path / "su", {"v": {"axes": {"batch": 1}, "values": scaled(A5, 1.03)}})
    res = cli(same_a, unsure, "--fail-on-regression")
    assert res.exit_code == 0 and "inconclusive" in res.output  # never reported as a regression


def test_single_run_and_few_repeats(tmp_path: Path) -> None:
    a = make_run(
        tmp_path / "a",
        {"v": {"axes": {"batch": 1}, "values": [10.0]}, "w": {"axes": {"batch": 2}, "values": [10.0, 10.1]}},
    )
    b = make_run(
        tmp_path / "b",
        {"v": {"axes": {"batch": 1}, "values": [12.0]}, "w": {"axes": {"batch": 2}, "values": [12.0, 12.1]}},
    )
    res = cli(a, b, "--fail-on-regression")
    assert res.exit_code == 0, res.output
    row = next(x for x in res.output.splitlines() if x.startswith("batch=1 "))
    assert row.split() == ["batch=1", "10", "12", "+20.0", "%", "-", "1/1", "inconclusive"]
    assert "single run: no significance claim" in res.output
    assert "2 repeats on A and 2 repeats on B (need 3 a side): set run.repeats: 5" in res.output


def test_unstable_side_is_inconclusive_not_a_regression(tmp_path: Path) -> None:
    a = make_run(tmp_path / "a", {"v": {"axes": {"batch": 1}, "values": A5, "cv": 0.5}}, trt="8.6.1")
    b = make_run(
        tmp_path / "b", {"v": {"axes": {"batch": 1}, "values": scaled(A5, 1.2), "cv": 4.0}}, trt="8.6.1"
    )
    res = cli(a, b, "--fail-on-regression")
    assert res.exit_code == 0
    assert "B unstable (GPU compute CoV 4 % > 1 %)" in res.output
    assert "lock clocks" in res.output
    assert cov_threshold_pct("8.6.1") == 1.0 and cov_threshold_pct("10.13.2") == 2.5
    # A spread above the threshold is unstable too: 10 vs 12.5 ms repeats spread ~10 %, given 3 %.
    wide = make_run(tmp_path / "w", {"v": {"axes": {"batch": 1}, "values": [10.0, 12.5, 10.0, 12.5, 11.0]}})
    res = cli(a, wide, "--threshold", "3")
    assert "B repeats spread" in res.output and "inconclusive" in res.output


def busy(median_mhz: float, max_mhz: float = 1980, reasons: dict[str, float] | None = None) -> dict[str, Any]:
    """A telemetry summary of a step whose busy samples ran at ``median_mhz`` (the fields the gate reads)."""
    return {"available": True, "samples": 50, "busy_samples": 40, "max_sm_clock_mhz": max_mhz,
            "sm_clock_mhz": {"min": median_mhz - 15, "median": median_mhz, "max": median_mhz + 15},
            "reasons": reasons or {}, "throttle": reasons or {}}


def test_clock_gate_makes_a_slowdown_at_another_clock_inconclusive(tmp_path: Path) -> None:
    def one(name: str, values: list[float], telemetry: dict[str, Any]) -> Path:
        variant = {"axes": {"batch": 1}, "values": values, "telemetry": telemetry}
        return make_run(tmp_path / name, {"v": variant})

    a = one("a", A5, busy(1980))
    slower = scaled(A5, 1.10)
    res = cli(a, one("b", slower, busy(1500)), "--fail-on-regression")
    assert res.exit_code == 0, res.output  # not a regression: B ran 24 % below A's clock
    assert "SM clock median 1980 MHz (A) vs 1500 MHz (B)" in res.output and "inconclusive" in res.output
    # The same slowdown at the same clock is a regression (the gate is what changed the verdict).
    res = cli(a, one("c", slower, busy(1975)), "--fail-on-regression")
    assert res.exit_code == 3 and "slower" in res.output
    # One side spent its run at the power cap, the other not: inconclusive even at a similar median.
    res = cli(a, one("d", slower, busy(1960, reasons={"sw_power_cap": 0.8})), "--format", "json")
    change = json.loads(res.output)["pairs"][0]["changes"][0]
    assert change["verdict"] == "inconclusive" and "side B throttled" in change["why"]


def test_clock_gate_across_gpu_models_uses_the_share_of_each_maximum() -> None:
    from trtsweep.analysis.telemetry import clock_gap

    # An H100 at 1755 of 1980 MHz (89 %) and an L4 at 1785 of 2040 MHz (88 %): comparable.
    assert clock_gap(1755, 1980, 1785, 2040) is None
    # The L4 at 1200 of 2040 MHz (59 %): the hardware comparison would compare a throttled L4.
    why = clock_gap(1755, 1980, 1200, 2040)
    assert why is not None and "89 % of its maximum" in why and "59 %" in why
    # One model: MHz compared directly.
    assert clock_gap(1980, 1980, 1900, 1980, threshold=0.05) is None
    assert clock_gap(1980, 1980, 1700, 1980, threshold=0.05) is not None


def test_throughput_higher_is_better(tmp_path: Path) -> None:
    a = make_run(tmp_path / "a", {"v": {"axes": {"batch": 1}, "values": A5}})
    b = make_run(tmp_path / "b", {"v": {"axes": {"batch": 1}, "values": scaled(A5, 1.25)}})
    res = cli(a, b, "--metric", "throughput", "--fail-on-regression")
    assert res.exit_code == 3  # 1000/ms qps fell by 1/1.25: slower
    row = next(x for x in res.output.splitlines() if x.startswith("batch=1 "))
    assert "-20.0 %" in row and row.endswith("slower")


def test_environment_gate(tmp_path: Path) -> None:
    a = make_run(tmp_path / "a", {"v": {"axes": {"batch": 1}, "values": A5}})
    b = make_run(tmp_path / "b", {"v": {"axes": {"batch": 1}, "values": A5}}, env={"driver_version": "555.2"})
    res = cli(a, b)
    assert "caution: driver differs (550.1 vs 555.2); a change may come from it" in res.output
    c = make_run(
        tmp_path / "c",
        {"v": {"axes": {"batch": 1}, "values": A5}},
        trt="10.13.2",
        env={"gpus": [{"name": "Other GPU", "uuid": "GPU-2", "power_limit_w": 700}]},
    )
    res = cli(a, c)
    assert "Environment: GPU and TensorRT differ: a hardware and TensorRT comparison" in res.output
    assert "caution" not in res.output  # another board has another UUID and power limit


def test_bad_input_one_line_exit_2(tmp_path: Path) -> None:
    a = make_run(tmp_path / "a", {"v": {"axes": {"batch": 1}, "values": A5}})
    (tmp_path / "plain").mkdir()
    cases = {
        "not a run": (a, tmp_path / "plain"),
        "no common": (a, make_run(tmp_path / "b", {"v": {"axes": {"batch": 2}, "values": A5}})),
        "one folder": (a,),
    }
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "spec.lock.json").write_text(json.dumps({"variants": [{"id": "v", "axes": {"batch": 1}}]}))
    cases["no results"] = (a, empty)
    nogpu = make_run(tmp_path / "ng", {"v": {"axes": {"batch": 1}, "values": A5}})
    rec = json.loads((nogpu / "runs/v/record.json").read_text())
    for k in range(5):
        p = nogpu / "runs/v" / (f"repeat-{k}" if k else "") / "record.json"
        rec = json.loads(p.read_text())
        rec["gpu_compute_ms"] = None
        p.write_text(json.dumps(rec))
    cases["metric missing"] = (a, nogpu)
    expected = {
        "not a run": "not a trtsweep run folder",
        "no common": "no variant in common",
        "one folder": "at least two run folders",
        "no results": "has no results",
        "metric missing": "no matched variant has a GPU compute median on both sides",
    }
    for name, args in cases.items():
        res = cli(*args)
        assert res.exit_code == 2, (name, res.output)
        err = [x for x in res.output.splitlines() if x.strip()]
        assert len(err) == 1 and err[0].startswith("trtsweep: error: "), (name, res.output)
        assert expected[name] in err[0], (name, err)
        assert "Traceback" not in res.output
    assert cli(a, a, "--metric", "flops").exit_code == 2


def test_match_on_fewer_axes_and_models_named_differently(tmp_path: Path) -> None:
    a = make_run(
        tmp_path / "a",
        {"v": {"axes": {"batch": 4, "cuda_graph": False}, "values": [1.0], "model": "model-FP32"}},
    )
    b = make_run(
        tmp_path / "b",
        {"v": {"axes": {"batch": 4, "cuda_graph": True}, "values": [0.5], "model": "model-trained"}},
    )
    assert "no variant in common" in cli(a, b).output
    res = cli(a, b, "--match", "batch")
    assert res.exit_code == 0, res.output
    assert "models named differently" in res.output
    row = next(x for x in res.output.splitlines() if x.startswith("batch=4 "))
    assert "-50.0 %" in row


def test_matrix_of_three_runs(tmp_path: Path) -> None:
    runs = [
        make_run(
            tmp_path / n, {"v": {"axes": {"batch": 1}, "values": scaled(A5, f)}}, env={"gpus": [{"name": n}]}
        )
        for n, f in (("gpu-a", 1.0), ("gpu-b", 0.5), ("gpu-c", 2.0))
    ]
    res = cli(*runs)
    assert res.exit_code == 0, res.output
    row = next(x for x in res.output.splitlines() if x.startswith("batch=1 "))
    # ratios 0.5 and 2 with the A5 interval: [0.5 x 0.98515, 0.5 x 1.01508] = [0.493, 0.508]
    assert row.split()[:2] == ["batch=1", "10"]
    assert "0.5x [0.493, 0.508] faster" in row and "2x [1.97, 2.03] slower" in row
    assert "Reference (1.00x): gpu-a / box / TRT 10.8.0" in res.output
    multi = compare_runs([load_result_set(r) for r in runs])
    assert [len(p.changes) for p in multi.pairs] == [1, 1]


def test_json_is_stable_and_matches_its_schema(two_runs: tuple[Path, Path]) -> None:
    from trtsweep.reports.compare_json import SCHEMA_FILE

    res = cli(*two_runs, "--format", "json", "--layers")
    assert res.exit_code == 0, res.output
    doc = json.loads(res.output)
    schema = json.loads(SCHEMA_FILE.read_text())
    validate(doc, schema, schema)
    try:
        import jsonschema
    except ImportError:
        jsonschema = None
    if jsonschema is not None:
        jsonschema.validate(doc, schema)
    pair = doc["pairs"][0]
    assert pair["counts"] == {"slower": 1, "faster": 1, "same": 1, "inconclusive": 1}
    slow = next(c for c in pair["changes"] if c["variant"] == "batch=1")
    assert slow["ratio"] == pytest.approx(1.10) and slow["a"]["values"] == A5
    assert slow["interval"]["confidence"] == pytest.approx(
        1 - 2 * 4 / 252
    )  # P(U <= 2) = (1 + 1 + 2)/252 per tail
    assert doc["regression"] is True and doc["layers"] == []


def test_markdown_escapes_and_has_every_verdict(two_runs: tuple[Path, Path]) -> None:
    res = cli(*two_runs, "--format", "md")
    assert res.exit_code == 0
    for verdict in ("slower", "faster", "same", "inconclusive"):
        assert f"| {verdict}" in res.output.replace("🔴 ", "").replace("🟢 ", "").replace("⚪ ", "").replace(
            "🟡 ", ""
        )
    assert "<" not in res.output


def test_output_file(two_runs: tuple[Path, Path], tmp_path: Path) -> None:
    out = tmp_path / "cmp.json"
    res = cli(*two_runs, "--format", "json", "-o", out)
    assert res.exit_code == 0 and json.loads(out.read_text())["schema_version"] == 1
