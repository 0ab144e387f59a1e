"""trtexec JSON exports: ``--exportTimes``, ``--exportProfile`` and ``--exportLayerInfo``.

Every function here is pure except :func:`parse_export`, which reads the file. None raises for bad
content: what cannot be read becomes an ``unrecognized`` record (or a record with what could be read).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from trtsweep.records import RunRecord, unrecognized

from . import timing_stats as ts
from .layers import clean_layer_name, fused_from, io_tensors, layer_from_info, make_layer, profile_index
from .sniff import export_kind

# Columns of the sample array every exportTimes era is normalised to (NaN where an era lacks one).
COLUMNS = ("enq_start", "enq_end", "h2d_start", "h2d_end", "compute_start", "compute_end",
           "d2h_start", "d2h_end", "h2d", "compute", "d2h", "e2e")
_COMMON = {"compute_start": "startComputeMs", "compute_end": "endComputeMs", "compute": "computeMs"}
_ERA_KEYS: dict[str, dict[str, str]] = {
    "7.0": {**_COMMON, "h2d_start": "startInMs", "h2d_end": "endInMs", "d2h_start": "startOutMs",
            "d2h_end": "endOutMs", "h2d": "inMs", "d2h": "outMs", "e2e": "endToEndMs"},
    # 7.1-7.2 label bug: "startEnqMs"/"endEnqMs" hold the input copy, "startInMs"/"endInMs" the enqueue.
    "7.1-7.2": {**_COMMON, "enq_start": "startInMs", "enq_end": "endInMs", "h2d_start": "startEnqMs",
                "h2d_end": "endEnqMs", "d2h_start": "startOutMs", "d2h_end": "endOutMs", "h2d": "inMs",
                "d2h": "outMs", "e2e": "endToEndMs"},
    "8.0-8.2": {**_COMMON, "enq_start": "startEnqMs", "enq_end": "endEnqMs", "h2d_start": "startH2dMs",
                "h2d_end": "endH2dMs", "d2h_start": "startD2hMs", "d2h_end": "endD2hMs", "h2d": "h2dMs",
                "d2h": "d2hMs", "e2e": "endToEndMs"},
}
_ERA_KEYS["8.4+"] = {k: v for k, v in _ERA_KEYS["8.0-8.2"].items() if k != "e2e"}
_COL = {name: i for i, name in enumerate(COLUMNS)}
_TIMES_KEYS = ("computeMs", "latencyMs", "startComputeMs", "endComputeMs")
_KEY = re.compile(r'"([^"\\]{1,64})"\s*:')
_NUM = r"[-+]?(?:inf(?:inity)?|nan|\d+\.?\d*(?:[eE][-+]?\d+)?|\.\d+(?:[eE][-+]?\d+)?)"
_FIELD = re.compile(r'"(\w+)"\s*:\s*(' + _NUM + r")", re.IGNORECASE)
_COUNT_ROW = re.compile(r"^\{\s*\"count\"\s*:\s*(\d+)\s*\}$")
# trtexec writes layer names unescaped: take everything up to the last '", "timeMs"' as the name.
_NAME_ROW = re.compile(r'^\{\s*"name"\s*:\s*"(?P<name>.*)"\s*,\s*(?P<rest>"timeMs"\s*:.*)\}$', re.DOTALL)


@dataclass
class TimesRecord(RunRecord):
    """An ``export_times`` record that also keeps its samples (sorted, warm-up not cut), so that
    :func:`~trtsweep.parsers.combine.combine` can recompute with the log's warm-up and percentiles.
    The samples are not part of the record contract and never serialised."""

    samples: np.ndarray | None = field(default=None, repr=False, compare=False)


def sniff(text: str) -> str | None:
    """The export kind of a file head, or None (see :func:`trtsweep.parsers.sniff.export_kind`)."""
    return export_kind(text)


# ----------------------------------------------------------------------------------------- times


def times_era(sample: Mapping[str, Any]) -> str | None:
    """The exportTimes key layout of one sample: ``7.0``, ``7.1-7.2``, ``8.0-8.2``, ``8.4+`` or None."""
    if "startH2dMs" in sample:
        return "8.0-8.2" if "endToEndMs" in sample else "8.4+"
    if "startInMs" in sample:
        return "7.1-7.2" if "startEnqMs" in sample else "7.0"
    return None


# trtexec stores every time as a C float: a larger value is corruption, and would overflow to inf in the
# float32 arithmetic of the statistics.
_F32_MAX = float(np.finfo(np.float32).max)


MAX_SAMPLE_MS = 86_400_000.0  # one day


def _number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return math.nan
    number = float(value)
    return number if abs(number) <= _F32_MAX else math.nan


def samples_to_array(samples: Sequence[Any], era: str) -> tuple[np.ndarray, int]:
    """Samples as an (N, len(COLUMNS)) float64 array sorted by H2D start, and the number skipped.

    trtexec sorts its trace by H2D start before cutting the warm-up and exporting; sorting again keeps
    the cut right for files merged or re-ordered by other tools. A sample missing any key of its era (a
    corrupted or cut row) is skipped whole: one NaN would poison every statistic of its column.
    """
    keys = _ERA_KEYS[era]
    durations = [c for c in ("h2d", "compute", "d2h") if c in keys]
    rows = []
    for s in samples:
        if not isinstance(s, Mapping):
            continue
        row = [_number(s.get(keys[c])) if c in keys else math.nan for c in COLUMNS]
        # A negative or absurd duration (a day per inference) is corruption, not a measurement.
        if all(math.isfinite(row[_COL[c]]) for c in keys) and all(
                0.0 <= row[_COL[c]] <= MAX_SAMPLE_MS for c in durations):
            rows.append(row)
    arr = np.asarray(rows, dtype=np.float64).reshape(-1, len(COLUMNS))
    arr = arr[np.argsort(arr[:, _COL["h2d_start"]], kind="stable")]
    return arr, len(samples) - len(rows)


def times_from_array(arr: np.ndarray, era: str, source: str, warmup_ms: float | None = None,
                     percentiles: Sequence[float] = (90, 95, 99), skipped: int = 0) -> TimesRecord:
    """The export_times record of a sorted sample array (see :func:`samples_to_array`)."""
    opts: dict[str, Any] = {"era": era, "total_samples": int(len(arr)), "percentiles": list(percentiles),
                            "throughput_basis": "per_enqueue", "enqueue_approximate": True}
    if skipped:
        opts["skipped_samples"] = skipped
    with np.errstate(all="ignore"):  # float32 overflow on absurd values is handled, not printed
        rec = _times_stats(arr, era, source, warmup_ms, percentiles, opts)
    if skipped and rec.status == "passed":
        # Left-out rows (cut off, missing keys, negative or absurd times): the statistics cover the rest,
        # and the record says so instead of passing silently.
        rec.status = "incomplete"
        rec.failure_text = (f"{skipped} of {skipped + int(len(arr))} samples were left out: cut off, missing "
                            "keys, or impossible times (negative, overflowing)")
    return rec


def _times_stats(arr: np.ndarray, era: str, source: str, warmup_ms: float | None,
                 percentiles: Sequence[float], opts: dict[str, Any]) -> TimesRecord:
    start = 0
    if warmup_ms is not None:
        # trtexec's cut: the first sample whose compute starts at or after the warm-up, and all after it.
        # On files that already exclude the warm-up (8.5+) this drops nothing.
        later = np.nonzero(arr[:, _COL["compute_start"]] >= float(warmup_ms))[0]
        start = int(later[0]) if len(later) else len(arr)
        opts.update(warmup_ms=float(warmup_ms), warmup_dropped=start, warmup_included=False)
    else:
        opts["warmup_included"] = True if era in ("7.0", "7.1-7.2", "8.0-8.2") else None
    timed = arr[start:]
    n = len(timed)
    opts["sample_count"] = n
    rec = TimesRecord(source=source, kind="export_times", status="passed", options=opts, samples=arr)
    if n == 0:
        rec.status, rec.failure_text = "incomplete", "no timed samples in the exportTimes file"
        return rec
    col = {c: timed[:, i] for c, i in _COL.items()}
    h2d = ts.snap_durations(col["h2d"], col["h2d_start"])
    compute = ts.snap_durations(col["compute"], col["compute_start"])
    d2h = ts.snap_durations(col["d2h"], col["d2h_start"])
    f32 = np.float32
    latency = h2d.astype(f32) + compute.astype(f32) + d2h.astype(f32)
    # 7.x sums its totals in trace order before sorting; 8.0+ sums the ascending values.
    seven = era in ("7.0", "7.1-7.2")
    rec.gpu_compute_ms = ts.compute_stats(compute, percentiles, seven)
    rec.h2d_ms = ts.compute_stats(h2d, percentiles, seven)
    rec.d2h_ms = ts.compute_stats(d2h, percentiles, seven)
    rec.latency_ms = ts.compute_stats(latency, percentiles, seven)
    if seven and rec.latency_ms is not None:
        # 7.x: mean host latency = (sum in + sum compute + sum out) / N over its InferenceTime total.
        sums = f32(ts.f32_sum(h2d)) + f32(ts.f32_sum(compute)) + f32(ts.f32_sum(d2h))
        rec.latency_ms.mean = ts.to_float(sums / f32(n))
    if era in ("7.0", "7.1-7.2", "8.0-8.2") and np.isfinite(col["e2e"]).all():
        e2e = ts.snap_durations(col["e2e"], col["h2d_start"])
        rec.end_to_end_ms = ts.compute_stats(e2e, percentiles, seven)
    enq = col["enq_end"] - col["enq_start"]
    if np.isfinite(enq).all():
        # Approximate: there is no enqueue-duration key, only 6-significant-digit timestamps, so the
        # enqueue time is a difference of rounded values and will not match the printed Enqueue Time.
        rec.enqueue_ms = ts.compute_stats(enq, percentiles, seven)
    # Walltime = D2H end of the last sample (in H2D-start order) - H2D start of the first timed one.
    wall_ms = f32(timed[-1, _COL["d2h_end"]]) - f32(timed[0, _COL["h2d_start"]])
    opts["walltime_uncertainty_ms"] = ts.printed_tolerance(float(timed[-1, _COL["d2h_end"]])) + \
        ts.printed_tolerance(float(timed[0, _COL["h2d_start"]]))
    if wall_ms > 0:
        rec.host_walltime_s = ts.to_float(wall_ms / f32(1000))
        rec.throughput_qps = ts.to_float(f32(n) / wall_ms * f32(1000))
    mean = rec.gpu_compute_ms.mean if rec.gpu_compute_ms else None
    if seven:
        rec.total_gpu_compute_s = ts.to_float(f32(ts.f32_sum(compute)) / f32(1000))
    elif mean is not None:
        rec.total_gpu_compute_s = ts.to_float(f32(mean) * f32(n) / f32(1000))
    rec.gpu_compute_cv_pct = ts.coefficient_of_variance(ts.sorted_f32(compute))
    return rec


def parse_times(samples: list[dict], source: str, warmup_ms: float | None = None,
                percentiles: Sequence[float] = (90, 95, 99)) -> RunRecord:
    """An ``export_times`` record from the decoded samples of one ``--exportTimes`` array.

    ``warmup_ms`` (the run's ``--warmUp``) drops the warm-up samples that files up to 8.4 include; without
    it every sample is kept and ``options["warmup_included"]`` says whether they include the warm-up
    (True up to 8.2, None for 8.4+ layouts, which cannot tell 8.4 from 8.5+).
    """
    try:
        if not isinstance(samples, list):
            return unrecognized(source, "exportTimes content is not a JSON array")
        if not samples:
            return RunRecord(source=source, kind="export_times", status="incomplete",
                             failure_text="empty exportTimes array", options={"sample_count": 0})
        first = next((s for s in samples if isinstance(s, Mapping) and times_era(s)), None)
        if first is None:
            return unrecognized(source, "JSON array without exportTimes samples")
        era = times_era(first)
        assert era is not None
        arr, skipped = samples_to_array(samples, era)
        return times_from_array(arr, era, source, warmup_ms, percentiles, skipped)
    except Exception as exc:  # noqa: BLE001 - bad content must give a record, never an exception
        return unrecognized(source, f"could not read exportTimes samples: {type(exc).__name__}: {exc}")


# --------------------------------------------------------------------------------------- profile


def _parse_row(line: str) -> dict[str, Any] | None:
    """One exportProfile/exportTimes row written by trtexec on its own line, tolerant of raw names."""
    text = line.strip().lstrip(",").strip().rstrip(",").strip()
    if not (text.startswith("{") and text.endswith("}")):
        return None
    if "\\" not in text:
        try:
            value = json.loads(text)
            return value if isinstance(value, dict) else None
        except ValueError:
            pass
    m = _NAME_ROW.match(text)
    row: dict[str, Any] = {"name": m.group("name")} if m else {}
    for key, num in _FIELD.findall(m.group("rest") if m else text):
        row[key] = float(num)
    return row or None


def _scan_rows(text: str) -> list[list[dict[str, Any]]]:
    """Rows grouped by array, read line by line: the fallback for invalid or truncated JSON."""
    groups: list[list[dict[str, Any]]] = []
    current: list[dict[str, Any]] | None = None
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("["):
            current = []
            groups.append(current)
            line = line[1:].strip()
        if not line:
            continue
        if line.startswith("]"):
            current = None
            continue
        row = _parse_row(line)
        if row is None:
            continue
        # A count row always opens a profile, even where a "[" line was lost.
        if current is None or ("count" in row and len(row) == 1 and current):
            current = []
            groups.append(current)
        current.append(row)
    return [g for g in groups if g]


def _json_arrays(text: str) -> list[Any]:
    """Every top-level JSON value of a text (several concatenated arrays in some files)."""
    decoder = json.JSONDecoder()
    values: list[Any] = []
    pos = 0
    while True:
        while pos < len(text) and text[pos] in " \t\r\n\ufeff":
            pos += 1
        if pos >= len(text):
            return values
        value, pos = decoder.raw_decode(text, pos)
        values.append(value)


def _profile_record(rows: list[Any], source: str, recovered: bool) -> RunRecord:
    count = None
    layers = []
    has_median = False
    for row in rows:
        if not isinstance(row, Mapping):
            continue
        if "count" in row and "name" not in row:
            c = _number(row.get("count"))
            count = int(c) if math.isfinite(c) else None
            continue
        name = row.get("name")
        if not isinstance(name, str):
            continue
        avg, pct, med = (_number(row.get(k)) for k in ("averageMs", "percentage", "medianMs"))
        has_median = has_median or "medianMs" in row
        layers.append(make_layer(
            clean_layer_name(name), fused_from=fused_from(name),
            time_ms=avg if math.isfinite(avg) else None, time_pct=pct if math.isfinite(pct) else None,
            median_ms=med if math.isfinite(med) else None,  # medianMs exists from 8.4 only
        ))
    if count is None and not layers:
        return unrecognized(source, "exportProfile array without a count or layer rows")
    opts: dict[str, Any] = {"profile_count": count, "layer_count": len(layers), "has_median": has_median}
    if recovered:
        opts["recovered_unescaped_rows"] = True
    return RunRecord(source=source, kind="export_profile", status="passed", options=opts, layers=layers)


def parse_profile_texts(text: str, source: str) -> list[RunRecord]:
    """One ``export_profile`` record per array of an ``--exportProfile`` file's text."""
    try:
        groups: list[Any] = []
        recovered = False
        # A backslash in a raw (unescaped) name would decode to something else: read trtexec's one row
        # per line first, and parse as JSON only a file laid out otherwise (re-indented by a tool).
        if "\\" in text:
            groups, recovered = _scan_rows(text), True
        if not groups:
            try:
                groups, recovered = [v for v in _json_arrays(text) if isinstance(v, list)], False
            except ValueError:
                groups, recovered = _scan_rows(text), True
        records = [_profile_record(g, source, recovered) for g in groups]
        return records or [unrecognized(source, "no exportProfile array found")]
    except Exception as exc:  # noqa: BLE001
        return [unrecognized(source, f"could not read exportProfile: {type(exc).__name__}: {exc}")]


def parse_profile_text(text: str, source: str) -> RunRecord:
    """The ``export_profile`` record of an ``--exportProfile`` text (its first array if it has several).

    Rows whose names make the JSON invalid (trtexec does not escape ``"`` or ``\\``) are recovered.
    """
    return parse_profile_texts(text, source)[0]


# ------------------------------------------------------------------------------------ layer info


def parse_layer_info(data: Any, source: str) -> RunRecord:
    """An ``export_layer_info`` record from a decoded ``--exportLayerInfo`` object (or its text).

    Handles names-only and detailed verbosity, 8.6+ ``\\x1e``/``\\x1f`` separators, ``[profile N]``
    suffixes and the 11.x ``I/O Tensors`` list with split ``Format``/``DataType`` fields.
    """
    try:
        if isinstance(data, str | bytes):
            try:
                data = json.loads(data)
            except ValueError:
                return unrecognized(source, "exportLayerInfo text is not valid JSON")
        if not isinstance(data, Mapping) or not any(k in data for k in ("Layers", "Bindings", "I/O Tensors")):
            return unrecognized(source, "JSON without Layers, Bindings or I/O Tensors")
        raw = data.get("Layers")
        raw_layers: list[Any] = raw if isinstance(raw, list) else []
        layers = [rec for rec in (layer_from_info(x) for x in raw_layers) if rec is not None]
        if any(isinstance(x, Mapping) for x in raw_layers):
            verbosity = "detailed"
        else:
            verbosity = "layer_names_only" if raw_layers else "none"
        names, tensors = io_tensors(data)
        profiles = sorted({profile_index(x.name) or 0 for x in layers})
        opts: dict[str, Any] = {"verbosity": verbosity, "layer_count": len(layers), "bindings": names,
                                "profiles": profiles}
        if tensors is not None:
            opts["io_tensors"] = tensors
        return RunRecord(source=source, kind="export_layer_info", status="passed", options=opts,
                         layers=layers)
    except Exception as exc:  # noqa: BLE001
        return unrecognized(source, f"could not read exportLayerInfo: {type(exc).__name__}: {exc}")


def _salvage_layer_info(text: str) -> dict[str, Any]:
    """The complete ``Layers`` entries of a cut-off layer-info file, decoded one by one."""
    decoder = json.JSONDecoder()
    m = re.search(r'"Layers"\s*:\s*\[', text)
    items: list[Any] = []
    pos = m.end() if m else len(text)
    while pos < len(text):
        while pos < len(text) and text[pos] in " \t\r\n,":
            pos += 1
        if pos >= len(text) or text[pos] == "]":
            break
        try:
            item, pos = decoder.raw_decode(text, pos)
        except ValueError:
            break
        items.append(item)
    return {"Layers": items}


# ------------------------------------------------------------------------------------------ files


def _iter_times(text: str, source: str) -> Iterator[RunRecord]:
    try:
        arrays = [v for v in _json_arrays(text) if isinstance(v, list)]
    except ValueError:
        # Truncated (a run killed mid-write) or holding inf/nan: read the complete rows line by line.
        arrays = _scan_rows(text)
        for rec in (parse_times(a, source) for a in arrays):
            rec.status = "incomplete" if rec.kind == "export_times" else rec.status
            yield rec
        return
    for i, arr in enumerate(arrays):
        rec = parse_times(arr, source)
        if len(arrays) > 1:
            rec.options["array_index"] = i
        yield rec


def parse_export(path: str | Path, kind: str) -> list[RunRecord]:
    """Parse one export file of a known kind (a file of several concatenated arrays gives one record each)."""
    source = str(path)
    text = Path(path).read_text(encoding="utf-8", errors="replace").lstrip("\ufeff")
    try:
        if kind == "export_times":
            records = list(_iter_times(text, source))
        elif kind == "export_profile":
            records = parse_profile_texts(text, source)
        elif kind == "export_layer_info":
            try:
                records = [parse_layer_info(json.loads(text), source)]
            except ValueError:
                rec = parse_layer_info(_salvage_layer_info(text), source)
                if rec.kind == "export_layer_info":
                    rec.status, rec.failure_text = "incomplete", "layer info JSON is cut off or invalid"
                records = [rec]
        else:
            records = [unrecognized(source, f"not an export kind: {kind}")]
    except Exception as exc:  # noqa: BLE001
        records = [unrecognized(source, f"could not parse {kind}: {type(exc).__name__}: {exc}")]
    return records or [unrecognized(source, f"recognised as {kind} but holds no run")]
