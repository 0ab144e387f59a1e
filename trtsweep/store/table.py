"""The results table: one row per variant and repeat, derived from the records (never the source of truth)."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

from trtsweep.records import METRICS, RunRecord
from trtsweep.store.runfolder import ResultSet, atomic_write_bytes, atomic_write_text


def flatten_record(rec: RunRecord, prefix: str = "") -> dict[str, Any]:
    """One flat row of a record's scalar values (statistics as ``gpu_compute_ms.median`` etc.)."""
    row: dict[str, Any] = {
        f"{prefix}status": rec.status,
        f"{prefix}failure": rec.failure,
        f"{prefix}failure_phase": rec.failure_phase,
        f"{prefix}trt_version": rec.trt_version,
        f"{prefix}gpu": rec.device.name,
        f"{prefix}throughput_qps": rec.throughput_qps,
        f"{prefix}host_walltime_s": rec.host_walltime_s,
        f"{prefix}total_gpu_compute_s": rec.total_gpu_compute_s,
        f"{prefix}gpu_compute_cv_pct": rec.gpu_compute_cv_pct,
        f"{prefix}engine_build_s": rec.build.engine_build_s,
        f"{prefix}engine_size_mib": rec.build.engine_size_mib,
        f"{prefix}warnings": ";".join(sorted({w.code for w in rec.warnings})) or None,
        f"{prefix}notes": ";".join(sorted({n.code for n in rec.notes})) or None,
        f"{prefix}layer_count": len(rec.layers) if rec.layers is not None else None,
    }
    row.update(telemetry_columns(rec.telemetry, prefix))
    for key in METRICS:
        stats = getattr(rec, key)
        if stats is None:
            continue
        for stat, value in stats.to_dict().items():
            row[f"{prefix}{key}.{stat}"] = value
    return row


def telemetry_columns(summary: dict[str, Any] | None, prefix: str = "") -> dict[str, Any]:
    """The step's GPU telemetry summary (``analysis.telemetry``) as ``telemetry.*`` columns, copied as is."""
    if not summary:
        return {}
    p = f"{prefix}telemetry."
    if not summary.get("available"):
        return {f"{p}status": summary.get("status"), f"{p}reason": summary.get("reason")}
    row: dict[str, Any] = {f"{p}status": summary.get("status")}
    for key in ("sm_clock_mhz", "power_w", "temperature_c", "mem_clock_mhz"):
        for stat, value in (summary.get(key) or {}).items():
            row[f"{p}{key}.{stat}"] = value
    row[f"{p}max_sm_clock_mhz"] = summary.get("max_sm_clock_mhz")
    row[f"{p}power_limit_w"] = summary.get("power_limit_w")
    row[f"{p}throttle"] = ";".join(f"{k}={v:g}" for k, v in (summary.get("throttle") or {}).items()) or None
    pids = [str(x.get("pid")) for x in summary.get("foreign_processes") or []]
    row[f"{p}foreign_pids"] = ";".join(pids) or None
    return row


def results_rows(rs: ResultSet) -> list[dict[str, Any]]:
    """One row per variant and repeat: the variant's axes, then its flattened record."""
    rows = []
    for v in rs.variants:
        pairs: list[tuple[int, RunRecord | None]] = list(zip(v.repeat_ids, v.records, strict=True))
        pairs = pairs or [(0, None)]
        for k, rec in pairs:
            row: dict[str, Any] = {"variant_id": v.variant_id, "model": v.model, "repeat": k}
            row.update({f"axis.{name}": _scalar(value) for name, value in v.axes.items()})
            row["variant_status"] = v.status
            row["build_id"] = v.build_id
            if rec is not None:
                row.update(flatten_record(rec))
            rows.append(row)
    return rows


def write_results(rs: ResultSet) -> tuple[Path, Path]:
    """(Re)write ``results.csv`` and ``results.parquet`` atomically from the records."""
    import pandas as pd  # deferred: pandas costs ~0.5 s to import and most commands never need it

    frame = pd.DataFrame(results_rows(rs))
    csv_path = rs.root / "results.csv"
    pq_path = rs.root / "results.parquet"
    atomic_write_text(csv_path, frame.to_csv(index=False))
    buffer = io.BytesIO()
    # Mixed-type axis columns (e.g. an 'auto' among numbers) would break parquet typing.
    frame.astype({c: "string" for c in frame.columns if frame[c].dtype == object}).to_parquet(
        buffer, index=False)
    atomic_write_bytes(pq_path, buffer.getvalue())
    return csv_path, pq_path


def _scalar(value: Any) -> Any:
    if isinstance(value, list | tuple | dict):
        return json.dumps(value, sort_keys=True)
    return value
