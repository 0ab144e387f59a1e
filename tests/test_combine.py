"""Combining a log record with its exports, and the cross-check against printed summaries.

The printed figures below were typed from the logs' text (line numbers in comments), not taken from any
parser, so the recomputation from ``--exportTimes`` samples is checked against trtexec itself.
"""

from __future__ import annotations

import json

import pytest
from corpus_location import CORPUS

from trtsweep.parsers import exports
from trtsweep.parsers.combine import combine, compare_with_summary
from trtsweep.records import RunRecord, Stats

JETSON_TIMES = CORPUS / "jetsontrtexec__times_googlenet_None_int8_10.json"
KALFAZED_TIMES = CORPUS / "kalfazed__trt8.6.1_resnet50int8.engine.timing.json"


def _stats(mn: float, mx: float, mean: float | None, median: float, **pct: float) -> Stats:
    return Stats(min=mn, max=mx, mean=mean, median=median, percentiles=dict(pct))


# jetsontrtexec__raw_googlenet_None_int8_10.txt (TRT 7.x, 7 runs, --batch=1..128, "Percentile: 99",
# "Duration: 3s (+ 200ms warm up)"): per run batch, Host Latency (min, max, mean, median, p99), its
# end-to-end figures, GPU Compute (min, max, mean, median, p99), throughput, walltime, total compute time.
JETSON_RUNS = [
    (1, (1.99762, 3.29492, 2.06069, 2.03601, 2.5329), (2.00641, 3.31421, 2.07367, 2.04791, 2.59641),
     (1.9292, 3.21704, 1.9929, 1.97266, 2.47803), 479.452, 3.00343, 2.86978),  # lines 543-561
    (4, (4.39917, 8.58171, 4.48906, 4.44601, 5.68823), (4.40747, 8.61534, 4.50246, 4.45871, 5.70337),
     (4.2644, 8.35519, 4.34033, 4.30252, 5.5249), 886.0, 3.01129, 2.895),  # lines 847-865
    (8, (7.29834, 25.3059, 7.4747, 7.36664, 9.02014), (7.30844, 25.3162, 7.49246, 7.38181, 9.03629),
     (7.05103, 25.0808, 7.20973, 7.10495, 8.75006), 1065.42, 3.01853, 2.89831),  # lines 1063-1081
    (16, (13.3075, 17.572, 13.4812, 13.3781, 15.3262), (13.3272, 17.5847, 13.4997, 13.3947, 15.3457),
     (12.8423, 17.0762, 12.9965, 12.8995, 14.6831), 1183.75, 3.02766, 2.91122),  # lines 1219-1237
    (32, (24.9453, 31.6147, 25.2624, 25.0526, 27.8501), (24.9646, 31.62, 25.283, 25.0723, 27.8689),
     (24.0273, 30.7682, 24.3623, 24.1589, 26.9116), 1264.9, 3.0611, 2.94784),  # lines 1341-1359
    (64, (48.2336, 66.0154, 49.0268, 48.4331, 66.0154), (48.2534, 66.0378, 49.0556, 48.4578, 66.0378),
     (46.5259, 49.4675, 47.0099, 46.6834, 49.4675), 1304.18, 3.14067, 3.00863),  # lines 1444-1462
    (128, (94.6685, 102.536, 95.8883, 95.1907, 102.536), (94.9104, 102.755, 95.9813, 95.3555, 102.755),
     (91.0652, 98.9993, 92.2887, 91.6031, 98.9993), 1333.49, 3.26362, 3.13782),  # lines 1537-1555
]


