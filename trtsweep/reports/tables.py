"""Report tables: analysis models in, plain rows (dicts) out; every figure is the model's.

Everything here is pure apart from reading the tail of a failed step's log, which callers can replace
(``tail_reader``) so tests and other front ends (Markdown, CSV) share the same rows as the HTML page.
The rows hold raw values; formatting is :func:`fmt`'s job so that sorting in the page stays numeric.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from trtsweep.analysis.axes import axis_order, show
from trtsweep.analysis.model import ResultModel, VariantView, cause_in
from trtsweep.store import ResultSet, VariantResult
from trtsweep.units import number

TAIL_LINES = 12


@dataclass(frozen=True)
class Column:
    key: str
    title: str
    unit: str = ""


# Measured columns, in reading order: what one batch costs and what it gives first.
METRIC_COLUMNS = (
    Column("time_per_batch_ms", "Time per batch", "ms"),
    Column("samples_per_s", "Samples/s"),
    Column("speedup", "Speedup", "×"),
    Column("latency_p99", "Latency p99", "ms"),
    Column("gpu_compute_median", "GPU compute", "ms"),
    Column("h2d_median", "H2D", "ms"),
    Column("d2h_median", "D2H", "ms"),
    Column("enqueue_median", "Enqueue", "ms"),
    Column("throughput_qps", "trtexec qps"),
    Column("cv_pct", "CV", "%"),
)


def run_labels(runs: Sequence[ResultSet | ResultModel]) -> list[str]:
    """One distinct label per run: GPU / host / date (from meta.json), with the folder name added when
    they collide."""
    sets = [r.result_set if isinstance(r, ResultModel) else r for r in runs]
    labels = []
    for rs in sets:
        date = rs.meta.date if rs.meta else None
        labels.append(" / ".join(p for p in (rs.label, date) if p))
    if len(set(labels)) < len(labels):
        labels = [f"{lab} ({rs.root.name})" for lab, rs in zip(labels, sets, strict=True)]
    return labels


def _metrics(view: VariantView | None) -> dict[str, float | None]:
    if view is None:
        return {c.key: None for c in METRIC_COLUMNS}
    return {
        "time_per_batch_ms": view.time_per_batch_ms,
        "samples_per_s": view.samples_per_s,
        "speedup": view.speedup.ratio if view.speedup else None,
        "latency_median": view.latency,
        "latency_p99": view.latency_p99,
        "gpu_compute_median": view.gpu,
        "h2d_median": view.h2d,
        "d2h_median": view.d2h,
        "enqueue_median": view.enqueue,
        "throughput_qps": view.qps,
        "cv_pct": view.cv_pct,
    }


def variant_rows(models: Sequence[ResultModel], labels: Sequence[str]) -> list[dict[str, Any]]:
    """One row per variant of every run, measured or not: its axes, status and figures, all as the
    analysis model gives them. ``best_in_batch`` marks the variant with the most samples/s among those
    of the same run, model and batch; ``overall_best`` the run's best."""
    rows: list[dict[str, Any]] = []
    for model, label in zip(models, labels, strict=True):
        best_ids = {v.variant_id for v in model.best_by_batch.values()}
        for v in model.result_set.variants:
            view = model.view(v.variant_id)
            axes = model.all_axes[v.variant_id]
            rows.append({
                "run": label,
                "variant_id": v.variant_id,
                "model": v.model,
                "status": v.status,
                "measured": view is not None,
                "axes": dict(axes.values),
                "derived_axes": list(axes.derived),
                "batch": axes.get("batch"),
                "precision": axes.get("precision") or "unknown",
                "metrics": _metrics(view),
                "basis": view.time_basis if view else None,
                "speedup_basis": view.speedup.basis if view and view.speedup else None,
                "best_in_batch": v.variant_id in best_ids and len(_same_batch(model, view)) > 1,
                "overall_best": model.best is not None and model.best.variant_id == v.variant_id,
            })
    return rows


def _same_batch(model: ResultModel, view: VariantView | None) -> list[VariantView]:
    if view is None:
        return []
    return [w for w in model.views if w.model == view.model and w.batch == view.batch]


def best_rows(rows: Sequence[dict[str, Any]], model: ResultModel, label: str) -> list[dict[str, Any]]:
    """The best variant of each (model, batch) of one run, by batch: the report's first screen."""
    by_id = {r["variant_id"]: r for r in rows if r["run"] == label}
    picked = [by_id[v.variant_id] for v in model.best_by_batch.values() if v.variant_id in by_id]
    return sorted(picked, key=lambda r: (str(r["model"]), r["batch"] if r["batch"] is not None else -1))


def split_axes(rows: Sequence[dict[str, Any]], names: Sequence[str]) -> tuple[dict[str, Any], list[str]]:
    """(axes with one value in every row, shown once above the table; axes that vary, shown as columns)."""
    constant: dict[str, Any] = {}
    varying: list[str] = []
    for name in names:
        values = {show(r["axes"].get(name)) for r in rows}
        if len(values) == 1 and rows:
            constant[name] = rows[0]["axes"].get(name)
        else:
            varying.append(name)
    return constant, varying


def axis_names(models: Sequence[ResultModel]) -> list[str]:
    """Every axis any variant of ``models`` has, known ones first in reading order."""
    return axis_order({n for m in models for a in m.all_axes.values() for n in a.values})


