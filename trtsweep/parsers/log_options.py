"""The option echo blocks (``=== Build Options ===`` ...) and the command line of a trtexec log, as the
normalised ``RunRecord.options`` keys.

Pure and total like :mod:`log_sections`: no function here raises on any input.
"""

from __future__ import annotations

import re
from typing import Any

from trtsweep.parsers.layers import normalize_precision
from trtsweep.parsers.lazy_re import lazy
from trtsweep.parsers.log_sections import NUM, to_float, to_int

# ---------------------------------------------------------------------------------------------- options
SECTION_RE = lazy(r"^=== (Model|Build|System|Inference|Reporting) Options ===\s*$")
_KEY_VALUE = lazy(r"^([A-Za-z][^:]{0,80}?)\s*:\s?(.*)$")


def split_option(text: str) -> tuple[str, str] | None:
    """``"Input build shape: x:0=1x1+2x2+4x4"`` → (``"Input build shape"``, ``"x:0=1x1+2x2+4x4"``)."""
    m = _KEY_VALUE.match(text)
    if not m:
        return None
    return m.group(1).strip(), m.group(2).strip()


_ON = {"enabled": True, "disabled": False, "true": True, "false": False, "on": True, "off": False}
_VERBOSITY = {"0": "layer_names_only", "1": "none", "2": "detailed"}
_SHAPE_KEY = lazy(r"^Input (build|inference) shapes?(?: \(profile (\d+)\))?$")
_PRECISION_WORD = lazy(r"[A-Za-z0-9]+")


def _empty_none(value: str) -> str | None:
    return value or None


def parse_precision(value: str) -> tuple[list[str], str | None]:
    """``"FP32+FP16+INT8 (obey precision constraints)"`` → (["fp32", "fp16", "int8"], "obey")."""
    low = value.lower()
    constraint = "obey" if "(obey" in low else "prefer" if "(prefer" in low else None
    if "strongly typed" in low:
        return ["strongly_typed"], constraint
    head = value.split("(", 1)[0]
    names: list[str] = []
    for part in head.split("+"):
        name = normalize_precision(part.strip())
        if name and name not in names:
            names.append(name)
    return names, constraint


def parse_memory_pools(value: str) -> dict[str, Any]:
    """``"workspace: 1024 MiB, dlaSRAM: default"`` → {"workspace": 1024.0, "dlaSRAM": "default"} (MiB)."""
    pools: dict[str, Any] = {}
    for item in value.split(","):
        if ":" not in item:
            continue
        name, size = (s.strip() for s in item.split(":", 1))
        m = re.match(rf"^({NUM})\s*(MiB|MB|GiB|KiB)?$", size)
        if m:
            number = to_float(m.group(1))
            unit = (m.group(2) or "MiB").lower()
            scale = {"mib": 1.0, "mb": 1.0, "gib": 1024.0, "kib": 1 / 1024}[unit]
            pools[name] = None if number is None else number * scale
        elif name:
            pools[name] = size
    return pools


def parse_shape_value(value: str) -> tuple[str, str] | None:
    """``"x:0=1x1x28+4x1x28"`` → (``"x:0"``, ``"1x1x28+4x1x28"``); the name ends at the last ``=``."""
    if "=" not in value:
        return None
    name, dims = value.rsplit("=", 1)
    return name.strip(), dims.strip()


def min_opt_max(dims: str) -> dict[str, str]:
    """``"1x3+4x3+8x3"`` → {"min": "1x3", "opt": "4x3", "max": "8x3"}; one value fills all three."""
    parts = [p.strip() for p in dims.split("+")]
    if len(parts) == 3:
        return {"min": parts[0], "opt": parts[1], "max": parts[2]}
    return {"min": parts[0], "opt": parts[0], "max": parts[-1]}


