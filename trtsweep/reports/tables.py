"""Report tables: result sets in, plain rows (dicts) out.

Everything here is pure apart from reading the tail of a failed step's log, which callers can replace
(``tail_reader``) so tests and other front ends (Markdown, CSV) share the same rows as the HTML page.
The rows hold raw values; formatting is :func:`fmt`'s job so that sorting in the page stays numeric.
"""

from __future__ import annotations

import datetime as _dt
import re
import shlex
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from trtsweep.analysis.baseline import Speedup, speedups, time_per_batch_ms
from trtsweep.records import FAILURE_CLASSES, RunRecord, Stats
from trtsweep.store import ResultSet, VariantResult

# Axes in the order a reader scans them; unknown axes (imported runs, new flags) follow alphabetically.
AXIS_ORDER = (
    "precision",
    "batch",
    "shapes",
    "streams",
    "cuda_graph",
    "spin_wait",
    "data_transfers",
    "threads",
    "builder_optimization_level",
    "workspace_mib",
    "build_flags",
    "run_flags",
)
TAIL_LINES = 12


@dataclass(frozen=True)
class Column:
    key: str
    title: str
    unit: str = ""
    better: str = ""  # "high" / "low": which way is better, for highlighting the best value


METRIC_COLUMNS = (  # short titles keep the table within a laptop screen; medians unless the title says p99
    Column("throughput_qps", "Throughput", "qps", "high"),
    Column("latency_median", "Latency", "ms", "low"),
    Column("latency_p99", "Latency p99", "ms", "low"),
    Column("gpu_compute_median", "GPU compute", "ms", "low"),
    Column("h2d_median", "H2D", "ms"),
    Column("d2h_median", "D2H", "ms"),
    Column("enqueue_median", "Enqueue", "ms"),
    Column("cv_pct", "CV", "%"),
    Column("speedup", "Speedup", "×", "high"),
)


def axis_value(v: VariantResult, name: str) -> Any:
    """A variant's value for one axis: the sweep's axes first, then what the log's options say.

    Imported runs often lack axes the log itself states (precision, batch), so falling back keeps
    them on the charts instead of in an "unknown" bucket.
    """
    value = v.axes.get(name)
    if value is None and v.record is not None:
        value = v.record.options.get(name)
    return value


def batch_of(v: VariantResult) -> int | None:
    try:
        value = axis_value(v, "batch")
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def precision_of(v: VariantResult) -> str:
    value = axis_value(v, "precision")
    return str(value) if value is not None else "unknown"


def _median(values: Sequence[float | None]) -> float | None:
    present = [float(x) for x in values if x is not None]
    return statistics.median(present) if present else None


def stat(v: VariantResult, metric: str, key: str = "median") -> float | None:
    """One statistic of a metric, the median over the variant's repeats (None when no repeat has it)."""
    values = []
    for rec in v.records:
        stats: Stats | None = getattr(rec, metric)
        if stats is not None:
            values.append(stats.percentiles.get(key) if key.startswith("p") else getattr(stats, key))
    return _median(values)


def passed_records(v: VariantResult) -> list[RunRecord]:
    return [r for r in v.records if r.status == "passed"]


def key_metrics(v: VariantResult) -> dict[str, float | None]:
    """The figures the variants table and the summary show for one variant."""
    ok = v.status == "passed"
    get = (lambda m, k="median": stat(v, m, k)) if ok else (lambda m, k="median": None)
    return {
        "throughput_qps": _median([r.throughput_qps for r in v.records]) if ok else None,
        "latency_median": get("latency_ms"),
        "latency_p99": get("latency_ms", "p99"),
        "gpu_compute_median": get("gpu_compute_ms"),
        "h2d_median": get("h2d_ms"),
        "d2h_median": get("d2h_ms"),
        "enqueue_median": get("enqueue_ms"),
        "cv_pct": _median([r.gpu_compute_cv_pct for r in v.records]) if ok else None,
        "time_per_batch_ms": time_per_batch_ms(v) if ok else None,
    }


def axis_names(runs: Sequence[ResultSet]) -> list[str]:
    """Every axis any variant of ``runs`` has, known ones first in reading order."""
    seen: set[str] = set()
    for rs in runs:
        for v in rs.variants:
            seen.update(v.axes)
    known = [a for a in AXIS_ORDER if a in seen]
    return known + sorted(seen - set(known))


