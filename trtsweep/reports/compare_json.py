"""``trtsweep compare --format json``: the stable form of a comparison (``compare.schema.json``).

Renderer only: every number is the analysis's. ``schema_version`` is bumped on any incompatible change.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from trtsweep.analysis.compare import METRICS, VERDICTS, Change, Comparison, MultiComparison, Side
from trtsweep.analysis.compare_env import cautions, factors_text
from trtsweep.analysis.compare_layers import LayerDiff, LayerRow
from trtsweep.analysis.model import ResultModel

SCHEMA_VERSION = 1
SCHEMA_FILE = Path(__file__).with_name("compare.schema.json")


def _num(x: float | None) -> float | None:
    return None if x is None or not math.isfinite(x) else float(x)


def _side(s: Side) -> dict[str, Any]:
    return {
        "variant_id": s.variant_id,
        "n": s.n,
        "values": [_num(v) for v in s.values],
        "median": _num(s.median),
        "spread": _num(s.spread),
        "cv_pct": _num(s.cv_pct),
        "cv_limit_pct": s.cv_limit_pct,
        "unstable": s.cv_unstable,
    }


def _change(c: Change) -> dict[str, Any]:
    return {
        "variant": c.key,
        "axes": {k: v for k, v in c.axes.items() if isinstance(v, str | int | float | bool) or v is None},
        "metric": c.metric,
        "a": _side(c.a),
        "b": _side(c.b),
        "ratio": _num(c.ratio),
        "change_pct": _num(c.change * 100),
        "interval": {"low": _num(c.low), "high": _num(c.high), "confidence": _num(c.confidence)},
        "p_value": _num(c.p_value),
        "threshold": _num(c.threshold),
        "verdict": c.verdict,
        "why": c.why,
        "single_run": c.single_run,
    }


def _pair(p: Comparison, b_index: int) -> dict[str, Any]:
    return {
        "a": 0,
        "b": b_index,
        "environment": [
            {"name": f.name, "label": f.label, "a": f.a, "b": f.b, "status": f.status} for f in p.env
        ],
        "kind": factors_text(p.env),
        "cautions": cautions(p.env),
        "metrics": [
            {
                "name": m,
                "label": METRICS[m].label,
                "unit": METRICS[m].unit,
                "higher_is_better": METRICS[m].higher_is_better,
                "threshold": _num(p.thresholds[m]),
                "threshold_basis": p.threshold_basis[m],
            }
            for m in p.metrics
        ],
        "matched_on": list(p.matched_on),
        "changes": [_change(c) for c in p.changes],
        "only_a": [{"variant_id": v, "variant": k} for v, k in p.only_a],
        "only_b": [{"variant_id": v, "variant": k} for v, k in p.only_b],
        "counts": {v: p.count(v) for v in VERDICTS},
        "notes": list(p.notes),
    }


def _row(r: LayerRow) -> dict[str, Any]:
    return {
        "names_a": r.names_a,
        "names_b": r.names_b,
        "ms_a": _num(r.ms_a),
        "ms_b": _num(r.ms_b),
        "delta_ms": _num(r.delta_ms),
        "share": _num(r.share),
        "precision_a": r.precision_a,
        "precision_b": r.precision_b,
        "matched_by": r.matched_by,
    }


def _diff(d: LayerDiff) -> dict[str, Any]:
    return {
        "run": d.run,
        "variant": d.key,
        "variant_a": d.variant_a,
        "variant_b": d.variant_b,
        "timed": d.timed,
        "total_ms_a": _num(d.total_a),
        "total_ms_b": _num(d.total_b),
        "graph_changed": d.graph_changed,
        "precision_changes": [{"layer": n, "a": a, "b": b} for n, a, b in d.precision_changes],
        "reformat_layers": {
            "a": d.reformats[0],
            "b": d.reformats[1],
            "ms_a": _num(d.reformat_ms[0]),
            "ms_b": _num(d.reformat_ms[1]),
        },
        "top": [_row(r) for r in d.top],
        "rows": [_row(r) for r in d.rows],
        "notes": list(d.notes),
    }


def _models(multi: MultiComparison) -> list[ResultModel | None]:
    """Each side's model, or None for every side when the comparison was built without them."""
    return list(multi.models) if multi.models else [None] * len(multi.labels)


def to_json(multi: MultiComparison, diffs: list[LayerDiff] | None = None) -> dict[str, Any]:
    """The JSON document of a comparison (dicts and lists of plain values)."""
    return {
        "schema_version": SCHEMA_VERSION,
        "runs": [
            {"label": label, "path": str(m.root) if m is not None else None}
            for label, m in zip(multi.labels, _models(multi), strict=True)
        ],
        "reference": 0,
        "pairs": [_pair(p, i) for i, p in enumerate(multi.pairs, start=1)],
        "regression": multi.has_regression,
        "inconclusive": multi.has_inconclusive,
        "layers": None if diffs is None else [_diff(d) for d in diffs],
    }
