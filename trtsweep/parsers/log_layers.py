"""Layer data printed in trtexec console logs: verbose layer info, ``--dumpLayerInfo`` and profile tables.

Three sources can describe the same engine layers in one run (reference §3.10, §3.11):

* the verbose ``[V] [TRT] Engine Layer Information:`` block (8.x+), one untagged line per layer:
  ``Layer(CaskConvolution): conv + relu, Tactic: 0x…, in[Float(-2,1,28,28)] -> out[Float(…)]`` (≤8.4) or
  ``… in (Half[-1,32:8,14,14]) -> out (Half[…])`` (8.5+);
* ``--dumpLayerInfo``: untagged lines after ``[I] Layers:`` — names only, or ``Name: …, LayerType: …``;
* ``--dumpProfile`` tables in three layouts (name first without / with a median column, numbers first).

:class:`LayerCollector` gathers them and :meth:`LayerCollector.records` joins them by layer name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from trtsweep.parsers.layers import is_reformat_name, make_layer, normalize_precision
from trtsweep.parsers.lazy_re import lazy
from trtsweep.parsers.log_sections import NUM, to_float
from trtsweep.records import LayerRecord

MAX_LAYERS = 100_000  # a guard for hostile input, far above any real engine

_VERBOSE_LAYER = lazy(r"^Layer\(([^)]*)\): (.*?), Tactic: ([^,]*), (.*)$")
# Tensor types: "name[Float(-2,1,28,28)]" (≤8.4) and "name (Half[-1,32:8,14,14])" (8.5+).
_TENSOR_TYPE = lazy(r"(?:\[([A-Za-z][A-Za-z0-9]*)\(|\(([A-Za-z][A-Za-z0-9]*)\[)")
_INFO_NAME = lazy(r"^Name: (.*?), LayerType: ([^,]*)(?:,|$)")
_FORMAT_TYPE = lazy(r"Format/Datatype: ([^}\]]*?)\s*[}\]]")
PROFILE_HEADER_RE = lazy(r"^=== Profile \((\d+) iterations ?\) ===\s*$")
_ROW_NAME_FIRST_4 = lazy(rf"^(.+?)\s+({NUM})\s+({NUM})\s+({NUM})\s+({NUM})\s*$")
_ROW_NAME_FIRST_3 = lazy(rf"^(.+?)\s+({NUM})\s+({NUM})\s+({NUM})\s*$")
_ROW_NUMBERS_FIRST = lazy(rf"^({NUM})\s+({NUM})\s+({NUM})\s+({NUM})\s+(\S.*?)\s*$")
_INDEX_TYPES = {"int32", "int64", "bool"}


@dataclass
class _Info:
    type: str | None = None
    precision: str | None = None


@dataclass
class _Timing:
    time_ms: float | None
    time_pct: float | None
    median_ms: float | None


def output_precision(types: list[str]) -> str | None:
    """A layer's precision from its output tensor types: the common type, ignoring index outputs
    (TopK/ArgMax add Int32/Int64 outputs) when a floating/quantised type is present; else ``mixed``."""
    found: list[str] = []
    for t in types:
        norm = normalize_precision(t)
        if norm and norm not in found:
            found.append(norm)
    if len(found) > 1:
        data = [p for p in found if p not in _INDEX_TYPES]
        found = data or found
    if not found:
        return None
    return found[0] if len(found) == 1 else "mixed"


def parse_verbose_layer(text: str) -> tuple[str, str, str | None] | None:
    """``Layer(Type): name, Tactic: …, ins -> outs`` → (name, type, precision of the outputs)."""
    m = _VERBOSE_LAYER.match(text)
    if not m:
        return None
    io = m.group(4)
    outputs = io.rsplit(" -> ", 1)[1] if " -> " in io else ""
    types = [a or b for a, b in _TENSOR_TYPE.findall(outputs)]
    return m.group(2).strip(), m.group(1).strip(), output_precision(types)


def parse_info_layer(text: str) -> tuple[str, str | None, str | None] | None:
    """A ``--dumpLayerInfo`` line → (name, type, precision); names-only lines give (name, None, None)."""
    stripped = text.strip()
    if not stripped:
        return None
    m = _INFO_NAME.match(stripped)
    if not m:
        return stripped, None, None
    outputs = stripped.split("Outputs: [", 1)[1] if "Outputs: [" in stripped else ""
    types = _FORMAT_TYPE.findall(outputs)
    return m.group(1).strip(), m.group(2).strip() or None, output_precision(types)


def profile_layout(header: str) -> str | None:
    """Which ``--dumpProfile`` row layout a table header announces (reference §3.10)."""
    if re.search(r"Time\(ms\).*Layer\s*$", header):
        return "numbers_first"
    if "Median Time" in header and header.lstrip().startswith("Layer"):
        return "name_first_median"
    if header.lstrip().startswith("Layer") and "Time" in header:
        return "name_first"
    return None


def parse_profile_row(text: str, layout: str) -> tuple[str, _Timing] | None:
    """One profile row → (layer name, timing): time = average per inference, the total column is dropped."""
    if layout == "numbers_first":
        m = _ROW_NUMBERS_FIRST.match(text.strip())
        if not m:
            return None
        return m.group(5), _Timing(to_float(m.group(2)), to_float(m.group(4)), to_float(m.group(3)))
    if layout == "name_first_median":
        m = _ROW_NAME_FIRST_4.match(text.strip())
        if not m:
            return None
        return m.group(1), _Timing(to_float(m.group(3)), to_float(m.group(5)), to_float(m.group(4)))
    m = _ROW_NAME_FIRST_3.match(text.strip())
    if not m:
        return None
    return m.group(1), _Timing(to_float(m.group(3)), to_float(m.group(4)), None)


def _split_top_level(text: str, sep: str) -> list[str]:
    """Split at ``sep`` outside brackets, so ``PWN(a + b, c)`` stays one part."""
    parts: list[str] = []
    depth = 0
    start = 0
    i = 0
    while i < len(text):
        ch = text[i]
        if ch in "([{":
            depth += 1
        elif ch in ")]}" and depth > 0:
            depth -= 1
        elif depth == 0 and text.startswith(sep, i):
            parts.append(text[start:i])
            i += len(sep)
            start = i
            continue
        i += 1
    parts.append(text[start:])
    return [p.strip() for p in parts if p.strip()]


_FOREIGN = lazy(r"^\{ForeignNode\[(.*)\]\}$")


def fused_from(name: str) -> list[str]:
    """The source layers a fused engine layer names: ``a + b`` → [a, b], ``{ForeignNode[a...b]}`` → [a, b]."""
    if is_reformat_name(name):
        return []
    m = _FOREIGN.match(name.strip())
    if m:
        out: list[str] = []
        for piece in m.group(1).split("..."):
            out.extend(_split_top_level(piece, " + "))
        return out
    parts = _split_top_level(name, " + ")
    return parts if len(parts) > 1 else []


class LayerCollector:
    """Accumulates layer data of one run from the three console sources."""

    def __init__(self) -> None:
        self.verbose: dict[str, _Info] = {}
        self.info: dict[str, _Info] = {}
        self.profile: dict[str, _Timing] = {}

    def reset_verbose(self) -> None:
        """A new ``Engine Layer Information`` block replaces the previous one (sub-builds print several)."""
        self.verbose = {}

    def reset_profile(self) -> None:
        self.profile = {}

    def add_verbose(self, name: str, type_: str | None, precision: str | None) -> None:
        if len(self.verbose) < MAX_LAYERS:
            self.verbose[name] = _Info(type_, precision)

    def add_info(self, name: str, type_: str | None, precision: str | None) -> None:
        if len(self.info) < MAX_LAYERS:
            self.info[name] = _Info(type_, precision)

    def add_profile(self, name: str, timing: _Timing) -> None:
        if len(self.profile) < MAX_LAYERS:
            self.profile[name] = timing

    def has_data(self) -> bool:
        return bool(self.verbose or self.info or self.profile)

    def records(self) -> list[LayerRecord] | None:
        """Join the sources by name: engine order from layer info, times from the profile table."""
        if not self.has_data():
            return None
        order: list[str] = []
        seen: set[str] = set()
        for source in (self.info, self.verbose, self.profile):
            for name in source:
                if name not in seen:
                    seen.add(name)
                    order.append(name)
        out: list[LayerRecord] = []
        for name in order:
            info = self.info.get(name) or _Info()
            verbose = self.verbose.get(name) or _Info()
            timing = self.profile.get(name)
            out.append(make_layer(
                name,
                type=info.type or verbose.type,
                precision=info.precision or verbose.precision,
                time_ms=timing.time_ms if timing else None,
                time_pct=timing.time_pct if timing else None,
                median_ms=timing.median_ms if timing else None,
                fused_from=fused_from(name),
            ))
        return out
