"""Engine layers: names, precisions and fusion, joined from every source a run has."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from typing import Any

from trtsweep.parsers.lazy_re import lazy
from trtsweep.records import LayerRecord

_PRECISION_ALIASES = {
    "float": "fp32", "float32": "fp32", "fp32": "fp32", "kfloat": "fp32", "single": "fp32",
    "tf32": "tf32",
    "half": "fp16", "float16": "fp16", "fp16": "fp16", "khalf": "fp16",
    "bf16": "bf16", "bfloat16": "bf16", "kbf16": "bf16",
    "int8": "int8", "kint8": "int8", "char": "int8",
    "fp8": "fp8", "kfp8": "fp8", "float8": "fp8", "e4m3": "fp8",
    "int4": "int4", "kint4": "int4",
    "int32": "int32", "kint32": "int32", "int": "int32",
    "int64": "int64", "kint64": "int64",
    "bool": "bool", "kbool": "bool",
    "mixed": "mixed",
}
_WORD = lazy(r"[A-Za-z][A-Za-z0-9]*")
# TensorRT 8.6+ joins the parts of some names and of Metadata with ASCII record/unit separators.
_SEPARATORS = lazy(r"\s*[\x1e\x1f]\s*")
# Layers of optimisation profile N > 0 carry a " [profile N]" suffix in layer info and profiles.
_PROFILE_SUFFIX = lazy(r"\s*\[profile (\d+)\]\s*$")
_FOREIGN = lazy(r"^\{ForeignNode\[(.*)\]\}$")
_PWN = lazy(r"^PWN\((.*)\)$")
_ONNX_ITEM = lazy(r"^\[ONNX Layer: (.*)\]$")


def normalize_precision(text: str | None) -> str | None:
    """Map any TensorRT spelling of a data type (``Half``, ``kHALF``, ``FP16``, ``Row major linear FP32``,
    ``Thirty-two wide channel vectorized row major Int8 format``) to one of ``records.PRECISIONS``."""
    if not text or not isinstance(text, str):
        return None
    direct = _PRECISION_ALIASES.get(text.strip().lower())
    if direct:
        return direct
    found = {_PRECISION_ALIASES[w.lower()] for w in _WORD.findall(text) if w.lower() in _PRECISION_ALIASES}
    if len(found) == 1:
        return found.pop()
    if len(found) > 1:
        return "mixed"
    return None


def is_reformat_name(name: str) -> bool:
    """True for the layers TensorRT inserts to convert formats or precisions between layers."""
    low = name.lower()
    return "reformatting copynode" in low or "reformatter" in low or low.startswith("reformat")


def is_reformat(name: str, layer_type: str | None = None, origin: str | None = None) -> bool:
    """A reformat layer by its name, its ``LayerType`` (``Reformat``) or its ``Origin`` (``REFORMAT``)."""
    if isinstance(layer_type, str) and layer_type.strip().lower() == "reformat":
        return True
    if isinstance(origin, str) and origin.strip().upper() == "REFORMAT":
        return True
    return is_reformat_name(name)


def make_layer(name: str, **fields: object) -> LayerRecord:
    """A layer record with ``is_reformat`` set from its name (callers may override it)."""
    fields.setdefault("is_reformat", is_reformat_name(name))
    return LayerRecord(name=name, **fields)  # type: ignore[arg-type]


def clean_layer_name(name: str) -> str:
    """A layer name with TensorRT's ``\\x1e``/``\\x1f`` separators shown as `` + `` (as older versions)."""
    return _SEPARATORS.sub(" + ", name).strip() if ("\x1e" in name or "\x1f" in name) else name


def profile_index(name: str) -> int | None:
    """N of a ``[profile N]`` name suffix, None when the name has none (profile 0)."""
    m = _PROFILE_SUFFIX.search(name)
    return int(m.group(1)) if m else None


def layer_key(name: str) -> str:
    """The join key of a layer name: separators normalised, ``[profile N]`` dropped, spaces collapsed."""
    return " ".join(_PROFILE_SUFFIX.sub("", clean_layer_name(name)).split())


