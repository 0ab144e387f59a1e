"""Diagnosis rules on engine layers: precision fallback, reformats, hotspots, unfused chains.

Only layers that passed the input check (:func:`diagnose_core.layer_problem`) reach these rules. A
per-layer profile adds a synchronisation per layer, so absolute layer times are inflated; shares are
computed from the layer times and converted to milliseconds of the variant's GPU compute median.
"""

from __future__ import annotations

import re

from trtsweep.diagnose.context import (
    Context,
    Evidence,
    Finding,
    View,
    is_reduced,
    propose,
    severity_for_share,
)
from trtsweep.records import LayerRecord

FALLBACK_SHARE = 0.05
REFORMAT_SHARE = 0.05
HOTSPOT_SHARE = 0.10
UNFUSED_CHAIN_LEN = 3
UNFUSED_SHARE = 0.05
LOW_FUSION_RATIO = 1.3  # ONNX nodes per engine layer below this: TensorRT fused almost nothing
MAX_LAYERS = 5

# Layer types (or ONNX op names in unfused layer names) that are cheap and normally fused into a neighbour.
_CHEAP_TYPES = {"elementwise", "activation", "scale", "shuffle", "unary", "pointwise", "cast", "slice",
                "concatenation", "identity", "reduce", "gather", "constant", "padding", "select", "shape"}
_CHEAP_OPS = re.compile(r"(^|[/_.])(Add|Sub|Mul|Div|Pow|Sqrt|Relu|Sigmoid|Tanh|Clip|Erf|Exp|Transpose|"
                        r"Reshape|Cast|Where|Expand|Concat|Slice|Gather|Unsqueeze|Squeeze|Identity|ReduceMean|Neg)"
                        r"(_\d+)?$")
_FUSED_MARKERS = (" + ", "PWN(", "ForeignNode", "myl", "{", "fused")


def _timed(view: View) -> tuple[list[LayerRecord], float, float] | None:
    """(timed layers, their total time, ms of GPU compute per unit of layer time), or None."""
    layers = [x for x in view.layers or [] if x.time_ms is not None]
    total = sum(x.time_ms or 0.0 for x in layers)
    if not layers or total <= 0:
        return None
    scale = (view.gpu / total) if view.gpu else 1.0
    return layers, total, scale


def _is_reformat(layer: LayerRecord) -> bool:
    return layer.is_reformat or (layer.type or "").lower() in ("reformat", "reformatting")


def _layer_list(layers: list[LayerRecord], total: float) -> list[dict[str, object]]:
    top = sorted(layers, key=lambda x: -(x.time_ms or 0.0))[:MAX_LAYERS]
    return [{"name": x.name, "precision": x.precision, "time_ms": x.time_ms,
             "share": round((x.time_ms or 0.0) / total, 4)} for x in top]


def _names(layers: list[LayerRecord], total: float) -> str:
    return ", ".join(f"'{x['name']}' {float(x['share']) * 100:.1f} %"  # type: ignore[arg-type]
                     for x in _layer_list(layers, total))


def _finish(items: list[tuple[float, float, Evidence]]) -> tuple[list[Evidence], float, float]:
    """Every evidence item (worst first, each with the ms it explains for its variant), and the largest
    (share, explained ms)."""
    items.sort(key=lambda t: -t[0])
    for _, ms, e in items:
        e.values["explained_ms"] = ms or None
    return [e for _, _, e in items], items[0][0], max(ms for _, ms, _ in items)


