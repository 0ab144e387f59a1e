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