def metadata_onnx_layers(metadata: str | None) -> list[str]:
    """The ONNX node names listed in a layer's ``Metadata`` (``[ONNX Layer: a]\\x1e[ONNX Layer: b]``)."""
    if not metadata or not isinstance(metadata, str):
        return []
    out: list[str] = []
    for item in re.split(r"[\x1e\x1f]", metadata):
        m = _ONNX_ITEM.match(item.strip())
        if m and m.group(1) not in out:
            out.append(m.group(1))
    return out


def _split_top_level(text: str, sep: str) -> list[str]:
    # Split on ``sep`` outside parentheses/brackets, so "PWN(a, b)" and "x [Shuffle]" stay whole.
    parts: list[str] = []
    depth, start, i = 0, 0, 0
    while i < len(text):
        ch = text[i]
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth = max(depth - 1, 0)
        elif depth == 0 and text.startswith(sep, i):
            parts.append(text[start:i])
            start = i + len(sep)
            i = start
            continue
        i += 1
    parts.append(text[start:])
    return [p.strip() for p in parts if p.strip()]


def _expand_part(part: str) -> list[str]:
    foreign = _FOREIGN.match(part)
    if foreign:
        # Myelin names a fused region by its first and last node: "{ForeignNode[a...b]}".
        return [p.strip() for p in foreign.group(1).split("...") if p.strip()]
    pwn = _PWN.match(part)
    if pwn:
        # Pointwise fusions nest: "PWN(PWN(a, b), c)".
        return [x for inner in _split_top_level(pwn.group(1), ",") for x in _expand_part(inner)]
    return [part]


def fused_from(name: str, metadata: str | None = None) -> list[str]:
    """The original (ONNX/network) layers an engine layer was built from.

    ``Metadata`` ``[ONNX Layer: x]`` items are the most exact source (TensorRT 8.6+); otherwise the name
    is split on `` + `` joins, Myelin ``{ForeignNode[a...b]}`` ranges (first and last node) and
    ``PWN(...)`` pointwise groups. Reformat layers were inserted by TensorRT and come from nothing.
    """
    from_meta = metadata_onnx_layers(metadata)
    if from_meta:
        return from_meta
    if not name or is_reformat_name(name):
        return []
    base = layer_key(name)
    out: list[str] = []
    for part in _split_top_level(base, " + "):
        for item in _expand_part(part):
            if item not in out:
                out.append(item)
    return out


def _tensor_precision(tensor: Mapping[str, Any]) -> str | None:
    # 8.x-10.x combine "Format/Datatype"; 11.x splits it into "Format" and "DataType".
    for key in ("DataType", "Datatype", "Format/Datatype", "Format"):
        value = tensor.get(key)
        if isinstance(value, str):
            found = normalize_precision(value)
            if found:
                return found
    return None


def layer_precision(layer: Mapping[str, Any]) -> str | None:
    """A detailed layer's precision: the data type of its first typed output (else of its inputs)."""
    for key in ("Outputs", "Inputs"):
        tensors = layer.get(key)
        if isinstance(tensors, list):
            for tensor in tensors:
                if isinstance(tensor, Mapping):
                    found = _tensor_precision(tensor)
                    if found:
                        return found
    return None


def layer_from_info(item: Any) -> LayerRecord | None:
    """A layer record from one ``Layers`` entry of ``--exportLayerInfo`` (a name, or a detailed object)."""
    if isinstance(item, str):
        name = clean_layer_name(item)
        return make_layer(name, fused_from=fused_from(item))
    if not isinstance(item, Mapping):
        return None
    raw_name = item.get("Name")
    if not isinstance(raw_name, str):
        return None
    layer_type = item.get("LayerType") if isinstance(item.get("LayerType"), str) else None
    origin = item.get("Origin") if isinstance(item.get("Origin"), str) else None
    metadata = item.get("Metadata") if isinstance(item.get("Metadata"), str) else None
    return LayerRecord(
        name=clean_layer_name(raw_name),
        type=layer_type,
        precision=layer_precision(item),
        fused_from=fused_from(raw_name, metadata),
        is_reformat=is_reformat(raw_name, layer_type, origin),
    )


