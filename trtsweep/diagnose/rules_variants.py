"""Diagnosis rules that compare variants of the sweep: precision, shapes, batch, streams, CUDA graphs.

Each rule is a pure function ``Context -> list[Finding]``: it fires only on the numbers it cites, its
evidence covers every pair of variants it compares (at every batch, so a finding says where an effect
holds and where not), and each evidence item carries the ms it accounts for for its own variant
(``values["explained_ms"]``; ``score`` turns that into the finding's size on one basis). When the sweep
lacks the variants to decide, a rule returns a ``needs_data`` finding naming the axis to add; a next step
never proposes an axis value the sweep already measured. Per-variant runtime rules are in
:mod:`rules_runtime`, layer rules in :mod:`rules_layers`.
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
    levels,
    pairs,
    propose,
    yaml_axis,
)

FULL_PRECISIONS = ("fp32", "tf32")
MIN_GAIN = 1.05  # below 5 % a difference between two variants is within run-to-run noise
CUDA_GRAPH_MIN_GAIN = 1.03
STREAMS_MIN_GAIN = 1.10
# Samples/s must grow by at least this factor per doubling of the batch, else the GPU is saturated.
SATURATION_GAIN_PER_DOUBLING = 1.15
REDUCED_CANDIDATES = ["fp16", "int8"]


def _by_batch(views: list[View]) -> dict[tuple[str | None, int | None], list[View]]:
    groups: dict[tuple[str | None, int | None], list[View]] = {}
    for v in views:
        groups.setdefault((v.model, v.batch), []).append(v)
    return groups


def _sorted_groups(views: list[View]) -> list[tuple[tuple[str | None, int | None], list[View]]]:
    return sorted(_by_batch(views).items(), key=lambda kv: (str(kv[0][0]), kv[0][1] or 0))


def _ms(value: float | None) -> str:
    return f"{value or 0:.4g} ms"


def _basis(view: View) -> str:
    return " (throughput basis)" if view.time_basis == "throughput" else ""


def timed_pairs(ctx: Context, axis: str, slow: Callable[[View], bool],
                fast: Callable[[View], bool]) -> Iterator[tuple[View, View, float]]:
    """Variant pairs that differ only in ``axis``, as ``(slow side, fast side, slow ms / fast ms)``: the
    sides are told apart by the two predicates, and pairs without a time per batch on both are dropped."""
    for a, b in pairs(ctx.views, axis):
        first, second = (a, b) if slow(a) else (b, a)
        if slow(first) and fast(second) and first.time_per_batch_ms and second.time_per_batch_ms:
            yield first, second, first.time_per_batch_ms / second.time_per_batch_ms


def rule_fp32_only(ctx: Context) -> list[Finding]:
    """``fp32_only``: no reduced-precision variant was measured, or the fastest one is FP32/TF32."""
    known = [v for v in ctx.views if v.precision]
    if not ctx.views:
        return []
    if not known:
        return [Finding(
            "fp32_only", "info", 1.0, "Precision of the measured variants is unknown",
            "The records do not say which precision the engines were built with (a loaded engine's log "
            "does not, and no layer information was exported), so whether a reduced precision would help "
            "cannot be judged.",
            "Sweep the precision explicitly.", yaml_axis("precision", ["fp32", "fp16"]),
            status="needs_data")]
    reduced = [v for v in known if is_reduced(v.precision)]
    unknown = [v for v in ctx.views if not v.precision]
    evidence: list[Evidence] = []
    if not reduced:
        for (_, batch), group in _sorted_groups(known):
            best = min(group, key=lambda v: v.time_per_batch_ms or float("inf"))
            where = f"batch {batch}" if batch is not None else "batch not recorded"
            evidence.append(Evidence(
                f"{where}: every variant of known precision is {best.precision}; fastest "
                f"{best.variant_id} takes {_ms(best.time_per_batch_ms)} per batch{_basis(best)}",
                best.variant_id,
                {"batch": batch, "precision": best.precision, "ms_per_batch": best.time_per_batch_ms}))
        if unknown:
            # A log of a loaded engine does not say how the engine was built: it may be reduced precision.
            evidence.append(Evidence(
                f"{len(unknown)} measured variant(s) of unknown precision (a loaded engine without layer "
                f"information): {', '.join(v.variant_id for v in unknown[:4])}", None,
                {"unknown_precision": [v.variant_id for v in unknown]}))
        return [Finding(
            "fp32_only", "high" if not unknown else "medium", 0.85 if not unknown else 0.5,
            "Only FP32/TF32 engines were measured" + (" (of those whose precision is known)"
                                                       if unknown else ""),
            "Every variant of the sweep runs in full precision. On GPUs with tensor cores FP16 (and INT8 "
            "with calibration or Q/DQ) kernels usually run several times faster than FP32, and halve the "
            "memory traffic; the sweep cannot say how much until a reduced-precision variant is measured.",
            "Add a reduced-precision build to the sweep and check accuracy against FP32.",
            propose(ctx.views, "precision", ["fp16"], keep=["fp32"]), evidence)]
    gains = []
    for (_, batch), group in _sorted_groups(known):
        best = min(group, key=lambda v: v.time_per_batch_ms or float("inf"))
        red = [v for v in group if is_reduced(v.precision)]
        if best.precision in FULL_PRECISIONS and red:
            best_red = min(red, key=lambda v: v.time_per_batch_ms or float("inf"))
            gain = (best.time_per_batch_ms or 0) / (best_red.time_per_batch_ms or 1)
            gains.append(gain)
            evidence.append(Evidence(
                f"batch {batch}: fastest is {best.precision} {best.variant_id} "
                f"({_ms(best.time_per_batch_ms)}); best reduced precision {best_red.precision} "
                f"{best_red.variant_id} takes {_ms(best_red.time_per_batch_ms)}",
                best.variant_id, {"batch": batch, "fp32_ms": best.time_per_batch_ms, "reduced_variant":
                                  best_red.variant_id, "reduced_ms": best_red.time_per_batch_ms}))
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
    """``precision_gain``: the measured speedup of reduced precision over FP32 at otherwise equal settings.

    Each pair is evidence about its FP32 side: the time that side would save in reduced precision."""
    evidence: list[Evidence] = []
    gains: list[tuple[int | None, float]] = []
    for full, red, gain in timed_pairs(ctx, "precision", lambda v: v.precision in FULL_PRECISIONS,
                                       lambda v: is_reduced(v.precision)):
        gains.append((red.batch, gain))
        if gain < MIN_GAIN:
            continue
        saved = (full.time_per_batch_ms or 0) - (red.time_per_batch_ms or 0)
        evidence.append(Evidence(
            f"batch {red.batch}: {full.precision} {full.variant_id} {_ms(full.time_per_batch_ms)} -> "
            f"{red.precision} {red.variant_id} {_ms(red.time_per_batch_ms)}: {gain:.2f}x",
            full.variant_id, {"batch": red.batch, "precision": red.precision,
                              "fp32_ms": full.time_per_batch_ms, "reduced_variant": red.variant_id,
                              "reduced_ms": red.time_per_batch_ms, "gain": gain, "explained_ms": saved}))
    if not evidence:
        return []
    top = max(g for _, g in gains)
    return [Finding(
        "precision_gain", "info", 0.9,
        f"Reduced precision measured faster than FP32: {levels(gains, MIN_GAIN)}",
        "The sweep holds FP32 and reduced-precision engines with otherwise equal settings; this is the "
        "measured gain, not an estimate. Check accuracy before adopting it.",
        "Deploy the reduced-precision engine if its accuracy is acceptable.", None, evidence,
        measured_gain=top, compared="precision")]


def rule_dynamic_shape_penalty(ctx: Context) -> list[Finding]:
    """``dynamic_shape_penalty``: a dynamic-shape engine slower than the static one at the same shape."""
    evidence: list[Evidence] = []
    gains: list[tuple[int | None, float]] = []
    for dyn, static, gain in timed_pairs(ctx, "shapes", lambda v: v.axes.get("shapes") == "dynamic",
                                         lambda v: v.axes.get("shapes") == "static"):
        gains.append((dyn.batch, gain))
        if gain < MIN_GAIN:
            continue
        extra = (dyn.time_per_batch_ms or 0) - (static.time_per_batch_ms or 0)
        evidence.append(Evidence(
            f"batch {dyn.batch}: dynamic {dyn.variant_id} {_ms(dyn.time_per_batch_ms)} vs static "
            f"{static.variant_id} {_ms(static.time_per_batch_ms)} (+{(gain - 1) * 100:.0f} %)",
            dyn.variant_id, {"batch": dyn.batch, "dynamic_ms": dyn.time_per_batch_ms,
                             "static_variant": static.variant_id, "static_ms": static.time_per_batch_ms,
                             "explained_ms": extra}))
    if evidence:
        worst = max(g for _, g in gains)
        return [Finding(
            "dynamic_shape_penalty", "medium", 0.85,
            f"Dynamic-shape engines slower than static ones: {levels(gains, MIN_GAIN)}",
            "TensorRT picks kernels for the optimization profile's opt shape; at other shapes of a dynamic "
            "profile they can be slower, and shape-dependent work is done at run time.",
            "Build static engines for the shapes you serve, or one profile per serving shape with "
            "opt equal to it.", propose(ctx.views, "shapes", ["static"]), evidence,
            measured_gain=worst, compared="shapes")]
    if not gains and any(v.axes.get("shapes") == "dynamic" for v in ctx.views):
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
        if v.batch and v.time_per_batch_ms:
            groups.setdefault(comparable_key(v, "batch"), []).append(v)
    evidence: list[Evidence] = []
    shrinking = False
    for group in groups.values():
        group.sort(key=lambda v: v.batch or 0)
        steps = list(zip(group, group[1:], strict=False))
        # External baselines often give two batches only (e.g. 1 and 8): compare those two directly too,
        # or a speedup that shrinks between them is never seen from adjacent batches alone.
        with_base = [v for v in group if ctx.baseline_ms(v)]
        if len(with_base) >= 2 and (with_base[0], with_base[-1]) not in steps:
            steps.append((with_base[0], with_base[-1]))
        for lo, hi in steps:
            if lo.batch == hi.batch or not lo.per_sample_ms or not hi.per_sample_ms:
                continue
            factor = (hi.batch or 1) / (lo.batch or 1)
            gain = lo.per_sample_ms / hi.per_sample_ms  # growth of samples/s
            per_doubling = gain ** (1.0 / _log2(factor))
            if per_doubling >= SATURATION_GAIN_PER_DOUBLING:
                continue
            values: dict[str, object] = {
                "batch_from": lo.batch, "batch_to": hi.batch, "ms_from": lo.time_per_batch_ms,
                "ms_to": hi.time_per_batch_ms, "samples_per_s_from": 1000.0 / lo.per_sample_ms,
                "samples_per_s_to": 1000.0 / hi.per_sample_ms, "scaling_efficiency": gain / factor,
                "from_variant": lo.variant_id}
            text = (f"batch {lo.batch} -> {hi.batch} ({factor:g}x): {_ms(lo.time_per_batch_ms)} -> "
                    f"{_ms(hi.time_per_batch_ms)} per batch, {1000 / lo.per_sample_ms:.4g} -> "
                    f"{1000 / hi.per_sample_ms:.4g} samples/s ({gain:.2f}x, scaling efficiency "
                    f"{gain / factor * 100:.0f} %)")
            base_lo, base_hi = ctx.baseline_ms(lo), ctx.baseline_ms(hi)
            if base_lo and base_hi:
                s_lo = base_lo[0] / (lo.time_per_batch_ms or 1)
                s_hi = base_hi[0] / (hi.time_per_batch_ms or 1)
                values.update({"speedup_from": s_lo, "speedup_to": s_hi,
                               "baseline_ms_from": base_lo[0], "baseline_ms_to": base_hi[0]})
                text += f"; speedup {s_lo:.2f}x -> {s_hi:.2f}x"
                if s_hi < s_lo * 0.95:
                    shrinking = True
                    # What the larger batch would take if TensorRT scaled like the baseline does.
                    scaled = (lo.time_per_batch_ms or 0) * base_hi[0] / base_lo[0]
                    extra = max((hi.time_per_batch_ms or 0) - scaled, 0.0)
                    values["ms_if_scaled_like_baseline"] = scaled
                    values["explained_ms"] = extra
                    text += (f" (scaling like the baseline would give {_ms(scaled)} at batch {hi.batch}, "
                             f"{_ms(extra)} less)")
            evidence.append(Evidence(text, hi.variant_id, values))
    # Pairs that show the speedup shrinking against the baseline first: they are the point.
    evidence.sort(key=lambda e: "speedup_to" not in e.values)
    if evidence:
        snippet = propose(ctx.views, "precision", REDUCED_CANDIDATES, keep=["fp32"])
        step = ("Measure reduced precision at the large batch (it cuts per-sample work) and pick the batch "
                "where samples/s level off." if snippet else
                "Reduced precision is already measured (see precision_gain): cut per-sample work further "
                "(INT8 with calibration or Q/DQ, better fusion), and serve at the batch where samples/s "
                "level off.")
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
            step, snippet, evidence, compared="batch")]
    batches = {v.batch for v in ctx.views if v.batch}
    base_batches = set(ctx.baseline.latency_ms) if ctx.baseline else set()
    if ctx.views and len(batches) < 2 and len(base_batches) >= 2:
        return [Finding(
            "batch_saturation", "info", 1.0, "Batch scaling not measured",
            "The baseline gives several batches but the sweep measured one, so how the speedup changes "
            "with the batch cannot be judged.", "Sweep the batch sizes of the baseline.",
            yaml_axis("batch", sorted(base_batches)), status="needs_data")]
    return []


def rule_streams(ctx: Context) -> list[Finding]:
    """``streams_no_gain`` / ``streams_gain``: samples/s with more inference streams, at every batch.

    Where more streams gain nothing the GPU is already busy with one; where they gain, one stream leaves
    it idle. A finding that holds at some batches only says which."""
    gains: list[tuple[int | None, float]] = []
    evidence: list[Evidence] = []
    for a, b in pairs(ctx.views, "streams"):
        lo, hi = (a, b) if a.streams < b.streams else (b, a)
        if not lo.samples_per_s or not hi.samples_per_s:
            continue
        gain = hi.samples_per_s / lo.samples_per_s
        gains.append((lo.batch, gain))
        helps = gain >= STREAMS_MIN_GAIN
        # Evidence is about the side that could do better: one stream where more help, else the extra ones.
        subject, other = (lo, hi) if helps else (hi, lo)
        saved = (subject.time_per_batch_ms or 0) * (1 - 1 / gain) if helps else None
        evidence.append(Evidence(
            f"batch {lo.batch}: {lo.streams} -> {hi.streams} streams: {lo.samples_per_s:.4g} -> "
            f"{hi.samples_per_s:.4g} samples/s ({gain:.2f}x)",
            subject.variant_id, {"batch": lo.batch, "streams_from": lo.streams, "streams_to": hi.streams,
                                 "samples_per_s_from": lo.samples_per_s, "samples_per_s_to": hi.samples_per_s,
                                 "other_variant": other.variant_id, "gain": gain, "explained_ms": saved}))
    if not gains:
        return []
    where = levels(gains, STREAMS_MIN_GAIN)
    top = max(g for _, g in gains)
    helping = sorted({b for b, g in gains if g >= STREAMS_MIN_GAIN}, key=lambda b: b or 0)
    flat = sorted({b for b, g in gains if g < STREAMS_MIN_GAIN} - set(helping), key=lambda b: b or 0)
    evidence.sort(key=lambda e: (e.values.get("batch") or 0, -(e.values.get("gain") or 0)))
    if not flat:
        return [Finding(
            "streams_gain", "info", 0.8, f"More inference streams raise samples/s: {where}",
            "Parallel streams help while one stream leaves the GPU idle (small kernels, host gaps between "
            "inferences); the sweep measured the gain at equal settings. The time per batch of a "
            "multi-stream variant is on the throughput basis (1000 / batches per s).",
            "Serve with several streams (or concurrent requests) at these batches; check the latency of a "
            "single request still meets its target.", None, evidence, measured_gain=top, compared="streams")]
    if helping:
        step = (f"Use more streams at batch {', '.join(map(str, helping))} and one stream at batch "
                f"{', '.join(map(str, flat))}.")
    else:
        step = "Keep one stream per GPU; raise the batch or cut per-sample work instead."
    return [Finding(
        "streams_no_gain", "low", 0.75, f"More inference streams: {where}",
        "Parallel streams only help while one stream leaves the GPU idle (small kernels, host gaps). Where "
        "samples/s stay flat the GPU is already busy with one stream, and extra streams add memory and "
        "latency.", step, None, evidence, measured_gain=top, compared="streams")]


def rule_cuda_graph_gain(ctx: Context) -> list[Finding]:
    """``cuda_graph_gain``: the measured gain of CUDA graphs over plain enqueue at equal settings."""
    evidence: list[Evidence] = []
    gains: list[tuple[int | None, float]] = []
    for off, on, gain in timed_pairs(ctx, "cuda_graph", lambda v: v.axes.get("cuda_graph") is False,
                                     lambda v: True):
        gains.append((on.batch, gain))
        saved = (off.time_per_batch_ms or 0) - (on.time_per_batch_ms or 0)
        evidence.append(Evidence(
            f"batch {on.batch}: without CUDA graph {_ms(off.time_per_batch_ms)}, with "
            f"{_ms(on.time_per_batch_ms)} ({gain:.2f}x)",
            off.variant_id, {"batch": on.batch, "ms_with": on.time_per_batch_ms,
                             "ms_without": off.time_per_batch_ms, "with_variant": on.variant_id,
                             "gain": gain, "explained_ms": saved if gain >= CUDA_GRAPH_MIN_GAIN else None}))
    if not gains:
        return []
    top = max(g for _, g in gains)
    evidence.sort(key=lambda e: -(e.values.get("gain") or 0))
    where = levels(gains, CUDA_GRAPH_MIN_GAIN)
    if top < CUDA_GRAPH_MIN_GAIN:
        # Measured, and no gain: say so with the numbers, so nobody adds CUDA graphs expecting one.
        return [Finding(
            "cuda_graph_gain", "info", 0.85, f"CUDA graphs measured: {where} (best {top:.2f}x)",
            "CUDA graphs only remove CPU launch overhead; when the GPU is busy for the whole inference "
            "(large batches, long kernels) there is no launch gap left to remove.",
            "Keep CUDA graphs off unless the enqueue time approaches the GPU compute time.", None,
            evidence, measured_gain=top, compared="cuda_graph")]
    return [Finding(
        "cuda_graph_gain", "medium", 0.85, f"CUDA graphs measured faster: {where}",
        "Capturing the enqueue in a CUDA graph replaces many kernel launches by one graph launch; the "
        "sweep measured the gain at equal settings.",
        "Use CUDA graphs in deployment (capture once per shape, replay per inference).",
        propose(ctx.views, "cuda_graph", [True]), evidence, measured_gain=top, compared="cuda_graph")]


def rule_speedup_shortfall(ctx: Context, findings: list[Finding]) -> list[Finding]:
    """``speedup_shortfall``: the best speedup per batch against the expectation, decomposed into the other
    findings' explained times and measured gains; ``expectation_met`` when every batch reaches it."""
    if ctx.expect_speedup is None:
        return []
    if ctx.baseline is None:
        return [Finding(
            "speedup_shortfall", "info", 1.0, "No baseline to compute the speedup against",
            f"An expected speedup of {ctx.expect_speedup:g}x was given but no baseline.",
            "Add a baseline to the sweep, or pass --baseline-ms BATCH=MS,... to diagnose.",
            "baseline:\n  label: PyTorch\n  latency_ms: {1: 40.0}", status="needs_data")]
    expect = ctx.expect_speedup
    rows = []
    for _, best in sorted(ctx.model.best_by_batch.items(), key=lambda kv: (str(kv[0][0]), kv[0][1] or 0)):
        sp = best.speedup
        if sp is not None:
            rows.append((sp.ratio, best.batch, best, sp.baseline_ms, sp.basis))
    if not rows:
        return []
    label = ctx.baseline.label
    evidence = []
    for speedup, batch, view, base_ms, basis in rows:
        met = speedup >= expect
        verdict = (f"reached, {(speedup / expect - 1) * 100:.0f} % above" if met
                   else f"short; target {_ms(base_ms / expect)}")
        evidence.append(Evidence(
            f"batch {batch}: best {view.variant_id} {_ms(view.time_per_batch_ms)} per batch ({basis} basis) "
            f"vs {label} {_ms(base_ms)}: {speedup:.2f}x, expected {expect:g}x ({verdict})",
            view.variant_id, {"batch": batch, "speedup": speedup, "expected": expect, "met": met,
                              "basis": basis, "trt_ms": view.time_per_batch_ms, "baseline_ms": base_ms,
                              "target_ms": base_ms / expect}))
    short = [r for r in rows if r[0] < expect]
    if not short:
        lowest = min(rows, key=lambda r: r[0])
        return [Finding(
            "expectation_met", "info", 0.9,
            f"Expected {expect:g}x reached at every measured batch (lowest {lowest[0]:.2f}x at batch "
            f"{lowest[1]})",
            f"The best variant of each batch is at least {expect:g}x faster than {label}.",
            "Deploy the best variant of the batch you serve; the findings below say what more is possible.",
            None, evidence)]
    speedup, batch, worst, base_ms, basis = min(short, key=lambda r: r[0])
    gap = (worst.time_per_batch_ms or 0) - base_ms / expect
    parts = []
    explained = 0.0
    for f in findings:
        if f.status != "found" or f.code in ("speedup_shortfall", "expectation_met"):
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
    reached = [r for r in rows if r[0] >= expect]
    where_met = (" Reached at batch " + ", ".join(f"{r[1]} ({r[0]:.2f}x, {r[2].variant_id})" for r in reached)
                 + ".") if reached else ""
    return [Finding(
        "speedup_shortfall", "high" if speedup < 0.8 * expect else "medium", 0.9,
        f"Speedup {speedup:.2f}x at batch {batch}, expected {expect:g}x",
        f"At batch {batch} the fastest variant needs {_ms(gap)} less per batch to reach the expected "
        f"speedup ({basis} basis).{where_met} Decomposition: {decomposition}.",
        "Work through the findings below in order; each names the axis or flag to try.",
        None, evidence, explained_ms=gap,
        explained_at={"batch": batch, "variant_id": worst.variant_id,
                      "time_per_batch_ms": worst.time_per_batch_ms,
                      "share": gap / (worst.time_per_batch_ms or gap)})]


_GAIN_CODES = {"precision_gain": ("precision", FULL_PRECISIONS), "cuda_graph_gain": ("cuda_graph", (False,))}


def _explained_for(f: Finding, variant_id: str) -> float | None:
    """The ms a finding explains for one variant: its evidence's own figure (never another variant's)."""
    own = [e.values.get("explained_ms") for e in f.evidence if e.variant_id == variant_id]
    nums = [float(x) for x in own if isinstance(x, int | float)]
    return max(nums) if nums else None


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