def rule_precision_fallback(ctx: Context) -> list[Finding]:
    """``precision_fallback``: layers still FP32 (or reformatted) in a reduced-precision engine."""
    items: list[tuple[float, float, Evidence]] = []
    for v in ctx.views:
        timed = _timed(v)
        if not is_reduced(v.precision) or timed is None:
            continue
        layers, total, scale = timed
        if not any(x.precision for x in layers):
            continue
        full = [x for x in layers if x.precision in ("fp32", "tf32") and not _is_reformat(x) and x.time_ms]
        reformats = [x for x in layers if _is_reformat(x) and x.time_ms]
        full_ms = sum(x.time_ms or 0.0 for x in full)
        share = full_ms / total
        if share < FALLBACK_SHARE:
            continue
        ref_share = sum(x.time_ms or 0.0 for x in reformats) / total
        text = (f"{v.variant_id}: {len(full)} of {len(layers)} layers run FP32, "
                f"{share * 100:.1f} % of layer time (top: {_names(full, total)})")
        if reformats:
            text += f"; {len(reformats)} reformat layers take another {ref_share * 100:.1f} %"
        items.append((share, full_ms * scale, Evidence(text, v.variant_id, {
            "fp32_layers": len(full), "layers": len(layers), "fp32_share": share,
            "reformat_share": ref_share, "top_fp32_layers": _layer_list(full, total)})))
    if not items:
        return []
    evidence, share, _ = _finish(items)
    shown = {e.variant_id for e in evidence}
    soft = sorted({v.precision for v in ctx.views
                   if v.variant_id in shown and v.precision in ("fp16", "bf16")})
    # Only FP16/BF16 can be asked for by flag; INT8 fallback is fixed in the model (Q/DQ) or by calibration.
    snippet = (f"matrix:\n  build_flags: [[], [\"--precisionConstraints=prefer\", "
               f"\"--layerPrecisions=*:{soft[0]}\"]]") if soft else None
    return [Finding(
        "precision_fallback", severity_for_share(share), 0.75,
        f"{share * 100:.0f} % of GPU time still runs in FP32 in a reduced-precision engine",
        "TensorRT keeps a layer in FP32 when it has no faster kernel in the reduced precision, when a "
        "precision constraint asks for it, or (INT8) when the layer has no quantization scales / Q/DQ pair. "
        "Those layers get none of the reduced-precision gain, and the conversions around them add reformats.",
        "For INT8 place Q/DQ (or calibrate) around the listed layers; for FP16 check they are not pinned to "
        "FP32 (--layerPrecisions/--precisionConstraints) and try letting the builder choose (best).",
        snippet, evidence)]


def rule_reformat_overhead(ctx: Context) -> list[Finding]:
    """``reformat_overhead``: reformat (format/precision conversion) layers take a large share."""
    items: list[tuple[float, float, Evidence]] = []
    inputs_reformatted = False
    for v in ctx.views:
        timed = _timed(v)
        if timed is None:
            continue
        layers, total, scale = timed
        reformats = [x for x in layers if _is_reformat(x) and x.time_ms]
        ref_ms = sum(x.time_ms or 0.0 for x in reformats)
        share = ref_ms / total
        if share < REFORMAT_SHARE:
            continue
        # The first layer converting a network input means the engine wants another input format.
        inputs_reformatted = inputs_reformatted or bool(layers and _is_reformat(layers[0]))
        items.append((share, ref_ms * scale, Evidence(
            f"{v.variant_id}: {len(reformats)} reformat layers, {share * 100:.1f} % of "
            f"layer time (top: {_names(reformats, total)})", v.variant_id,
            {"reformat_layers": len(reformats), "reformat_share": share,
             "top_reformats": _layer_list(reformats, total)})))
    if not items:
        return []
    evidence, share, _ = _finish(items)
    step = ("Reformats between layers come from neighbours running in different precisions or formats: "
            "fix the precision fallback first.")
    snippet = None
    if inputs_reformatted:
        step += " For the input/output conversions, give the engine I/O in the format it uses."
        snippet = ("matrix:\n  build_flags: [[], [\"--inputIOFormats=fp16:chw\", "
                   "\"--outputIOFormats=fp16:chw\"]]")
    return [Finding(
        "reformat_overhead", severity_for_share(share), 0.75,
        f"Reformat layers take {share * 100:.0f} % of GPU time",
        "TensorRT inserts reformat layers to convert tensors between layouts and precisions; they do no "
        "useful work.", step, snippet, evidence)]


def rule_layer_hotspot(ctx: Context) -> list[Finding]:
    """``layer_hotspot``: one layer takes at least 10 % of the GPU time."""
    items: list[tuple[float, float, Evidence]] = []
    for v in ctx.views:
        timed = _timed(v)
        if timed is None:
            continue
        layers, total, scale = timed
        hot = [x for x in layers if (x.time_ms or 0.0) / total >= HOTSPOT_SHARE and not _is_reformat(x)]
        if not hot:
            continue
        top = max((x.time_ms or 0.0) / total for x in hot)
        items.append((top, max(x.time_ms or 0.0 for x in hot) * scale, Evidence(
            f"{v.variant_id}: {_names(hot, total)} of layer time", v.variant_id,
            {"hot_layers": _layer_list(hot, total)})))
    if not items:
        return []
    evidence, share, _ = _finish(items)
    for e in evidence:
        # A hot layer is where the time goes, not time a fix removes: the finding is not sized in ms.
        e.values["explained_ms"] = None
    top_names = [x for x in evidence[0].values["hot_layers"]
                 if abs(float(x["share"]) - share) < 0.005]
    title = (f"One layer takes {share * 100:.0f} % of GPU time" if len(top_names) == 1 else
             f"{len(top_names)} layers take {share * 100:.0f} % of GPU time each")
    return [Finding(
        "layer_hotspot", "medium" if share >= 0.25 else "low", 0.6, title,
        "A single layer dominates the engine. If it is the model's main work this is expected; if it is "
        "an FP32 layer, an unfused op or a plugin, it is where a faster kernel pays most.",
        "Check that layer's precision and tactic in the layer info; try a higher builder optimization level.",
        propose(ctx.views, "builder_optimization_level", [5], keep=[3]), evidence)]


