"""Diagnosis rules on one variant's runtime figures: enqueue, transfers, host gaps, stability, failures.

The thresholds follow trtexec's own checks (``reference/trtexec.md`` §3.8) so a finding agrees with the
warning trtexec printed, and also fires on records (imported, 7.x) where trtexec printed none.
"""

from __future__ import annotations

from trtsweep.diagnose.context import Context, Evidence, Finding, pairs, propose, severity_for_share, untried
from trtsweep.versions import at_least, parse_version

ENQUEUE_RATIO = 0.8  # trtexec: median enqueue > 0.8 x median GPU compute
TRANSFER_SHARE = 0.20
HOST_SHARE = 0.15
REPEAT_SPREAD = 0.05  # (max - min) / median of time per batch across repeats
MAX_EVIDENCE = 6


def cv_threshold(trt_version: str | None) -> tuple[float, str]:
    """trtexec's coefficient-of-variance threshold for a version, and where it comes from."""
    if trt_version:
        try:
            version = parse_version(trt_version)
        except ValueError:
            version = None
        if version is not None and at_least(version, 10, 13, 2):
            return 2.5, f"trtexec {trt_version} threshold"
        if version is not None and at_least(version, 8, 4):
            return 1.0, f"trtexec {trt_version} threshold"
        if version is not None:
            return 1.0, f"trtexec {trt_version} prints no check; 8.4-10.13.0 threshold used"
    return 1.0, "version unknown; 8.4-10.13.0 threshold used"


def _ms(value: float) -> str:
    return f"{value:.4g} ms"


def _worst(items: list[tuple[float, Evidence]]) -> list[Evidence]:
    """Every evidence item, worst first (renderers show the first few, JSON keeps them all)."""
    return [e for _, e in sorted(items, key=lambda t: -t[0])]


def _graph_gain(ctx: Context) -> float | None:
    gains = []
    for a, b in pairs(ctx.views, "cuda_graph"):
        off, on = (a, b) if a.axes.get("cuda_graph") is False else (b, a)
        if off.axes.get("cuda_graph") is False and off.time_per_batch_ms and on.time_per_batch_ms:
            gains.append(off.time_per_batch_ms / on.time_per_batch_ms)
    return max(gains) if gains else None


def rule_enqueue_bound(ctx: Context) -> list[Finding]:
    """``enqueue_bound``: median enqueue above 0.8 x median GPU compute, or trtexec's own warning."""
    items: list[tuple[float, Evidence]] = []
    graphs_on = True
    for v in ctx.views:
        ratio = v.enqueue / v.gpu if v.enqueue is not None and v.gpu else None
        warned = "enqueue_bound" in v.warnings
        if not warned and (ratio is None or ratio <= ENQUEUE_RATIO):
            continue
        graphs_on = graphs_on and v.axes.get("cuda_graph") is True
        extra = max((v.enqueue or 0) - (v.gpu or 0), 0.0)
        text = (f"{v.variant_id}: enqueue median {_ms(v.enqueue or 0)}, GPU compute median {_ms(v.gpu or 0)}"
                + (f" ({ratio:.2f}x, limit {ENQUEUE_RATIO})" if ratio else "")
                + ("; trtexec warned" if warned else ""))
        items.append((ratio or 1.0, Evidence(text, v.variant_id, {
            "enqueue_ms": v.enqueue, "gpu_compute_ms": v.gpu, "ratio": ratio, "trtexec_warning": warned,
            "explained_ms": extra or None})))
    if not items:
        return []
    gain = _graph_gain(ctx)
    if graphs_on:
        step = ("CUDA graphs are already on: cut host work per inference (spin-wait, fewer inputs/outputs "
                "to bind), or give the GPU more work per launch (larger batch).")
    else:
        step = "Capture the enqueue in a CUDA graph and busy-wait for completion." + (
            f" The sweep measured CUDA graphs at {gain:.2f}x." if gain else "")
    snippet = _untried_switches(ctx)
    # Relative: the time enqueue exceeds GPU compute by, as a share of the batch (a 1 % excess is low).
    top = max(((e.values.get("explained_ms") or 0.0) / (v.time_per_batch_ms or 1.0))
              for (_, e), v in zip(items, [_view(ctx, e.variant_id) for _, e in items], strict=True))
    return [Finding(
        "enqueue_bound", severity_for_share(top), 0.8,
        "Throughput bound by enqueue time, not GPU compute",
        "Launching the work on the host takes about as long as the GPU needs to run it, so the GPU waits "
        "for the host between inferences (trtexec's own check: enqueue median above 0.8 x GPU compute).",
        step, snippet, _worst(items), measured_gain=gain)]


