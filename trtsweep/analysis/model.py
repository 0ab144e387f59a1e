"""The checked view of a result set, built once: what every output shows and every rule reads.

:func:`build_model` decides what is usable. A variant without a passed record, or without a time per
batch, is listed in ``excluded`` with the reason; a variant whose layer times do not add up to its profile
keeps its timings but loses its layers (``layers_dropped``); failed builds and runs go to ``failed``.
Each measured variant becomes a :class:`VariantView` with its typed axes (``analysis.axes``), its figures
over repeats (``analysis.metrics``), its speedup against the baseline (``analysis.baseline``), and the
model names the best variant per (model, batch) and overall by samples/s.

The run summary, ``summary.md``, the HTML report and ``diagnose`` all read this, so they cannot disagree.
Pure apart from what :class:`~trtsweep.store.ResultSet` already loaded.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from trtsweep.analysis import axes as ax
from trtsweep.analysis import metrics as mx
from trtsweep.analysis.baseline import (
    Baseline,
    baseline_for,
    measured_figures,
    speedup_label,
    trt_side,
    with_figures,
)
from trtsweep.analysis.baseline import from_dict as baseline_from_dict
from trtsweep.analysis.layers import variant_layers
from trtsweep.records import FAILURE_CLASSES, LayerRecord, RunRecord
from trtsweep.store import ResultSet, VariantResult

# A per-layer profile adds a synchronisation per layer, so its sum exceeds the GPU compute time of a
# normal run (1.6x for the corpus ResNet-50 INT8 run); beyond these bounds it is not the same engine/shape.
LAYER_SUM_RATIO_BOUNDS = (0.5, 4.0)
LAYER_PCT_TOLERANCE = 5.0


@dataclass(frozen=True)
class Speedup:
    """Baseline time per batch over this variant's, on the basis of this variant's time."""

    variant_id: str
    batch: int | None
    trt_ms: float
    baseline_ms: float
    baseline_label: str
    baseline_variant: str | None  # the variant used as baseline, None for external figures
    basis: str  # metrics.LATENCY or metrics.THROUGHPUT: how trt_ms was measured

    @property
    def ratio(self) -> float:
        return self.baseline_ms / self.trt_ms


@dataclass
class VariantView:
    """One measured variant: typed axes and its figures (medians over its passed repeats)."""

    variant_id: str
    axes: dict[str, Any]
    derived: tuple[str, ...]  # axis names read from the record's options (imported runs)
    record: RunRecord
    repeats: list[RunRecord]
    model: str | None = None
    build_id: str | None = None
    build: RunRecord | None = None
    layers: list[LayerRecord] | None = None
    time_per_batch_ms: float | None = None
    time_basis: str | None = None
    repeat_ms: list[float] = field(default_factory=list)
    samples_per_s: float | None = None
    batches_per_s: float | None = None
    qps: float | None = None
    latency: float | None = None
    latency_p99: float | None = None
    gpu: float | None = None
    enqueue: float | None = None
    h2d: float | None = None
    d2h: float | None = None
    cv_pct: float | None = None
    warnings: frozenset[str] = frozenset()
    speedup: Speedup | None = None

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
        if self.time_per_batch_ms is None or not self.batch:
            return None
        return self.time_per_batch_ms / self.batch

    def label(self, *names: str) -> str:
        """``fp16-b8 (precision=fp16, batch=8)`` with the named axes, for evidence text."""
        shown = [f"{n}={ax.show(self.axes.get(n))}" for n in names if self.axes.get(n) is not None]
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
class ResultModel:
    """A result set checked once: measured views, what was left out and why, failures, baseline, best."""

    result_set: ResultSet
    views: list[VariantView]
    all_axes: dict[str, ax.Axes]  # every variant's axes, measured or not, by variant id
    excluded: list[tuple[str, str]]  # (variant_id, why it was left out)
    layers_dropped: list[tuple[str, str]]  # (variant_id, why its layers were left out)
    failed: list[FailedVariant]
    baseline: Baseline | None = None
    expect_speedup: float | None = None
    best_by_batch: dict[tuple[str | None, int | None], VariantView] = field(default_factory=dict)
    best: VariantView | None = None
    notes: list[str] = field(default_factory=list)  # what the model could not do, in words

    @property
    def root(self) -> Path:
        return self.result_set.root

    def view(self, variant_id: str) -> VariantView | None:
        return next((v for v in self.views if v.variant_id == variant_id), None)

    def baseline_ms(self, view: VariantView) -> tuple[float, str | None] | None:
        """(baseline ms per batch, baseline variant id or None) for a view, when the baseline covers it."""
        return baseline_for(self.baseline, view, self.views)

    def speedups(self) -> list[Speedup]:
        return [v.speedup for v in self.views if v.speedup is not None]

    def batches(self) -> list[int]:
        return sorted({v.batch for v in self.views if v.batch is not None})


# ---------------------------------------------------------------- building it

def build_model(rs: ResultSet, baseline: Baseline | dict[str, Any] | None = None,
                expect_speedup: float | None = None) -> ResultModel:
    """Check a result set and derive every figure (``baseline``/``expect_speedup`` override the sweep's)."""
    views: list[VariantView] = []
    all_axes: dict[str, ax.Axes] = {}
    excluded: list[tuple[str, str]] = []
    dropped: list[tuple[str, str]] = []
    failed: list[FailedVariant] = []
    for v in rs.variants:
        usable = [r for r in v.records if r.status == "passed"]
        axes = ax.variant_axes(v.axes, usable[0] if usable else v.record, v.build, v.derived_axes)
        all_axes[v.variant_id] = axes
        fail = _failure_of(v, axes.values)
        if fail is not None:
            failed.append(fail)
            continue
        if v.status != "passed" or not usable:
            why = v.reason or (f"status {v.status}" if v.status != "passed" else "no passed record")
            excluded.append((v.variant_id, f"not measured ({why})"))
            continue
        view = _make_view(v, usable, axes)
        if view.time_per_batch_ms is None:
            excluded.append((v.variant_id, "record incomplete: no latency median and no throughput"))
            continue
        problem = layer_problem(view.layers, view.gpu)
        if problem is not None:
            dropped.append((v.variant_id, problem))
            view.layers = None
        views.append(view)
    base = _as_baseline(baseline) if baseline is not None else _as_baseline(rs.baseline)
    if base is not None and base.is_measured and not base.figures:
        from trtsweep.baselines.folder import load_measured  # the BASELINE steps' records, as loaded

        base = with_figures(base, measured_figures(load_measured(rs.root, rs.lock)))
    expect = expect_speedup if expect_speedup is not None else rs.expect_speedup
    model = ResultModel(rs, views, all_axes, excluded, dropped, failed, base, expect)
    for view in views:
        ref = model.baseline_ms(view)
        trt_ms, basis = trt_side(base, view)
        if ref is not None and trt_ms and base is not None:
            label = speedup_label(base, ref[1]) if base.is_measured else base.label
            view.speedup = Speedup(view.variant_id, view.batch, trt_ms, ref[0], label, ref[1],
                                   basis or mx.LATENCY)
    if base is not None and views and not model.speedups():
        what = ("no measured batch has a figure" if base.external or base.is_measured
                else "no measured variant matches " + ", ".join(f"{k}={ax.show(v)}"
                                                                 for k, v in base.selector.items()))
        model.notes.append(f"baseline {base.label!r} gives no speedup: {what}")
    _pick_best(model)
    return model


def _as_baseline(value: Baseline | dict[str, Any] | None) -> Baseline | None:
    if value is None or isinstance(value, Baseline):
        return value
    return baseline_from_dict(value)


def _pick_best(model: ResultModel) -> None:
    """Best by samples/s per (model, batch) and overall; ties keep the first variant of the lock.

    With sweep ``targets`` the best is per target too (the key's first part reads ``model on target``):
    the fastest variant of an H100 is no answer for an L4."""
    scored = [v for v in model.views if v.samples_per_s is not None]
    for v in scored:
        target = v.axes.get("target")
        key = (v.model if target is None else f"{v.model} on {target}", v.batch)
        current = model.best_by_batch.get(key)
        if current is None or (v.samples_per_s or 0) > (current.samples_per_s or 0):
            model.best_by_batch[key] = v
    model.best = max(scored, key=lambda v: v.samples_per_s or 0) if scored else None


def _make_view(v: VariantResult, records: list[RunRecord], axes: ax.Axes) -> VariantView:
    rec = records[0]
    view = VariantView(variant_id=v.variant_id, axes=axes.values, derived=axes.derived, record=rec,
                       repeats=records, model=v.model, build_id=v.build_id, build=v.build)
    implicit = ax.implicit_batch(rec)
    figures = [mx.repeat_figures(r, view.batch, view.streams, implicit) for r in records]
    view.repeat_ms = [f.time_per_batch_ms for f in figures if f.time_per_batch_ms is not None]
    view.time_per_batch_ms = mx.median(view.repeat_ms)
    view.time_basis = mx.combine_basis([f.basis for f in figures])
    view.samples_per_s = mx.median(f.samples_per_s for f in figures)
    view.batches_per_s = mx.median(f.batches_per_s for f in figures)
    view.qps = mx.median(r.throughput_qps for r in records if r.throughput_qps)
    view.latency = mx.median(mx.stat(r.latency_ms) for r in records)
    view.latency_p99 = mx.median(mx.stat(r.latency_ms, "p99") for r in records)
    view.gpu = mx.median(mx.stat(r.gpu_compute_ms) for r in records)
    view.enqueue = mx.median(mx.stat(r.enqueue_ms) for r in records)
    view.h2d = mx.median(mx.stat(r.h2d_ms) for r in records)
    view.d2h = mx.median(mx.stat(r.d2h_ms) for r in records)
    cvs = [r.gpu_compute_cv_pct for r in records if r.gpu_compute_cv_pct is not None]
    view.cv_pct = max(cvs) if cvs else None
    view.warnings = frozenset(w.code for r in records for w in r.warnings)
    # Times from the run's profile, types and precisions from the engine's layer info (build step).
    view.layers = variant_layers(next((r.layers for r in records if r.layers), None),
                                 v.build.layers if v.build is not None else None)
    return view


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


def _failure_of(v: VariantResult, axes: dict[str, Any]) -> FailedVariant | None:
    if v.build is not None and v.build.status == "failed":
        return FailedVariant(v.variant_id, v.build.failure or "other", v.build.failure_text, "build", axes)
    rec = v.record
    if rec is not None and rec.status == "failed":
        return FailedVariant(v.variant_id, rec.failure or "other", rec.failure_text, "run", axes)
    if v.status in ("failed", "timeout", "crash"):
        cause = {"timeout": "timeout", "crash": "crash"}.get(v.status) or cause_in(v.reason) or "other"
        stage = "build" if v.reason and v.reason.lower().startswith("engine") else "run"
        return FailedVariant(v.variant_id, cause, v.reason, stage, axes)
    return None


def cause_in(reason: str | None) -> str | None:
    """The failure class a reason names ("engine e2 failed: oom" -> "oom"), if it names one."""
    import re

    words = set(re.findall(r"[a-z_]+", (reason or "").lower()))
    return next((c for c in FAILURE_CLASSES if c in words), None)


def build_models(runs: Sequence[ResultSet], baseline: Baseline | dict[str, Any] | None = None,
                 expect_speedup: float | None = None) -> list[ResultModel]:
    """One model per result set, with the same baseline override."""
    return [build_model(rs, baseline, expect_speedup) for rs in runs]
