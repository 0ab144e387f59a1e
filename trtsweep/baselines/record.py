"""A measurement -> a record of the same shape as trtexec's, and an ``--exportTimes``-like samples file.

The statistics are trtexec's own definitions (``parsers.timing_stats``: float32 sums, the middle element
or the float32 mean of the two middle ones as the median, non-interpolated percentiles, the population
coefficient of variance), so a PyTorch median and a TensorRT median mean the same thing. The figures go
where trtexec puts them:

- ``gpu_compute_ms``: the forward pass on the GPU (CUDA events); None where no event exists (CPU, ONNX
  Runtime), never replaced by a host time under the same name;
- ``h2d_ms`` / ``d2h_ms``: the copies (CUDA events, when ``data_transfers``);
- ``latency_ms``: H2D + GPU compute + D2H of one inference (trtexec's "Latency"); on a CPU, where there is
  no copy and no event, the host time of the inference call;
- ``end_to_end_ms``: the host clock from the start of the inference to the end of its synchronisation;
- ``enqueue_ms``: the host time of the launch call (it returns before the GPU finishes);
- ``throughput_qps``: timed inferences per second of host walltime (one query = one batch, as for an
  explicit-batch engine).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from trtsweep.baselines.protocol import Measurement
from trtsweep.parsers import timing_stats as ts
from trtsweep.records import Device, NoteRecord, RunRecord, Stats

KIND_PYTORCH = "baseline_pytorch"
KIND_ONNXRUNTIME = "baseline_onnxruntime"
KIND_BY_FRAMEWORK = {"pytorch": KIND_PYTORCH, "onnxruntime": KIND_ONNXRUNTIME}
SAMPLES_FILE = "times.json"


def _stats(values: Sequence[float] | np.ndarray | None, percentiles: Sequence[float]) -> Stats | None:
    if values is None or len(values) == 0:
        return None
    return ts.compute_stats(values, percentiles)


def _column(m: Measurement, name: str) -> np.ndarray | None:
    """One duration of every timed inference as float32, or None when any inference lacks it."""
    values = [getattr(t, name) for t in m.timings]
    if not values or any(v is None for v in values):
        return None
    return np.asarray(values, dtype=np.float32)


def build_record(m: Measurement, framework: str, source: str, *, device: Device | None = None,
                 options: dict[str, Any] | None = None, gpu_events: bool = False,
                 notes: Sequence[str] = ()) -> RunRecord:
    """The record of one measurement. ``gpu_events``: ``compute_ms`` (and copies) are CUDA-event times."""
    pct = m.settings.percentiles
    n = len(m.timings)
    e2e = np.asarray([(t.host_end - t.host_start) * 1000.0 for t in m.timings], dtype=np.float32)
    compute = _column(m, "compute_ms")
    h2d = _column(m, "h2d_ms") if gpu_events and m.settings.data_transfers else None
    d2h = _column(m, "d2h_ms") if gpu_events and m.settings.data_transfers else None
    latency = None
    if compute is not None:
        # trtexec's latency: the float32 sum H2D + compute + D2H of each inference.
        latency = compute.copy()
        if h2d is not None and d2h is not None:
            latency = h2d + compute + d2h
    rec = RunRecord(source=source, kind=KIND_BY_FRAMEWORK[framework], status="passed",
                    device=device or Device(), options=dict(options or {}))
    rec.gpu_compute_ms = _stats(compute, pct) if gpu_events else None
    rec.h2d_ms = _stats(h2d, pct)
    rec.d2h_ms = _stats(d2h, pct)
    rec.latency_ms = _stats(latency, pct) if latency is not None else _stats(e2e, pct)
    rec.end_to_end_ms = _stats(e2e, pct)
    rec.enqueue_ms = _stats(_column(m, "enqueue_ms"), pct)
    wall_ms = np.float32(m.walltime_s * 1000.0)
    if n and wall_ms > 0:
        rec.host_walltime_s = ts.to_float(wall_ms / np.float32(1000))
        rec.throughput_qps = ts.to_float(np.float32(n) / wall_ms * np.float32(1000))
    if gpu_events and compute is not None and rec.gpu_compute_ms is not None:
        # 8.0+ trtexec: total GPU compute = mean * N; CV of the ascending GPU compute times.
        rec.total_gpu_compute_s = ts.to_float(np.float32(rec.gpu_compute_ms.mean) * np.float32(n)
                                              / np.float32(1000))
        rec.gpu_compute_cv_pct = ts.coefficient_of_variance(ts.sorted_f32(compute))
    rec.options.update({"timed_inferences": n, "warmup_inferences": m.warmup_count,
                        "gpu_events": gpu_events})
    rec.notes = [NoteRecord("baseline", text) for text in notes]
    return rec


def samples(m: Measurement) -> list[dict[str, float]]:
    """The timed inferences in trtexec's ``--exportTimes`` layout (the 8.0-8.2 keys, which include the
    end-to-end time), so ``trtsweep parse times.json`` recomputes the same statistics.

    Times are ms from the start of the timed loop: the copies and compute on the GPU timeline (CUDA
    events) where there is one, else on the host clock; enqueue and end-to-end on the host clock."""
    out: list[dict[str, float]] = []
    for t in m.timings:
        host0 = (t.host_start - m.loop_start) * 1000.0
        h2d = t.h2d_ms or 0.0
        compute = t.compute_ms if t.compute_ms is not None else (t.host_end - t.host_start) * 1000.0
        d2h = t.d2h_ms or 0.0
        start = t.gpu_start_ms if t.gpu_start_ms is not None else host0
        out.append({
            "startEnqMs": host0, "endEnqMs": host0 + (t.enqueue_ms or 0.0),
            "startH2dMs": start, "endH2dMs": start + h2d,
            "startComputeMs": start + h2d, "endComputeMs": start + h2d + compute,
            "startD2hMs": start + h2d + compute, "endD2hMs": start + h2d + compute + d2h,
            "h2dMs": h2d, "computeMs": compute, "d2hMs": d2h, "latencyMs": h2d + compute + d2h,
            "endToEndMs": (t.host_end - t.host_start) * 1000.0,
        })
    return out
