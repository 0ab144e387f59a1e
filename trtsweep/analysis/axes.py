"""Typed sweep axes of a variant, and the axes of imported runs read from the record's trtexec options.

A run folder from ``trtsweep run`` records every axis; one from ``trtsweep import`` (existing logs) may
record none, so the diagnosis reads what it can from the options trtexec printed (``precision``,
``streams``, ``cuda_graph``, ``data_transfers``, ``inference_shapes``, ``build_shapes``) and names the
axes it derived.
"""

from __future__ import annotations

from typing import Any

# Boolean run axes, typed from True/False or trtexec's Enabled/Disabled.
BOOL_AXES = ("cuda_graph", "spin_wait", "data_transfers", "threads")
# Most reduced first: an imported run whose options enable several precisions is labelled by the
# most reduced one, because that is what the builder was allowed to pick.
_PRECISION_ORDER = ("best", "fp8", "int8", "fp16", "bf16", "tf32", "fp32")


def normalized_axes(axes: dict[str, Any], options: dict[str, Any]) -> tuple[dict[str, Any], tuple[str, ...]]:
    """The variant's axes with typed values; axes the sweep did not record are read from the record's
    options (imported runs) and named in the second element so findings can say they were derived."""
    out: dict[str, Any] = dict(axes)
    derived: list[str] = []

    def fill(name: str, value: Any) -> None:
        if out.get(name) is None and value is not None:
            out[name] = value
            derived.append(name)

    out["precision"] = _precision(axes.get("precision"))
    fill("precision", _precision(options.get("precision")))
    out["batch"] = _int(axes.get("batch"))
    fill("batch", _int(options.get("batch")) or _batch_from_shapes(options.get("inference_shapes")))
    out["streams"] = _int(axes.get("streams"))
    fill("streams", _int(options.get("streams", options.get("inference_streams"))))
    for name in BOOL_AXES:
        out[name] = _bool(axes.get(name))
        fill(name, _bool(options.get(name)))
    shapes = axes.get("shapes")
    out["shapes"] = str(shapes).lower() if shapes is not None else None
    fill("shapes", _shape_mode(options.get("build_shapes")))
    return out, tuple(derived)


def _precision(value: Any) -> str | None:
    if value is None:
        return None
    items = value if isinstance(value, list | tuple) else str(value).replace("+", ",").split(",")
    names = {str(x).strip().lower() for x in items if str(x).strip()}
    for name in _PRECISION_ORDER:
        if name in names:
            return name
    return None


def _int(value: Any) -> int | None:
    try:
        return int(value) if value is not None and not isinstance(value, bool) else None
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


def _shape_mode(build_shapes: Any) -> str | None:
    """``dynamic`` when a build profile's min and max differ, ``static`` when they all agree; None for
    ``model`` (the model's own shapes, which the log does not show)."""
    if not isinstance(build_shapes, dict) or not build_shapes:
        return None
    profiles = [p for p in build_shapes.values() if isinstance(p, dict)]
    if not profiles:
        return None
    return "dynamic" if any(p.get("min") != p.get("max") for p in profiles) else "static"


def _batch_from_shapes(shapes: Any) -> int | None:
    # The first dimension of the first input is the batch for the models trtsweep sweeps; an imported
    # log only tells us the shapes it ran, so this is the best the record allows.
    if isinstance(shapes, dict) and shapes:
        first = next(iter(shapes.values()))
        if isinstance(first, list | tuple) and first:
            return _int(first[0])
        if isinstance(first, str) and first:
            return _int(first.lower().split("x")[0])
    return None
