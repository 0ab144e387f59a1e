"""Diagnose rules on GPU telemetry (clock_throttled, gpu_shared, unstable_measurement's telemetry evidence),
over summaries computed from the recorded fake-NVML streams, written into records through the store."""

from __future__ import annotations

import json
import statistics
import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent / "fake_nvml"))
from fake import FakeNvmlLib  # noqa: E402

from trtsweep import diagnose as dg  # noqa: E402
from trtsweep import store  # noqa: E402
from trtsweep.analysis import telemetry as at  # noqa: E402
from trtsweep.orchestrate import telemetry as tm  # noqa: E402
from trtsweep.records import RunRecord, Stats  # noqa: E402

STREAMS = Path(__file__).parent / "fixtures" / "telemetry"
AXES = {"precision": "fp16", "batch": 1, "shapes": "static", "streams": 1, "cuda_graph": False}


def summary_of(name: str, foreign: list[int] = ()) -> dict[str, Any]:
    lib = FakeNvmlLib.from_file(STREAMS / name)
    nvml = tm.Nvml(lib)
    dev = nvml.devices()[0]
    n = len(json.loads((STREAMS / name).read_text())["gpus"][0]["stream"]["rows"])
    samples = [nvml.sample(nvml.handle(0), i / 10) for i in range(n)]
    procs = [at.ProcessSeen(1.0 + i, pid, "foreign", "python3", 2048.0) for i, pid in enumerate(foreign)]
    return at.summarize(samples, dev, procs, 10.0, 2.0)


def record(ms: float, telemetry: dict[str, Any] | None, cv: float = 0.3) -> RunRecord:
    return RunRecord(source="run.log", kind="trtexec_log", status="passed", trt_version="10.16.1",
                     throughput_qps=1000 / ms, latency_ms=Stats(median=ms),
                     gpu_compute_ms=Stats(median=ms * 0.98),
                     gpu_compute_cv_pct=cv, telemetry=telemetry)


def make_rs(root: Path, variants: list[tuple[str, dict[str, Any], list[RunRecord]]]) -> store.ResultSet:
    lock: dict[str, Any] = {"variants": []}
    for vid, axes, records in variants:
        lock["variants"].append({"id": vid, "axes": axes, "repeats": len(records)})
        for k, r in enumerate(records):
            store.write_step(store.variant_dir(root, vid, k), r, "passed")
    store.atomic_write_json(root / store.LOCK_FILE, lock)
    return store.load_result_set(root)


def one(findings, code):
    hits = [f for f in findings if f.code == code]
    assert len(hits) == 1, [f.code for f in findings]
    return hits[0]


def test_clock_throttled_names_reason_share_and_fix(tmp_path: Path) -> None:
    capped = summary_of("h200_powercap.json")
    steady = summary_of("h200_steady.json")
    rs = make_rs(tmp_path, [("b1", AXES, [record(1.0, steady)]),
                            ("b2", {**AXES, "batch": 2}, [record(1.6, capped)])])
    f = one(dg.diagnose(rs), "clock_throttled")
    data = json.loads((STREAMS / "h200_powercap.json").read_text())["gpus"][0]["stream"]["rows"]
    busy = [r for r in data if not r[6] & 1 and r[4] > 0]
    share = sum(1 for r in busy if r[6] & 4) / len(busy)
    assert f"sw_power_cap up to {share * 100:.0f} % of the run" in f.title
    assert "1 of 2 variant(s)" in f.title and f.severity == "high"  # one throttled, one not: biased
    assert [e.variant_id for e in f.evidence] == ["b2"]
    median = statistics.median(r[0] for r in busy)
    assert f"SM clock median {median:.0f} MHz of max 1980 MHz" in f.evidence[0].text
    assert "700 W limit" in f.evidence[0].text
    assert "nvidia-smi -lgc" in f.next_step and "root" in f.next_step
    assert f.evidence[0].values["reason_share"] == pytest.approx(share, abs=1e-4)


def test_no_clock_finding_when_steady_locked_or_without_telemetry(tmp_path: Path) -> None:
    rs = make_rs(tmp_path / "a", [("s", AXES, [record(1.0, summary_of("h200_steady.json"))]),
                                  ("l", {**AXES, "batch": 2}, [record(1.5, summary_of("h200_locked.json"))]),
                                  ("n", {**AXES, "batch": 4}, [record(2.0, at.not_available("no NVML"))]),
                                  ("i", {**AXES, "batch": 8}, [record(3.0, None)])])
    codes = [f.code for f in dg.diagnose(rs)]
    assert "clock_throttled" not in codes and "gpu_shared" not in codes


def test_gpu_shared_lists_the_foreign_processes(tmp_path: Path) -> None:
    shared = summary_of("h200_steady.json", foreign=[4242])
    rs = make_rs(tmp_path, [("s", AXES, [record(1.0, shared)]),
                            ("t", {**AXES, "batch": 2}, [record(1.5, summary_of("h200_steady.json"))])])
    f = one(dg.diagnose(rs), "gpu_shared")
    assert f.severity == "high" and [e.variant_id for e in f.evidence] == ["s"]
    assert "pid 4242 (python3" in f.evidence[0].text and "2048 MiB" in f.evidence[0].text


def test_unstable_measurement_cites_telemetry(tmp_path: Path) -> None:
    capped = summary_of("h200_powercap.json", foreign=[777])
    rs = make_rs(tmp_path, [("u", AXES, [record(1.0, capped, cv=6.0)])])
    f = one(dg.diagnose(rs), "unstable_measurement")
    cited = [e for e in f.evidence if "telemetry:" in e.text]
    assert len(cited) == 1
    c = capped["sm_clock_mhz"]
    assert f"SM clock {c['min']:.0f}-{c['max']:.0f} MHz" in cited[0].text
    assert "sw_power_cap" in cited[0].text and "1 other process(es)" in cited[0].text
    assert "likely cause" in f.explanation


def test_repeats_combine_to_the_worst(tmp_path: Path) -> None:
    rs = make_rs(tmp_path, [("r", AXES, [record(1.0, summary_of("h200_steady.json")),
                                         record(1.3, summary_of("h200_powercap.json"))])])
    f = one(dg.diagnose(rs), "clock_throttled")
    assert f.evidence[0].values["reason"] == "sw_power_cap"


def test_json_findings_validate_codes() -> None:
    schema = json.loads(dg.schema_path().read_text())
    enum = schema["$defs"]["finding"]["properties"]["code"]["enum"]
    assert {"clock_throttled", "gpu_shared"} <= set(enum) == set(dg.RULE_CODES)


def test_report_shows_clocks_chart_and_first_screen_warning(tmp_path: Path) -> None:
    from trtsweep.reports.html import build_report

    capped = summary_of("h200_powercap.json")
    rs = make_rs(tmp_path / "run", [("s", AXES, [record(1.0, summary_of("h200_steady.json"))]),
                                    ("c", {**AXES, "batch": 2}, [record(1.6, capped)])])
    res = build_report([rs.root], tmp_path / "report")
    assert (tmp_path / "report" / "clocks_power.png").is_file()
    html = res.index_html.read_text()
    assert 'id="gpu-warning"' in html and "GPU clock throttled in 1 of 2 variant(s)" in html
    assert html.index('id="gpu-warning"') < html.index('id="summary"')  # on the first screen
    plain = make_rs(tmp_path / "plain", [("s", AXES, [record(1.0, None)])])
    res = build_report([plain.root], tmp_path / "report2")
    assert not (tmp_path / "report2" / "clocks_power.png").exists()
    assert 'id="gpu-warning"' not in res.index_html.read_text()