def _single_cheap(layer: LayerRecord) -> bool:
    if _is_reformat(layer) or len(layer.fused_from) > 1 or any(m in layer.name for m in _FUSED_MARKERS):
        return False
    kind = (layer.type or "").lower()
    return kind in _CHEAP_TYPES if kind else bool(_CHEAP_OPS.search(layer.name))


def unfused_chains(layers: list[LayerRecord]) -> list[list[LayerRecord]]:
    """Runs of consecutive cheap single-op layers (engine order) that TensorRT did not fuse."""
    chains: list[list[LayerRecord]] = []
    run: list[LayerRecord] = []
    for layer in [*layers, LayerRecord(name="")]:
        if layer.name and _single_cheap(layer):
            run.append(layer)
            continue
        if len(run) >= UNFUSED_CHAIN_LEN:
            chains.append(run)
        run = []
    return chains


def rule_unfused_layers(ctx: Context) -> list[Finding]:
    """``unfused_layers``: chains of cheap ops left as separate layers, and the ONNX-nodes-per-layer ratio
    when the ONNX model is available."""
    items: list[tuple[float, float, Evidence]] = []
    for v in ctx.views:
        layers = [x for x in v.layers or [] if not _is_reformat(x)]
        if not layers:
            continue
        nodes = ctx.onnx_nodes.get(v.model or "")
        ratio = nodes / len(layers) if nodes else None
        chains = unfused_chains(v.layers or [])
        timed = _timed(v)
        total, scale = (timed[1], timed[2]) if timed else (0.0, 1.0)
        chain_ms = sum(x.time_ms or 0.0 for c in chains for x in c)
        share = chain_ms / total if total else 0.0
        low_ratio = ratio is not None and nodes is not None and nodes >= 10 and ratio < LOW_FUSION_RATIO
        if not (chains and (share >= UNFUSED_SHARE or not timed)) and not low_ratio:
            continue
        longest = sorted(chains, key=lambda c: -sum(x.time_ms or 0.0 for x in c) - len(c) * 1e-9)[:3]
        text = f"{v.variant_id}: {len(layers)} engine layers"
        if ratio is not None:
            text += f" for {nodes} ONNX nodes ({ratio:.2f} nodes per layer)"
        if chains:
            shown = "; ".join(" -> ".join(x.name for x in c[:6]) + (" ..." if len(c) > 6 else "")
                              for c in longest)
            text += f"; {len(chains)} unfused chain(s), {share * 100:.1f} % of layer time; largest: {shown}"
        items.append((max(share, LOW_FUSION_RATIO - (ratio or LOW_FUSION_RATIO)), chain_ms * scale,
                      Evidence(text, v.variant_id, {
                          "engine_layers": len(layers), "onnx_nodes": nodes, "fusion_ratio": ratio,
                          "unfused_chains": [[x.name for x in c] for c in longest], "chain_share": share})))
    if not items:
        return []
    evidence, share, _ = _finish(items)
    return [Finding(
        "unfused_layers", severity_for_share(share) if share > 0 else "low", 0.6,
        "Chains of cheap ops were not fused",
        "Element-wise, shape and cast ops normally fuse into the neighbouring convolution or matmul; run as "
        "separate layers they each cost a kernel launch and a round trip through memory. Fusion is usually "
        "blocked by an op TensorRT cannot fuse across (shape arithmetic, Cast, Where, a plugin) or by "
        "tensors used by several consumers.",
        "Run `trtsweep inspect MODEL.onnx` for the ops that block fusion; fold constants and simplify the "
        "model (polygraphy surgeon sanitize --fold-constants), and try a higher optimization level.",
        propose(ctx.views, "builder_optimization_level", [5], keep=[3]), evidence)]
