"""Performance model, trtexec statistics and JSON exports of the trtexec double (test tool only).

GPU compute per inference = (base_ms + per_sample_ms * batch) * precision factor * dynamic-shape penalty,
scaled by ``latency_scale``; the defaults reproduce the seed case (16 ms at batch 1, 100 ms at batch 8, FP32).
Statistics follow trtexec's own rules (reference §4.2): float32 sums, no interpolation,
float32 percentile index.
"""

from __future__ import annotations

import hashlib
import heapq
import json
import math
import random
import struct
import sys
from dataclasses import dataclass

PERF_DEFAULTS: dict = {
    "base_ms": 4.0,
    "per_sample_ms": 12.0,
    "precision_factor": {
        "fp32": 1.0,
        "tf32": 1.0,
        "fp16": 0.45,
        "bf16": 0.45,
        "int8": 0.3,
        "fp8": 0.3,
        "best": 0.3,
        "int4": 0.3,
    },
    "dynamic_penalty": 1.08,
    "saturation_batch": 8,
    "stream_contention": 0.05,
    "enqueue_ms": 0.3,
    "cuda_graph_enqueue_factor": 0.15,
    "sync_gap_ms": 0.02,
    "no_spin_noise": 1.3,
    "h2d_gbps": 12.0,
    "d2h_gbps": 12.0,
    "output_bytes_per_sample": 4000,
    "noise_cv": 0.004,
    "seed": 0,
    "process_seed": False,
    "process_offset_cv": 0.0,
    "slowdown": [],
    "latency_scale": 1.0,
    "max_samples": 2000,
    "build_s": 6.0,
    "sleep_s": 0.0,
    "realtime": False,
}
TIME_KEYS = (
    "startEnqMs",
    "endEnqMs",
    "startH2dMs",
    "endH2dMs",
    "startComputeMs",
    "endComputeMs",
    "startD2hMs",
    "endD2hMs",
    "h2dMs",
    "computeMs",
    "d2hMs",
    "latencyMs",
)


def f32(x: float) -> float:
    return struct.unpack("f", struct.pack("f", x))[0]


def g6(x: float) -> str:
    """C++ default stream formatting: 6 significant digits, no trailing zeros."""
    return f"{x:.6g}"


@dataclass
class Sample:
    enq_start: float
    enq_end: float
    h2d_start: float
    h2d: float
    compute: float
    d2h: float

    @property
    def h2d_end(self) -> float:
        return self.h2d_start + self.h2d

    @property
    def compute_end(self) -> float:
        return self.h2d_end + self.compute

    @property
    def d2h_end(self) -> float:
        return self.compute_end + self.d2h

    @property
    def latency(self) -> float:
        return self.h2d + self.compute + self.d2h

    @property
    def enqueue(self) -> float:
        return self.enq_end - self.enq_start


@dataclass
class Setup:
    precision: str
    batch: int
    dynamic: bool
    streams: int
    cuda_graph: bool
    spin_wait: bool
    transfers: bool
    threads: bool
    warmup_ms: float
    duration_ms: float
    iterations: int
    input_bytes: int


def compute_ms(perf: dict, precision: str, batch: int, dynamic: bool) -> float:
    factor = perf["precision_factor"].get(precision, 1.0)
    ms = (perf["base_ms"] + perf["per_sample_ms"] * batch) * factor
    return ms * (perf["dynamic_penalty"] if dynamic else 1.0) * perf["latency_scale"]