def _view(ctx: Context, variant_id: str | None):  # noqa: ANN202 - a View
    return next(v for v in ctx.views if v.variant_id == variant_id)


def rule_transfer_bound(ctx: Context) -> list[Finding]:
    """``transfer_bound``: host<->device copies are a large share of latency (or trtexec warned)."""
    items: list[tuple[float, Evidence]] = []
    worst: tuple[float, float] = (0.0, 0.0)  # (transfer ms, share)
    for v in ctx.views:
        if v.axes.get("data_transfers") is False or v.latency is None:
            continue
        transfer = (v.h2d or 0.0) + (v.d2h or 0.0)
        share = transfer / v.latency if v.latency else 0.0
        warned = {"h2d_bound", "d2h_bound"} & v.warnings
        if share < TRANSFER_SHARE and not warned:
            continue
        if transfer > worst[0]:
            worst = (transfer, share)
        items.append((share, Evidence(
            f"{v.variant_id}: H2D {_ms(v.h2d or 0)} + D2H {_ms(v.d2h or 0)} = "
            f"{share * 100:.0f} % of latency {_ms(v.latency)}" + ("; trtexec warned" if warned else ""),
            v.variant_id, {"h2d_ms": v.h2d, "d2h_ms": v.d2h, "latency_ms": v.latency, "share": share,
                           "trtexec_warnings": sorted(warned), "explained_ms": transfer or None})))
    if not items:
        return []
    gain = None
    for a, b in pairs(ctx.views, "data_transfers"):
        on, off = (a, b) if a.axes.get("data_transfers") is True else (b, a)
        if on.axes.get("data_transfers") is True and on.time_per_batch_ms and off.time_per_batch_ms:
            g = on.time_per_batch_ms / off.time_per_batch_ms
            gain = max(gain or 0.0, g)
            items.append((0.0, Evidence(
                f"without transfers {off.variant_id} takes {_ms(off.time_per_batch_ms)} vs "
                f"{_ms(on.time_per_batch_ms)} with them ({g:.2f}x): the bound the copies set", off.variant_id,
                {"ms_with": on.time_per_batch_ms, "ms_without": off.time_per_batch_ms,
                 "with_variant": on.variant_id})))
    snippet = None if gain else propose(ctx.views, "data_transfers", [False], keep=[True])
    return [Finding(
        "transfer_bound", severity_for_share(worst[1]), 0.8,
        "Host<->device copies take a large share of the latency",
        "trtexec's latency includes copying inputs to the GPU and outputs back; when those copies are a "
        "large part of it, a faster engine barely changes the end-to-end time.",
        "In the application use pinned (page-locked) host buffers, overlap copies with compute on separate "
        "streams, keep data on the GPU between stages, or send FP16/INT8 inputs to halve the bytes."
        + ("" if gain else " Measure the bound with a no-transfers variant."),
        snippet, _worst(items), measured_gain=gain)]


