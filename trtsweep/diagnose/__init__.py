"""``trtsweep diagnose``: why the TensorRT speedup is below expectations, with evidence and next steps.

Entry point :func:`diagnose`. The inputs are checked first (``analysis.model.build_model``), then
every rule runs on the checked context, and the findings are ranked:

1. ``speedup_shortfall`` first: it is the verdict the other findings decompose;
2. then by severity (high, medium, low, info);
3. then by the time they explain (``explained_ms``, largest first; findings without a number last).

Findings with ``status == "needs_data"`` say which axis the sweep lacks to decide a rule. ``--format
json`` is :func:`render_json`: ``{"schema_version": 1, "findings": [...]}``, described by
``findings.schema.json`` next to this module.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from trtsweep.analysis.baseline import Baseline, baseline_from_cli, parse_baseline_ms, parse_baseline_selector
from trtsweep.analysis.model import ResultModel, build_model
from trtsweep.diagnose import rules_baseline, score
from trtsweep.diagnose import rules_layers as layers
from trtsweep.diagnose import rules_runtime as runtime
from trtsweep.diagnose import rules_telemetry as telemetry
from trtsweep.diagnose import rules_variants as rules
from trtsweep.diagnose.context import Context, Evidence, Finding, check_inputs
from trtsweep.diagnose.render import (
    FINDINGS_SCHEMA_VERSION,
    render,
    render_json,
    render_markdown,
    render_text,
    schema_path,
    to_document,
)
from trtsweep.store import ResultSet

__all__ = ["Evidence", "Finding", "FINDINGS_SCHEMA_VERSION", "RULE_CODES", "check_inputs", "diagnose",
           "diagnose_context", "diagnose_model",
           "render", "render_text", "render_markdown", "render_json", "parse_baseline_ms",
           "parse_baseline_selector", "baseline_from_cli", "schema_path", "to_document"]

Rule = Callable[[Context], list[Finding]]
RULES: tuple[Rule, ...] = (
    runtime.rule_build_failure,
    rules.rule_fp32_only,
    rules.rule_precision_gain,
    layers.rule_precision_fallback,
    rules.rule_dynamic_shape_penalty,
    rules.rule_batch_saturation,
    runtime.rule_enqueue_bound,
    runtime.rule_transfer_bound,
    runtime.rule_host_overhead,
    rules.rule_streams,
    rules.rule_cuda_graph_gain,
    layers.rule_reformat_overhead,
    layers.rule_layer_hotspot,
    layers.rule_unfused_layers,
    runtime.rule_unstable_measurement,
    telemetry.rule_clock_throttled,
    telemetry.rule_gpu_shared,
    rules_baseline.rule_baseline_method,
)
# Every code a finding can carry; stable, documented in findings.schema.json.
RULE_CODES = ("input_check", "fp32_only", "precision_gain", "precision_fallback", "dynamic_shape_penalty",
              "batch_saturation", "enqueue_bound", "transfer_bound", "host_overhead", "streams_no_gain",
              "streams_gain", "cuda_graph_gain", "reformat_overhead", "layer_hotspot", "unfused_layers",
              "unstable_measurement", "build_failure", "run_failure", "speedup_shortfall", "expectation_met",
              "clock_throttled", "gpu_shared", "baseline_method")


def diagnose(rs: ResultSet, baseline: Baseline | dict[str, Any] | None = None,
             expect_speedup: float | None = None) -> list[Finding]:
    """Diagnose a run folder's result set; ``baseline``/``expect_speedup`` override the sweep's own.

    ``baseline`` is an ``analysis.baseline.Baseline`` (:func:`baseline_from_cli` builds one from CLI
    options) or its lock form.
    """
    return diagnose_model(build_model(rs, baseline, expect_speedup))


def diagnose_model(model: ResultModel) -> list[Finding]:
    """Diagnose an already built analysis model (what the report does, so both read one model)."""
    return diagnose_context(Context(model, _onnx_node_counts(model.result_set)))


def diagnose_context(ctx: Context) -> list[Finding]:
    """Run every rule on an already checked context, size the findings on one basis, label their evidence
    and rank them (pure; used by tests)."""
    found: list[Finding] = []
    for rule in RULES:
        found.extend(rule(ctx))
    telemetry.cite_telemetry(ctx, found)
    found.extend(rules.rule_speedup_shortfall(ctx, found))
    found.extend(_input_findings(ctx))
    score.score(ctx, found)
    for f in found:
        score.label_evidence(ctx, f)
    return score.rank(found)


rank = score.rank


def _input_findings(ctx: Context) -> list[Finding]:
    evidence = [Evidence(f"{vid}: left out, {why}", vid, {"scope": "variant", "reason": why})
                for vid, why in ctx.excluded]
    evidence += [Evidence(f"{vid}: layer times left out, {why}", vid, {"scope": "layers", "reason": why})
                 for vid, why in ctx.layers_dropped]
    derived = sorted({(v.variant_id, n) for v in ctx.views for n in v.derived})
    if not evidence and not derived:
        return []
    if derived:
        names = sorted({n for _, n in derived})
        evidence.append(Evidence(
            f"{len({vid for vid, _ in derived})} variant(s): {', '.join(names)} read from the trtexec "
            "options their logs print (the run folder does not record these axes)", None,
            {"scope": "axes", "axes": names}))
    if ctx.excluded or ctx.layers_dropped:
        title = (f"{len(ctx.excluded)} variant(s) and {len(ctx.layers_dropped)} layer profile(s) left out of "
                 "the diagnosis")
    else:
        title = "Some axes were read from the trtexec options of imported runs"
    return [Finding(
        "input_check", "info", 1.0, title,
        "Before any verdict the inputs are checked: a variant without a complete record, or whose layer "
        "times do not add up to its profile, is not used for the rules it would mislead; axes a run folder "
        "does not record are read from the trtexec options printed in the log.",
        _input_advice(ctx),
        None, evidence)]


def _input_advice(ctx: Context) -> str:
    """What to do about left-out inputs: a measured run can be resumed, imported logs cannot."""
    meta = ctx.model.result_set.meta
    imported = meta is not None and meta.origin == "import"
    steps = []
    if ctx.excluded or ctx.layers_dropped:
        steps.append("Re-record the listed logs (complete runs, or --exportProfile with "
                     "--separateProfileRun) and import them again" if imported else
                     "Re-run the listed variants (running the same 'trtsweep run' again resumes incomplete "
                     "steps; --retry-failed also re-runs failed ones)")
    if any(v.derived for v in ctx.views):
        steps.append("check the axes read from the logs (an engine loaded with --loadEngine does not say "
                     "how it was built)")
    text = "; ".join(steps) + "."
    return text[0].upper() + text[1:]


def _onnx_node_counts(rs: ResultSet) -> dict[str, int]:
    """ONNX node counts of the sweep's models that exist on disk (for the fusion ratio)."""
    out: dict[str, int] = {}
    for v in rs.variants:
        model = v.model
        if not model or model in out:
            continue
        path = Path(model) if Path(model).is_absolute() else rs.root / model
        if path.suffix.lower() == ".onnx" and path.is_file():
            try:
                import onnx  # deferred: only needed when a model file is at hand

                out[model] = len(onnx.load(str(path), load_external_data=False).graph.node)
            except Exception:  # noqa: BLE001 - an unreadable model only costs the fusion ratio
                continue
    return out


# ---------------------------------------------------------------- CLI option helpers

