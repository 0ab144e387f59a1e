"""The baseline a speedup is measured against, in one typed form, with one matching rule.

Two kinds, both stored in ``spec.lock.json`` as written by ``trtsweep run`` and accepted from the CLI:

- **external** figures: ``{"label": "PyTorch", "latency_ms": {"1": 40, "8": 160}}``, a time per batch by
  batch (``--baseline-ms 1=40,8=160``);
- a **variant** of the sweep: ``{"label": "fp32", "variant": {"precision": "fp32"}}``: each variant is
  compared with the measured variant of the same model and batch that matches the selector and, among
  those, agrees with it on the most other axes (``--baseline precision=fp32``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from trtsweep.analysis.axes import show


@dataclass(frozen=True)
class Baseline:
    """A typed baseline: external ``latency_ms`` by batch, or a ``selector`` of sweep axis values."""

    label: str = "baseline"
    latency_ms: dict[int, float] = field(default_factory=dict)
    selector: dict[str, Any] = field(default_factory=dict)

    @property
    def external(self) -> bool:
        return bool(self.latency_ms)

    def to_dict(self) -> dict[str, Any]:
        """The lock/JSON form (batches as text keys, as JSON requires)."""
        if self.external:
            table = {str(b): ms for b, ms in sorted(self.latency_ms.items())}
            return {"label": self.label, "latency_ms": table}
        return {"label": self.label, "variant": dict(self.selector)}


def from_dict(data: Mapping[str, Any] | None) -> Baseline | None:
    """A baseline from its lock/JSON form (or None); raises ValueError for one of the wrong shape."""
    if not data:
        return None
    if not isinstance(data, Mapping):
        raise ValueError(f"baseline must be an object, not {type(data).__name__}")
    label = str(data.get("label") or "baseline")
    if data.get("latency_ms"):
        table = data["latency_ms"]
        if not isinstance(table, Mapping):
            raise ValueError("baseline latency_ms must map batch -> ms")
        return Baseline(label, latency_ms={int(k): float(v) for k, v in table.items()})
    if data.get("variant"):
        selector = data["variant"]
        if not isinstance(selector, Mapping):
            raise ValueError("baseline variant must map axis -> value")
        return Baseline(label, selector=dict(selector))
    return None


class Timed(Protocol):
    """What matching needs of a measured variant (``analysis.model.VariantView`` has it)."""

    variant_id: str
    model: str | None
    axes: dict[str, Any]
    time_per_batch_ms: float | None

    @property
    def batch(self) -> int | None: ...


def _accepted(value: Any) -> set[str]:
    # A selector value is one value or a list of accepted ones; compared as case-folded text, since values
    # typed on the command line ('true', 'FP16') meet axis values of any type (True, 'fp16').
    items = value if isinstance(value, list | tuple) else [value]
    return {show(x).lower() for x in items}


def matches(axes: Mapping[str, Any], selector: Mapping[str, Any]) -> bool:
    """True when every selector axis has one of its accepted values."""
    return all(show(axes.get(k)).lower() in _accepted(v) for k, v in selector.items())


def baseline_for(base: Baseline | None, view: Timed,
                 candidates: Sequence[Timed]) -> tuple[float, str | None] | None:
    """(baseline ms per batch, baseline variant id or None for external figures) for one variant."""
    if base is None or view.time_per_batch_ms is None:
        return None
    if base.external:
        ref = base.latency_ms.get(view.batch) if view.batch is not None else None
        return (float(ref), None) if ref else None
    pool = [c for c in candidates if c.model == view.model and c.batch == view.batch and c.time_per_batch_ms
            and matches(c.axes, base.selector)]
    if not pool:
        return None

    def closeness(c: Timed) -> int:
        return sum(show(c.axes.get(k)) == show(v) for k, v in view.axes.items() if k not in base.selector)

    best = max(pool, key=closeness)  # max keeps the first of equals: the lock's order decides ties
    return float(best.time_per_batch_ms or 0), best.variant_id


# --- the command line's words for a baseline (report and diagnose take the same options) ---------

def parse_baseline_ms(text: str, label: str = "baseline") -> Baseline:
    """``"1=40,8=160"`` -> external figures; raises ValueError (exit 2 in the CLI) naming the bad part."""
    table: dict[int, float] = {}
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        batch, sep, ms = part.partition("=")
        try:
            if not sep:
                raise ValueError
            b, t = int(batch), float(ms)
        except ValueError:
            raise ValueError(f"--baseline-ms: '{part}' is not BATCH=MS (e.g. 1=40,8=160)") from None
        if b < 1 or not t > 0 or t == float("inf"):
            raise ValueError(f"--baseline-ms: '{part}': batch must be >= 1 and ms a positive number")
        table[b] = t
    if not table:
        raise ValueError("--baseline-ms: no BATCH=MS pairs given (e.g. 1=40,8=160)")
    return Baseline(label, latency_ms=table)


def parse_baseline_selector(text: str) -> Baseline:
    """``"precision=fp32,shapes=static"`` -> a variant selector labelled with the text itself."""
    selector: dict[str, Any] = {}
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        key, sep, value = part.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise ValueError(f"--baseline: '{part}' is not AXIS=VALUE (e.g. precision=fp32)")
        selector[key.strip()] = value.strip()
    if not selector:
        raise ValueError("--baseline: no AXIS=VALUE given (e.g. precision=fp32)")
    return Baseline(text.strip(), selector=selector)


def baseline_from_cli(baseline: str | None = None, baseline_ms: str | None = None,
                      label: str | None = None) -> Baseline | None:
    """The baseline the CLI options describe, or None to use the sweep's own. Both at once is an error."""
    if baseline and baseline_ms:
        raise ValueError("give either --baseline or --baseline-ms, not both")
    if baseline_ms:
        return parse_baseline_ms(baseline_ms, label or "baseline")
    if baseline:
        out = parse_baseline_selector(baseline)
        return Baseline(label, selector=out.selector) if label else out
    return None
