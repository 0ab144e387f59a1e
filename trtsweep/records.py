"""Typed records shared by every part of trtsweep.

A :class:`RunRecord` is what a parser makes of one trtexec run (or one export file, or one
Polygraphy output).  Its JSON form (:meth:`RunRecord.to_dict`) is the *run-record contract* of
``ARCHITECTURE.md``: every key is always present, and a value the input did not hold is ``None``.
``schema_version`` is bumped on any incompatible change; :func:`record_from_dict` keeps loading
older versions.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

SCHEMA_VERSION = 1

KINDS = (
    "trtexec_log",
    "export_times",
    "export_profile",
    "export_layer_info",
    "polygraphy_run",
    "polygraphy_inspect",
    "unrecognized",
)
class Status(StrEnum):
    """The one status vocabulary: of a record, of a step, and of a variant (its repeats combined).

    A record is ``passed``, ``failed``, ``incomplete`` or ``unrecognized``. A step's ``status`` file adds
    how it ended when trtexec could not finish (``timeout``, ``crash``) or never started (``skipped``: its
    engine failed); a variant whose step never completed is ``missing``, one measured with a command the
    spec no longer asks for is ``stale``. Values are plain strings in
    every file (StrEnum), so older run folders read back unchanged.
    """

    PASSED = "passed"
    FAILED = "failed"
    INCOMPLETE = "incomplete"
    UNRECOGNIZED = "unrecognized"
    TIMEOUT = "timeout"
    CRASH = "crash"
    SKIPPED = "skipped"
    MISSING = "missing"
    STALE = "stale"


# What a parser can say of one run.
STATUSES = (Status.PASSED, Status.FAILED, Status.INCOMPLETE, Status.UNRECOGNIZED)
# How a step can end (its status file); a step without one never completed.
STEP_STATUSES = (Status.PASSED, Status.FAILED, Status.TIMEOUT, Status.CRASH, Status.INCOMPLETE,
                 Status.SKIPPED)
# A variant's status is the worst of its repeats', in this order (worst first).
VARIANT_STATUS_ORDER = (Status.FAILED, Status.TIMEOUT, Status.CRASH, Status.SKIPPED, Status.STALE,
                        Status.MISSING, Status.INCOMPLETE, Status.PASSED)
FAILURE_CLASSES = (
    "oom",
    "unsupported_op",
    "parse_error",
    "invalid_argument",
    "engine_mismatch",
    "plugin_missing",
    "shape_error",
    "timeout",
    "crash",
    "other",
)
WARNING_CODES = (
    "enqueue_bound",
    "h2d_bound",
    "d2h_bound",
    "unstable_gpu_compute",
    "multi_stream_inaccurate",
    "dynamic_shape_missing",
    "profile_total_inaccurate",
    "deprecated_flag",
    "other",
)
# Informational ``[I]`` lines worth keeping on a record (``RunRecord.notes``); they are not warnings.
NOTE_CODES = (
    "profile_total_inaccurate",  # --dumpProfile without --separateProfileRun: no e2e summary (8.4-10.x)
    "inference_skipped",  # --buildOnly / --skipInference: a build-only run prints no summary
)
# Where a failed run stopped (``RunRecord.failure_phase``): parsing the model, setting up the engine (building
# it, or deserializing it with --loadEngine), or setting up / running inference.
FAILURE_PHASES = ("parse", "build", "inference")
PRECISIONS = ("fp32", "tf32", "fp16", "bf16", "int8", "fp8", "int4", "int32", "int64", "bool", "mixed")

# The metric keys of a record, in the order trtexec prints them.
METRICS = ("latency_ms", "end_to_end_ms", "enqueue_ms", "h2d_ms", "gpu_compute_ms", "d2h_ms")


def percentile_key(p: float) -> str:
    """Key of a percentile in a :class:`Stats` dict: 99 -> ``p99``, 99.9 -> ``p99.9``."""
    return f"p{float(p):g}"


@dataclass
class Stats:
    """Summary statistics of one metric, in the unit of the key that holds it."""

    min: float | None = None
    max: float | None = None
    mean: float | None = None
    median: float | None = None
    percentiles: dict[str, float] = field(default_factory=dict)  # {"p99": 1.23, "p99.9": ...}

    def to_dict(self) -> dict[str, float | None]:
        out: dict[str, float | None] = {
            "min": self.min,
            "max": self.max,
            "mean": self.mean,
            "median": self.median,
        }
        out.update(self.percentiles)
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> Stats | None:
        if data is None:
            return None
        pct = {k: float(v) for k, v in data.items() if k.startswith("p") and v is not None}
        return cls(
            min=data.get("min"),
            max=data.get("max"),
            mean=data.get("mean"),
            median=data.get("median"),
            percentiles=pct,
        )

    def is_empty(self) -> bool:
        return all(v is None for v in (self.min, self.max, self.mean, self.median)) and not self.percentiles


@dataclass
class Device:
    """The GPU a run used, as trtexec's device block prints it."""

    name: str | None = None
    compute_capability: str | None = None  # "8.6"
    sm_count: int | None = None
    memory_gib: float | None = None
    clock_mhz: float | None = None
    memory_clock_mhz: float | None = None


