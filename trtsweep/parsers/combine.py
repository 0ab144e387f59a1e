"""One run from its folder's files: the console log plus whatever JSON exports the run wrote.

The log is the source of truth: :func:`combine` only fills what the log lacks, from the exports
(statistics when no summary was printed, the coefficient of variance when no warning printed it,
layers joined from profile and layer info). :func:`compare_with_summary` checks that the exported
samples reproduce the printed summary.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Sequence
from typing import Any

from trtsweep.records import METRICS, RunRecord, Stats, unrecognized

from . import timing_stats as ts
from .exports import TimesRecord, times_from_array
from .layers import join_layers

_STAT_FIELDS = ("min", "max", "mean", "median")


def _version_tuple(version: str | None) -> tuple[int, ...] | None:
    if not version:
        return None
    nums = re.findall(r"\d+", version)
    return tuple(int(x) for x in nums[:3]) if nums else None


def _needs_warmup_cut(era: str | None, trt_version: str | None) -> bool:
    # Files up to 8.4 hold the warm-up samples; 8.5+ files do not. The 8.4+ key layout cannot tell 8.4
    # from 8.5+, so the log's version decides; without one the cut is still safe, because on a file that
    # already starts after the warm-up it drops nothing.
    version = _version_tuple(trt_version)
    if era != "8.4+" or version is None:
        return True
    return version < (8, 5)


def _recompute_times(times: RunRecord, log: RunRecord | None) -> RunRecord:
    """The times record recomputed with the log's warm-up and percentiles, when its samples are at hand."""
    if log is None or not isinstance(times, TimesRecord) or times.samples is None:
        return times
    warmup = log.options.get("warmup_ms")
    percentiles = log.options.get("percentiles") or times.options.get("percentiles") or (90, 95, 99)
    era = times.options.get("era")
    if not isinstance(era, str):
        return times
    known_excluded = not _needs_warmup_cut(era, log.trt_version)  # an 8.5+ file: timed samples only
    if not isinstance(warmup, int | float) or known_excluded:
        warmup = None
    try:
        pct = [float(p) for p in percentiles]
    except (TypeError, ValueError):
        pct = [90.0, 95.0, 99.0]
    skipped = times.options.get("skipped_samples", 0)
    out = times_from_array(times.samples, era, times.source, warmup, pct, skipped)
    if known_excluded:
        out.options["warmup_included"] = False
    return out


def _batch(log: RunRecord | None) -> int | None:
    # Implicit-batch runs (--batch=N) count N queries per enqueue; explicit batch counts one.
    if log is None:
        return None
    batch = log.options.get("batch")
    return batch if isinstance(batch, int) and not isinstance(batch, bool) and batch > 0 else None


def _fill_stats(target: Stats | None, source: Stats | None, key: str, filled: list[str]) -> Stats | None:
    if source is None:
        return target
    if target is None:
        filled.append(key)
        return copy.deepcopy(source)
    for name in _STAT_FIELDS:
        if getattr(target, name) is None and getattr(source, name) is not None:
            setattr(target, name, getattr(source, name))
            filled.append(f"{key}.{name}")
    for pkey, value in source.percentiles.items():
        if pkey not in target.percentiles:
            target.percentiles[pkey] = value
            filled.append(f"{key}.{pkey}")
    return target


def _first(exports: Sequence[RunRecord], kind: str) -> RunRecord | None:
    return next((r for r in exports if isinstance(r, RunRecord) and r.kind == kind), None)