def parse_tactic_sources(value: str) -> dict[str, bool] | str:
    """``"cublas [ON], cudnn [OFF], "`` → {"cublas": True, "cudnn": False}; ``Using default…`` → "default"."""
    if "default" in value.lower() and "[" not in value:
        return "default"
    out: dict[str, bool] = {}
    for m in re.finditer(r"([A-Za-z_]+)\s*\[(ON|OFF)\]", value):
        out[m.group(1)] = m.group(2) == "ON"
    return out or value


def apply_option(options: dict[str, Any], key: str, value: str) -> None:
    """Fill normalised option keys from one echoed ``key: value`` line (raw text is kept elsewhere)."""
    shape = _SHAPE_KEY.match(key)
    if shape:
        _apply_shape(options, shape.group(1), shape.group(2), value)
        return
    low = key.lower()
    handler = _OPTION_HANDLERS.get(low)
    if handler is not None:
        handler(options, value)


def _apply_shape(options: dict[str, Any], kind: str, profile: str | None, value: str) -> None:
    target = "build_shapes" if kind == "build" else "inference_shapes"
    if value.lower() == "model":
        options.setdefault(target, "model")
        return
    parsed = parse_shape_value(value)
    if parsed is None:
        return
    name, dims = parsed
    if profile not in (None, "0"):
        name = f"{name} (profile {profile})"
    current = options.get(target)
    if not isinstance(current, dict):
        current = {}
        options[target] = current
    current[name] = min_opt_max(dims) if kind == "build" else dims


def _set_precision(options: dict[str, Any], value: str) -> None:
    names, constraint = parse_precision(value)
    options["precision"] = names
    options["precision_constraints"] = constraint


def _set_batch(key: str) -> Any:
    def apply(options: dict[str, Any], value: str) -> None:
        number = to_int(value)
        if number is not None:
            options[key] = number
        elif "explicit" in value.lower():
            options[key] = "explicit"
    return apply


def _set_int(key: str) -> Any:
    def apply(options: dict[str, Any], value: str) -> None:
        m = re.match(rf"^({NUM})", value)
        number = to_int(m.group(1)) if m else None
        if number is not None:
            options[key] = number
    return apply


def _set_bool(key: str) -> Any:
    def apply(options: dict[str, Any], value: str) -> None:
        flag = _ON.get(value.strip().lower())
        if flag is not None:
            options[key] = flag
    return apply


def _set_str(key: str) -> Any:
    def apply(options: dict[str, Any], value: str) -> None:
        options[key] = _empty_none(value)
    return apply


def _set_workspace(options: dict[str, Any], value: str) -> None:
    m = re.match(rf"^({NUM})\s*(MiB|MB|GiB)?", value)
    if m:
        number = to_float(m.group(1))
        if number is not None and (m.group(2) or "").lower() == "gib":
            number *= 1024
        options["workspace_mib"] = number


def _set_pools(options: dict[str, Any], value: str) -> None:
    pools = parse_memory_pools(value)
    options["memory_pools"] = pools
    workspace = pools.get("workspace")
    if isinstance(workspace, float):
        options["workspace_mib"] = workspace


def _set_percentiles(options: dict[str, Any], value: str) -> None:
    values = [to_float(v) for v in re.findall(NUM, value)]
    options["percentiles"] = [v for v in values if v is not None]


def _set_averages(options: dict[str, Any], value: str) -> None:
    m = re.match(r"^(\d+)", value)
    if m:
        options["avg_runs"] = int(m.group(1))


def _set_duration(options: dict[str, Any], value: str) -> None:
    # "3s (+ 200ms warm up)"
    m = re.match(rf"^({NUM})\s*s\b", value)
    if m:
        options["duration_s"] = to_float(m.group(1))
    w = re.search(rf"\(\+\s*({NUM})\s*ms warm ?up\)", value)
    if w:
        options["warmup_ms"] = to_float(w.group(1))


