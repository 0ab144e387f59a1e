"""Comparing run folders: matched variants, one number per repeat, a noise-aware verdict per change.

The unit of replication is the **repeat** (one trtexec process). Each repeat is reduced to trtexec's
median of the metric (its p99 for ``p99``; samples/s for ``throughput``), and the change B/A is the
Hodges-Lehmann ratio of those per-repeat numbers with Moses' distribution-free interval
(:func:`trtsweep.analysis.stats.shift`). Per-inference samples of one process are never pooled as
replicates: they share the process's clocks and memory placement, which makes identical builds look
different (issue #14).

Verdicts, for a threshold ``t`` (default: max(3 %, 2 x the pooled between-repeat spread)):

- ``slower`` / ``faster``: the whole interval lies beyond +t / -t in the bad / good direction;
- ``same``: the whole interval lies inside +-t;
- ``inconclusive``: the interval straddles +-t, or a side has fewer than 3 repeats, or a side is
  unstable (trtexec's GPU-compute CoV above its version's warning threshold, or the between-repeat spread
  above t). Each inconclusive verdict says what to do; it is never counted as a regression. One repeat a
  side gives the ratio only ("single run: no significance claim").

Variants are matched by model and axis values, never by ids (which may embed a host or a date); the
environment (GPU, driver, CUDA, TensorRT, clocks, power limit) is compared first (:mod:`.compare_env`).
Pure: loaded result sets in, dataclasses out.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from trtsweep.analysis import axes as ax
from trtsweep.analysis import metrics as mx
from trtsweep.analysis import telemetry as tel
from trtsweep.analysis.compare_env import EnvFactor, compare_env
from trtsweep.analysis.model import ResultModel, VariantView, build_model
from trtsweep.analysis.stats import Shift, log_spread, pooled_log_spread, shift
from trtsweep.records import RunRecord
from trtsweep.store import ResultSet
from trtsweep.versions import parse_version

MIN_THRESHOLD = 0.03
SPREAD_FACTOR = 2.0
MIN_REPEATS = 3
CONFIDENCE = 0.95
VERDICTS = ("slower", "faster", "same", "inconclusive")


class CompareError(ValueError):
    """Input that cannot be compared (no variant in common, a metric no run has): one line, exit 2."""


@dataclass(frozen=True)
class Metric:
    """A figure compared per repeat; ``higher_is_better`` for rates."""

    name: str
    label: str
    unit: str
    higher_is_better: bool
    read: Callable[[RunRecord, VariantView], float | None]


def _throughput(rec: RunRecord, view: VariantView) -> float | None:
    figures = mx.repeat_figures(rec, view.batch, view.streams, ax.implicit_batch(rec))
    return figures.samples_per_s


METRICS: dict[str, Metric] = {
    "gpu_compute": Metric(
        "gpu_compute", "GPU compute median", "ms", False, lambda r, v: mx.stat(r.gpu_compute_ms)
    ),
    "latency": Metric("latency", "latency median", "ms", False, lambda r, v: mx.stat(r.latency_ms)),
    "p99": Metric("p99", "latency p99", "ms", False, lambda r, v: mx.stat(r.latency_ms, "p99")),
    "throughput": Metric("throughput", "throughput", "samples/s", True, _throughput),
}


def cov_threshold_pct(trt_version: str | None) -> float:
    """trtexec's own 'GPU compute time is unstable' threshold: 1 % up to 10.13.0, 2.5 % from 10.13.2."""
    try:
        version = parse_version(trt_version) if trt_version else ()
    except ValueError:
        version = ()
    return 2.5 if version >= (10, 13, 2) else 1.0


@dataclass
class Side:
    """One variant of one run for one metric: its per-repeat numbers and how stable they are."""

    variant_id: str
    values: list[float]
    cv_pct: float | None  # the largest GPU-compute CoV trtexec reported for a repeat
    cv_limit_pct: float
    unstable_warning: bool  # trtexec printed "GPU compute time is unstable"
    telemetry: dict[str, Any] | None = None  # the repeats' GPU telemetry combined (None: none recorded)

    @property
    def n(self) -> int:
        return len(self.values)

    @property
    def median(self) -> float | None:
        return mx.median(self.values)

    @property
    def spread(self) -> float | None:
        return log_spread(self.values) if len(self.values) >= 2 else None

    @property
    def cv_unstable(self) -> bool:
        return self.unstable_warning or (self.cv_pct is not None and self.cv_pct > self.cv_limit_pct)


