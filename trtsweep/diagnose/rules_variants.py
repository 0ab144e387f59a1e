"""Diagnosis rules that compare variants of the sweep: precision, shapes, batch, streams, CUDA graphs.

Each rule is a pure function ``Context -> list[Finding]``: it fires only on the numbers it cites, and
when the sweep lacks the variants to decide it returns a ``needs_data`` finding naming the axis to add.
Per-variant runtime rules (enqueue, transfers, host, stability, failures) are in
:mod:`diagnose_runtime`; layer rules in :mod:`diagnose_layers`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from trtsweep.diagnose.context import (
    Context,
    Evidence,
    Finding,
    View,
    comparable_key,
    is_reduced,
    pairs,
    severity_for_share,
    yaml_axis,
)

FULL_PRECISIONS = ("fp32", "tf32")
MIN_GAIN = 1.05  # below 5 % a difference between two variants is within run-to-run noise
CUDA_GRAPH_MIN_GAIN = 1.03
STREAMS_MIN_GAIN = 1.10
# Samples/s must grow by at least this factor per doubling of the batch, else the GPU is saturated.
SATURATION_GAIN_PER_DOUBLING = 1.15


def _by_batch(views: list[View]) -> dict[tuple[str | None, int | None], list[View]]:
    groups: dict[tuple[str | None, int | None], list[View]] = {}
    for v in views:
        groups.setdefault((v.model, v.batch), []).append(v)
    return groups


def _ms(value: float) -> str:
    return f"{value:.4g} ms"



def timed_pairs(ctx: Context, axis: str, slow: Callable[[View], bool],
                fast: Callable[[View], bool]) -> Iterator[tuple[View, View, float]]:
    """Variant pairs that differ only in ``axis``, as ``(slow side, fast side, slow ms / fast ms)``: the
    sides are told apart by the two predicates, and pairs without a time per batch on both are dropped."""
    for a, b in pairs(ctx.views, axis):
        first, second = (a, b) if slow(a) else (b, a)
        if slow(first) and fast(second) and first.ms_per_batch and second.ms_per_batch:
            yield first, second, first.ms_per_batch / second.ms_per_batch


def rule_fp32_only(ctx: Context) -> list[Finding]:
    """``fp32_only``: no reduced-precision variant was measured, or the fastest one is FP32/TF32."""
    known = [v for v in ctx.views if v.precision]
    if not ctx.views:
        return []
    if not known:
        return [Finding(
            "fp32_only", "info", 1.0, "Precision of the measured variants is unknown",
            "The records do not say which precision the engines were built with, so whether a reduced "
            "precision would help cannot be judged.",
            "Sweep the precision explicitly.", yaml_axis("precision", ["fp32", "fp16"]),
            status="needs_data")]
    reduced = [v for v in known if is_reduced(v.precision)]
    unknown = [v for v in ctx.views if not v.precision]
    evidence: list[Evidence] = []
    if not reduced:
        for (_, batch), group in sorted(_by_batch(known).items(), key=lambda kv: str(kv[0])):
            best = min(group, key=lambda v: v.ms_per_batch or float("inf"))
            where = f"batch {batch}" if batch is not None else "batch not recorded"
            evidence.append(Evidence(
                f"{where}: every variant of known precision is {best.precision}; fastest "
                f"{best.variant_id} takes {_ms(best.ms_per_batch or 0)} per batch",
                best.variant_id,
                {"batch": batch, "precision": best.precision, "ms_per_batch": best.ms_per_batch}))
        if unknown:
            # A log of a loaded engine does not say how the engine was built: it may be reduced precision.
            evidence.append(Evidence(
                f"{len(unknown)} measured variant(s) of unknown precision (e.g. an engine loaded from a "
                f"file): {', '.join(v.variant_id for v in unknown[:4])}", unknown[0].variant_id,
                {"unknown_precision": [v.variant_id for v in unknown]}))
        return [Finding(
            "fp32_only", "high" if not unknown else "medium", 0.85 if not unknown else 0.5,
            "Only FP32/TF32 engines were measured" + (" (of those whose precision is known)"
                                                       if unknown else ""),
            "Every variant of the sweep runs in full precision. On GPUs with tensor cores FP16 (and INT8 "
            "with calibration or Q/DQ) kernels usually run several times faster than FP32, and halve the "
            "memory traffic; the sweep cannot say how much until a reduced-precision variant is measured.",
            "Add a reduced-precision build to the sweep and check accuracy against FP32.",
            yaml_axis("precision", ["fp32", "fp16"]), evidence)]
    gains = []
    for (_, batch), group in sorted(_by_batch(known).items(), key=lambda kv: str(kv[0])):
        best = min(group, key=lambda v: v.ms_per_batch or float("inf"))
        red = [v for v in group if is_reduced(v.precision)]
        if best.precision in FULL_PRECISIONS and red:
            best_red = min(red, key=lambda v: v.ms_per_batch or float("inf"))
            gain = (best.ms_per_batch or 0) / (best_red.ms_per_batch or 1)
            gains.append(gain)
            evidence.append(Evidence(
                f"batch {batch}: fastest is {best.precision} {best.variant_id} "
                f"({_ms(best.ms_per_batch or 0)}); "
                f"best reduced precision {best_red.precision} {best_red.variant_id} takes "
                f"{_ms(best_red.ms_per_batch or 0)}",
                best.variant_id, {"batch": batch, "fp32_ms": best.ms_per_batch, "reduced_variant":
                                  best_red.variant_id, "reduced_ms": best_red.ms_per_batch}))
    if not evidence:
        return []
    return [Finding(
        "fp32_only", "medium", 0.7, "The fastest engine is still FP32",
        "Reduced-precision variants were measured but are not faster. Usually the layers that matter fell "
        "back to FP32 (no faster kernel, precision constraints, missing INT8 scales) or reformat layers "
        "between precisions eat the gain; see precision_fallback / reformat_overhead when layer times exist.",
        "Export layer info and profile (--exportLayerInfo/--exportProfile, --profilingVerbosity=detailed) "
        "for the reduced-precision variant to see which layers stayed FP32.",
        "matrix:\n  run_flags: [[\"--dumpProfile\", \"--separateProfileRun\"]]", evidence,
        measured_gain=min(gains) if gains else None)]


def rule_precision_gain(ctx: Context) -> list[Finding]:
    """``precision_gain``: the measured speedup of reduced precision over FP32 at otherwise equal settings."""
    evidence: list[Evidence] = []
    best: tuple[float, float] | None = None  # (saved ms, gain)
    for full, red, gain in timed_pairs(ctx, "precision", lambda v: v.precision in FULL_PRECISIONS,
                                       lambda v: is_reduced(v.precision)):
        if gain < MIN_GAIN:
            continue
        saved = full.ms_per_batch - red.ms_per_batch
        evidence.append(Evidence(
            f"batch {red.batch}: {red.precision} {red.variant_id} {_ms(red.ms_per_batch)} vs "
            f"{full.precision} {full.variant_id} {_ms(full.ms_per_batch)}: {gain:.2f}x",
            red.variant_id, {"batch": red.batch, "precision": red.precision, "ms": red.ms_per_batch,
                             "fp32_variant": full.variant_id, "fp32_ms": full.ms_per_batch, "gain": gain}))
        if best is None or gain > best[1]:
            best = (saved, gain)
    if not evidence or best is None:
        return []
    return [Finding(
        "precision_gain", "info", 0.9, f"Reduced precision measured up to {best[1]:.2f}x faster than FP32",
        "The sweep holds FP32 and reduced-precision engines with otherwise equal settings; this is the "
        "measured gain, not an estimate. Check accuracy before adopting it.",
        "Deploy the reduced-precision engine if its accuracy is acceptable.", None, evidence,
        explained_ms=best[0], measured_gain=best[1])]


def rule_dynamic_shape_penalty(ctx: Context) -> list[Finding]:
    """``dynamic_shape_penalty``: a dynamic-shape engine slower than the static one at the same shape."""
    evidence: list[Evidence] = []
    worst: tuple[float, float, float] | None = None  # (extra ms, gain, share)
    compared = False
    for dyn, static, gain in timed_pairs(ctx, "shapes", lambda v: v.axes.get("shapes") == "dynamic",
                                         lambda v: v.axes.get("shapes") == "static"):
        compared = True
        if gain < MIN_GAIN:
            continue
        extra = dyn.ms_per_batch - static.ms_per_batch
        evidence.append(Evidence(
            f"batch {dyn.batch}: dynamic {dyn.variant_id} {_ms(dyn.ms_per_batch)} vs static "
            f"{static.variant_id} {_ms(static.ms_per_batch)} (+{(gain - 1) * 100:.0f} %)",
            dyn.variant_id, {"batch": dyn.batch, "dynamic_ms": dyn.ms_per_batch,
                             "static_variant": static.variant_id, "static_ms": static.ms_per_batch}))
        if worst is None or extra > worst[0]:
            worst = (extra, gain, extra / dyn.ms_per_batch)
    if worst is not None:
        return [Finding(
            "dynamic_shape_penalty", severity_for_share(worst[2]), 0.85,
            f"Dynamic-shape engine up to {worst[1]:.2f}x slower than the static one",
            "TensorRT picks kernels for the optimization profile's opt shape; at other shapes of a dynamic "
            "profile they can be slower, and shape-dependent work is done at run time.",
            "Build static engines for the shapes you serve, or one profile per serving shape with "
            "opt equal to it.", yaml_axis("shapes", ["static"]), evidence,
            explained_ms=worst[0], measured_gain=worst[1])]
    if not compared and any(v.axes.get("shapes") == "dynamic" for v in ctx.views):
        return [Finding(
            "dynamic_shape_penalty", "info", 1.0, "Dynamic-shape penalty not measured",
            "The sweep runs dynamic-shape engines but no static engine at the same shape to compare with.",
            "Add static shapes to measure the dynamic-shape penalty.",
            yaml_axis("shapes", ["static", "dynamic"]), status="needs_data")]
    return []


def rule_batch_saturation(ctx: Context) -> list[Finding]:
    """``batch_saturation``: samples/s stop growing with the batch; explains a speedup that shrinks
    against a baseline that scales better."""
    groups: dict[str, list[View]] = {}
    for v in ctx.views:
        if v.batch and v.ms_per_batch:
            groups.setdefault(comparable_key(v, "batch"), []).append(v)
    evidence: list[Evidence] = []
    explained: float | None = None
    fastest_hi: float | None = None
    seen: set[str] = set()
    shrinking = False
    for group in groups.values():
        group.sort(key=lambda v: v.batch or 0)
        pairs = list(zip(group, group[1:], strict=False))
        # External baselines often give two batches only (e.g. 1 and 8): compare those two directly too,
        # or a speedup that shrinks between them is never seen from adjacent batches alone.
        with_base = [v for v in group if ctx.baseline_ms(v)]
        if len(with_base) >= 2 and (with_base[0], with_base[-1]) not in pairs:
            pairs.append((with_base[0], with_base[-1]))
        for lo, hi in pairs:
            if lo.batch == hi.batch or not lo.per_sample_ms or not hi.per_sample_ms:
                continue
            factor = (hi.batch or 1) / (lo.batch or 1)
            gain = lo.per_sample_ms / hi.per_sample_ms  # growth of samples/s
            per_doubling = gain ** (1.0 / _log2(factor))
            if per_doubling >= SATURATION_GAIN_PER_DOUBLING:
                continue
            values = {"batch_from": lo.batch, "batch_to": hi.batch, "ms_from": lo.ms_per_batch,
                      "ms_to": hi.ms_per_batch, "samples_per_s_from": 1000.0 / lo.per_sample_ms,
                      "samples_per_s_to": 1000.0 / hi.per_sample_ms, "scaling_efficiency": gain / factor,
                      "from_variant": lo.variant_id}
            text = (f"batch {lo.batch} -> {hi.batch} ({factor:g}x): {_ms(lo.ms_per_batch or 0)} -> "
                    f"{_ms(hi.ms_per_batch or 0)} per batch, {1000 / lo.per_sample_ms:.4g} -> "
                    f"{1000 / hi.per_sample_ms:.4g} samples/s ({gain:.2f}x, scaling efficiency "
                    f"{gain / factor * 100:.0f} %)")
            base_lo, base_hi = ctx.baseline_ms(lo), ctx.baseline_ms(hi)
            if base_lo and base_hi:
                s_lo, s_hi = base_lo[0] / (lo.ms_per_batch or 1), base_hi[0] / (hi.ms_per_batch or 1)
                values.update({"speedup_from": s_lo, "speedup_to": s_hi,
                               "baseline_ms_from": base_lo[0], "baseline_ms_to": base_hi[0]})
                text += f"; speedup vs baseline {s_lo:.2f}x -> {s_hi:.2f}x"
                if s_hi < s_lo * 0.95:
                    shrinking = True
                    # What the larger batch would take if TensorRT scaled like the baseline does.
                    scaled = (lo.ms_per_batch or 0) * base_hi[0] / base_lo[0]
                    extra = (hi.ms_per_batch or 0) - scaled
                    values["ms_if_scaled_like_baseline"] = scaled
                    values["explained_ms"] = max(extra, 0.0)
                    text += (f" (scaling like the baseline would give {_ms(scaled)} at batch {hi.batch}, "
                             f"{_ms(max(extra, 0))} less)")
                    # The time explained is judged on the fastest configuration at the larger batch, the
                    # one the speedup shortfall is measured on, so the two findings speak of one gap.
                    if extra > 0 and (fastest_hi is None or (hi.ms_per_batch or 0) < fastest_hi):
                        fastest_hi, explained = hi.ms_per_batch or 0, extra
            if text in seen:  # variants differing only in axes that do not change the numbers
                continue
            seen.add(text)
            evidence.append(Evidence(text, hi.variant_id, values))
    # Pairs that show the speedup shrinking against the baseline first: they are the point.
    evidence.sort(key=lambda e: "speedup_to" not in e.values)
    if evidence:
        return [Finding(
            "batch_saturation", "high" if shrinking else "medium", 0.8,
            "Throughput per sample stops growing with the batch" + (
                ": the speedup shrinks at larger batches" if shrinking else ""),
            "A larger batch only pays while the GPU has idle units; once the kernels fill the GPU, time per "
            "batch grows with the batch and samples/s stay flat. "
            + ("The baseline keeps scaling over the same batches, so the speedup against it shrinks: at "
               "large batches per-sample GPU work, not overhead, dominates, and only cheaper kernels "
               "(reduced precision, better fusion) bring it down." if shrinking else
               "Beyond this point use a smaller batch for latency, or cut the per-sample work."),
            "Measure reduced precision at the large batch (it cuts per-sample work) and pick the batch "
            "where samples/s level off.",
            yaml_axis("precision", ["fp32", "fp16"]), evidence, explained_ms=explained)]
    batches = {v.batch for v in ctx.views if v.batch}
    base_batches = set(ctx.baseline.latency_ms) if ctx.baseline else set()
    if ctx.views and len(batches) < 2 and len(base_batches) >= 2:
        return [Finding(
            "batch_saturation", "info", 1.0, "Batch scaling not measured",
            "The baseline gives several batches but the sweep measured one, so how the speedup changes "
            "with the batch cannot be judged.", "Sweep the batch sizes of the baseline.",
            yaml_axis("batch", sorted(base_batches)), status="needs_data")]
    return []


def rule_streams_no_gain(ctx: Context) -> list[Finding]:
    """``streams_no_gain``: more inference streams, same throughput: the GPU is already saturated."""
    evidence: list[Evidence] = []
    gains = []
    for a, b in pairs(ctx.views, "streams"):
        lo, hi = (a, b) if a.streams < b.streams else (b, a)
        if not lo.qps or not hi.qps:
            continue
        gain = hi.qps / lo.qps
        if gain >= STREAMS_MIN_GAIN:
            continue
        gains.append(gain)
        evidence.append(Evidence(
            f"{lo.streams} -> {hi.streams} streams: {lo.qps:.5g} -> {hi.qps:.5g} qps ({gain:.2f}x)",
            hi.variant_id, {"streams_from": lo.streams, "streams_to": hi.streams, "qps_from": lo.qps,
                            "qps_to": hi.qps, "from_variant": lo.variant_id, "gain": gain}))
    if not evidence:
        return []
    return [Finding(
        "streams_no_gain", "low", 0.75, "More inference streams do not raise throughput",
        "Parallel streams only help while one stream leaves the GPU idle (small kernels, host gaps). Here "
        "throughput stays flat, so the GPU is already busy with one stream; extra streams add memory and "
        "latency.",
        "Keep one stream per GPU; raise the batch or cut per-sample work instead.",
        yaml_axis("streams", [1]), evidence, measured_gain=max(gains))]


def rule_cuda_graph_gain(ctx: Context) -> list[Finding]:
    """``cuda_graph_gain``: the measured gain of CUDA graphs over plain enqueue at equal settings."""
    evidence: list[Evidence] = []
    best: tuple[float, float, float] | None = None  # (saved ms, gain, share)
    measured: list[tuple[float, View, View]] = []  # every on/off pair, to report "no gain" with numbers
    for off, on, gain in timed_pairs(ctx, "cuda_graph", lambda v: v.axes.get("cuda_graph") is False,
                                     lambda v: True):
        measured.append((gain, on, off))
        if gain < CUDA_GRAPH_MIN_GAIN:
            continue
        saved = off.ms_per_batch - on.ms_per_batch
        evidence.append(Evidence(
            f"{on.label('precision', 'batch')}: with CUDA graph {_ms(on.ms_per_batch)}, without "
            f"{_ms(off.ms_per_batch)} ({gain:.2f}x)",
            on.variant_id, {"ms_with": on.ms_per_batch, "ms_without": off.ms_per_batch,
                            "without_variant": off.variant_id, "gain": gain}))
        if best is None or gain > best[1]:
            best = (saved, gain, saved / off.ms_per_batch)
    if best is None:
        if not measured:
            return []
        # Measured, and no gain: say so with the numbers, so nobody adds CUDA graphs expecting one.
        measured.sort(key=lambda m: -m[0])
        top = measured[0][0]
        return [Finding(
            "cuda_graph_gain", "info", 0.85, f"CUDA graphs measured: no gain (best {top:.2f}x)",
            "CUDA graphs only remove CPU launch overhead; when the GPU is busy for the whole inference "
            "(large batches, long kernels) there is no launch gap left to remove.",
            "Keep CUDA graphs off unless the enqueue time approaches the GPU compute time.", None,
            [Evidence(f"{on.label('precision', 'batch')}: with CUDA graph {_ms(on.ms_per_batch or 0)}, "
                      f"without {_ms(off.ms_per_batch or 0)} ({gain:.2f}x)", on.variant_id,
                      {"ms_with": on.ms_per_batch, "ms_without": off.ms_per_batch,
                       "without_variant": off.variant_id, "gain": gain})
             for gain, on, off in measured[:6]], measured_gain=top)]
    return [Finding(
        "cuda_graph_gain", severity_for_share(best[2]), 0.85,
        f"CUDA graphs measured up to {best[1]:.2f}x faster",
        "Capturing the enqueue in a CUDA graph replaces many kernel launches by one graph launch; the "
        "sweep measured the gain at equal settings.",
        "Use CUDA graphs in deployment (capture once per shape, replay per inference).",
        yaml_axis("cuda_graph", [True]), evidence, explained_ms=best[0], measured_gain=best[1])]


def rule_speedup_shortfall(ctx: Context, findings: list[Finding]) -> list[Finding]:
    """``speedup_shortfall``: best speedup per batch against the expectation, decomposed into the other
    findings' explained times and measured gains as far as the numbers allow."""
    if ctx.expect_speedup is None:
        return []
    if ctx.baseline is None:
        return [Finding(
            "speedup_shortfall", "info", 1.0, "No baseline to compute the speedup against",
            f"An expected speedup of {ctx.expect_speedup:g}x was given but no baseline.",
            "Add a baseline to the sweep, or pass --baseline-ms BATCH=MS,... to diagnose.",
            "baseline:\n  label: PyTorch\n  latency_ms: {1: 40.0}", status="needs_data")]
    rows = []
    for (_, batch), group in sorted(_by_batch(ctx.views).items(), key=lambda kv: str(kv[0])):
        best = min(group, key=lambda v: v.ms_per_batch or float("inf"))
        base = ctx.baseline_ms(best)
        if base and best.ms_per_batch:
            rows.append((base[0] / best.ms_per_batch, batch, best, base[0]))
    short = [r for r in rows if r[0] < ctx.expect_speedup]
    if not short:
        return []
    evidence = [Evidence(
        f"batch {batch}: best {view.variant_id} {_ms(view.ms_per_batch or 0)} vs baseline {_ms(base_ms)}: "
        f"{speedup:.2f}x, expected {ctx.expect_speedup:g}x (target {_ms(base_ms / ctx.expect_speedup)})",
        view.variant_id, {"batch": batch, "speedup": speedup, "expected": ctx.expect_speedup,
                          "trt_ms": view.ms_per_batch, "baseline_ms": base_ms,
                          "target_ms": base_ms / ctx.expect_speedup})
        for speedup, batch, view, base_ms in short]
    speedup, batch, worst, base_ms = min(short, key=lambda r: r[0])
    gap = (worst.ms_per_batch or 0) - base_ms / ctx.expect_speedup
    parts = []
    explained = 0.0
    for f in findings:
        if f.status != "found" or f.code == "speedup_shortfall":
            continue
        if f.code in _GAIN_CODES:
            part = _measured_part(f, worst, speedup, batch)
            if part:
                parts.append(part)
            continue
        ms = _explained_for(f, worst.variant_id)
        if ms:
            explained += ms
            parts.append(f"{f.code} {_ms(ms)} ({ms / gap * 100:.0f} % of the gap)")
        elif f.code == "fp32_only" and worst.precision in FULL_PRECISIONS:
            parts.append(f"{f.code} (not quantified: {f.title.lower()})")
    decomposition = ("; ".join(parts) if parts else "no other finding quantifies the gap") + (
        f"; unexplained {_ms(max(gap - explained, 0))}" if explained else "")
    return [Finding(
        "speedup_shortfall", "high" if speedup < 0.8 * ctx.expect_speedup else "medium", 0.9,
        f"Speedup {speedup:.2f}x at batch {batch}, expected {ctx.expect_speedup:g}x",
        f"At batch {batch} the fastest variant needs {_ms(gap)} less per batch to reach the expected "
        f"speedup. Decomposition: {decomposition}.",
        "Work through the findings below in order; each names the axis or flag to try.",
        None, evidence, explained_ms=gap)]