def _set_verbosity(options: dict[str, Any], value: str) -> None:
    options["profiling_verbosity"] = _VERBOSITY.get(value.strip(), _empty_none(value.strip().lower()))


def _set_builder_cache(options: dict[str, Any], value: str) -> None:
    # 7.x "Builder Cache: Enabled|Disabled" is what 8.0 calls timingCacheMode local|disable.
    flag = _ON.get(value.lower())
    if flag is not None:
        options.setdefault("timing_cache_mode", "local" if flag else "disable")


def _set_tactics(options: dict[str, Any], value: str) -> None:
    options["tactic_sources"] = parse_tactic_sources(value)


def _set_plugins(options: dict[str, Any], value: str) -> None:
    found = value.split()
    if found:
        options["plugins"] = found


def _set_model(options: dict[str, Any], value: str) -> None:
    # "Model:" holds the ONNX path for ONNX models; which format it is comes from the "Format:" line.
    options["_model"] = _empty_none(value)


def _set_format(options: dict[str, Any], value: str) -> None:
    options["_format"] = value.strip().lower()


def _set_sparsity(options: dict[str, Any], value: str) -> None:
    options["sparsity"] = _empty_none(value.lower())


_OPTION_HANDLERS: dict[str, Any] = {
    "precision": _set_precision,
    "max batch": _set_batch("max_batch"),
    "batch": _set_batch("batch"),
    "workspace": _set_workspace,
    "memory pools": _set_pools,
    "streams": _set_int("streams"),
    "inference streams": _set_int("streams"),
    "cuda graph": _set_bool("cuda_graph"),
    "spin-wait": _set_bool("spin_wait"),
    "data transfers": _set_bool("data_transfers"),
    "separate profiling": _set_bool("separate_profiling"),
    "multithreading": _set_bool("threads"),
    "percentile": _set_percentiles,
    "percentiles": _set_percentiles,
    "averages": _set_averages,
    "duration": _set_duration,
    "iterations": _set_int("iterations"),
    "timingcachemode": _set_str("timing_cache_mode"),
    "timingcachefile": _set_str("timing_cache_file"),
    "builder cache": _set_builder_cache,
    "profiling verbosity": _set_verbosity,
    "builderoptimizationlevel": _set_int("builder_optimization_level"),
    "load engine": _set_str("load_engine"),
    "save engine": _set_str("save_engine"),
    "export timing to json file": _set_str("export_times"),
    "export profile to json file": _set_str("export_profile"),
    "export layer info to json file": _set_str("export_layer_info"),
    "profile": _set_bool("dump_profile"),
    "sparsity": _set_sparsity,
    "tactic sources": _set_tactics,
    "plugins": _set_plugins,
    "loaded static plugins": _set_plugins,
    "model": _set_model,
    "format": _set_format,
}


def finish_options(options: dict[str, Any]) -> None:
    """Resolve helper keys once the echo is complete (``Model`` is the ONNX path only for ONNX)."""
    model = options.pop("_model", None)
    fmt = options.pop("_format", None)
    if model and (fmt == "onnx" or (fmt is None and str(model).lower().endswith(".onnx"))):
        options.setdefault("onnx", model)


# ---------------------------------------------------------------------------------------------- command line
_FLAG = lazy(r"^--?([A-Za-z][A-Za-z0-9]*)(?:=(.*))?$")
_PRECISION_FLAGS = {"fp16": "fp16", "int8": "int8", "bf16": "bf16", "fp8": "fp8", "int4": "int4"}