@dataclass
class Change:
    """The change of one matched variant from run A to run B for one metric."""

    key: str  # the matched axis values, as text
    axes: dict[str, Any]
    metric: str
    a: Side
    b: Side
    ratio: float  # Hodges-Lehmann B/A
    low: float
    high: float
    confidence: float  # what the interval really achieves (3 vs 3 repeats: 90 %)
    p_value: float
    verdict: str  # one of VERDICTS
    why: str  # in words; for inconclusive: what to do
    threshold: float
    single_run: bool = False

    @property
    def change(self) -> float:
        return self.ratio - 1.0


@dataclass
class Comparison:
    """Run B against run A: environment first, then one Change per matched variant and metric."""

    label_a: str
    label_b: str
    env: list[EnvFactor]
    metrics: list[str]
    thresholds: dict[str, float]  # per metric
    threshold_basis: dict[str, str]  # how each threshold was chosen, in words
    matched_on: list[str]  # axis names the match used
    use_model: bool  # whether the model name was part of the match (runs holding several models)
    changes: list[Change]
    only_a: list[tuple[str, str]]  # (variant id, its axes as text)
    only_b: list[tuple[str, str]]
    notes: list[str] = field(default_factory=list)

    def count(self, verdict: str) -> int:
        return sum(c.verdict == verdict for c in self.changes)

    @property
    def regressions(self) -> list[Change]:
        return [c for c in self.changes if c.verdict == "slower"]

    @property
    def inconclusive(self) -> list[Change]:
        return [c for c in self.changes if c.verdict == "inconclusive"]


@dataclass
class MultiComparison:
    """Several runs, each against the first (the reference): the matrix of the hardware comparison."""

    labels: list[str]
    pairs: list[Comparison]
    models: list[ResultModel] = field(default_factory=list, repr=False)  # the runs, reference first

    @property
    def has_regression(self) -> bool:
        return any(p.regressions for p in self.pairs)

    @property
    def has_inconclusive(self) -> bool:
        return any(p.inconclusive for p in self.pairs)


# ---------------------------------------------------------------- matching


def _match_names(a: ResultModel, b: ResultModel, only: Sequence[str] | None) -> list[str]:
    """Axis names to match on: those given, else every axis some variant of each run has a value for."""

    def names(m: ResultModel) -> set[str]:
        return {n for v in m.views for n, x in v.axes.items() if x is not None}

    if only:
        return list(only)
    return ax.axis_order(names(a) & names(b))


def match_key(model_name: str | None, axes: dict[str, Any], names: Sequence[str], use_model: bool) -> str:
    """The text a variant is matched by: its model (when runs hold several) and the named axis values."""
    parts = [f"model={model_name}"] if use_model and model_name else []
    parts += [f"{n}={ax.show(axes.get(n))}" for n in names if axes.get(n) is not None]
    return ", ".join(parts) or "(no axes)"


def keyed(items: Sequence[tuple[str, str]]) -> dict[str, str]:
    """(variant id, match key) pairs to {key: variant id}; ids whose key collides are told apart by the id
    (imported logs: the same file stem on both sides)."""
    groups: dict[str, list[str]] = {}
    for vid, key in items:
        groups.setdefault(key, []).append(vid)
    out: dict[str, str] = {}
    for key, vids in groups.items():
        for vid in vids:
            out[key if len(vids) == 1 else f"{key} [{vid}]"] = vid
    return out


def _keyed(model: ResultModel, names: Sequence[str], use_model: bool) -> dict[str, VariantView]:
    """Views by match key."""
    by_id = {v.variant_id: v for v in model.views}
    items = [(v.variant_id, match_key(v.model, v.axes, names, use_model)) for v in model.views]
    return {key: by_id[vid] for key, vid in keyed(items).items()}


def _side(view: VariantView, metric: Metric) -> Side:
    values = [x for x in (metric.read(r, view) for r in view.repeats) if x is not None and x > 0]
    cvs = [r.gpu_compute_cv_pct for r in view.repeats if r.gpu_compute_cv_pct is not None]
    warned = any(w.code == "unstable_gpu_compute" for r in view.repeats for w in r.warnings)
    return Side(
        view.variant_id, values, max(cvs) if cvs else None, cov_threshold_pct(view.record.trt_version),
        warned, tel.combine(r.telemetry for r in view.repeats),
    )