_GAIN_CODES = {"precision_gain": ("precision", FULL_PRECISIONS), "cuda_graph_gain": ("cuda_graph", (False,))}


def _explained_for(f: Finding, variant_id: str) -> float | None:
    """The ms a finding explains for one variant: its evidence's own figure, else the finding's figure
    when all its evidence is about that variant (never another variant's number)."""
    own = [e.values.get("explained_ms") for e in f.evidence if e.variant_id == variant_id]
    own = [x for x in own if isinstance(x, int | float)]
    if own:
        return float(max(own))
    if f.explained_ms and f.evidence and all(e.variant_id == variant_id for e in f.evidence):
        return f.explained_ms
    return None


def _measured_part(f: Finding, worst: View, speedup: float, batch: int | None) -> str | None:
    """A measured gain the best variant at the worst batch does not use yet, as a speedup it would give."""
    if not f.measured_gain or f.measured_gain <= 1:
        return None
    axis, lacking = _GAIN_CODES[f.code]
    if worst.axes.get(axis) not in lacking:
        return f"{f.code}: measured {f.measured_gain:.2f}x, already used by {worst.variant_id}"
    return (f"{f.code}: measured up to {f.measured_gain:.2f}x, not used by {worst.variant_id} "
            f"(-> about {speedup * f.measured_gain:.2f}x at batch {batch} if it carries over)")


def _log2(x: float) -> float:
    import math

    return math.log2(x) if x > 1 else 1.0