def io_tensors(data: Mapping[str, Any]) -> tuple[list[str], list[dict[str, Any]] | None]:
    """I/O tensor names of a layer-info object, and the 11.x ``I/O Tensors`` objects (None before 11.x)."""
    names: list[str] = []
    tensors = data.get("I/O Tensors")
    if isinstance(tensors, list):
        out = []
        for t in tensors:
            if isinstance(t, Mapping) and isinstance(t.get("Name"), str):
                names.append(t["Name"])
                out.append({"name": t["Name"], "io_mode": t.get("IOMode"), "data_type": t.get("DataType"),
                            "dimensions": t.get("Dimensions"), "location": t.get("Location"),
                            "is_shape_io": t.get("IsShapeInferenceIO"), "profiles": t.get("ProfileInfo")})
            elif isinstance(t, str):
                names.append(t)
        return names, out
    bindings = data.get("Bindings")
    if isinstance(bindings, list):
        names = [b if isinstance(b, str) else str(b.get("Name")) for b in bindings
                 if isinstance(b, str) or (isinstance(b, Mapping) and "Name" in b)]
    return names, None


def _pick(candidates: list[tuple[int, LayerRecord]], name: str) -> int | None:
    # Prefer the exact name, then the same name without a profile suffix, then the first one.
    for idx, rec in candidates:
        if rec.name == name:
            return idx
    for idx, rec in candidates:
        if profile_index(rec.name) is None:
            return idx
    return candidates[0][0] if candidates else None


def _merge(group: list[LayerRecord]) -> LayerRecord:
    timed = next((r for r in group if r.time_ms is not None), None)
    described = next((r for r in group if r.type is not None), None) or next(
        (r for r in group if r.precision is not None), group[0]
    )
    out = dataclasses.replace(group[0], fused_from=list(group[0].fused_from))
    if timed is not None:
        out.time_ms, out.time_pct, out.median_ms = timed.time_ms, timed.time_pct, timed.median_ms
    for field in ("time_pct", "median_ms", "type", "precision"):
        if getattr(out, field) is None:
            src = described if field in ("type", "precision") else timed
            value = getattr(src, field) if src is not None else None
            if value is None:
                value = next((getattr(r, field) for r in group if getattr(r, field) is not None), None)
            setattr(out, field, value)
    # Metadata-based fusion lists (detailed layer info) beat lists guessed from the name.
    if described.fused_from:
        out.fused_from = list(described.fused_from)
    elif not out.fused_from:
        out.fused_from = next((list(r.fused_from) for r in group if r.fused_from), [])
    out.is_reformat = any(r.is_reformat for r in group)
    return out


def join_layers(*sources: list[LayerRecord]) -> list[LayerRecord]:
    """Join layer lists of one engine by name (e.g. profile, layer info, log table), first source first.

    Times come from the first record that has them, type and precision from the first that has a
    ``type`` (detailed layer info). Names match exactly, else after normalising ``\\x1e``/``\\x1f``
    separators and dropping ``[profile N]`` suffixes. Unmatched layers of later sources are appended,
    except other-profile copies of a layer already matched (they would count that layer twice).
    """
    lists = [list(s) for s in sources if s]
    if not lists:
        return []
    groups: list[list[LayerRecord]] = [[rec] for rec in lists[0]]
    keys = [layer_key(rec.name) for rec in lists[0]]
    for other in lists[1:]:
        by_key: dict[str, list[tuple[int, LayerRecord]]] = {}
        for idx, rec in enumerate(other):
            by_key.setdefault(layer_key(rec.name), []).append((idx, rec))
        used: set[int] = set()
        matched_keys: set[str] = set()
        for group, key in zip(groups, keys, strict=True):
            cands = [(i, r) for i, r in by_key.get(key, []) if i not in used]
            picked = _pick(cands, group[0].name)
            if picked is not None:
                used.add(picked)
                group.append(other[picked])
                matched_keys.add(key)
        for idx, rec in enumerate(other):
            key = layer_key(rec.name)
            if idx not in used and key not in matched_keys:
                groups.append([rec])
                keys.append(key)
    return [_merge(g) for g in groups]