def options_from_command(command: str) -> dict[str, Any]:
    """Normalised options from the argv trtexec echoed, for fragments whose option echo is missing.

    Only what the flags state is returned (no defaults), so the echo, when present, always wins.
    """
    out: dict[str, Any] = {}
    precision: list[str] = []
    strongly = False
    build: dict[str, dict[str, str]] = {}
    for token in command.split():
        m = _FLAG.match(token)
        if not m:
            continue
        name, value = m.group(1), (m.group(2) or "")
        low = name.lower()
        if low in _PRECISION_FLAGS:
            precision.append(_PRECISION_FLAGS[low])
        elif low == "best":
            precision.extend(["fp16", "int8"])
        elif low == "stronglytyped":
            strongly = True
        elif low in ("minshapes", "optshapes", "maxshapes"):
            for item in value.split(","):
                parsed = _split_cli_shape(item)
                if parsed:
                    build.setdefault(parsed[0], {})[low[:3]] = parsed[1]
        elif low == "shapes":
            shapes = dict(p for p in (_split_cli_shape(i) for i in value.split(",")) if p)
            if shapes:
                out["inference_shapes"] = shapes
        else:
            _apply_cli_flag(out, low, value)
    if strongly:
        out["precision"] = ["strongly_typed"]
    elif precision:
        out["precision"] = ["fp32"] + [p for i, p in enumerate(precision) if p not in precision[:i]]
    if build:
        out["build_shapes"] = build
    return out


def _split_cli_shape(item: str) -> tuple[str, str] | None:
    # The name is everything before the last ':' (trtexec 7.1+), quotes are stripped.
    if ":" not in item:
        return None
    name, dims = item.rsplit(":", 1)
    name = name.strip().strip("'\"")
    return (name, dims.strip()) if name and dims else None


_CLI_STR = {
    "precisionconstraints": "precision_constraints", "timingcachefile": "timing_cache_file",
    "profilingverbosity": "profiling_verbosity", "loadengine": "load_engine", "saveengine": "save_engine",
    "onnx": "onnx", "exporttimes": "export_times", "exportprofile": "export_profile",
    "exportlayerinfo": "export_layer_info", "sparsity": "sparsity", "tacticsources": "tactic_sources",
}
_CLI_INT = {
    "maxbatch": "max_batch", "batch": "batch", "streams": "streams", "infstreams": "streams",
    "avgruns": "avg_runs", "iterations": "iterations",
    "builderoptimizationlevel": "builder_optimization_level",
}
_CLI_FLOAT = {"workspace": "workspace_mib", "duration": "duration_s", "warmup": "warmup_ms"}
_CLI_BOOL = {
    "usecudagraph": ("cuda_graph", True), "nocudagraph": ("cuda_graph", False),
    "usespinwait": ("spin_wait", True), "nospinwait": ("spin_wait", False),
    "nodatatransfers": ("data_transfers", False), "includedatatransfers": ("data_transfers", True),
    "separateprofilerun": ("separate_profiling", True), "threads": ("threads", True),
    "dumpprofile": ("dump_profile", True),
}


def _apply_cli_flag(out: dict[str, Any], low: str, value: str) -> None:
    if low in _CLI_STR:
        out[_CLI_STR[low]] = value or None
    elif low in _CLI_INT:
        number = to_int(value)
        if number is not None:
            out[_CLI_INT[low]] = number
    elif low in _CLI_FLOAT:
        real = to_float(value)
        if real is not None:
            out[_CLI_FLOAT[low]] = real
    elif low in _CLI_BOOL:
        key, flag = _CLI_BOOL[low]
        out[key] = flag
    elif low == "percentile":
        values = [to_float(v) for v in re.findall(NUM, value)]
        out["percentiles"] = [v for v in values if v is not None]
    elif low in ("plugins", "staticplugins") and value:
        out.setdefault("plugins", []).append(value)
    elif low == "mempoolsize":
        # Only plain numbers are unambiguous MiB across releases (reference §1.3); keep the rest raw.
        pools = {}
        for item in value.split(","):
            if ":" in item:
                name, size = item.split(":", 1)
                pools[name] = to_float(size) if re.fullmatch(NUM, size) else size
        out["memory_pools"] = pools
        if isinstance(pools.get("workspace"), float):
            out["workspace_mib"] = pools["workspace"]