@dataclass
class BuildInfo:
    """Engine build and load figures."""

    engine_build_s: float | None = None
    engine_size_mib: float | None = None
    engine_load_s: float | None = None
    engine_deserialize_s: float | None = None


@dataclass
class WarningRecord:
    code: str
    text: str


@dataclass
class NoteRecord:
    """An informational line of the input (one of ``NOTE_CODES``): worth knowing, not a warning."""

    code: str
    text: str


@dataclass
class LayerRecord:
    """One engine layer, joined from whichever sources a run has."""

    name: str
    type: str | None = None
    precision: str | None = None  # one of PRECISIONS
    time_ms: float | None = None  # average per inference
    time_pct: float | None = None  # share of the summed layer time, 0..100
    fused_from: list[str] = field(default_factory=list)
    is_reformat: bool = False
    median_ms: float | None = None


@dataclass
class RunRecord:
    """One run (or one export / Polygraphy output): the run-record contract."""

    source: str
    kind: str
    status: str
    schema_version: int = SCHEMA_VERSION
    failure: str | None = None
    failure_text: str | None = None
    failure_phase: str | None = None  # one of FAILURE_PHASES, only on a failed record that shows it
    trt_version: str | None = None
    command: str | None = None
    device: Device = field(default_factory=Device)
    options: dict[str, Any] = field(default_factory=dict)
    build: BuildInfo = field(default_factory=BuildInfo)
    throughput_qps: float | None = None
    latency_ms: Stats | None = None
    end_to_end_ms: Stats | None = None
    enqueue_ms: Stats | None = None
    h2d_ms: Stats | None = None
    gpu_compute_ms: Stats | None = None
    d2h_ms: Stats | None = None
    host_walltime_s: float | None = None
    total_gpu_compute_s: float | None = None
    gpu_compute_cv_pct: float | None = None
    warnings: list[WarningRecord] = field(default_factory=list)
    notes: list[NoteRecord] = field(default_factory=list)
    layers: list[LayerRecord] | None = None
    polygraphy: dict[str, Any] | None = None
    # GPU telemetry of the step that produced the record (``analysis.telemetry`` summary), None when the
    # record was not made by a trtsweep step (parsed or imported logs).
    telemetry: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        """The JSON-ready contract form: every key present, statistics flattened."""
        out: dict[str, Any] = {
            "schema_version": self.schema_version,
            "source": self.source,
            "kind": self.kind,
            "status": self.status,
            "failure": self.failure,
            "failure_text": self.failure_text,
            "failure_phase": self.failure_phase,
            "trt_version": self.trt_version,
            "command": self.command,
            "device": dataclasses.asdict(self.device),
            "options": _jsonable(self.options),
            "build": dataclasses.asdict(self.build),
            "throughput_qps": self.throughput_qps,
        }
        for key in METRICS:
            stats = getattr(self, key)
            out[key] = stats.to_dict() if stats is not None else None
        out["host_walltime_s"] = self.host_walltime_s
        out["total_gpu_compute_s"] = self.total_gpu_compute_s
        out["gpu_compute_cv_pct"] = self.gpu_compute_cv_pct
        out["warnings"] = [dataclasses.asdict(w) for w in self.warnings]
        out["notes"] = [dataclasses.asdict(n) for n in self.notes]
        out["layers"] = None if self.layers is None else [dataclasses.asdict(x) for x in self.layers]
        out["polygraphy"] = _jsonable(self.polygraphy)
        out["telemetry"] = _jsonable(self.telemetry)
        # A non-finite number would make the JSON invalid for every strict reader: null means "not known".
        return _jsonable(out)