# ---------------------------------------------------------------- verdicts


def _pct(x: float) -> str:
    return f"{x * 100:+.1f} %"


def verdict_for(
    a: Side, b: Side, metric: Metric, threshold: float, confidence: float = CONFIDENCE
) -> tuple[float, float, float, float, float, str, str, bool]:
    """(ratio, low, high, confidence, p, verdict, why, single_run) for two sides with values."""
    s = shift(a.values, b.values, confidence)
    single = a.n == 1 and b.n == 1
    verdict, why = _judge(a, b, s, metric, threshold, single)
    return s.ratio, s.low, s.high, s.confidence, s.p_value, verdict, why, single


def _judge(a: Side, b: Side, s: Shift, metric: Metric, t: float, single: bool) -> tuple[str, str]:
    """The verdict and its reason: inconclusive first for every reason a claim would not hold."""
    if single:
        return "inconclusive", "single run: no significance claim (measure with run.repeats: 5 for a verdict)"
    problems = []
    for name, side in (("A", a), ("B", b)):
        if side.cv_unstable:
            cv = f"{side.cv_pct:.2g} %" if side.cv_pct is not None else "flagged by trtexec"
            problems.append(f"{name} unstable (GPU compute CoV {cv} > {side.cv_limit_pct:g} %)")
        elif side.spread is not None and side.spread > t:
            problems.append(f"{name} repeats spread {side.spread * 100:.1f} % > threshold {t * 100:.1f} %")
    if problems:
        advice = ": lock clocks (nvidia-smi -lgc), --useSpinWait, more repeats"
        return "inconclusive", "; ".join(problems) + advice
    clocks = tel.clock_gate(a.telemetry, b.telemetry)
    if clocks:
        return "inconclusive", f"{clocks}: lock the SM clock on both (trtsweep doctor says how) and rerun"
    few = [
        f"{side.n} repeat{'s' if side.n != 1 else ''} on {name}"
        for name, side in (("A", a), ("B", b))
        if side.n < MIN_REPEATS
    ]
    if few:
        return "inconclusive", f"{' and '.join(few)} (need {MIN_REPEATS} a side): set run.repeats: 5"
    up, down = s.low > 1 + t, s.high < 1 - t
    if up or down:
        worse = down if metric.higher_is_better else up
        return ("slower" if worse else "faster"), f"interval beyond {'-' if down else '+'}{t * 100:.1f} %"
    if s.low >= 1 - t and s.high <= 1 + t:
        return "same", f"interval inside ±{t * 100:.1f} %"
    return "inconclusive", (
        f"interval [{_pct(s.low - 1)}, {_pct(s.high - 1)}] straddles ±{t * 100:.1f} %: more repeats "
        "(run.repeats: 10) or lock clocks"
    )


def default_threshold(groups: Sequence[Sequence[float]]) -> tuple[float, str]:
    """max(3 %, 2 x the pooled between-repeat log spread of every matched variant on both sides)."""
    pooled = pooled_log_spread([g for g in groups if len(g) >= 2])
    if pooled is None:
        return MIN_THRESHOLD, "3 % (no variant has 2 repeats to measure the spread)"
    t = max(MIN_THRESHOLD, SPREAD_FACTOR * pooled)
    return t, f"{t * 100:.1f} % = max(3 %, 2 x pooled between-repeat spread {pooled * 100:.2f} %)"


# ---------------------------------------------------------------- comparing


