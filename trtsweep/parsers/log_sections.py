"""Line-level parsers for trtexec console logs: prefixes, numbers, device block, summaries, warnings.

The option echo and the command line are read by :mod:`log_options`.

Every function here is pure and total: it takes one cleaned line (or a value string) and returns what it
found, or ``None``.  None of them raises on any input; the run state machine in :mod:`trtexec_log` relies
on that.  Formats per TensorRT release are described in ``shared/reference/trtexec.md`` §3.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from trtsweep.parsers.lazy_re import lazy
from trtsweep.records import percentile_key

# Unambiguous (no two ways to split a digit run), so long digit runs cannot make a pattern backtrack.
NUM = r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?"

# ---------------------------------------------------------------------------------------------- prefixes
# trtexec: "[MM/DD/YYYY-HH:MM:SS] [I] [TRT] text". Some captures repeat the timestamp (a TRT 7 Jetson log
# prints "[06/11/2020-10:40:02] [06/11/2020-10:40:02] [I] [TRT] "), CI systems prepend ISO stamps, and
# Polygraphy-style loggers put "[TRT]" before the severity; strip all of those in any order.
_TS = lazy(
    r"^\s*(?:\[\d{1,2}/\d{1,2}/\d{2,4}-\d{1,2}:\d{2}:\d{2}(?:\.\d+)?\]"
    r"|\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:[.,]\d+)?(?:Z|[+-]\d{2}:?\d{2})?)\s?"
)
_TAG = lazy(r"^\s*\[(I|W|E|F|V|TRT)\]\s?")


@dataclass(frozen=True)
class Line:
    """One log line split into its severity (``I W E F V`` or None when untagged), TRT origin and text."""

    severity: str | None
    trt: bool
    text: str


# The common shape, "[MM/DD/YYYY-HH:MM:SS] [I] " (+ "[TRT] "), read in one match.
_PLAIN_PREFIX = lazy(r"\[\d\d/\d\d/\d{4}-\d\d:\d\d:\d\d\] \[([IWEFV])\] (\[TRT\] )?")


def split_prefix(raw: str) -> Line:
    """Strip timestamps and ``[S]``/``[TRT]`` tags from a cleaned line (bounded: a few tokens at most)."""
    m = _PLAIN_PREFIX.match(raw)
    if m:
        rest = raw[m.end():]
        if not rest or rest[0] not in "[ \t0123456789":  # nothing more to strip: done
            return Line(m.group(1), m.group(2) is not None, rest)
    rest = raw
    severity: str | None = None
    trt = False
    for _ in range(6):
        m = _TS.match(rest)
        if m and m.end() > 0:
            rest = rest[m.end():]
            continue
        m = _TAG.match(rest)
        if m:
            tag = m.group(1)
            if tag == "TRT":
                # "[I] [TRT] …" is a TensorRT library line; a "[TRT]" *before* the severity is a wrapper's
                # prefix on every line (it tags trtexec's own lines too), so only the later position counts.
                trt = trt or severity is not None
            elif severity is None:
                severity = tag
            rest = rest[m.end():]
            continue
        break
    return Line(severity, trt, rest)


# ---------------------------------------------------------------------------------------------- numbers
def to_float(text: str | None) -> float | None:
    """A finite float, or None (never raises; NaN/inf are treated as absent)."""
    if text is None:
        return None
    try:
        value = float(text)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def to_int(text: str | None) -> int | None:
    """An int from ``"16"``/``"16.0"``, or None."""
    value = to_float(text)
    if value is None or value != int(value):
        return None
    return int(value)


_MS_FACTOR = {"ms": 1.0, "us": 1e-3, "µs": 1e-3, "ns": 1e-6, "s": 1e3, "sec": 1e3}
_S_FACTOR = {"s": 1.0, "sec": 1.0, "ms": 1e-3, "us": 1e-6, "µs": 1e-6, "min": 60.0}


def to_ms(value: str, unit: str) -> float | None:
    """A duration in milliseconds from a number and the unit trtexec printed."""
    number = to_float(value)
    factor = _MS_FACTOR.get(unit.lower())
    return None if number is None or factor is None else number * factor


def to_s(value: str, unit: str) -> float | None:
    """A duration in seconds from a number and the unit trtexec printed."""
    number = to_float(value)
    factor = _S_FACTOR.get(unit.lower())
    return None if number is None or factor is None else number * factor


# ---------------------------------------------------------------------------------------------- status
STATUS_RE = lazy(
    r"^&&&& (RUNNING|PASSED|FAILED|WAIVED) TensorRT\.trtexec(?: \[TensorRT v(\d+)\])?(?: \[b(\d+)\])?"
    r"(?: # ?(.*))?$"
)
TASK_RE = lazy(r"^&&&& TASK_(BEGIN|END|ABORT)\b")
VERSION_LINE_RE = lazy(r"^TensorRT version: (\d+(?:\.\d+){1,3}|\d+)\s*$")


def version_from_text(text: str) -> str | None:
    """``8003`` → ``8.0.3`` (8.0 prints the raw integer), ``10.16.1`` stays as printed."""
    from trtsweep.versions import decode_version_int

    if "." in text:
        return text
    try:
        return decode_version_int(text)
    except (ValueError, TypeError):
        return None


# ---------------------------------------------------------------------------------------------- device
_DEVICE_FIELDS: list[tuple[re.Pattern[str], str]] = [
    (lazy(r"^Selected Device: (.+?)\s*$"), "name"),
    (lazy(r"^Compute Capability: (\d+\.\d+)\s*$"), "compute_capability"),
    (lazy(r"^SMs: (\d+)\s*$"), "sm_count"),
    (lazy(rf"^Device Global Memory: ({NUM}) (MiB|MB|GiB)\s*$"), "memory_gib"),
    (lazy(rf"^(?:Application )?Compute Clock Rate: ({NUM}) (GHz|MHz)\s*$"), "clock_mhz"),
    (lazy(rf"^(?:Application )?Memory Clock Rate: ({NUM}) (GHz|MHz)\s*$"), "memory_clock_mhz"),
]


def parse_device_line(text: str) -> tuple[str, Any] | None:
    """One device-block line → (Device field, value), converted to the field's unit."""
    for pattern, field_name in _DEVICE_FIELDS:
        m = pattern.match(text)
        if not m:
            continue
        if field_name == "name" or field_name == "compute_capability":
            return field_name, m.group(1)
        if field_name == "sm_count":
            return field_name, int(m.group(1))
        number = to_float(m.group(1))
        if number is None:
            return None
        unit = m.group(2)
        if field_name == "memory_gib":
            return field_name, number if unit == "GiB" else number / 1024
        # round(): GHz × 1000 in binary floating point gives 4003.9999999999995 for "4.004 GHz".
        return field_name, round(number * 1000, 6) if unit == "GHz" else number
    return None