def run_labels(runs: Sequence[ResultSet]) -> list[str]:
    """One distinct label per run: GPU / host / date, with the folder name added when they collide."""
    labels = []
    for rs in runs:
        date = run_date(rs)
        labels.append(" / ".join(p for p in (rs.label, date) if p))
    if len(set(labels)) < len(labels):
        labels = [f"{lab} ({rs.root.name})" for lab, rs in zip(labels, runs, strict=True)]
    return labels


def run_date(rs: ResultSet) -> str | None:
    """The run's date (YYYY-MM-DD) from env.json, else the lock file's modification time."""
    for key in ("date", "started", "started_at", "created", "created_at", "timestamp"):
        value = rs.env.get(key) or rs.lock.get(key)
        if isinstance(value, str) and len(value) >= 10:
            return value[:10]
        if isinstance(value, int | float):
            return _dt.datetime.fromtimestamp(value, _dt.UTC).strftime("%Y-%m-%d")
    if "import" in (rs.env.get("origin"), rs.lock.get("origin")):
        return None  # an imported folder's file times are the import's, not the measurement's
    lock = rs.root / "spec.lock.json"
    if lock.is_file():
        return _dt.datetime.fromtimestamp(lock.stat().st_mtime, _dt.UTC).strftime("%Y-%m-%d")
    return None


def variant_rows(
    runs: Sequence[ResultSet], labels: Sequence[str], baseline: dict[str, Any] | None = None
) -> list[dict[str, Any]]:
    """One row per variant of every run: run label, id, axes, status and key metrics.

    ``best`` lists the metric keys in which the row is best among the rows of the same run, model and
    batch (the comparison a reader makes when choosing a configuration); ``overall_best`` marks the
    run's highest-throughput variant.
    """
    rows: list[dict[str, Any]] = []
    for rs, label in zip(runs, labels, strict=True):
        by_variant: dict[str, Speedup] = {s.variant_id: s for s in speedups(rs, baseline)}
        run_rows = []
        for v in rs.variants:
            metrics = key_metrics(v)
            sp = by_variant.get(v.variant_id)
            metrics["speedup"] = sp.ratio if sp else None
            run_rows.append(
                {
                    "run": label,
                    "variant_id": v.variant_id,
                    "model": v.model,
                    "status": v.status,
                    "axes": dict(v.axes),
                    "batch": batch_of(v),
                    "precision": precision_of(v),
                    "metrics": metrics,
                    "best": set(),
                    "overall_best": False,
                }
            )
        _mark_best(run_rows)
        rows.extend(run_rows)
    return rows


def _mark_best(rows: list[dict[str, Any]]) -> None:
    groups: dict[tuple[Any, Any], list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault((row["model"], row["batch"]), []).append(row)
    for col in METRIC_COLUMNS:
        if not col.better:
            continue
        for group in groups.values():
            scored = [r for r in group if r["metrics"].get(col.key) is not None]
            if len(scored) < 2:  # "best of one" tells the reader nothing
                continue
            pick = max if col.better == "high" else min
            best = pick(scored, key=lambda r, k=col.key: r["metrics"][k])
            best["best"].add(col.key)
    with_qps = [r for r in rows if r["metrics"].get("throughput_qps") is not None]
    if with_qps:
        max(with_qps, key=lambda r: r["metrics"]["throughput_qps"])["overall_best"] = True


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
            failed_build = v.build is not None and v.build.status == "failed"
            cause = (
                rec.failure
                if rec and rec.failure
                else v.build.failure
                if failed_build and v.build.failure
                else "timeout"
                if v.status == "timeout"
                else _cause_in(v.reason)
            )
            tail = tail_reader(v.log_path)
            if not tail and rec is not None and rec.failure_text:
                tail = rec.failure_text.splitlines()[-TAIL_LINES:]
            if not tail and failed_build and v.build.failure_text:
                tail = v.build.failure_text.splitlines()[-TAIL_LINES:]
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


def _cause_in(reason: str | None) -> str | None:
    """The failure class a skip reason names ("engine e2 failed: oom" -> "oom"), if it names one."""
    words = set(re.findall(r"[a-z_]+", (reason or "").lower()))
    return next((c for c in FAILURE_CLASSES if c in words), None)


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
                "date": run_date(rs),
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
    """Human formatting for table cells: 3 significant digits, thousands grouped, '—' for missing."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, float):
        if value == 0:
            return "0"
        if abs(value) >= 1000:
            return f"{value:,.0f}"
        return f"{value:.{digits}g}"
    if isinstance(value, int):
        return f"{value:,}" if abs(value) >= 10000 else str(value)
    if isinstance(value, list | tuple):
        return " ".join(str(x) for x in value)
    return str(value)