def read_tail(path: Path | None, lines: int = TAIL_LINES) -> list[str]:
    """The last ``lines`` lines of a log file ([] when there is none or it cannot be read)."""
    if path is None:
        return []
    try:
        with open(path, "rb") as fh:
            fh.seek(0, 2)
            size = fh.tell()
            fh.seek(max(0, size - 64 * 1024))  # a tail never needs the whole (possibly huge) verbose log
            text = fh.read().decode("utf-8", "replace")
    except OSError:
        return []
    return text.splitlines()[-lines:]


def failure_rows(
    runs: Sequence[ResultSet],
    labels: Sequence[str],
    tail_reader: Callable[[Path | None], list[str]] = read_tail,
) -> list[dict[str, Any]]:
    """One row per variant that did not pass: its cause class, the reason and the log's last lines."""
    rows = []
    for rs, label in zip(runs, labels, strict=True):
        for v in rs.variants:
            if v.status == "passed":
                continue
            rec = v.record
            build = v.build if v.build is not None and v.build.status == "failed" else None
            if rec is not None and rec.failure:
                cause: str | None = rec.failure
            elif build is not None and build.failure:
                cause = build.failure
            else:
                cause = "timeout" if v.status == "timeout" else cause_in(v.reason)
            tail = tail_reader(v.log_path)
            if not tail and rec is not None and rec.failure_text:
                tail = rec.failure_text.splitlines()[-TAIL_LINES:]
            if not tail and build is not None and build.failure_text:
                tail = build.failure_text.splitlines()[-TAIL_LINES:]
            rows.append(
                {
                    "run": label,
                    "variant_id": v.variant_id,
                    "status": v.status,
                    "cause": cause or "unknown",
                    "reason": v.reason or (rec.failure_text if rec else None),
                    "axes": dict(v.axes),
                    "tail": tail,
                    "log": str(v.log_path) if v.log_path else None,
                }
            )
    return rows


def _get(data: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


def environment_rows(runs: Sequence[ResultSet], labels: Sequence[str]) -> list[dict[str, Any]]:
    """One row per run: GPU, driver, CUDA, TensorRT, host and date, from env.json or the records.

    env.json's exact shape varies between ``run`` (nvidia-smi capture) and ``import`` (what the logs
    say), so each field is looked up under the names either writes; absent values stay None.
    """
    rows = []
    for rs, label in zip(runs, labels, strict=True):
        env = rs.env
        gpus = env.get("gpus") or []
        gpu0 = gpus[0] if gpus and isinstance(gpus[0], dict) else {}
        recs = [r for v in rs.variants for r in v.records]
        gpu_names = sorted({str(g.get("name")) for g in gpus if isinstance(g, dict) and g.get("name")})
        if not gpu_names:
            gpu_names = sorted({r.device.name for r in recs if r.device.name})
        trt = (
            _get(env, "trtexec", "version")
            or env.get("tensorrt")
            or env.get("trt_version")
            or next((r.trt_version for r in recs if r.trt_version), None)
        )
        host = env.get("host")
        if isinstance(host, dict):
            host = host.get("hostname") or host.get("name")
        rows.append(
            {
                "run": label,
                "folder": str(rs.root),
                "gpu": ", ".join(gpu_names) or None,
                "gpu_count": len(gpus) or None,
                "driver": env.get("driver") or env.get("driver_version") or gpu0.get("driver_version"),
                "cuda": env.get("cuda") or env.get("cuda_version") or gpu0.get("cuda_version"),
                "tensorrt": trt,
                "host": host,
                "os": env.get("os") or _get(env, "host_info", "os"),
                "cpu": env.get("cpu") or _get(env, "host_info", "cpu"),
                "trtexec": _get(env, "trtexec", "path"),
                "date": rs.meta.date if rs.meta else None,
            }
        )
    return rows


def command_of(v: VariantResult) -> str | None:
    """The exact trtexec command of a variant, shell-quoted so it can be pasted into a terminal."""
    if v.argv:
        return shlex.join(str(a) for a in v.argv)
    rec = v.record
    return rec.command if rec is not None else None


def command_rows(runs: Sequence[ResultSet], labels: Sequence[str]) -> list[dict[str, Any]]:
    """Engine build commands (one per build) and run commands (one per variant)."""
    rows = []
    for rs, label in zip(runs, labels, strict=True):
        seen_builds: set[str] = set()
        for v in rs.variants:
            if v.build_id and v.build_id not in seen_builds and v.build is not None and v.build.command:
                seen_builds.add(v.build_id)
                rows.append({"run": label, "step": f"build {v.build_id}", "command": v.build.command})
            cmd = command_of(v)
            if cmd:
                rows.append({"run": label, "step": v.variant_id, "command": cmd})
    return rows


def fmt(value: Any, digits: int = 3) -> str:
    """Human formatting for table cells: 3 significant digits (``units.number``, never an exponent),
    thousands grouped, '—' for missing."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, float):
        if value == 0:
            return "0"
        if abs(value) >= 1000:
            return f"{value:,.0f}"
        return number(value, digits=digits, missing="—")
    if isinstance(value, int):
        return f"{value:,}" if abs(value) >= 10000 else str(value)
    if isinstance(value, list | tuple):
        return " ".join(str(x) for x in value)
    return str(value)