# ---------------------------------------------------------------------------------------------- build
_BUILD_FIELDS: list[tuple[re.Pattern[str], str]] = [
    (lazy(rf"^Engine built in ({NUM}) sec\.?\s*$"), "engine_build_s"),
    (lazy(rf"^Created engine with size: ({NUM}) MiB\s*$"), "engine_size_mib"),
    (lazy(rf"^Engine loaded in ({NUM}) sec\.?\s*$"), "engine_load_s"),
    (lazy(rf"^Engine deserialized in ({NUM}) sec\.?\s*$"), "engine_deserialize_s"),
]
LOADED_ENGINE_SIZE_RE = lazy(rf"^Loaded engine size: ({NUM}) (MiB|MB)\s*$")


def parse_build_line(text: str) -> tuple[str, float] | None:
    """trtexec's own build/load lines → (BuildInfo field, value)."""
    for pattern, field_name in _BUILD_FIELDS:
        m = pattern.match(text)
        if m:
            value = to_float(m.group(1))
            return (field_name, value) if value is not None else None
    return None


# ---------------------------------------------------------------------------------------------- summary
METRIC_NAMES = {
    "Latency": "latency_ms",
    "End-to-End Host Latency": "end_to_end_ms",
    "Enqueue Time": "enqueue_ms",
    "H2D Latency": "h2d_ms",
    "GPU Compute Time": "gpu_compute_ms",
    "D2H Latency": "d2h_ms",
}
# Items are "min = 0.5 ms"; a paste that lost the "=" signs ("mean 0.5 ms") reads the same.
_METRIC_LINE = lazy(
    r"^(Latency|End-to-End Host Latency|Enqueue Time|H2D Latency|GPU Compute Time|D2H Latency): (min\b.*)$"
)
# One item of a metric line, ending at the next comma or the end of the line: cut-short items (a line
# truncated mid-number) match nothing and are skipped.
_ITEM = lazy(
    rf"\b(?:(min|max|mean|median)|percentile\(({NUM})%\))(?: ?= ?| )({NUM}) ?(ms|us|µs|ns|s)\s*(?=,|$)"
)
# The line as trtexec prints it (8.0+: min, max, mean, median in this order, then the percentiles, one unit):
# read in one match, up to four percentiles in groups; anything else (cut short, pasted without "=",
# reordered) takes the item by item path.
_UNIT = r"(ms|us|µs|ns|s)"
_EXACT_PCT_GROUP = rf"(?:, percentile\(({NUM})%\) = ({NUM}) \2)?"
_EXACT = lazy(
    rf"min = ({NUM}) {_UNIT}, max = ({NUM}) \2, mean = ({NUM}) \2, median = ({NUM}) \2"
    + _EXACT_PCT_GROUP * 4 + rf"((?:, percentile\({NUM}%\) = {NUM} \2)*)\s*$"
)
_EXACT_PCT = lazy(rf", percentile\(({NUM})%\) = ({NUM})")
_PERCENTILE_KEYS: dict[str, str] = {}
THROUGHPUT_RE = lazy(rf"^[Tt]hroughput: ({NUM}) qps\s*$")
WALLTIME_RE = lazy(rf"^(?:Total Host Walltime|walltime): ({NUM}) ?(s|ms)\s*$")
TOTAL_COMPUTE_RE = lazy(rf"^(?:Total GPU Compute Time|total compute time): ({NUM}) ?(s|ms)\s*$")


