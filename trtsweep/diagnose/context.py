"""What the diagnosis rules work on: findings, and the *checked* view of a result set.

Every rule in :mod:`diagnose_rules` and :mod:`diagnose_layers` is a pure function of a :class:`Context`.
The context is built once by :func:`check_inputs`, which is the only place that decides what is usable:
a variant without a usable timing is named and left out, a variant whose layer times do not add up
to its profile keeps its timings but loses its layers, and failed builds/runs go to ``failed`` for the
``build_failure`` rule.  No rule ever reads a raw :class:`~trtsweep.store.VariantResult`.
"""

from __future__ import annotations

import json
import statistics
from dataclasses import dataclass, field
from typing import Any

from trtsweep.analysis.axes import normalized_axes
from trtsweep.records import LayerRecord, RunRecord
from trtsweep.store import ResultSet, VariantResult

SEVERITIES = ("high", "medium", "low", "info")
REDUCED_PRECISIONS = ("fp16", "bf16", "int8", "fp8", "best")
# A per-layer profile adds a synchronisation per layer, so its sum exceeds the GPU compute time of a
# normal run (1.6x for the corpus ResNet-50 INT8 run); beyond these bounds it is not the same engine/shape.
LAYER_SUM_RATIO_BOUNDS = (0.5, 4.0)
LAYER_PCT_TOLERANCE = 5.0


@dataclass
class Evidence:
    """One measured fact behind a finding: words, the variant it comes from, and the raw numbers."""

    text: str
    variant_id: str | None = None
    values: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"text": self.text, "variant_id": self.variant_id, "values": _clean(self.values)}


@dataclass
class Finding:
    """One diagnosis. ``status`` is ``found`` (the evidence shows it) or ``needs_data`` (the sweep lacks
    the variants to decide; ``yaml_snippet`` then says what to add)."""

    code: str
    severity: str
    confidence: float
    title: str
    explanation: str
    next_step: str
    yaml_snippet: str | None = None
    evidence: list[Evidence] = field(default_factory=list)
    explained_ms: float | None = None
    measured_gain: float | None = None
    status: str = "found"

    def to_dict(self) -> dict[str, Any]:
        """The ``--format json`` form of one finding (see ``findings.schema.json``)."""
        return {
            "code": self.code,
            "status": self.status,
            "severity": self.severity,
            "confidence": round(float(self.confidence), 3),
            "title": self.title,
            "explanation": self.explanation,
            "next_step": self.next_step,
            "yaml_snippet": self.yaml_snippet,
            "explained_ms": _round(self.explained_ms),
            "measured_gain": _round(self.measured_gain),
            "evidence": [e.to_dict() for e in self.evidence],
        }


@dataclass
class View:
    """A checked variant: normalised axes and the medians (across repeats) the rules compare."""

    variant_id: str
    axes: dict[str, Any]
    derived: tuple[str, ...]  # axis names read from the record's options (imported runs)
    record: RunRecord
    repeats: list[RunRecord]
    model: str | None = None
    build_id: str | None = None
    layers: list[LayerRecord] | None = None
    ms_per_batch: float | None = None
    repeat_ms: list[float] = field(default_factory=list)
    latency: float | None = None
    gpu: float | None = None
    enqueue: float | None = None
    h2d: float | None = None
    d2h: float | None = None
    qps: float | None = None
    cv_pct: float | None = None
    warnings: frozenset[str] = frozenset()

    @property
    def precision(self) -> str | None:
        return self.axes.get("precision")

    @property
    def batch(self) -> int | None:
        return self.axes.get("batch")

    @property
    def streams(self) -> int:
        return self.axes.get("streams") or 1

    @property
    def per_sample_ms(self) -> float | None:
        if self.ms_per_batch is None or not self.batch:
            return None
        return self.ms_per_batch / self.batch

    def label(self, *names: str) -> str:
        """``fp16-b8 (precision=fp16, batch=8)`` with the named axes, for evidence text."""
        shown = [f"{n}={_show(self.axes.get(n))}" for n in names if self.axes.get(n) is not None]
        return f"{self.variant_id} ({', '.join(shown)})" if shown else self.variant_id


@dataclass
class FailedVariant:
    """A variant whose engine build or run failed, with the cause as the records give it."""

    variant_id: str
    failure: str  # one of records.FAILURE_CLASSES
    text: str | None
    stage: str  # "build" or "run"
    axes: dict[str, Any]