def compare_models(
    a: ResultModel,
    b: ResultModel,
    metrics: Sequence[str] = ("gpu_compute",),
    threshold: float | None = None,
    match: Sequence[str] | None = None,
    labels: tuple[str, str] | None = None,
) -> Comparison:
    """Compare run B with run A. Raises :class:`CompareError` for input that cannot be compared."""
    for name in metrics:
        if name not in METRICS:
            raise CompareError(f"unknown metric {name!r}: expected one of {', '.join(METRICS)}")
    label_a, label_b = labels or (a.result_set.label, b.result_set.label)
    for model, label in ((a, label_a), (b, label_b)):
        if not model.views:
            raise CompareError(f"{model.root}: no measured variant ({label}): nothing to compare")
    names = _match_names(a, b, match)
    models_a = {v.model for v in a.views}
    models_b = {v.model for v in b.views}
    # One model a side: its file name may differ between eras (model.onnx vs model-trained.onnx).
    use_model = not (len(models_a) == 1 and len(models_b) == 1)
    notes = []
    if not use_model and models_a != models_b:
        notes.append(
            f"models named differently ({', '.join(map(str, models_a))} vs "
            f"{', '.join(map(str, models_b))}): matched as one model, since each run has one"
        )
    ka, kb = _keyed(a, names, use_model), _keyed(b, names, use_model)
    common = [k for k in ka if k in kb]
    if not common:
        raise CompareError(
            f"{a.root} and {b.root}: no variant in common (matched on "
            f"{', '.join(names) or 'no axis'}); give --match AXIS,... to match on fewer axes"
        )
    for k in common:
        va, vb = ka[k].axes, kb[k].axes
        other = [n for n in ax.axis_order(set(va) | set(vb)) if n not in names and n != "model"]
        differ = [f"{n} {ax.show(va.get(n))} vs {ax.show(vb.get(n))}" for n in other
                  if va.get(n) != vb.get(n)]
        if differ:
            notes.append(f"{k}: matched although " + ", ".join(differ))
    changes: list[Change] = []
    missing_metric: list[str] = []
    thresholds: dict[str, float] = {}
    bases: dict[str, str] = {}
    for name in metrics:
        metric = METRICS[name]
        pairs = [(k, _side(ka[k], metric), _side(kb[k], metric)) for k in common]
        usable = [(k, sa, sb) for k, sa, sb in pairs if sa.n and sb.n]
        if not usable:
            raise CompareError(
                f"{a.root} vs {b.root}: no matched variant has a {metric.label} on both "
                f"sides; try --metric latency or --metric throughput"
            )
        missing_metric += [
            f"{k}: no {metric.label} on {'A' if not sa.n else 'B'}"
            for k, sa, sb in pairs
            if not (sa.n and sb.n)
        ]
        if threshold is None:
            t, basis = default_threshold([s.values for _, sa, sb in usable for s in (sa, sb)])
        else:
            t, basis = threshold, f"{threshold * 100:g} % (--threshold)"
        thresholds[name], bases[name] = t, basis
        for k, sa, sb in usable:
            ratio, low, high, conf, p, verdict, why, single = verdict_for(sa, sb, metric, t)
            changes.append(
                Change(k, dict(ka[k].axes), name, sa, sb, ratio, low, high, conf, p, verdict, why, t, single)
            )
    notes += missing_metric
    for model, side in ((a, "A"), (b, "B")):
        notes += [f"{side}: {vid} left out: {why}" for vid, why in model.excluded]
    return Comparison(
        label_a,
        label_b,
        compare_env(a.result_set, b.result_set),
        list(metrics),
        thresholds,
        bases,
        names,
        use_model,
        changes,
        [(ka[k].variant_id, k) for k in ka if k not in kb],
        [(kb[k].variant_id, k) for k in kb if k not in ka],
        notes,
    )


def compare_runs(
    runs: Sequence[ResultSet],
    metrics: Sequence[str] = ("gpu_compute",),
    threshold: float | None = None,
    match: Sequence[str] | None = None,
    labels: Sequence[str] | None = None,
) -> MultiComparison:
    """Every run against the first. Raises :class:`CompareError` for input that cannot be compared."""
    if len(runs) < 2:
        raise CompareError("compare needs at least two run folders")
    models = [build_model(rs) for rs in runs]
    names = list(labels) if labels else _distinct_labels(runs)
    pairs = [
        compare_models(models[0], m, metrics, threshold, match, (names[0], names[i]))
        for i, m in enumerate(models[1:], start=1)
    ]
    return MultiComparison(names, pairs, models)


def _distinct_labels(runs: Sequence[ResultSet]) -> list[str]:
    """GPU / TensorRT per run (what a hardware comparison is about), with the folder when they clash."""
    labels = []
    for rs in runs:
        trt = (rs.meta.trtexec_version if rs.meta else None) or next(
            (v.record.trt_version for v in rs.variants if v.record and v.record.trt_version), None
        )
        labels.append(" / ".join(p for p in (rs.label, f"TRT {trt}" if trt else None) if p))
    if len(set(labels)) < len(labels):
        labels = [f"{lab} ({rs.root.name})" for lab, rs in zip(labels, runs, strict=True)]
    return labels
