"""The baseline a speedup is measured against, in one typed form, with one matching rule.

Two kinds, both stored in ``spec.lock.json`` as written by ``trtsweep run`` and accepted from the CLI:

- **external** figures: ``{"label": "PyTorch", "latency_ms": {"1": 40, "8": 160}}``, a time per batch by
  batch (``--baseline-ms 1=40,8=160``);
- a **variant** of the sweep: ``{"label": "fp32", "variant": {"precision": "fp32"}}``: each variant is
  compared with the measured variant of the same model and batch that matches the selector and, among
  those, agrees with it on the most other axes (``--baseline precision=fp32``);
- a **measured** baseline: ``{"label": "PyTorch", "measured": {"reference": "pytorch", "basis":
  "end_to_end"}, "latency_ms": {...}}``: PyTorch or ONNX Runtime timed by trtsweep's BASELINE steps
  (``trtsweep.baselines``). Speedups then use the measured figure of the same model and batch, on the stated
  basis: ``gpu_compute`` (TensorRT's GPU compute median vs the baseline's, CUDA events on both sides) or
  ``end_to_end`` (TensorRT's time per batch vs the baseline's synchronised host-clock median, copies included
  when asked). Fixed ``latency_ms`` figures given beside it are kept only to be checked against it
  (``diagnose``'s ``baseline_method``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from trtsweep.analysis.axes import show
from trtsweep.analysis.metrics import median, stat

GPU_COMPUTE = "gpu_compute"
END_TO_END = "end_to_end"


@dataclass(frozen=True)
class MeasuredFigure:
    """One measured baseline at one batch: medians over its passed repeats of trtexec-style medians."""

    id: str
    framework: str
    label: str
    model: str | None
    batch: int
    reference: bool
    gpu_ms: float | None  # GPU compute median (CUDA events), None without events
    end_to_end_ms: float | None  # synchronised host-clock median
    repeats: int
    cv_pct: float | None = None
    settings: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    def ms(self, basis: str) -> float | None:
        return self.gpu_ms if basis == GPU_COMPUTE else self.end_to_end_ms


def measured_figures(results: Sequence[Any]) -> list[MeasuredFigure]:
    """Figures of loaded BASELINE results (``baselines.folder.load_measured``); those without a passed
    repeat are left out."""
    out = []
    for r in results:
        if not r.records:
            continue
        cvs = [x.gpu_compute_cv_pct for x in r.records if x.gpu_compute_cv_pct is not None]
        out.append(MeasuredFigure(r.id, r.framework, r.label, r.model, r.batch, r.reference,
                                  median(stat(x.gpu_compute_ms) for x in r.records),
                                  median(stat(x.end_to_end_ms) for x in r.records), len(r.records),
                                  max(cvs) if cvs else None, dict(r.settings)))
    return out


@dataclass(frozen=True)
class Baseline:
    """A typed baseline: external ``latency_ms`` by batch, or a ``selector`` of sweep axis values."""

    label: str = "baseline"
    latency_ms: dict[int, float] = field(default_factory=dict)
    selector: dict[str, Any] = field(default_factory=dict)
    reference: str | None = None  # measured: "pytorch" or "onnxruntime" (then latency_ms = fixed figures)
    basis: str | None = None  # measured: GPU_COMPUTE or END_TO_END
    figures: tuple[MeasuredFigure, ...] = ()  # measured: every framework and batch that has a figure

    @property
    def external(self) -> bool:
        return bool(self.latency_ms) and self.reference is None

    @property
    def is_measured(self) -> bool:
        return self.reference is not None

    def figure(self, model: str | None, batch: int | None) -> MeasuredFigure | None:
        """The reference framework's figure for a model and batch (a figure without a model fits any)."""
        return next((f for f in self.figures if f.reference and f.batch == batch
                     and (f.model is None or model is None or f.model == model)), None)

    def to_dict(self) -> dict[str, Any]:
        """The lock/JSON form (batches as text keys, as JSON requires)."""
        if self.is_measured:
            out: dict[str, Any] = {"label": self.label, "measured": {"reference": self.reference,
                                                                      "basis": self.basis}}
            if self.latency_ms:
                out["latency_ms"] = {str(b): ms for b, ms in sorted(self.latency_ms.items())}
            return out
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
    if isinstance(data.get("measured"), Mapping):
        spec = data["measured"]
        table = data.get("latency_ms") or {}
        if not isinstance(table, Mapping):
            raise ValueError("baseline latency_ms must map batch -> ms")
        return Baseline(label, latency_ms={int(k): float(v) for k, v in table.items()},
                        reference=str(spec.get("reference") or "pytorch"),
                        basis=str(spec.get("basis") or END_TO_END))
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
    if base.is_measured:
        fig = base.figure(view.model, view.batch)
        ms = fig.ms(base.basis or END_TO_END) if fig is not None else None
        return (float(ms), fig.id) if fig is not None and ms else None
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


# --- measured baselines: the TensorRT side of a speedup, on the stated basis ----------------------

def with_figures(base: Baseline, figures: Sequence[MeasuredFigure]) -> Baseline:
    """A measured baseline with its loaded figures."""
    return Baseline(base.label, dict(base.latency_ms), dict(base.selector), base.reference, base.basis,
                    tuple(figures))


def trt_side(base: Baseline | None, view: Any) -> tuple[float | None, str | None]:
    """(TensorRT ms, basis label) a speedup against ``base`` compares: the variant's GPU compute median
    on the ``gpu_compute`` basis, else its time per batch (on its own latency/throughput basis; against a
    measured baseline labelled ``end_to_end``)."""
    if base is not None and base.is_measured and base.basis == GPU_COMPUTE:
        return view.gpu, GPU_COMPUTE
    basis = END_TO_END if base is not None and base.is_measured else view.time_basis
    return view.time_per_batch_ms, basis


def speedup_label(base: Baseline, baseline_id: str | None) -> str:
    """The name a speedup shows: the measured figure's own label (what was measured), else the label."""
    fig = next((f for f in base.figures if f.id == baseline_id), None)
    return fig.label if fig is not None else base.label


@dataclass(frozen=True)
class FixedVsMeasured:
    """A fixed figure of the sweep next to the measured one of the same batch (``baseline_method``)."""

    batch: int
    fixed_ms: float
    figure: MeasuredFigure
    basis: str
    measured_ms: float

    @property
    def ratio(self) -> float:
        """fixed / measured: 3.25 = the fixed figure is 3.25x the measured time."""
        return self.fixed_ms / self.measured_ms


def fixed_vs_measured(base: Baseline | None) -> list[FixedVsMeasured]:
    """Each fixed ``latency_ms`` figure with the reference's measured figure of its batch, on the basis
    the speedups use (and end to end when that basis has no figure)."""
    if base is None or not base.is_measured:
        return []
    out = []
    for batch, fixed in sorted(base.latency_ms.items()):
        fig = base.figure(None, batch)
        if fig is None:
            continue
        for basis in (base.basis or END_TO_END, END_TO_END):
            ms = fig.ms(basis)
            if ms:
                out.append(FixedVsMeasured(batch, fixed, fig, basis, ms))
                break
    return out