def _jetson_log(run: int) -> RunRecord:
    batch, host, e2e, gpu, qps, wall, total = JETSON_RUNS[run]
    return RunRecord(
        source="jetson.log", kind="trtexec_log", status="passed",
        options={"batch": batch, "warmup_ms": 200.0, "percentiles": [99.0]},
        latency_ms=_stats(*host[:4], p99=host[4]), end_to_end_ms=_stats(*e2e[:4], p99=e2e[4]),
        gpu_compute_ms=_stats(*gpu[:4], p99=gpu[4]),
        # 7.x prints Enqueue Time min / max / median only (line 551-554 for run 1)
        enqueue_ms=_stats(1.9458, 3.23804, None, 1.98887) if run == 0 else None,
        throughput_qps=qps, host_walltime_s=wall, total_gpu_compute_s=total,
    )


def _jetson_arrays() -> list[list[dict]]:
    text, decoder, pos, out = JETSON_TIMES.read_text(), json.JSONDecoder(), 0, []
    while pos < len(text):
        if text[pos].isspace():
            pos += 1
            continue
        value, pos = decoder.raw_decode(text, pos)
        out.append(value)
    return out


@pytest.mark.corpus
def test_jetson_first_run_reproduces_every_printed_figure() -> None:
    times = exports.parse_times(_jetson_arrays()[0], "t", warmup_ms=200, percentiles=(99,))
    assert times.options["sample_count"] == 1440  # "Timing trace has 1440 queries over 3.00343 s"
    # units=0.5: within half a unit of the 6th digit, i.e. the same 6-digit figure
    assert compare_with_summary(_jetson_log(0), times, units=0.5) == []


@pytest.mark.corpus
@pytest.mark.parametrize("run", range(1, len(JETSON_RUNS)))
def test_jetson_other_runs_agree_within_export_rounding(run: int) -> None:
    # The exported samples are themselves rounded to 6 digits: a figure may be one unit off in the 6th
    # digit (e.g. run 4 Host Latency min 13.3075 printed, 13.3074 from the rounded components).
    times = exports.parse_times(_jetson_arrays()[run], "t", warmup_ms=200, percentiles=(99,))
    assert compare_with_summary(_jetson_log(run), times) == []


@pytest.mark.corpus
def test_jetson_run_warmup_counts() -> None:
    # "Warmup completed N queries" / "Timing trace has M queries" (queries = enqueues x batch)
    expected = [(80, 1440), (41, 667), (24, 402), (15, 224), (8, 121), (4, 64), (2, 34)]
    arrays = _jetson_arrays()
    got = [exports.parse_times(a, "t", warmup_ms=200) for a in arrays]
    assert [(r.options["warmup_dropped"], r.options["sample_count"]) for r in got] == expected


def _kalfazed_log() -> RunRecord:
    # kalfazed__trt8.6.1_rtx3080_resnet50int8_profile_run.log lines 1183-1191 (same run: lines 154-155
    # "Warmup completed 644 queries over 200 ms" / "Timing trace has 10220 queries over 3.00046 s").
    gpu = _stats(0.273193, 0.976898, 0.292246, 0.275391, p90=0.276611, p95=0.468018, p99=0.624634)
    zero = _stats(0.0, 0.0, 0.0, 0.0, p90=0.0, p95=0.0, p99=0.0)
    return RunRecord(
        source="kalfazed.log", kind="trtexec_log", status="passed", trt_version="8.6.1",
        options={"warmup_ms": 200.0, "percentiles": [90.0, 95.0, 99.0]},
        throughput_qps=3406.14, latency_ms=gpu, gpu_compute_ms=Stats(**vars(gpu)), h2d_ms=zero,
        d2h_ms=Stats(**vars(zero)),
        enqueue_ms=_stats(0.00463867, 0.0177002, 0.00532762, 0.00512695, p90=0.00561523, p95=0.0065918,
                          p99=0.0078125),
        host_walltime_s=3.00046, total_gpu_compute_s=2.98676, gpu_compute_cv_pct=22.8235,
    )