def rule_host_overhead(ctx: Context) -> list[Finding]:
    """``host_overhead``: latency - GPU compute, beyond the copies, or a wall time per inference well
    above the latency (the GPU idles between inferences)."""
    items: list[tuple[float, Evidence]] = []
    worst = (0.0, 0.0)
    for v in ctx.views:
        if v.latency is None or v.gpu is None or v.streams > 1:
            continue  # with several streams in flight per-inference figures overlap and do not add up
        transfers = (v.h2d or 0.0) + (v.d2h or 0.0)
        gap = max(v.latency - v.gpu - transfers, 0.0)
        # Wall time per batch from batches/s (an implicit-batch engine's qps counts samples, not batches).
        wall = 1000.0 / v.batches_per_s if v.batches_per_s else None
        idle = max(wall - v.latency, 0.0) if wall else 0.0
        overhead = gap + idle
        base = wall or v.latency
        share = overhead / base if base else 0.0  # relative: 8 ms of a 2.7 s batch is nothing
        if share < HOST_SHARE:
            continue
        if overhead > worst[0]:
            worst = (overhead, share)
        text = (f"{v.variant_id}: latency {_ms(v.latency)} - GPU compute "
                f"{_ms(v.gpu)} = {_ms(v.latency - v.gpu)} ({_ms(transfers)} of it copies)")
        if wall:
            text += (f"; wall time per batch {_ms(wall)} (1000 / {v.batches_per_s:.5g} batches/s), "
                     f"idle {_ms(idle)}")
        items.append((share, Evidence(text, v.variant_id, {
            "latency_ms": v.latency, "gpu_compute_ms": v.gpu, "transfer_ms": transfers,
            "wall_ms_per_batch": wall, "overhead_ms": overhead, "share": share, "explained_ms": overhead})))
    if not items:
        return []
    return [Finding(
        "host_overhead", severity_for_share(worst[1]), 0.7,
        "The GPU waits for the host between or within inferences",
        "Time that is neither GPU compute nor a copy is host work: launching, synchronising, the "
        "benchmark loop. It does not shrink with a faster engine.",
        "Try CUDA graphs and spin-wait; in the application avoid a synchronisation per call and reuse "
        "buffers and execution contexts.", _untried_switches(ctx), _worst(items))]


def _untried_switches(ctx: Context) -> str | None:
    """A snippet turning on CUDA graphs and spin-wait where the sweep has not measured them on."""
    lines = [f"  {axis}: [false, true]" for axis in ("cuda_graph", "spin_wait")
             if untried(ctx.views, axis, [True])]
    return "matrix:\n" + "\n".join(lines) if lines else None


def rule_unstable_measurement(ctx: Context) -> list[Finding]:
    """``unstable_measurement``: GPU compute CV above trtexec's threshold for the version, trtexec's
    warning, or time per batch spread across repeats."""
    items: list[tuple[float, Evidence]] = []
    for v in ctx.views:
        limit, why = cv_threshold(v.record.trt_version)
        reasons = []
        values: dict[str, object] = {"cv_pct": v.cv_pct, "threshold_pct": limit}
        if v.cv_pct is not None and v.cv_pct > limit:
            reasons.append(f"GPU compute CV {v.cv_pct:.3g} % > {limit:g} % ({why})")
        if "unstable_gpu_compute" in v.warnings and not reasons:
            reasons.append("trtexec warned that GPU compute time is unstable")
        spread = None
        if len(v.repeat_ms) >= 2 and v.time_per_batch_ms:
            spread = (max(v.repeat_ms) - min(v.repeat_ms)) / v.time_per_batch_ms
            values.update({"repeat_ms": v.repeat_ms, "repeat_spread": spread})
            if spread > REPEAT_SPREAD:
                times = ", ".join(f"{t:.4g}" for t in v.repeat_ms)
                reasons.append(f"repeats spread {spread * 100:.1f} % ({times} ms)")
        if reasons:
            items.append(((v.cv_pct or 0) / limit + (spread or 0) * 20,
                          Evidence(f"{v.variant_id}: " + "; ".join(reasons), v.variant_id, values)))
    if not items:
        return []
    return [Finding(
        "unstable_measurement", "medium", 0.9, "Measurements are unstable",
        "GPU compute time varies more than trtexec's own threshold (or across repeats), so differences "
        "of a few percent between variants are not reliable. Usual causes: clocks boosting and throttling, "
        "other processes on the GPU, a too-short run.",
        "Lock the GPU clocks (nvidia-smi -lgc), use spin-wait, run longer, and repeat each variant.",
        "matrix:\n  spin_wait: [true]\nrun:\n  duration_s: 10\n  repeats: 3", _worst(items))]


