"""What ``history add`` stores of a run folder: its identity, its target, and each repeat's figures.

A variant is identified across nights by its typed axis values (``analysis.axes``) and the sha256 of the
model it ran (``spec.lock.json``'s build, else ``env.json``), not by its folder id. Figures per repeat are
the ones every other output uses (``analysis.metrics``): time per batch, samples/s, and trtexec's medians
and percentiles. A run folder written before ``meta.json`` existed gets what can be derived (night and
host from ``env.json``, a run id from its content) and says what is missing.

Pure: a loaded :class:`~trtsweep.store.ResultSet` in, a :class:`~trtsweep.store.history.RunEntry` out.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from trtsweep.analysis import axes as ax
from trtsweep.analysis import metrics as mx
from trtsweep.analysis import telemetry as tel
from trtsweep.analysis.model import build_model
from trtsweep.records import METRICS, RunRecord
from trtsweep.store import ResultSet
from trtsweep.store.history import LayerEntry, RepeatEntry, RunEntry, TargetFacts, VariantEntry

# The metric the nightly check reads unless told otherwise: what one batch costs (docs/metrics.md).
DEFAULT_METRIC = "time_per_batch_ms"
# Metrics where more is better; every other stored metric is a time (less is better).
HIGHER_IS_BETTER = frozenset({"samples_per_s", "batches_per_s", "qps"})
# Axes whose value names the experiment only by the model file's content (sha256) when that is known.
_NAME_AXES = ("model",)


class ExtractError(ValueError):
    """A run folder that cannot be added: one line naming what is missing and how to supply it."""


def is_higher_better(metric: str) -> bool:
    return metric in HIGHER_IS_BETTER


def repeat_metrics(rec: RunRecord, batch: int | None, streams: int | None,
                   implicit: bool) -> dict[str, float]:
    """The stored figures of one repeat: derived ones and trtexec's statistics (``latency_ms.p99`` ...)."""
    fig = mx.repeat_figures(rec, batch, streams, implicit)
    out: dict[str, float] = {}
    for name, value in (("time_per_batch_ms", fig.time_per_batch_ms), ("samples_per_s", fig.samples_per_s),
                        ("batches_per_s", fig.batches_per_s), ("qps", rec.throughput_qps),
                        ("gpu_compute_cv_pct", rec.gpu_compute_cv_pct)):
        if value is not None and value == value:
            out[name] = float(value)
    for key in METRICS:
        stats = getattr(rec, key)
        if stats is None:
            continue
        for stat in ("median", "mean", "min", "max"):
            value = getattr(stats, stat)
            if value is not None:
                out[f"{key}.{stat}"] = float(value)
        for pkey, value in stats.percentiles.items():
            out[f"{key}.{pkey}"] = float(value)
    out.update(telemetry_metrics(rec.telemetry))
    return out


# The repeat metrics that carry the GPU's clock state, read by the nightly check's clock gate.
SM_CLOCK = "telemetry.sm_clock_mhz"
MAX_SM_CLOCK = "telemetry.max_sm_clock_mhz"
THROTTLED = "telemetry.throttled"


def telemetry_metrics(summary: dict[str, Any] | None) -> dict[str, float]:
    """A repeat's clock figures from its telemetry summary (empty without telemetry): the busy median SM
    clock, the maximum, and 1.0 when it throttled (``analysis.telemetry.throttling``) else 0.0."""
    median = tel.sm_median(summary)
    if median is None:
        return {}
    out = {SM_CLOCK: float(median), THROTTLED: 0.0 if tel.throttling(summary) is None else 1.0}
    top = summary.get("max_sm_clock_mhz") if summary else None
    if isinstance(top, int | float) and top > 0:
        out[MAX_SM_CLOCK] = float(top)
    return out


def variant_label(model: str | None, axes: dict[str, Any]) -> str:
    """``tracker fp16 b8 dynamic s2 cuda_graph`` : the axes a reader scans, defaults left out."""
    parts = [model] if model else []
    for name in ax.axis_order(axes):
        value = axes[name]
        if name in _NAME_AXES or name == "data_transfers" or value in (None, [], "", False):
            continue
        if name == "batch":
            parts.append(f"b{value}")
        elif name == "streams":
            if value != 1:
                parts.append(f"s{value}")
        elif name in ("precision", "shapes"):
            parts.append(str(value))
        elif value is True:
            parts.append(name)
        else:
            parts.append(f"{name}={ax.show(value)}")
    if axes.get("data_transfers") is False:
        parts.append("no_transfers")
    return " ".join(parts) or "variant"


def variant_key(model: str | None, sha256: str | None, axes: dict[str, Any]) -> str:
    """Stable id of a variant: its typed axis values and the model's content (or name, without a hash)."""
    kept = {k: v for k, v in axes.items() if v is not None and not (sha256 and k in _NAME_AXES)}
    ident = {"axes": kept, "model_sha256": sha256, "model": None if sha256 else model}
    return hashlib.sha256(json.dumps(ident, sort_keys=True, default=str).encode()).hexdigest()[:16]


def _model_sha(rs: ResultSet, variant_id: str, model: str | None) -> str | None:
    entry: dict[str, Any] = next((e for e in rs.lock.get("variants", []) if e.get("id") == variant_id), {})
    build_entry = entry.get("build")
    build: dict[str, Any] = build_entry if isinstance(build_entry, dict) else {}
    sha = build.get("typed_onnx_sha256") or build.get("onnx_sha256")
    if not sha and model:
        info = (rs.env.get("models") or {}).get(model) or {}
        sha = info.get("sha256") if isinstance(info, dict) else None
    return str(sha) if sha else None