def parse_metric_line(text: str) -> tuple[str, dict[str, float]] | None:
    """8.0+ one-line metric → (record key, {"min": …, "p99": …}); items cut short are skipped."""
    m = _METRIC_LINE.match(text)
    if not m:
        return None
    exact = _EXACT.match(m.group(2))
    if exact:
        return METRIC_NAMES[m.group(1)], _exact_values(exact)
    values: dict[str, float] = {}
    for name, pct, number, unit in _ITEM.findall(m.group(2)):
        value = float(number) * _MS_FACTOR[unit]
        if not math.isfinite(value):
            continue
        if name:
            values[name] = value
            continue
        key = _percentile_key(pct)
        if key is not None:
            values[key] = value
    return METRIC_NAMES[m.group(1)], values


def _exact_values(m: re.Match[str]) -> dict[str, float]:
    g = m.groups()
    factor = _MS_FACTOR[g[1]]
    values = {"min": float(g[0]) * factor, "max": float(g[2]) * factor, "mean": float(g[3]) * factor,
              "median": float(g[4]) * factor}
    for i in (5, 7, 9, 11):
        if g[i] is None:
            break
        key = _PERCENTILE_KEYS.get(g[i]) or _percentile_key(g[i])
        if key is not None:
            values[key] = float(g[i + 1]) * factor
    if g[13]:
        for pct, number in _EXACT_PCT.findall(g[13]):
            key = _percentile_key(pct)
            if key is not None:
                values[key] = float(number) * factor
    if not math.isfinite(sum(values.values())):  # an overflowing number ("1e999") is no value
        values = {k: v for k, v in values.items() if math.isfinite(v)}
    return values


def _percentile_key(pct: str) -> str | None:
    key = _PERCENTILE_KEYS.get(pct)
    if key is None:
        p = to_float(pct)
        if p is None:
            return None
        key = percentile_key(p)
        if len(_PERCENTILE_KEYS) < 1000:  # a memo of the few percentiles logs print
            _PERCENTILE_KEYS[pct] = key
    return key


# TRT 7: block headers, then "min: X ms (end to end Y ms)" / "percentile: X ms at 99% (end to end …)".
TRT7_BLOCKS = {"Host latency": "latency_ms", "Host Latency": "latency_ms", "Enqueue Time": "enqueue_ms",
               "GPU Compute": "gpu_compute_ms"}