def process_rng(perf: dict, argv: list[str] | None = None) -> random.Random:
    """The noise generator of this process: ``seed`` alone (every process draws the same noise), or with
    ``process_seed`` the seed mixed with the command line, so each trtexec process (each repeat: its
    export paths differ) draws its own, reproducibly."""
    if not perf.get("process_seed"):
        return random.Random(perf["seed"])
    text = json.dumps([perf["seed"], list(sys.argv[1:] if argv is None else argv)])
    return random.Random(int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big"))


def slowdown_factor(perf: dict, s: Setup) -> float:
    """The product of the ``slowdown`` entries whose ``when`` matches this setup (a planted change)."""
    factor = 1.0
    for entry in perf.get("slowdown") or []:
        when = entry.get("when") or {}
        if all(getattr(s, k, None) == v for k, v in when.items()):
            factor *= float(entry.get("factor", 1.0))
    return factor


def simulate(perf: dict, s: Setup) -> tuple[list[Sample], int]:
    """Timed samples (sorted by H2D start, as trtexec sorts its trace) and the warm-up query count."""
    scale = perf["latency_scale"]
    eps = 1e-4  # keeps times positive when latency_scale is 0
    rng = process_rng(perf)
    # One process's GPU state (clocks, placement) shifts all its samples alike: drawn once per process.
    offset = math.exp(rng.gauss(0.0, perf["process_offset_cv"])) if perf.get("process_offset_cv") else 1.0
    base = (compute_ms(perf, s.precision, s.batch, s.dynamic) * offset * slowdown_factor(perf, s)) + eps
    # Streams only add throughput while one inference leaves the GPU partly idle.
    speedup = min(s.streams, max(1.0, perf["saturation_batch"] / max(s.batch, 1)))
    compute = base * s.streams / speedup * (1 + perf["stream_contention"] * (s.streams - 1))
    enq = perf["enqueue_ms"] * (perf["cuda_graph_enqueue_factor"] if s.cuda_graph else 1.0) * scale + eps
    h2d = s.input_bytes / (perf["h2d_gbps"] * 1e6) * scale if s.transfers else 0.0
    d2h = perf["output_bytes_per_sample"] * s.batch / (perf["d2h_gbps"] * 1e6) * scale if s.transfers else 0.0
    gap = 0.0 if s.spin_wait else perf["sync_gap_ms"] * scale
    cv = perf["noise_cv"] * (1.0 if s.spin_wait else perf["no_spin_noise"])
    host_enq = enq * (1 if s.threads else s.streams)  # one host thread enqueues every stream in turn
    period = max(h2d + compute + d2h, host_enq) + gap
    warm = s.streams * int(s.warmup_ms / period) if period > 0 else 0
    heap: list[tuple[float, int]] = [(s.warmup_ms + k * period / s.streams, k) for k in range(s.streams)]
    out: list[Sample] = []
    first = None
    while heap:
        t, k = heapq.heappop(heap)
        noise = math.exp(rng.gauss(0.0, cv))
        smp = Sample(
            t,
            t + enq * math.exp(rng.gauss(0.0, cv)),
            t + min(enq, 0.005),
            h2d * noise,
            compute * noise,
            d2h * noise,
        )
        out.append(smp)
        first = smp.h2d_start if first is None else first
        enough = len(out) >= s.iterations and smp.d2h_end - first >= s.duration_ms
        if enough or len(out) >= perf["max_samples"]:
            break
        heapq.heappush(heap, (t + max(smp.latency, host_enq) + gap, k))
    out.sort(key=lambda x: x.h2d_start)
    return out, warm


def trt_stats(values: list[float], percentiles: list[float]) -> dict:
    """min/max/mean/median/percentiles/cv exactly as trtexec computes them."""
    v = sorted(f32(x) for x in values)
    n = len(v)
    acc = 0.0
    for x in v:
        acc = f32(acc + x)
    mean = f32(acc / n)
    median = v[n // 2] if n % 2 else f32((v[n // 2 - 1] + v[n // 2]) / 2)
    out = {"min": v[0], "max": v[-1], "mean": mean, "median": median, "pct": []}
    for p in percentiles:
        exclude = int(f32(f32(1 - f32(f32(p) / 100)) * n))
        out["pct"].append((p, v[max(n - 1 - exclude, 0)]))
    var = sum((x - mean) ** 2 for x in v) / n
    out["cv"] = math.sqrt(var) / mean * 100 if mean else 0.0
    return out


def metric_line(name: str, st: dict) -> str:
    pct = "".join(f", percentile({p:g}%) = {g6(x)} ms" for p, x in st["pct"])
    return (
        f"{name}: min = {g6(st['min'])} ms, max = {g6(st['max'])} ms, mean = {g6(st['mean'])} ms, "
        f"median = {g6(st['median'])} ms{pct}"
    )


def summary(
    samples: list[Sample], percentiles: list[float], version: tuple[int, ...], streams: int
) -> tuple[list[str], list[str], dict]:
    """(info lines, warning lines, stats) of the 8.5+ performance summary and the §3.8 warnings."""
    walltime = samples[-1].d2h_end - samples[0].h2d_start
    stats = {
        key: trt_stats([getattr(x, attr) for x in samples], percentiles)
        for key, attr in (
            ("lat", "latency"),
            ("enq", "enqueue"),
            ("h2d", "h2d"),
            ("gpu", "compute"),
            ("d2h", "d2h"),
        )
    }
    info = [
        "=== Performance summary ===",
        f"Throughput: {g6(len(samples) / walltime * 1000)} qps",
        metric_line("Latency", stats["lat"]),
        metric_line("Enqueue Time", stats["enq"]),
        metric_line("H2D Latency", stats["h2d"]),
        metric_line("GPU Compute Time", stats["gpu"]),
        metric_line("D2H Latency", stats["d2h"]),
        f"Total Host Walltime: {g6(walltime / 1000)} s",
        f"Total GPU Compute Time: {g6(stats['gpu']['mean'] * len(samples) / 1000)} s",
    ]
    eleven = version >= (11,)
    warn: list[str] = []
    gpu_med = stats["gpu"]["median"]
    if stats["enq"]["median"] > 0.8 * gpu_med:
        warn += [
            "* Throughput may be bound by Enqueue Time rather than GPU Compute and the GPU may be "
            "under-utilized.",
            "  If you are using --noCudaGraph, removing it may increase throughput."
            if eleven
            else "  If not already in use, --useCudaGraph (utilize CUDA graphs where possible) may increase "
            "the throughput.",
        ]
    advice = (
        "  Consider removing --includeDataTransfers to disable data transfers and potentially increase "
        "throughput."
        if eleven
        else "  Add --noDataTransfers flag to disable data transfers."
    )
    for key, what in (
        ("h2d", "host-to-device transfers for the inputs"),
        ("d2h", "device-to-host transfers for the outputs"),
    ):
        if stats[key]["median"] > 0 and stats[key]["median"] >= gpu_med:
            warn += [
                f"* Throughput may be bound by {what} rather than GPU Compute and the GPU may be "
                "under-utilized.",
                advice,
            ]
    threshold = 2.5 if version >= (10, 13, 2) else 1.0
    if stats["gpu"]["cv"] > threshold:
        warn += [
            f"* GPU compute time is unstable, with coefficient of variance = {g6(stats['gpu']['cv'])}%.",
            "  If not already in use, locking GPU clock frequency may improve the stability."
            if eleven
            else "  If not already in use, locking GPU clock frequency or adding --useSpinWait may improve "
            "the "
            "stability.",
        ]
    if streams > 1:
        warn += [
            "* Multiple inference streams are used. Latencies may not be accurate since inferences may "
            'run in   parallel. Please use "Throughput" as the performance metric instead.'
        ]
    return info, warn, stats


def trace_lines(samples: list[Sample], avg_runs: int, version: tuple[int, ...]) -> list[str]:
    """``Average on N runs`` lines; 9.0+ keep 200 at each end and print ``... Omitting N lines``."""
    lines = []
    for i in range(0, len(samples) - avg_runs + 1, avg_runs):
        chunk = samples[i : i + avg_runs]
        gpu = sum(x.compute for x in chunk) / avg_runs
        host = sum(x.latency for x in chunk) / avg_runs
        enq = sum(x.enqueue for x in chunk) / avg_runs
        lines.append(
            f"Average on {avg_runs} runs - GPU latency: {g6(gpu)} ms - Host latency: {g6(host)} ms "
            f"(enqueue {g6(enq)} ms)"
        )
    if version >= (9,) and len(lines) > 400:
        omitted = len(samples) - 2 * 200 * avg_runs
        lines = lines[:200] + [f"... Omitting {omitted} lines"] + lines[-200:]
    return [f"Trace averages of {avg_runs} runs:"] + lines


def times_json(samples: list[Sample]) -> str:
    """``--exportTimes`` in the 8.5+ layout: timed samples only, 6 significant digits."""
    rows = []
    for x in samples:
        vals = (
            x.enq_start,
            x.enq_end,
            x.h2d_start,
            x.h2d_end,
            x.h2d_end,
            x.compute_end,
            x.compute_end,
            x.d2h_end,
            x.h2d,
            x.compute,
            x.d2h,
            x.latency,
        )
        rows.append("{ " + ", ".join(f'"{k}" : {g6(v)}' for k, v in zip(TIME_KEYS, vals, strict=True)) + " }")
    return "[\n  " + "\n, ".join(rows) + "\n]\n"


def layer_times(layers: list[str], mean_compute: float) -> list[tuple[str, float]]:
    """Deterministic split of the compute time over the layers (per-inference average ms)."""
    # Reformat copies are small next to convolutions in a real engine (a few percent of its time).
    weights = [0.15 if name.startswith("Reformatting") else 1.0 + (sum(map(ord, name)) % 7)
               for name in layers]
    total = sum(weights)
    return [(name, mean_compute * w / total) for name, w in zip(layers, weights, strict=True)]


def profile_json(per_layer: list[tuple[str, float]], count: int) -> str:
    total = sum(avg for _, avg in per_layer) or 1.0
    rows = [f'{{ "count" : {count} }}']
    for name, avg in per_layer:
        rows.append(
            f'{{ "name" : "{name}", "timeMs" : {g6(avg * count)}, "averageMs" : {g6(avg)}, '
            f'"medianMs" : {g6(avg * 0.98)}, "percentage" : {g6(avg / total * 100)} }}'
        )
    return "[\n  " + "\n, ".join(rows) + "\n]\n"


def profile_table(per_layer: list[tuple[str, float]], count: int) -> list[str]:
    """8.6.1+ ``--dumpProfile`` table: numbers first, name last, ``Total`` row."""
    total = sum(avg for _, avg in per_layer) or 1.0
    lines = [
        f"=== Profile ({count} iterations ) ===",
        "   Time(ms)     Avg.(ms)   Median(ms)   Time(%)   Layer",
    ]
    for name, avg in per_layer + [("Total", total)]:
        lines.append(f"{avg * count:11.2f} {avg:12.4f} {avg * 0.98:12.4f} {avg / total * 100:9.1f}   {name}")
    return lines


def layer_info_json(layers: list[str], io: list[tuple[str, str, str]], detailed: bool, eleven: bool) -> str:
    """``--exportLayerInfo``: names only, or per-layer objects when the engine was built detailed."""
    if detailed:
        body: list = [
            {
                "Name": n,
                "LayerType": "CaskConvolution" if "conv" in n.lower() else "kgen",
                "Inputs": [],
                "Outputs": [],
                "TacticName": "sm90_xmma_double",
                "StreamId": 0,
                "Metadata": f"[ONNX Layer: {n}]",
            }
            for n in layers
        ]
    else:
        body = list(layers)
    if eleven:
        tensors = [
            {"Name": n, "IOMode": mode, "DataType": "Float", "Dimensions": dims} for n, mode, dims in io
        ]
        return json.dumps({"Layers": body, "I/O Tensors": tensors}, indent=2) + "\n"
    return json.dumps({"Layers": body, "Bindings": [n for n, _, _ in io]}, indent=2) + "\n"