def combine(log_record: RunRecord | None, exports: list[RunRecord]) -> RunRecord:
    """One record of a run: the log's, with what it lacks filled from the run's export records.

    Never overwrites a value the log printed. Statistics recomputed from ``--exportTimes`` use the
    log's ``options["warmup_ms"]`` (to drop the warm-up samples of files up to 8.4) and
    ``options["percentiles"]``. ``options["filled_from_exports"]`` lists every filled key.
    """
    times = _first(exports, "export_times")
    profile = _first(exports, "export_profile")
    info = _first(exports, "export_layer_info")
    if log_record is not None and not exports:
        return log_record  # nothing to fill: the log's record as it is (no copy)
    if log_record is not None:
        out = copy.deepcopy(log_record)
    else:
        base = times or profile or info
        if base is None:
            return unrecognized("", "nothing to combine: no log record and no export record")
        out = copy.deepcopy(base)
        if isinstance(out, TimesRecord):
            out = RunRecord(**{k: v for k, v in vars(out).items() if k != "samples"})
    filled: list[str] = []
    if times is not None:
        times = _recompute_times(times, log_record)
        if times.kind == "export_times" and times.options.get("sample_count"):
            _fill_from_times(out, times, _batch(log_record), filled)
    export_layers = [rec.layers for rec in (profile, info) if rec is not None and rec.layers]
    if export_layers:
        # The log's own layers (dumpProfile table, verbose layer info) go first: never overwritten.
        own = [log_record.layers] if log_record is not None and log_record.layers else []
        out.layers = join_layers(*own, *export_layers)
        filled.append("layers")
    extra = {}
    for rec in (times, profile, info):
        if rec is not None and rec.kind != "unrecognized":
            extra[rec.kind] = {k: v for k, v in rec.options.items() if k != "io_tensors"}
    if extra:
        out.options.setdefault("exports", extra)
    if filled:
        out.options["filled_from_exports"] = filled
    return out


def _fill_from_times(out: RunRecord, times: RunRecord, batch: int | None, filled: list[str]) -> None:
    for key in METRICS:
        setattr(out, key, _fill_stats(getattr(out, key), getattr(times, key), key, filled))
    scalars: dict[str, Any] = {
        "host_walltime_s": times.host_walltime_s,
        "total_gpu_compute_s": times.total_gpu_compute_s,
        "gpu_compute_cv_pct": times.gpu_compute_cv_pct,
    }
    if times.throughput_qps is not None:
        scalars["throughput_qps"] = times.throughput_qps * (batch or 1)
    for key, value in scalars.items():
        if getattr(out, key) is None and value is not None:
            setattr(out, key, value)
            filled.append(key)
            if key == "throughput_qps":
                out.options.setdefault("throughput_basis", "per_query" if batch else "per_enqueue")


def compare_with_summary(log_record: RunRecord, times_record: RunRecord, units: float = 1.0) -> list[str]:
    """Metrics whose printed value and exportTimes recomputation disagree beyond printed rounding.

    Both the summary and every exported sample are rounded to 6 significant digits, so a recomputed
    figure may legitimately differ from the printed one by up to ``units`` (default one) unit in the
    6th digit: half a unit from each rounding. Walltime and throughput also allow for the rounding of
    the two timestamps they come from. Enqueue Time is skipped: it can only be approximated from
    timestamps (see ``exports.times_from_array``). Returns ``"key: printed X, recomputed Y"`` lines.
    """
    out: list[str] = []

    def check(key: str, printed: float | None, computed: float | None, extra: float = 0.0) -> None:
        if printed is None or computed is None:
            return
        tol = 2 * units * ts.printed_tolerance(printed) + extra
        if printed == 0:
            tol = max(tol, 1e-12)
        if abs(printed - computed) > tol:
            out.append(f"{key}: printed {printed:.6g}, recomputed {computed:.6g}")

    for key in METRICS:
        if key == "enqueue_ms":
            continue
        printed, computed = getattr(log_record, key), getattr(times_record, key)
        if printed is None or computed is None:
            continue
        for name in _STAT_FIELDS:
            check(f"{key}.{name}", getattr(printed, name), getattr(computed, name))
        for pkey, value in printed.percentiles.items():
            check(f"{key}.{pkey}", value, computed.percentiles.get(pkey))
    wall_unc_s = float(times_record.options.get("walltime_uncertainty_ms") or 0.0) / 1000.0
    check("host_walltime_s", log_record.host_walltime_s, times_record.host_walltime_s, wall_unc_s)
    check("total_gpu_compute_s", log_record.total_gpu_compute_s, times_record.total_gpu_compute_s)
    check("gpu_compute_cv_pct", log_record.gpu_compute_cv_pct, times_record.gpu_compute_cv_pct)
    if times_record.throughput_qps is not None and times_record.host_walltime_s:
        qps = times_record.throughput_qps * (_batch(log_record) or 1)
        rel = wall_unc_s / times_record.host_walltime_s
        check("throughput_qps", log_record.throughput_qps, qps, qps * rel)
    return out