@dataclass
class Context:
    """The checked inputs every rule reads."""

    views: list[View]
    excluded: list[tuple[str, str]]  # (variant_id, why it was left out)
    layers_dropped: list[tuple[str, str]]  # (variant_id, why its layers were left out)
    failed: list[FailedVariant]
    baseline: dict[str, Any] | None = None  # normalised: latency_ms keyed by int batch, or variant selector
    expect_speedup: float | None = None
    onnx_nodes: dict[str, int] = field(default_factory=dict)  # model path -> ONNX node count

    def baseline_ms(self, view: View) -> tuple[float, str | None] | None:
        """(baseline ms per batch, baseline variant id or None) for a view, when the baseline covers it."""
        base = self.baseline
        if not base or view.ms_per_batch is None:
            return None
        if base.get("latency_ms"):
            ref = base["latency_ms"].get(view.batch) if view.batch is not None else None
            return (float(ref), None) if ref else None
        selector = base.get("variant") or {}

        def accepted(value: Any) -> set[str]:
            # A selector value is one value or a list of accepted ones (the sweep spec allows both).
            return {_show(x) for x in value} if isinstance(value, list | tuple) else {_show(value)}

        for other in self.views:
            if (other.model == view.model and other.batch == view.batch and other.ms_per_batch
                    and all(_show(other.axes.get(k)) in accepted(v) for k, v in selector.items())):
                return other.ms_per_batch, other.variant_id
        return None


# ---------------------------------------------------------------- checking the inputs

def check_inputs(rs: ResultSet, baseline: dict[str, Any] | None = None,
                 expect_speedup: float | None = None,
                 onnx_nodes: dict[str, int] | None = None) -> Context:
    """Build the :class:`Context`: usable views, what was left out and why, and the failures."""
    from trtsweep.analysis.baseline import normalize_baseline

    views: list[View] = []
    excluded: list[tuple[str, str]] = []
    dropped: list[tuple[str, str]] = []
    failed: list[FailedVariant] = []
    for v in rs.variants:
        fail = _failure_of(v)
        if fail is not None:
            failed.append(fail)
            continue
        usable = [r for r in v.records if r.status == "passed"]
        if v.status != "passed" or not usable:
            why = v.reason or (f"status {v.status}" if v.status != "passed" else "no passed record")
            excluded.append((v.variant_id, f"not measured ({why})"))
            continue
        view = _make_view(v, usable)
        if view.ms_per_batch is None:
            excluded.append((v.variant_id, "record incomplete: no latency median and no throughput"))
            continue
        problem = layer_problem(view.layers, view.gpu)
        if problem is not None:
            dropped.append((v.variant_id, problem))
            view.layers = None
        views.append(view)
    base = normalize_baseline(baseline if baseline is not None else rs.baseline)
    expect = expect_speedup if expect_speedup is not None else rs.expect_speedup
    return Context(views=views, excluded=excluded, layers_dropped=dropped, failed=failed,
                   baseline=base, expect_speedup=expect, onnx_nodes=dict(onnx_nodes or {}))


def layer_problem(layers: list[LayerRecord] | None, gpu_ms: float | None) -> str | None:
    """Why a variant's layer times cannot be trusted, or None when they add up (or there are none)."""
    if not layers:
        return None
    timed = [x for x in layers if x.time_ms is not None]
    if not timed:
        return None  # layer info without times: nothing to add up, the time-based rules skip it
    pcts = [x.time_pct for x in layers if x.time_pct is not None]
    if pcts and len(pcts) == len(timed):
        total_pct = sum(pcts)
        if abs(total_pct - 100.0) > LAYER_PCT_TOLERANCE:
            return f"layer time shares add up to {total_pct:.1f} %, not 100 %"
    total = sum(x.time_ms for x in timed)  # type: ignore[misc]
    if total <= 0:
        return "layer times are all zero"
    if gpu_ms:
        ratio = total / gpu_ms
        low, high = LAYER_SUM_RATIO_BOUNDS
        if not low <= ratio <= high:
            return (f"layer times add up to {total:.4g} ms against a GPU compute median of {gpu_ms:.4g} ms "
                    f"({ratio:.2f}x; expected {low}-{high}x): not the same engine or shape")
    return None


