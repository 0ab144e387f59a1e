"""The one reader of a variant's axis values: from the sweep, else from what trtexec printed.

A run folder written by ``trtsweep run`` records every axis of every variant (the spec's matrix). One
written by ``trtsweep import`` records what the logs say, which is this module's job too: the option echo
(``precision``, ``batch``/shapes, ``streams``, ``cuda_graph`` ...) and, for an engine loaded from a file
(whose echo says nothing about how it was built), the precisions its layers run in. A value the record
does not hold stays ``None``; the names of axes read from a record are returned as *derived*, so outputs
can say so.

Pure: records and dicts in, values out.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from trtsweep.records import LayerRecord, RunRecord

# Boolean run axes, typed from True/False or trtexec's Enabled/Disabled.
BOOL_AXES = ("cuda_graph", "spin_wait", "data_transfers", "threads")
# Axes in the order a reader scans them; unknown axes (new flags) follow alphabetically.
AXIS_ORDER = (
    "precision", "batch", "shapes", "streams", "cuda_graph", "spin_wait", "data_transfers", "threads",
    "builder_optimization_level", "workspace_mib", "build_flags", "run_flags",
)
FULL_PRECISIONS = ("fp32", "tf32")
# Reduced precisions in the order an engine name lists them ("fp16+int8").
_REDUCED_ORDER = ("fp16", "bf16", "int8", "fp8", "int4")
_LAYER_TYPES_WITHOUT_PRECISION = ("", "none", "unknown")


@dataclass(frozen=True)
class Axes:
    """A variant's typed axis values and the names of those read from its record rather than the sweep."""

    values: dict[str, Any]
    derived: tuple[str, ...] = ()

    def get(self, name: str) -> Any:
        return self.values.get(name)


def is_reduced(precision: str | None) -> bool:
    """True for an engine allowed below FP32/TF32: fp16, int8, ``fp16+int8``, ``best``, ``mixed``."""
    return precision is not None and precision not in FULL_PRECISIONS


def precision_name(value: Any) -> str | None:
    """One name for a precision setting: a sweep value (``fp16``), trtexec's list (``["fp32", "fp16"]``)
    or text (``"FP32+FP16+INT8"``). Every enabled reduced precision is named (``fp16+int8``): an engine
    allowed both is not the same experiment as one allowed INT8 only."""
    if value is None:
        return None
    items = value if isinstance(value, list | tuple) else str(value).replace("+", ",").split(",")
    names = [str(x).strip().lower() for x in items if str(x).strip()]
    if not names:
        return None
    if len(names) == 1:
        return names[0]
    if "best" in names:
        return "best"
    reduced = [p for p in _REDUCED_ORDER if p in names]
    if reduced:
        return "+".join(reduced)
    return "tf32" if "tf32" in names else names[0]


def layer_precision(layers: Iterable[LayerRecord] | None) -> str | None:
    """The precision an engine's layers run in: one name when all agree, ``mixed`` when they differ,
    None when no layer states one. Reformat layers only convert between the others and are not counted."""
    seen = {str(x.precision).lower() for x in layers or () if not x.is_reformat and x.precision
            and str(x.precision).lower() not in _LAYER_TYPES_WITHOUT_PRECISION}
    if not seen:
        return None
    return seen.pop() if len(seen) == 1 else "mixed"


def _int(value: Any) -> int | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _bool(value: Any) -> bool | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "enabled", "1", "yes", "on"):
        return True
    if text in ("false", "disabled", "0", "no", "off"):
        return False
    return None


def shape_mode(build_shapes: Any) -> str | None:
    """``dynamic`` when a build profile's min and max differ, ``static`` when they all agree; None for the
    model's own shapes (``model``), which the log does not show."""
    if not isinstance(build_shapes, Mapping) or not build_shapes:
        return None
    profiles = [p for p in build_shapes.values() if isinstance(p, Mapping)]
    if not profiles:
        return None
    return "dynamic" if any(p.get("min") != p.get("max") for p in profiles) else "static"


def batch_from_options(options: Mapping[str, Any]) -> int | None:
    """The batch a run used: ``--batch`` of an implicit-batch engine, else the first dimension of the
    first inference shape (the batch for the models trtsweep sweeps; the log states nothing more)."""
    implicit = _int(options.get("batch"))
    if implicit is not None:
        return implicit
    shapes = options.get("inference_shapes")
    if isinstance(shapes, Mapping) and shapes:
        first = next(iter(shapes.values()))
        if isinstance(first, list | tuple) and first:
            return _int(first[0])
        if isinstance(first, str) and first:
            return _int(first.lower().split("x")[0])
    return None


def implicit_batch(record: RunRecord | None) -> bool:
    """True when the run used an implicit-batch engine (``--batch=N``: TensorRT 7/8 Caffe, UFF)."""
    return record is not None and _int((record.options or {}).get("batch")) is not None


def axes_from_record(record: RunRecord | None, build: RunRecord | None = None) -> dict[str, Any]:
    """Axis values as far as a record shows them (absent ones are left out)."""
    if record is None:
        return {}
    opts = record.options or {}
    out: dict[str, Any] = {}
    loaded = bool(opts.get("load_engine"))
    # A loaded engine's echo holds no build options: its precision is what its layers run in.
    precision = None if loaded else precision_name(opts.get("precision"))
    if precision == "strongly_typed":
        precision = None  # 11.x and --stronglyTyped: the types come from the model, the layers show them
    if precision is None:
        precision = layer_precision(record.layers) or layer_precision(build.layers if build else None)
    if precision is not None:
        out["precision"] = precision
    batch = batch_from_options(opts)
    if batch is not None:
        out["batch"] = batch
    shapes = shape_mode(opts.get("build_shapes"))
    if shapes is not None:
        out["shapes"] = shapes
    streams = _int(opts.get("streams", opts.get("inference_streams")))
    if streams is not None:
        out["streams"] = streams
    for name in BOOL_AXES:
        value = _bool(opts.get(name))
        if value is not None:
            out[name] = value
    return out


def typed(name: str, value: Any) -> Any:
    """A sweep axis value in its type: batch/streams int, switches bool, precision/shapes lower-case."""
    if value is None:
        return None
    if name in ("batch", "streams"):
        return _int(value)
    if name in BOOL_AXES:
        return _bool(value)
    if name == "precision":
        return precision_name(value)
    if name == "shapes":
        return str(value).lower()
    return value


def variant_axes(recorded: Mapping[str, Any], record: RunRecord | None = None,
                 build: RunRecord | None = None, derived: Iterable[str] = ()) -> Axes:
    """A variant's axes: those the run folder records (typed), then what its record shows for the rest.

    ``derived`` names recorded axes that were themselves read from a record (``trtsweep import``)."""
    values = {name: typed(name, value) for name, value in recorded.items()}
    names = [n for n in derived if n in values]
    for name, value in axes_from_record(record, build).items():
        if values.get(name) is None:
            values[name] = value
            names.append(name)
    return Axes(values, tuple(dict.fromkeys(names)))


def axis_order(names: Iterable[str]) -> list[str]:
    """Axis names, known ones first in reading order, the rest alphabetically."""
    seen = set(names)
    known = [a for a in AXIS_ORDER if a in seen]
    return known + sorted(seen - set(known))


def show(value: Any) -> str:
    """An axis value as text, the same everywhere (``true``/``false``, JSON for lists)."""
    import json

    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple | dict):
        return json.dumps(value, sort_keys=True)
    return str(value)
