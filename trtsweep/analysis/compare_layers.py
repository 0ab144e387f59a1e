"""Layer-level diff of two engines of one matched variant: what changed inside the time change.

Layers are matched by name where names agree; otherwise through the ONNX nodes they were fused from
(``LayerRecord.fused_from``, from the layer-info metadata or the ``a + b`` name; Myelin names such as
``node_conv2d_myl0_1`` carry their node). Layers that overlap in nodes form one row ("A: x + y -> B: xy"),
so a fusion change is one line. Left over: layers that appeared or disappeared (fusion changed), precision
changes, reformat layers added or removed, and whether the engine graph changed at all. The top
contributors to the total change come with their share of it. Pure.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from trtsweep.analysis.compare import MultiComparison, keyed, match_key
from trtsweep.analysis.layers import variant_layers
from trtsweep.analysis.model import ResultModel
from trtsweep.records import LayerRecord

TOP = 10
_MYELIN_SUFFIX = re.compile(r"_myl\d+_\d+$")


@dataclass
class LayerRow:
    """One layer (or group of layers fused differently) on both sides."""

    names_a: list[str]
    names_b: list[str]
    ms_a: float | None
    ms_b: float | None
    precision_a: str | None
    precision_b: str | None
    matched_by: str  # "name", "onnx nodes", "only A" (disappeared), "only B" (appeared)
    share: float | None = None  # of the total change, signed (0.4 = 40 % of it)

    @property
    def delta_ms(self) -> float | None:
        if self.ms_a is None and self.ms_b is None:
            return None
        return (self.ms_b or 0.0) - (self.ms_a or 0.0)


@dataclass
class LayerDiff:
    """The layer diff of one matched variant between the reference run and another run."""

    run: int  # index of the run compared with the reference
    key: str
    variant_a: str
    variant_b: str
    timed: bool  # both sides have layer times (else only the graph is compared)
    total_a: float | None
    total_b: float | None
    rows: list[LayerRow]
    graph_changed: bool
    precision_changes: list[tuple[str, str | None, str | None]]
    reformats: tuple[int, int]  # reformat layers on A and on B
    reformat_ms: tuple[float | None, float | None]
    notes: list[str] = field(default_factory=list)

    @property
    def top(self) -> list[LayerRow]:
        rows = [r for r in self.rows if r.delta_ms is not None]
        return sorted(rows, key=lambda r: -abs(r.delta_ms or 0.0))[:TOP]

    @property
    def appeared(self) -> list[LayerRow]:
        return [r for r in self.rows if r.matched_by == "only B"]

    @property
    def disappeared(self) -> list[LayerRow]:
        return [r for r in self.rows if r.matched_by == "only A"]


def layer_nodes(layer: LayerRecord) -> set[str]:
    """The ONNX nodes a layer stands for: its ``fused_from``, else its name without a Myelin suffix."""
    if layer.fused_from:
        return set(layer.fused_from)
    parts = [p.strip() for p in layer.name.split(" + ")]
    nodes = {_MYELIN_SUFFIX.sub("", p) for p in parts if p and not p.startswith("__my")}
    return {n for n in nodes if not n.startswith(("PWN(", "(Unnamed", "Reformatting"))}


def _sum(layers: list[LayerRecord]) -> float | None:
    times = [x.time_ms for x in layers if x.time_ms is not None]
    return sum(times) if times else None


def _prec(layers: list[LayerRecord]) -> str | None:
    seen = sorted({x.precision for x in layers if x.precision})
    return "+".join(seen) if seen else None


def diff_layers(a: list[LayerRecord], b: list[LayerRecord]) -> tuple[list[LayerRow], bool]:
    """Rows matching the compute layers of two engines (reformats are counted apart), and whether the
    graph differs (a layer of one side has no counterpart of the same name)."""
    la = [x for x in a if not x.is_reformat]
    lb = [x for x in b if not x.is_reformat]
    names_b = {x.name: x for x in lb}
    rows: list[LayerRow] = []
    rest_a = []
    used_b: set[str] = set()
    for x in la:
        y = names_b.get(x.name)
        if y is not None and y.name not in used_b:
            used_b.add(y.name)
            rows.append(LayerRow([x.name], [y.name], x.time_ms, y.time_ms, x.precision, y.precision, "name"))
        else:
            rest_a.append(x)
    rest_b = [y for y in lb if y.name not in used_b]
    graph_changed = bool(rest_a or rest_b)
    # Connected groups of the node-overlap graph among what names did not match.
    nodes_a = [layer_nodes(x) for x in rest_a]
    nodes_b = [layer_nodes(y) for y in rest_b]
    seen_a: set[int] = set()
    seen_b: set[int] = set()
    for i in range(len(rest_a)):
        if i in seen_a or not nodes_a[i]:
            continue
        group_a, group_b, frontier = {i}, set(), set(nodes_a[i])
        changed = True
        while changed:
            changed = False
            for j, nb in enumerate(nodes_b):
                if j not in group_b and nb & frontier:
                    group_b.add(j)
                    frontier |= nb
                    changed = True
            for k, na in enumerate(nodes_a):
                if k not in group_a and na & frontier:
                    group_a.add(k)
                    frontier |= na
                    changed = True
        if not group_b:
            continue
        seen_a |= group_a
        seen_b |= group_b
        xs = [rest_a[k] for k in sorted(group_a)]
        ys = [rest_b[j] for j in sorted(group_b)]
        rows.append(
            LayerRow(
                [x.name for x in xs],
                [y.name for y in ys],
                _sum(xs),
                _sum(ys),
                _prec(xs),
                _prec(ys),
                "onnx nodes",
            )
        )
    for k, x in enumerate(rest_a):
        if k not in seen_a:
            rows.append(LayerRow([x.name], [], x.time_ms, None, x.precision, None, "only A"))
    for j, y in enumerate(rest_b):
        if j not in seen_b:
            rows.append(LayerRow([], [y.name], None, y.time_ms, None, y.precision, "only B"))
    return rows, graph_changed


def variant_diff(
    run: int, key: str, vid_a: str, vid_b: str, a: list[LayerRecord], b: list[LayerRecord]
) -> LayerDiff:
    """The whole diff of one variant's two layer lists."""
    rows, graph_changed = diff_layers(a, b)
    timed = any(x.time_ms is not None for x in a) and any(y.time_ms is not None for y in b)
    total_a, total_b = _sum(a), _sum(b)
    ref_a = [x for x in a if x.is_reformat]
    ref_b = [y for y in b if y.is_reformat]
    notes = []
    if timed and total_a is not None and total_b is not None:
        total = total_b - total_a
        if abs(total) > 0:
            for r in rows:
                r.share = (r.delta_ms or 0.0) / total
        ra, rb = _sum(ref_a) or 0.0, _sum(ref_b) or 0.0
        if total and (rb - ra):
            notes.append(
                f"reformat layers: {ra:.4g} -> {rb:.4g} ms ({(rb - ra) / total * 100:+.0f} % of the change)"
            )
    elif not timed:
        notes.append("no layer times on both sides: the engine graphs are compared, not their times")
    prec: list[tuple[str, str | None, str | None]] = [
        (" + ".join(r.names_b or r.names_a), r.precision_a, r.precision_b)
        for r in rows
        if r.names_a and r.names_b and r.precision_a and r.precision_b and r.precision_a != r.precision_b
    ]
    if len(ref_a) != len(ref_b):
        graph_changed = True
    return LayerDiff(
        run,
        key,
        vid_a,
        vid_b,
        timed,
        total_a,
        total_b,
        rows,
        graph_changed,
        prec,
        (len(ref_a), len(ref_b)),
        (_sum(ref_a), _sum(ref_b)),
        notes,
    )