def _check_shape(data: Any) -> None:
    """Raise ValueError naming the first key whose value has the wrong type (a corrupt or edited file)."""
    if not isinstance(data, dict):
        raise ValueError(f"expected an object, found {type(data).__name__}")
    for key in ("device", "build", "options", "polygraphy", "telemetry", *METRICS):
        if data.get(key) is not None and not isinstance(data[key], dict):
            raise ValueError(f"'{key}' must be an object, found {type(data[key]).__name__}")
    for key in ("warnings", "notes", "layers"):
        value = data.get(key)
        if value is not None and (not isinstance(value, list) or not all(isinstance(x, dict) for x in value)):
            raise ValueError(f"'{key}' must be a list of objects")
    for key in ("throughput_qps", "host_walltime_s", "total_gpu_compute_s", "gpu_compute_cv_pct"):
        value = data.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
            raise ValueError(f"'{key}' must be a number or null, found {value!r}")
    for key in METRICS:
        for stat, value in (data.get(key) or {}).items():
            if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
                raise ValueError(f"'{key}.{stat}' must be a number or null, found {value!r}")
    for key in ("source", "kind", "status"):
        if data.get(key) is not None and not isinstance(data[key], str):
            raise ValueError(f"'{key}' must be a string")
    if data.get("status") is not None and data["status"] not in STATUSES:
        raise ValueError(f"'status' {data['status']!r} is not one of {', '.join(STATUSES)}")


def record_from_dict(data: dict[str, Any]) -> RunRecord:
    """Load a record written by :meth:`RunRecord.to_dict`, of this or any older schema version.

    Raises ValueError for content of the wrong shape or a newer ``schema_version``."""
    _check_shape(data)
    raw_version = data.get("schema_version", 1)
    if isinstance(raw_version, bool) or not isinstance(raw_version, int):
        raise ValueError(f"'schema_version' must be an integer, found {raw_version!r}")
    version = raw_version
    if version > SCHEMA_VERSION:
        raise ValueError(
            f"record schema_version {version} is newer than this trtsweep understands ({SCHEMA_VERSION})"
        )
    rec = RunRecord(
        source=data.get("source", ""),
        kind=data.get("kind", "unrecognized"),
        status=data.get("status", "unrecognized"),
        failure=data.get("failure"),
        failure_text=data.get("failure_text"),
        failure_phase=data.get("failure_phase"),
        trt_version=data.get("trt_version"),
        command=data.get("command"),
        device=_build(Device, data.get("device")),
        options=dict(data.get("options") or {}),
        build=_build(BuildInfo, data.get("build")),
        throughput_qps=data.get("throughput_qps"),
        host_walltime_s=data.get("host_walltime_s"),
        total_gpu_compute_s=data.get("total_gpu_compute_s"),
        gpu_compute_cv_pct=data.get("gpu_compute_cv_pct"),
        warnings=[WarningRecord(code=w.get("code", "other"), text=w.get("text", ""))
                  for w in data.get("warnings") or []],
        notes=[NoteRecord(code=n.get("code", ""), text=n.get("text", "")) for n in data.get("notes") or []],
        layers=None if data.get("layers") is None else [_build(LayerRecord, x) for x in data["layers"]],
        polygraphy=data.get("polygraphy"),
        telemetry=data.get("telemetry"),
    )
    for key in METRICS:
        setattr(rec, key, Stats.from_dict(data.get(key)))
    return rec


def _build(cls: type, data: dict[str, Any] | None) -> Any:
    if not data:
        return cls() if cls is not LayerRecord else LayerRecord(name="")
    names = {f.name for f in dataclasses.fields(cls)}
    return cls(**{k: v for k, v in data.items() if k in names})


def _jsonable(value: Any) -> Any:
    """Make option values JSON-safe: tuples become lists, NaN/inf become None."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _jsonable(dataclasses.asdict(value))
    return value


def unrecognized(source: str, reason: str) -> RunRecord:
    """The record for a file that is not trtexec or Polygraphy output."""
    return RunRecord(source=source, kind="unrecognized", status="unrecognized", failure_text=reason)