_TRT7_STAT = lazy(
    rf"^(min|max|mean|median): ({NUM}) ?(ms|us|s)(?: \(end to end ({NUM}) ?(ms|us|s)\))?\s*$"
)
_TRT7_PCT = lazy(rf"^percentile: ({NUM}) ?(ms|us|s) at ({NUM})%"
                       rf"(?: \(end to end ({NUM}) ?(ms|us|s) at ({NUM})%\))?\s*$")


def parse_trt7_stat(text: str) -> tuple[str, float, float | None] | None:
    """A TRT 7 block line → (stat key, value ms, end-to-end value ms or None)."""
    m = _TRT7_STAT.match(text)
    if m:
        value = to_ms(m.group(2), m.group(3))
        e2e = to_ms(m.group(4), m.group(5)) if m.group(4) else None
        return (m.group(1), value, e2e) if value is not None else None
    m = _TRT7_PCT.match(text)
    if m:
        value = to_ms(m.group(1), m.group(2))
        pct = to_float(m.group(3))
        e2e = to_ms(m.group(4), m.group(5)) if m.group(4) else None
        if value is None or pct is None:
            return None
        return percentile_key(pct), value, e2e
    return None


# ---------------------------------------------------------------------------------------------- warnings
_RULE_WARNINGS: list[tuple[re.Pattern[str], str]] = [
    (lazy(r"Throughput may be bound by Enqueue Time"), "enqueue_bound"),
    (lazy(r"Throughput may be bound by host-to-device transfers"), "h2d_bound"),
    (lazy(r"Throughput may be bound by device-to-host transfers"), "d2h_bound"),
    (lazy(r"GPU compute time is unstable"), "unstable_gpu_compute"),
    (lazy(r"Multiple inference streams are used"), "multi_stream_inaccurate"),
    (lazy(r"Dynamic dimensions required for input|Shape missing for input with dynamic shape"),
     "dynamic_shape_missing"),
    (lazy(r"(?:has been|is) deprecated|Weakly-typed networks have been deprecated"), "deprecated_flag"),
]
CV_RE = lazy(rf"coefficient of variance = ({NUM})\s*%")
# A dynamic input given no shape: trtexec picks one and says which (the run then uses it). The 10.x run-time
# wording glues the name to "Automatically" (sic).
AUTO_SHAPE_RE = lazy(
    r"Dynamic dimensions required for input: (?P<a>[^,]+), but no shapes were provided\. "
    r"Automatically overriding shape to: (?P<sa>[\dx]+)"
    r"|Shape missing for input with dynamic shape: (?P<b>.+?)\s*"
    r"Automatically setting shape to: (?P<sb>[\dx]+)")


def apply_auto_shape(options: dict[str, Any], text: str) -> None:
    """Record the shape trtexec chose for a dynamic input as the inference shape, unless one was given."""
    m = AUTO_SHAPE_RE.search(text)
    if not m:
        return
    name, dims = (m.group("a"), m.group("sa")) if m.group("a") else (m.group("b"), m.group("sb"))
    current = options.get("inference_shapes")
    if not isinstance(current, dict):
        current = {}
        options["inference_shapes"] = current
        options["inference_shapes_chosen_by_trtexec"] = True
    current.setdefault(name.strip(), dims)
# An [I] line in 8.4-10.x (reference §3.6): with --dumpProfile and no --separateProfileRun the summary is
# suppressed; the profiler's layer times then carry the extra synchronisations too.
PROFILE_INACCURATE_RE = lazy(r"e2e network timing is not reported since it is inaccurate")
# 8.4+: "Skipped inference phase since --skipInference is added." (--buildOnly in 8.4-8.5).
SKIPPED_INFERENCE_RE = lazy(r"^Skipped inference phase since --\w+ is added")


def classify_warning(text: str) -> str:
    """The WARNING_CODES code of a trtexec-level ``[W]`` line (``other`` when no rule matches)."""
    for pattern, code in _RULE_WARNINGS:
        if pattern.search(text):
            return code
    return "other"