def _failure_of(v: VariantResult) -> FailedVariant | None:
    if v.build is not None and v.build.status == "failed":
        return FailedVariant(v.variant_id, v.build.failure or "other", v.build.failure_text, "build", v.axes)
    rec = v.record
    if rec is not None and rec.status == "failed":
        return FailedVariant(v.variant_id, rec.failure or "other", rec.failure_text, "run", v.axes)
    if v.status in ("failed", "timeout", "crash"):
        cause = {"timeout": "timeout", "crash": "crash"}.get(v.status, "other")
        stage = "build" if v.reason and "engine" in v.reason.lower() else "run"
        return FailedVariant(v.variant_id, cause, v.reason, stage, v.axes)
    return None


def _make_view(v: VariantResult, records: list[RunRecord]) -> View:
    rec = records[0]
    axes, derived = normalized_axes(v.axes, rec.options)
    view = View(variant_id=v.variant_id, axes=axes, derived=derived, record=rec, repeats=records,
                model=v.model, build_id=v.build_id)
    view.latency = _median_of(records, "latency_ms")
    view.gpu = _median_of(records, "gpu_compute_ms")
    view.enqueue = _median_of(records, "enqueue_ms")
    view.h2d = _median_of(records, "h2d_ms")
    view.d2h = _median_of(records, "d2h_ms")
    qps = [r.throughput_qps for r in records if r.throughput_qps]
    view.qps = statistics.median(qps) if qps else None
    cvs = [r.gpu_compute_cv_pct for r in records if r.gpu_compute_cv_pct is not None]
    view.cv_pct = max(cvs) if cvs else None
    view.warnings = frozenset(w.code for r in records for w in r.warnings)
    view.repeat_ms = [t for t in (_ms_per_batch(r, view.streams) for r in records) if t is not None]
    view.ms_per_batch = statistics.median(view.repeat_ms) if view.repeat_ms else None
    view.layers = next((r.layers for r in records if r.layers), None)
    if view.layers is None and v.build is not None and v.build.layers:
        view.layers = v.build.layers  # layer info exported at build time (no times, but precisions)
    return view


def _ms_per_batch(rec: RunRecord, streams: int) -> float | None:
    # Same definition as reports.baseline.time_per_batch_ms: one stream -> median latency; several
    # streams in flight -> 1000 / throughput, since one inference's latency no longer measures the work.
    lat = rec.latency_ms.median if rec.latency_ms is not None else None
    if streams <= 1 and lat:
        return lat
    if rec.throughput_qps:
        return 1000.0 / rec.throughput_qps
    return lat or None


def _median_of(records: list[RunRecord], key: str) -> float | None:
    values = [getattr(r, key).median for r in records
              if getattr(r, key) is not None and getattr(r, key).median is not None]
    return statistics.median(values) if values else None


# ---------------------------------------------------------------- comparing variants

def comparable_key(view: View, *varied: str) -> str:
    """A key equal for two views that differ only in the ``varied`` axes (and run the same model)."""
    rest = {k: _show(v) for k, v in sorted(view.axes.items()) if k not in varied}
    return json.dumps([view.model, rest], sort_keys=True)


def pairs(views: list[View], axis: str) -> list[tuple[View, View]]:
    """Every (a, b) of views that differ only in ``axis``, each unordered pair once, a before b."""
    groups: dict[str, list[View]] = {}
    for v in views:
        if v.axes.get(axis) is not None:
            groups.setdefault(comparable_key(v, axis), []).append(v)
    out = []
    for group in groups.values():
        for i, a in enumerate(group):
            for b in group[i + 1:]:
                if _show(a.axes.get(axis)) != _show(b.axes.get(axis)):
                    out.append((a, b))
    return out


# ---------------------------------------------------------------- small helpers for the rules

def severity_for_share(share: float) -> str:
    """Severity of a cost by the share of the time it takes: >= 20 % high, >= 5 % medium, else low."""
    if share >= 0.20:
        return "high"
    if share >= 0.05:
        return "medium"
    return "low"


def yaml_axis(axis: str, values: list[Any]) -> str:
    """A ``matrix:`` block of one axis, ready to paste into the sweep YAML."""
    return f"matrix:\n  {axis}: [{', '.join(_yaml_value(v) for v in values)}]"


def _yaml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(json.dumps(x) for x in value) + "]"
    return str(value)


def _show(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple | dict):
        return json.dumps(value, sort_keys=True)
    return str(value)


def _round(value: float | None, digits: int = 6) -> float | None:
    return None if value is None else float(f"{value:.{digits}g}")


def _clean(values: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in values.items():
        out[k] = _round(v) if isinstance(v, float) else v
    return out