_FAILURE_FIXES = {
    "oom": ("out of memory", "Raise the workspace pool or lower the batch / max shapes.",
            "matrix:\n  workspace_mib: [4096]"),
    "plugin_missing": ("a plugin is missing", "Load the plugin library that implements the custom op.",
                       "matrix:\n  build_flags: [[\"--staticPlugins=/path/libplugin.so\"]]"),
    "unsupported_op": ("an ONNX op is not supported",
                       "Re-export with another opset, fold constants (polygraphy surgeon sanitize "
                       "--fold-constants), or provide a plugin; `trtsweep inspect MODEL.onnx` lists "
                       "suspects.",
                       None),
    "parse_error": ("the ONNX model could not be parsed",
                    "Check the model with onnx.checker, re-export with an opset this TensorRT "
                    "supports.", None),
    "shape_error": ("the shapes do not fit the profile",
                    "Fix min/opt/max shapes of the inputs so every batch of the sweep lies inside the "
                    "profile.",
                    "matrix:\n  shapes: [static]"),
    "invalid_argument": ("trtexec rejected a flag",
                         "Remove or replace the flag for this trtexec version (see flags-by-version).", None),
    "engine_mismatch": ("the engine was built for another GPU or TensorRT version",
                        "Rebuild the engine on this GPU with this TensorRT.", None),
    "timeout": ("the step ran out of time", "Raise the time limit, or lower the builder optimization level.",
                "run:\n  build_timeout_s: 7200"),
    "crash": ("trtexec crashed", "Re-run the step alone with --verbose to find the last layer it reached.",
              None),
    "other": ("an unclassified error", "Read the step's log for the first [E] line.", None),
}


def rule_build_failure(ctx: Context) -> list[Finding]:
    """``build_failure`` / ``run_failure``: failed engine builds and failed timed runs, grouped by stage
    and cause class, each with the fix to try (a segfault while timing is not a build problem)."""
    groups: dict[tuple[str, str], list] = {}
    for f in ctx.failed:
        groups.setdefault((f.stage, f.failure), []).append(f)
    out = []
    for (stage, cause), failed in sorted(groups.items(), key=lambda kv: (kv[0][0] != "build", -len(kv[1]))):
        words, fix, snippet = _FAILURE_FIXES.get(cause, _FAILURE_FIXES["other"])
        if cause != "plugin_missing" and any("plugin" in (f.text or "").lower() for f in failed):
            # The ONNX parser reports a custom op without its plugin as an unsupported node.
            _, fix, snippet = _FAILURE_FIXES["plugin_missing"]
            words += " (a plugin was not found)"
        evidence = [Evidence(f"{f.variant_id} ({f.stage}): {_first_line(f.text)}", f.variant_id,
                             {"failure": cause, "stage": f.stage}) for f in failed[:MAX_EVIDENCE]]
        out.append(Finding(
            "build_failure" if stage == "build" else "run_failure", "high", 0.9 if cause != "other" else 0.5,
            f"{len(failed)} variant(s) failed {'to build' if stage == 'build' else 'while timing'}: {words}",
            f"These variants produced no measurement because {words}; they are missing from every "
            "comparison above.", fix, snippet, evidence))
    return out



def _first_line(text: str | None) -> str:
    lines = (text or "").strip().splitlines()
    return lines[0][:300] if lines else "no error text"