def _first_gpu(rs: ResultSet) -> dict[str, Any]:
    env_gpus = [g for g in rs.env.get("gpus") or [] if isinstance(g, dict)]
    meta_gpus = [g for g in (rs.meta.gpus if rs.meta else []) if isinstance(g, dict)]
    gpu = dict(env_gpus[0]) if env_gpus else {}
    if meta_gpus:
        gpu = {**gpu, **{k: v for k, v in meta_gpus[0].items() if v is not None}}
    return gpu


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def run_entry(rs: ResultSet, labels: dict[str, str] | None = None, night: str | None = None) -> RunEntry:
    """The history entry of a loaded run folder. ``night`` (YYYY-MM-DD) overrides the derived date.

    Raises :class:`ExtractError` when no night can be derived or no variant was measured."""
    model = build_model(rs)
    missing: list[str] = []
    meta = rs.meta
    gpu = _first_gpu(rs)
    records = [v.record for v in model.views]
    device = next((r.device.name for r in records if r.device.name), None)
    host = (meta.host if meta else None) or rs.env.get("host")
    target = TargetFacts(host=host, gpu_name=gpu.get("name") or device, gpu_uuid=gpu.get("uuid"))
    if not host:
        missing.append("host")
    if not target.gpu_uuid:
        missing.append("GPU UUID (target identified by host and GPU model)")
    created = (meta.created if meta else None) or rs.env.get("created")
    if night is None:
        if meta is not None and meta.date:
            night = meta.date
        elif meta is not None and meta.origin == "import":
            raise ExtractError(f"{rs.root}: an imported run folder: its date is the import's, not the "
                               "measurement's; give the night with --night YYYY-MM-DD")
        elif meta is None and isinstance(created, str) and len(created) >= 10:
            night = created[:10]
            missing.append("meta.json (night and host from env.json)")
        else:
            raise ExtractError(f"{rs.root}: no meta.json and no date in env.json: cannot tell which night "
                               "it measured; give it with --night YYYY-MM-DD")
    if meta is None and "meta.json (night and host from env.json)" not in missing:
        missing.append("meta.json")
    if not model.views:
        raise ExtractError(f"{rs.root}: no measured variant (nothing passed) to add to the history")
    variants: dict[str, VariantEntry] = {}
    repeats: list[RepeatEntry] = []
    no_sha = 0
    # (name, model sha256, axes, key) of each view, read once.
    idents = []
    for view in model.views:
        name = view.model or view.axes.get("model")
        sha = _model_sha(rs, view.variant_id, name)
        axes = {k: v for k, v in view.axes.items() if v is not None}
        idents.append((name, sha, axes, variant_key(name, sha, axes)))
    keys = [ident[3] for ident in idents]
    shared = {k for k in keys if keys.count(k) > 1}
    if shared:
        # Imported logs whose axes (all a log tells) coincide: told apart by their folder id, the log's
        # file stem, as compare does; the same stems on the next night give the same keys.
        missing.append(f"{sum(k in shared for k in keys)} variant(s) with the same axes, told apart by "
                       "their log file names")
    for view, (name, sha, axes, key) in zip(model.views, idents, strict=True):
        no_sha += sha is None
        label = variant_label(name, axes)
        if key in shared:
            key = variant_key(name, sha, {**axes, "folder": view.variant_id})
            label = f"{label} [{view.variant_id}]"
        variants.setdefault(key, VariantEntry(key, label, axes, name, sha))
        result = next(v for v in rs.variants if v.variant_id == view.variant_id)
        implicit = ax.implicit_batch(view.record)
        ids = result.repeat_ids or list(range(len(result.records)))
        for rec, rep in zip(result.records, ids, strict=False):
            if rec.status != "passed":
                continue
            layers = [LayerEntry(x.name, x.type, x.precision, x.time_ms, x.time_pct) for x in rec.layers or []
                      if x.time_ms is not None]
            repeats.append(RepeatEntry(key, rep, view.variant_id, rec.status,
                                       repeat_metrics(rec, view.batch, view.streams, implicit), layers))
    if no_sha:
        missing.append(f"model sha256 of {no_sha} variant(s) (identified by model name)")
    skipped = len(rs.variants) - len(model.views)
    if skipped:
        missing.append(f"{skipped} variant(s) not measured (not added)")
    trt = (meta.trtexec_version if meta else None) or (rs.env.get("trtexec") or {}).get("version") \
        or next((r.trt_version for r in records if r.trt_version), None)
    run_id = meta.run_id if meta else None
    entry = RunEntry(
        run_id=run_id or "", created=str(created or f"{night}T00:00:00+00:00"), night=night,
        origin=meta.origin if meta else "run", target=target, variants=list(variants.values()),
        repeats=repeats, trt_version=str(trt) if trt else None,
        driver=gpu.get("driver_version") or rs.env.get("driver_version"), cuda=rs.env.get("cuda_version"),
        sm_clock_mhz=_number(gpu.get("sm_clock_mhz")), max_sm_clock_mhz=_number(gpu.get("max_sm_clock_mhz")),
        power_limit_w=_number(gpu.get("power_limit_w")),
        clock_event_reasons=str(gpu["clock_event_reasons"]) if gpu.get("clock_event_reasons") else None,
        spec_sha256=(meta.spec_sha256 if meta else None) or rs.lock.get("spec_sha256"),
        labels=dict(labels or {}), source=str(rs.root.resolve()), missing=missing)
    if not run_id:
        # Content decides the id of a folder without meta.json: the same folder always gets the same one.
        entry.run_id = f"derived-{entry.idempotency_key()[:12]}"
    return entry