@pytest.mark.corpus
def test_kalfazed_times_file_is_the_logged_run() -> None:
    (times,) = exports.parse_export(KALFAZED_TIMES, "export_times")
    assert times.options["sample_count"] == 10220  # = "Timing trace has 10220 queries"
    recut = exports.parse_times(json.loads(KALFAZED_TIMES.read_text()), "k", warmup_ms=200)
    assert recut.options["warmup_dropped"] == 0  # 8.6.1 files hold timed samples only
    assert compare_with_summary(_kalfazed_log(), recut, units=0.5) == []


@pytest.mark.corpus
def test_compare_reports_disagreement() -> None:
    log = _kalfazed_log()
    log.gpu_compute_ms.mean = 0.3
    (times,) = exports.parse_export(KALFAZED_TIMES, "export_times")
    assert compare_with_summary(log, times) == ["gpu_compute_ms.mean: printed 0.3, recomputed 0.292246"]


@pytest.mark.corpus
def test_combine_fills_only_what_the_log_lacks() -> None:
    log = _jetson_log(0)
    log.options["percentiles"] = [99.0]
    log.total_gpu_compute_s = None
    times = exports.parse_export(JETSON_TIMES, "export_times")  # warm-up not cut at parse time
    profile_file = CORPUS / "jetsontrtexec__profile_googlenet_None_int8_10.json"
    profile = exports.parse_export(profile_file, "export_profile")
    out = combine(log, [times[0], profile[0]])
    assert out.options["exports"]["export_times"]["sample_count"] == 1440  # cut with the log's warm-up
    assert out.gpu_compute_ms.mean == 1.9929 and out.throughput_qps == 479.452  # printed: kept
    assert f"{out.total_gpu_compute_s:.6g}" == "2.86978"  # filled, from the 1440 timed samples
    assert out.enqueue_ms.min == 1.9458 and out.enqueue_ms.mean is not None  # 7.x prints no mean
    assert "enqueue_ms.mean" in out.options["filled_from_exports"]
    assert out.gpu_compute_cv_pct is not None and "gpu_compute_cv_pct" in out.options["filled_from_exports"]
    assert len(out.layers) == 73 and out.layers[0].time_ms == 0.0468854
    assert log.enqueue_ms.mean is None  # the input record is not modified


@pytest.mark.corpus
def test_combine_profiled_run_without_summary() -> None:
    # 8.4-10.x with the profiler attached print no summary: statistics come from the times file.
    log = RunRecord(source="run.log", kind="trtexec_log", status="passed", trt_version="8.6.1",
                    options={"warmup_ms": 200.0, "percentiles": [50.0, 99.0], "batch": 4})
    files = [exports.parse_export(CORPUS / n, k)[0] for n, k in (
        ("kalfazed__trt8.6.1_resnet50int8.engine.timing.json", "export_times"),
        ("kalfazed__trt8.6.1_resnet50int8.engine.profile.json", "export_profile"),
        ("kalfazed__trt8.6.1_resnet50int8.engine.graph.json", "export_layer_info"))]
    out = combine(log, files)
    assert out.kind == "trtexec_log" and out.status == "passed"
    assert out.options["exports"]["export_times"]["warmup_included"] is False  # 8.6.1: timed samples only
    assert set(out.gpu_compute_ms.percentiles) == {"p50", "p99"}
    assert f"{out.gpu_compute_ms.mean:.6g}" == "0.292246" and f"{out.gpu_compute_cv_pct:.6g}" == "22.8235"
    assert f"{out.throughput_qps:.6g}" == f"{3406.14 * 4:.6g}"
    assert out.options["throughput_basis"] == "per_query"
    soft = next(x for x in out.layers if x.name == "/softmax/Softmax")
    assert soft.type == "CaskSoftMaxV2" and soft.time_ms == 0.00423771


@pytest.mark.corpus
def test_combine_without_log_and_with_nothing() -> None:
    (times,) = exports.parse_export(KALFAZED_TIMES, "export_times")
    out = combine(None, [times])
    assert out.kind == "export_times" and type(out) is RunRecord
    assert combine(None, []).kind == "unrecognized"
