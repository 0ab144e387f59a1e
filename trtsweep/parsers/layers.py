"""Engine layers: names, precisions and fusion, joined from every source a run has."""

from __future__ import annotations

import re

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
_WORD = re.compile(r"[A-Za-z][A-Za-z0-9]*")


def normalize_precision(text: str | None) -> str | None:
    """Map any TensorRT spelling of a data type (``Half``, ``kHALF``, ``FP16``, ``Row major linear FP32``,
    ``Thirty-two wide channel vectorized row major Int8 format``) to one of ``records.PRECISIONS``."""
    if not text:
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


def make_layer(name: str, **fields: object) -> LayerRecord:
    """A layer record with ``is_reformat`` set from its name (callers may override it)."""
    fields.setdefault("is_reformat", is_reformat_name(name))
    return LayerRecord(name=name, **fields)  # type: ignore[arg-type]
