"""What the diagnosis rules work on: findings, and the checked view of a result set.

Every rule (``rules_variants``, ``rules_runtime``, ``rules_layers``) is a pure function of a
:class:`Context`, which wraps the :class:`~trtsweep.analysis.model.ResultModel`: that model is the only
place that decides what is usable and computes each figure, so a rule only compares and explains. No rule
reads a raw :class:`~trtsweep.store.VariantResult`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from trtsweep.analysis.axes import is_reduced
from trtsweep.analysis.axes import show as _show
from trtsweep.analysis.baseline import Baseline
from trtsweep.analysis.model import FailedVariant, ResultModel, VariantView, build_model, layer_problem
from trtsweep.store import ResultSet

__all__ = ["Context", "Evidence", "FailedVariant", "Finding", "View", "check_inputs", "is_reduced",
           "layer_problem"]

SEVERITIES = ("high", "medium", "low", "info")


@dataclass
class Evidence:
    """One measured fact behind a finding: words, the variant it comes from, and the raw numbers."""

    text: str
    variant_id: str | None = None
    values: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"text": self.text, "variant_id": self.variant_id, "values": _clean(self.values)}


@dataclass
class Finding:
    """One diagnosis. ``status`` is ``found`` (the evidence shows it) or ``needs_data`` (the sweep lacks
    the variants to decide; ``yaml_snippet`` then says what to add)."""

    code: str
    severity: str
    confidence: float
    title: str
    explanation: str
    next_step: str
    yaml_snippet: str | None = None
    evidence: list[Evidence] = field(default_factory=list)
    explained_ms: float | None = None
    measured_gain: float | None = None
    status: str = "found"
    compared: str | None = None  # the axis the rule compares variants along (left out of evidence labels)
    # Where ``explained_ms`` was measured (set by ``score``): batch, variant, its time per batch, share.
    explained_at: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        """The ``--format json`` form of one finding (see ``findings.schema.json``)."""
        return {
            "code": self.code,
            "status": self.status,
            "severity": self.severity,
            "confidence": round(float(self.confidence), 3),
            "title": self.title,
            "explanation": self.explanation,
            "next_step": self.next_step,
            "yaml_snippet": self.yaml_snippet,
            "explained_ms": _round(self.explained_ms),
            "explained_at": _clean(self.explained_at) if self.explained_at else None,
            "measured_gain": _round(self.measured_gain),
            "evidence": [e.to_dict() for e in self.evidence],
        }


View = VariantView  # what the rules call a checked variant


@dataclass
class Context:
    """The checked inputs every rule reads: the analysis model of the result set, and model facts."""

    model: ResultModel
    onnx_nodes: dict[str, int] = field(default_factory=dict)  # model path -> ONNX node count

    @property
    def views(self) -> list[VariantView]:
        return self.model.views

    @property
    def excluded(self) -> list[tuple[str, str]]:
        return self.model.excluded

    @property
    def layers_dropped(self) -> list[tuple[str, str]]:
        return self.model.layers_dropped

    @property
    def failed(self) -> list[FailedVariant]:
        return self.model.failed

    @property
    def baseline(self) -> Baseline | None:
        return self.model.baseline

    @property
    def expect_speedup(self) -> float | None:
        return self.model.expect_speedup

    def baseline_ms(self, view: VariantView) -> tuple[float, str | None] | None:
        """(baseline ms per batch, baseline variant id or None) for a view, when the baseline covers it."""
        return self.model.baseline_ms(view)


def check_inputs(rs: ResultSet, baseline: Baseline | dict[str, Any] | None = None,
                 expect_speedup: float | None = None,
                 onnx_nodes: dict[str, int] | None = None) -> Context:
    """The :class:`Context` of a result set: ``analysis.model.build_model`` decides what is usable."""
    return Context(build_model(rs, baseline, expect_speedup), dict(onnx_nodes or {}))


# ---------------------------------------------------------------- comparing variants

def comparable_key(view: View, *varied: str) -> str:
    """A key equal for two views that differ only in the ``varied`` axes (and run the same model)."""
    rest = {k: _show(v) for k, v in sorted(view.axes.items()) if k not in varied}
    return json.dumps([view.model, rest], sort_keys=True)


def pairs(views: list[View], axis: str) -> list[tuple[View, View]]:
    """Every (a, b) of views that differ only in ``axis``, each unordered pair once, a before b."""
    groups: dict[str, list[View]] = {}
    for v in views:
        if v.axes.get(axis) is not None:
            groups.setdefault(comparable_key(v, axis), []).append(v)
    out = []
    for group in groups.values():
        for i, a in enumerate(group):
            for b in group[i + 1:]:
                if _show(a.axes.get(axis)) != _show(b.axes.get(axis)):
                    out.append((a, b))
    return out


# ---------------------------------------------------------------- small helpers for the rules

def severity_for_share(share: float) -> str:
    """Severity of a cost by the share of the time it takes: >= 20 % high, >= 5 % medium, else low."""
    if share >= 0.20:
        return "high"
    if share >= 0.05:
        return "medium"
    return "low"


def yaml_axis(axis: str, values: list[Any]) -> str:
    """A ``matrix:`` block of one axis, ready to paste into the sweep YAML."""
    return f"matrix:\n  {axis}: [{', '.join(_yaml_value(v) for v in values)}]"


def measured_values(views: list[View], axis: str) -> set[str]:
    """The values of ``axis`` the sweep measured, as text."""
    return {_show(v.axes.get(axis)) for v in views if v.axes.get(axis) is not None}


def untried(views: list[View], axis: str, candidates: list[Any]) -> list[Any]:
    """The candidate values of ``axis`` the sweep has not measured yet."""
    seen = measured_values(views, axis)
    return [c for c in candidates if _show(c) not in seen]


def propose(views: list[View], axis: str, candidates: list[Any], keep: list[Any] | None = None) -> str | None:
    """A ``matrix:`` snippet adding the ``candidates`` not measured yet (with ``keep`` values for
    reference), or None when the sweep measured them all: a next step never proposes what was measured."""
    new = untried(views, axis, candidates)
    if not new:
        return None
    return yaml_axis(axis, [*(keep or []), *new])


def levels(items: list[tuple[Any, float]], threshold: float, unit: str = "x") -> str:
    """Where an effect holds, by level of an axis: ``1.90x at batch 1–4, none at batch 8``.

    ``items`` are (level, gain) pairs, several per level allowed (the best is used); gains below
    ``threshold`` count as none."""
    best: dict[Any, float] = {}
    for level, gain in items:
        best[level] = max(best.get(level, gain), gain)
    order = sorted(best, key=lambda x: (x is None, x if isinstance(x, int | float) else str(x)))
    yes = [lv for lv in order if best[lv] >= threshold]
    no = [lv for lv in order if best[lv] < threshold]
    parts = []
    if yes:
        lo, hi = min(best[lv] for lv in yes), max(best[lv] for lv in yes)
        size = f"{hi:.2f}{unit}" if hi / lo < 1.05 else f"{lo:.2f}-{hi:.2f}{unit}"
        parts.append(f"{size} at batch {_span(yes, order)}")
    if no:
        parts.append(("none" if yes else "no gain") + f" at batch {_span(no, order)}")
    return ", ".join(parts)


def _span(values: list[Any], order: list[Any]) -> str:
    """The levels as runs of neighbours in ``order``: ``1–4`` (three or more in a row), else listed."""
    runs: list[list[Any]] = []
    for v in values:
        if runs and order.index(v) == order.index(runs[-1][-1]) + 1:
            runs[-1].append(v)
        else:
            runs.append([v])
    return ", ".join(f"{_show(r[0])}–{_show(r[-1])}" if len(r) > 2 else ", ".join(_show(x) for x in r)
                     for r in runs)


def _yaml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(json.dumps(x) for x in value) + "]"
    return str(value)


def _round(value: float | None, digits: int = 6) -> float | None:
    return None if value is None else float(f"{value:.{digits}g}")


def _clean(values: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in values.items():
        out[k] = _round(v) if isinstance(v, float) else v
    return out