def run_layers(model: ResultModel) -> dict[str, tuple[dict[str, Any], str | None, list[LayerRecord]]]:
    """Every variant of a run with layers, measured or not (a profiling-only log has layers and no
    summary): {variant id: (axes, model name, layers)}."""
    out = {}
    for v in model.result_set.variants:
        run = next((r.layers for r in v.records if r.layers), None)
        layers = variant_layers(run, v.build.layers if v.build is not None else None)
        if layers:
            axes = model.all_axes[v.variant_id].values if v.variant_id in model.all_axes else v.axes
            out[v.variant_id] = (axes, v.model, layers)
    return out


def layer_diffs(multi: MultiComparison) -> list[LayerDiff]:
    """A diff for every variant with layers on both sides, matched as the comparison matched variants
    (reference vs run i)."""
    out: list[LayerDiff] = []
    if not multi.models:
        return out
    ref = run_layers(multi.models[0])
    for i, (pair, model) in enumerate(zip(multi.pairs, multi.models[1:], strict=True), start=1):
        other = run_layers(model)
        ka = keyed(
            [(vid, match_key(m, a, pair.matched_on, pair.use_model)) for vid, (a, m, _) in ref.items()]
        )
        kb = keyed(
            [(vid, match_key(m, a, pair.matched_on, pair.use_model)) for vid, (a, m, _) in other.items()]
        )
        for key, vid_a in ka.items():
            vid_b = kb.get(key)
            if vid_b is not None:
                out.append(variant_diff(i, key, vid_a, vid_b, ref[vid_a][2], other[vid_b][2]))
    return out
